//! Instrumentation plans as answers (`kind = "plan"`): the learner writes an
//! `[instrumentation]` table (with or without its header line), it is read
//! by the scenario format's own TOML reader, decoder and resolver (so a
//! field the scenario file would reject is rejected here, with the line,
//! column and field), and graded against six named rules, each worth a
//! share of the points:
//!
//! | check | weight | passes when |
//! |---|---|---|
//! | `red` | 0.30 | metrics on and the duration histogram has `route` and `status` (and `method` where two endpoints share a route): rate, errors and duration for every route of the scenario |
//! | `template` | 0.15 | `route` (the template, `/books/{id}`) and no raw `path` |
//! | `bounded` | 0.15 | no unbounded label: `user_id`, `product_id` (`book_id`), `path` |
//! | `tracing` | 0.15 | tracing on, context propagation on, a head sampling ratio above 0 |
//! | `logs` | 0.10 | structured (`json`) logs with trace and span ids (`log_trace_ids`), and traces to point at |
//! | `budget` | 0.15 | the [`estimate`]d series of the request metrics are within the question's `series_budget` |
//!
//! The checks that judge metric labels fail while metrics are off (there is
//! nothing to judge), and a check fails when a field it judges is left out
//! of the answer: a plan says what it does rather than leaning on the
//! format's defaults.
//!
//! The series estimate ([`estimate`]) is the worst case a label budget is
//! planned for: for the request-duration histogram, the product of each
//! chosen label's number of values × the replicas × (bucket bounds + 1 for
//! `+Inf` + 2 for `_sum` and `_count`), plus one in-flight gauge series per
//! replica. The number of values of `method`, `route` and `status` comes
//! from the run's own data (distinct values in the metrics store, else in
//! the kept server spans, else what the scenario's endpoints can answer);
//! ids come from the scenario's traffic model (`traffic.users`,
//! `traffic.products`; a raw path has one value per route without an id
//! plus `traffic.products` per route with one). The monthly storage is the
//! series × samples in 30 days at the scrape interval × 1.3 bytes per
//! sample, the size Prometheus's TSDB typically compresses a sample to
//! (Gorilla-style delta-of-delta timestamps and XOR'd values); index,
//! WAL and replication are not counted.
//!
//! To cross-check the estimate the grader re-runs the first
//! [`RERUN_MINUTES`] minutes of the scenario with the learner's plan (same
//! seed) and reports the series the store really holds, and when the SDK's
//! cardinality limit folded label sets into `otel_metric_overflow`.

use super::question::Question;
use super::quantity::{format_quantity, Dimension};
use super::{AnswerError, Grade};
use crate::query::promql;
use crate::scenario::decode::{Decode, Fields};
use crate::scenario::format::InstrumentationSpec;
use crate::scenario::model::{resolve_instrumentation, Instrumentation, MetricLabel, Model};
use crate::scenario::toml::{self, Spanned, Value};
use crate::scenario::{line_col, ScenarioError};
use crate::sim::time::SimDuration;
use crate::sim::Run;
use crate::telemetry::log::LogFormat;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::{AttrValue, SpanKind};
use std::collections::BTreeSet;

/// Bytes a sample takes once compressed: Prometheus's TSDB typically stores
/// a sample in 1 to 2 bytes; 1.3 is the figure its documentation and
/// operators quote for capacity planning.
pub const BYTES_PER_SAMPLE: f64 = 1.3;
/// The month the storage cost is for.
pub const DAYS_PER_MONTH: u32 = 30;
/// How much of the scenario the cross-check re-runs with the learner's plan.
pub const RERUN_MINUTES: i64 = 3;
/// The re-run keeps the SDK's default cardinality limit even when a plan
/// raises it, so that an exploding plan costs a fraction of a second.
pub const RERUN_MAX_LIMIT: u32 = 2000;

/// The plan fields that the checks judge; each must be written.
const JUDGED: &[&str] = &["metrics", "metric_labels", "tracing", "propagation", "log_format", "log_trace_ids"];

/// A learner's plan: the resolved instrumentation and the fields the
/// answer wrote (the others took the format's defaults).
#[derive(Clone, Debug)]
pub struct Plan {
    pub instrumentation: Instrumentation,
    pub written: Vec<String>,
}

impl Plan {
    fn wrote(&self, field: &str) -> bool {
        self.written.iter().any(|w| w == field)
    }
}

/// An error in the answer text, with the line, column and field path as a
/// scenario file's error would say them.
fn plan_error(text: &str, span: std::ops::Range<usize>, path: String, message: String) -> AnswerError {
    let (start, end) = (span.start.min(text.len()), span.end.min(text.len()));
    // `0..0`: nothing to point at (a default), so the whole answer.
    let (span, (line, column)) = if start == 0 && end == 0 { (0..text.len(), (0, 0)) } else { (start..end.max(start), line_col(text, start)) };
    AnswerError::new(span, ScenarioError { path, line, column, message }.to_string())
}

/// The span of the character at byte `at` (the reader's error positions).
fn char_span(text: &str, at: usize) -> std::ops::Range<usize> {
    let at = at.min(text.len());
    let len = text[at..].chars().next().map_or(0, char::len_utf8);
    at..at + len
}

/// Reads a plan from answer text: an `[instrumentation]` table, or its
/// fields without the header. Unknown fields and values the scenario format
/// rejects are errors pointing into `text`.
pub fn parse_plan(text: &str) -> Result<Plan, AnswerError> {
    let root = toml::parse(text).map_err(|e| {
        let span = char_span(text, e.at);
        let (line, column) = line_col(text, span.start);
        AnswerError::new(span, ScenarioError { path: String::new(), line, column, message: e.to_string() }.to_string())
    })?;
    let decode_err = |e: crate::scenario::decode::DecodeError| plan_error(text, e.span, e.path, e.kind.to_string());
    let whole;
    let table = if root.get("instrumentation").is_some() {
        // The header form: nothing may sit beside the table.
        Fields::of_table(&root, 0..text.len(), "", &["instrumentation"]).map_err(decode_err)?;
        root.get("instrumentation").expect("checked above")
    } else {
        whole = Spanned::new(0..text.len(), Value::Table(root.clone()));
        &whole
    };
    let written: Vec<String> = match table.get_ref() {
        Value::Table(t) => t.iter().map(|(k, _)| k.to_string()).collect(),
        _ => Vec::new(),
    };
    let spec = InstrumentationSpec::decode(table, "instrumentation").map_err(decode_err)?;
    if written.is_empty() {
        return Err(AnswerError::new(
            0..text.len(),
            format!("write your plan as an [instrumentation] table, e.g. metrics = true, metric_labels = [\"route\", ...], tracing = ..., propagation = ..., log_format = ..., log_trace_ids = ... (the rules judge {})", JUDGED.join(", ")),
        ));
    }
    let instrumentation = resolve_instrumentation(&spec, "instrumentation").map_err(|e| plan_error(text, e.span, e.path, e.message))?;
    Ok(Plan { instrumentation, written })
}

/// The plan as the TOML an answer (or a scenario file) would hold.
pub fn render(plan: &Instrumentation) -> String {
    let list = |v: Vec<String>| format!("[{}]", v.join(", "));
    let labels = list(plan.metric_labels.iter().map(|l| format!("{:?}", l.as_str())).collect());
    let buckets = list(plan.buckets.iter().map(|b| format!("{b:?}")).collect());
    let format = match plan.log_format {
        LogFormat::Json => "json",
        LogFormat::Plain => "plain",
    };
    format!(
        "[instrumentation]\nmetrics = {}\nmetric_labels = {labels}\nbuckets = {buckets}\ninflight_gauge = {}\ncardinality_limit = {}\ntracing = {}\npropagation = {}\nsampling_ratio = {:?}\nkeep_slower_than = \"{}\"\nkeep_ratio = {:?}\nlog_format = \"{format}\"\nlog_level = \"{}\"\nlog_trace_ids = {}\nprofiling = {}\n",
        plan.metrics,
        plan.inflight_gauge,
        plan.cardinality_limit,
        plan.tracing,
        plan.propagation,
        plan.sampling_ratio,
        plan.keep_slower_than,
        plan.keep_ratio,
        plan.log_level.level(),
        plan.log_trace_ids,
        plan.profiling,
    )
}

/// A plan with every rule satisfied, built on `base` (the scenario's own):
/// metrics on with `method`, `route` and `status`, tracing with propagation,
/// structured logs with trace ids.
pub fn good_plan(base: &Instrumentation) -> Instrumentation {
    let mut p = base.clone();
    p.metrics = true;
    p.metric_labels = vec![MetricLabel::Method, MetricLabel::Route, MetricLabel::Status];
    p.tracing = true;
    p.propagation = true;
    if p.sampling_ratio <= 0.0 {
        p.sampling_ratio = 1.0;
    }
    p.log_format = LogFormat::Json;
    p.log_trace_ids = true;
    p
}

/// Where a label's number of values came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValuesFrom {
    /// Distinct values in the run's metrics store (a PromQL count).
    Metrics,
    /// Distinct values on the run's kept server spans.
    Spans,
    /// The scenario: its endpoints, or its traffic model for ids.
    Scenario,
}

impl ValuesFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            ValuesFrom::Metrics => "the run's metrics",
            ValuesFrom::Spans => "the run's traces",
            ValuesFrom::Scenario => "the scenario",
        }
    }
}

/// One label of the plan and how many values it can take.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelValues {
    pub label: MetricLabel,
    pub values: u64,
    pub from: ValuesFrom,
    /// How the number was found, for the learner (`traffic.users`, a query).
    pub how: String,
}

/// What a plan costs in series and storage (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEstimate {
    /// Series of the request metrics the plan controls.
    pub series: u64,
    pub per_label: Vec<LabelValues>,
    /// Replicas of all services: one scrape target each.
    pub instances: u64,
    /// Series per label set of the histogram: bounds + `+Inf` + `_sum` + `_count`.
    pub series_per_label_set: u64,
    /// One in-flight gauge series per instance, if the plan has the gauge.
    pub gauge_series: u64,
    pub bytes_per_month: f64,
    /// Scrapes of one series in a month.
    pub samples_per_month: f64,
    /// Label sets the plan asks for per metric (all instances), against
    /// the SDK's `cardinality_limit`.
    pub label_sets: u64,
    pub cardinality_limit: u32,
    pub metrics: bool,
}

impl PlanEstimate {
    /// The arithmetic, e.g. `2 methods × 5 routes × 4 statuses × 2 replicas
    /// × 17 series (14 buckets, +Inf, _sum, _count) + 2 in-flight gauges
    /// = 1,362`.
    pub fn formula(&self) -> String {
        if !self.metrics {
            return "metrics are off: 0 series".into();
        }
        let mut parts: Vec<String> = self.per_label.iter().map(|l| format!("{} {}", count(l.values), noun(l.label, l.values))).collect();
        parts.push(format!("{} replica{}", self.instances, if self.instances == 1 { "" } else { "s" }));
        parts.push(format!("{} series ({} buckets, +Inf, _sum, _count)", self.series_per_label_set, self.series_per_label_set.saturating_sub(3)));
        let mut f = parts.join(" × ");
        if self.gauge_series > 0 {
            f.push_str(&format!(" + {} in-flight gauge{}", self.gauge_series, if self.gauge_series == 1 { "" } else { "s" }));
        }
        format!("{f} = {}", count(self.series))
    }
    /// The monthly storage in words: `≈ 291.8 MiB a month (172,800
    /// samples per series at 1.3 bytes each)`.
    pub fn storage(&self) -> String {
        format!("≈ {} a month ({} samples per series at {} bytes each)", format_quantity(self.bytes_per_month, Dimension::Bytes), count(self.samples_per_month as u64), BYTES_PER_SAMPLE)
    }
}

fn count(n: u64) -> String {
    format_quantity(n as f64, Dimension::Count)
}

fn noun(l: MetricLabel, n: u64) -> &'static str {
    let one = n == 1;
    match l {
        MetricLabel::Method => if one { "method" } else { "methods" },
        MetricLabel::Route => if one { "route" } else { "routes" },
        MetricLabel::Path => if one { "path" } else { "paths" },
        MetricLabel::Status => if one { "status" } else { "statuses" },
        MetricLabel::UserId => if one { "user" } else { "users" },
        MetricLabel::ProductId => if one { "book" } else { "books" },
    }
}

/// Endpoints of the scenario as the learner sees them (`GET /books`, or
/// `service GET /books` when there are several services).
fn endpoints(m: &Model) -> Vec<(String, String, String)> {
    let many = m.services.len() > 1;
    m.services
        .iter()
        .flat_map(|s| s.endpoints.iter().map(move |e| (if many { format!("{} {}", s.name, e.name) } else { e.name.clone() }, e.method.clone(), e.route.clone())))
        .collect()
}

/// Distinct values of a metric label in the run's store, by PromQL.
fn values_in_metrics(l: MetricLabel, run: &Run) -> Option<(u64, String)> {
    let n = l.label_name();
    let q = format!("count(count by ({n}) ({}_count{{{n}!=\"\"}}))", sc::HTTP_SERVER_DURATION);
    let end = run.telemetry.start_unix_ms + run.model.duration.micros() / 1000;
    match promql::instant_query(&run.telemetry.series, &q, end) {
        Ok(promql::Value::Vector(v)) => v.first().filter(|s| s.f.is_finite() && s.f >= 1.0).map(|s| (s.f as u64, q)),
        _ => None,
    }
}

/// Distinct values on the run's kept server spans.
fn values_in_spans(l: MetricLabel, run: &Run) -> Option<(u64, String)> {
    let store = &run.telemetry.traces;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let key = match l {
        MetricLabel::Method => sc::HTTP_REQUEST_METHOD,
        MetricLabel::Route => sc::HTTP_ROUTE,
        MetricLabel::Status => sc::HTTP_RESPONSE_STATUS_CODE,
        _ => return None,
    };
    for s in store.spans() {
        let op = store.operation(s.op);
        if op.kind != SpanKind::Server {
            continue;
        }
        if l == MetricLabel::Status {
            if s.http_status != 0 {
                seen.insert(s.http_status.to_string());
            }
        } else if let Some((_, v)) = op.attributes.iter().find(|(k, _)| *k == key) {
            seen.insert(match v {
                AttrValue::Str(s) => s.to_string(),
                other => other.to_string(),
            });
        }
    }
    (!seen.is_empty()).then(|| (seen.len() as u64, format!("distinct {key} on server spans")))
}

/// What the scenario's endpoints and traffic model allow.
fn values_in_scenario(l: MetricLabel, m: &Model) -> (u64, String) {
    let eps: Vec<&crate::scenario::model::Endpoint> = m.services.iter().flat_map(|s| &s.endpoints).collect();
    let distinct = |f: &dyn Fn(&crate::scenario::model::Endpoint) -> String| crate::sort::sorted_unique(eps.iter().map(|e| f(e))).len() as u64;
    let products = m.traffic.products as u64;
    match l {
        MetricLabel::Method => (distinct(&|e| e.method.clone()), "the methods of the scenario's endpoints".into()),
        MetricLabel::Route => (distinct(&|e| e.route.clone()), "the routes of the scenario's endpoints".into()),
        MetricLabel::Status => {
            // 200, the client errors the endpoints answer, and the 5xx a
            // failing or timing-out dependency turns into (500, 502, 504).
            let mut n = 1 + 3;
            n += eps.iter().any(|e| e.not_found_ratio > 0.0) as u64;
            n += eps.iter().any(|e| e.bad_request_ratio > 0.0) as u64;
            (n, "the statuses the scenario's endpoints can answer".into())
        }
        MetricLabel::UserId => (m.traffic.users as u64, format!("traffic.users = {}", m.traffic.users)),
        MetricLabel::ProductId => (products, format!("traffic.products = {products}")),
        MetricLabel::Path => {
            let routes = crate::sort::sorted_unique(eps.iter().map(|e| e.route.as_str()));
            let with_id = routes.iter().filter(|r| r.contains('{')).count() as u64;
            let plain = routes.len() as u64 - with_id;
            (plain.saturating_add(with_id.saturating_mul(products)), format!("{plain} routes without an id + {with_id} with one × traffic.products = {products}"))
        }
    }
}

/// How many values label `l` takes on this run (see the module doc).
pub fn label_values(l: MetricLabel, run: &Run) -> LabelValues {
    let ids = matches!(l, MetricLabel::UserId | MetricLabel::ProductId | MetricLabel::Path);
    if !ids {
        if let Some((values, how)) = values_in_metrics(l, run) {
            return LabelValues { label: l, values, from: ValuesFrom::Metrics, how };
        }
        if let Some((values, how)) = values_in_spans(l, run) {
            return LabelValues { label: l, values, from: ValuesFrom::Spans, how };
        }
    }
    let (values, how) = values_in_scenario(l, &run.model);
    LabelValues { label: l, values: values.max(1), from: ValuesFrom::Scenario, how }
}

/// The series and storage a plan costs on this run's scenario (see the
/// module doc for the formula). Cheap enough to show live beside a plan.
pub fn estimate(plan: &Instrumentation, run: &Run) -> PlanEstimate {
    let instances: u64 = run.model.services.iter().map(|s| s.replicas as u64).sum();
    let series_per_label_set = plan.buckets.len() as u64 + 3;
    let per_label: Vec<LabelValues> = plan.metric_labels.iter().map(|&l| label_values(l, run)).collect();
    let label_sets = per_label.iter().fold(1u64, |a, l| a.saturating_mul(l.values.max(1)));
    let gauge_series = if plan.metrics && plan.inflight_gauge { instances } else { 0 };
    let series = if plan.metrics { label_sets.saturating_mul(instances).saturating_mul(series_per_label_set).saturating_add(gauge_series) } else { 0 };
    let scrape_s = (run.model.scrape_interval.micros() as f64 / 1e6).max(1.0);
    let samples_per_month = (DAYS_PER_MONTH as f64 * 86_400.0 / scrape_s).floor();
    PlanEstimate {
        series,
        per_label,
        instances,
        series_per_label_set,
        gauge_series,
        bytes_per_month: series as f64 * samples_per_month * BYTES_PER_SAMPLE,
        samples_per_month,
        label_sets: label_sets.saturating_mul(instances),
        cardinality_limit: plan.cardinality_limit,
        metrics: plan.metrics,
    }
}

/// What a short re-run with the plan really stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub length: SimDuration,
    /// Series of the request histogram and the in-flight gauge.
    pub series: usize,
    /// `otel_metric_overflow="true"` series of the histogram's `_count`.
    pub overflow_series: usize,
    /// Requests counted in overflow series (their labels are lost).
    pub folded_requests: f64,
    pub requests: f64,
    /// `http_route` values with series of their own.
    pub routes: BTreeSet<String>,
    /// The cardinality limit the re-run used (at most [`RERUN_MAX_LIMIT`]).
    pub cardinality_limit: u32,
}

/// Re-runs the first [`RERUN_MINUTES`] of the run's scenario (same seed)
/// with `plan` and counts the request metrics' series in the store.
pub fn rerun(plan: &Instrumentation, run: &Run) -> Observed {
    let mut model = run.model.clone();
    model.instrumentation = plan.clone();
    let cardinality_limit = plan.cardinality_limit.min(RERUN_MAX_LIMIT);
    model.instrumentation.cardinality_limit = cardinality_limit;
    let length = if run.model.duration < SimDuration::from_secs(RERUN_MINUTES * 60) { run.model.duration } else { SimDuration::from_secs(RERUN_MINUTES * 60) };
    let r = crate::sim::run(&model, run.seed, Some(length));
    let st = &r.telemetry.series;
    let h = sc::HTTP_SERVER_DURATION;
    let series = ["_bucket", "_sum", "_count"].iter().map(|s| st.by_name(&format!("{h}{s}")).len()).sum::<usize>() + st.by_name("http_server_active_requests").len();
    let (mut overflow_series, mut folded_requests, mut requests, mut routes) = (0, 0.0, 0.0, BTreeSet::new());
    for &id in st.by_name(&format!("{h}_count")) {
        let s = st.get(id);
        let n = s.values.last().copied().unwrap_or(0.0);
        requests += n;
        if s.labels.get("otel_metric_overflow") == Some("true") {
            overflow_series += 1;
            folded_requests += n;
        }
        if let Some(route) = s.labels.get(MetricLabel::Route.label_name()) {
            routes.insert(route.to_string());
        }
    }
    Observed { length, series, overflow_series, folded_requests, requests, routes, cardinality_limit }
}

/// One rule's verdict on a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub id: &'static str,
    /// Share of the question's points.
    pub weight: f64,
    pub passed: bool,
    /// One sentence for the learner.
    pub feedback: String,
    /// What to change, when it fails.
    pub fix: Option<String>,
}

/// The checks and their weights (they sum to 1).
pub const WEIGHTS: [(&str, f64); 6] = [("red", 0.30), ("template", 0.15), ("bounded", 0.15), ("tracing", 0.15), ("logs", 0.10), ("budget", 0.15)];

fn weight(id: &str) -> f64 {
    WEIGHTS.iter().find(|(i, _)| *i == id).map_or(0.0, |(_, w)| *w)
}

fn pass(id: &'static str, feedback: String) -> Check {
    Check { id, weight: weight(id), passed: true, feedback, fix: None }
}

fn fail(id: &'static str, feedback: String, fix: impl Into<String>) -> Check {
    Check { id, weight: weight(id), passed: false, feedback, fix: Some(fix.into()) }
}

/// A check that cannot pass because the answer left out a field it judges.
fn unwritten(plan: &Plan, id: &'static str, fields: &[&str]) -> Option<Check> {
    let missing: Vec<String> = fields.iter().filter(|f| !plan.wrote(f)).map(|f| format!("`{f}`")).collect();
    (!missing.is_empty()).then(|| {
        fail(id, format!("{}: your plan does not say {} — write {} out rather than leaning on the defaults.", title(id), missing.join(" or "), if missing.len() == 1 { "it" } else { "them" }), format!("write {}", missing.join(" and ")))
    })
}

fn title(id: &str) -> &'static str {
    match id {
        "red" => "RED coverage",
        "template" => "Route template",
        "bounded" => "Bounded labels",
        "tracing" => "Tracing",
        "logs" => "Log correlation",
        _ => "Series budget",
    }
}

fn join(v: &[String]) -> String {
    match v {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Judges `plan` on `run` by the six rules, with `est` its estimate.
pub fn checks(plan: &Plan, est: &PlanEstimate, run: &Run, budget: u64) -> Vec<Check> {
    let p = &plan.instrumentation;
    let has = |l: MetricLabel| p.metric_labels.contains(&l);
    let eps = endpoints(&run.model);
    let mut out = Vec::new();

    // RED per route.
    out.push(unwritten(plan, "red", &["metrics", "metric_labels"]).unwrap_or_else(|| {
        let all: Vec<String> = eps.iter().map(|e| e.0.clone()).collect();
        if !p.metrics {
            return fail("red", format!("RED coverage: metrics are off, so no route has a request rate, an error ratio or a duration: {} lack coverage.", join(&all)), "set metrics = true");
        }
        if !has(MetricLabel::Route) && !has(MetricLabel::Path) {
            return fail("red", format!("RED coverage: without `route` every route shares one series, so {} lack a rate, errors and duration of their own.", join(&all)), "add \"route\" to metric_labels");
        }
        // Routes with an id in them split into one series per id under a raw path.
        let mut lacking: Vec<String> = if has(MetricLabel::Route) { Vec::new() } else { eps.iter().filter(|e| e.2.contains('{')).map(|e| e.0.clone()).collect() };
        // Two endpoints on one route are told apart only by the method.
        if !has(MetricLabel::Method) {
            for e in &eps {
                if eps.iter().any(|o| o.2 == e.2 && o.1 != e.1) && !lacking.contains(&e.0) {
                    lacking.push(e.0.clone());
                }
            }
        }
        if !lacking.is_empty() {
            let why = if has(MetricLabel::Route) { "they share a route with another method and the plan has no `method`" } else { "with a raw `path` and no `route` their requests split into one series per id" };
            return fail("red", format!("RED coverage: {} lack series of their own: {why}.", join(&lacking)), "add \"route\" (and \"method\") to metric_labels");
        }
        if !has(MetricLabel::Status) {
            return fail("red", format!("RED coverage: without `status` errors cannot be told from successes, so {} have a rate and a duration but no error ratio.", join(&all)), "add \"status\" to metric_labels");
        }
        pass("red", format!("RED coverage: all {} routes ({}) have a request rate, an error ratio and a duration, from one histogram with `route` and `status`.", eps.len(), join(&all)))
    }));

    // Route template, not raw path.
    out.push(unwritten(plan, "template", &["metric_labels"]).unwrap_or_else(|| {
        if !p.metrics {
            fail("template", "Route template: metrics are off, so there is no route label to judge.".into(), "set metrics = true with \"route\" in metric_labels")
        } else if has(MetricLabel::Path) {
            let ex = eps.iter().find(|e| e.2.contains('{')).map(|e| crate::sim::engine::concrete_path(&e.2, 8123)).unwrap_or_else(|| "/books/8123".into());
            fail("template", format!("Route template: `path` puts the raw URL ({ex}) in a label, one value per id; `route` holds the template ({}) with a handful of values.", eps.iter().find(|e| e.2.contains('{')).map_or("/books/{id}", |e| e.2.as_str())), "replace \"path\" with \"route\" in metric_labels")
        } else if !has(MetricLabel::Route) {
            fail("template", "Route template: the plan has no `route` label, so requests cannot be grouped by route.".into(), "add \"route\" to metric_labels")
        } else {
            pass("template", "Route template: `route` (http.route) names requests by their template, not their raw path.".into())
        }
    }));

    // Unbounded labels.
    out.push(unwritten(plan, "bounded", &["metric_labels"]).unwrap_or_else(|| {
        if !p.metrics {
            return fail("bounded", "Bounded labels: metrics are off, so there are no labels to bound.".into(), "set metrics = true with bounded labels");
        }
        let unbounded: Vec<String> = est
            .per_label
            .iter()
            .filter(|l| matches!(l.label, MetricLabel::UserId | MetricLabel::ProductId | MetricLabel::Path))
            .map(|l| format!("`{}` ({} values: {})", l.label.as_str(), count(l.values), l.how))
            .collect();
        if unbounded.is_empty() {
            let vals: Vec<String> = est.per_label.iter().map(|l| format!("{} {}", l.label.as_str(), l.values)).collect();
            pass("bounded", format!("Bounded labels: every label has a small, fixed set of values ({}).", vals.join(", ")))
        } else {
            let grow = if unbounded.len() == 1 { "grows" } else { "grow" };
            fail("bounded", format!("Bounded labels: {} {grow} with the users and the catalogue; ids belong on spans and log lines, not on metric labels.", join(&unbounded)), "remove user_id, product_id and path from metric_labels")
        }
    }));

    // Tracing with propagation.
    out.push(unwritten(plan, "tracing", &["tracing", "propagation"]).unwrap_or_else(|| {
        if !p.tracing {
            fail("tracing", "Tracing: tracing is off, so there is no trace to follow a failed request to its failing span.".into(), "set tracing = true")
        } else if !p.propagation {
            fail("tracing", "Tracing: propagation is off, so the database and payment calls start traces of their own; every trace is a lone span and a request cannot be followed into its dependencies.".into(), "set propagation = true")
        } else if p.sampling_ratio <= 0.0 {
            fail("tracing", "Tracing: sampling_ratio = 0 samples no request at the edge, so no trace is recorded.".into(), "set sampling_ratio above 0 (1.0 keeps every trace)")
        } else {
            pass("tracing", "Tracing: on, with context propagated into the database and payment calls, so one trace shows the whole request.".into())
        }
    }));

    // Log correlation.
    out.push(unwritten(plan, "logs", &["log_format", "log_trace_ids"]).unwrap_or_else(|| {
        let mut why = Vec::new();
        if !p.log_trace_ids {
            why.push("log lines carry no trace or span id (log_trace_ids = false)".to_string());
        }
        if p.log_format != LogFormat::Json {
            why.push("plain-text lines have no fields to filter on (log_format = \"plain\")".to_string());
        }
        if !p.tracing || p.sampling_ratio <= 0.0 {
            why.push("there are no traces for the ids to point at (tracing is off)".to_string());
        }
        if why.is_empty() {
            pass("logs", "Log correlation: structured JSON logs carry trace_id and span_id, so a log line leads to its trace and a span to its log lines.".into())
        } else {
            fail("logs", format!("Log correlation: {}, so logs cannot be joined to traces.", join(&why)), "set log_format = \"json\", log_trace_ids = true and tracing = true")
        }
    }));

    // Series budget.
    out.push(if !p.metrics {
        fail("budget", "Series budget: metrics are off; a budget is met by choosing labels, not by emitting nothing.".into(), "set metrics = true with bounded labels")
    } else if est.series <= budget {
        pass("budget", format!("Series budget: {} series for the request metrics, within the budget of {}.", count(est.series), count(budget)))
    } else {
        fail("budget", format!("Series budget: {} series for the request metrics, over the budget of {}.", count(est.series), count(budget)), format!("keep the request metrics under {} series: drop the labels with many values", count(budget)))
    });
    out
}

/// Grades a plan answer to `q` (its `series_budget`) on `run`, out of `max`.
pub fn grade_plan(q: &Question, answer: &str, run: &Run, max: f64) -> Result<Grade, AnswerError> {
    let plan = parse_plan(answer)?;
    let budget = q.series_budget.unwrap_or(u64::MAX);
    let est = estimate(&plan.instrumentation, run);
    let cs = checks(&plan, &est, run, budget);
    let score: f64 = cs.iter().filter(|c| c.passed).map(|c| c.weight).sum();
    let passed = cs.iter().filter(|c| c.passed).count();
    let mut lines = vec![format!("Your plan passes {passed} of {} checks.", cs.len())];
    lines.extend(cs.iter().map(|c| format!("{} {}", if c.passed { "✓" } else { "✗" }, c.feedback)));
    if est.metrics {
        lines.push(format!("Estimate: {}; {}.", est.formula(), est.storage()));
        let o = rerun(&plan.instrumentation, run);
        let ids = est.per_label.iter().any(|l| matches!(l.label, MetricLabel::UserId | MetricLabel::ProductId | MetricLabel::Path));
        let mut s = format!("A {}-minute re-run with your plan stored {} series for these metrics", o.length.micros() / 60_000_000, count(o.series as u64));
        if o.overflow_series > 0 {
            let share = if o.requests > 0.0 { o.folded_requests / o.requests } else { 0.0 };
            s.push_str(&format!(
                "; the SDK's cardinality limit ({} label sets per metric{}) stopped it there by folding {} requests ({}) into {} otel_metric_overflow=\"true\" series, which have lost their labels: without the limit the count would keep growing with every new {}",
                count(o.cardinality_limit as u64),
                if o.cardinality_limit < est.cardinality_limit { ", the default the re-run keeps to stay quick" } else { "" },
                count(o.folded_requests as u64),
                format_quantity(share, Dimension::Ratio),
                o.overflow_series,
                if ids { "id" } else { "label value" },
            ));
        } else if (o.series as u64) < est.series {
            s.push_str(if ids {
                " (fewer than the estimate: not every combination of label values occurs, and a few minutes do not reach every id)"
            } else {
                " (fewer than the estimate: not every combination of label values occurs; each route answers only some statuses)"
            });
        }
        s.push('.');
        lines.push(s);
    }
    let mut g = Grade::scored(score * max, max, lines.join("\n"));
    g.missed = cs.iter().filter_map(|c| c.fix.as_ref().map(|f| format!("{}: {f}", c.id))).collect();
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_optional_and_fields_are_recorded() {
        let a = parse_plan("[instrumentation]\nmetrics = true\nmetric_labels = [\"route\", \"book_id\"]\n").unwrap();
        let b = parse_plan("metrics = true\nmetric_labels = [\"route\", \"book_id\"]\n").unwrap();
        assert_eq!(a.instrumentation.metric_labels, [MetricLabel::Route, MetricLabel::ProductId]);
        assert_eq!(b.instrumentation.metric_labels, a.instrumentation.metric_labels);
        assert_eq!(a.written, ["metric_labels", "metrics"]);
        let c = parse_plan("instrumentation.tracing = false\n").unwrap();
        assert!(!c.instrumentation.tracing);
    }

    #[test]
    fn errors_point_at_the_field_with_line_and_column() {
        let cases: [(&str, &str, &str); 7] = [
            ("metrics = true\nmetric_lables = [\"route\"]\n", "metric_lables", "line 2, column 1: instrumentation.metric_lables: unknown field `metric_lables`"),
            ("metrics = true\nmetric_labels = [\"route\", \"uid\"]\n", "\"uid\"", "line 2, column 27: instrumentation.metric_labels[1]: expected one of method, route, path, status, user_id, product_id, found \"uid\""),
            ("[instrumentation]\nsampling_ratio = 1.5\n", "1.5", "line 2, column 18: instrumentation.sampling_ratio: expected a ratio between 0 and 1, found 1.5"),
            ("[instrumentation]\nlog_format = \"xml\"\n", "\"xml\"", "line 2, column 14: instrumentation.log_format: expected \"json\" or \"plain\""),
            ("tracing = yes\n", "y", "line 1, column 11: expected a value, found `yes`"),
            ("[instrumentation]\ntracing = true\n[scenario]\nid = \"x\"\n", "scenario", "line 3, column 2: scenario: unknown field `scenario`; expected one of: instrumentation"),
            ("metrics = \"on\"\n", "\"on\"", "line 1, column 11: instrumentation.metrics: expected true or false, found a string \"on\""),
        ];
        for (src, at, says) in cases {
            let e = parse_plan(src).expect_err(src);
            assert_eq!(&src[e.span.clone()], at, "{src}: {e:?}");
            assert!(e.message.starts_with(says), "{src}: {}", e.message);
        }
        let e = parse_plan("  \n# nothing\n").expect_err("an empty plan");
        assert!(e.message.contains("write your plan"), "{}", e.message);
    }

    #[test]
    fn a_rendered_plan_reads_back_the_same() {
        let m = crate::scenario::load_builtin("bookstore").unwrap();
        let mut p = m.instrumentation.clone();
        p.metric_labels.push(MetricLabel::UserId);
        p.log_format = LogFormat::Plain;
        let back = parse_plan(&render(&p)).unwrap().instrumentation;
        assert_eq!(render(&back), render(&p));
        assert_eq!(back.metric_labels, p.metric_labels);
        assert_eq!(back.buckets, p.buckets);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]
        #[test]
        fn any_text_reads_or_points_inside_itself(text in "(\\PC|\n){0,120}", plan in "(\\[instrumentation\\]\n)?([a-z_]{1,16} = (true|false|\"[a-z_]{0,8}\"|-?[0-9]{1,12}(\\.[0-9])?|\\[(\"[a-z_]{1,8}\", ?){0,3}\\])\n){0,6}") {
            for t in [&text, &plan] {
                if let Err(e) = parse_plan(t) {
                    proptest::prop_assert!(e.span.start <= e.span.end && e.span.end <= t.len(), "{e:?}");
                    proptest::prop_assert!(t.is_char_boundary(e.span.start) && t.is_char_boundary(e.span.end));
                }
            }
        }
    }

    #[test]
    fn weights_sum_to_one() {
        assert!((WEIGHTS.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
