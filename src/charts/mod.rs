//! Charts: what a panel, a waterfall, a flame graph or the service map
//! computes from the stores ([`panel`], [`waterfall`], [`flame`],
//! [`service_map`], with [`decimate`], [`timefmt`], [`range_input`] and
//! [`units`]) and how a time series is drawn ([`timeseries`] in a
//! [`style`]), generic over plotters' `DrawingBackend`, so the browser
//! draws on a canvas and tests draw on a recorder. Nothing here knows about
//! the browser.

pub mod decimate;
pub mod flame;
pub mod panel;
pub mod range_input;
pub mod service_map;
pub mod style;
pub mod timefmt;
pub mod timeseries;
pub mod units;
pub mod waterfall;
#[cfg(test)]
pub(crate) mod testing;

pub use style::{ChartStyle, Palette};
pub use timeseries::{draw_plot, Frame, Line, Marker, Plot};
pub use units::Unit;
