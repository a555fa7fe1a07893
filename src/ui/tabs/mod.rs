//! The tools of a scenario page, one module per tab.

pub mod dashboards;
pub mod explore;
pub mod logs;
pub mod map;
pub mod profiles;
pub mod traces;
