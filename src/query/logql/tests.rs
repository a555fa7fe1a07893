//! Evaluation on small hand-built stores, the Loki JSON shape, limits, and
//! property tests that throw arbitrary and mutated queries at the parser
//! and the evaluator.

use super::*;
use crate::query::diag::{render_error, ErrorKind};
use crate::sim::time::SimTime;
use crate::store::LogStore;
use crate::telemetry::ids::{SpanId, TraceId};
use crate::telemetry::log::{LogFormat, LogRecord, LogTemplate, LogValue, Severity};
use crate::telemetry::resource::{Resource, ResourceId};
use proptest::prelude::*;

const T0: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z

fn res(svc: &str, pod: &str) -> Resource {
    Resource { service_name: svc.into(), service_namespace: "shop".into(), service_version: "1.0".into(), instance_id: pod.into(), pod: pod.into(), node: "node-a".into() }
}

/// Two services; `cart` logs an access line every 10 s (every fourth a
/// 500) and a pool warning at 25 s; `frontend` an access line every 20 s.
pub(crate) fn store() -> Telemetry {
    let mut logs = LogStore::new();
    let access = logs.add_template(LogTemplate {
        logger: "http.access".into(),
        body: "{method} {path} {status} {duration_ms}ms".into(),
        fields: vec!["method".into(), "path".into(), "status".into(), "duration_ms".into()],
    });
    let pool = logs.add_template(LogTemplate { logger: "pool".into(), body: "waited {ms} ms for a connection".into(), fields: vec!["ms".into()] });
    for k in 0..12i64 {
        let status = if k % 4 == 3 { 500 } else { 200 };
        logs.push(LogRecord {
            time: SimTime(k * 10_000_000 + 500),
            severity: if status == 500 { Severity::Error } else { Severity::Info },
            resource: ResourceId(0),
            trace_id: TraceId(k as u128 + 1),
            span_id: SpanId(k as u64 + 100),
            template: access,
            fields: vec![LogValue::Str("GET".into()), LogValue::Str("/cart".into()), LogValue::Int(status), LogValue::Float(10.0 + k as f64)].into(),
        });
        if k % 2 == 0 {
            logs.push(LogRecord {
                time: SimTime(k * 10_000_000 + 700),
                severity: Severity::Info,
                resource: ResourceId(1),
                trace_id: TraceId(0),
                span_id: SpanId(0),
                template: access,
                fields: vec![LogValue::Str("POST".into()), LogValue::Str("/checkout".into()), LogValue::Int(201), LogValue::Float(5.5)].into(),
            });
        }
    }
    logs.push(LogRecord { time: SimTime(25_000_000), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0), span_id: SpanId(0), template: pool, fields: vec![LogValue::Int(512)].into() });
    logs.finish();
    Telemetry { start_unix_ms: T0, resources: vec![res("cart", "cart-0"), res("frontend", "frontend-0")], logs, ..Default::default() }
}

fn run(q: &str, step_ms: i64) -> LogqlResult {
    let tel = store();
    match query_range(&tel, q, T0, T0 + 120_000, step_ms, 100) {
        Ok(r) => r,
        Err(e) => panic!("{}", render_error(q, &e)),
    }
}

fn streams(r: &LogqlResult) -> &[Stream] {
    match &r.value {
        Value::Streams(s) => s,
        _ => panic!("not streams"),
    }
}

fn matrix(r: &LogqlResult) -> &[Series] {
    match &r.value {
        Value::Matrix(m) => m,
        _ => panic!("not a matrix"),
    }
}

fn lines(r: &LogqlResult) -> Vec<String> {
    let mut all: Vec<&Entry> = streams(r).iter().flat_map(|s| s.entries.iter()).collect();
    all.sort_by(|a, b| b.ts_ns.cmp(&a.ts_ns));
    all.into_iter().map(|e| e.line.clone()).collect()
}

#[test]
fn selects_streams_newest_first() {
    let r = run(r#"{service="cart"}"#, 0);
    let s = streams(&r);
    // info access, error access, warn pool: three streams.
    assert_eq!(s.len(), 3);
    let l = lines(&r);
    assert_eq!(l.len(), 13);
    assert!(l[0].starts_with(r#"{"ts":"2026-03-02T09:01:50.000Z","level":"error","logger":"http.access","msg":"GET /cart 500 21ms""#), "{}", l[0]);
    for st in s {
        assert!(st.entries.windows(2).all(|w| w[0].ts_ns > w[1].ts_ns));
        assert_eq!(st.labels.get("service"), Some("cart"));
    }
    let r = run(r#"{service=~"cart|frontend", level!="info"}"#, 0);
    assert_eq!(lines(&r).len(), 4);
}

#[test]
fn line_filters_match_the_rendered_line() {
    assert_eq!(lines(&run(r#"{service=~".+"} |= "POST""#, 0)).len(), 6);
    assert_eq!(lines(&run(r#"{service=~".+"} != "POST""#, 0)).len(), 13);
    assert_eq!(lines(&run(r#"{service=~".+"} |= "\"status\":500""#, 0)).len(), 3);
    assert_eq!(lines(&run(r#"{service=~".+"} |~ "waited \\d+ ms""#, 0)).len(), 1);
    assert_eq!(lines(&run(r#"{service=~".+"} |= "GET" or "POST" != "500""#, 0)).len(), 15);
    assert_eq!(lines(&run(r#"{service=~".+"} |= "0000000000000065""#, 0)).len(), 1);
    assert_eq!(lines(&run(r#"{service=~".+"} |= """#, 0)).len(), 19);
    assert_eq!(lines(&run(r#"{service=~".+"} |= "09:00:25""#, 0)).len(), 1);
    assert_eq!(lines(&run(r#"{service=~".+"} |~ "POST|waited""#, 0)).len(), 7);
    assert_eq!(lines(&run(r#"{service=~".+"} !~ "POST""#, 0)).len(), 13);
}

#[test]
fn json_extracts_labels_and_filters() {
    let r = run(r#"{service="cart"} | json | status >= 500"#, 0);
    let s = streams(&r);
    assert_eq!(s.iter().map(|s| s.entries.len()).sum::<usize>(), 3);
    let l = &s[0].labels;
    assert_eq!(l.get("status"), Some("500"));
    assert_eq!(l.get("level"), Some("error"));
    assert_eq!(l.get("level_extracted"), Some("error"));
    assert_eq!(l.get("pod_extracted"), Some("cart-0"));
    assert_eq!(l.get("method"), Some("GET"));
    let r = run(r#"{service="cart"} | json | duration_ms >= 20 and method="GET""#, 0);
    assert_eq!(lines(&r).len(), 2);
    let r = run(r#"{service="cart"} | json d="duration_ms" | d < 11"#, 0);
    assert_eq!(lines(&r).len(), 1);
    assert_eq!(streams(&r)[0].labels.get("method"), None);
}

#[test]
fn parser_errors_become_error_labels() {
    let r = run(r#"{service="frontend"} | logfmt"#, 0);
    assert!(streams(&r).iter().all(|s| s.labels.get("__error__") == Some("LogfmtParserErr")));
    let r = run(r#"{service="frontend"} | logfmt | __error__ = """#, 0);
    assert!(lines(&r).is_empty());
    let r = run(r#"{service="frontend"} | logfmt | drop __error__"#, 0);
    assert_eq!(lines(&r).len(), 6);
    assert!(streams(&r).iter().all(|s| s.labels.get("__error__").is_none()));
    // Plain lines parse as logfmt.
    let tel = store();
    let opts = Options { format: crate::telemetry::log::LogFormat::Plain, ..Default::default() };
    let e = parse(r#"{service="cart"} |= "trace_id" | logfmt | line_format "{{.span_id}}""#).unwrap();
    let r = query_range_with(&tel, &e, T0, T0 + 120_000, 0, 3, &opts).unwrap();
    assert_eq!(lines(&r), vec!["000000000000006f", "000000000000006e", "000000000000006d"]);
}

#[test]
fn line_format_rewrites_lines() {
    let r = run(r#"{service="frontend"} | json | line_format "{{.method}} {{ .path }} took {{.duration_ms}}ms{{.missing}}""#, 0);
    assert!(lines(&r).iter().all(|l| l == "POST /checkout took 5.5ms"));
    let r = run(r#"{service="frontend"} | json | line_format "{{.status}}" |= "201""#, 0);
    assert_eq!(lines(&r).len(), 6);
}

#[test]
fn metric_queries_count_and_aggregate() {
    let r = run(r#"count_over_time({service="cart"}[30s])"#, 30_000);
    let m = matrix(&r);
    assert_eq!(m.len(), 3);
    let total: f64 = run(r#"sum(count_over_time({service=~".+"}[30s]))"#, 30_000).value_points().iter().map(|p| p.1).sum();
    // Windows (t-30s, t] at 0, 30, ..., 120 s cover every record once.
    assert_eq!(total, 19.0);
    let r = run(r#"sum by (level) (count_over_time({service=~".+"} | json [30s]))"#, 30_000);
    let m = matrix(&r);
    assert_eq!(m.iter().map(|s| s.labels.get("level").unwrap().to_string()).collect::<Vec<_>>(), vec!["error", "info", "warn"]);
    let r = run(r#"rate({service="frontend"}[1m])"#, 60_000);
    assert_eq!(matrix(&r)[0].points, vec![(T0 + 60_000, 0.05), (T0 + 120_000, 0.05)]);
    let r = run(r#"topk(1, sum by (service) (count_over_time({service=~".+"}[1m])))"#, 60_000);
    assert_eq!(matrix(&r).len(), 1);
    assert_eq!(matrix(&r)[0].labels.get("service"), Some("cart"));
    let r = run(r#"sum(count_over_time({service="cart"} |= "500" [2m])) / sum(count_over_time({service="cart"}[2m])) * 100"#, 120_000);
    let p = &matrix(&r)[0].points;
    assert!((p[0].1 - 300.0 / 13.0).abs() < 1e-9, "{p:?}");
}

#[test]
fn bytes_and_unwrap() {
    let tel = store();
    let all = query_range(&tel, r#"{service="frontend"}"#, T0, T0 + 120_000, 0, 100).unwrap();
    let bytes: usize = lines(&all).iter().map(|l| l.len()).sum();
    let r = run(r#"sum(bytes_over_time({service="frontend"}[5m]))"#, 120_000);
    assert_eq!(matrix(&r)[0].points.last().unwrap().1, bytes as f64);
    let r = run(r#"quantile_over_time(0.5, {service="cart"} | json | unwrap duration_ms | __error__="" [5m]) by (service)"#, 120_000);
    let m = matrix(&r);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].labels.get("service"), Some("cart"));
    assert_eq!(m[0].points.last().unwrap().1, 15.5);
    let r = run(r#"max_over_time({service="cart"} |= "GET" | json | unwrap duration_ms [5m]) by (level)"#, 120_000);
    assert_eq!(matrix(&r).iter().map(|s| s.points.last().unwrap().1).collect::<Vec<_>>(), vec![21.0, 20.0]);
    let r = run(r#"sum_over_time({service="cart"} | json | unwrap duration(took) | __error__="" [5m])"#, 120_000);
    assert!(matrix(&r).is_empty());
}

#[test]
fn metric_errors_explain_pipeline_errors() {
    let tel = store();
    let e = query_range(&tel, r#"sum_over_time({service="cart"} | json | unwrap duration_ms [5m])"#, T0, T0 + 60_000, 0, 100).unwrap_err();
    assert!(e.message.starts_with("pipeline error: 'SampleExtractionErr'"), "{}", e.message);
    let e = query_range(&tel, r#"count_over_time({service="cart"} | logfmt [5m])"#, T0, T0 + 60_000, 0, 100).unwrap_err();
    assert!(e.message.contains("LogfmtParserErr") && e.message.contains("__error__=\"\""), "{}", e.message);
}

#[test]
fn limits_are_typed_errors() {
    let tel = store();
    let e = query_range(&tel, r#"{service="cart"}"#, T0, T0 + 60_000, 0, 5001).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    let e = query_range(&tel, r#"count_over_time({service="cart"}[1m])"#, T0, T0 + 86_400_000, 1000, 10).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    assert!(e.message.contains("11000"), "{}", e.message);
    let opts = Options { limits: Limits { max_series: 1, ..Default::default() }, ..Default::default() };
    let e = query_range_with(&tel, &parse(r#"count_over_time({service=~".+"}[1m])"#).unwrap(), T0, T0 + 60_000, 0, 10, &opts).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    let opts = Options { limits: Limits { max_inner_series: 3, ..Default::default() }, ..Default::default() };
    let e = query_range_with(&tel, &parse(r#"max(count_over_time({service=~".+"} | json [1m]))"#).unwrap(), T0, T0 + 60_000, 0, 10, &opts).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit);
    // sum over an additive function does not hold per-line series.
    query_range_with(&tel, &parse(r#"sum(count_over_time({service=~".+"} | json [1m]))"#).unwrap(), T0, T0 + 60_000, 0, 10, &opts).unwrap();
}

#[test]
fn renders_loki_json() {
    let r = run(r#"{service="frontend"} |= "09:00:00""#, 0);
    let j = to_loki_json(&r);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "streams");
    let s = &v["data"]["result"][0];
    assert_eq!(s["stream"]["service"], "frontend");
    assert_eq!(s["values"][0][0], "1772442000000700000");
    assert!(s["values"][0][1].as_str().unwrap().starts_with("{\"ts\""));
    assert_eq!(v["data"]["stats"]["summary"]["totalEntriesReturned"], 1);
    let r = run(r#"sum(count_over_time({service="frontend"}[1m]))"#, 60_000);
    let j = to_loki_json(&r);
    assert_eq!(j, r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1772442060,"3"],[1772442120,"3"]]}],"stats":{"summary":{"totalLinesProcessed":6,"totalEntriesReturned":0}}}}"#);
    assert_eq!(error_json("x \"y\""), r#"{"status":"error","errorType":"bad_data","error":"x \"y\""}"#);
}

impl LogqlResult {
    fn value_points(&self) -> Vec<(i64, f64)> {
        match &self.value {
            Value::Matrix(m) => m.iter().flat_map(|s| s.points.iter().copied()).collect(),
            _ => Vec::new(),
        }
    }
}

// ------------------------------------------------------------ properties

const SEEDS: &[&str] = &[
    r#"{service="cart"}"#,
    r#"{service=~"c.*", level!="info"} |= "GET" != "x" |~ "a+" | json | status >= 500 and d > 250ms or p="x""#,
    r#"sum by (level) (count_over_time({service=~".+"} | json [1m]))"#,
    r#"quantile_over_time(0.99, {service="cart"} | json | unwrap duration_ms | __error__="" [5m]) by (service)"#,
    r#"topk(2, sum(rate({service="cart"}[30s])) by (pod)) / 2"#,
    r#"{service="frontend"} | logfmt | line_format "{{.a}} {{__line__}}" | label_format x=y, z="{{.q}}" | drop a | keep z"#,
    r#"bytes_rate({a="b"}[1m] offset 1m) > bool 3 or avg_over_time({a="b"} | unwrap bytes(x) [10s])"#,
];

fn mutate(s: &str, ops: &[(usize, u8, u8)]) -> String {
    let mut b: Vec<u8> = s.as_bytes().to_vec();
    const ALPHA: &[u8] = b"{}()[]|=~!<>\"`,.+-*/%^ 0123456789abcdefjsonrateby_msh\\";
    for &(pos, kind, ch) in ops {
        if b.is_empty() {
            b.push(ALPHA[ch as usize % ALPHA.len()]);
            continue;
        }
        let p = pos % b.len();
        match kind % 3 {
            0 => {
                b.remove(p);
            }
            1 => b.insert(p, ALPHA[ch as usize % ALPHA.len()]),
            _ => b[p] = ALPHA[ch as usize % ALPHA.len()],
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn check_no_panic(q: &str, tel: &Telemetry) {
    match parse(q) {
        Ok(e) => {
            let opts = Options { limits: Limits { max_lines_scanned: 10_000, ..Default::default() }, ..Default::default() };
            let _ = query_range_with(tel, &e, T0, T0 + 120_000, 10_000, 50, &opts);
        }
        Err(err) => {
            assert!(err.span.start <= q.len() && err.span.end <= q.len(), "{q:?}: span {:?}", err.span);
            assert!(!err.message.is_empty());
            let _ = render_error(q, &err);
        }
    }
}

#[test]
fn scanning_too_many_lines_is_a_limit_error() {
    let tel = store();
    let opts = Options { limits: Limits { max_lines_scanned: 5, ..Default::default() }, ..Default::default() };
    for q in [r#"{service=~".+"} |= "zzz""#, r#"sum(count_over_time({service=~".+"} |= "zzz" [2m]))"#] {
        let e = query_range_with(&tel, &parse(q).unwrap(), T0, T0 + 120_000, 120_000, 100, &opts).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Limit, "{q}");
        assert!(e.message.contains("more than 5 log lines (max_lines_scanned)"), "{}", e.message);
    }
    // Lines the stream selector rules out are not scanned (frontend has 6).
    let opts = Options { limits: Limits { max_lines_scanned: 7, ..Default::default() }, ..Default::default() };
    let q = r#"{service="frontend"} |= "zzz""#;
    let r = query_range_with(&tel, &parse(q).unwrap(), T0, T0 + 120_000, 0, 100, &opts).unwrap();
    assert_eq!(r.stats.lines_scanned, 6);
}

/// How many lines pass every `(keep, needle)` test, by rendering each.
fn naive_filter_count(tel: &Telemetry, filters: &[(bool, String)], format: LogFormat) -> usize {
    tel.logs
        .records()
        .iter()
        .filter(|r| {
            let line = tel.logs.format_line(r, tel.resource(r.resource), &crate::scenario::model::format_rfc3339_ms(tel.unix_ms(r.time)), format);
            filters.iter().all(|(keep, n)| line.contains(n.as_str()) == *keep)
        })
        .count()
}

fn needle_from(tel: &Telemetry, pick: usize, at: usize, len: usize, format: LogFormat) -> String {
    let recs = tel.logs.records();
    let r = &recs[pick % recs.len()];
    let line: Vec<char> = tel.logs.format_line(r, tel.resource(r.resource), &crate::scenario::model::format_rfc3339_ms(tel.unix_ms(r.time)), format).chars().collect();
    let a = at % line.len();
    line[a..(a + len).min(line.len())].iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Chained `|=` and `!=` filters keep exactly the lines whose rendered
    /// text passes each test, in both line formats, for needles cut from
    /// real lines (straddling fields and constant text) or made of digits,
    /// hex, `-`, `:` and `.`.
    #[test]
    fn chained_substring_filters_agree_with_rendered_lines(
        plain in any::<bool>(),
        picks in prop::collection::vec((any::<bool>(), 0usize..40, 0usize..300, 1usize..12, prop::option::of("[-0-9a-f:.]{1,4}")), 1..4),
    ) {
        let tel = store();
        let format = if plain { LogFormat::Plain } else { LogFormat::Json };
        let filters: Vec<(bool, String)> = picks
            .iter()
            .map(|(keep, pick, at, len, free)| (*keep, free.clone().unwrap_or_else(|| needle_from(&tel, *pick, *at, *len, format))))
            .filter(|(_, n)| !n.contains('`'))
            .collect();
        let mut q = String::from(r#"sum(count_over_time({service=~".+"}"#);
        for (keep, n) in &filters {
            q.push_str(if *keep { " |= `" } else { " != `" });
            q.push_str(n);
            q.push('`');
        }
        q.push_str(" [5m]))");
        let opts = Options { format, ..Default::default() };
        let r = query_range_with(&tel, &parse(&q).unwrap(), T0 + 120_000, T0 + 120_000, 60_000, 100, &opts).unwrap();
        let got: f64 = matrix(&r).iter().flat_map(|s| s.points.iter().map(|p| p.1)).sum();
        prop_assert_eq!(got as usize, naive_filter_count(&tel, &filters, format), "{}", q);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(q in "\\PC{0,60}") {
        check_no_panic(&q, &store());
    }

    #[test]
    fn mutated_queries_never_panic(seed in 0usize..SEEDS.len(), ops in proptest::collection::vec((0usize..200, 0u8..3, 0u8..255), 1..6)) {
        let q = mutate(SEEDS[seed], &ops);
        check_no_panic(&q, &store());
    }
}

/// A store of random records over templates whose placeholders touch each
/// other and constant text, with values drawn from a small pool (so string
/// values repeat, as interned ones, and are met in different states).
fn random_store(recs: &[(u8, u8, [u8; 4], u128, bool)]) -> Telemetry {
    const POOL: &[&str] = &["GET", "get", "/a\"b", "é500", "500", "5", "00", "-1", "a\\n", "Zürich 💥", "", "{x}", "fce", "\n"];
    let mut logs = LogStore::new();
    for (body, fields) in [("{m} {p} {s} {d}ms", ["m", "p", "s", "d"]), ("{m}{p}{s}-{d}", ["m", "p", "s", "d"]), ("waited {s} ms \"{m}\" {nope}", ["s", "m", "p", "d"])] {
        logs.add_template(LogTemplate { logger: "l".into(), body: body.into(), fields: fields.iter().map(|&f| f.into()).collect() });
    }
    for (k, &(tpl, sev, vals, tid, short)) in recs.iter().enumerate() {
        let fields: Vec<LogValue> = vals
            .iter()
            .take(if short { 2 } else { 4 })
            .map(|&v| match v % 4 {
                0 => LogValue::Int(v as i64 * 37 - 500),
                1 => LogValue::Float(v as f64 * 0.125 - 5.0),
                // A fresh Arc each time: interning makes them one.
                _ => LogValue::Str(POOL[v as usize % POOL.len()].into()),
            })
            .collect();
        logs.push(LogRecord {
            time: SimTime(k as i64 * 1_234_567),
            severity: [Severity::Info, Severity::Warn, Severity::Error][sev as usize % 3],
            resource: ResourceId(0),
            trace_id: TraceId(tid),
            span_id: SpanId(tid as u64 ^ 0x5005),
            template: crate::telemetry::log::TemplateId(tpl as u16 % 3),
            fields: fields.into(),
        });
    }
    logs.finish();
    Telemetry { start_unix_ms: T0, resources: vec![res("cart", "cart-0")], logs, ..Default::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The fast substring scan (per-query caches of string and number
    /// outcomes, folded constant text) counts exactly the lines whose
    /// rendered text contains the needle, for needles cut from lines
    /// (spanning constant text and values), their upper- and lowercase
    /// forms, unicode, the empty needle, and digit or hex runs.
    #[test]
    fn fast_substring_scan_agrees_with_rendering(
        plain in any::<bool>(),
        recs in prop::collection::vec((any::<u8>(), any::<u8>(), any::<[u8; 4]>(), prop_oneof![Just(0u128), any::<u128>(), 0u128..0x10000], any::<bool>()), 1..40),
        cuts in prop::collection::vec((0usize..40, 0usize..300, 0usize..12, 0u8..3), 1..4),
        free in prop::collection::vec("[-0-9a-fé5\"\\\\ {}Zü]{0,4}", 1..3),
    ) {
        let tel = random_store(&recs);
        let format = if plain { LogFormat::Plain } else { LogFormat::Json };
        let mut needles: Vec<String> = free;
        for (pick, at, len, case) in cuts {
            let cut = needle_from(&tel, pick, at, len, format);
            needles.push(match case {
                0 => cut,
                1 => cut.to_uppercase(),
                _ => cut.to_lowercase(),
            });
        }
        for n in needles.iter().filter(|n| !n.contains('`')) {
            let (s, e) = (T0, T0 + recs.len() as i64 * 1_300 + 1_000);
            let opts = Options { format, ..Default::default() };
            let q = format!("sum(count_over_time({{service=~\".+\"}} |= `{n}` [1h]))");
            let r = query_range_with(&tel, &parse(&q).unwrap(), e, e, 60_000, 100, &opts).unwrap();
            let got: f64 = matrix(&r).iter().flat_map(|s| s.points.iter().map(|p| p.1)).sum();
            let want = naive_filter_count(&tel, &[(true, n.clone())], format);
            prop_assert_eq!(got as usize, want, "{:?}", n);
            // The log query keeps the same lines, rendered as the store renders them.
            let r = query_range_with(&tel, &parse(&format!("{{service=~\".+\"}} != `{n}`")).unwrap(), s, e, 0, 1000, &opts).unwrap();
            prop_assert_eq!(lines(&r).len(), recs.len() - want, "{:?}", n);
            prop_assert!(lines(&r).iter().all(|l| !l.contains(n.as_str())));
        }
    }
}
