//! Prints the shape of a scenario run: per-window frontend P50/P99 (from
//! the histogram), error ratios per service, the fault drawn and how many
//! requests it touched. A calibration aid for scenario authors.
//!
//! cargo run --release --example shape -- intermittent-p99 0 10

use obslab::sim::time::SimTime;
use std::collections::BTreeMap;

fn quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    let total = buckets.last().map(|b| b.1).unwrap_or(0.0);
    if total <= 0.0 {
        return f64::NAN;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, c) in buckets {
        if c >= rank {
            if le.is_infinite() {
                return prev.0;
            }
            return prev.0 + (le - prev.0) * (rank - prev.1) / (c - prev.1).max(1e-9);
        }
        prev = (le, c);
    }
    prev.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let id = args.first().map(String::as_str).unwrap_or("intermittent-p99");
    let from: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let to: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(from + 1);
    let model = obslab::scenario::load_builtin(id).expect("scenario");
    for seed in from..to {
        let t0 = std::time::Instant::now();
        let run = obslab::sim::run(&model, seed, None);
        let wall = t0.elapsed().as_secs_f64();
        let tel = &run.telemetry;
        let entry = &model.services[model.entry_service].name;
        // Bucket deltas per scrape, split into in-incident and outside.
        let mut inside: BTreeMap<String, f64> = BTreeMap::new();
        let mut outside: BTreeMap<String, f64> = BTreeMap::new();
        let in_inc = |ms: i64| {
            let t = SimTime((ms - tel.start_unix_ms) * 1000);
            run.truth.incidents.iter().any(|w| w.0 <= t && t < w.1)
        };
        let mut err: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for &id in tel.series.by_name("http_server_request_duration_seconds_bucket") {
            let s = tel.series.get(id);
            if s.labels.get("service") != Some(entry.as_str()) {
                continue;
            }
            let le = s.labels.get("le").unwrap().to_string();
            for i in 1..s.values.len() {
                let d = s.values[i] - s.values[i - 1];
                let m = if in_inc(s.timestamps[i]) { &mut inside } else { &mut outside };
                *m.entry(le.clone()).or_default() += d;
            }
        }
        for &id in tel.series.by_name("http_server_request_duration_seconds_count") {
            let s = tel.series.get(id);
            let svc = s.labels.get("service").unwrap_or("?").to_string();
            let code: u16 = s.labels.get("http_response_status_code").and_then(|c| c.parse().ok()).unwrap_or(0);
            let v = s.values.last().copied().unwrap_or(0.0);
            let e = err.entry(svc).or_default();
            e.1 += v;
            if code >= 500 || code == 499 {
                e.0 += v;
            }
        }
        let to_vec = |m: &BTreeMap<String, f64>| {
            let mut v: Vec<(f64, f64)> = m.iter().map(|(k, c)| (if k == "+Inf" { f64::INFINITY } else { k.parse().unwrap() }, *c)).collect();
            v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
            v
        };
        let (vi, vo) = (to_vec(&inside), to_vec(&outside));
        let fault = run.truth.faults.first().map(|f| format!("{} {}", f.kind, f.service.clone().or(f.node.clone()).unwrap_or_default())).unwrap_or("none".into());
        let affected: u64 = run.truth.affected_requests.values().sum();
        println!(
            "seed {seed:>3} {fault:<38} p50 {:>6.1}->{:>6.1}ms p99 {:>6.1}->{:>6.1}ms ({:.1}x) affected {:>5} of {} ({:.2}%) evid {} wall {:.2}s spans {} kept {}",
            quantile(0.5, &vo) * 1e3,
            quantile(0.5, &vi) * 1e3,
            quantile(0.99, &vo) * 1e3,
            quantile(0.99, &vi) * 1e3,
            quantile(0.99, &vi) / quantile(0.99, &vo),
            affected,
            run.stats.requests,
            100.0 * affected as f64 / run.stats.requests.max(1) as f64,
            run.truth.traces.len(),
            wall,
            run.stats.spans,
            run.stats.spans_kept,
        );
        let errs: Vec<String> = err.iter().map(|(s, (e, n))| format!("{s}:{:.2}%", 100.0 * e / n.max(1.0))).collect();
        println!("          errors {}", errs.join(" "));
    }
}
