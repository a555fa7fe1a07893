//! RED series (rate, errors, duration) of one service, computed from the
//! series store the way a Prometheus dashboard would: counter deltas per
//! scrape interval summed over pods, and percentiles from the summed
//! `_bucket` deltas with [`histogram_quantile`], which follows Prometheus's
//! `histogram_quantile` for classic buckets step by step.

use crate::store::{Series, SeriesStore};

/// The histogram a service's HTTP server records each request's duration in.
pub const DURATION_BUCKET: &str = "http_server_request_duration_seconds_bucket";
/// Its `_count` companion: one counter per label set.
pub const DURATION_COUNT: &str = "http_server_request_duration_seconds_count";
/// The label naming the service a series belongs to.
pub const SERVICE_LABEL: &str = "service";
/// The label carrying the HTTP response status code.
pub const STATUS_LABEL: &str = "http_response_status_code";

/// One point per scrape interval of one service. All vectors have the
/// length of `timestamps`; a value belongs to the interval that ends at
/// its timestamp.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Red {
    pub service: String,
    /// Unix milliseconds of each interval's end, strictly increasing.
    pub timestamps: Vec<i64>,
    /// Requests per second over the interval.
    pub rate: Vec<f64>,
    /// Server errors (5xx) per second over the interval.
    pub errors: Vec<f64>,
    /// Median duration in seconds; NaN when the interval saw no request.
    pub p50: Vec<f64>,
    /// 99th percentile duration in seconds; NaN when the interval saw no request.
    pub p99: Vec<f64>,
}

impl Red {
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }
    /// True when at least one interval saw a request.
    pub fn has_traffic(&self) -> bool {
        self.rate.iter().any(|&r| r > 0.0)
    }
}

/// Computes the RED series of `service` from its duration histogram, one
/// point per `step_ms` (the scrape interval).
///
/// Equivalent to these PromQL queries evaluated every `step_ms` with a
/// range of `step_ms`, without `rate`'s extrapolation:
/// `sum(rate(..._count{service="s"}))`, the same restricted to 5xx, and
/// `histogram_quantile(q, sum by (le) (rate(..._bucket{service="s"})))`.
/// Each series' increase between two consecutive samples is counted in
/// the step holding the later sample, so pods scraped at different
/// offsets inside a step add up. A series' first sample only sets its
/// baseline, as in Prometheus; a value lower than the previous one is a
/// counter reset. Steps at either end that not every pod reached yet are
/// left out, so the first and last points are not falsely low.
pub fn red(store: &SeriesStore, service: &str, step_ms: i64) -> Red {
    let of_service = |name: &str| -> Vec<&Series> {
        store
            .by_name(name)
            .iter()
            .map(|&id| store.get(id))
            .filter(|s| s.labels.get(SERVICE_LABEL) == Some(service) && s.timestamps.len() == s.values.len())
            .collect()
    };
    let buckets = of_service(DURATION_BUCKET);
    let counts = of_service(DURATION_COUNT);
    let all = || buckets.iter().chain(&counts).filter(|s| s.timestamps.len() >= 2);
    let empty = Red { service: service.to_string(), ..Red::default() };
    let step = if step_ms > 0 { step_ms } else { return empty };
    let (Some(first), Some(last)) = (all().map(|s| s.timestamps[0]).min(), all().map(|s| s.timestamps[s.timestamps.len() - 1]).max()) else {
        return empty;
    };
    let origin = first.div_euclid(step) * step;
    // Step b holds samples with origin + b·step < t <= origin + (b+1)·step.
    let step_of = |t: i64| (t - origin - 1).div_euclid(step);
    // Full steps: after every series present from the start has its
    // second sample, up to the last sample of every series still present at the end.
    let start = all().filter(|s| s.timestamps[0] < first + step).map(|s| step_of(s.timestamps[1])).max().unwrap_or(0);
    let end = all().filter(|s| s.timestamps[s.timestamps.len() - 1] > last - step).map(|s| step_of(s.timestamps[s.timestamps.len() - 1])).min().unwrap_or(-1);
    if end < start {
        return empty;
    }
    let n = (end - start + 1) as usize;
    let index = |t: i64| -> Option<usize> {
        let b = step_of(t);
        (start..=end).contains(&b).then(|| (b - start) as usize)
    };

    let mut bounds: Vec<f64> = buckets.iter().filter_map(|s| s.labels.get("le").and_then(parse_le)).collect();
    crate::sort::sort_by(&mut bounds, f64::total_cmp);
    bounds.dedup();
    let nb = bounds.len();
    // Cumulative bucket counts per step, summed over every label set.
    let mut cumulative = vec![0.0; n * nb];
    for s in &buckets {
        let Some(b) = s.labels.get("le").and_then(parse_le).and_then(|le| bounds.binary_search_by(|x| x.total_cmp(&le)).ok()) else {
            continue;
        };
        for_each_increase(s, |t, inc| {
            if let Some(i) = index(t) {
                cumulative[i * nb + b] += inc;
            }
        });
    }
    let seconds = step as f64 / 1000.0;
    let mut rate = vec![0.0; n];
    let mut errors = vec![0.0; n];
    for s in &counts {
        let is_error = s.labels.get(STATUS_LABEL).and_then(|c| c.parse::<u16>().ok()).is_some_and(|c| (500..600).contains(&c));
        for_each_increase(s, |t, inc| {
            if let Some(i) = index(t) {
                rate[i] += inc / seconds;
                if is_error {
                    errors[i] += inc / seconds;
                }
            }
        });
    }
    let mut p50 = Vec::with_capacity(n);
    let mut p99 = Vec::with_capacity(n);
    let mut scratch: Vec<(f64, f64)> = Vec::with_capacity(nb);
    for i in 0..n {
        let fill = |v: &mut Vec<(f64, f64)>| {
            v.clear();
            v.extend(bounds.iter().zip(&cumulative[i * nb..(i + 1) * nb]).map(|(&le, &c)| (le, c)));
        };
        fill(&mut scratch);
        p50.push(histogram_quantile(0.5, &mut scratch));
        fill(&mut scratch);
        p99.push(histogram_quantile(0.99, &mut scratch));
    }
    Red {
        service: service.to_string(),
        timestamps: (start..=end).map(|b| origin + (b + 1) * step).collect(),
        rate,
        errors,
        p50,
        p99,
    }
}

/// Calls `f(time of the later sample, increase)` for every pair of
/// consecutive samples of `s`.
fn for_each_increase(s: &Series, mut f: impl FnMut(i64, f64)) {
    for k in 1..s.timestamps.len() {
        let (prev, cur) = (s.values[k - 1], s.values[k]);
        let inc = if cur < prev { cur } else { cur - prev };
        if inc.is_finite() {
            f(s.timestamps[k], inc);
        }
    }
}

/// Parses a `le` label value as Prometheus does, including `+Inf`.
pub fn parse_le(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        _ => s.parse::<f64>().ok().filter(|v| !v.is_nan()),
    }
}

/// Prometheus's `histogram_quantile` over classic buckets given as
/// `(upper bound, cumulative count)` pairs, in any order. NaN when there are
/// fewer than two buckets, no `+Inf` bucket or no observations; `-Inf` /
/// `+Inf` for `q` below 0 / above 1; the upper bound of the second-highest
/// bucket when the rank falls in the `+Inf` bucket; otherwise linear
/// interpolation inside the bucket holding the rank, with 0 as the lower
/// bound of the first bucket. Non-monotonic counts are fixed as Prometheus
/// does: tiny float differences are ignored and decreases are removed.
pub fn histogram_quantile(q: f64, buckets: &mut Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if buckets.is_empty() {
        return f64::NAN;
    }
    crate::sort::sort_by(buckets, |a, b| a.0.total_cmp(&b.0));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce(buckets);
    ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let last = buckets.len() - 1;
    let b = buckets[..last].partition_point(|x| x.1 < rank);
    if b == last {
        return buckets[last - 1].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let end = buckets[b].0;
    let mut count = buckets[b].1;
    let mut start = 0.0;
    if b > 0 {
        start = buckets[b - 1].0;
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// Merges buckets with the same upper bound (they come sorted).
fn coalesce(buckets: &mut Vec<(f64, f64)>) {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for &(le, c) in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.0 == le => last.1 += c,
            _ => out.push((le, c)),
        }
    }
    *buckets = out;
}

/// Prometheus's `ensureMonotonicAndIgnoreSmallDeltas` with its tolerance 1e-12.
fn ensure_monotonic(buckets: &mut [(f64, f64)]) {
    const TOLERANCE: f64 = 1e-12;
    let Some(first) = buckets.first() else { return };
    let mut prev = first.1;
    for b in buckets.iter_mut().skip(1) {
        let cur = b.1;
        if cur == prev {
            continue;
        }
        if almost_equal(prev, cur, TOLERANCE) || cur < prev {
            b.1 = prev;
            continue;
        }
        prev = cur;
    }
}

/// Prometheus's `almost.Equal`: relative comparison, absolute near zero.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::metric::Labels;

    fn q(q: f64, b: &[(f64, f64)]) -> f64 {
        histogram_quantile(q, &mut b.to_vec())
    }

    #[test]
    fn quantile_matches_prometheus_cases() {
        // Worked by hand with Prometheus's algorithm: 110 observations,
        // 50 up to 0.1 s, 20 more up to 0.2 s, 40 above.
        let b = [(0.1, 50.0), (0.2, 70.0), (f64::INFINITY, 110.0)];
        assert_eq!(q(0.0, &b), 0.0);
        assert!((q(0.25, &b) - 0.055).abs() < 1e-12);
        assert!((q(0.5, &b) - 0.125).abs() < 1e-12);
        assert_eq!(q(0.75, &b), 0.2);
        assert_eq!(q(1.0, &b), 0.2);
        assert_eq!(q(-0.1, &b), f64::NEG_INFINITY);
        assert_eq!(q(1.01, &b), f64::INFINITY);
        assert!(q(f64::NAN, &b).is_nan());
    }

    #[test]
    fn quantile_edge_cases() {
        assert!(q(0.5, &[]).is_nan());
        assert!(q(0.5, &[(f64::INFINITY, 3.0)]).is_nan(), "one bucket is not enough");
        assert!(q(0.5, &[(0.1, 1.0), (0.2, 2.0)]).is_nan(), "no +Inf bucket");
        assert!(q(0.5, &[(0.1, 0.0), (f64::INFINITY, 0.0)]).is_nan(), "no observations");
        // Order does not matter; duplicate bounds are merged.
        assert_eq!(q(0.5, &[(f64::INFINITY, 4.0), (1.0, 4.0)]), 0.5);
        assert_eq!(q(0.5, &[(1.0, 2.0), (1.0, 2.0), (f64::INFINITY, 4.0)]), 0.5);
        // A decrease is removed (the +Inf bucket is raised to 10).
        assert_eq!(q(0.99, &[(1.0, 10.0), (f64::INFINITY, 8.0)]), 0.99);
        // A non-positive first bound is returned as is.
        assert_eq!(q(0.1, &[(-1.0, 5.0), (f64::INFINITY, 10.0)]), -1.0);
    }

    fn store_with(services: &[(&str, &str)], points: &[(i64, [f64; 3])]) -> SeriesStore {
        // Each listed (service, pod) gets the same histogram: buckets
        // 0.1, 1, +Inf holding the given cumulative counts.
        let mut st = SeriesStore::new();
        for &(svc, pod) in services {
            for (bi, le) in ["0.1", "1", "+Inf"].iter().enumerate() {
                let id = st.get_or_create(Labels::from_pairs([
                    ("__name__", DURATION_BUCKET),
                    ("service", svc),
                    ("pod", pod),
                    ("le", le),
                ]));
                for &(t, v) in points {
                    st.append(id, t, v[bi]);
                }
            }
            let id = st.get_or_create(Labels::from_pairs([("__name__", DURATION_COUNT), ("service", svc), ("pod", pod), (STATUS_LABEL, "200")]));
            for &(t, v) in points {
                st.append(id, t, v[2]);
            }
        }
        st
    }

    #[test]
    fn red_sums_pods_and_skips_other_services() {
        let pts = [(0, [0.0, 0.0, 0.0]), (15_000, [90.0, 99.0, 150.0]), (30_000, [90.0, 99.0, 150.0])];
        let st = store_with(&[("frontend", "a"), ("frontend", "b"), ("cart", "c")], &pts);
        let r = red(&st, "frontend", 15_000);
        assert_eq!(r.timestamps, vec![15_000, 30_000]);
        // 2 pods × 150 requests over 15 s.
        assert_eq!(r.rate, vec![20.0, 0.0]);
        assert_eq!(r.errors, vec![0.0, 0.0]);
        // rank 0.99 × 300 = 297 falls in +Inf (above 198): the 1 s bound.
        assert_eq!(r.p99[0], 1.0);
        // rank 150 of 300: inside the first bucket (180 by 0.1 s).
        assert!((r.p50[0] - 0.1 * 150.0 / 180.0).abs() < 1e-12);
        assert!(r.p99[1].is_nan(), "no requests in the second interval");
        assert!(r.has_traffic());
        assert!(red(&st, "nope", 15_000).is_empty());
    }

    #[test]
    fn red_handles_counter_resets_and_errors() {
        let mut st = SeriesStore::new();
        let ok = st.get_or_create(Labels::from_pairs([("__name__", DURATION_COUNT), ("service", "s"), (STATUS_LABEL, "200")]));
        let bad = st.get_or_create(Labels::from_pairs([("__name__", DURATION_COUNT), ("service", "s"), (STATUS_LABEL, "503")]));
        for (t, v) in [(0, 100.0), (10_000, 200.0), (20_000, 50.0)] {
            st.append(ok, t, v);
        }
        for (t, v) in [(0, 0.0), (10_000, 10.0), (20_000, 20.0)] {
            st.append(bad, t, v);
        }
        let r = red(&st, "s", 10_000);
        assert_eq!(r.rate, vec![11.0, 6.0], "a reset counts the new value as the increase");
        assert_eq!(r.errors, vec![1.0, 1.0]);
        assert!(r.p99.iter().all(|v| v.is_nan()), "no buckets, no percentile");
    }

    #[test]
    fn staggered_scrapes_add_up_and_partial_steps_are_left_out() {
        let mut st = SeriesStore::new();
        // Pod a is scraped 1 s before each 15 s boundary, pod b 1 s after;
        // each sees 15 requests per scrape interval.
        for (pod, offset) in [("a", 14_000), ("b", 16_000)] {
            let id = st.get_or_create(Labels::from_pairs([("__name__", DURATION_COUNT), ("service", "s"), ("pod", pod), (STATUS_LABEL, "200")]));
            for k in 0..6 {
                st.append(id, offset + 15_000 * k, 15.0 * k as f64);
            }
        }
        let r = red(&st, "s", 15_000);
        // Step 1 (15–30 s) only has pod a's first increase; step 6 only pod b's last.
        assert_eq!(r.timestamps, vec![45_000, 60_000, 75_000, 90_000]);
        assert_eq!(r.rate, vec![2.0; 4]);
        assert!(red(&st, "s", 0).is_empty(), "no step, no points");
    }

    #[test]
    fn red_of_every_builtin_entry_service() {
        use crate::sim::time::SimDuration;
        for b in crate::scenario::BUILTINS {
            let model = crate::scenario::load(b.source).unwrap();
            let run = crate::sim::run(&model, 7, Some(SimDuration::from_secs(600)));
            let entry = &model.services[model.entry_service].name;
            let r = red(&run.telemetry.series, entry, model.scrape_interval.micros() / 1000);
            let ctx = format!("{} seed 7 (entry {entry})", b.id);
            assert!(r.len() >= 5, "{ctx}: {} points", r.len());
            assert!(r.has_traffic(), "{ctx}: no traffic");
            // Every request of the full steps is counted once.
            let step_s = model.scrape_interval.as_secs_f64();
            let counted: f64 = r.rate.iter().sum::<f64>() * step_s;
            let expected = run.stats.requests as f64 * r.len() as f64 * step_s / 600.0;
            assert!((counted / expected - 1.0).abs() < 0.1, "{ctx}: {counted} requests counted, about {expected} expected");
            let finite = r.p99.iter().filter(|v| v.is_finite()).count();
            assert!(finite * 2 >= r.len(), "{ctx}: P99 mostly missing");
            for i in 0..r.len() {
                assert!(r.rate[i] >= 0.0 && r.errors[i] <= r.rate[i] + 1e-9, "{ctx}: interval {i}");
                if r.p99[i].is_finite() {
                    assert!(r.p50[i] <= r.p99[i], "{ctx}: P50 above P99 at {i}");
                }
            }
        }
    }
}
