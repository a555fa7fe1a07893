//! Evaluation on a small hand-built trace store, Tempo's JSON shape, and
//! property tests over arbitrary and mutated queries.

use super::*;
use crate::query::diag::render_error;
use crate::sim::time::SimTime;
use crate::store::{KeepReason, TraceStore};
use crate::telemetry::resource::{Resource, ResourceId};
use crate::telemetry::semconv as sc;
use crate::telemetry::span::{AttrValue, ErrorType, OpId, Operation, SpanKind, SpanRecord, StatusCode};
use proptest::prelude::*;

fn res(svc: &str) -> Resource {
    Resource { service_name: svc.into(), service_namespace: "shop".into(), service_version: "1".into(), instance_id: format!("{svc}-0").into(), pod: format!("{svc}-0").into(), node: "n".into() }
}

#[allow(clippy::too_many_arguments)]
fn span(trace: u128, id: u64, parent: u64, start_ms: i64, dur_ms: i64, op: u32, res: u32, status: StatusCode, http: u16) -> SpanRecord {
    SpanRecord {
        trace_id: TraceId(trace),
        span_id: SpanId(id),
        parent: SpanId(parent),
        start: SimTime(start_ms * 1000),
        end: SimTime((start_ms + dur_ms) * 1000),
        op: OpId(op),
        resource: ResourceId(res),
        status,
        error: if status == StatusCode::Error { ErrorType::DbTimeout } else { ErrorType::None },
        http_status: http,
        resend: 0,
        cache: 0,
        product: 0,
        category: 0,
        user: 0,
        cause: 0,
    }
}

/// Trace 1 (t=1s): frontend → cart → postgres (error), 250 ms.
/// Trace 2 (t=2s): a lone 10 ms frontend request.
/// Trace 3 (t=3s): frontend with six client calls to cart.
pub(crate) fn store() -> Telemetry {
    let mut ts = TraceStore::new();
    let http = |route: &str| vec![(sc::HTTP_REQUEST_METHOD, AttrValue::Str("GET".into())), (sc::HTTP_ROUTE, AttrValue::Str(route.into()))];
    let fe_server = ts.add_operation(Operation { name: "GET /cart".into(), kind: SpanKind::Server, attributes: http("/cart") });
    let fe_client = ts.add_operation(Operation { name: "GET /cart".into(), kind: SpanKind::Client, attributes: vec![] });
    let cart_server = ts.add_operation(Operation { name: "GET /cart".into(), kind: SpanKind::Server, attributes: http("/cart") });
    let db = ts.add_operation(Operation { name: "SELECT cart".into(), kind: SpanKind::Client, attributes: vec![(sc::DB_SYSTEM, AttrValue::Str("postgresql".into()))] });
    let ok = StatusCode::Unset;
    ts.insert_trace(
        &[
            span(1, 10, 0, 1000, 250, fe_server.0, 0, ok, 200),
            span(1, 11, 10, 1010, 230, fe_client.0, 0, ok, 500),
            span(1, 12, 11, 1020, 220, cart_server.0, 1, StatusCode::Error, 500),
            span(1, 13, 12, 1030, 200, db.0, 1, StatusCode::Error, 0),
        ],
        KeepReason::Error,
    );
    ts.insert_trace(&[span(2, 20, 0, 2000, 10, fe_server.0, 0, ok, 200)], KeepReason::Sampled);
    let mut t3 = vec![span(3, 30, 0, 3000, 100, fe_server.0, 0, ok, 200)];
    for k in 0..6 {
        t3.push(span(3, 31 + k, 30, 3001 + k as i64 * 10, 5, fe_client.0, 0, ok, 200));
    }
    ts.insert_trace(&t3, KeepReason::Slow);
    Telemetry { start_unix_ms: 1_772_442_000_000, resources: vec![res("frontend"), res("cart")], traces: ts, ..Default::default() }
}

fn ids(q: &str) -> Vec<u128> {
    let tel = store();
    match search(&tel, q, 20) {
        Ok(r) => r.traces.iter().map(|t| t.trace_id.0).collect(),
        Err(e) => panic!("{}", render_error(q, &e)),
    }
}

#[test]
fn filters_on_intrinsics_and_attributes() {
    assert_eq!(ids("{ status = error }"), vec![1]);
    assert_eq!(ids("{ }"), vec![3, 2, 1]);
    assert_eq!(ids("{ duration > 200ms }"), vec![1]);
    assert_eq!(ids("{ kind = client && duration < 6ms }"), vec![3]);
    assert_eq!(ids(r#"{ resource.service.name = "cart" }"#), vec![1]);
    assert_eq!(ids(r#"{ span.http.response.status_code >= 500 }"#), vec![1]);
    assert_eq!(ids(r#"{ .http.route =~ "/ca.*" && resource.service.name != "frontend" }"#), vec![1]);
    assert_eq!(ids(r#"{ .http.route =~ "ca" }"#), Vec::<u128>::new());
    assert_eq!(ids(r#"{ name = "SELECT cart" || traceDuration < 20ms }"#), vec![2, 1]);
    assert_eq!(ids(r#"{ rootServiceName = "frontend" && rootName = "GET /cart" && kind = server }"#), vec![3, 2, 1]);
    assert_eq!(ids("{ span.db.system.name != nil }"), vec![1]);
    assert_eq!(ids("{ span.nope != \"x\" }"), Vec::<u128>::new());
    assert_eq!(ids("{ !(status = error) && statusMessage != \"\" }"), Vec::<u128>::new());
    assert_eq!(ids("{ statusMessage =~ \".*timeout.*\" }"), vec![1]);
}

#[test]
fn structural_operators() {
    assert_eq!(ids(r#"{ resource.service.name = "frontend" } >> { span.db.system.name = "postgresql" }"#), vec![1]);
    assert_eq!(ids(r#"{ resource.service.name = "frontend" } > { span.db.system.name = "postgresql" }"#), Vec::<u128>::new());
    assert_eq!(ids(r#"{ kind = server } > { kind = client }"#), vec![3, 1]);
    assert_eq!(ids(r#"{ span.db.system.name = "postgresql" } << { kind = server && resource.service.name = "frontend" }"#), vec![1]);
    assert_eq!(ids(r#"{ kind = client } < { kind = server }"#), vec![3, 1]);
    assert_eq!(ids(r#"{ kind = client } ~ { kind = client }"#), vec![3]);
    assert_eq!(ids(r#"{ status = error } && { duration < 6ms }"#), Vec::<u128>::new());
    assert_eq!(ids(r#"{ status = error } || { duration < 6ms }"#), vec![3, 1]);
    let tel = store();
    let r = search(&tel, r#"{ resource.service.name = "frontend" } >> { span.db.system.name = "postgresql" }"#, 20).unwrap();
    assert_eq!(r.traces[0].matched, 1);
    assert_eq!(r.traces[0].spans[0].name, "SELECT cart");
}

#[test]
fn pipelines_aggregate_spansets() {
    assert_eq!(ids("{ } | count() > 5"), vec![3]);
    assert_eq!(ids("{ kind = client } | count() = 6"), vec![3]);
    assert_eq!(ids("{ kind = server } | avg(duration) > 200ms"), vec![1]);
    assert_eq!(ids("{ } | max(duration) >= 250ms"), vec![1]);
    assert_eq!(ids("{ } | min(duration) < 6ms"), vec![3]);
    assert_eq!(ids("{ kind = client } | sum(duration) = 30ms"), vec![3]);
    assert_eq!(ids("{ } | max(span.http.response.status_code) >= 500 | { status = error }"), vec![1]);
    assert_eq!(ids("({ kind = client } | count() > 2) && { kind = server }"), vec![3]);
}

#[test]
fn renders_tempo_json() {
    let tel = store();
    let q = parse(r#"{ status = error && resource.service.name = "cart" } | select(span.http.route)"#).unwrap();
    let r = search_with(&tel, &q, &SearchOptions::default()).unwrap();
    assert_eq!(r.inspected_traces, 3);
    assert_eq!(r.inspected_spans, 12);
    let j = to_tempo_json(&r);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    let t = &v["traces"][0];
    assert_eq!(t["traceID"], "1");
    assert_eq!(t["rootServiceName"], "frontend");
    assert_eq!(t["rootTraceName"], "GET /cart");
    assert_eq!(t["startTimeUnixNano"], "1772442001000000000");
    assert_eq!(t["durationMs"], 250);
    let ss = &t["spanSets"][0];
    assert_eq!(ss["matched"], 2);
    let s0 = &ss["spans"][0];
    assert_eq!(s0["spanID"], "000000000000000c");
    assert_eq!(s0["durationNanos"], "220000000");
    assert_eq!(s0["attributes"][0]["key"], "status");
    assert_eq!(s0["attributes"][0]["value"]["stringValue"], "error");
    assert_eq!(s0["attributes"][1]["key"], "service.name");
    assert_eq!(s0["attributes"][2]["key"], "http.route");
    assert_eq!(ss["spans"][1]["attributes"].as_array().unwrap().len(), 2);
    assert_eq!(v["metrics"]["inspectedTraces"], 3);
    let r = search(&tel, "{ }", 2).unwrap();
    assert_eq!(r.traces.len(), 2);
    assert_eq!(r.traces[1].spans.len(), 1);
    let r = search(&tel, "{ kind = client }", 20).unwrap();
    assert_eq!((r.traces[0].matched, r.traces[0].spans.len()), (6, 3));
    assert!(search(&tel, "{ }", MAX_LIMIT + 1).unwrap_err().kind == crate::query::ErrorKind::Limit);
}

#[test]
fn cycles_in_parent_links_do_not_hang() {
    let mut tel = store();
    let mut ts = TraceStore::new();
    ts.add_operation(Operation { name: "x".into(), kind: SpanKind::Internal, attributes: vec![] });
    ts.insert_trace(&[span(9, 1, 2, 0, 1, 0, 0, StatusCode::Unset, 0), span(9, 2, 1, 0, 1, 0, 0, StatusCode::Unset, 0)], KeepReason::Sampled);
    tel.traces = ts;
    let r = search(&tel, "{ name = \"y\" } >> { } && { } << { name = \"y\" }", 20).unwrap();
    assert!(r.traces.is_empty());
}

// ------------------------------------------------------------ properties

const SEEDS: &[&str] = &[
    "{ status = error }",
    r#"{ resource.service.name = "frontend" && duration > 250ms } >> { span.db.system.name = "postgresql" }"#,
    r#"{ .http.route =~ "/c.*" || !(kind = client) } | count() > 3 | avg(duration) > 2ms"#,
    r#"({ span.a + 2 * -3 >= 1.5 } ~ { name != nil }) && { } | select(span.x, resource.y)"#,
    r#"{ rootName = "a" } < { traceDuration <= 1h } << { statusMessage !~ "x" }"#,
];

fn mutate(s: &str, ops: &[(usize, u8, u8)]) -> String {
    let mut b: Vec<u8> = s.as_bytes().to_vec();
    const ALPHA: &[u8] = b"{}()|&=~!<>\". +-*/%^ 0123456789 abcdestuvmnrkl_:ms\\";
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
        Ok(s) => {
            let _ = search_with(tel, &s, &SearchOptions::default());
        }
        Err(e) => {
            assert!(e.span.start <= q.len() && e.span.end <= q.len(), "{q:?}: {:?}", e.span);
            let _ = render_error(q, &e);
        }
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
