//! Charts: what a dashboard panel computes from the stores and how it is
//! drawn. The computations ([`red`], [`decimate`], [`timefmt`]) are plain
//! functions over the series store; the drawing ([`red_chart`]) is generic
//! over plotters' `DrawingBackend`, so the browser draws on a canvas and
//! tests draw on a recorder. Nothing here knows about the browser.

pub mod decimate;
pub mod flame;
pub mod red;
pub mod panel;
pub mod red_chart;
pub mod service_map;
pub mod timefmt;
pub mod timeseries;
pub mod units;
pub mod waterfall;
#[cfg(test)]
pub(crate) mod testing;

pub use red::{histogram_quantile, red, Red};
pub use red_chart::{draw_red, ChartStyle, Palette};
pub use timeseries::{draw_plot, Frame, Line, Marker, Plot};
pub use units::Unit;
