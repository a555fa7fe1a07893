//! Aggregate mode: long windows (the SLO scenario's month) at scrape
//! resolution without simulating single requests. Per interval it draws the
//! request count (Poisson around the daily curve), the 5xx and 4xx counts
//! (binomial around the incident-driven error ratio) and the latency bucket
//! counts (multinomial over the same log-normal the request model uses),
//! and appends the same metric families the per-request engine emits.
//!
//! Every server error starts at one service and travels up the call path:
//! the entry calls the first downstream service, which calls the others in
//! turn and stops at the first failure. So a failure that starts in a leaf
//! is a 5xx there, in its caller and at the entry; leaves called after it
//! never see the request; each incident has one origin (drawn per seed) and
//! the baseline's errors start anywhere downstream. The SLI is the entry's.

use super::rng::{self, SimRng};
use super::time::{SimDuration, SimTime};
use super::truth::{GroundTruth, HistoryIncidentTruth};
use super::{Run, RunStats};
use crate::scenario::model::{History, HistoryKind, Model};
use crate::store::{SeriesId, Telemetry};
use crate::telemetry::metric::{format_float, Labels, MetricFamily, MetricKind, METRIC_NAME};
use crate::telemetry::semconv as sc;
use rand::Rng;

/// One incident of the history as drawn for a seed.
#[derive(Clone, Debug)]
struct Incident {
    kind: HistoryKind,
    start: SimTime,
    end: SimTime,
    error_ratio: f64,
    /// Where its failures start: an index into `History::downstream`.
    origin: usize,
}

/// Cumulative series of one (service, pod, status) label set.
struct HistSeries {
    buckets: Vec<(SeriesId, f64)>,
    sum: (SeriesId, f64),
    count: (SeriesId, f64),
}

pub struct Aggregate {
    pub model: Model,
    seed: u64,
    now: SimTime,
    incidents: Vec<Incident>,
    tel: Telemetry,
    rng: SimRng,
    /// [service slot][pod][status slot]; `None` where a status cannot occur
    /// (downstream services never see the frontend's 4xx).
    series: Vec<Vec<Vec<Option<HistSeries>>>>,
    /// Conditional bucket probabilities per (status slot, slow, downstream).
    bucket_probs: std::collections::BTreeMap<(usize, bool, bool), Vec<f64>>,
    valid: u64,
    failed: u64,
    requests: u64,
    steps: u64,
}

fn std_normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}

/// A binomial draw: exact for small n, normal approximation above.
fn binomial(r: &mut SimRng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n < 40 {
        return (0..n).filter(|_| rng::unit(r) < p).count() as u64;
    }
    let mean = n as f64 * p;
    let sd = (mean * (1.0 - p)).sqrt();
    if mean < 10.0 {
        // Poisson approximation for rare events.
        let l = libm::exp(-mean);
        let (mut k, mut prod) = (0u64, rng::unit(r));
        while prod > l && k < n {
            k += 1;
            prod *= rng::unit(r);
        }
        return k;
    }
    (mean + sd * rng::std_normal(r)).round().clamp(0.0, n as f64) as u64
}

impl Aggregate {
    pub fn new(model: Model, seed: u64) -> Aggregate {
        let mut tel = Telemetry { start_unix_ms: model.start_unix_ms, ..Default::default() };
        let mut r = rng::stream(seed, "history");
        let incidents = match &model.history {
            Some(h) => draw_incidents(h, model.duration, &mut r, &mut rng::stream(seed, "history/origin")),
            None => Vec::new(),
        };
        let h = model.history.clone().expect("aggregate mode has a history (checked by the scenario loader)");
        let buckets = model.instrumentation.buckets.clone();
        tel.series.describe(MetricFamily { name: sc::HTTP_SERVER_DURATION.into(), kind: MetricKind::Histogram, help: "Duration of HTTP server requests.".into(), unit: "seconds".into(), buckets: buckets.clone() });
        let statuses = vec![200u16, 400, 500, 503];
        let points = (model.duration.micros() / model.scrape_interval.micros()) as usize + 2;
        let mut services = vec![(h.service, h.endpoint, true)];
        services.extend(h.downstream.iter().map(|&s| (s, 0usize, false)));
        let mut series = Vec::new();
        for &(si, ei, with_buckets) in &services {
            let s = &model.services[si];
            let e = &s.endpoints[ei];
            let mut per_pod = Vec::new();
            for p in 0..s.replicas {
                let pod = super::world::pod_name(&model.namespace, &s.name, p);
                let mut per_status = Vec::new();
                for &st in &statuses {
                    if !with_buckets && st == 400 {
                        per_status.push(None);
                        continue;
                    }
                    let base = Labels::from_pairs([
                        ("job", format!("{}/{}", model.namespace, s.name).as_str()),
                        ("instance", pod.as_str()),
                        ("namespace", model.namespace.as_str()),
                        ("pod", pod.as_str()),
                        ("service", s.name.as_str()),
                        ("http_request_method", e.method.as_str()),
                        ("http_route", e.route.as_str()),
                        ("http_response_status_code", st.to_string().as_str()),
                    ]);
                    let mut mk = |name: String, le: Option<f64>| {
                        let mut l = base.clone();
                        l.set(METRIC_NAME, &name);
                        if let Some(le) = le {
                            l.set("le", &format_float(le));
                        }
                        let id = tel.series.get_or_create(l);
                        tel.series.reserve(id, points);
                        (id, 0.0)
                    };
                    let mut bs = Vec::new();
                    if with_buckets {
                        for &b in buckets.iter().chain(std::iter::once(&f64::INFINITY)) {
                            bs.push(mk(format!("{}_bucket", sc::HTTP_SERVER_DURATION), Some(b)));
                        }
                    }
                    let sum = mk(format!("{}_sum", sc::HTTP_SERVER_DURATION), None);
                    let count = mk(format!("{}_count", sc::HTTP_SERVER_DURATION), None);
                    per_status.push(Some(HistSeries { buckets: bs, sum, count }));
                }
                per_pod.push(per_status);
            }
            series.push(per_pod);
        }
        Aggregate { model, seed, now: SimTime::ZERO, incidents, tel, rng: r, series, bucket_probs: Default::default(), valid: 0, failed: 0, requests: 0, steps: 0 }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    fn rate_at(&self, t: SimTime) -> f64 {
        let tr = &self.model.traffic;
        let unix_s = self.model.start_unix_ms / 1000 + t.0 / 1_000_000;
        let hour = (unix_s.rem_euclid(86400) / 3600) as usize;
        let frac = unix_s.rem_euclid(3600) as f64 / 3600.0;
        tr.rate * (tr.daily_curve[hour] * (1.0 - frac) + tr.daily_curve[(hour + 1) % 24] * frac)
    }

    pub fn advance(&mut self, step: SimDuration) -> bool {
        let end = SimTime(self.model.duration.micros());
        let limit = (self.now + step).min(end);
        let interval = self.model.scrape_interval;
        let h = self.model.history.clone().expect("history");
        while self.now + interval <= limit {
            let t = self.now + interval;
            self.interval(&h, self.now, t);
            self.now = t;
        }
        if limit >= end {
            self.now = end;
            return true;
        }
        if self.now < limit && self.now + interval > end {
            self.now = end;
            return true;
        }
        false
    }

    /// Draws one scrape interval's requests and appends every series.
    fn interval(&mut self, h: &History, from: SimTime, to: SimTime) {
        self.steps += 1;
        let secs = (to - from).as_secs_f64();
        let mid = SimTime((from.0 + to.0) / 2);
        let mut rate = self.rate_at(mid);
        let mut err = h.error_ratio;
        let mut slow = 1.0;
        let mut maintenance = false;
        for inc in &self.incidents {
            if inc.start <= mid && mid < inc.end {
                match inc.kind {
                    HistoryKind::Maintenance => maintenance = true,
                    _ => {
                        err += inc.error_ratio;
                        slow = 1.6;
                    }
                }
            }
        }
        if maintenance {
            rate *= 0.1;
            err = 1.0;
        }
        let lambda = rate * secs;
        let n = if lambda < 50.0 {
            let (l, mut k, mut p) = (libm::exp(-lambda), 0u64, rng::unit(&mut self.rng));
            while p > l {
                k += 1;
                p *= rng::unit(&mut self.rng);
            }
            k
        } else {
            (lambda + lambda.sqrt() * rng::std_normal(&mut self.rng)).round().max(0.0) as u64
        };
        self.requests += n;
        let client = binomial(&mut self.rng, n, h.client_error_ratio);
        let server = binomial(&mut self.rng, n - client, err.min(1.0));
        // Where each failure starts: the incidents' origins, and the
        // baseline's spread evenly over the downstream services.
        let nd = self.series.len() - 1;
        let mut origin = vec![0u64; nd.max(1)];
        if !maintenance {
            let mut sources: Vec<(usize, f64)> = self.incidents.iter().filter(|i| i.start <= mid && mid < i.end).map(|i| (i.origin.min(nd.saturating_sub(1)), i.error_ratio)).collect();
            sources.extend((0..nd.max(1)).map(|o| (o, h.error_ratio / nd.max(1) as f64)));
            let (mut left, mut p_left) = (server, err);
            for (k, &(o, p)) in sources.iter().enumerate() {
                let x = if k + 1 == sources.len() { left } else { binomial(&mut self.rng, left, (p / p_left.max(1e-12)).min(1.0)) };
                origin[o] += x;
                left -= x;
                p_left -= p;
            }
        }
        let split: Vec<(u64, u64)> = origin.iter().map(|&f| {
            let e500 = binomial(&mut self.rng, f, 0.7);
            (e500, f - e500)
        }).collect();
        let (e500, e503) = split.iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let ok = n - client - server;
        // Planned maintenance is excluded from the SLO, as the policy says.
        if !maintenance {
            self.valid += n - client;
            self.failed += server;
        }
        // During planned maintenance the edge drains checkout and answers
        // with a maintenance page: the services' own metrics count nothing
        // (their counters stay flat), which is also why the SLO excludes it.
        // Downstream, a service counts the requests that reached it: the
        // first downstream service all valid ones; a later one those that
        // got past the services called before it, and its own failures.
        let per_svc: Vec<[u64; 4]> = (0..self.series.len())
            .map(|svc| match svc {
                _ if maintenance => [0; 4],
                0 => [ok, client, e500, e503],
                1 => [ok, 0, e500, e503],
                _ => {
                    let j = svc - 1;
                    let later: u64 = origin[j + 1..].iter().sum();
                    [ok + later, 0, split[j].0, split[j].1]
                }
            })
            .collect();
        let median = h.latency_median_us / 1e6;
        let medians = [median * slow, median * 0.4, median * 0.8 * slow, median * 0.05];
        let buckets = self.model.instrumentation.buckets.clone();
        let ts = self.tel.start_unix_ms + to.0 / 1000;
        for (svc, counts) in per_svc.iter().enumerate() {
            let npods = self.series[svc].len();
            for (si, &c) in counts.iter().enumerate() {
                let mut left = c;
                for pod in 0..npods {
                    let share = if pod + 1 == npods { left } else { binomial(&mut self.rng, left, 1.0 / (npods - pod) as f64) };
                    left -= share;
                    if self.series[svc][pod][si].is_none() {
                        continue;
                    }
                    let m = if svc == 0 { medians[si] } else { medians[si] * 0.45 };
                    self.observe(svc, pod, si, share, m, h.sigma, &buckets, (si, slow > 1.0, svc != 0));
                    let jitter = (self.rng.random::<u32>() % 3) as i64 + 1 + (svc * 7 + pod * 3) as i64;
                    let Some(hs) = &self.series[svc][pod][si] else { continue };
                    for &(id, v) in &hs.buckets {
                        self.tel.series.append(id, ts + jitter, v);
                    }
                    self.tel.series.append(hs.sum.0, ts + jitter, hs.sum.1);
                    self.tel.series.append(hs.count.0, ts + jitter, hs.count.1);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn observe(&mut self, svc: usize, pod: usize, si: usize, n: u64, median: f64, sigma: f64, buckets: &[f64], shape: (usize, bool, bool)) {
        if n == 0 {
            return;
        }
        // Multinomial over the buckets of the log-normal, by sequential
        // binomials with conditional probabilities computed once per shape.
        let probs = self.bucket_probs.entry(shape).or_insert_with(|| {
            let mut prev_cdf = 0.0;
            buckets
                .iter()
                .map(|&b| {
                    let cdf = std_normal_cdf((libm::log(b) - libm::log(median)) / sigma.max(1e-6));
                    let p = if prev_cdf < 1.0 { ((cdf - prev_cdf) / (1.0 - prev_cdf)).clamp(0.0, 1.0) } else { 0.0 };
                    prev_cdf = cdf;
                    p
                })
                .collect()
        });
        let mut left = n;
        let mut cum = 0u64;
        let mut incs = [0u64; 65];
        let nb = probs.len();
        for (i, &p) in probs.iter().enumerate() {
            let k = binomial(&mut self.rng, left, p);
            left -= k;
            cum += k;
            incs[i] = cum;
        }
        incs[nb] = n;
        let mean = median * libm::exp(sigma * sigma / 2.0);
        let sum = (n as f64 * mean * (1.0 + 0.05 * rng::std_normal(&mut self.rng) / (n as f64).sqrt())).max(0.0);
        let Some(hs) = &mut self.series[svc][pod][si] else { return };
        for (b, &inc) in hs.buckets.iter_mut().zip(incs.iter()) {
            b.1 += inc as f64;
        }
        hs.sum.1 += sum;
        hs.count.1 += n as f64;
    }

    pub fn finish(self) -> Run {
        let m = &self.model;
        let mut truth = GroundTruth { scenario: m.id.clone(), seed: self.seed, start_unix_ms: m.start_unix_ms, valid_requests: self.valid, failed_requests: self.failed, ..Default::default() };
        for inc in &self.incidents {
            let service = h_service(m, inc);
            truth.history.push(HistoryIncidentTruth { kind: inc.kind.as_str(), start: inc.start, end: inc.end, error_ratio: inc.error_ratio, counts: inc.kind != HistoryKind::Maintenance, service });
        }
        let stats = RunStats { requests: self.requests, completed: self.requests, events: self.steps, ..Default::default() };
        Run { model: self.model, seed: self.seed, telemetry: self.tel, truth, stats }
    }
}

/// The service an incident's failures start in (none for maintenance).
fn h_service(m: &Model, inc: &Incident) -> Option<String> {
    let h = m.history.as_ref()?;
    let &d = h.downstream.get(inc.origin)?;
    (inc.kind != HistoryKind::Maintenance).then(|| m.services[d].name.clone())
}

/// The incidents of the history; `o` draws their origins (a stream of its
/// own, so the origins do not move the incidents).
fn draw_incidents(h: &History, duration: SimDuration, r: &mut SimRng, o: &mut SimRng) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    let end = duration.micros();
    for spec in &h.incidents {
        if rng::unit(r) >= spec.probability {
            continue;
        }
        for _ in 0..spec.count {
            let len = spec.length.0.micros() + ((spec.length.1.micros() - spec.length.0.micros()) as f64 * rng::unit(r)) as i64;
            for _ in 0..50 {
                let start = (rng::unit(r) * (end - len).max(1) as f64) as i64;
                // Keep a day clear of the edges and of other incidents so each is distinct.
                let s = SimTime(start);
                let e = SimTime(start + len);
                let gap = 6 * 3_600_000_000;
                if out.iter().all(|o| e.0 + gap <= o.start.0 || o.end.0 + gap <= s.0) {
                    let ratio = spec.error_ratio.0 + (spec.error_ratio.1 - spec.error_ratio.0) * rng::unit(r);
                    let origin = if h.downstream.is_empty() { 0 } else { o.random_range(0..h.downstream.len()) };
                    out.push(Incident { kind: spec.kind, start: s, end: e, error_ratio: ratio, origin });
                    break;
                }
            }
        }
    }
    crate::sort::sort_by_key(&mut out, |i| i.start);
    out
}
