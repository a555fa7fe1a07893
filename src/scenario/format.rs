//! The scenario file format, as serde types with `deny_unknown_fields`.
//! Names that point at other parts of the file are [`Spanned`] so a
//! validation error can name the line. `docs/scenario-format.md` documents
//! every field; keep the two in step.

use serde::Deserialize;
use toml::Spanned;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: Meta,
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub datastores: Vec<DatastoreSpec>,
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    pub traffic: TrafficSpec,
    #[serde(default)]
    pub instrumentation: InstrumentationSpec,
    #[serde(default)]
    pub incidents: Option<IncidentsSpec>,
    /// Faults that always run (in their windows).
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Faults of which `draw` are picked per seed.
    #[serde(default)]
    pub catalogue: Option<CatalogueSpec>,
    #[serde(default)]
    pub red_herrings: Vec<FaultSpec>,
    /// The aggregate-mode history (SLO scenario).
    #[serde(default)]
    pub history: Option<HistorySpec>,
    /// Questions arrive with the grading issue; kept opaque until then.
    #[serde(default)]
    pub questions: Vec<toml::Table>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub subtitle: String,
    #[serde(default = "default_level")]
    pub level: String,
    /// Expected time to complete, minutes.
    #[serde(default)]
    pub minutes: u32,
    #[serde(default)]
    pub teaches: Vec<String>,
    #[serde(default)]
    pub briefing: String,
    /// RFC 3339 UTC instant of simulated time zero.
    pub start: Spanned<String>,
    /// Simulated window, e.g. "1h" or "30d".
    pub duration: Spanned<String>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "default_scrape")]
    pub scrape_interval: Spanned<String>,
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// The service whose RED panels the first chart shows.
    #[serde(default)]
    pub entry_service: Option<String>,
}

fn default_level() -> String {
    "beginner".into()
}
fn default_scrape() -> Spanned<String> {
    Spanned::new(0..0, "15s".into())
}
fn default_namespace() -> String {
    "shop".into()
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Every request is simulated.
    #[default]
    Requests,
    /// Scrape-resolution counts without individual requests (long windows).
    Aggregate,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub name: String,
    pub cores: f64,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DatastoreKind {
    Database,
    Cache,
    /// An external HTTP API (a payment gateway).
    External,
}

impl DatastoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DatastoreKind::Database => "database",
            DatastoreKind::Cache => "cache",
            DatastoreKind::External => "external",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatastoreSpec {
    pub name: String,
    pub kind: DatastoreKind,
    /// `db.system.name`: postgresql, redis, or `http` for externals.
    pub system: String,
    /// Queries served at once; more wait in a queue (this is its CPU).
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
}

fn default_concurrency() -> u32 {
    32
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    #[serde(default = "one")]
    pub replicas: u32,
    /// Worker pool size per replica (requests handled at once).
    #[serde(default = "default_workers")]
    pub workers: u32,
    #[serde(default = "default_version")]
    pub version: String,
    /// `go`, `jvm`, `python` or `node`: frames and GC behaviour.
    #[serde(default = "default_runtime")]
    pub runtime: String,
    /// Nodes to place replicas on, round-robin; default: all nodes.
    #[serde(default)]
    pub nodes: Vec<Spanned<String>>,
    /// Connection pool size per datastore this service uses.
    #[serde(default)]
    pub pools: toml::Table,
    /// Write an INFO access log line per request.
    #[serde(default)]
    pub access_log: bool,
    /// Heap size in MiB and the young-GC cadence.
    #[serde(default = "default_heap")]
    pub heap_mb: f64,
    pub endpoints: Vec<EndpointSpec>,
}

fn one() -> u32 {
    1
}
fn default_workers() -> u32 {
    64
}
fn default_version() -> String {
    "1.0.0".into()
}
fn default_runtime() -> String {
    "go".into()
}
fn default_heap() -> f64 {
    512.0
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// `METHOD /route/{param}`
    pub name: Spanned<String>,
    /// Median CPU time of the handler's own work.
    #[serde(default = "default_cpu")]
    pub cpu: Spanned<String>,
    /// Log-normal shape of the CPU time.
    #[serde(default = "default_sigma")]
    pub sigma: f64,
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// Share of requests that fail with a 5xx by themselves.
    #[serde(default)]
    pub error_ratio: f64,
    /// Share of requests answered 404 (unknown ids).
    #[serde(default)]
    pub not_found_ratio: f64,
    /// Share answered 400 (client errors).
    #[serde(default)]
    pub bad_request_ratio: f64,
}

fn default_cpu() -> Spanned<String> {
    Spanned::new(0..0, "1ms".into())
}
fn default_sigma() -> f64 {
    0.35
}

/// One step of a handler. Exactly one of `call`, `db`, `cache`,
/// `external`, `cpu` or `parallel` is set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// `service` to call (with `endpoint`).
    pub call: Option<Spanned<String>>,
    pub endpoint: Option<Spanned<String>>,
    /// A database datastore to query.
    pub db: Option<Spanned<String>>,
    /// A cache datastore to look up.
    pub cache: Option<Spanned<String>>,
    /// An external HTTP API to call.
    pub external: Option<Spanned<String>>,
    /// Extra local CPU work (median).
    pub cpu: Option<Spanned<String>>,
    /// Steps run concurrently; the handler waits for all.
    pub parallel: Option<Vec<StepSpec>>,
    /// db: operation (SELECT), cache: command (GET).
    pub op: Option<String>,
    /// db: table; cache: key prefix; external: path.
    pub table: Option<String>,
    /// Median service time at the datastore.
    pub time: Option<Spanned<String>>,
    pub sigma: Option<f64>,
    pub hit_ratio: Option<f64>,
    /// Steps run after a cache miss.
    pub on_miss: Option<Vec<StepSpec>>,
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub retries: u32,
    /// Share of executions that run this step (e.g. 0.3 for "sometimes").
    pub probability: Option<f64>,
    /// Share of calls that fail (for externals and dbs).
    pub error_ratio: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// Requests per second at the daily peak.
    pub rate: f64,
    /// 24 hourly multipliers (UTC), peak 1.0; default flat.
    #[serde(default)]
    pub daily_curve: Vec<f64>,
    #[serde(default = "default_users")]
    pub users: u32,
    #[serde(default = "default_products")]
    pub products: u32,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub bursts: Option<BurstSpec>,
    pub mix: Vec<MixSpec>,
}

fn default_users() -> u32 {
    10_000
}
fn default_products() -> u32 {
    2_000
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    /// Mean gap between bursts.
    pub every: Spanned<String>,
    pub length: Spanned<String>,
    /// Rate multiplier during a burst.
    pub factor: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixSpec {
    pub service: Spanned<String>,
    pub endpoint: Spanned<String>,
    pub weight: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentationSpec {
    #[serde(default = "yes")]
    pub metrics: bool,
    /// Labels on the HTTP server metrics: method, route, path, status, user_id, product_id.
    #[serde(default = "default_labels")]
    pub metric_labels: Vec<String>,
    /// Histogram buckets in seconds; default the OTel HTTP buckets.
    #[serde(default)]
    pub buckets: Vec<f64>,
    #[serde(default = "yes")]
    pub inflight_gauge: bool,
    /// Distinct label sets per metric before the SDK folds the rest into
    /// an `otel_metric_overflow="true"` series (the OTel SDK default).
    #[serde(default = "default_card")]
    pub cardinality_limit: u32,
    #[serde(default = "yes")]
    pub tracing: bool,
    #[serde(default = "yes")]
    pub propagation: bool,
    /// Head sampling ratio at the edge.
    #[serde(default = "one_f")]
    pub sampling_ratio: f64,
    /// Tail sampling: keep traces slower than this at the root.
    #[serde(default = "default_slow")]
    pub keep_slower_than: Spanned<String>,
    /// Tail sampling: share of the other (fast, ok) traces kept.
    #[serde(default = "default_keep")]
    pub keep_ratio: f64,
    #[serde(default = "default_log_format")]
    pub log_format: String,
    #[serde(default = "default_log_level")]
    pub log_level: String,
    #[serde(default = "yes")]
    pub log_trace_ids: bool,
    #[serde(default = "yes")]
    pub profiling: bool,
}

impl Default for InstrumentationSpec {
    fn default() -> Self {
        toml::from_str("").expect("defaults parse")
    }
}

fn yes() -> bool {
    true
}
fn one_f() -> f64 {
    1.0
}
fn default_labels() -> Vec<String> {
    vec!["method".into(), "route".into(), "status".into()]
}
fn default_card() -> u32 {
    2000
}
fn default_slow() -> Spanned<String> {
    Spanned::new(0..0, "250ms".into())
}
fn default_keep() -> f64 {
    0.05
}
fn default_log_format() -> String {
    "json".into()
}
fn default_log_level() -> String {
    "info".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsSpec {
    /// Mean gap between incident windows.
    pub every: Spanned<String>,
    /// Mean length of one window.
    pub length: Spanned<String>,
    /// Quiet time at the start before the first window.
    #[serde(default)]
    pub first_after: Option<Spanned<String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSpec {
    /// How many faults to draw per seed.
    #[serde(default = "one")]
    pub draw: u32,
    /// Seeds for which no fault is drawn (a healthy control), by remainder:
    /// `seed % healthy_every == 0` is fault-free. 0 disables.
    #[serde(default)]
    pub healthy_every: u64,
    pub faults: Vec<FaultSpec>,
}

/// A fault or red herring. `kind` picks the mechanism; each kind reads the
/// parameters it documents and rejects the others.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: Spanned<String>,
    pub service: Option<Spanned<String>>,
    pub endpoint: Option<Spanned<String>>,
    pub datastore: Option<Spanned<String>>,
    pub node: Option<Spanned<String>>,
    /// Replica index; default: drawn per seed.
    pub replica: Option<u32>,
    /// Explicit windows as [start, end] offsets; default: the incident windows.
    pub windows: Option<Vec<[Spanned<String>; 2]>>,
    pub pool_size: Option<u32>,
    pub pause: Option<Spanned<String>>,
    pub every: Option<Spanned<String>>,
    /// Share of CPU stolen (throttling), of requests affected, of packets lost...
    pub ratio: Option<f64>,
    pub factor: Option<f64>,
    pub hold: Option<Spanned<String>>,
    pub queries: Option<u32>,
    pub category: Option<Spanned<String>>,
    pub message: Option<String>,
    pub cores: Option<f64>,
    pub per_minute: Option<f64>,
}

/// Aggregate-mode history: the SLO scenario's month.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySpec {
    pub service: Spanned<String>,
    pub endpoint: Spanned<String>,
    /// Baseline share of 5xx.
    pub error_ratio: f64,
    /// Share of 4xx (not counted against availability).
    pub client_error_ratio: f64,
    /// Median latency of a good request.
    pub latency: Spanned<String>,
    #[serde(default = "default_sigma")]
    pub sigma: f64,
    /// Downstream services whose metrics are generated alongside.
    #[serde(default)]
    pub downstream: Vec<String>,
    pub incidents: Vec<HistoryIncidentSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryIncidentSpec {
    /// fast_burn, slow_burn, blip, maintenance
    pub kind: Spanned<String>,
    /// How many of this kind; each placed per seed.
    #[serde(default = "one")]
    pub count: u32,
    /// [min, max] length.
    pub length: [Spanned<String>; 2],
    /// [min, max] error ratio during the incident.
    pub error_ratio: [f64; 2],
    /// Probability that this incident happens at all for a seed.
    #[serde(default = "one_f")]
    pub probability: f64,
}
