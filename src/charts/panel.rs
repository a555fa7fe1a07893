//! Dashboard panels: a PromQL query with a unit, a legend template and
//! thresholds, evaluated over a time range into a [`Plot`]. Also the RED
//! and USE dashboards every request-mode scenario gets, written against
//! the metric names the simulator's instruments emit (OpenTelemetry
//! semantic conventions as Prometheus exports them).

use super::timeseries::{Line, Plot};
use super::units::Unit;
use crate::query::diag::QueryError;
use crate::query::promql::{self, EvalOptions, Expr, Value};
use crate::store::SeriesStore;
use crate::query::promql::exemplars::query_exemplars;
use crate::telemetry::ids::TraceId;
use crate::telemetry::metric::Labels;
use super::timeseries::Marker;

/// One panel as a scenario (or the built-in dashboards) defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelSpec {
    pub title: String,
    /// PromQL, evaluated as a range query.
    pub expr: String,
    pub unit: Unit,
    /// `{{service}} {{http_route}}`: label values spliced in; absent: the
    /// series' labels.
    pub legend: Option<String>,
    pub thresholds: Vec<f64>,
    /// One sentence under the title: what to look for.
    pub description: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    pub id: String,
    pub title: String,
    pub panels: Vec<PanelSpec>,
}

/// A panel's evaluated data.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelData {
    pub plot: Plot,
    pub step_ms: i64,
    /// Samples the query touched.
    pub samples: u64,
    /// Warnings from the engine, as sentences.
    pub warnings: Vec<String>,
    /// The trace of each of `plot.markers` (exemplars, on latency panels).
    pub exemplar_traces: Vec<TraceId>,
}

/// Exemplars drawn per panel at most (spread evenly over the range).
pub const MAX_EXEMPLARS: usize = 200;

/// A range query's step for `range`: about `points` points, never finer
/// than `min_step_ms` (the scrape interval), rounded to a whole second.
pub fn step_for((from, to): (i64, i64), points: i64, min_step_ms: i64) -> i64 {
    let raw = (to - from).max(1) / points.max(1);
    let step = raw.max(min_step_ms).max(1000);
    (step + 999) / 1000 * 1000
}

/// Grafana's interval variables in a panel query: `$__interval` is the
/// step, `$__rate_interval` the step but at least four scrapes, so a
/// `rate()` window always holds enough samples at any zoom.
pub fn expand(expr: &str, step_ms: i64, scrape_ms: i64) -> String {
    let rate = step_ms.max(4 * scrape_ms);
    expr.replace("$__rate_interval", &prom_duration(rate)).replace("$__interval", &prom_duration(step_ms))
}

/// Milliseconds as a PromQL duration: `90s`, `5m`, `1500ms`.
pub fn prom_duration(ms: i64) -> String {
    if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Fills a legend template: `{{name}}` becomes the label's value (empty
/// when the series lacks it); without a template, Prometheus's own
/// rendering of the labels.
pub fn legend(template: Option<&str>, labels: &Labels) -> String {
    let Some(t) = template else {
        let s = labels.to_string();
        return if s.is_empty() || s == "{}" { "value".to_string() } else { s };
    };
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                out.push_str(labels.get(after[..close].trim()).unwrap_or(""));
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Evaluates a parsed panel query over `range` at `step_ms`.
pub fn evaluate(store: &SeriesStore, spec: &PanelSpec, expr: &Expr, range: (i64, i64), step_ms: i64, opts: &EvalOptions) -> Result<PanelData, QueryError> {
    let start = range.0.div_euclid(step_ms) * step_ms + step_ms;
    let end = range.1.max(start);
    let r = promql::range_query_with(store, expr, start, end, step_ms, opts)?;
    let Value::Matrix(m) = r.value else {
        return Err(QueryError::eval("a panel query must return a range of values"));
    };
    let lines = m
        .iter()
        .map(|s| Line::from_points(legend(spec.legend.as_deref(), &s.labels), &s.points, step_ms))
        .collect();
    // Exemplars carry an observed duration, so they sit on latency panels.
    let hits = if spec.unit == Unit::Seconds { query_exemplars(store, expr, range.0, range.1, MAX_EXEMPLARS) } else { vec![] };
    let markers = hits.iter().map(|h| Marker { t: h.exemplar.timestamp_ms, v: h.exemplar.value, line: None }).collect();
    Ok(PanelData {
        plot: Plot { lines, unit: spec.unit, range, thresholds: spec.thresholds.clone(), markers },
        step_ms,
        samples: r.samples,
        warnings: r.annotations.iter().map(|a| a.message.clone()).collect(),
        exemplar_traces: hits.iter().map(|h| h.exemplar.trace_id).collect(),
    })
}

fn panel(title: &str, expr: &str, unit: Unit, legend: &str, description: &str) -> PanelSpec {
    PanelSpec {
        title: title.into(),
        expr: expr.into(),
        unit,
        legend: Some(legend.into()).filter(|l: &String| !l.is_empty()),
        thresholds: vec![],
        description: description.into(),
    }
}

/// The RED dashboard (rate, errors, duration per service) and the USE
/// dashboard (utilisation, saturation, errors of nodes, pods and pools).
pub fn builtin_dashboards(entry_service: &str) -> Vec<Dashboard> {
    let e = entry_service;
    let red = Dashboard {
        id: "red".into(),
        title: "Services (RED)".into(),
        panels: vec![
            panel(
                "Request rate",
                "sum by (service) (rate(http_server_request_duration_seconds_count[$__rate_interval]))",
                Unit::RequestsPerSecond,
                "{{service}}",
                "Requests each service handled per second.",
            ),
            panel(
                "Error ratio (5xx)",
                // `or ... * 0` keeps services without errors on the panel at 0%.
                "(sum by (service) (rate(http_server_request_duration_seconds_count{http_response_status_code=~\"5..\"}[$__rate_interval])) or sum by (service) (rate(http_server_request_duration_seconds_count[$__rate_interval])) * 0) / sum by (service) (rate(http_server_request_duration_seconds_count[$__rate_interval]))",
                Unit::PercentUnit,
                "{{service}}",
                "Share of requests answered with a server error.",
            ),
            panel(
                "P99 latency",
                "histogram_quantile(0.99, sum by (service, le) (rate(http_server_request_duration_seconds_bucket[$__rate_interval])))",
                Unit::Seconds,
                "{{service}}",
                "The slowest 1% of requests take at least this long.",
            ),
            panel(
                "P50 latency",
                "histogram_quantile(0.5, sum by (service, le) (rate(http_server_request_duration_seconds_bucket[$__rate_interval])))",
                Unit::Seconds,
                "{{service}}",
                "The median request.",
            ),
            panel(
                &format!("{e}: P99 by route"),
                &format!("histogram_quantile(0.99, sum by (http_route, le) (rate(http_server_request_duration_seconds_bucket{{service=\"{e}\"}}[$__rate_interval])))"),
                Unit::Seconds,
                "{{http_route}}",
                "Which pages are slow.",
            ),
            panel(
                &format!("{e}: requests by status"),
                &format!("sum by (http_response_status_code) (rate(http_server_request_duration_seconds_count{{service=\"{e}\"}}[$__rate_interval]))"),
                Unit::RequestsPerSecond,
                "{{http_response_status_code}}",
                "4xx are the clients' doing; 5xx are ours.",
            ),
            panel(
                "Outgoing call P99",
                "histogram_quantile(0.99, sum by (service, server_address, le) (rate(http_client_request_duration_seconds_bucket[$__rate_interval])))",
                Unit::Seconds,
                "{{service}} → {{server_address}}",
                "How long each service waits for the services it calls.",
            ),
            panel(
                "Database query P99",
                "histogram_quantile(0.99, sum by (service, server_address, le) (rate(db_client_operation_duration_seconds_bucket[$__rate_interval])))",
                Unit::Seconds,
                "{{service}} → {{server_address}}",
                "Time spent in the database, as the client sees it.",
            ),
        ],
    };
    let use_ = Dashboard {
        id: "use".into(),
        title: "Resources (USE)".into(),
        panels: vec![
            panel(
                "Node CPU busy",
                "1 - avg by (node) (rate(node_cpu_seconds_total{mode=\"idle\"}[$__rate_interval]))",
                Unit::PercentUnit,
                "{{node}}",
                "Utilisation of each node's cores.",
            ),
            panel("Pod CPU", "sum by (pod) (rate(container_cpu_usage_seconds_total[$__rate_interval]))", Unit::Cores, "{{pod}}", "CPU each pod uses."),
            panel(
                "CPU throttling",
                "sum by (pod) (rate(container_cpu_cfs_throttled_seconds_total[$__rate_interval]))",
                Unit::Seconds,
                "{{pod}}",
                "Seconds per second a pod was held back by its CPU limit.",
            ),
            panel(
                "Worker pool in use",
                "sum by (service) (executor_active_threads) / sum by (service) (executor_pool_max_threads)",
                Unit::PercentUnit,
                "{{service}}",
                "A pool at 100% makes new requests queue.",
            ),
            panel("Queued requests", "sum by (service) (executor_queued_tasks)", Unit::Short, "{{service}}", "Requests waiting for a worker."),
            panel(
                "Connection pools in use",
                "sum by (service, pool_name) (db_client_connection_count{state=\"used\"}) / sum by (service, pool_name) (db_client_connection_max)",
                Unit::PercentUnit,
                "{{service}} → {{pool_name}}",
                "A full pool makes queries wait for a connection.",
            ),
            panel(
                "Waiting for a connection",
                "sum by (service, pool_name) (db_client_connection_pending_requests)",
                Unit::Short,
                "{{service}} → {{pool_name}}",
                "Requests waiting for a free connection.",
            ),
            panel(
                "GC time",
                "sum by (pod) (rate(jvm_gc_duration_seconds_sum[$__rate_interval]))",
                Unit::Seconds,
                "{{pod}}",
                "Seconds per second spent in garbage collection pauses.",
            ),
            panel("Memory", "sum by (pod) (container_memory_working_set_bytes)", Unit::Bytes, "{{pod}}", "Working set of each pod."),
            panel(
                "TCP retransmits",
                "sum by (node) (rate(node_netstat_Tcp_RetransSegs_total[$__rate_interval]))",
                Unit::OpsPerSecond,
                "{{node}}",
                "Packets sent again after a loss.",
            ),
        ],
    };
    vec![red, use_]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legends_fill_templates() {
        let l = Labels::from_pairs([("service", "cart"), ("http_route", "/cart")]);
        assert_eq!(legend(Some("{{service}} {{ http_route }}"), &l), "cart /cart");
        assert_eq!(legend(Some("{{missing}}!"), &l), "!");
        assert_eq!(legend(Some("open {{service"), &l), "open {{service");
        assert_eq!(legend(None, &l), "{http_route=\"/cart\", service=\"cart\"}");
        assert_eq!(legend(None, &Labels::default()), "value");
    }

    #[test]
    fn steps_are_whole_seconds_and_no_finer_than_scrapes() {
        assert_eq!(step_for((0, 3_600_000), 500, 15_000), 15_000);
        assert_eq!(step_for((0, 30 * 86_400_000), 500, 60_000), 5_184_000);
        assert_eq!(step_for((0, 1000), 500, 0), 1000);
    }

    #[test]
    fn interval_variables_expand_like_grafanas() {
        assert_eq!(expand("rate(x[$__rate_interval])", 15_000, 15_000), "rate(x[1m])");
        assert_eq!(expand("rate(x[$__rate_interval])", 5_184_000, 60_000), "rate(x[5184s])");
        assert_eq!(expand("x[$__interval]", 90_000, 15_000), "x[90s]");
        assert_eq!(prom_duration(3_600_000), "1h");
        assert_eq!(prom_duration(1500), "1500ms");
    }

    #[test]
    fn every_builtin_panel_parses() {
        for d in builtin_dashboards("frontend") {
            for p in &d.panels {
                promql::parse(&expand(&p.expr, 15_000, 15_000)).unwrap_or_else(|e| panic!("{}: {}", p.title, e.message));
            }
        }
    }
}
