//! TraceQL on a real 10-minute run of intermittent-p99, and parse/search
//! timings (`cargo test --test traceql -- --ignored --nocapture`).

use obslab::query::traceql::{self, SearchOptions};
use obslab::sim::time::SimDuration;
use obslab::store::Telemetry;
use obslab::telemetry::span::StatusCode;
use std::sync::OnceLock;
use std::time::Instant;

fn tel() -> &'static Telemetry {
    static T: OnceLock<Telemetry> = OnceLock::new();
    T.get_or_init(|| {
        let model = obslab::scenario::load_builtin("intermittent-p99").unwrap();
        obslab::sim::run(&model, 7, Some(SimDuration::from_secs(600))).telemetry
    })
}

fn search(q: &str, limit: usize) -> traceql::SearchResult {
    match traceql::search(tel(), q, limit) {
        Ok(r) => r,
        Err(e) => panic!("{}", obslab::query::render_error(q, &e)),
    }
}

#[test]
fn status_error_returns_only_traces_with_an_error_span() {
    let t = tel();
    let r = search("{ status = error }", 5000);
    assert!(!r.traces.is_empty());
    let want = t.traces.traces().iter().filter(|x| t.traces.is_error(x)).count();
    assert_eq!(r.traces.len(), want.min(5000));
    for m in &r.traces {
        let s = t.traces.trace(m.trace_id).unwrap();
        assert!(t.traces.is_error(s));
        assert!(m.spans.iter().all(|sp| t.traces.trace_spans(s).iter().any(|x| x.span_id == sp.span_id && x.status == StatusCode::Error)));
    }
    assert!(r.traces.windows(2).all(|w| w[0].start_unix_nano >= w[1].start_unix_nano));
    assert_eq!(r.inspected_traces as usize, t.traces.traces().len());
}

#[test]
fn frontend_with_a_postgres_descendant() {
    let t = tel();
    let r = search(r#"{ resource.service.name = "frontend" } >> { span.db.system.name = "postgresql" }"#, 20);
    assert!(!r.traces.is_empty(), "no frontend → postgres traces");
    for m in &r.traces {
        let s = t.traces.trace(m.trace_id).unwrap();
        let spans = t.traces.trace_spans(s);
        for sp in &m.spans {
            let rec = spans.iter().find(|x| x.span_id == sp.span_id).unwrap();
            let full = t.traces.materialize(rec);
            assert!(full.attributes.iter().any(|(k, v)| *k == "db.system.name" && v.to_string() == "postgresql"));
            // Walk up: some ancestor belongs to frontend.
            let mut cur = rec.parent;
            let mut seen = false;
            while let Some(p) = spans.iter().find(|x| x.span_id == cur) {
                seen |= &*t.resource(p.resource).service_name == "frontend";
                cur = p.parent;
            }
            assert!(seen);
        }
    }
}

#[test]
fn count_and_duration_pipelines() {
    let t = tel();
    let r = search("{ } | count() > 5", 5000);
    assert!(!r.traces.is_empty());
    for m in &r.traces {
        assert!(m.matched > 5);
        assert_eq!(t.traces.trace(m.trace_id).unwrap().len as usize, m.matched);
    }
    let r = search(r#"{ kind = server && resource.service.name = "frontend" } | avg(duration) > 200ms"#, 20);
    for m in &r.traces {
        assert!(m.spans.iter().all(|s| s.duration_nanos > 0));
    }
    let json = traceql::to_tempo_json(&search(r#"{ span.http.response.status_code >= 500 } | select(span.http.route)"#, 3));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["traces"].as_array().unwrap().len() <= 3);
    assert!(v["metrics"]["inspectedTraces"].as_u64().unwrap() > 0);
}

#[test]
fn traces_cli_exit_codes() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(traceql::traces_main(&args(&["intermittent-p99"])), 2);
    assert_eq!(traceql::traces_main(&args(&["intermittent-p99", "--traceql", "{ status = 200 }"])), 1);
    assert_eq!(traceql::traces_main(&args(&["intermittent-p99", "--traceql", "{ status = error }", "--duration", "1m", "--limit", "2"])), 0);
    assert_eq!(traceql::traces_main(&args(&["intermittent-p99", "--traceql", "{ }", "--limit", "0"])), 2);
}

#[test]
#[ignore = "timing report; run with -- --ignored --nocapture"]
fn measure_parse_and_search() {
    let queries = [
        "{ status = error }",
        r#"{ resource.service.name = "frontend" } >> { span.db.system.name = "postgresql" }"#,
        r#"{ kind = server && .http.route =~ "/product.*" } | avg(duration) > 200ms"#,
        "{ } | count() > 5",
    ];
    for q in queries {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..2000 {
                std::hint::black_box(traceql::parse(std::hint::black_box(q)).unwrap());
            }
            best = best.min(t.elapsed().as_secs_f64() * 1e6 / 2000.0);
        }
        let parsed = traceql::parse(q).unwrap();
        let t = Instant::now();
        let r = traceql::search_with(tel(), &parsed, &SearchOptions::default()).unwrap();
        eprintln!("parse {best:>6.2} µs, search {:>7.1} ms over {} spans  {q}", t.elapsed().as_secs_f64() * 1e3, r.inspected_spans);
    }
}
