//! Components shared by pages.

pub mod red_chart;
