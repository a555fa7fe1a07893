//! Components shared by pages.

pub mod canvas;
pub mod plot;
pub mod query_box;
pub mod query_error;
pub mod questions;
pub mod time_bar;
pub mod waterfall;
