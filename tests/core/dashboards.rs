//! The built-in RED and USE dashboards show data on a real run: every
//! panel's query matches what the simulator's instruments emit.

use obslab::charts::panel::{builtin_dashboards, evaluate, expand, step_for};
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
            let expr = promql::parse(&expand(&p.expr, step, 15_000)).unwrap_or_else(|e| panic!("{}: {}", p.title, e.message));
            let data = evaluate(&tel.series, p, &expr, range, step, &EvalOptions::default()).unwrap_or_else(|e| panic!("{}: {}", p.title, e.message));
            assert!(data.plot.has_data(), "panel “{}” ({}) shows no data", p.title, p.expr);
            assert!(data.plot.lines.iter().all(|l| !l.label.is_empty() && !l.label.contains("{{")), "{}: legends {:?}", p.title, data.plot.lines.iter().map(|l| &l.label).collect::<Vec<_>>());
            panels += 1;
        }
    }
    assert!(panels >= 12, "{panels} panels");
}

#[test]
fn scenario_dashboards_load_and_show_data() {
    let run = crate::run("slo-rollout", 1, 2 * 24 * 60);
    let tel = &run.telemetry;
    assert!(!run.model.dashboards.is_empty(), "slo-rollout defines its SLO dashboard");
    let range = (tel.start_unix_ms, tel.start_unix_ms + 2 * 86_400_000);
    let step = step_for(range, 500, 60_000);
    for d in &run.model.dashboards {
        for p in &d.panels {
            let expr = promql::parse(&expand(&p.expr, step, 60_000)).unwrap();
            let data = evaluate(&tel.series, p, &expr, range, step, &EvalOptions::default()).unwrap();
            assert!(data.plot.has_data(), "{}: {}", d.title, p.title);
        }
    }
}

#[test]
fn a_bad_panel_query_names_its_line_and_column() {
    let src = obslab::scenario::BUILTINS.iter().find(|b| b.id == "slo-rollout").unwrap().source;
    let bad = src.replacen("expr = 'sum(rate(", "expr = 'sum(rate((", 1);
    let e = obslab::scenario::load(&bad).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("dashboards[0].panels[0].expr") && text.contains("PromQL"), "{text}");
    let line = bad.lines().position(|l| l.contains("sum(rate((")).unwrap() + 1;
    assert_eq!(e.line, line, "{text}");
    let unit = src.replacen("unit = \"percentunit\"", "unit = \"furlongs\"", 1);
    let e = obslab::scenario::load(&unit).unwrap_err().to_string();
    assert!(e.contains("unknown unit") && e.contains("percentunit"), "{e}");
}

#[test]
fn builtin_panels_have_data_over_a_month_at_one_minute_scrapes() {
    // rate() over a fixed 1m window would be empty at 1m scrapes; the
    // $__rate_interval window grows with the step.
    let run = crate::run("slo-rollout", 1, 30 * 24 * 60);
    let tel = &run.telemetry;
    let range = (tel.start_unix_ms, tel.start_unix_ms + 30 * 86_400_000);
    let step = step_for(range, 500, 60_000);
    let red = &builtin_dashboards("frontend")[0];
    for p in red.panels.iter().take(4) {
        let expr = promql::parse(&expand(&p.expr, step, 60_000)).unwrap();
        let data = evaluate(&tel.series, p, &expr, range, step, &EvalOptions::default()).unwrap();
        assert!(data.plot.has_data(), "{}", p.title);
    }
}
