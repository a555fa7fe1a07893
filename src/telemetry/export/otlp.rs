//! OTLP/JSON: traces, metrics and logs as the bodies of the collector's
//! `Export{Trace,Metrics,Logs}ServiceRequest`, in the JSON encoding the
//! OTLP specification defines (the protobuf JSON mapping with lowerCamelCase
//! field names, 64-bit integers as decimal strings, enums as integers, and
//! trace and span ids as lowercase hex, not base64).
//!
//! Grouping follows the data: spans and logs carry a resource (a pod of a
//! service) and are grouped by it; log records are further grouped by their
//! logger, which becomes the instrumentation scope. Metric series carry the
//! scrape target's labels instead (`job`, `instance`, `namespace`, `pod`,
//! `node`, `service`); a series whose `pod` is a known resource gets that
//! resource's attributes, others get attributes built from those labels the
//! way the Collector's Prometheus receiver does (`job` → `service.name`, with
//! a `namespace/` prefix → `service.namespace`; `instance` →
//! `service.instance.id`). The remaining labels become data point attributes.
//!
//! Counters become monotonic cumulative sums, gauges gauges, and histograms
//! are rebuilt from the `_bucket`/`_sum`/`_count` series of each label set:
//! explicit bounds from `le`, per-bucket (not cumulative) counts, one data
//! point per scrape, with the exemplars each scrape collected. Cumulative
//! points start at the scenario start, or at the last scrape before a reset.

use super::openmetrics::{exemplars_by_sample, families, FamilyKind, MetricView};
use crate::json::JsonWriter;
use crate::store::{Series, Telemetry};
use crate::telemetry::ids::{SpanId, TraceId};
use crate::telemetry::log::{LogRecord, LogValue};
use crate::telemetry::metric::{Labels, METRIC_NAME};
use crate::telemetry::resource::ResourceId;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::{AttrValue, Span, SpanRecord};
use std::collections::BTreeMap;

/// The instrumentation scope every exported signal names.
pub const SCOPE_NAME: &str = "obslab";

/// OTLP `AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE`.
const CUMULATIVE: i128 = 2;

fn nanos_from_ms(ms: i64) -> String {
    (ms as i128 * 1_000_000).to_string()
}

fn write_scope(w: &mut JsonWriter, name: &str) {
    w.key("scope").begin_object().field_str("name", name).field_str("version", env!("CARGO_PKG_VERSION")).end_object();
}

fn write_trace_id(w: &mut JsonWriter, key: &str, id: TraceId) {
    w.field_str(key, &id.to_string());
}

fn write_span_id(w: &mut JsonWriter, key: &str, id: SpanId) {
    w.field_str(key, &id.to_string());
}

/// An `AnyValue` for an attribute value.
fn write_any(w: &mut JsonWriter, v: &AttrValue) {
    w.begin_object();
    match v {
        AttrValue::Str(s) => {
            w.field_str("stringValue", s);
        }
        AttrValue::Int(i) => {
            w.field_str("intValue", &i.to_string());
        }
        AttrValue::Double(d) => write_double(w, "doubleValue", *d),
        AttrValue::Bool(b) => {
            w.field_bool("boolValue", *b);
        }
    }
    w.end_object();
}

/// A double field; the protobuf JSON mapping spells non-finite values as strings.
fn write_double(w: &mut JsonWriter, key: &str, v: f64) {
    if v.is_nan() {
        w.field_str(key, "NaN");
    } else if v == f64::INFINITY {
        w.field_str(key, "Infinity");
    } else if v == f64::NEG_INFINITY {
        w.field_str(key, "-Infinity");
    } else {
        w.field_float(key, v);
    }
}

fn write_str_attrs<'a>(w: &mut JsonWriter, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    w.key("attributes").begin_array();
    for (k, v) in attrs {
        w.begin_object().field_str("key", k).key("value").begin_object().field_str("stringValue", v).end_object().end_object();
    }
    w.end_array();
}

fn write_attrs(w: &mut JsonWriter, attrs: &[(&'static str, AttrValue)]) {
    w.key("attributes").begin_array();
    for (k, v) in attrs {
        w.begin_object().field_str("key", k).key("value");
        write_any(w, v);
        w.end_object();
    }
    w.end_array();
}

/// `{"attributes": [...]}` of a stored resource; empty if the id is unknown.
fn write_resource(w: &mut JsonWriter, tel: &Telemetry, id: ResourceId) {
    w.key("resource").begin_object();
    match tel.resources.get(id.0 as usize) {
        Some(r) => write_str_attrs(w, r.attributes()),
        None => write_str_attrs(w, []),
    }
    w.end_object();
}

// ---------------------------------------------------------------- traces

/// All kept spans as an `ExportTraceServiceRequest`, one `ResourceSpans`
/// per resource (in resource order), spans in store order.
pub fn traces(tel: &Telemetry) -> String {
    let mut by_res: BTreeMap<ResourceId, Vec<&SpanRecord>> = BTreeMap::new();
    for s in tel.traces.spans() {
        by_res.entry(s.resource).or_default().push(s);
    }
    let mut w = JsonWriter::new();
    w.begin_object().key("resourceSpans").begin_array();
    for (rid, spans) in by_res {
        w.begin_object();
        write_resource(&mut w, tel, rid);
        w.key("scopeSpans").begin_array().begin_object();
        write_scope(&mut w, SCOPE_NAME);
        w.key("spans").begin_array();
        for r in spans {
            write_span(&mut w, tel, &tel.traces.materialize(r));
        }
        w.end_array().end_object().end_array();
        w.end_object();
    }
    w.end_array().end_object();
    w.finish()
}

fn write_span(w: &mut JsonWriter, tel: &Telemetry, s: &Span) {
    w.begin_object();
    write_trace_id(w, "traceId", s.trace_id);
    write_span_id(w, "spanId", s.span_id);
    if s.parent.is_valid() {
        write_span_id(w, "parentSpanId", s.parent);
    }
    w.field_str("name", &s.name);
    w.field_int("kind", s.kind as i128);
    w.field_str("startTimeUnixNano", &tel.unix_nanos(s.start).to_string());
    w.field_str("endTimeUnixNano", &tel.unix_nanos(s.end).to_string());
    write_attrs(w, &s.attributes);
    if !s.events.is_empty() {
        w.key("events").begin_array();
        for e in &s.events {
            w.begin_object();
            w.field_str("timeUnixNano", &tel.unix_nanos(e.time).to_string());
            w.field_str("name", &e.name);
            write_attrs(w, &e.attributes);
            w.end_object();
        }
        w.end_array();
    }
    w.key("status").begin_object();
    if !s.status_message.is_empty() {
        w.field_str("message", s.status_message);
    }
    w.field_int("code", s.status as i128);
    w.end_object();
    w.end_object();
}

// ------------------------------------------------------------------ logs

/// All log records as an `ExportLogsServiceRequest`: per resource, one
/// scope per logger, records in time order.
pub fn logs(tel: &Telemetry) -> String {
    let mut by_res: BTreeMap<ResourceId, BTreeMap<&str, Vec<&LogRecord>>> = BTreeMap::new();
    for r in tel.logs.records() {
        let logger: &str = &tel.logs.template(r.template).logger;
        by_res.entry(r.resource).or_default().entry(logger).or_default().push(r);
    }
    let mut w = JsonWriter::new();
    w.begin_object().key("resourceLogs").begin_array();
    for (rid, scopes) in by_res {
        w.begin_object();
        write_resource(&mut w, tel, rid);
        w.key("scopeLogs").begin_array();
        for (logger, records) in scopes {
            w.begin_object();
            write_scope(&mut w, logger);
            w.key("logRecords").begin_array();
            for r in records {
                write_log(&mut w, tel, r);
            }
            w.end_array().end_object();
        }
        w.end_array().end_object();
    }
    w.end_array().end_object();
    w.finish()
}

fn write_log(w: &mut JsonWriter, tel: &Telemetry, r: &LogRecord) {
    let t = tel.logs.template(r.template);
    let ns = tel.unix_nanos(r.time).to_string();
    w.begin_object();
    w.field_str("timeUnixNano", &ns).field_str("observedTimeUnixNano", &ns);
    w.field_int("severityNumber", r.severity.number() as i128);
    w.field_str("severityText", r.severity.as_str());
    w.key("body").begin_object().field_str("stringValue", &tel.logs.body(r)).end_object();
    w.key("attributes").begin_array();
    for (name, v) in t.fields.iter().zip(r.fields.iter()) {
        w.begin_object().field_str("key", name).key("value").begin_object();
        match v {
            LogValue::Int(i) => {
                w.field_str("intValue", &i.to_string());
            }
            LogValue::Float(x) => write_double(w, "doubleValue", *x),
            LogValue::Str(s) => {
                w.field_str("stringValue", s);
            }
        }
        w.end_object().end_object();
    }
    w.end_array();
    if r.trace_id.is_valid() {
        write_trace_id(w, "traceId", r.trace_id);
        if r.span_id.is_valid() {
            write_span_id(w, "spanId", r.span_id);
        }
    }
    w.end_object();
}

// --------------------------------------------------------------- metrics

/// Target labels that describe the resource rather than the data point.
const RESOURCE_LABELS: [&str; 6] = ["job", "instance", "namespace", "pod", "node", "service"];

type ResourceAttrs = Vec<(&'static str, String)>;

/// The resource attributes of a metric series from its target labels.
fn metric_resource(tel: &Telemetry, pods: &BTreeMap<&str, ResourceId>, labels: &Labels) -> ResourceAttrs {
    // An empty label value means the label is absent.
    let get = |name: &str| labels.get(name).filter(|v| !v.is_empty());
    if let Some(r) = get("pod").and_then(|p| pods.get(p)).and_then(|id| tel.resources.get(id.0 as usize)) {
        return r.attributes().iter().map(|&(k, v)| (k, v.to_string())).collect();
    }
    let mut a: ResourceAttrs = Vec::new();
    let (job_ns, job_name) = match get("job") {
        Some(j) => match j.split_once('/') {
            Some((ns, name)) => (Some(ns), Some(name)),
            None => (None, Some(j)),
        },
        None => (None, None),
    };
    if let Some(name) = get("service").or(job_name) {
        a.push((sc::SERVICE_NAME, name.to_string()));
    }
    if let Some(ns) = get("namespace").or(job_ns) {
        a.push((sc::SERVICE_NAMESPACE, ns.to_string()));
    }
    if let Some(i) = get("instance") {
        a.push((sc::SERVICE_INSTANCE_ID, i.to_string()));
    }
    if let Some(p) = get("pod") {
        a.push((sc::K8S_POD_NAME, p.to_string()));
    }
    if let Some(n) = get("node") {
        a.push((sc::K8S_NODE_NAME, n.to_string()));
    }
    a
}

/// OpenMetrics unit names to UCUM, as OTLP metrics spell units.
fn ucum(unit: &str) -> &str {
    match unit {
        "seconds" => "s",
        "milliseconds" => "ms",
        "bytes" => "By",
        "ratio" => "1",
        u => u,
    }
}

/// All series as an `ExportMetricsServiceRequest`.
pub fn metrics(tel: &Telemetry) -> String {
    let store = &tel.series;
    let fams = families(store);
    let pods: BTreeMap<&str, ResourceId> =
        tel.resources.iter().enumerate().map(|(i, r)| (&*r.pod, ResourceId(i as u32))).collect();
    // resource → family index → the family's label sets under that resource.
    let mut by_res: BTreeMap<ResourceAttrs, BTreeMap<usize, Vec<&MetricView>>> = BTreeMap::new();
    for (fi, f) in fams.iter().enumerate() {
        for m in &f.metrics {
            by_res.entry(metric_resource(tel, &pods, &m.labels)).or_default().entry(fi).or_default().push(m);
        }
    }
    let mut w = JsonWriter::new();
    w.begin_object().key("resourceMetrics").begin_array();
    for (res, fmap) in &by_res {
        w.begin_object();
        w.key("resource").begin_object();
        write_str_attrs(&mut w, res.iter().map(|(k, v)| (*k, v.as_str())));
        w.end_object();
        w.key("scopeMetrics").begin_array().begin_object();
        write_scope(&mut w, SCOPE_NAME);
        w.key("metrics").begin_array();
        for (&fi, ms) in fmap {
            let f = &fams[fi];
            w.begin_object().field_str("name", f.name);
            if !f.help.is_empty() {
                w.field_str("description", f.help);
            }
            if !f.unit.is_empty() {
                w.field_str("unit", ucum(f.unit));
            }
            match f.kind {
                FamilyKind::Counter => {
                    w.key("sum").begin_object().key("dataPoints").begin_array();
                    for m in ms {
                        if let Some(id) = m.series {
                            write_number_points(&mut w, tel, store.get(id), &m.labels, true);
                        }
                    }
                    w.end_array().field_int("aggregationTemporality", CUMULATIVE).field_bool("isMonotonic", true).end_object();
                }
                FamilyKind::Gauge | FamilyKind::Unknown => {
                    w.key("gauge").begin_object().key("dataPoints").begin_array();
                    for m in ms {
                        if let Some(id) = m.series {
                            write_number_points(&mut w, tel, store.get(id), &m.labels, false);
                        }
                    }
                    w.end_array().end_object();
                }
                FamilyKind::Histogram => {
                    w.key("histogram").begin_object().key("dataPoints").begin_array();
                    for m in ms {
                        write_histogram_points(&mut w, tel, m);
                    }
                    w.end_array().field_int("aggregationTemporality", CUMULATIVE).end_object();
                }
            }
            w.end_object();
        }
        w.end_array().end_object().end_array();
        w.end_object();
    }
    w.end_array().end_object();
    w.finish()
}

fn point_attrs(w: &mut JsonWriter, labels: &Labels) {
    write_str_attrs(
        w,
        labels
            .iter()
            .filter(|l| &*l.name != METRIC_NAME && &*l.name != "le" && !l.value.is_empty() && !RESOURCE_LABELS.contains(&&*l.name))
            .map(|l| (&*l.name, &*l.value)),
    );
}

/// Tracks the start of a cumulative stream: the scenario start, moved to
/// the previous scrape whenever the value goes down (a reset).
struct CumulativeStart {
    start_ms: i64,
    prev: Option<(i64, f64)>,
}

impl CumulativeStart {
    fn new(tel: &Telemetry, first_ms: Option<i64>) -> Self {
        let start_ms = first_ms.map_or(tel.start_unix_ms, |f| f.min(tel.start_unix_ms));
        CumulativeStart { start_ms, prev: None }
    }
    fn next(&mut self, t: i64, v: f64) -> i64 {
        if let Some((pt, pv)) = self.prev
            && v < pv
        {
            self.start_ms = pt;
        }
        self.prev = Some((t, v));
        self.start_ms
    }
}

fn write_number_points(w: &mut JsonWriter, tel: &Telemetry, s: &Series, labels: &Labels, cumulative: bool) {
    let mut start = CumulativeStart::new(tel, s.timestamps.first().copied());
    for (&t, &v) in s.timestamps.iter().zip(&s.values) {
        w.begin_object();
        point_attrs(w, labels);
        if cumulative {
            w.field_str("startTimeUnixNano", &nanos_from_ms(start.next(t, v)));
        }
        w.field_str("timeUnixNano", &nanos_from_ms(t));
        write_double(w, "asDouble", v);
        w.end_object();
    }
}

/// The value of `s` at exactly `t`, trying index `hint` first (the series of
/// one histogram are scraped together, so indexes usually line up).
fn value_at(s: &Series, t: i64, hint: usize) -> Option<(usize, f64)> {
    if s.timestamps.get(hint) == Some(&t) {
        return Some((hint, s.values[hint]));
    }
    s.timestamps.binary_search(&t).ok().map(|i| (i, s.values[i]))
}

fn count_of(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 { libm::round(v) as u64 } else { 0 }
}

fn write_histogram_points(w: &mut JsonWriter, tel: &Telemetry, m: &MetricView) {
    let store = &tel.series;
    let inf = m.buckets.last().filter(|b| b.0.is_infinite()).map(|b| b.1);
    // One point per scrape of the count series (or of +Inf without it).
    let Some(driver) = m.count.or(inf) else { return };
    let driver = store.get(driver);
    let finite: Vec<(f64, &Series, Vec<Option<&crate::telemetry::metric::Exemplar>>)> = m
        .buckets
        .iter()
        .filter(|b| b.0.is_finite())
        .map(|&(le, id)| {
            let s = store.get(id);
            (le, s, exemplars_by_sample(&s.timestamps, &s.exemplars))
        })
        .collect();
    let inf_series: Option<(&Series, Vec<Option<&crate::telemetry::metric::Exemplar>>)> =
        inf.map(|id| store.get(id)).map(|s| (s, exemplars_by_sample(&s.timestamps, &s.exemplars)));
    let sum = m.sum.map(|id| store.get(id));
    let count_series = m.count.map(|id| store.get(id));
    let mut start = CumulativeStart::new(tel, driver.timestamps.first().copied());
    let mut counts: Vec<u64> = Vec::with_capacity(finite.len() + 1);
    let mut exemplars: Vec<(i64, f64, TraceId, SpanId)> = Vec::new();
    'points: for (i, &t) in driver.timestamps.iter().enumerate() {
        counts.clear();
        exemplars.clear();
        let mut prev_cum = 0u64;
        for (_, s, ex) in &finite {
            let Some((j, v)) = value_at(s, t, i) else { continue 'points };
            let cum = count_of(v);
            counts.push(cum.saturating_sub(prev_cum));
            prev_cum = prev_cum.max(cum);
            if let Some(e) = ex.get(j).copied().flatten() {
                exemplars.push((e.timestamp_ms, e.value, e.trace_id, e.span_id));
            }
        }
        let total = match count_series.and_then(|s| value_at(s, t, i)) {
            Some((_, v)) => count_of(v),
            None => match inf_series.as_ref().and_then(|(s, _)| value_at(s, t, i)) {
                Some((_, v)) => count_of(v),
                None => continue 'points,
            },
        };
        if let Some((s, ex)) = &inf_series
            && let Some((j, _)) = value_at(s, t, i)
            && let Some(e) = ex.get(j).copied().flatten()
        {
            exemplars.push((e.timestamp_ms, e.value, e.trace_id, e.span_id));
        }
        counts.push(total.saturating_sub(prev_cum));
        let total = counts.iter().sum::<u64>();
        w.begin_object();
        point_attrs(w, &m.labels);
        w.field_str("startTimeUnixNano", &nanos_from_ms(start.next(t, total as f64)));
        w.field_str("timeUnixNano", &nanos_from_ms(t));
        w.field_str("count", &total.to_string());
        if let Some((_, v)) = sum.and_then(|s| value_at(s, t, i)) {
            write_double(w, "sum", v);
        }
        w.key("bucketCounts").begin_array();
        for c in &counts {
            w.string(&c.to_string());
        }
        w.end_array();
        w.key("explicitBounds").begin_array();
        for (le, _, _) in &finite {
            w.float(*le);
        }
        w.end_array();
        if !exemplars.is_empty() {
            w.key("exemplars").begin_array();
            for &(ts, v, tr, sp) in &exemplars {
                w.begin_object();
                w.field_str("timeUnixNano", &nanos_from_ms(ts));
                write_double(w, "asDouble", v);
                write_span_id(w, "spanId", sp);
                write_trace_id(w, "traceId", tr);
                w.end_object();
            }
            w.end_array();
        }
        w.end_object();
    }
}

// serde_json is a native-only dependency, so these tests are too.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::store::{KeepReason, SeriesStore};
    use crate::telemetry::log::{LogTemplate, Severity};
    use crate::telemetry::metric::{Exemplar, MetricFamily, MetricKind};
    use crate::telemetry::resource::Resource;
    use crate::telemetry::span::{ErrorType, Operation, SpanKind, StatusCode};
    use crate::sim::time::SimTime;

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).expect("valid JSON")
    }

    fn resource(svc: &str, pod: &str) -> Resource {
        Resource {
            service_name: svc.into(),
            service_namespace: "shop".into(),
            service_version: "1.0".into(),
            instance_id: pod.into(),
            pod: pod.into(),
            node: "node-1".into(),
        }
    }

    fn tel() -> Telemetry {
        let mut tel = Telemetry { start_unix_ms: 1_700_000_000_000, ..Default::default() };
        tel.resources = vec![resource("api", "api-0"), resource("db", "db-0")];
        let op = tel.traces.add_operation(Operation { name: "GET /x".into(), kind: SpanKind::Server, attributes: vec![(sc::HTTP_ROUTE, AttrValue::Str("/x".into()))] });
        let base = SpanRecord {
            trace_id: TraceId(0x1234),
            span_id: SpanId(1),
            parent: SpanId::INVALID,
            start: SimTime(1_000),
            end: SimTime(5_000),
            op,
            resource: ResourceId(0),
            status: StatusCode::Error,
            error: ErrorType::Timeout,
            http_status: 504,
            resend: 0,
            cache: 0,
            product: 0,
            category: 0,
            user: 0,
            cause: 0,
        };
        let child = SpanRecord { span_id: SpanId(2), parent: SpanId(1), resource: ResourceId(1), status: StatusCode::Unset, error: ErrorType::None, http_status: 0, ..base };
        tel.traces.insert_trace(&[base, child], KeepReason::Error);
        let tpl = tel.logs.add_template(LogTemplate { logger: "pool".into(), body: "waited {ms} ms".into(), fields: vec!["ms".into()] });
        tel.logs.push(LogRecord { time: SimTime(2_000), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0x1234), span_id: SpanId(1), template: tpl, fields: vec![LogValue::Int(512)].into() });
        tel.logs.push(LogRecord { time: SimTime(3_000), severity: Severity::Info, resource: ResourceId(1), trace_id: TraceId::INVALID, span_id: SpanId::INVALID, template: tpl, fields: vec![LogValue::Float(1.5)].into() });
        tel.series = metric_store();
        tel
    }

    fn metric_store() -> SeriesStore {
        let mut st = SeriesStore::new();
        st.describe(MetricFamily { name: "lat_seconds".into(), kind: MetricKind::Histogram, help: "Latency.".into(), unit: "seconds".into(), buckets: vec![0.1, 1.0] });
        st.describe(MetricFamily { name: "reqs".into(), kind: MetricKind::Counter, help: "Requests.".into(), unit: "".into(), buckets: vec![] });
        let target = [("job", "shop/api"), ("instance", "api-0"), ("pod", "api-0"), ("service", "api"), ("namespace", "shop")];
        let with = |name: &str, extra: &[(&str, &str)]| {
            Labels::from_pairs(target.iter().copied().chain(extra.iter().copied()).chain([("__name__", name)]))
        };
        // Two scrapes; cumulative buckets 1,2,3 then 2,4,5.
        for (le, a, b) in [("0.1", 1.0, 2.0), ("1", 2.0, 4.0), ("+Inf", 3.0, 5.0)] {
            let id = st.get_or_create(with("lat_seconds_bucket", &[("le", le), ("route", "/x")]));
            st.append(id, 1_700_000_015_000, a);
            st.append(id, 1_700_000_030_000, b);
            if le == "1" {
                st.add_exemplar(id, Exemplar { timestamp_ms: 1_700_000_020_000, value: 0.4, trace_id: TraceId(0x1234), span_id: SpanId(1) });
            }
        }
        for (suffix, a, b) in [("_sum", 1.5, 3.0), ("_count", 3.0, 5.0)] {
            let id = st.get_or_create(with(&format!("lat_seconds{suffix}"), &[("route", "/x")]));
            st.append(id, 1_700_000_015_000, a);
            st.append(id, 1_700_000_030_000, b);
        }
        let c = st.get_or_create(with("reqs_total", &[]));
        st.append(c, 1_700_000_015_000, 10.0);
        st.append(c, 1_700_000_030_000, 4.0);
        let n = st.get_or_create(Labels::from_pairs([("__name__", "reqs_total"), ("job", "node-exporter"), ("instance", "node-1"), ("node", "node-1")]));
        st.append(n, 1_700_000_015_000, 1.0);
        st
    }

    #[test]
    fn traces_group_by_resource_with_hex_ids_and_string_times() {
        let v = parse(&traces(&tel()));
        let rs = v["resourceSpans"].as_array().unwrap();
        assert_eq!(rs.len(), 2);
        let attrs = &rs[0]["resource"]["attributes"];
        assert_eq!(attrs[0]["key"], "service.name");
        assert_eq!(attrs[0]["value"]["stringValue"], "api");
        let span = &rs[0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "00000000000000000000000000001234");
        assert_eq!(span["spanId"], "0000000000000001");
        assert!(span.get("parentSpanId").is_none());
        assert_eq!(span["kind"], 2);
        assert_eq!(span["startTimeUnixNano"], "1700000000001000000");
        assert_eq!(span["endTimeUnixNano"], "1700000000005000000");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["events"][0]["name"], "exception");
        let code = span["attributes"].as_array().unwrap().iter().find(|a| a["key"] == sc::HTTP_RESPONSE_STATUS_CODE).unwrap();
        assert_eq!(code["value"]["intValue"], "504");
        let child = &rs[1]["scopeSpans"][0]["spans"][0];
        assert_eq!(child["parentSpanId"], "0000000000000001");
    }

    #[test]
    fn logs_group_by_resource_and_logger() {
        let v = parse(&logs(&tel()));
        let rl = v["resourceLogs"].as_array().unwrap();
        assert_eq!(rl.len(), 2);
        let sl = &rl[0]["scopeLogs"][0];
        assert_eq!(sl["scope"]["name"], "pool");
        let rec = &sl["logRecords"][0];
        assert_eq!(rec["severityNumber"], 13);
        assert_eq!(rec["severityText"], "WARN");
        assert_eq!(rec["body"]["stringValue"], "waited 512 ms");
        assert_eq!(rec["attributes"][0]["value"]["intValue"], "512");
        assert_eq!(rec["traceId"], "00000000000000000000000000001234");
        assert_eq!(rec["timeUnixNano"], "1700000000002000000");
        let rec2 = &rl[1]["scopeLogs"][0]["logRecords"][0];
        assert!(rec2.get("traceId").is_none());
        assert_eq!(rec2["attributes"][0]["value"]["doubleValue"], 1.5);
    }

    #[test]
    fn metrics_rebuild_histograms_and_sums_per_resource() {
        let v = parse(&metrics(&tel()));
        let rm = v["resourceMetrics"].as_array().unwrap();
        assert_eq!(rm.len(), 2, "{v}");
        // The pod's series get the stored resource's attributes.
        let api = rm.iter().find(|r| r["resource"]["attributes"][0]["value"]["stringValue"] == "api").unwrap();
        assert_eq!(api["resource"]["attributes"].as_array().unwrap().len(), 6);
        let ms = api["scopeMetrics"][0]["metrics"].as_array().unwrap();
        let h = ms.iter().find(|m| m["name"] == "lat_seconds").unwrap();
        assert_eq!(h["unit"], "s");
        assert_eq!(h["histogram"]["aggregationTemporality"], 2);
        let pts = h["histogram"]["dataPoints"].as_array().unwrap();
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0]["bucketCounts"], serde_json::json!(["1", "1", "1"]));
        assert_eq!(pts[1]["bucketCounts"], serde_json::json!(["2", "2", "1"]));
        assert_eq!(pts[1]["count"], "5");
        assert_eq!(pts[1]["sum"], 3.0);
        let bounds: Vec<f64> = pts[1]["explicitBounds"].as_array().unwrap().iter().map(|b| b.as_f64().unwrap()).collect();
        assert_eq!(bounds, vec![0.1, 1.0]);
        assert_eq!(pts[1]["attributes"], serde_json::json!([{"key": "route", "value": {"stringValue": "/x"}}]));
        assert_eq!(pts[1]["exemplars"][0]["traceId"], "00000000000000000000000000001234");
        assert!(pts[0].get("exemplars").is_none());
        assert_eq!(pts[0]["startTimeUnixNano"], "1700000000000000000");
        let c = ms.iter().find(|m| m["name"] == "reqs").unwrap();
        assert_eq!(c["sum"]["isMonotonic"], true);
        let cp = c["sum"]["dataPoints"].as_array().unwrap();
        // The drop from 10 to 4 is a reset: the start moves to the previous scrape.
        assert_eq!(cp[1]["startTimeUnixNano"], "1700000015000000000");
        // A target with no known pod gets attributes from its labels.
        let node = rm.iter().find(|r| r["resource"]["attributes"][0]["value"]["stringValue"] == "node-exporter").unwrap();
        let keys: Vec<&str> = node["resource"]["attributes"].as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
        assert_eq!(keys, vec!["service.name", "service.instance.id", "k8s.node.name"]);
    }

    #[test]
    fn count_only_histograms_get_one_bucket() {
        let mut tel = Telemetry::default();
        tel.series.describe(MetricFamily { name: "h".into(), kind: MetricKind::Histogram, help: "".into(), unit: "".into(), buckets: vec![] });
        for (n, v) in [("h_sum", 2.0), ("h_count", 4.0)] {
            let id = tel.series.get_or_create(Labels::from_pairs([("__name__", n), ("job", "j")]));
            tel.series.append(id, 1000, v);
        }
        let v = parse(&metrics(&tel));
        let p = &v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["histogram"]["dataPoints"][0];
        assert_eq!(p["bucketCounts"], serde_json::json!(["4"]));
        assert_eq!(p["explicitBounds"], serde_json::json!([]));
        assert_eq!(p["count"], "4");
    }

    #[test]
    fn empty_telemetry_is_valid() {
        let t = Telemetry::default();
        assert_eq!(traces(&t), r#"{"resourceSpans":[]}"#);
        assert_eq!(metrics(&t), r#"{"resourceMetrics":[]}"#);
        assert_eq!(logs(&t), r#"{"resourceLogs":[]}"#);
    }
}
