//! Performance marks the end-to-end tests read (`obslab:interactive`,
//! `obslab:sim-start`, `obslab:sim-end`, `obslab:simulated`,
//! `obslab:ready`) and a monotonic clock for time-slicing. Both degrade to no-ops where `performance` is missing.

/// The app is mounted and answers input.
pub const INTERACTIVE: &str = "obslab:interactive";
/// A scenario's simulation starts its first slice.
pub const SIM_START: &str = "obslab:sim-start";
/// Its last slice is done (telemetry not yet finished and summarised).
pub const SIM_END: &str = "obslab:sim-end";
/// A scenario's simulation has finished and its chart data is computed.
pub const SIMULATED: &str = "obslab:simulated";
/// A scenario is simulated and its first chart drawn.
pub const READY: &str = "obslab:ready";

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// Milliseconds since the page's time origin.
pub fn now() -> f64 {
    performance().map(|p| p.now()).unwrap_or(0.0)
}
