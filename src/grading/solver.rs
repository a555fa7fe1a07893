//! The automated solver that proves the intermittent-P99 questions fair: it
//! diagnoses a run the way a learner would and must reach the ground truth
//! without reading it. It owns [`diagnose`] and the [`Diagnosis`] it returns
//! (culprit, catalogue mechanism, an evidence trace and span, an incident
//! window, and the steps with the queries behind them).
//!
//! What it may read: the scenario's topology (`run.model`: service, node
//! and datastore names, which the learner sees on the service map) and the
//! telemetry only through what the lab's UI offers: PromQL (including
//! exemplars), LogQL, TraceQL search, one trace's spans as the waterfall
//! shows them (the OpenTelemetry view, [`TraceStore::materialize`]) and the
//! flame graph of a time range. It never reads `run.truth`, nor a span
//! record's fault marker. A cause it cannot find from this data is a bug
//! in the question or in the simulation, not in the grading.
//!
//! The method, as an SRE would work: (1) find when the frontend P99 spikes
//! while its P50 stays flat; (2) collect slow traces in those windows
//! (exemplars and TraceQL); (3) open them and see where the time goes
//! (a wait inside a server span, a gap between a client span and its
//! server, a slow database span, many sequential queries, a retry after a
//! timeout) and on which services, pods and nodes; (4) check the metric,
//! log and profile signal each candidate mechanism would leave, inside the
//! windows against the quiet time; (5) pick the mechanism the traces point
//! at and the signals confirm, and an evidence trace showing it.
//!
//! [`TraceStore::materialize`]: crate::store::TraceStore::materialize

use crate::query::promql::exemplars::query_exemplars;
use crate::query::{logql, promql, traceql};
use crate::scenario::Model;
use crate::sim::Run;
use crate::store::Telemetry;
use crate::telemetry::ids::{SpanId, TraceId};
use crate::telemetry::span::{AttrValue, SpanKind};
use std::collections::{BTreeMap, BTreeSet};

/// The solver's answer to "what is wrong, and show me".
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    /// The culprit: a service name, or for node-level causes
    /// (`cpu_throttling`, `packet_loss`) the node's name.
    pub service: String,
    /// A catalogue name ([`FaultKind::name`](crate::scenario::model::FaultKind::name)).
    pub mechanism: &'static str,
    /// A kept trace that shows the mechanism, and the span in it that does.
    pub evidence_trace: Option<TraceId>,
    pub evidence_span: Option<SpanId>,
    /// Unix ms of one incident, as read off the P99 chart.
    pub window: Option<(i64, i64)>,
    /// The node, for node-level causes.
    pub node: Option<String>,
    /// The pod, for causes confined to one replica.
    pub pod: Option<String>,
    /// The steps as a learner would write them, each with its query.
    pub reasoning: Vec<String>,
}

/// Diagnoses a run of `intermittent-p99` (or any scenario of that shape:
/// a frontend whose P99 spikes in incidents caused by one catalogue fault).
pub fn diagnose(run: &Run) -> Result<Diagnosis, String> {
    let mut lab = Lab::new(&run.model, &run.telemetry);
    let incidents = lab.find_incidents()?;
    let slow = lab.collect_slow_traces(&incidents)?;
    let traces: Vec<TraceView> = slow.iter().filter_map(|&id| lab.open_trace(id)).collect();
    if traces.is_empty() {
        return Err("no slow trace was kept in the incident windows".into());
    }
    let facts = lab.read_traces(&traces);
    let signals = lab.check_signals(&incidents)?;
    lab.conclude(&incidents, &traces, &facts, &signals)
}

// ---------------------------------------------------------------------------
// Access to the telemetry, through the query engines only.

const FRONTEND_BUCKETS: &str = "http_server_request_duration_seconds_bucket";
/// Resolution of the range queries, ms.
const STEP_MS: i64 = 15_000;

struct Lab<'a> {
    model: &'a Model,
    tel: &'a Telemetry,
    start_ms: i64,
    end_ms: i64,
    entry: String,
    notes: Vec<String>,
}

/// A log line and its stream labels.
type LogLine = (BTreeMap<String, String>, String);

/// One span as the waterfall shows it.
#[derive(Clone, Debug)]
struct SpanView {
    id: SpanId,
    parent: SpanId,
    name: String,
    kind: SpanKind,
    /// Unix µs.
    start: i64,
    end: i64,
    service: String,
    pod: String,
    node: String,
    error_type: Option<String>,
    resend: i64,
    cache_hit: Option<bool>,
    category: Option<String>,
    db_system: Option<String>,
    peer: Option<String>,
}

impl SpanView {
    fn dur(&self) -> i64 {
        self.end - self.start
    }
    fn is_db(&self) -> bool {
        self.kind == SpanKind::Client && self.db_system.is_some() && self.cache_hit.is_none()
    }
}

#[derive(Clone, Debug)]
struct TraceView {
    id: TraceId,
    spans: Vec<SpanView>,
    children: Vec<Vec<usize>>,
}

impl TraceView {
    fn duration(&self) -> i64 {
        let a = self.spans.iter().map(|s| s.start).min().unwrap_or(0);
        let b = self.spans.iter().map(|s| s.end).max().unwrap_or(0);
        b - a
    }
}

/// A time series reduced to its values inside and outside the incidents.
#[derive(Clone, Copy, Debug, Default)]
struct InOut {
    in_max: f64,
    in_sum: f64,
    in_n: f64,
    out_max: f64,
    out_sum: f64,
    out_n: f64,
}

impl InOut {
    fn in_mean(&self) -> f64 {
        if self.in_n > 0.0 { self.in_sum / self.in_n } else { 0.0 }
    }
    fn out_mean(&self) -> f64 {
        if self.out_n > 0.0 { self.out_sum / self.out_n } else { 0.0 }
    }
}

fn ms(d: i64) -> String {
    format!("{}ms", d / 1000)
}

impl<'a> Lab<'a> {
    fn new(model: &'a Model, tel: &'a Telemetry) -> Self {
        let entry = model.services.get(model.entry_service).map(|s| s.name.clone()).unwrap_or_else(|| "frontend".into());
        Lab { model, tel, start_ms: model.start_unix_ms, end_ms: model.start_unix_ms + model.duration.micros() / 1000, entry, notes: Vec::new() }
    }

    fn note(&mut self, s: String) {
        self.notes.push(s);
    }

    fn range(&self, q: &str) -> Result<promql::Matrix, String> {
        promql::range_query(&self.tel.series, q, self.start_ms + STEP_MS, self.end_ms, STEP_MS).map_err(|e| format!("PromQL `{q}`: {}", e.message))
    }

    /// Per value of `by`, the series' values inside and outside the windows.
    fn in_out(&self, q: &str, by: &[&str], windows: &[(i64, i64)], margin_ms: i64) -> Result<BTreeMap<String, InOut>, String> {
        let m = self.range(q)?;
        let mut out: BTreeMap<String, InOut> = BTreeMap::new();
        for s in &m {
            let key = by.iter().map(|l| s.labels.get(l).unwrap_or("")).collect::<Vec<_>>().join(" ");
            let e = out.entry(key).or_default();
            for &(t, v) in &s.points {
                if !v.is_finite() {
                    continue;
                }
                if windows.iter().any(|w| t >= w.0 && t <= w.1) {
                    e.in_max = e.in_max.max(v);
                    e.in_sum += v;
                    e.in_n += 1.0;
                } else if !windows.iter().any(|w| t >= w.0 - margin_ms && t <= w.1 + margin_ms) {
                    e.out_max = e.out_max.max(v);
                    e.out_sum += v;
                    e.out_n += 1.0;
                }
            }
        }
        Ok(out)
    }

    /// Log lines matching a LogQL log query in `[from, to)`, newest first.
    fn log_lines(&self, q: &str, from: i64, to: i64, limit: usize) -> Result<Vec<LogLine>, String> {
        let r = logql::query_range(self.tel, q, from, to, 0, limit).map_err(|e| format!("LogQL `{q}`: {}", e.message))?;
        let mut out = Vec::new();
        if let logql::Value::Streams(streams) = r.value {
            for s in streams {
                let labels: BTreeMap<String, String> = s.labels.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect();
                for e in s.entries {
                    out.push((labels.clone(), e.line));
                }
            }
        }
        Ok(out)
    }

    fn search(&self, q: &str, from: i64, to: i64, limit: usize) -> Result<traceql::SearchResult, String> {
        let parsed = traceql::parse(q).map_err(|e| format!("TraceQL `{q}`: {}", e.message))?;
        let opts = traceql::SearchOptions { limit, start_ms: Some(from), end_ms: Some(to), ..Default::default() };
        traceql::search_with(self.tel, &parsed, &opts).map_err(|e| format!("TraceQL `{q}`: {}", e.message))
    }

    /// Opens one trace as the waterfall does.
    fn open_trace(&self, id: TraceId) -> Option<TraceView> {
        let store = &self.tel.traces;
        let summary = store.trace(id)?;
        let mut spans = Vec::new();
        for r in store.trace_spans(summary) {
            let s = store.materialize(r);
            let res = self.tel.resources.get(s.resource.0 as usize)?;
            let mut v = SpanView {
                id: s.span_id,
                parent: s.parent,
                name: s.name.to_string(),
                kind: s.kind,
                start: self.tel.unix_nanos(s.start).div_euclid(1000) as i64,
                end: self.tel.unix_nanos(s.end).div_euclid(1000) as i64,
                service: res.service_name.to_string(),
                pod: res.pod.to_string(),
                node: res.node.to_string(),
                error_type: None,
                resend: 0,
                cache_hit: None,
                category: None,
                db_system: None,
                peer: None,
            };
            for (k, a) in &s.attributes {
                match *k {
                    "error.type" => v.error_type = Some(a.to_string()),
                    "http.request.resend_count" => v.resend = if let AttrValue::Int(i) = a { *i } else { 0 },
                    "app.cache.hit" => v.cache_hit = if let AttrValue::Bool(b) = a { Some(*b) } else { None },
                    "app.product.category" => v.category = Some(a.to_string()),
                    "db.system.name" => v.db_system = Some(a.to_string()),
                    "server.address" => v.peer = Some(a.to_string()),
                    _ => {}
                }
            }
            spans.push(v);
        }
        let index: BTreeMap<u64, usize> = spans.iter().enumerate().map(|(i, s)| (s.id.0, i)).collect();
        let mut children = vec![Vec::new(); spans.len()];
        for (i, s) in spans.iter().enumerate() {
            if let Some(&p) = index.get(&s.parent.0).filter(|_| s.parent.is_valid()) {
                children[p].push(i);
            }
        }
        for c in &mut children {
            crate::sort::sort_by(c, |&a, &b| spans[a].start.cmp(&spans[b].start).then(a.cmp(&b)));
        }
        Some(TraceView { id, spans, children })
    }

    /// CPU samples per folded stack in `[from, to)` (Unix ms) for the pods `keep` accepts.
    fn flame(&self, from: i64, to: i64, keep: impl Fn(&str, &str) -> bool) -> BTreeMap<String, u64> {
        let a = (from - self.tel.start_unix_ms) * 1000;
        let b = (to - self.tel.start_unix_ms) * 1000;
        let tel = self.tel;
        let folded = tel.profiles.folded(a, b, |r| tel.resources.get(r.0 as usize).is_some_and(|res| keep(&res.service_name, &res.pod)));
        folded.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

// ---------------------------------------------------------------------------
// Step 1: when does the frontend's P99 spike?

#[derive(Clone, Debug)]
struct Incidents {
    /// Windows (Unix ms) where the P99 stands out, widened back by the rate window.
    windows: Vec<(i64, i64)>,
    baseline_p99: f64,
}

impl Lab<'_> {
    fn find_incidents(&mut self) -> Result<Incidents, String> {
        let sel = format!("{FRONTEND_BUCKETS}{{service=\"{}\"}}", self.entry);
        let q99 = format!("histogram_quantile(0.99, sum by (le) (rate({sel}[1m])))");
        let q50 = format!("histogram_quantile(0.5, sum by (le) (rate({sel}[1m])))");
        let p99 = self.range(&q99)?;
        let p50 = self.range(&q50)?;
        let pts: Vec<(i64, f64)> = p99.first().map(|s| s.points.iter().copied().filter(|p| p.1.is_finite()).collect()).unwrap_or_default();
        if pts.len() < 8 {
            return Err(format!("the {} P99 has only {} points", self.entry, pts.len()));
        }
        let base = median(pts.iter().map(|p| p.1).collect());
        let thr = (base * 2.5).max(base + 0.05);
        // Runs above the threshold; runs closer than 90 s are one incident.
        let mut runs: Vec<(i64, i64, f64)> = Vec::new();
        for &(t, v) in &pts {
            if v <= thr {
                continue;
            }
            match runs.last_mut() {
                Some(r) if t - r.1 <= 90_000 => {
                    r.1 = t;
                    r.2 = r.2.max(v);
                }
                _ => runs.push((t, t, v)),
            }
        }
        // One lone point is noise, not an incident.
        runs.retain(|r| r.1 > r.0);
        if runs.is_empty() {
            return Err(format!("the {} P99 never rises above {:.0} ms (baseline {:.0} ms)", self.entry, thr * 1e3, base * 1e3));
        }
        let windows: Vec<(i64, i64)> = runs.iter().map(|r| (r.0 - 60_000, r.1)).collect();
        let p50s: Vec<f64> = p50.first().map(|s| s.points.iter().map(|p| p.1).filter(|v| v.is_finite()).collect()).unwrap_or_default();
        let base50 = median(p50s.clone());
        let p50_in = {
            let m = p50.first().map(|s| s.points.iter().filter(|p| windows.iter().any(|w| p.0 >= w.0 + 60_000 && p.0 <= w.1)).map(|p| p.1).filter(|v| v.is_finite()).collect()).unwrap_or_default();
            median(m)
        };
        let list: Vec<String> = runs.iter().map(|r| format!("{}–{} (peak {:.0} ms)", clock(r.0 - 60_000), clock(r.1), r.2 * 1e3)).collect();
        self.note(format!(
            "{} P99 from the duration histogram: baseline {:.0} ms; it spikes above {:.0} ms in {} windows: {}. The P50 stays at {:.0} ms inside them (baseline {:.0} ms), so only a few requests are slow — query: `{q99}` and `{q50}` (step 15s).",
            self.entry,
            base * 1e3,
            thr * 1e3,
            runs.len(),
            list.join(", "),
            p50_in * 1e3,
            base50 * 1e3
        ));
        Ok(Incidents { windows, baseline_p99: base })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return 0.0;
    }
    crate::sort::sort_by(&mut v, |a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `HH:MM:SS` of a Unix ms instant (UTC).
fn clock(t_ms: i64) -> String {
    let s = t_ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

// ---------------------------------------------------------------------------
// Step 2: slow traces in the windows.

/// Traces opened per incident window, at most.
const TRACES_PER_WINDOW: usize = 60;

impl Lab<'_> {
    fn collect_slow_traces(&mut self, inc: &Incidents) -> Result<Vec<TraceId>, String> {
        // Three times the baseline P99; when a mild incident lifts the P99
        // just to about that, so that no kept trace is over it, twice.
        let ids = self.slow_traces_over(inc, 3.0)?;
        if !ids.is_empty() {
            return Ok(ids);
        }
        self.notes.pop();
        self.slow_traces_over(inc, 2.0)
    }

    fn slow_traces_over(&mut self, inc: &Incidents, times_p99: f64) -> Result<Vec<TraceId>, String> {
        let thr_ms = ((inc.baseline_p99 * times_p99 * 1e3) as i64).max(150);
        let sel = format!("{FRONTEND_BUCKETS}{{service=\"{}\"}}", self.entry);
        let expr = promql::parse(&sel).map_err(|e| e.message)?;
        let tq = format!("{{ resource.service.name = \"{}\" && kind = server && duration > {thr_ms}ms }}", self.entry);
        let mut ids: Vec<TraceId> = Vec::new();
        let mut seen = BTreeSet::new();
        let (mut n_ex, mut n_tq) = (0usize, 0usize);
        for &(a, b) in &inc.windows {
            let mut here = 0;
            // The exemplars on the P99 chart first: each dot opens a trace.
            for h in query_exemplars(&self.tel.series, &expr, a, b, 10_000) {
                if here >= TRACES_PER_WINDOW / 2 {
                    break;
                }
                if h.exemplar.value * 1e3 > thr_ms as f64 && self.tel.traces.trace(h.exemplar.trace_id).is_some() && seen.insert(h.exemplar.trace_id) {
                    ids.push(h.exemplar.trace_id);
                    here += 1;
                    n_ex += 1;
                }
            }
            let r = self.search(&tq, a, b + 1, TRACES_PER_WINDOW)?;
            for t in r.traces {
                if here >= TRACES_PER_WINDOW {
                    break;
                }
                if seen.insert(t.trace_id) {
                    ids.push(t.trace_id);
                    here += 1;
                    n_tq += 1;
                }
            }
        }
        // Slow traces outside the windows, for contrast.
        let all = self.search(&tq, self.start_ms, self.end_ms, traceql::MAX_LIMIT)?;
        let outside = all.traces.iter().filter(|t| {
            let ms = (t.start_unix_nano / 1_000_000) as i64;
            !inc.windows.iter().any(|w| ms >= w.0 - 60_000 && ms <= w.1 + 60_000)
        }).count();
        self.note(format!(
            "Slow requests: {} exemplars over {thr_ms} ms on the P99 chart and {} more traces from TraceQL in the windows; the whole run has {} such traces, {} of them outside the windows — query: `{tq}`.",
            n_ex,
            n_tq,
            all.traces.len(),
            outside
        ));
        Ok(ids)
    }
}

// ---------------------------------------------------------------------------
// Step 3: where does the time go in those traces?

/// Where one slow trace spent the time it should not have.
#[derive(Clone, Copy, Debug)]
enum Blame {
    /// A server span idle or busy on its own before a child (`before`) or
    /// after the last one (`None`): waiting for a worker, a lock, a
    /// connection, a paused CPU, or burning CPU.
    Wait { span: usize, before: Option<usize> },
    /// A server span with no children, busy or stalled on its own.
    SelfTime { span: usize },
    /// A client span much longer than the server span it called: time on
    /// the wire or in a paused process at either end.
    Network { client: usize, server: usize },
    /// A client span with no server under it (a datastore or external call).
    SlowCall { span: usize },
    /// Many database calls under one server span.
    Fanout { span: usize },
}

impl Blame {
    /// The span a learner would point at.
    fn span(self) -> usize {
        match self {
            Blame::Wait { span, .. } | Blame::SelfTime { span } | Blame::SlowCall { span } | Blame::Fanout { span } => span,
            Blame::Network { client, .. } => client,
        }
    }
    /// The spans whose pods and nodes the blame implicates.
    fn implicated(self) -> Vec<usize> {
        match self {
            Blame::Network { client, server } => vec![client, server],
            b => vec![b.span()],
        }
    }
}

/// What one opened trace shows.
#[derive(Clone, Debug, Default)]
struct Facts {
    blame: Option<Blame>,
    blame_us: i64,
    /// A call that timed out and was retried: (timed-out span, callee).
    retry: Option<(usize, String)>,
    /// A cache miss followed by a slow query: the query span.
    miss_slow_db: Option<usize>,
    /// A server span with many db calls: (span, calls, product category).
    fanout: Option<(usize, usize, Option<String>)>,
}

/// Largest interval of `span` not covered by any child: (µs, the child after it).
fn largest_gap(t: &TraceView, span: usize) -> (i64, Option<usize>) {
    let s = &t.spans[span];
    let mut cursor = s.start;
    let mut best = (0i64, None);
    for &c in &t.children[span] {
        let cs = t.spans[c].start.max(s.start);
        if cs - cursor > best.0 {
            best = (cs - cursor, Some(c));
        }
        cursor = cursor.max(t.spans[c].end.min(s.end));
    }
    if s.end - cursor > best.0 {
        best = (s.end - cursor, None);
    }
    best
}

/// A server span with this many db calls is an N+1 suspect.
const FANOUT_CALLS: usize = 10;

fn read_trace(t: &TraceView) -> Facts {
    let mut f = Facts::default();
    let consider = |f: &mut Facts, b: Blame, us: i64| {
        if us > f.blame_us {
            f.blame_us = us;
            f.blame = Some(b);
        }
    };
    for (i, s) in t.spans.iter().enumerate() {
        match s.kind {
            SpanKind::Server => {
                let db: Vec<usize> = t.children[i].iter().copied().filter(|&c| t.spans[c].is_db()).collect();
                if db.len() >= FANOUT_CALLS {
                    let us: i64 = db.iter().map(|&c| t.spans[c].dur()).sum();
                    consider(&mut f, Blame::Fanout { span: i }, us);
                    if f.fanout.as_ref().is_none_or(|x| x.1 < db.len()) {
                        f.fanout = Some((i, db.len(), s.category.clone()));
                    }
                }
                let (gap, before) = largest_gap(t, i);
                if t.children[i].is_empty() {
                    consider(&mut f, Blame::SelfTime { span: i }, gap);
                } else {
                    consider(&mut f, Blame::Wait { span: i, before }, gap);
                }
            }
            SpanKind::Client => match t.children[i].iter().copied().find(|&c| t.spans[c].kind == SpanKind::Server) {
                Some(c) => {
                    let cover = t.spans[c].end.min(s.end) - t.spans[c].start.max(s.start);
                    consider(&mut f, Blame::Network { client: i, server: c }, s.dur() - cover.max(0));
                }
                None => consider(&mut f, Blame::SlowCall { span: i }, s.dur()),
            },
            _ => {}
        }
        // A retry: the same call again under the same parent after a timeout.
        if s.resend > 0
            && f.retry.is_none()
            && let Some(p) = t.spans.iter().position(|o| o.parent == s.parent && o.name == s.name && o.resend == s.resend - 1 && o.error_type.as_deref() == Some("timeout"))
        {
            f.retry = Some((p, s.peer.clone().unwrap_or_default()));
        }
        if s.cache_hit == Some(false) {
            let slow = t.spans.iter().enumerate().filter(|(_, o)| o.is_db() && o.parent == s.parent && o.start >= s.end && o.dur() > 50_000).max_by_key(|(_, o)| o.dur());
            if let Some((db, o)) = slow
                && f.miss_slow_db.is_none_or(|x| t.spans[x].dur() < o.dur())
            {
                f.miss_slow_db = Some(db);
            }
        }
    }
    f
}

impl Lab<'_> {
    fn read_traces(&mut self, traces: &[TraceView]) -> Vec<Facts> {
        let facts: Vec<Facts> = traces.iter().map(read_trace).collect();
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for (t, f) in traces.iter().zip(&facts) {
            if let Some(b) = f.blame {
                *kinds.entry(describe_blame(t, b)).or_default() += 1;
            }
        }
        let mut v: Vec<(String, usize)> = kinds.into_iter().collect();
        crate::sort::sort_by(&mut v, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top: Vec<String> = v.iter().take(4).map(|(k, n)| format!("{n}× {k}")).collect();
        let retries = facts.iter().filter(|f| f.retry.is_some()).count();
        let misses = facts.iter().filter(|f| f.miss_slow_db.is_some()).count();
        let fanouts = facts.iter().filter(|f| f.fanout.is_some()).count();
        self.note(format!(
            "Opened {} of them in the waterfall and looked for the longest stretch no child span explains. Most common: {}. Also: {retries} retry a call after a timeout, {misses} have a cache miss followed by a query over 50 ms, {fanouts} run {FANOUT_CALLS} or more queries in one request.",
            traces.len(),
            top.join("; ")
        ));
        facts
    }
}

/// A short, location-bearing description of a blame.
fn describe_blame(t: &TraceView, b: Blame) -> String {
    match b {
        Blame::Wait { span, before } => {
            let s = &t.spans[span];
            let what = before.map(|c| format!("before `{}`", t.spans[c].name)).unwrap_or_else(|| "after its last call".into());
            format!("{} `{}` waits {}", s.service, s.name, what)
        }
        Blame::SelfTime { span } => format!("{} `{}` busy on its own", t.spans[span].service, t.spans[span].name),
        Blame::Network { client, server } => format!("{} → {} `{}` longer than the server span", t.spans[client].service, t.spans[server].service, t.spans[client].name),
        Blame::SlowCall { span } => format!("{} slow `{}`", t.spans[span].service, t.spans[span].name),
        Blame::Fanout { span } => format!("{} `{}` runs many queries", t.spans[span].service, t.spans[span].name),
    }
}

// ---------------------------------------------------------------------------
// Step 4: the catalogue's signals, inside the windows against the rest.

#[derive(Clone, Debug, Default)]
struct Signals {
    pool_pending: BTreeMap<String, InOut>,
    /// The share of each service's pool in use (its busiest pool and pod).
    pool_used: BTreeMap<String, InOut>,
    /// Log counts: (in the windows, whole run).
    pool_logs: BTreeMap<String, (f64, f64)>,
    major_gc: BTreeMap<String, InOut>,
    gc_logs: BTreeMap<String, (f64, f64)>,
    throttled: BTreeMap<String, InOut>,
    retrans: BTreeMap<String, InOut>,
    lock_wait: BTreeMap<String, InOut>,
    lock_logs: BTreeMap<String, (f64, f64)>,
    queue: BTreeMap<String, InOut>,
    /// Share of each service's CPU samples in a blocking call, in the windows.
    blocked_share: BTreeMap<String, f64>,
    retries: BTreeMap<String, InOut>,
    retry_logs: BTreeMap<String, (f64, f64)>,
    /// Keyed "service cache".
    miss_ratio: BTreeMap<String, InOut>,
    db_per_request: BTreeMap<String, InOut>,
    pod_p99: BTreeMap<String, InOut>,
    pod_cpu: BTreeMap<String, InOut>,
    /// pod → (service, node), from the scrape targets.
    pods: BTreeMap<String, (String, String)>,
    queries: BTreeMap<&'static str, String>,
}

impl Signals {
    fn q(&self, name: &str) -> &str {
        self.queries.get(name).map(|s| s.as_str()).unwrap_or("")
    }
}

impl Lab<'_> {
    fn check_signals(&mut self, inc: &Incidents) -> Result<Signals, String> {
        let w = &inc.windows;
        let margin = 120_000;
        let mut s = Signals::default();
        let queries: [(&'static str, &str); 16] = [
            ("pool", "max by (service) (db_client_connection_pending_requests)"),
            ("pool_used", "max by (service) (db_client_connection_count{state=\"used\"} / ignoring (state) db_client_connection_max)"),
            ("gc", "sum by (pod) (increase(jvm_gc_duration_seconds_count{jvm_gc_action=\"end of major GC\"}[1m]))"),
            ("throttled", "sum by (node) (rate(container_cpu_cfs_throttled_seconds_total[1m]))"),
            ("retrans", "sum by (node) (rate(node_netstat_Tcp_RetransSegs_total[1m]))"),
            ("lock", "sum by (service) (rate(app_lock_wait_seconds_total[1m]))"),
            ("queue", "max by (service) (executor_queued_tasks_max)"),
            ("retries", "sum by (server_address) (increase(http_client_request_retries_total[1m]))"),
            ("miss", "sum by (service, cache) (rate(cache_gets_total{result=\"miss\"}[1m])) / sum by (service, cache) (rate(cache_gets_total[1m]))"),
            ("db_per_request", "sum by (service, db_system_name) (rate(db_client_operation_duration_seconds_count[1m])) / on (service) group_left sum by (service) (rate(http_server_request_duration_seconds_count[1m]))"),
            ("pod_p99", "histogram_quantile(0.99, sum by (pod, le) (rate(http_server_request_duration_seconds_bucket[1m])))"),
            ("pod_cpu", "sum by (pod) (rate(container_cpu_usage_seconds_total[1m]))"),
            ("pool_logs", "sum by (service) (count_over_time({namespace=~\".+\"} |= \"timed out waiting for connection\" [RANGE]))"),
            ("gc_logs", "sum by (pod) (count_over_time({logger=\"gc\"} |= \"Humongous\" [RANGE]))"),
            ("lock_logs", "sum by (service) (count_over_time({namespace=~\".+\"} |= \"waiting for lock\" [RANGE]))"),
            ("retry_logs", "sum by (service) (count_over_time({namespace=~\".+\"} |= \"retrying\" [RANGE]))"),
        ];
        for (k, v) in queries {
            s.queries.insert(k, v.to_string());
        }
        s.pool_pending = self.in_out(s.q("pool"), &["service"], w, margin)?;
        s.pool_used = self.in_out(s.q("pool_used"), &["service"], w, margin)?;
        s.major_gc = self.in_out(s.q("gc"), &["pod"], w, margin)?;
        s.throttled = self.in_out(s.q("throttled"), &["node"], w, margin)?;
        s.retrans = self.in_out(s.q("retrans"), &["node"], w, margin)?;
        s.lock_wait = self.in_out(s.q("lock"), &["service"], w, margin)?;
        s.queue = self.in_out(s.q("queue"), &["service"], w, margin)?;
        s.retries = self.in_out(s.q("retries"), &["server_address"], w, margin)?;
        s.miss_ratio = self.in_out(s.q("miss"), &["service", "cache"], w, margin)?;
        s.db_per_request = self.in_out(s.q("db_per_request"), &["service", "db_system_name"], w, margin)?;
        s.pod_p99 = self.in_out(s.q("pod_p99"), &["pod"], w, margin)?;
        s.pod_cpu = self.in_out(s.q("pod_cpu"), &["pod"], w, margin)?;
        s.pool_logs = self.log_counts(s.q("pool_logs"), "service", w)?;
        s.gc_logs = self.log_counts(s.q("gc_logs"), "pod", w)?;
        s.lock_logs = self.log_counts(s.q("lock_logs"), "service", w)?;
        s.retry_logs = self.log_counts(s.q("retry_logs"), "service", w)?;
        // Which service and node each pod belongs to (the service map's pod list).
        for m in self.range("max by (service, pod, node) (up)")? {
            if let (Some(p), Some(sv), Some(n)) = (m.labels.get("pod"), m.labels.get("service"), m.labels.get("node")) {
                s.pods.insert(p.to_string(), (sv.to_string(), n.to_string()));
            }
        }
        for svc in self.model.services.iter().map(|s| s.name.clone()) {
            let (mut blocked, mut total) = (0u64, 0u64);
            for &(a, b) in w {
                for (stack, n) in self.flame(a, b, |sv, _| sv == svc) {
                    total += n;
                    // Blocking I/O on a request thread; a blocked mutex is a lock's doing.
                    if stack.contains("[blocked]") && !stack.contains("Mutex") {
                        blocked += n;
                    }
                }
            }
            if total > 0 {
                s.blocked_share.insert(svc, blocked as f64 / total as f64);
            }
        }
        Ok(s)
    }

    /// A LogQL count (`RANGE` stands for the range) summed over the
    /// incident windows, and over the whole run, per value of `by`.
    fn log_counts(&self, q: &str, by: &str, w: &[(i64, i64)]) -> Result<BTreeMap<String, (f64, f64)>, String> {
        let mut out: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        let mut one = |a: i64, b: i64, inside: bool| -> Result<(), String> {
            let text = q.replace("RANGE", &format!("{}s", ((b - a) / 1000).max(1)));
            let r = logql::query_range(self.tel, &text, b, b, 1000, 1000).map_err(|x| format!("LogQL `{text}`: {}", x.message))?;
            if let logql::Value::Matrix(m) = r.value {
                for s in m {
                    let v = s.points.last().map(|p| p.1).unwrap_or(0.0);
                    let e = out.entry(s.labels.get(by).unwrap_or("").to_string()).or_default();
                    if inside {
                        e.0 += v;
                    } else {
                        e.1 += v;
                    }
                }
            }
            Ok(())
        };
        for &(a, b) in w {
            one(a, b, true)?;
        }
        one(self.start_ms, self.end_ms, false)?;
        Ok(out)
    }
}

/// A string field of a one-line JSON log record (enough for the lab's lines).
fn json_field(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat)? + pat.len();
    let mut out = String::new();
    let mut esc = false;
    for c in line.get(start..)?.chars() {
        match (esc, c) {
            (true, c) => {
                out.push(c);
                esc = false;
            }
            (false, '\\') => esc = true,
            (false, '"') => return Some(out),
            (false, c) => out.push(c),
        }
    }
    None
}

fn next_action(h: &Hyp) -> String {
    match h {
        Hyp::Pool(s) => format!("find the code path in {s} that keeps connections out (the leak detector's stack), and meanwhile size the pool above the burst load"),
        Hyp::Gc(p) => format!("take a heap dump of {p} to find the humongous allocations, tune its heap / G1 region size, and restart it to stop the bleeding"),
        Hyp::Throttle(n) => format!("cordon {n} and move the pods off it, then find the neighbour stealing its CPU and give our pods CPU requests"),
        Hyp::BadReplica(p) => format!("delete {p} so a fresh replica replaces it, and keep its node and memory data to find why it ran slow"),
        Hyp::Flaky(s) => format!("find why {s} hangs for some calls, and give the caller a deadline budget and a circuit breaker instead of blind retries"),
        Hyp::Starvation(s) => format!("move {s}'s blocking call off the request workers (async or its own bounded pool, with a timeout)"),
        Hyp::Stampede(s) => format!("stop {s}'s cache keys expiring together: jittered TTLs, request coalescing or refresh-ahead"),
        Hyp::NPlusOne(s) => format!("batch {s}'s per-item queries into one query (IN list or join)"),
        Hyp::Lock(s) => format!("shorten or move the background job that holds {s}'s lock, or make the lock finer-grained"),
        Hyp::PacketLoss(n) => format!("drain {n} and check its network interface and switch port; move the pods off it"),
    }
}

// ---------------------------------------------------------------------------
// Step 5: candidates confirmed by their signal, ranked by how many slow
// traces they explain.

#[derive(Clone, Debug, PartialEq)]
enum Hyp {
    Pool(String),
    Gc(String),
    Throttle(String),
    BadReplica(String),
    Flaky(String),
    Starvation(String),
    Stampede(String),
    NPlusOne(String),
    Lock(String),
    PacketLoss(String),
}

impl Hyp {
    fn mechanism(&self) -> &'static str {
        match self {
            Hyp::Pool(_) => "pool_exhaustion",
            Hyp::Gc(_) => "gc_pauses",
            Hyp::Throttle(_) => "cpu_throttling",
            Hyp::BadReplica(_) => "bad_replica",
            Hyp::Flaky(_) => "timeouts_retries",
            Hyp::Starvation(_) => "thread_starvation",
            Hyp::Stampede(_) => "cache_stampede",
            Hyp::NPlusOne(_) => "n_plus_one",
            Hyp::Lock(_) => "lock_contention",
            Hyp::PacketLoss(_) => "packet_loss",
        }
    }
    /// Whether one trace shows this mechanism at this place.
    fn explains(&self, t: &TraceView, f: &Facts) -> bool {
        let span = |i: usize| &t.spans[i];
        let implicated = || f.blame.map(|b| b.implicated()).unwrap_or_default();
        match (self, f.blame) {
            (Hyp::Pool(s), Some(Blame::Wait { span: i, before: Some(c) })) => span(i).service == *s && span(c).is_db(),
            (Hyp::Gc(p), _) => implicated().iter().any(|&i| span(i).pod == *p),
            (Hyp::Throttle(n), _) => implicated().iter().any(|&i| span(i).node == *n),
            (Hyp::BadReplica(p), Some(Blame::Wait { span: i, .. } | Blame::SelfTime { span: i })) => span(i).pod == *p,
            (Hyp::Flaky(s), _) => f.retry.as_ref().is_some_and(|r| r.1 == *s),
            (Hyp::Starvation(s) | Hyp::Lock(s), Some(Blame::Wait { span: i, .. })) => span(i).service == *s,
            (Hyp::Stampede(s), b) => f.miss_slow_db.is_some_and(|i| span(i).service == *s) || matches!(b, Some(Blame::SlowCall { span: i }) if span(i).is_db() && span(i).service == *s),
            (Hyp::NPlusOne(s), _) => f.fanout.as_ref().is_some_and(|x| span(x.0).service == *s),
            (Hyp::PacketLoss(n), Some(Blame::Network { client, server })) => span(client).node == *n || span(server).node == *n,
            _ => false,
        }
    }

    /// The span in a trace that shows it best, and how strongly: a
    /// preference class first (the shape the catalogue names beats one that
    /// merely fits), then µs.
    fn evidence(&self, t: &TraceView, f: &Facts) -> Option<(usize, (u8, i64))> {
        if !self.explains(t, f) {
            return None;
        }
        let b = f.blame?;
        let own = |i: usize, on: &dyn Fn(&SpanView) -> bool| matches!(b, Blame::Wait { span, .. } | Blame::SelfTime { span } if span == i && on(&t.spans[i]));
        match self {
            Hyp::Flaky(_) => f.retry.as_ref().map(|r| (r.0, (1, t.spans[r.0].dur()))),
            Hyp::Stampede(_) => f.miss_slow_db.map(|i| (i, (1, t.spans[i].dur()))).or(Some((b.span(), (0, f.blame_us)))),
            Hyp::NPlusOne(_) => f.fanout.as_ref().map(|x| (x.0, (1, x.1 as i64))),
            // Spans in flight on the paused replica or node, stretched where
            // they run, before a call whose delivery or answer waited.
            Hyp::Gc(p) => Some((b.span(), (own(b.span(), &|s| s.pod == *p) as u8, f.blame_us))),
            Hyp::Throttle(n) => Some((b.span(), (own(b.span(), &|s| s.node == *n) as u8 * 2 + matches!(b, Blame::Network { .. }) as u8, f.blame_us))),
            _ => Some((b.span(), (1, f.blame_us))),
        }
    }
}

struct Candidate {
    hyp: Hyp,
    /// What the signal showed, with the query.
    finding: String,
}

fn ratio_text(v: &InOut) -> String {
    format!("{:.3} in the windows vs {:.3} outside (max {:.3} vs {:.3})", v.in_mean(), v.out_mean(), v.in_max, v.out_max)
}

/// Whether a signal stands out in the windows: above `floor` and well over its quiet level.
fn stands_out(v: &InOut, floor: f64, factor: f64) -> bool {
    v.in_max > floor && v.in_mean() > floor / 4.0 && v.in_mean() > factor * v.out_mean() && v.in_max > v.out_max
}

impl Lab<'_> {
    fn candidates(&self, sig: &Signals) -> Vec<Candidate> {
        let mut out = Vec::new();
        let logs = |m: &BTreeMap<String, (f64, f64)>, k: &str| m.get(k).copied().unwrap_or((0.0, 0.0));
        for (svc, v) in &sig.pool_pending {
            let used = sig.pool_used.get(svc).copied().unwrap_or_default();
            let l = logs(&sig.pool_logs, svc);
            // A crowd of waiters, far above the quiet time's (as for retries
            // below: a mean far above it also counts, for an incident too
            // short to be found on the P99); or, since waiters give up after
            // the pool's acquire timeout and a scrape catches few of them,
            // the pool at its maximum, far busier than in quiet times, with
            // waiters or "timed out waiting for connection" warnings.
            let crowd = v.in_max >= 3.0 && (v.in_max > 3.0 * v.out_max || v.in_mean() > 8.0 * v.out_mean());
            let full = used.in_max >= 0.999 && used.in_mean() > 5.0 * used.out_mean() && (v.in_max > 0.0 || l.0 > 0.0);
            if crowd || full {
                out.push(Candidate {
                    hyp: Hyp::Pool(svc.clone()),
                    finding: format!(
                        "{svc}'s connection pool runs dry: {:.0}% of its connections in use at the peak, {:.0}% on average in the windows vs {:.0}% outside (`{}`); up to {:.0} requests pending in the windows, {:.0} outside (`{}`); {:.0} \"timed out waiting for connection\" warnings in the windows (`{}`)",
                        used.in_max * 100.0,
                        used.in_mean() * 100.0,
                        used.out_mean() * 100.0,
                        sig.q("pool_used"),
                        v.in_max,
                        v.out_max,
                        sig.q("pool"),
                        l.0,
                        sig.q("pool_logs")
                    ),
                });
            }
        }
        for (pod, v) in &sig.major_gc {
            if v.in_max > 0.0 && v.in_mean() > 3.0 * v.out_mean() {
                let l = logs(&sig.gc_logs, pod);
                out.push(Candidate {
                    hyp: Hyp::Gc(pod.clone()),
                    finding: format!("{pod} runs full (major) GCs only in the windows: {} per minute (`{}`); {:.0} \"GC pause (G1 Humongous Allocation)\" log lines there (`{}`)", ratio_text(v), sig.q("gc"), l.0, sig.q("gc_logs")),
                });
            }
        }
        for (node, v) in &sig.throttled {
            if stands_out(v, 0.001, 5.0) {
                out.push(Candidate { hyp: Hyp::Throttle(node.clone()), finding: format!("containers on {node} are CPU-throttled in the windows: {} s/s (`{}`)", ratio_text(v), sig.q("throttled")) });
            }
        }
        for (node, v) in &sig.retrans {
            if stands_out(v, 0.05, 5.0) {
                out.push(Candidate { hyp: Hyp::PacketLoss(node.clone()), finding: format!("{node} retransmits TCP segments in the windows: {} /s (`{}`)", ratio_text(v), sig.q("retrans")) });
            }
        }
        for (svc, v) in &sig.lock_wait {
            if stands_out(v, 0.001, 5.0) {
                let l = logs(&sig.lock_logs, svc);
                out.push(Candidate {
                    hyp: Hyp::Lock(svc.clone()),
                    finding: format!("{svc} waits on an application lock in the windows: {} s/s (`{}`); {:.0} \"waiting for lock\" warnings (`{}`)", ratio_text(v), sig.q("lock"), l.0, sig.q("lock_logs")),
                });
            }
        }
        for (svc, share) in &sig.blocked_share {
            let q = sig.queue.get(svc).copied().unwrap_or_default();
            if *share > 0.2 && q.in_max >= 2.0 {
                out.push(Candidate {
                    hyp: Hyp::Starvation(svc.clone()),
                    finding: format!(
                        "{svc}'s worker queue fills up in the windows (up to {:.0} queued, {:.0} outside: `{}`) while {:.0}% of its CPU profile is a blocking read (flame graph over the windows)",
                        q.in_max,
                        q.out_max,
                        sig.q("queue"),
                        share * 100.0
                    ),
                });
            }
        }
        for (svc, v) in &sig.retries {
            // Peaks well above the quiet time's; or, when a short incident at
            // the very end of the run never lifted the P99 enough to count as
            // a window (its retries then sit "outside"), a mean far above it.
            if v.in_max > 0.0 && (v.in_max > 2.0 * v.out_max || v.in_mean() > 8.0 * v.out_mean()) {
                let logged: f64 = sig.retry_logs.values().map(|x| x.0).sum();
                out.push(Candidate {
                    hyp: Hyp::Flaky(svc.clone()),
                    finding: format!("callers retry {svc} after timeouts in the windows: {} retries per minute (`{}`); {logged:.0} \"retrying ... after timeout\" warnings in the windows (`{}`)", ratio_text(v), sig.q("retries"), sig.q("retry_logs")),
                });
            }
        }
        for (key, v) in &sig.miss_ratio {
            let svc = key.split(' ').next().unwrap_or("").to_string();
            if v.in_mean() > 1.5 * v.out_mean() && v.in_max > 0.02 {
                out.push(Candidate { hyp: Hyp::Stampede(svc.clone()), finding: format!("the {key} miss ratio jumps in the windows: {} (`{}`)", ratio_text(v), sig.q("miss")) });
            }
        }
        for (key, v) in &sig.db_per_request {
            let svc = key.split(' ').next().unwrap_or("").to_string();
            if v.in_mean() > 2.0 * v.out_mean() && v.in_max > 0.5 {
                out.push(Candidate { hyp: Hyp::NPlusOne(svc), finding: format!("{key} calls per request rise in the windows: {} (`{}`)", ratio_text(v), sig.q("db_per_request")) });
            }
        }
        // One pod far slower than its siblings, burning more CPU, with no GC
        // or throttling to explain it: the replica itself is bad.
        for (pod, v) in &sig.pod_p99 {
            let Some((svc, node)) = sig.pods.get(pod) else { continue };
            let siblings: Vec<&String> = sig.pods.iter().filter(|(p, (s, _))| *p != pod && s == svc).map(|(p, _)| p).collect();
            if siblings.is_empty() {
                continue;
            }
            let sib_p99 = median(siblings.iter().filter_map(|p| sig.pod_p99.get(*p)).map(|x| x.in_mean()).collect());
            let cpu = sig.pod_cpu.get(pod).copied().unwrap_or_default();
            let sib_cpu = median(siblings.iter().filter_map(|p| sig.pod_cpu.get(*p)).map(|x| x.in_mean()).collect());
            let gc = sig.major_gc.get(pod).is_some_and(|g| g.in_max > 0.0);
            let throttled = sig.throttled.get(node).is_some_and(|t| stands_out(t, 0.001, 5.0));
            if v.in_mean() > 3.0 * sib_p99 && cpu.in_mean() > 1.5 * sib_cpu && !gc && !throttled {
                out.push(Candidate {
                    hyp: Hyp::BadReplica(pod.clone()),
                    finding: format!(
                        "{pod} is a per-pod outlier in the windows: P99 {:.0} ms vs {:.0} ms for the other {svc} pods (`{}`), CPU {:.3} vs {:.3} cores (`{}`), with no major GC and no throttling on {node}",
                        v.in_mean() * 1e3,
                        sib_p99 * 1e3,
                        sig.q("pod_p99"),
                        cpu.in_mean(),
                        sib_cpu,
                        sig.q("pod_cpu")
                    ),
                });
            }
        }
        out
    }

    fn conclude(mut self, inc: &Incidents, traces: &[TraceView], facts: &[Facts], sig: &Signals) -> Result<Diagnosis, String> {
        let mut cands = self.candidates(sig);
        // A pool that runs dry makes its callers time out and retry; a flaky
        // dependency leaves the pool alone. Both signals on one service: the
        // pool is the cause, the retries its symptom.
        let pooled: Vec<String> = cands.iter().filter_map(|c| if let Hyp::Pool(s) = &c.hyp { Some(s.clone()) } else { None }).collect();
        cands.retain(|c| !matches!(&c.hyp, Hyp::Flaky(s) if pooled.contains(s)));
        if cands.is_empty() {
            return Err(format!("no catalogue signal stands out in the incident windows (steps so far: {})", self.notes.join(" | ")));
        }
        let n = traces.len().max(1) as f64;
        let mut scored: Vec<(f64, usize)> = cands
            .iter()
            .enumerate()
            .map(|(k, c)| (traces.iter().zip(facts).filter(|(t, f)| c.hyp.explains(t, f)).count() as f64 / n, k))
            .collect();
        crate::sort::sort_by(&mut scored, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let lines: Vec<String> = scored.iter().map(|&(share, k)| format!("{} — it explains {:.0}% of the slow traces", cands[k].finding, share * 100.0)).collect();
        self.note(format!("Signals that stand out in the windows (against the rest of the run):\n    - {}", lines.join("\n    - ")));
        let Some(&(share, best)) = scored.first() else { return Err("no candidate".into()) };
        let hyp = cands[best].hyp.clone();
        // The evidence: the slow trace that shows the mechanism most clearly.
        let mut ev: Option<(usize, usize, (u8, i64))> = None;
        for (ti, (t, f)) in traces.iter().zip(facts).enumerate() {
            if let Some((span, strength)) = hyp.evidence(t, f)
                && ev.is_none_or(|e| strength > e.2)
            {
                ev = Some((ti, span, strength));
            }
        }
        let (service, node, pod) = match &hyp {
            Hyp::Throttle(n) | Hyp::PacketLoss(n) => (n.clone(), Some(n.clone()), None),
            Hyp::Gc(p) | Hyp::BadReplica(p) => {
                let (s, n) = sig.pods.get(p).cloned().unwrap_or_default();
                (s, Some(n), Some(p.clone()))
            }
            Hyp::Pool(s) | Hyp::Flaky(s) | Hyp::Starvation(s) | Hyp::Stampede(s) | Hyp::NPlusOne(s) | Hyp::Lock(s) => (s.clone(), None, None),
        };
        let mut d = Diagnosis { service, mechanism: hyp.mechanism(), evidence_trace: None, evidence_span: None, window: inc.windows.first().copied(), node, pod, reasoning: Vec::new() };
        if let Some((ti, span, _)) = ev {
            let t = &traces[ti];
            let s = &t.spans[span];
            d.evidence_trace = Some(t.id);
            d.evidence_span = Some(s.id);
            let t0 = t.spans.iter().map(|x| x.start).min().unwrap_or(s.start) / 1000;
            if let Some(w) = inc.windows.iter().find(|w| t0 >= w.0 && t0 <= w.1 + 60_000) {
                d.window = Some(*w);
            }
            let similar = self.similar_query(&hyp, t, span);
            let found = match self.count_matches(&similar, &inc.windows) {
                Ok(n) => format!("{n} traces in the windows match"),
                Err(e) => format!("it fails: {e}"),
            };
            self.note(format!(
                "Evidence: trace {} ({} ms at {}), span {} `{}` on {} ({}): {}. More like it: `{similar}` ({found}).",
                t.id,
                t.duration() / 1000,
                clock(t0),
                s.id,
                s.name,
                s.pod,
                s.node,
                self.explain_span(&hyp, t, &facts[ti], span),
            ));
            self.trace_logs(t);
        }
        let (a, b) = d.window.unwrap_or((0, 0));
        let at = match (&d.pod, &d.node) {
            (Some(p), _) => format!(" (pod {p})"),
            (None, Some(n)) if *n != d.service => format!(" (node {n})"),
            _ => String::new(),
        };
        self.note(format!(
            "Conclusion: {} in {}{at}; it fits {:.0}% of the slow traces. One incident: {}–{}. Next action: {}.",
            d.mechanism,
            d.service,
            share * 100.0,
            clock(a),
            clock(b),
            next_action(&hyp)
        ));
        d.reasoning = self.notes;
        Ok(d)
    }

    /// The warnings and errors logged under the evidence trace's id.
    fn trace_logs(&mut self, t: &TraceView) {
        let from = t.spans.iter().map(|x| x.start).min().unwrap_or(0) / 1000 - 1000;
        let to = t.spans.iter().map(|x| x.end).max().unwrap_or(0) / 1000 + 5000;
        let q = format!("{{namespace=~\".+\", level=~\"warn|error\"}} |= \"{}\"", t.id);
        let lines = self.log_lines(&q, from, to, 50).unwrap_or_default();
        let mut msgs: BTreeMap<String, usize> = BTreeMap::new();
        for (labels, line) in &lines {
            let svc = labels.get("service").cloned().unwrap_or_default();
            *msgs.entry(format!("{svc}: \"{}\"", json_field(line, "msg").unwrap_or_default())).or_default() += 1;
        }
        if msgs.is_empty() {
            self.note(format!("No warning or error is logged under that trace id (`{q}`)."));
        } else {
            let parts: Vec<String> = msgs.iter().take(3).map(|(m, n)| if *n > 1 { format!("{m} ×{n}") } else { m.clone() }).collect();
            self.note(format!("Its logs: {} (`{q}`).", parts.join("; ")));
        }
    }

    fn explain_span(&self, hyp: &Hyp, t: &TraceView, f: &Facts, span: usize) -> String {
        let s = &t.spans[span];
        match (hyp, f.blame) {
            (Hyp::Flaky(callee), _) => format!("the call to {callee} times out after {} and is sent again (http.request.resend_count = 1)", ms(s.dur())),
            (Hyp::Stampede(_), _) => format!("a cache miss, then this query takes {}", ms(s.dur())),
            (Hyp::NPlusOne(_), _) => {
                let (calls, cat) = f.fanout.as_ref().map(|x| (x.1, x.2.clone().unwrap_or_default())).unwrap_or_default();
                format!("{calls} sequential database calls for one request, product category {cat}")
            }
            (_, Some(Blame::Wait { before: Some(c), .. })) => format!("{} pass before `{}` starts", ms(f.blame_us), t.spans[c].name),
            (_, Some(Blame::Wait { before: None, .. } | Blame::SelfTime { .. })) => format!("{} of the span's own time", ms(f.blame_us)),
            (_, Some(Blame::Network { server, .. })) => format!("the client span lasts {} but {}'s server span only {}", ms(s.dur()), t.spans[server].service, ms(t.spans[server].dur())),
            (_, Some(Blame::SlowCall { .. })) => format!("the call takes {}", ms(s.dur())),
            _ => format!("{} span", ms(s.dur())),
        }
    }

    /// A TraceQL query for more traces like the evidence.
    fn similar_query(&self, hyp: &Hyp, t: &TraceView, span: usize) -> String {
        let s = &t.spans[span];
        match hyp {
            Hyp::Flaky(callee) => format!("{{ span.server.address = \"{callee}\" && span.http.request.resend_count > 0 }}"),
            Hyp::NPlusOne(_) => format!("{{ resource.service.name = \"{}\" && span.db.system.name != nil && span.app.cache.hit = nil }} | count() >= {FANOUT_CALLS}", s.service),
            Hyp::Stampede(_) => format!(
                "{{ resource.service.name = \"{0}\" && span.app.cache.hit = false }} && {{ resource.service.name = \"{0}\" && name = \"{1}\" && duration > 50ms }}",
                s.service, s.name
            ),
            Hyp::Throttle(n) | Hyp::PacketLoss(n) => format!("{{ resource.k8s.node.name = \"{n}\" && duration > 200ms }}"),
            Hyp::Gc(p) | Hyp::BadReplica(p) => format!("{{ resource.k8s.pod.name = \"{p}\" && duration > 200ms }}"),
            _ => format!("{{ resource.service.name = \"{}\" && name = \"{}\" && duration > {}ms }}", s.service, s.name, (s.dur() / 2000).max(1)),
        }
    }

    /// Traces matching a TraceQL query, summed over the windows.
    fn count_matches(&self, q: &str, windows: &[(i64, i64)]) -> Result<usize, String> {
        let mut n = 0;
        for &(a, b) in windows {
            n += self.search(q, a, b + 1, traceql::MAX_LIMIT)?.traces.len();
        }
        Ok(n)
    }
}
