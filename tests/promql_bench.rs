//! A plain timing harness for the PromQL budgets (QUALITY.md): evaluation
//! throughput on Prometheus `bench_test.go`-style data (classic histograms,
//! 10 s scrapes, one day) and parse time. Ignored by default; run with
//! `cargo test --release --test promql_bench -- --ignored --nocapture`.
//! It prints medians and asserts nothing about time.

use obslab::query::promql::{self, EvalOptions};
use obslab::store::SeriesStore;
use obslab::telemetry::metric::Labels;
use std::time::Instant;

fn bench_data(intervals: i64) -> SeriesStore {
    let mut metrics: Vec<Labels> = Vec::new();
    for i in 0..100 {
        let l = i.to_string();
        metrics.push(Labels::from_pairs([("__name__", "a_hundred"), ("l", l.as_str()), ("job", if i % 2 == 0 { "api" } else { "web" })]));
        for j in 0..10 {
            metrics.push(Labels::from_pairs([("__name__", "h_hundred"), ("l", l.as_str()), ("le", j.to_string().as_str())]));
        }
        metrics.push(Labels::from_pairs([("__name__", "h_hundred"), ("l", l.as_str()), ("le", "+Inf")]));
    }
    let mut st = SeriesStore::new();
    let ids: Vec<_> = metrics.iter().map(|m| st.get_or_create(m.clone())).collect();
    let n = ids.len() as f64;
    for &id in &ids {
        st.reserve(id, intervals as usize);
    }
    for s in 0..intervals {
        for (i, &id) in ids.iter().enumerate() {
            st.append(id, s * 10_000, s as f64 + i as f64 / n);
        }
    }
    st
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[test]
#[ignore]
fn promql_throughput() {
    let day = 8640;
    let st = bench_data(day);
    println!("stored: {} series, {} samples", st.len(), st.sample_count());
    let opts = EvalOptions { max_samples: u64::MAX, ..EvalOptions::default() };
    let end = (day - 1) * 10_000;
    for q in ["rate(a_hundred[5m])", "sum by (job) (rate(a_hundred[5m]))", "histogram_quantile(0.9, rate(h_hundred[5m]))", "sum by (le) (rate(h_hundred[5m]))"] {
        let e = promql::parse(q).unwrap();
        for (label, start, step) in [("1 day, step 60s", 0, 60_000), ("1 hour, step 15s", end - 3_600_000, 15_000)] {
            let mut times = Vec::new();
            let mut samples = 0;
            for _ in 0..5 {
                let t = Instant::now();
                let r = promql::range_query_with(&st, &e, start, end, step, &opts).unwrap();
                times.push(t.elapsed().as_secs_f64());
                samples = r.samples;
            }
            let med = median(times);
            println!("{q:48} {label:18} {:8.2} ms  {:>11} samples  {:7.1} M samples/s", med * 1e3, samples, samples as f64 / med / 1e6);
        }
    }
    let queries = [
        "up",
        r#"sum by (job) (rate(http_requests_total{job=~"api.*", code!="500"}[5m]))"#,
        "histogram_quantile(0.9, sum by (le, service) (rate(http_server_request_duration_seconds_bucket{service=\"checkout\"}[5m])))",
        "a + on(job) group_left(instance) b * -c ^ 2 ^ 3 > bool 1 or absent(x{y=\"z\"})",
    ];
    for q in queries {
        let mut times = Vec::new();
        for _ in 0..2000 {
            let t = Instant::now();
            let _ = std::hint::black_box(promql::parse(std::hint::black_box(q)));
            times.push(t.elapsed().as_secs_f64());
        }
        println!("parse {:100} {:6.2} µs", q, median(times) * 1e6);
    }
}
