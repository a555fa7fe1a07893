//! The scenario file format: plain types, each decoded by hand from the
//! TOML tree (unknown fields are errors; defaults sit next to the decoding).
//! Names that point at other parts of the file are [`Spanned`] so a
//! validation error can name the line. `docs/scenario-format.md` documents
//! every field; keep the two in step.

use super::decode::{variant, Decode, DecodeError, Fields};
use super::toml::{Spanned, Table, Value};

#[derive(Clone, Debug)]
pub struct ScenarioFile {
    pub scenario: Meta,
    pub nodes: Vec<NodeSpec>,
    pub datastores: Vec<DatastoreSpec>,
    pub services: Vec<ServiceSpec>,
    pub traffic: TrafficSpec,
    pub instrumentation: InstrumentationSpec,
    pub incidents: Option<IncidentsSpec>,
    /// Faults that always run (in their windows).
    pub faults: Vec<FaultSpec>,
    /// Faults of which `draw` are picked per seed.
    pub catalogue: Option<CatalogueSpec>,
    pub red_herrings: Vec<FaultSpec>,
    /// The aggregate-mode history (SLO scenario).
    pub history: Option<HistorySpec>,
    /// The scenario's own dashboards (shown before the built-in RED and USE).
    pub dashboards: Vec<DashboardSpec>,
    /// Graded questions (resolved by [`crate::grading::question`]).
    pub questions: Vec<crate::grading::question::QuestionSpec>,
}

/// `[[dashboards]]`: a titled grid of PromQL panels.
#[derive(Clone, Debug)]
pub struct DashboardSpec {
    pub id: String,
    pub title: String,
    pub panels: Vec<PanelFileSpec>,
}

/// `[[dashboards.panels]]`: one PromQL query drawn as a time series.
#[derive(Clone, Debug)]
pub struct PanelFileSpec {
    pub title: String,
    /// PromQL, checked when the scenario loads.
    pub expr: Spanned<String>,
    /// A Grafana unit id: short, s, ms, reqps, ops, percentunit, percent, bytes, cores.
    pub unit: Spanned<String>,
    /// `{{label}}` template for each series' name.
    pub legend: Option<String>,
    pub thresholds: Vec<f64>,
    pub description: String,
}

impl Decode for DashboardSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["id", "title", "panels"])?;
        Ok(DashboardSpec { id: f.required("id")?, title: f.required("title")?, panels: f.required("panels")? })
    }
}

impl Decode for PanelFileSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["title", "expr", "unit", "legend", "thresholds", "description"])?;
        Ok(PanelFileSpec {
            title: f.required("title")?,
            expr: f.required("expr")?,
            unit: f.or("unit", || Spanned::new(0..0, "short".to_string()))?,
            legend: f.optional("legend")?,
            thresholds: f.or("thresholds", Vec::new)?,
            description: f.or("description", String::new)?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Meta {
    pub id: String,
    pub title: String,
    pub subtitle: String,
    pub level: String,
    /// Expected time to complete, minutes.
    pub minutes: u32,
    pub teaches: Vec<String>,
    pub briefing: String,
    /// RFC 3339 UTC instant of simulated time zero.
    pub start: Spanned<String>,
    /// Simulated window, e.g. "1h" or "30d".
    pub duration: Spanned<String>,
    pub mode: Mode,
    pub scrape_interval: Spanned<String>,
    pub namespace: String,
    /// The service whose RED panels the first chart shows.
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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Every request is simulated.
    #[default]
    Requests,
    /// Scrape-resolution counts without individual requests (long windows).
    Aggregate,
}

#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub name: String,
    pub cores: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

#[derive(Clone, Debug)]
pub struct DatastoreSpec {
    pub name: String,
    pub kind: DatastoreKind,
    /// `db.system.name`: postgresql, redis, or `http` for externals.
    pub system: String,
    /// Queries served at once; more wait in a queue (this is its CPU).
    pub concurrency: u32,
}

fn default_concurrency() -> u32 {
    32
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub replicas: u32,
    /// Worker pool size per replica (requests handled at once).
    pub workers: u32,
    pub version: String,
    /// `go`, `jvm`, `python` or `node`: frames and GC behaviour.
    pub runtime: String,
    /// Nodes to place replicas on, round-robin; default: all nodes.
    pub nodes: Vec<Spanned<String>>,
    /// Connection pool size per datastore this service uses.
    pub pools: Table,
    /// Write an INFO access log line per request.
    pub access_log: bool,
    /// Heap size in MiB and the young-GC cadence.
    pub heap_mb: f64,
    /// A wait for a pooled connection longer than this logs the pool's
    /// "timed out waiting for connection" warning (default 100ms).
    pub pool_warn_after: Option<Spanned<String>>,
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

#[derive(Clone, Debug)]
pub struct EndpointSpec {
    /// `METHOD /route/{param}`
    pub name: Spanned<String>,
    /// Median CPU time of the handler's own work.
    pub cpu: Spanned<String>,
    /// Log-normal shape of the CPU time.
    pub sigma: f64,
    pub steps: Vec<StepSpec>,
    /// Share of requests that fail with a 5xx by themselves.
    pub error_ratio: f64,
    /// Share of requests answered 404 (unknown ids).
    pub not_found_ratio: f64,
    /// Share answered 400 (client errors).
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
#[derive(Clone, Debug)]
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
    pub retries: u32,
    /// Share of executions that run this step (e.g. 0.3 for "sometimes").
    pub probability: Option<f64>,
    /// Share of calls that fail (for externals and dbs).
    pub error_ratio: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct TrafficSpec {
    /// Requests per second at the daily peak.
    pub rate: f64,
    /// 24 hourly multipliers (UTC), peak 1.0; default flat.
    pub daily_curve: Vec<f64>,
    pub users: u32,
    pub products: u32,
    pub categories: Vec<String>,
    pub bursts: Option<BurstSpec>,
    pub mix: Vec<MixSpec>,
}

fn default_users() -> u32 {
    10_000
}
fn default_products() -> u32 {
    2_000
}

#[derive(Clone, Debug)]
pub struct BurstSpec {
    /// Mean gap between bursts.
    pub every: Spanned<String>,
    pub length: Spanned<String>,
    /// Rate multiplier during a burst.
    pub factor: f64,
}

#[derive(Clone, Debug)]
pub struct MixSpec {
    pub service: Spanned<String>,
    pub endpoint: Spanned<String>,
    pub weight: f64,
}

#[derive(Clone, Debug)]
pub struct InstrumentationSpec {
    pub metrics: bool,
    /// Labels on the HTTP server metrics: method, route, path, status, user_id, product_id.
    pub metric_labels: Vec<Spanned<String>>,
    /// Histogram buckets in seconds; default (empty) the OTel HTTP buckets.
    pub buckets: Spanned<Vec<f64>>,
    pub inflight_gauge: bool,
    /// Distinct label sets per metric before the SDK folds the rest into
    /// an `otel_metric_overflow="true"` series (the OTel SDK default).
    pub cardinality_limit: u32,
    pub tracing: bool,
    pub propagation: bool,
    /// Head sampling ratio at the edge.
    pub sampling_ratio: Spanned<f64>,
    /// Tail sampling: keep traces slower than this at the root.
    pub keep_slower_than: Spanned<String>,
    /// Tail sampling: share of the other (fast, ok) traces kept.
    pub keep_ratio: Spanned<f64>,
    pub log_format: Spanned<String>,
    pub log_level: Spanned<String>,
    pub log_trace_ids: bool,
    pub profiling: bool,
}

impl Default for InstrumentationSpec {
    fn default() -> Self {
        let empty = Spanned::new(0..0, Value::Table(Table::default()));
        InstrumentationSpec::decode(&empty, "instrumentation").expect("every instrumentation field has a default")
    }
}

fn yes() -> bool {
    true
}
fn one_f() -> f64 {
    1.0
}
/// A default value: not from the file, so its span is `0..0`.
fn unspanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}
fn default_labels() -> Vec<Spanned<String>> {
    ["method", "route", "status"].into_iter().map(|l| unspanned(l.to_string())).collect()
}
fn default_card() -> u32 {
    2000
}
fn default_slow() -> Spanned<String> {
    Spanned::new(0..0, "250ms".into())
}
fn default_keep() -> Spanned<f64> {
    unspanned(0.05)
}
fn default_log_format() -> Spanned<String> {
    unspanned("json".into())
}
fn default_log_level() -> Spanned<String> {
    unspanned("info".into())
}

#[derive(Clone, Debug)]
pub struct IncidentsSpec {
    /// Mean gap between incident windows.
    pub every: Spanned<String>,
    /// Mean length of one window.
    pub length: Spanned<String>,
    /// Quiet time at the start before the first window.
    pub first_after: Option<Spanned<String>>,
}

#[derive(Clone, Debug)]
pub struct CatalogueSpec {
    /// How many faults to draw per seed.
    pub draw: u32,
    /// Seeds for which no fault is drawn (a healthy control), by remainder:
    /// `seed % healthy_every == 0` is fault-free. 0 disables.
    pub healthy_every: u64,
    pub faults: Vec<FaultSpec>,
}

/// A fault or red herring. `kind` picks the mechanism; each kind reads the
/// parameters it documents and rejects the others.
#[derive(Clone, Debug)]
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
    pub lookups: Option<u32>,
}

/// Aggregate-mode history: the SLO scenario's month.
#[derive(Clone, Debug)]
pub struct HistorySpec {
    pub service: Spanned<String>,
    pub endpoint: Spanned<String>,
    /// Baseline share of 5xx.
    pub error_ratio: f64,
    /// Share of 4xx (not counted against availability).
    pub client_error_ratio: f64,
    /// Median latency of a good request.
    pub latency: Spanned<String>,
    pub sigma: f64,
    /// Downstream services whose metrics are generated alongside.
    pub downstream: Vec<String>,
    pub incidents: Vec<HistoryIncidentSpec>,
}

#[derive(Clone, Debug)]
pub struct HistoryIncidentSpec {
    /// fast_burn, slow_burn, blip, maintenance
    pub kind: Spanned<String>,
    /// How many of this kind; each placed per seed.
    pub count: u32,
    /// [min, max] length.
    pub length: [Spanned<String>; 2],
    /// [min, max] error ratio during the incident.
    pub error_ratio: [f64; 2],
    /// Probability that this incident happens at all for a seed.
    pub probability: f64,
}

// --- decoding ----------------------------------------------------------------

type Result<T> = std::result::Result<T, DecodeError>;

impl ScenarioFile {
    /// Decodes the root table of a scenario file.
    pub(crate) fn from_table(root: &Table) -> Result<Self> {
        let f = Fields::of_table(root, 0..0, "", &["scenario", "nodes", "datastores", "services", "traffic", "instrumentation", "incidents", "faults", "catalogue", "red_herrings", "history", "dashboards", "questions"])?;
        Ok(ScenarioFile {
            scenario: f.required("scenario")?,
            nodes: f.or("nodes", Vec::new)?,
            datastores: f.or("datastores", Vec::new)?,
            services: f.or("services", Vec::new)?,
            traffic: f.required("traffic")?,
            instrumentation: f.or("instrumentation", InstrumentationSpec::default)?,
            incidents: f.optional("incidents")?,
            faults: f.or("faults", Vec::new)?,
            catalogue: f.optional("catalogue")?,
            red_herrings: f.or("red_herrings", Vec::new)?,
            history: f.optional("history")?,
            dashboards: f.or("dashboards", Vec::new)?,
            questions: f.or("questions", Vec::new)?,
        })
    }
}

impl Decode for Meta {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["id", "title", "subtitle", "level", "minutes", "teaches", "briefing", "start", "duration", "mode", "scrape_interval", "namespace", "entry_service"])?;
        Ok(Meta {
            id: f.required("id")?,
            title: f.required("title")?,
            subtitle: f.or("subtitle", String::new)?,
            level: f.or("level", default_level)?,
            minutes: f.or("minutes", || 0)?,
            teaches: f.or("teaches", Vec::new)?,
            briefing: f.or("briefing", String::new)?,
            start: f.required("start")?,
            duration: f.required("duration")?,
            mode: f.with("mode", |v, p| variant(v, p, &[("requests", Mode::Requests), ("aggregate", Mode::Aggregate)], &["requests", "aggregate"]))?.unwrap_or_default(),
            scrape_interval: f.or("scrape_interval", default_scrape)?,
            namespace: f.or("namespace", default_namespace)?,
            entry_service: f.optional("entry_service")?,
        })
    }
}

impl Decode for NodeSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["name", "cores"])?;
        Ok(NodeSpec { name: f.required("name")?, cores: f.required("cores")? })
    }
}

impl Decode for DatastoreKind {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let choices = [("database", DatastoreKind::Database), ("cache", DatastoreKind::Cache), ("external", DatastoreKind::External)];
        variant(v, path, &choices, &["database", "cache", "external"])
    }
}

impl Decode for DatastoreSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["name", "kind", "system", "concurrency"])?;
        Ok(DatastoreSpec { name: f.required("name")?, kind: f.required("kind")?, system: f.required("system")?, concurrency: f.or("concurrency", default_concurrency)? })
    }
}

impl Decode for ServiceSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["name", "replicas", "workers", "version", "runtime", "nodes", "pools", "access_log", "heap_mb", "pool_warn_after", "endpoints"])?;
        Ok(ServiceSpec {
            name: f.required("name")?,
            replicas: f.or("replicas", one)?,
            workers: f.or("workers", default_workers)?,
            version: f.or("version", default_version)?,
            runtime: f.or("runtime", default_runtime)?,
            nodes: f.or("nodes", Vec::new)?,
            pools: f.or("pools", Table::default)?,
            access_log: f.or("access_log", || false)?,
            heap_mb: f.or("heap_mb", default_heap)?,
            pool_warn_after: f.optional("pool_warn_after")?,
            endpoints: f.required("endpoints")?,
        })
    }
}

impl Decode for EndpointSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["name", "cpu", "sigma", "steps", "error_ratio", "not_found_ratio", "bad_request_ratio"])?;
        Ok(EndpointSpec {
            name: f.required("name")?,
            cpu: f.or("cpu", default_cpu)?,
            sigma: f.or("sigma", default_sigma)?,
            steps: f.or("steps", Vec::new)?,
            error_ratio: f.or("error_ratio", || 0.0)?,
            not_found_ratio: f.or("not_found_ratio", || 0.0)?,
            bad_request_ratio: f.or("bad_request_ratio", || 0.0)?,
        })
    }
}

impl Decode for StepSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["call", "endpoint", "db", "cache", "external", "cpu", "parallel", "op", "table", "time", "sigma", "hit_ratio", "on_miss", "timeout", "retries", "probability", "error_ratio"])?;
        Ok(StepSpec {
            call: f.optional("call")?,
            endpoint: f.optional("endpoint")?,
            db: f.optional("db")?,
            cache: f.optional("cache")?,
            external: f.optional("external")?,
            cpu: f.optional("cpu")?,
            parallel: f.optional("parallel")?,
            op: f.optional("op")?,
            table: f.optional("table")?,
            time: f.optional("time")?,
            sigma: f.optional("sigma")?,
            hit_ratio: f.optional("hit_ratio")?,
            on_miss: f.optional("on_miss")?,
            timeout: f.optional("timeout")?,
            retries: f.or("retries", || 0)?,
            probability: f.optional("probability")?,
            error_ratio: f.optional("error_ratio")?,
        })
    }
}

impl Decode for TrafficSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["rate", "daily_curve", "users", "products", "categories", "bursts", "mix"])?;
        Ok(TrafficSpec {
            rate: f.required("rate")?,
            daily_curve: f.or("daily_curve", Vec::new)?,
            users: f.or("users", default_users)?,
            products: f.or("products", default_products)?,
            categories: f.or("categories", Vec::new)?,
            bursts: f.optional("bursts")?,
            mix: f.required("mix")?,
        })
    }
}

impl Decode for BurstSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["every", "length", "factor"])?;
        Ok(BurstSpec { every: f.required("every")?, length: f.required("length")?, factor: f.required("factor")? })
    }
}

impl Decode for MixSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["service", "endpoint", "weight"])?;
        Ok(MixSpec { service: f.required("service")?, endpoint: f.required("endpoint")?, weight: f.required("weight")? })
    }
}

impl Decode for InstrumentationSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["metrics", "metric_labels", "buckets", "inflight_gauge", "cardinality_limit", "tracing", "propagation", "sampling_ratio", "keep_slower_than", "keep_ratio", "log_format", "log_level", "log_trace_ids", "profiling"])?;
        Ok(InstrumentationSpec {
            metrics: f.or("metrics", yes)?,
            metric_labels: f.or("metric_labels", default_labels)?,
            buckets: f.or("buckets", || unspanned(Vec::new()))?,
            inflight_gauge: f.or("inflight_gauge", yes)?,
            cardinality_limit: f.or("cardinality_limit", default_card)?,
            tracing: f.or("tracing", yes)?,
            propagation: f.or("propagation", yes)?,
            sampling_ratio: f.or("sampling_ratio", || unspanned(one_f()))?,
            keep_slower_than: f.or("keep_slower_than", default_slow)?,
            keep_ratio: f.or("keep_ratio", default_keep)?,
            log_format: f.or("log_format", default_log_format)?,
            log_level: f.or("log_level", default_log_level)?,
            log_trace_ids: f.or("log_trace_ids", yes)?,
            profiling: f.or("profiling", yes)?,
        })
    }
}

impl Decode for IncidentsSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["every", "length", "first_after"])?;
        Ok(IncidentsSpec { every: f.required("every")?, length: f.required("length")?, first_after: f.optional("first_after")? })
    }
}

impl Decode for CatalogueSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["draw", "healthy_every", "faults"])?;
        Ok(CatalogueSpec { draw: f.or("draw", one)?, healthy_every: f.or("healthy_every", || 0)?, faults: f.required("faults")? })
    }
}

impl Decode for FaultSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["kind", "service", "endpoint", "datastore", "node", "replica", "windows", "pool_size", "pause", "every", "ratio", "factor", "hold", "queries", "category", "message", "cores", "per_minute", "lookups"])?;
        Ok(FaultSpec {
            kind: f.required("kind")?,
            service: f.optional("service")?,
            endpoint: f.optional("endpoint")?,
            datastore: f.optional("datastore")?,
            node: f.optional("node")?,
            replica: f.optional("replica")?,
            windows: f.optional("windows")?,
            pool_size: f.optional("pool_size")?,
            pause: f.optional("pause")?,
            every: f.optional("every")?,
            ratio: f.optional("ratio")?,
            factor: f.optional("factor")?,
            hold: f.optional("hold")?,
            queries: f.optional("queries")?,
            category: f.optional("category")?,
            message: f.optional("message")?,
            cores: f.optional("cores")?,
            per_minute: f.optional("per_minute")?,
            lookups: f.optional("lookups")?,
        })
    }
}

impl Decode for HistorySpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["service", "endpoint", "error_ratio", "client_error_ratio", "latency", "sigma", "downstream", "incidents"])?;
        Ok(HistorySpec {
            service: f.required("service")?,
            endpoint: f.required("endpoint")?,
            error_ratio: f.required("error_ratio")?,
            client_error_ratio: f.required("client_error_ratio")?,
            latency: f.required("latency")?,
            sigma: f.or("sigma", default_sigma)?,
            downstream: f.or("downstream", Vec::new)?,
            incidents: f.required("incidents")?,
        })
    }
}

impl Decode for HistoryIncidentSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        let f = Fields::of(v, path, &["kind", "count", "length", "error_ratio", "probability"])?;
        Ok(HistoryIncidentSpec {
            kind: f.required("kind")?,
            count: f.or("count", one)?,
            length: f.required("length")?,
            error_ratio: f.required("error_ratio")?,
            probability: f.or("probability", one_f)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::toml::parse;

    fn file(src: &str) -> Result<ScenarioFile> {
        ScenarioFile::from_table(&parse(src).expect("valid TOML"))
    }

    const MINIMAL: &str = "[scenario]\nid = \"x\"\ntitle = \"X\"\nstart = \"2026-03-02T09:00:00Z\"\nduration = \"1h\"\n[traffic]\nrate = 1\nmix = []\n";

    #[test]
    fn defaults_match_the_documented_ones() {
        let f = file(&format!("{MINIMAL}[[services]]\nname = \"a\"\n[[services.endpoints]]\nname = \"GET /\"\nsteps = [{{ db = \"d\" }}]\n[[datastores]]\nname = \"d\"\nkind = \"database\"\nsystem = \"postgresql\"\n")).expect("decodes");
        let m = &f.scenario;
        assert_eq!((m.level.as_str(), m.mode, m.scrape_interval.get_ref().as_str(), m.namespace.as_str(), m.minutes), ("beginner", Mode::Requests, "15s", "shop", 0));
        assert_eq!(f.traffic.rate, 1.0);
        assert_eq!((f.traffic.users, f.traffic.products), (10_000, 2_000));
        let s = &f.services[0];
        assert_eq!((s.replicas, s.workers, s.version.as_str(), s.runtime.as_str(), s.access_log, s.heap_mb), (1, 64, "1.0.0", "go", false, 512.0));
        let e = &s.endpoints[0];
        assert_eq!((e.cpu.get_ref().as_str(), e.sigma, e.error_ratio), ("1ms", 0.35, 0.0));
        assert_eq!(e.steps[0].retries, 0);
        assert_eq!(f.datastores[0].concurrency, 32);
        let i = &f.instrumentation;
        assert!(i.metrics && i.inflight_gauge && i.tracing && i.propagation && i.log_trace_ids && i.profiling);
        assert_eq!(i.metric_labels.iter().map(|l| l.get_ref().as_str()).collect::<Vec<_>>(), ["method", "route", "status"]);
        assert_eq!((i.cardinality_limit, *i.sampling_ratio.get_ref(), *i.keep_ratio.get_ref()), (2000, 1.0, 0.05));
        assert_eq!((i.keep_slower_than.get_ref().as_str(), i.log_format.get_ref().as_str(), i.log_level.get_ref().as_str()), ("250ms", "json", "info"));
        assert!(f.incidents.is_none() && f.catalogue.is_none() && f.history.is_none() && f.questions.is_empty());
    }

    #[test]
    fn enums_and_required_fields() {
        let e = file(&MINIMAL.replace("duration = \"1h\"\n", "duration = \"1h\"\nmode = \"batch\"\n")).expect_err("unknown mode");
        assert_eq!(e.to_string(), "scenario.mode: expected one of requests, aggregate, found \"batch\"");
        let e = file(&MINIMAL.replace("mix = []\n", "")).expect_err("mix is required");
        assert_eq!(e.to_string(), "traffic.mix: this field is required but missing");
        let e = file(&format!("{MINIMAL}[[services]]\nname = \"a\"\n")).expect_err("endpoints are required");
        assert_eq!(e.path, "services[0].endpoints");
    }
}
