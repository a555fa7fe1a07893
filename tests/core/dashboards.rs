//! The built-in RED and USE dashboards show data on a real run: every
//! panel's query matches what the simulator's instruments emit.

use obslab::charts::panel::{builtin_dashboards, evaluate, step_for};
use obslab::query::promql::{self, EvalOptions};

#[test]
fn every_builtin_panel_has_data_on_a_real_run() {
    let run = crate::run("intermittent-p99", 3, 10);
    let tel = &run.telemetry;
    let entry = &run.model.services[run.model.entry_service].name;
    let range = (tel.start_unix_ms, tel.start_unix_ms + 10 * 60_000);
    let step = step_for(range, 500, 15_000);
    let mut panels = 0;
    for d in builtin_dashboards(entry) {
        for p in &d.panels {
            let expr = promql::parse(&p.expr).unwrap_or_else(|e| panic!("{}: {}", p.title, e.message));
            let data = evaluate(&tel.series, p, &expr, range, step, &EvalOptions::default()).unwrap_or_else(|e| panic!("{}: {}", p.title, e.message));
            assert!(data.plot.has_data(), "panel “{}” ({}) shows no data", p.title, p.expr);
            assert!(data.plot.lines.iter().all(|l| !l.label.is_empty() && !l.label.contains("{{")), "{}: legends {:?}", p.title, data.plot.lines.iter().map(|l| &l.label).collect::<Vec<_>>());
            panels += 1;
        }
    }
    assert!(panels >= 12, "{panels} panels");
}
