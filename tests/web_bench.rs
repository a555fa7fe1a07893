//! The log-search budget measured in the browser (QUALITY.md: a substring
//! filter over 1 M lines in ≤ 100 ms in wasm): the same million lines as
//! the native bench in `tests/logql.rs` (a real 10-minute run of
//! intermittent-p99 repeated with shifted times), each needle's count
//! query timed with `performance.now()`, median of 5 runs printed to the
//! console. Only correctness is asserted (every count equals rendering
//! every line and `str::contains`), never timing. Not part of `make test`:
//!
//! `make bench-wasm`
#![cfg(target_arch = "wasm32")]

use obslab::query::logql::{self, bench, Options, Value};
use obslab::sim::{self, time::SimDuration};
use obslab::telemetry::log::LogFormat;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window().expect("a window").performance().expect("performance").now()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[wasm_bindgen_test]
fn substring_filter_over_a_million_lines() {
    let model = obslab::scenario::load_builtin("intermittent-p99").expect("a built-in scenario");
    let run = sim::run(&model, 7, Some(SimDuration::from_secs(600))).telemetry;
    let big = bench::repeat_logs(&run, 1_000_000);
    drop(run);
    assert_eq!(big.logs.len(), 1_000_000);
    let needles = bench::bench_needles(&big);
    let (_, e) = bench::full_range_ms(&big);
    let opts = Options::default();
    let mut got = Vec::new();
    for (label, needle) in &needles {
        let expr = logql::parse(&bench::count_query(&big, needle)).expect("the bench query parses");
        let mut samples = Vec::new();
        let mut count = 0.0f64;
        for _ in 0..5 {
            let t = now_ms();
            let r = logql::query_range_with(&big, &expr, e, e, 60_000, 100, &opts).expect("the bench query runs");
            samples.push(now_ms() - t);
            let Value::Matrix(m) = &r.value else { panic!("a count query returns a matrix") };
            count = m.iter().flat_map(|s| s.points.iter().map(|p| p.1)).sum();
        }
        let count = count as usize;
        console_log!("wasm substring 1M {:>7.1} ms  {label:<18} {needle:?}  (matched {count})", median(samples));
        got.push(count);
    }
    // Checked after timing: rendering a million lines first leaves the
    // heap in a state that slows the scans after it.
    let texts: Vec<&str> = needles.iter().map(|(_, n)| n.as_str()).collect();
    let t = now_ms();
    let want = bench::naive_counts(&big, &texts, LogFormat::Json);
    console_log!("naive render + contains, all needles in one pass: {:.0} ms", now_ms() - t);
    assert_eq!(got, want, "the filter's counts differ from rendering every line");
}

/// QUALITY.md: a 12-panel, one-hour dashboard evaluates in ≤ 100 ms in
/// wasm. The panels are the built-in RED dashboard (8) and the first four
/// of USE, over the whole hour of intermittent-p99, at the step the page
/// uses (500 points): median of 5 evaluations of all 12.
#[wasm_bindgen_test]
fn a_twelve_panel_one_hour_dashboard() {
    use obslab::charts::panel::{builtin_dashboards, evaluate, expand, step_for};
    use obslab::query::promql::{self, EvalOptions};
    let model = obslab::scenario::load_builtin("intermittent-p99").expect("a built-in scenario");
    let run = sim::run(&model, 7, None);
    let tel = &run.telemetry;
    let entry = &model.services[model.entry_service].name;
    let dashboards = builtin_dashboards(entry);
    let panels: Vec<_> = dashboards[0].panels.iter().chain(dashboards[1].panels.iter().take(4)).collect();
    assert_eq!(panels.len(), 12);
    let range = (tel.start_unix_ms, tel.start_unix_ms + 3_600_000);
    let scrape = model.scrape_interval.micros() / 1000;
    let step = step_for(range, 500, scrape);
    let mut samples = Vec::new();
    let mut touched = 0;
    for _ in 0..5 {
        let t = now_ms();
        touched = 0;
        for p in &panels {
            let expr = promql::parse(&expand(&p.expr, step, scrape)).expect("a built-in panel parses");
            let d = evaluate(&tel.series, p, &expr, range, step, &EvalOptions::default()).expect("a built-in panel evaluates");
            assert!(d.plot.has_data(), "{} has data", p.title);
            touched += d.samples;
        }
        samples.push(now_ms() - t);
    }
    console_log!("wasm dashboard: 12 panels over 1 h in {:.1} ms (median of 5; {touched} samples touched)", median(samples));
}
