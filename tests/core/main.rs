//! Scenario-level tests of the core: determinism, invariants of the
//! emitted telemetry, and that each fault shows in the signals its
//! SCENARIOS.md row names and not in the others.

mod dashboards;
mod determinism;
mod faults;
mod invariants;
mod matrix;
mod plan;
mod profiles;
mod scenario_files;
mod shapes;

use obslab::sim::time::SimDuration;
use obslab::sim::Run;

/// Runs a built-in scenario for `minutes` of simulated time.
pub fn run(id: &str, seed: u64, minutes: i64) -> Run {
    let model = obslab::scenario::load_builtin(id).unwrap_or_else(|e| panic!("{id}: {e}"));
    obslab::sim::run(&model, seed, Some(SimDuration::from_secs(minutes * 60)))
}
