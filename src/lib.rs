//! obslab: an observability training lab. The core (`sim`, `telemetry`,
//! `store`, `scenario`) is plain Rust with no browser dependency; `ui` is the
//! Leptos app on wasm32 and `cli` the native command line.

pub mod charts;
pub mod float;
pub mod grading;
pub mod json;
pub mod query;
pub mod scenario;
pub mod sim;
pub mod sort;
pub mod store;
pub mod telemetry;

#[cfg(target_arch = "wasm32")]
pub mod ui;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
