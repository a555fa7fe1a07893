//! The resolved scenario the simulator runs: durations parsed, names turned
//! into indexes, parameters checked per fault kind. Every failure is a
//! [`ScenarioError`] naming the field path, the line and what was expected.

use super::format::{self as f, DatastoreKind, Mode};
use crate::charts::panel::{Dashboard, PanelSpec};
use crate::charts::Unit;
use crate::query::promql;
use super::{line_col, ScenarioError};
use crate::sim::time::{parse_duration, SimDuration};
use crate::telemetry::log::{LogFormat, Severity};
use super::toml::Spanned;

/// Most queries one N+1 request makes (a category of 10,000 items loaded
/// one by one is a real page; it is also how the waterfall bench gets a
/// 10,000-span trace). Larger values are read as this.
pub const MAX_N_PLUS_ONE_QUERIES: u32 = 10_000;
/// Most lookups a cache stampede's refill takes; larger values are read as this.
pub const MAX_STAMPEDE_LOOKUPS: u32 = 1_000_000;

#[derive(Clone, Debug)]
pub struct Model {
    pub id: String,
    pub title: String,
    pub subtitle: String,
    pub level: String,
    pub minutes: u32,
    pub teaches: Vec<String>,
    pub briefing: String,
    pub start_unix_ms: i64,
    pub duration: SimDuration,
    pub mode: Mode,
    pub scrape_interval: SimDuration,
    pub namespace: String,
    pub entry_service: usize,
    pub nodes: Vec<Node>,
    pub datastores: Vec<Datastore>,
    pub services: Vec<Service>,
    pub traffic: Traffic,
    pub instrumentation: Instrumentation,
    pub incidents: Option<Incidents>,
    pub faults: Vec<Fault>,
    pub catalogue: Option<Catalogue>,
    pub red_herrings: Vec<Fault>,
    pub history: Option<History>,
    /// The scenario's own dashboards, queries parsed and units checked.
    pub dashboards: Vec<Dashboard>,
    /// Graded questions, their answer sources checked.
    pub questions: Vec<crate::grading::question::Question>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub cores: f64,
}

#[derive(Clone, Debug)]
pub struct Datastore {
    pub name: String,
    pub kind: DatastoreKind,
    pub system: String,
    pub concurrency: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Go,
    Jvm,
    Python,
    Node,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Go => "go",
            Runtime::Jvm => "jvm",
            Runtime::Python => "python",
            Runtime::Node => "node",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub replicas: u32,
    pub workers: u32,
    pub version: String,
    pub runtime: Runtime,
    pub nodes: Vec<usize>,
    /// (datastore, pool size)
    pub pools: Vec<(usize, u32)>,
    pub access_log: bool,
    pub heap_mb: f64,
    /// A pool wait longer than this (µs) logs "timed out waiting for connection".
    pub pool_warn_after_us: i64,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub name: String,
    pub method: String,
    pub route: String,
    pub cpu_median_us: f64,
    pub sigma: f64,
    pub steps: Vec<Step>,
    pub error_ratio: f64,
    pub not_found_ratio: f64,
    pub bad_request_ratio: f64,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub kind: StepKind,
    /// Share of executions that run this step.
    pub probability: f64,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Call { service: usize, endpoint: usize, timeout: Option<SimDuration>, retries: u32 },
    Db { datastore: usize, op: String, table: String, median_us: f64, sigma: f64, error_ratio: f64, timeout: Option<SimDuration> },
    Cache { datastore: usize, op: String, key: String, median_us: f64, sigma: f64, hit_ratio: f64, on_miss: Vec<Step> },
    External { datastore: usize, path: String, median_us: f64, sigma: f64, error_ratio: f64, timeout: Option<SimDuration>, retries: u32 },
    Cpu { median_us: f64, sigma: f64 },
    Parallel(Vec<Step>),
}

#[derive(Clone, Debug)]
pub struct Traffic {
    pub rate: f64,
    pub daily_curve: [f64; 24],
    pub users: u32,
    pub products: u32,
    pub categories: Vec<String>,
    pub bursts: Option<Bursts>,
    /// (service, endpoint, weight normalised to sum 1)
    pub mix: Vec<(usize, usize, f64)>,
}

#[derive(Clone, Debug)]
pub struct Bursts {
    pub every: SimDuration,
    pub length: SimDuration,
    pub factor: f64,
}

/// Which label the HTTP server metrics carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricLabel {
    Method,
    Route,
    Path,
    Status,
    UserId,
    ProductId,
}

impl MetricLabel {
    /// The names a plan writes (`book_id` is read as `product_id` too).
    pub const NAMES: &'static [&'static str] = &["method", "route", "path", "status", "user_id", "product_id"];
    pub const ALL: [MetricLabel; 6] = [MetricLabel::Method, MetricLabel::Route, MetricLabel::Path, MetricLabel::Status, MetricLabel::UserId, MetricLabel::ProductId];
    /// The name a plan writes, e.g. `route`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricLabel::Method => "method",
            MetricLabel::Route => "route",
            MetricLabel::Path => "path",
            MetricLabel::Status => "status",
            MetricLabel::UserId => "user_id",
            MetricLabel::ProductId => "product_id",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "method" => MetricLabel::Method,
            "route" => MetricLabel::Route,
            "path" => MetricLabel::Path,
            "status" => MetricLabel::Status,
            "user_id" => MetricLabel::UserId,
            "product_id" | "book_id" => MetricLabel::ProductId,
            _ => return None,
        })
    }
    /// The Prometheus label name after OTel→Prometheus translation.
    pub fn label_name(self) -> &'static str {
        match self {
            MetricLabel::Method => "http_request_method",
            MetricLabel::Route => "http_route",
            MetricLabel::Path => "url_path",
            MetricLabel::Status => "http_response_status_code",
            MetricLabel::UserId => "user_id",
            MetricLabel::ProductId => "product_id",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Instrumentation {
    pub metrics: bool,
    pub metric_labels: Vec<MetricLabel>,
    pub buckets: Vec<f64>,
    pub inflight_gauge: bool,
    pub cardinality_limit: u32,
    pub tracing: bool,
    pub propagation: bool,
    pub sampling_ratio: f64,
    pub keep_slower_than: SimDuration,
    pub keep_ratio: f64,
    pub log_format: LogFormat,
    pub log_level: Severity,
    pub log_trace_ids: bool,
    pub profiling: bool,
}

#[derive(Clone, Debug)]
pub struct Incidents {
    pub every: SimDuration,
    pub length: SimDuration,
    pub first_after: SimDuration,
}

#[derive(Clone, Debug)]
pub struct Catalogue {
    pub draw: u32,
    pub healthy_every: u64,
    pub faults: Vec<Fault>,
}

/// A fault: a named mechanism with its parameters and when it is active.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    /// Explicit windows (offsets from start); `None` means the incident windows.
    pub windows: Option<Vec<(SimDuration, SimDuration)>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// A leak: a code path on each replica borrows a connection from the
    /// service's pool for `datastore` `per_minute` times a minute and never
    /// returns it; leak detection reclaims it after about `hold`. The rate
    /// is the code path's, not the traffic's, so the leak keeps its
    /// strength whatever the load; `pool_size` caps the pool in the windows
    /// (default: its size).
    PoolExhaustion { service: usize, datastore: usize, pool_size: u32, per_minute: f64, hold: SimDuration },
    /// Stop-the-world pauses of `pause` every `every` on one replica.
    GcPauses { service: usize, replica: Option<u32>, pause: SimDuration, every: SimDuration },
    /// A neighbour steals `ratio` of the node's CPU.
    CpuThrottling { node: usize, ratio: f64 },
    /// On one replica, `ratio` of CPU bursts run `factor` times slower (memory pressure).
    BadReplica { service: usize, replica: Option<u32>, factor: f64, ratio: f64 },
    /// `ratio` of calls from `service` to `target` hang until the caller's timeout.
    FlakyDependency { service: usize, target: usize, ratio: f64 },
    /// `ratio` of requests make a blocking call holding a worker for `hold`.
    ThreadStarvation { service: usize, hold: SimDuration, ratio: f64 },
    /// The cache's keys expire together every `every` of a window and refill over `lookups` lookups.
    CacheStampede { service: usize, datastore: usize, every: SimDuration, lookups: u32 },
    /// `endpoint` issues one query per item for `category`, and that category's traffic surges.
    NPlusOne { service: usize, endpoint: usize, category: u16, queries: u32, factor: f64, cold: f64 },
    /// `endpoint` takes a per-replica lock; a background job grabs it for `hold` every few seconds.
    LockContention { service: usize, endpoint: usize, hold: SimDuration },
    /// `ratio` of packets to/from pods on `node` are lost (200 ms RTO each).
    PacketLoss { node: usize, ratio: f64 },
    /// Red herring: clients cancel `ratio` of requests to the service.
    ErrorBurst { service: usize, ratio: f64 },
    /// Red herring: an irrelevant warning `per_minute` times.
    NoisyWarning { service: usize, message: String, per_minute: f64 },
    /// Red herring: a batch job uses `cores` on a node.
    CpuSpike { node: usize, cores: f64 },
}

impl FaultKind {
    /// The catalogue name of the mechanism.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::PoolExhaustion { .. } => "pool_exhaustion",
            FaultKind::GcPauses { .. } => "gc_pauses",
            FaultKind::CpuThrottling { .. } => "cpu_throttling",
            FaultKind::BadReplica { .. } => "bad_replica",
            FaultKind::FlakyDependency { .. } => "timeouts_retries",
            FaultKind::ThreadStarvation { .. } => "thread_starvation",
            FaultKind::CacheStampede { .. } => "cache_stampede",
            FaultKind::NPlusOne { .. } => "n_plus_one",
            FaultKind::LockContention { .. } => "lock_contention",
            FaultKind::PacketLoss { .. } => "packet_loss",
            FaultKind::ErrorBurst { .. } => "error_burst",
            FaultKind::NoisyWarning { .. } => "noisy_warning",
            FaultKind::CpuSpike { .. } => "cpu_spike",
        }
    }
    pub const ALL: [&'static str; 13] = [
        "pool_exhaustion",
        "gc_pauses",
        "cpu_throttling",
        "bad_replica",
        "timeouts_retries",
        "thread_starvation",
        "cache_stampede",
        "n_plus_one",
        "lock_contention",
        "packet_loss",
        "error_burst",
        "noisy_warning",
        "cpu_spike",
    ];
}

#[derive(Clone, Debug)]
pub struct History {
    pub service: usize,
    pub endpoint: usize,
    pub error_ratio: f64,
    pub client_error_ratio: f64,
    pub latency_median_us: f64,
    pub sigma: f64,
    pub downstream: Vec<usize>,
    pub incidents: Vec<HistoryIncident>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryKind {
    FastBurn,
    SlowBurn,
    Blip,
    Maintenance,
}

impl HistoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryKind::FastBurn => "fast_burn",
            HistoryKind::SlowBurn => "slow_burn",
            HistoryKind::Blip => "blip",
            HistoryKind::Maintenance => "maintenance",
        }
    }
}

#[derive(Clone, Debug)]
pub struct HistoryIncident {
    pub kind: HistoryKind,
    pub count: u32,
    pub length: (SimDuration, SimDuration),
    pub error_ratio: (f64, f64),
    pub probability: f64,
}

impl Model {
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}

/// Resolution context: the source for line numbers.
struct Cx<'a> {
    src: &'a str,
}

impl Cx<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, path: &str, message: impl Into<String>) -> Result<T, ScenarioError> {
        let (line, column) = if span.start == 0 && span.end == 0 { (0, 0) } else { line_col(self.src, span.start) };
        Err(ScenarioError { path: path.to_string(), line, column, message: message.into() })
    }
    fn dur(&self, s: &Spanned<String>, path: &str) -> Result<SimDuration, ScenarioError> {
        match parse_duration(s.get_ref()) {
            Ok(d) => Ok(d),
            Err(e) => self.err(s.span(), path, format!("expected a duration such as \"250ms\", \"15s\" or \"1h\", found {:?}: {}", s.get_ref(), e.message)),
        }
    }
    fn micros(&self, s: &Spanned<String>, path: &str) -> Result<f64, ScenarioError> {
        Ok(self.dur(s, path)?.micros() as f64)
    }
    fn ratio(&self, v: f64, path: &str) -> Result<f64, ScenarioError> {
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            self.err(0..0, path, format!("expected a ratio between 0 and 1, found {v}"))
        }
    }
    fn positive(&self, v: f64, path: &str) -> Result<f64, ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            self.err(0..0, path, format!("expected a positive number, found {v}"))
        }
    }
}

fn names_of<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// Resolves a parsed file into a [`Model`].
/// Checks each panel's PromQL and unit; an error points into the query.
fn resolve_dashboards(cx: &Cx, specs: &[f::DashboardSpec]) -> Result<Vec<Dashboard>, ScenarioError> {
    let mut out: Vec<Dashboard> = Vec::new();
    for (i, d) in specs.iter().enumerate() {
        if out.iter().any(|o| o.id == d.id) {
            return cx.err(0..0, &format!("dashboards[{i}].id"), format!("dashboard {:?} is defined twice", d.id));
        }
        let mut panels = Vec::new();
        for (j, p) in d.panels.iter().enumerate() {
            let path = format!("dashboards[{i}].panels[{j}]");
            // Interval variables are checked with a stand-in value; positions
            // of errors before the first one still point right.
            if let Err(e) = promql::parse(&crate::charts::panel::expand(p.expr.get_ref(), 60_000, 15_000)) {
                // Point at the error inside the string when it is a one-line
                // basic string (the usual case); else at the string.
                let span = p.expr.span();
                let inner = span.start + 1 + e.span.start;
                let at = if !p.expr.get_ref().contains('\n') && inner < span.end { inner..inner + 1 } else { span };
                return cx.err(at, &format!("{path}.expr"), format!("the PromQL does not parse: {}", e.message));
            }
            let unit = Unit::parse(p.unit.get_ref()).or_else(|e| cx.err(p.unit.span(), &format!("{path}.unit"), e.to_string()))?;
            panels.push(PanelSpec {
                title: p.title.clone(),
                expr: p.expr.get_ref().clone(),
                unit,
                legend: p.legend.clone(),
                thresholds: p.thresholds.clone(),
                description: p.description.clone(),
            });
        }
        out.push(Dashboard { id: d.id.clone(), title: d.title.clone(), panels });
    }
    Ok(out)
}

pub fn resolve(file: &f::ScenarioFile, src: &str) -> Result<Model, ScenarioError> {
    let cx = Cx { src };
    let meta = &file.scenario;
    if meta.id.is_empty() || !meta.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return cx.err(0..0, "scenario.id", format!("expected letters, digits, '-' or '_', found {:?}", meta.id));
    }
    let start_unix_ms = match parse_rfc3339(meta.start.get_ref()) {
        Some(t) => t,
        None => return cx.err(meta.start.span(), "scenario.start", format!("expected an RFC 3339 UTC time such as \"2026-03-02T09:00:00Z\", found {:?}", meta.start.get_ref())),
    };
    let duration = cx.dur(&meta.duration, "scenario.duration")?;
    if duration.micros() <= 0 || duration > SimDuration::from_secs(90 * 86400) {
        return cx.err(meta.duration.span(), "scenario.duration", "expected a duration above zero and at most 90d");
    }
    let scrape_interval = cx.dur(&meta.scrape_interval, "scenario.scrape_interval")?;
    if scrape_interval < SimDuration::from_secs(1) {
        return cx.err(meta.scrape_interval.span(), "scenario.scrape_interval", "expected at least 1s");
    }

    let mut nodes = Vec::new();
    for (i, n) in file.nodes.iter().enumerate() {
        cx.positive(n.cores, &format!("nodes[{i}].cores"))?;
        if nodes.iter().any(|m: &Node| m.name == n.name) {
            return cx.err(0..0, &format!("nodes[{i}].name"), format!("node {:?} is defined twice", n.name));
        }
        nodes.push(Node { name: n.name.clone(), cores: n.cores });
    }
    let mut datastores = Vec::new();
    for (i, d) in file.datastores.iter().enumerate() {
        if d.concurrency == 0 {
            return cx.err(0..0, &format!("datastores[{i}].concurrency"), "expected at least 1");
        }
        datastores.push(Datastore { name: d.name.clone(), kind: d.kind, system: d.system.clone(), concurrency: d.concurrency });
    }
    if meta.mode == Mode::Requests && nodes.is_empty() {
        return cx.err(0..0, "nodes", "expected at least one [[nodes]] entry");
    }

    // Services in two passes: names first, so calls can point forward.
    let svc_names: Vec<&str> = file.services.iter().map(|s| s.name.as_str()).collect();
    let ep_names: Vec<Vec<&str>> = file.services.iter().map(|s| s.endpoints.iter().map(|e| e.name.get_ref().as_str()).collect()).collect();
    let find_svc = |name: &Spanned<String>, path: &str| -> Result<usize, ScenarioError> {
        svc_names.iter().position(|s| *s == name.get_ref()).map_or_else(
            || cx.err(name.span(), path, format!("unknown service {:?}; expected one of: {}", name.get_ref(), names_of(svc_names.iter().copied()))),
            Ok,
        )
    };
    let find_ep = |svc: usize, name: &Spanned<String>, path: &str| -> Result<usize, ScenarioError> {
        ep_names[svc].iter().position(|s| *s == name.get_ref()).map_or_else(
            || cx.err(name.span(), path, format!("service {:?} has no endpoint {:?}; expected one of: {}", svc_names[svc], name.get_ref(), names_of(ep_names[svc].iter().copied()))),
            Ok,
        )
    };
    let find_ds = |name: &Spanned<String>, want: DatastoreKind, path: &str| -> Result<usize, ScenarioError> {
        match datastores.iter().position(|d: &Datastore| d.name == *name.get_ref()) {
            Some(i) if datastores[i].kind == want => Ok(i),
            Some(_) => cx.err(name.span(), path, format!("datastore {:?} is not a {}", name.get_ref(), want.as_str())),
            None => cx.err(name.span(), path, format!("unknown datastore {:?}; expected one of: {}", name.get_ref(), names_of(datastores.iter().map(|d| d.name.as_str())))),
        }
    };
    let find_node = |name: &Spanned<String>, path: &str| -> Result<usize, ScenarioError> {
        nodes.iter().position(|n: &Node| n.name == *name.get_ref()).map_or_else(
            || cx.err(name.span(), path, format!("unknown node {:?}; expected one of: {}", name.get_ref(), names_of(nodes.iter().map(|n| n.name.as_str())))),
            Ok,
        )
    };

    let mut services = Vec::new();
    for (si, s) in file.services.iter().enumerate() {
        let p = format!("services[{si}]");
        if svc_names[..si].contains(&s.name.as_str()) {
            return cx.err(0..0, &format!("{p}.name"), format!("service {:?} is defined twice", s.name));
        }
        if s.replicas == 0 || s.replicas > 64 {
            return cx.err(0..0, &format!("{p}.replicas"), "expected between 1 and 64 replicas");
        }
        if s.workers == 0 {
            return cx.err(0..0, &format!("{p}.workers"), "expected at least 1 worker");
        }
        let runtime = match s.runtime.as_str() {
            "go" => Runtime::Go,
            "jvm" => Runtime::Jvm,
            "python" => Runtime::Python,
            "node" => Runtime::Node,
            other => return cx.err(0..0, &format!("{p}.runtime"), format!("expected go, jvm, python or node, found {other:?}")),
        };
        let mut snodes = Vec::new();
        for (ni, n) in s.nodes.iter().enumerate() {
            snodes.push(find_node(n, &format!("{p}.nodes[{ni}]"))?);
        }
        if snodes.is_empty() {
            snodes = (0..nodes.len()).collect();
        }
        let mut pools = Vec::new();
        // In key order (the TOML table's), which the simulation depends on.
        for (k, entry) in s.pools.iter() {
            let path = format!("{p}.pools.{k}");
            let name = Spanned::new(entry.key_span.clone(), k.to_string());
            let ds = find_ds(&name, DatastoreKind::Database, &path).or_else(|_| find_ds(&name, DatastoreKind::Cache, &path))?;
            let v = &entry.value;
            match v.get_ref().as_integer().filter(|&n| (1..=10_000).contains(&n)) {
                Some(n) => pools.push((ds, n as u32)),
                None => return cx.err(v.span(), &path, format!("expected a pool size between 1 and 10000, found {}", v.get_ref().describe())),
            }
        }
        let mut endpoints = Vec::new();
        for (ei, e) in s.endpoints.iter().enumerate() {
            let ep = format!("{p}.endpoints[{ei}]");
            let name = e.name.get_ref();
            let Some((method, route)) = name.split_once(' ').filter(|(m, r)| !m.is_empty() && r.starts_with('/')) else {
                return cx.err(e.name.span(), &format!("{ep}.name"), format!("expected \"METHOD /route\", found {name:?}"));
            };
            let mut steps = Vec::new();
            for (ti, t) in e.steps.iter().enumerate() {
                steps.push(resolve_step(&cx, t, &format!("{ep}.steps[{ti}]"), &find_svc, &find_ep, &find_ds, 0)?);
            }
            endpoints.push(Endpoint {
                name: name.clone(),
                method: method.to_string(),
                route: route.to_string(),
                cpu_median_us: cx.micros(&e.cpu, &format!("{ep}.cpu"))?,
                sigma: e.sigma.clamp(0.0, 3.0),
                steps,
                error_ratio: cx.ratio(e.error_ratio, &format!("{ep}.error_ratio"))?,
                not_found_ratio: cx.ratio(e.not_found_ratio, &format!("{ep}.not_found_ratio"))?,
                bad_request_ratio: cx.ratio(e.bad_request_ratio, &format!("{ep}.bad_request_ratio"))?,
            });
        }
        services.push(Service {
            name: s.name.clone(),
            replicas: s.replicas,
            workers: s.workers,
            version: s.version.clone(),
            runtime,
            nodes: snodes,
            pools,
            access_log: s.access_log,
            heap_mb: s.heap_mb.max(16.0),
            pool_warn_after_us: match &s.pool_warn_after {
                Some(d) => cx.micros(d, &format!("{p}.pool_warn_after"))? as i64,
                None => 100_000,
            },
            endpoints,
        });
    }
    // Calls must not loop back to the caller (no recursion in the topology).
    for (si, s) in services.iter().enumerate() {
        for (ei, _) in s.endpoints.iter().enumerate() {
            if reaches(&services, si, ei, si, ei, 0) {
                return cx.err(0..0, &format!("services[{si}].endpoints[{ei}]"), "this endpoint calls itself, directly or through other services");
            }
        }
    }

    let t = &file.traffic;
    cx.positive(t.rate, "traffic.rate")?;
    if t.rate > 5_000.0 {
        return cx.err(0..0, "traffic.rate", "expected at most 5000 requests/s (the browser has to simulate every one)");
    }
    let mut daily_curve = [1.0; 24];
    if !t.daily_curve.is_empty() {
        if t.daily_curve.len() != 24 || t.daily_curve.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return cx.err(0..0, "traffic.daily_curve", "expected 24 hourly multipliers between 0 and 1");
        }
        daily_curve.copy_from_slice(&t.daily_curve);
    }
    let bursts = match &t.bursts {
        Some(b) => Some(Bursts {
            every: cx.dur(&b.every, "traffic.bursts.every")?,
            length: cx.dur(&b.length, "traffic.bursts.length")?,
            factor: cx.positive(b.factor, "traffic.bursts.factor")?,
        }),
        None => None,
    };
    let mut mix = Vec::new();
    let total: f64 = t.mix.iter().map(|m| m.weight.max(0.0)).sum();
    for (i, m) in t.mix.iter().enumerate() {
        let p = format!("traffic.mix[{i}]");
        let s = find_svc(&m.service, &format!("{p}.service"))?;
        let e = find_ep(s, &m.endpoint, &format!("{p}.endpoint"))?;
        cx.positive(m.weight, &format!("{p}.weight"))?;
        mix.push((s, e, m.weight / total));
    }
    if mix.is_empty() && meta.mode == Mode::Requests {
        return cx.err(0..0, "traffic.mix", "expected at least one [[traffic.mix]] entry");
    }
    if t.users == 0 || t.products == 0 {
        return cx.err(0..0, "traffic", "expected at least one user and one product");
    }
    let traffic = Traffic { rate: t.rate, daily_curve, users: t.users, products: t.products, categories: t.categories.clone(), bursts, mix };

    let instrumentation = match resolve_instrumentation(&file.instrumentation, "instrumentation") {
        Ok(i) => i,
        Err(e) => return cx.err(e.span, &e.path, e.message),
    };

    let incidents = match &file.incidents {
        Some(inc) => Some(Incidents {
            every: cx.dur(&inc.every, "incidents.every")?,
            length: cx.dur(&inc.length, "incidents.length")?,
            first_after: match &inc.first_after {
                Some(d) => cx.dur(d, "incidents.first_after")?,
                None => SimDuration::from_secs(300),
            },
        }),
        None => None,
    };
    let rf = |spec: &f::FaultSpec, path: &str| resolve_fault(&cx, spec, path, &services, &nodes, &datastores, &traffic, &find_svc, &find_ep, &find_node, incidents.is_some());
    let mut faults = Vec::new();
    for (k, spec) in file.faults.iter().enumerate() {
        faults.push(rf(spec, &format!("faults[{k}]"))?);
    }
    let catalogue = match &file.catalogue {
        Some(c) => {
            let mut fs = Vec::new();
            for (k, spec) in c.faults.iter().enumerate() {
                fs.push(rf(spec, &format!("catalogue.faults[{k}]"))?);
            }
            if fs.is_empty() {
                return cx.err(0..0, "catalogue.faults", "expected at least one fault");
            }
            Some(Catalogue { draw: c.draw.min(fs.len() as u32), healthy_every: c.healthy_every, faults: fs })
        }
        None => None,
    };
    let mut red_herrings = Vec::new();
    for (k, spec) in file.red_herrings.iter().enumerate() {
        red_herrings.push(rf(spec, &format!("red_herrings[{k}]"))?);
    }

    let history = match &file.history {
        Some(h) => {
            let service = find_svc(&h.service, "history.service")?;
            let endpoint = find_ep(service, &h.endpoint, "history.endpoint")?;
            let mut downstream = Vec::new();
            for (k, d) in h.downstream.iter().enumerate() {
                downstream.push(find_svc(&Spanned::new(0..0, d.clone()), &format!("history.downstream[{k}]"))?);
            }
            let mut incidents = Vec::new();
            for (k, inc) in h.incidents.iter().enumerate() {
                let p = format!("history.incidents[{k}]");
                let kind = match inc.kind.get_ref().as_str() {
                    "fast_burn" => HistoryKind::FastBurn,
                    "slow_burn" => HistoryKind::SlowBurn,
                    "blip" => HistoryKind::Blip,
                    "maintenance" => HistoryKind::Maintenance,
                    other => return cx.err(inc.kind.span(), &format!("{p}.kind"), format!("expected fast_burn, slow_burn, blip or maintenance, found {other:?}")),
                };
                let length = (cx.dur(&inc.length[0], &format!("{p}.length[0]"))?, cx.dur(&inc.length[1], &format!("{p}.length[1]"))?);
                if length.0 > length.1 || length.0.micros() <= 0 {
                    return cx.err(inc.length[0].span(), &format!("{p}.length"), "expected [min, max] with 0 < min <= max");
                }
                let error_ratio = (cx.ratio(inc.error_ratio[0], &format!("{p}.error_ratio[0]"))?, cx.ratio(inc.error_ratio[1], &format!("{p}.error_ratio[1]"))?);
                incidents.push(HistoryIncident { kind, count: inc.count, length, error_ratio, probability: cx.ratio(inc.probability, &format!("{p}.probability"))? });
            }
            Some(History {
                service,
                endpoint,
                error_ratio: cx.ratio(h.error_ratio, "history.error_ratio")?,
                client_error_ratio: cx.ratio(h.client_error_ratio, "history.client_error_ratio")?,
                latency_median_us: cx.micros(&h.latency, "history.latency")?,
                sigma: h.sigma.clamp(0.0, 3.0),
                downstream,
                incidents,
            })
        }
        None => None,
    };
    if meta.mode == Mode::Aggregate && history.is_none() {
        return cx.err(0..0, "history", "mode = \"aggregate\" needs a [history] table");
    }
    let entry_service = match &meta.entry_service {
        Some(n) => find_svc(&Spanned::new(0..0, n.clone()), "scenario.entry_service")?,
        None => traffic.mix.first().map(|m| m.0).unwrap_or(0),
    };
    if services.is_empty() {
        return cx.err(0..0, "services", "expected at least one [[services]] entry");
    }

    Ok(Model {
        id: meta.id.clone(),
        title: meta.title.clone(),
        subtitle: meta.subtitle.clone(),
        level: meta.level.clone(),
        minutes: meta.minutes,
        teaches: meta.teaches.clone(),
        briefing: meta.briefing.clone(),
        start_unix_ms,
        duration,
        mode: meta.mode,
        scrape_interval,
        namespace: meta.namespace.clone(),
        entry_service,
        nodes,
        datastores,
        services,
        traffic,
        instrumentation,
        incidents,
        faults,
        catalogue,
        red_herrings,
        history,
        dashboards: resolve_dashboards(&cx, &file.dashboards)?,
        questions: match crate::grading::question::resolve(&file.questions) {
            Ok(q) => q,
            Err(e) => return cx.err(e.span, &e.path, e.message),
        },
    })
}

/// A field of a table that does not resolve: where it is (`0..0` for a
/// default), its path and a sentence saying what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub span: std::ops::Range<usize>,
    pub path: String,
    pub message: String,
}

/// Resolves an `[instrumentation]` table (decoded at `path`) into the plan
/// the simulator follows. Shared by scenario files and by answers that are
/// plans (`grading::plan`), so both accept and reject the same tables.
pub fn resolve_instrumentation(i: &f::InstrumentationSpec, path: &str) -> Result<Instrumentation, FieldError> {
    let at = |span: std::ops::Range<usize>, field: &str, message: String| FieldError { span, path: format!("{path}.{field}"), message };
    let ratio = |v: &Spanned<f64>, field: &str| -> Result<f64, FieldError> {
        let x = *v.get_ref();
        if (0.0..=1.0).contains(&x) { Ok(x) } else { Err(at(v.span(), field, format!("expected a ratio between 0 and 1, found {x}"))) }
    };
    let mut metric_labels = Vec::new();
    for (k, l) in i.metric_labels.iter().enumerate() {
        match MetricLabel::parse(l.get_ref()) {
            Some(m) if !metric_labels.contains(&m) => metric_labels.push(m),
            Some(_) => {}
            None => return Err(at(l.span(), &format!("metric_labels[{k}]"), format!("expected one of {}, found {:?}", MetricLabel::NAMES.join(", "), l.get_ref()))),
        }
    }
    let written = i.buckets.get_ref();
    let buckets = if written.is_empty() { crate::telemetry::semconv::HTTP_BUCKETS.to_vec() } else { written.clone() };
    if buckets.windows(2).any(|w| !(w[0] < w[1])) || buckets.iter().any(|b| !b.is_finite() || *b <= 0.0) || buckets.len() > 64 {
        return Err(at(i.buckets.span(), "buckets", "expected up to 64 increasing positive bucket bounds".into()));
    }
    let keep_slower_than = match parse_duration(i.keep_slower_than.get_ref()) {
        Ok(d) => d,
        Err(e) => return Err(at(i.keep_slower_than.span(), "keep_slower_than", format!("expected a duration such as \"250ms\", \"15s\" or \"1h\", found {:?}: {}", i.keep_slower_than.get_ref(), e.message))),
    };
    Ok(Instrumentation {
        metrics: i.metrics,
        metric_labels,
        buckets,
        inflight_gauge: i.inflight_gauge,
        cardinality_limit: i.cardinality_limit.max(1),
        tracing: i.tracing,
        propagation: i.propagation,
        sampling_ratio: ratio(&i.sampling_ratio, "sampling_ratio")?,
        keep_slower_than,
        keep_ratio: ratio(&i.keep_ratio, "keep_ratio")?,
        log_format: match i.log_format.get_ref().as_str() {
            "json" => LogFormat::Json,
            "plain" | "text" => LogFormat::Plain,
            other => return Err(at(i.log_format.span(), "log_format", format!("expected \"json\" or \"plain\", found {other:?}"))),
        },
        log_level: match Severity::parse(i.log_level.get_ref()) {
            Some(s) => s,
            None => return Err(at(i.log_level.span(), "log_level", format!("expected debug, info, warn or error, found {:?}", i.log_level.get_ref()))),
        },
        log_trace_ids: i.log_trace_ids,
        profiling: i.profiling,
    })
}

fn reaches(services: &[Service], si: usize, ei: usize, target_s: usize, target_e: usize, depth: u32) -> bool {
    if depth > 16 {
        return true;
    }
    fn walk(services: &[Service], steps: &[Step], ts: usize, te: usize, depth: u32) -> bool {
        steps.iter().any(|st| match &st.kind {
            StepKind::Call { service, endpoint, .. } => (*service == ts && *endpoint == te) || reaches(services, *service, *endpoint, ts, te, depth + 1),
            StepKind::Parallel(v) => walk(services, v, ts, te, depth),
            StepKind::Cache { on_miss, .. } => walk(services, on_miss, ts, te, depth),
            _ => false,
        })
    }
    walk(services, &services[si].endpoints[ei].steps, target_s, target_e, depth)
}

type FindSvc<'a> = dyn Fn(&Spanned<String>, &str) -> Result<usize, ScenarioError> + 'a;
type FindEp<'a> = dyn Fn(usize, &Spanned<String>, &str) -> Result<usize, ScenarioError> + 'a;
type FindDs<'a> = dyn Fn(&Spanned<String>, DatastoreKind, &str) -> Result<usize, ScenarioError> + 'a;

fn resolve_step(cx: &Cx, t: &f::StepSpec, p: &str, find_svc: &FindSvc, find_ep: &FindEp, find_ds: &FindDs, depth: u32) -> Result<Step, ScenarioError> {
    if depth > 4 {
        return cx.err(0..0, p, "steps nest more than 4 levels deep");
    }
    let set = [t.call.is_some(), t.db.is_some(), t.cache.is_some(), t.external.is_some(), t.cpu.is_some(), t.parallel.is_some()];
    if set.iter().filter(|&&b| b).count() != 1 {
        return cx.err(0..0, p, "expected exactly one of call, db, cache, external, cpu or parallel in a step");
    }
    let median = |d: &Option<Spanned<String>>, def: &str, field: &str| -> Result<f64, ScenarioError> {
        match d {
            Some(s) => cx.micros(s, &format!("{p}.{field}")),
            None => Ok(parse_duration(def).map(|d| d.micros() as f64).unwrap_or(1000.0)),
        }
    };
    let timeout = match &t.timeout {
        Some(s) => Some(cx.dur(s, &format!("{p}.timeout"))?),
        None => None,
    };
    let sigma = t.sigma.unwrap_or(0.4).clamp(0.0, 3.0);
    let error_ratio = cx.ratio(t.error_ratio.unwrap_or(0.0), &format!("{p}.error_ratio"))?;
    let kind = if let Some(c) = &t.call {
        let service = find_svc(c, &format!("{p}.call"))?;
        let Some(e) = &t.endpoint else {
            return cx.err(c.span(), &format!("{p}.endpoint"), "a call step needs endpoint = \"METHOD /route\"");
        };
        StepKind::Call { service, endpoint: find_ep(service, e, &format!("{p}.endpoint"))?, timeout, retries: t.retries.min(5) }
    } else if let Some(d) = &t.db {
        StepKind::Db {
            datastore: find_ds(d, DatastoreKind::Database, &format!("{p}.db"))?,
            op: t.op.clone().unwrap_or_else(|| "SELECT".into()),
            table: t.table.clone().unwrap_or_else(|| "items".into()),
            median_us: median(&t.time, "2ms", "time")?,
            sigma,
            error_ratio,
            timeout,
        }
    } else if let Some(c) = &t.cache {
        let mut on_miss = Vec::new();
        for (k, s) in t.on_miss.iter().flatten().enumerate() {
            on_miss.push(resolve_step(cx, s, &format!("{p}.on_miss[{k}]"), find_svc, find_ep, find_ds, depth + 1)?);
        }
        StepKind::Cache {
            datastore: find_ds(c, DatastoreKind::Cache, &format!("{p}.cache"))?,
            op: t.op.clone().unwrap_or_else(|| "GET".into()),
            key: t.table.clone().unwrap_or_else(|| "item".into()),
            median_us: median(&t.time, "300us", "time")?,
            sigma,
            hit_ratio: cx.ratio(t.hit_ratio.unwrap_or(0.9), &format!("{p}.hit_ratio"))?,
            on_miss,
        }
    } else if let Some(x) = &t.external {
        StepKind::External {
            datastore: find_ds(x, DatastoreKind::External, &format!("{p}.external"))?,
            path: t.table.clone().unwrap_or_else(|| "/".into()),
            median_us: median(&t.time, "50ms", "time")?,
            sigma,
            error_ratio,
            timeout,
            retries: t.retries.min(5),
        }
    } else if let Some(c) = &t.cpu {
        StepKind::Cpu { median_us: cx.micros(c, &format!("{p}.cpu"))?, sigma }
    } else {
        let mut v = Vec::new();
        for (k, s) in t.parallel.iter().flatten().enumerate() {
            v.push(resolve_step(cx, s, &format!("{p}.parallel[{k}]"), find_svc, find_ep, find_ds, depth + 1)?);
        }
        if v.is_empty() {
            return cx.err(0..0, &format!("{p}.parallel"), "expected at least one step");
        }
        StepKind::Parallel(v)
    };
    Ok(Step { kind, probability: cx.ratio(t.probability.unwrap_or(1.0), &format!("{p}.probability"))? })
}

#[allow(clippy::too_many_arguments)]
fn resolve_fault(
    cx: &Cx,
    s: &f::FaultSpec,
    p: &str,
    services: &[Service],
    nodes: &[Node],
    datastores: &[Datastore],
    traffic: &Traffic,
    find_svc: &FindSvc,
    find_ep: &FindEp,
    find_node: &dyn Fn(&Spanned<String>, &str) -> Result<usize, ScenarioError>,
    have_incidents: bool,
) -> Result<Fault, ScenarioError> {
    let kind_name = s.kind.get_ref().as_str();
    fn need_f<T>(cx: &Cx, s: &f::FaultSpec, p: &str, field: &str) -> Result<T, ScenarioError> {
        cx.err(s.kind.span(), &format!("{p}.{field}"), format!("a {} fault needs {field}", s.kind.get_ref()))
    }
    let need = |field: &str| -> Result<(), ScenarioError> { need_f::<()>(cx, s, p, field) };
    let svc = |field: &str| -> Result<usize, ScenarioError> {
        match &s.service {
            Some(n) => find_svc(n, &format!("{p}.service")),
            None => need(field).map(|_| 0),
        }
    };
    let node = || -> Result<usize, ScenarioError> {
        match &s.node {
            Some(n) => find_node(n, &format!("{p}.node")),
            None => need("node").map(|_| 0),
        }
    };
    let dur = |d: &Option<Spanned<String>>, field: &str, def: &str| -> Result<SimDuration, ScenarioError> {
        match d {
            Some(x) => cx.dur(x, &format!("{p}.{field}")),
            None => Ok(parse_duration(def).unwrap_or(SimDuration::from_secs(1))),
        }
    };
    let ratio = |def: f64| cx.ratio(s.ratio.unwrap_or(def), &format!("{p}.ratio"));
    let replica_ok = |svc: usize| -> Result<Option<u32>, ScenarioError> {
        match s.replica {
            Some(r) if r >= services[svc].replicas => cx.err(s.kind.span(), &format!("{p}.replica"), format!("service {:?} has {} replicas (0..{})", services[svc].name, services[svc].replicas, services[svc].replicas - 1)),
            r => Ok(r),
        }
    };
    let ds_of = |svc: usize, want: DatastoreKind| -> Result<usize, ScenarioError> {
        match &s.datastore {
            Some(d) => match datastores.iter().position(|x| x.name == *d.get_ref() && x.kind == want) {
                Some(i) => Ok(i),
                None => cx.err(d.span(), &format!("{p}.datastore"), format!("expected a {} datastore, found {:?}", want.as_str(), d.get_ref())),
            },
            None => services[svc].pools.iter().map(|x| x.0).find(|&i| datastores[i].kind == want).map_or_else(|| need("datastore").map(|_| 0), Ok),
        }
    };
    let kind = match kind_name {
        "pool_exhaustion" => {
            let service = svc("service")?;
            let datastore = ds_of(service, DatastoreKind::Database)?;
            FaultKind::PoolExhaustion { service, datastore, pool_size: s.pool_size.unwrap_or(u32::MAX).max(1), per_minute: cx.positive(s.per_minute.unwrap_or(180.0), &format!("{p}.per_minute"))?, hold: dur(&s.hold, "hold", "2s")? }
        }
        "gc_pauses" => {
            let service = svc("service")?;
            FaultKind::GcPauses { service, replica: replica_ok(service)?, pause: dur(&s.pause, "pause", "400ms")?, every: dur(&s.every, "every", "5s")? }
        }
        "cpu_throttling" => FaultKind::CpuThrottling { node: node()?, ratio: ratio(0.8)? },
        "bad_replica" => {
            let service = svc("service")?;
            FaultKind::BadReplica { service, replica: replica_ok(service)?, factor: cx.positive(s.factor.unwrap_or(40.0), &format!("{p}.factor"))?, ratio: ratio(0.06)? }
        }
        "timeouts_retries" => {
            let service = svc("service")?;
            let Some(e) = &s.endpoint else { return need_f::<Fault>(cx, s, p, "endpoint (the target service)") };
            let target = find_svc(e, &format!("{p}.endpoint"))?;
            FaultKind::FlakyDependency { service, target, ratio: ratio(0.05)? }
        }
        "thread_starvation" => FaultKind::ThreadStarvation { service: svc("service")?, hold: dur(&s.hold, "hold", "250ms")?, ratio: ratio(0.3)? },
        "cache_stampede" => {
            let service = svc("service")?;
            FaultKind::CacheStampede { service, datastore: ds_of(service, DatastoreKind::Cache)?, every: dur(&s.every, "every", "90s")?, lookups: s.lookups.unwrap_or(100).clamp(1, MAX_STAMPEDE_LOOKUPS) }
        }
        "n_plus_one" => {
            let service = svc("service")?;
            let Some(e) = &s.endpoint else { return need_f::<Fault>(cx, s, p, "endpoint") };
            let endpoint = find_ep(service, e, &format!("{p}.endpoint"))?;
            let Some(c) = &s.category else { return need_f::<Fault>(cx, s, p, "category") };
            let Some(ci) = traffic.categories.iter().position(|x| x == c.get_ref()) else {
                return cx.err(c.span(), &format!("{p}.category"), format!("unknown category {:?}; expected one of: {}", c.get_ref(), traffic.categories.join(", ")));
            };
            FaultKind::NPlusOne { service, endpoint, category: ci as u16 + 1, queries: s.queries.unwrap_or(25).clamp(2, MAX_N_PLUS_ONE_QUERIES), factor: cx.positive(s.factor.unwrap_or(4.0), &format!("{p}.factor"))?, cold: ratio(0.07)? }
        }
        "lock_contention" => {
            let service = svc("service")?;
            let Some(e) = &s.endpoint else { return need_f::<Fault>(cx, s, p, "endpoint") };
            FaultKind::LockContention { service, endpoint: find_ep(service, e, &format!("{p}.endpoint"))?, hold: dur(&s.hold, "hold", "300ms")? }
        }
        "packet_loss" => FaultKind::PacketLoss { node: node()?, ratio: ratio(0.03)? },
        "error_burst" => FaultKind::ErrorBurst { service: svc("service")?, ratio: ratio(0.003)? },
        "noisy_warning" => FaultKind::NoisyWarning {
            service: svc("service")?,
            message: s.message.clone().unwrap_or_else(|| "configuration key 'legacy.timeout' is deprecated".into()),
            per_minute: cx.positive(s.per_minute.unwrap_or(6.0), &format!("{p}.per_minute"))?,
        },
        "cpu_spike" => {
            let node = node()?;
            FaultKind::CpuSpike { node, cores: s.cores.unwrap_or(nodes[node].cores * 0.4).clamp(0.0, nodes[node].cores) }
        }
        other => {
            return cx.err(s.kind.span(), &format!("{p}.kind"), format!("unknown fault kind {other:?}; expected one of: {}", FaultKind::ALL.join(", ")));
        }
    };
    let windows = match &s.windows {
        Some(ws) => {
            let mut v = Vec::new();
            for (k, w) in ws.iter().enumerate() {
                let a = cx.dur(&w[0], &format!("{p}.windows[{k}][0]"))?;
                let b = cx.dur(&w[1], &format!("{p}.windows[{k}][1]"))?;
                if b <= a {
                    return cx.err(w[0].span(), &format!("{p}.windows[{k}]"), "expected [start, end] with start before end");
                }
                v.push((a, b));
            }
            Some(v)
        }
        None if !have_incidents => {
            return cx.err(s.kind.span(), &format!("{p}.windows"), "expected windows = [[\"10m\", \"14m\"], ...] (or an [incidents] table)");
        }
        None => None,
    };
    Ok(Fault { kind, windows })
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` into Unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't' && b[10] != b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse::<i64>().ok() };
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let digits = &frac[..n];
        ms = format!("{:0<3}", &digits[..n.min(3)]).parse::<i64>().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 60 + o[4..6].parse::<i64>().ok()?)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86400 + h * 3600 + mi * 60 + se) - offset_min * 60) * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Formats Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rfc3339_round_trip() {
        let ms = parse_rfc3339("2026-03-02T09:00:00Z").unwrap();
        assert_eq!(ms, 1_772_442_000_000);
        assert_eq!(format_rfc3339_ms(ms + 1234), "2026-03-02T09:00:01.234Z");
        assert_eq!(parse_rfc3339("2026-03-02T10:00:00+01:00"), Some(ms));
        assert_eq!(parse_rfc3339("2026-13-02T09:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
