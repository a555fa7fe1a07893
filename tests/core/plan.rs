//! The bookstore's instrumentation plan decides what is emitted, exactly.

use obslab::scenario::model::{MetricLabel, Model};
use obslab::sim::time::SimDuration;
use obslab::sim::Run;
use obslab::telemetry::log::Severity;

fn run_with(edit: impl FnOnce(&mut Model)) -> Run {
    let mut m = obslab::scenario::load_builtin("bookstore").unwrap();
    edit(&mut m);
    obslab::sim::run(&m, 5, Some(SimDuration::from_secs(600)))
}

fn server_series(r: &Run) -> usize {
    r.telemetry.series.by_name("http_server_request_duration_seconds_count").len()
}

#[test]
fn default_plan_has_bounded_red_metrics_traces_and_correlated_logs() {
    let r = run_with(|_| {});
    let n = server_series(&r);
    // method × route × status × instance: a few dozen, never thousands.
    assert!((10..=80).contains(&n), "{n} count series");
    assert!(r.telemetry.traces.traces().iter().any(|t| r.telemetry.traces.trace_spans(t).len() >= 3));
    assert!(r.telemetry.logs.records().iter().all(|l| l.trace_id.is_valid()));
}

#[test]
fn metrics_off_means_no_http_metrics() {
    let r = run_with(|m| m.instrumentation.metrics = false);
    assert_eq!(server_series(&r), 0);
    assert!(r.telemetry.series.by_name(obslab::telemetry::semconv::DB_CLIENT_DURATION).is_empty());
    // Infrastructure metrics come from the platform, not the app.
    assert!(!r.telemetry.series.by_name("container_cpu_usage_seconds_total").is_empty());
}

#[test]
fn unbounded_labels_explode_until_the_cardinality_limit() {
    let r = run_with(|m| m.instrumentation.metric_labels.push(MetricLabel::UserId));
    let n = server_series(&r);
    let over = r.telemetry.series.by_name("http_server_request_duration_seconds_count").iter().filter(|&&id| r.telemetry.series.get(id).labels.get("otel_metric_overflow") == Some("true")).count();
    assert!(n > 1000, "{n}");
    assert!(over >= 1, "no overflow series");
    let r = run_with(|m| {
        m.instrumentation.metric_labels.retain(|l| *l != MetricLabel::Route);
        m.instrumentation.metric_labels.push(MetricLabel::Path);
    });
    assert!(server_series(&r) > 500, "raw paths should multiply the routes");
}

#[test]
fn tracing_off_and_head_sampling() {
    let r = run_with(|m| m.instrumentation.tracing = false);
    assert_eq!(r.telemetry.traces.span_count(), 0);
    assert!(r.stats.in_flight < 20, "requests stuck without tracing: {:?}", r.stats);
    assert!(r.telemetry.logs.records().iter().all(|l| !l.trace_id.is_valid()));
    let all = run_with(|m| m.instrumentation.keep_ratio = 1.0);
    let tenth = run_with(|m| {
        m.instrumentation.keep_ratio = 1.0;
        m.instrumentation.sampling_ratio = 0.1;
    });
    let ratio = tenth.telemetry.traces.traces().len() as f64 / all.telemetry.traces.traces().len() as f64;
    assert!((0.07..0.13).contains(&ratio), "{ratio}");
}

#[test]
fn no_propagation_breaks_traces_into_single_spans() {
    let r = run_with(|m| {
        m.instrumentation.propagation = false;
        m.instrumentation.keep_ratio = 1.0;
    });
    let traces = r.telemetry.traces.traces();
    assert!(traces.len() > 1000);
    assert!(traces.iter().all(|t| t.len == 1), "every trace should be a lone span");
}

#[test]
fn log_plan_controls_level_and_ids() {
    let r = run_with(|m| m.instrumentation.log_trace_ids = false);
    assert!(!r.telemetry.logs.is_empty());
    assert!(r.telemetry.logs.records().iter().all(|l| !l.trace_id.is_valid()));
    let r = run_with(|m| m.instrumentation.log_level = Severity::Warn);
    assert!(r.telemetry.logs.records().iter().all(|l| l.severity >= Severity::Warn));
}
