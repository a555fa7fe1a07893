//! Simulator throughput in a wasm engine without a browser: built as a
//! cdylib for wasm32-unknown-unknown, `run(scenario, seed)` simulates a
//! built-in scenario and returns the run's event count; `scripts/wasm_simbench.mjs` times it under node (V8, as Chromium).

#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn run(which: u32, seed: u64, digest: u32) -> u64 {
    let id = ["bookstore", "intermittent-p99", "slo-rollout"][which as usize % 3];
    let model = obslab::scenario::load_builtin(id).expect("a built-in scenario");
    let r = obslab::sim::run(&model, seed, None);
    if digest != 0 {
        let d = r.telemetry.digest();
        return u64::from_str_radix(&d[..16], 16).unwrap_or(0);
    }
    r.stats.events
}

#[cfg(not(target_arch = "wasm32"))]
#[allow(dead_code)]
fn main() {}
