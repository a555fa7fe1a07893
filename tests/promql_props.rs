//! Property tests for the PromQL front end and evaluator: no input — random
//! text or a mutated valid query — makes them panic or hang; errors always
//! carry a span inside the query. Plus checks of the public API.

use obslab::query::promql::{self, EvalOptions, Value};
use obslab::query::render_error;
use obslab::store::SeriesStore;
use obslab::telemetry::metric::Labels;
use proptest::prelude::*;
use std::time::{Duration, Instant};

const CORPUS: &[&str] = &[
    r#"sum by (job) (rate(http_requests_total{job=~"api.*", code!="500"}[5m]))"#,
    "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
    "max_over_time(rate(x[1m])[1h:30s] offset 5m @ end())",
    "a + on(job) group_left(instance) b * -c ^ 2 ^ 3",
    "topk(3, count_values(\"v\", up)) or absent(nope{a=\"b\"})",
    "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\") > bool 0.5",
    "1h30m + 0x1F - .5e3 / Inf % NaN atan2 time()",
    "quantile_over_time(0.5, x[10m] @ 1700000000) unless ignoring(a) y",
    "predict_linear(node_free[1h], 4 * 3600) < 0 and deriv(x[5m]) != 0",
    "clamp(round(day_of_week(), 2), 1, 5) == bool scalar(vector(3))",
];

fn store() -> SeriesStore {
    let mut st = SeriesStore::new();
    for (name, job) in [("http_requests_total", "api"), ("http_requests_total", "web"), ("up", "api"), ("x", "a"), ("y", "a")] {
        let id = st.get_or_create(Labels::from_pairs([("__name__", name), ("job", job)]));
        for i in 0..200 {
            st.append(id, i * 15_000, (i * 3) as f64);
        }
    }
    for le in ["0.1", "0.5", "+Inf"] {
        let id = st.get_or_create(Labels::from_pairs([("__name__", "request_duration_seconds_bucket"), ("le", le)]));
        for i in 0..200 {
            st.append(id, i * 15_000, i as f64 * le.len() as f64);
        }
    }
    st
}

fn check(q: &str, st: &SeriesStore) {
    let started = Instant::now();
    match promql::parse(q) {
        Ok(e) => {
            let opts = EvalOptions { max_samples: 2_000_000, ..EvalOptions::default() };
            let _ = promql::instant_query_with(st, &e, 3_000_000, &opts);
            if matches!(e.value_type(), promql::ValueType::Scalar | promql::ValueType::Vector) {
                let _ = promql::range_query_with(st, &e, 0, 3_000_000, 60_000, &opts);
            }
            // The printed form parses again.
            let printed = e.to_string();
            if let Err(err) = promql::parse(&printed) {
                assert!(err.is_unsupported() || printed.contains('\u{0}'), "{q:?} printed as {printed:?} which fails: {err}");
            }
        }
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= q.len(), "span {:?} outside {q:?}", e.span);
            assert!(!e.message.is_empty());
            let _ = render_error(q, &e);
        }
    }
    // A generous bound that only a hang would exceed.
    assert!(started.elapsed() < Duration::from_secs(20), "{q:?} took {:?}", started.elapsed());
}

fn mutate(base: &str, ops: &[(u8, usize, char)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for &(op, pos, c) in ops {
        let p = if chars.is_empty() { 0 } else { pos % (chars.len() + 1) };
        match op % 3 {
            0 => chars.insert(p, c),
            1 if p < chars.len() => {
                chars.remove(p);
            }
            _ if p < chars.len() => chars[p] = c,
            _ => chars.push(c),
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(q in "\\PC{0,80}") {
        check(&q, &store());
    }

    #[test]
    fn promql_alphabet_never_panics(q in "[a-z_{}()\\[\\]=~!<>+*/%^@:,.\"'` 0-9a-fxXeEinfINF-]{0,60}") {
        check(&q, &store());
    }

    #[test]
    fn mutated_queries_never_panic(i in 0..CORPUS.len(), ops in prop::collection::vec((0u8..3, 0usize..200, prop::sample::select(vec!['(', ')', '[', ']', '{', '}', '"', ',', ':', '@', '-', '5', 'm', ' ', 'x', '~', '=', '^', '.', 'é'])), 1..6)) {
        check(&mutate(CORPUS[i], &ops), &store());
    }
}

#[test]
fn corpus_parses_and_evaluates() {
    let st = store();
    for q in CORPUS {
        promql::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        check(q, &st);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let st = store();
    let q = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(promql::parse(&q).is_err());
    let q = "1+".repeat(20_000) + "1";
    assert!(promql::parse(&q).is_err());
    check(&"-".repeat(5000), &st);
}

#[test]
fn limits_are_typed_errors() {
    let st = store();
    let e = promql::range_query(&st, "up", 0, 100_000_000, 1_000).unwrap_err();
    assert_eq!(e.message, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    let opts = EvalOptions { max_samples: 100, ..EvalOptions::default() };
    let e = promql::instant_query_with(&st, &promql::parse("sum_over_time(up[1h])").unwrap(), 3_000_000, &opts).unwrap_err();
    assert!(matches!(e.kind, obslab::query::ErrorKind::Limit), "{e:?}");
    let e = promql::instant_query(&st, "max_over_time(vector(1)[100y:1ms])", 0).unwrap_err();
    assert!(matches!(e.kind, obslab::query::ErrorKind::Limit), "{e:?}");
}

#[test]
fn api_answers_and_json() {
    let st = store();
    let v = promql::instant_query(&st, "sum by (job) (rate(http_requests_total[5m]))", 2_985_000).unwrap();
    let Value::Vector(v) = &v else { panic!("{v:?}") };
    assert_eq!(v.len(), 2);
    // 3 per 15 s.
    assert!((v[0].f - 0.2).abs() < 1e-9, "{v:?}");
    let m = promql::range_query(&st, "up", 0, 120_000, 60_000).unwrap();
    assert_eq!(m[0].points, vec![(0, 0.0), (60_000, 12.0), (120_000, 24.0)]);
    let json = promql::to_api_json(&Value::Matrix(m), &[], "up");
    assert_eq!(json, r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"api"},"values":[[0,"0"],[60,"12"],[120,"24"]]}]}}"#);
    let e = promql::parse("sum(rate(x[5m])").unwrap_err();
    assert_eq!(render_error("sum(rate(x[5m])", &e), "sum(rate(x[5m])\n   ^\nunclosed left parenthesis");
}

#[test]
fn staleness_ends_a_series() {
    let mut st = SeriesStore::new();
    let id = st.get_or_create(Labels::from_pairs([("__name__", "m")]));
    st.append(id, 0, 1.0);
    st.append(id, 10_000, f64::from_bits(0x7ff0_0000_0000_0002));
    assert!(matches!(promql::instant_query(&st, "m", 5_000).unwrap(), Value::Vector(v) if v.len() == 1));
    assert!(matches!(promql::instant_query(&st, "m", 20_000).unwrap(), Value::Vector(v) if v.is_empty()));
    assert!(matches!(promql::instant_query(&st, "count_over_time(m[1m])", 20_000).unwrap(), Value::Vector(v) if v[0].f == 1.0));
}
