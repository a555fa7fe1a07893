//! One component per page: the catalogue and a scenario run.

pub mod home;
pub mod scenario;
