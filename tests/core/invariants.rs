use super::run;
use obslab::store::Telemetry;
use obslab::telemetry::span::ErrorType;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn check_spans_nest(tel: &Telemetry) -> Result<(), String> {
    for t in tel.traces.traces() {
        let spans = tel.traces.trace_spans(t);
        let by_id: BTreeMap<_, _> = spans.iter().map(|s| (s.span_id, s)).collect();
        for s in spans {
            if s.end < s.start {
                return Err(format!("span {} ends before it starts", s.span_id));
            }
            let Some(p) = by_id.get(&s.parent) else { continue };
            // A caller that timed out stops waiting; the callee may outlive it.
            if p.error == ErrorType::Timeout {
                continue;
            }
            if s.start < p.start || s.end > p.end {
                return Err(format!("trace {}: span {} [{}, {}] outside parent {} [{}, {}]", t.trace_id, s.span_id, s.start.0, s.end.0, p.span_id, p.start.0, p.end.0));
            }
        }
    }
    Ok(())
}

fn check_counters_and_histograms(tel: &Telemetry) -> Result<(), String> {
    let st = &tel.series;
    use obslab::telemetry::metric::MetricKind;
    let mut cumulative = std::collections::BTreeSet::new();
    for f in st.families() {
        match f.kind {
            MetricKind::Counter => {
                cumulative.insert(format!("{}_total", f.name));
            }
            MetricKind::Histogram => {
                for x in ["_bucket", "_count", "_sum"] {
                    cumulative.insert(format!("{}{x}", f.name));
                }
            }
            MetricKind::Gauge => {}
        }
    }
    for (_, s) in st.iter() {
        let name = s.labels.name().unwrap_or("");
        if cumulative.contains(name) {
            if let Some(w) = s.values.windows(2).find(|w| w[1] < w[0]) {
                return Err(format!("{} decreased from {} to {}", s.labels, w[0], w[1]));
            }
        }
        if s.timestamps.windows(2).any(|w| w[1] <= w[0]) {
            return Err(format!("{} has out-of-order timestamps", s.labels));
        }
    }
    // An exemplar sits on a bucket that counted it: at or below its bound,
    // on a sample that is not zero.
    for (_, s) in st.iter() {
        for e in &s.exemplars {
            let le = s.labels.get("le").map(|v| if v == "+Inf" { f64::INFINITY } else { v.parse().unwrap() }).unwrap_or(f64::INFINITY);
            let i = s.timestamps.partition_point(|&t| t < e.timestamp_ms);
            if e.value > le || s.values.get(i).is_none_or(|&v| v <= 0.0) {
                return Err(format!("{}: exemplar {} at {} on a bucket that did not count it", s.labels, e.value, e.timestamp_ms));
            }
        }
    }
    // Buckets cumulative in `le`, `_count` equal to the +Inf bucket, at every scrape.
    let mut groups: BTreeMap<String, Vec<(f64, &obslab::store::Series)>> = BTreeMap::new();
    for fam in st.families().filter(|f| f.kind == obslab::telemetry::metric::MetricKind::Histogram) {
        for &id in st.by_name(&format!("{}_bucket", fam.name)) {
            let s = st.get(id);
            let mut l = s.labels.clone();
            let le = l.get("le").map(|v| if v == "+Inf" { f64::INFINITY } else { v.parse().unwrap() }).unwrap();
            l.remove("le");
            groups.entry(l.to_string()).or_default().push((le, s));
        }
    }
    for (key, mut bs) in groups {
        bs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        let n = bs[0].1.values.len();
        for (_, s) in &bs {
            if s.values.len() != n {
                return Err(format!("{key}: buckets have different sample counts"));
            }
        }
        for i in 0..n {
            for w in bs.windows(2) {
                if w[1].1.values[i] < w[0].1.values[i] {
                    return Err(format!("{key}: bucket le={} < le={} at sample {i}", w[1].0, w[0].0));
                }
            }
        }
        let inf = bs.last().unwrap().1;
        let mut count_labels = inf.labels.clone();
        count_labels.remove("le");
        let name = count_labels.name().unwrap().replace("_bucket", "_count");
        count_labels.set("__name__", &name);
        let count = st.get(st.lookup(&count_labels).ok_or(format!("{key}: no _count series"))?);
        if count.values != inf.values {
            return Err(format!("{key}: _count differs from the +Inf bucket"));
        }
    }
    Ok(())
}

proptest! {
    // Four seeds per run; PROPTEST_CASES=200 for a deeper search.
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(4), ..ProptestConfig::default() })]
    #[test]
    fn telemetry_invariants_hold_for_any_seed(seed in 0u64..10_000) {
        let r = run("intermittent-p99", seed, 12);
        prop_assert!(r.stats.requests > 1000);
        // Requests are conserved: arrived = completed + still in flight.
        prop_assert_eq!(r.stats.requests, r.stats.completed + r.stats.in_flight);
        prop_assert_eq!(check_spans_nest(&r.telemetry), Ok(()));
        prop_assert_eq!(check_counters_and_histograms(&r.telemetry), Ok(()));
    }
}

#[test]
fn bookstore_and_slo_invariants() {
    let r = run("bookstore", 3, 10);
    assert_eq!(check_spans_nest(&r.telemetry), Ok(()));
    assert_eq!(check_counters_and_histograms(&r.telemetry), Ok(()));
    let r = run("slo-rollout", 3, 2 * 24 * 60);
    assert_eq!(check_counters_and_histograms(&r.telemetry), Ok(()));
}

proptest! {
    // Two drills per run; each draws its own cause, load and red herrings.
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2), ..ProptestConfig::default() })]
    #[test]
    fn drill_telemetry_invariants_hold_for_any_seed(seed in 0u64..100_000) {
        let model = obslab::scenario::drill::model(seed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let r = obslab::sim::run(&model, seed, Some(obslab::sim::time::SimDuration::from_secs(12 * 60)));
        prop_assert_eq!(r.stats.requests, r.stats.completed + r.stats.in_flight);
        prop_assert_eq!(check_spans_nest(&r.telemetry), Ok(()));
        prop_assert_eq!(check_counters_and_histograms(&r.telemetry), Ok(()));
    }
}
