//! The per-request engine. Requests arrive open-loop at the edge, become
//! tasks on replicas (a server span each), and run their handler program in
//! fibers: CPU bursts slowed by node saturation, calls over a network with
//! latency and loss, connection pools, datastores with limited concurrency,
//! caches, locks, timeouts and retries. Faults change these mechanics in
//! their windows; latency emerges from work plus waiting. Telemetry is
//! recorded as the instrumentation plan says: spans (tail-sampled at trace
//! end), metrics (scraped every interval), logs and CPU profiles.

use super::dense::Dense;
use super::faults::{self, RunFault};
use super::instruments::{FamilyId, InstrumentId, Instruments, TargetId};
use super::queue::EventQueue;
use super::rng::{self, SimRng};
use super::time::{SimDuration, SimTime};
use super::truth::{FaultTruth, GroundTruth};
use super::world::{leaf_frames, ListId, Node, World};
use super::{Run, RunStats};
use crate::scenario::model::{FaultKind, MetricLabel, Model, Runtime};
use crate::store::profiles::SAMPLE_PERIOD_US;
use crate::store::{KeepReason, Telemetry};
use crate::telemetry::ids::{SpanId, TraceId};
use crate::telemetry::log::{LogRecord, LogTemplate, LogValue, Severity, TemplateId};
use crate::telemetry::metric::{Labels, MetricKind};
use crate::telemetry::resource::ResourceId;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::{ErrorType, OpId, SpanRecord, StatusCode};
use rand::{Rng, RngCore};
use super::fxhash::FxHashMap;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

const NO: u32 = u32::MAX;
/// TCP's minimum retransmission timeout.
const RTO_US: i64 = 200_000;
/// A wait for a pool connection longer than this is the leak's doing.
const POOL_SLOW_US: i64 = 50_000;
/// A lock wait longer than this logs "waiting for lock".
const LOCK_WARN_US: i64 = 10_000;
/// Orphaned work after a timeout hangs this long before giving up.
const HANG_US: i64 = 4_000_000;

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival,
    CpuDone { fiber: u32 },
    Hold { fiber: u32 },
    DsDone { fiber: u32 },
    /// `span` is the attempt's client span: a late delivery of an attempt
    /// the caller already retried still belongs under that attempt.
    Deliver { call: u32, key: u32, target: u32, trace: u32, span: u32 },
    CallReturn { call: u32, key: u32, status: u16, cause: u16 },
    CallTimeout { call: u32, key: u32 },
    Scrape { target: u16 },
    Gc { replica: u32, major: bool },
    Stall { fault: u16 },
    Warn { fault: u16 },
    LockJob { fault: u16 },
    LockRelease { replica: u32 },
    Reclaim { replica: u32, pool: u8 },
    /// The leaking code path of a pool-exhaustion fault runs once.
    Leak { fault: u16 },
    /// A waiter's acquire timeout (`pool_warn_after`) for a connection.
    PoolTimeout { fiber: u32, pool: u8 },
}

struct Fiber {
    task: u32,
    list: ListId,
    pc: u32,
    parent: u32,
    pending: u32,
    /// N+1: further executions of the current db step.
    repeat: u32,
    /// GC and stall totals when the current CPU burst started.
    gc_mark: i64,
    stall_mark: i64,
    /// Open client span for the current db/cache/external step, and when
    /// the current wait started.
    span: u32,
    since: SimTime,
    cache_miss: bool,
    /// N+1 in progress on this db step.
    n1: bool,
    /// The trace the open client span lives in.
    span_trace: u32,
    /// An external call is in flight (its end arrives as a Hold event).
    external: bool,
    /// Time the current datastore operation waited for a slot.
    queued_us: i64,
    alive: bool,
}

struct Task {
    trace: u32,
    span: u32,
    trace_id: TraceId,
    span_id: SpanId,
    replica: u32,
    service: u16,
    endpoint: u16,
    start: SimTime,
    status: u16,
    error: ErrorType,
    call: u32,
    call_key: u32,
    from_replica: u32,
    from_service: u16,
    product: u32,
    category: u16,
    user: u32,
    cause: u16,
    has_worker: bool,
    locked: bool,
    hang: bool,
    root: bool,
    alive: bool,
}

struct Call {
    fiber: u32,
    task: u32,
    span: u32,
    service: u16,
    endpoint: u16,
    target_replica: u32,
    attempt: u8,
    retries_left: u8,
    timeout_us: i64,
    started: SimTime,
    done: bool,
    child_cause: u16,
    op: OpId,
    generation: u32,
    /// The trace the current client span lives in (a new one without propagation).
    span_trace: u32,
}

impl Call {
    #[inline(always)]
    fn key(&self) -> u32 {
        (self.generation << 8) | self.attempt as u32
    }
}

struct TraceBuf {
    spans: Dense<SpanRecord>,
    open: u32,
    trace_id: TraceId,
    alive: bool,
}

struct Pool {
    size: u32,
    in_use: u32,
    waiters: VecDeque<u32>,
    /// Connections out on a leak until the time given.
    leaked: Vec<SimTime>,
    /// Leaks due while every connection was out: the next returned
    /// connections go to the leaking code path instead of the pool.
    pending_leaks: u32,
    wait_hist: InstrumentId,
    used_gauge: InstrumentId,
    idle_gauge: InstrumentId,
    pending_gauge: InstrumentId,
    max_gauge: InstrumentId,
    warn_template: TemplateId,
    ds: u16,
}

impl Pool {
    /// Connections still out on a leak at `now`.
    fn leaked_at(&self, now: SimTime) -> u32 {
        self.leaked.iter().filter(|&&t| t > now).count() as u32
    }
}

struct Replica {
    service: u16,
    node: u16,
    resource: ResourceId,
    target: TargetId,
    workers: u32,
    busy: u32,
    queue: VecDeque<u32>,
    pools: Dense<Pool>,
    gc_until: SimTime,
    gc_total: i64,
    heap_used: f64,
    heap_max: f64,
    young_alloc: f64,
    lock_held: bool,
    lock_queue: VecDeque<u32>,
    /// Longest worker queue since the last scrape.
    queue_peak: usize,
    inflight: i64,
    cpu_us_total: i64,
    throttled_us_total: i64,
}

struct NodeState {
    cores: f64,
    running: u32,
    stall_until: SimTime,
    stall_total: i64,
    busy_us: i64,
    steal_us: i64,
    retransmits: u64,
    target: TargetId,
}

struct Datastore {
    concurrency: u32,
    running: u32,
    queue: VecDeque<u32>,
    busy_us: i64,
    target: TargetId,
}

/// Metric families the engine records into.
struct Fams {
    server: FamilyId,
    client: FamilyId,
    db: FamilyId,
    active: FamilyId,
    retries: FamilyId,
    cpu: FamilyId,
    throttled: FamilyId,
    memory: FamilyId,
    node_cpu: FamilyId,
    retrans: FamilyId,
    gc: FamilyId,
    heap: FamilyId,
    queued: FamilyId,
    queued_max: FamilyId,
    active_threads: FamilyId,
    max_threads: FamilyId,
    cache: FamilyId,
    lock_wait: FamilyId,
    ds_cpu: FamilyId,
    ds_active: FamilyId,
    up: FamilyId,
}

struct Templates {
    access: TemplateId,
    error: TemplateId,
    retry: TemplateId,
    lock: TemplateId,
    gc: TemplateId,
    cancel: TemplateId,
    leak: TemplateId,
}

pub struct Engine {
    pub model: Model,
    seed: u64,
    q: EventQueue<Ev>,
    world: World,
    faults: Dense<RunFault>,
    /// Per fault: a cache stampede's last expiry and the lookups since.
    stampede: Vec<(i64, u32)>,
    /// Whether each fault is active at the current event's time (by index),
    /// valid until `on_until`, the next window start or end: faults are
    /// asked "active now?" several times per event, and their windows
    /// change a few dozen times a run.
    on: Dense<bool>,
    on_until: i64,
    incidents: Vec<(SimTime, SimTime)>,
    fibers: Dense<Fiber>,
    free_fibers: Vec<u32>,
    tasks: Dense<Task>,
    free_tasks: Vec<u32>,
    calls: Dense<Call>,
    free_calls: Vec<u32>,
    traces: Dense<TraceBuf>,
    free_traces: Vec<u32>,
    replicas: Dense<Replica>,
    nodes: Dense<NodeState>,
    datastores: Dense<Datastore>,
    ins: Instruments,
    fams: Fams,
    tpl: Templates,
    warn_templates: BTreeMap<u16, TemplateId>,
    tel: Telemetry,
    r_traffic: SimRng,
    r_work: SimRng,
    r_ids: SimRng,
    r_net: SimRng,
    r_fault: SimRng,
    r_sample: SimRng,
    stats: RunStats,
    affected: BTreeMap<u16, u64>,
    truth_traces: BTreeMap<TraceId, Vec<(u16, SpanId)>>,
    profile_acc: FxHashMap<(i64, u32, u32), i64>,
    db_keys: FxHashMap<OpId, u32>,
    db_idents: BTreeMap<String, u32>,
    /// CPU µs of the current profile bucket, dense by replica × stack.
    profile_cur: Dense<i64>,
    profile_bucket: i64,
    stacks: FxHashMap<(u16, u16, u8), u32>,
    /// `cpu_stack` answers by (first endpoint of the service + endpoint) × 3
    /// + leaf, `NO` until asked: asked on every CPU burst.
    cpu_stacks: Dense<u32>,
    /// Index of each service's first endpoint in `cpu_stacks`' numbering.
    ep_base: Dense<u32>,
    scrape_offsets: Dense<i64>,
    leaf_cache: Dense<[(&'static str, f64); 3]>,
    mix_cdf: Dense<f64>,
    /// Concrete paths of access log lines by endpoint (numbered as in
    /// `ep_base`) and product,
    /// formatted once each.
    paths: Dense<Dense<Option<Arc<str>>>>,
    rr: Dense<u32>,
    done: bool,
}

/// `a.max(b)` as libm's `fmax` computes it (the NaN-ignoring maximum),
/// written out: wasm has no instruction with those semantics, so
/// `f64::max` there is a call to `fmax`, and these are on the
/// per-request path.
#[inline(always)]
fn max_f64(a: f64, b: f64) -> f64 {
    if a.is_nan() || a < b { b } else { a }
}

#[inline]
fn lognormal(r: &mut SimRng, median: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return median;
    }
    median * libm::exp(sigma * rng::std_normal(r))
}

impl Engine {
    pub fn new(model: Model, seed: u64) -> Engine {
        let mut tel = Telemetry { start_unix_ms: model.start_unix_ms, ..Default::default() };
        tel.profiles = crate::store::ProfileStore::new(10_000_000);
        tel.traces.categories = model.traffic.categories.iter().map(|c| Arc::from(c.as_str())).collect();
        let world = World::build(&model, &mut tel.traces);
        tel.resources = world.resources.clone();
        let (faults, incidents) = faults::plan(&model, seed);
        let plan = &model.instrumentation;
        let mut ins = Instruments::new();
        let limit = plan.cardinality_limit;
        let big = u32::MAX;
        let b = &plan.buckets;
        let fams = Fams {
            server: ins.family(sc::HTTP_SERVER_DURATION, MetricKind::Histogram, "Duration of HTTP server requests.", "seconds", b, limit),
            client: ins.family(sc::HTTP_CLIENT_DURATION, MetricKind::Histogram, "Duration of HTTP client requests.", "seconds", &sc::HTTP_BUCKETS, big),
            db: ins.family(sc::DB_CLIENT_DURATION, MetricKind::Histogram, "Duration of database client operations.", "seconds", &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0], big),
            active: ins.family("http_server_active_requests", MetricKind::Gauge, "Number of active HTTP server requests.", "", &[], limit),
            retries: ins.family("http_client_request_retries", MetricKind::Counter, "HTTP client requests retried after a timeout.", "", &[], big),
            cpu: ins.family("container_cpu_usage_seconds", MetricKind::Counter, "Cumulative CPU time consumed by the container.", "seconds", &[], big),
            throttled: ins.family("container_cpu_cfs_throttled_seconds", MetricKind::Counter, "Total time the container was throttled or stalled.", "seconds", &[], big),
            memory: ins.family("container_memory_working_set_bytes", MetricKind::Gauge, "Current working set of the container.", "bytes", &[], big),
            node_cpu: ins.family("node_cpu_seconds", MetricKind::Counter, "Seconds the node's CPUs spent in each mode (summed over CPUs).", "seconds", &[], big),
            retrans: ins.family("node_netstat_Tcp_RetransSegs", MetricKind::Counter, "TCP segments retransmitted.", "", &[], big),
            gc: ins.family("jvm_gc_duration_seconds", MetricKind::Histogram, "Duration of JVM garbage collection pauses.", "seconds", &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5], big),
            heap: ins.family("jvm_memory_used_bytes", MetricKind::Gauge, "Heap memory used.", "bytes", &[], big),
            queued: ins.family("executor_queued_tasks", MetricKind::Gauge, "Requests waiting for a worker thread.", "", &[], big),
            queued_max: ins.family("executor_queued_tasks_max", MetricKind::Gauge, "Longest worker queue since the previous scrape.", "", &[], big),
            active_threads: ins.family("executor_active_threads", MetricKind::Gauge, "Worker threads busy with a request.", "", &[], big),
            max_threads: ins.family("executor_pool_max_threads", MetricKind::Gauge, "Size of the worker thread pool.", "", &[], big),
            cache: ins.family("cache_gets", MetricKind::Counter, "Cache lookups by result.", "", &[], big),
            lock_wait: ins.family("app_lock_wait_seconds", MetricKind::Counter, "Time spent waiting to acquire an application lock.", "seconds", &[], big),
            ds_cpu: ins.family("process_cpu_seconds", MetricKind::Counter, "CPU time of the datastore process.", "seconds", &[], big),
            ds_active: ins.family("datastore_active_queries", MetricKind::Gauge, "Queries executing in the datastore.", "", &[], big),
            up: ins.family("up", MetricKind::Gauge, "Whether the scrape target is up.", "", &[], big),
        };
        let tpl = Templates {
            access: tel.logs.add_template(LogTemplate { logger: "http.access".into(), body: "{method} {path} {status} {duration_ms}ms".into(), fields: vec!["method".into(), "path".into(), "status".into(), "duration_ms".into()] }),
            error: tel.logs.add_template(LogTemplate { logger: "http.server".into(), body: "request failed: {method} {route} returned {status} ({error})".into(), fields: vec!["method".into(), "route".into(), "status".into(), "error".into()] }),
            retry: tel.logs.add_template(LogTemplate { logger: "http.client".into(), body: "retrying {target} after timeout of {timeout_ms}ms (attempt {attempt})".into(), fields: vec!["target".into(), "timeout_ms".into(), "attempt".into()] }),
            lock: tel.logs.add_template(LogTemplate { logger: "app.lock".into(), body: "waiting for lock {lock}: waited {waited_ms}ms behind {queued} others".into(), fields: vec!["lock".into(), "waited_ms".into(), "queued".into()] }),
            gc: tel.logs.add_template(LogTemplate { logger: "gc".into(), body: "GC pause ({cause}) {before}M->{after}M({heap}M) {pause_ms}ms".into(), fields: vec!["cause".into(), "before".into(), "after".into(), "heap".into(), "pause_ms".into()] }),
            cancel: tel.logs.add_template(LogTemplate { logger: "http.server".into(), body: "client closed connection before response: {method} {route}".into(), fields: vec!["method".into(), "route".into()] }),
            leak: tel.logs.add_template(LogTemplate { logger: "com.zaxxer.hikari.pool.ProxyLeakTask".into(), body: "Connection leak detection triggered for connection on pool {pool}, held for {held_ms}ms".into(), fields: vec!["pool".into(), "held_ms".into()] }),
        };
        let mut warn_templates = BTreeMap::new();
        for f in &faults {
            if let FaultKind::NoisyWarning { message, .. } = &f.kind {
                let t = tel.logs.add_template(LogTemplate { logger: "config".into(), body: message.as_str().into(), fields: vec![] });
                warn_templates.insert(f.id, t);
            }
        }
        let pool_warn = |tel: &mut Telemetry| tel.logs.add_template(LogTemplate {
            logger: "db.pool".into(),
            body: "timed out waiting for connection from pool {pool} after {waited_ms}ms (pending={pending}, active={active}, max={max})".into(),
            fields: vec!["pool".into(), "waited_ms".into(), "pending".into(), "active".into(), "max".into()],
        });
        let pool_tpl = pool_warn(&mut tel);

        let mut nodes = Vec::new();
        for n in &model.nodes {
            let target = ins.target(Labels::from_pairs([("job", "node-exporter"), ("instance", n.name.as_str()), ("node", n.name.as_str())]));
            nodes.push(NodeState { cores: n.cores, running: 0, stall_until: SimTime::ZERO, stall_total: 0, busy_us: 0, steal_us: 0, retransmits: 0, target });
        }
        let mut datastores = Vec::new();
        for d in &model.datastores {
            let target = ins.target(Labels::from_pairs([("job", d.name.as_str()), ("instance", d.name.as_str()), ("namespace", model.namespace.as_str())]));
            datastores.push(Datastore { concurrency: d.concurrency, running: 0, queue: VecDeque::new(), busy_us: 0, target });
        }
        let mut replicas = Vec::new();
        for ri in &world.replicas {
            let s = &model.services[ri.service as usize];
            let res = &world.resources[ri.resource.0 as usize];
            let target = ins.target(Labels::from_pairs([
                ("job", format!("{}/{}", model.namespace, s.name).as_str()),
                ("instance", res.pod.as_ref()),
                ("namespace", model.namespace.as_str()),
                ("pod", res.pod.as_ref()),
                ("node", res.node.as_ref()),
                ("service", s.name.as_str()),
            ]));
            let rid = replicas.len() as u64;
            let mut pools = Vec::new();
            for (k, &(ds, size)) in s.pools.iter().enumerate() {
                let dsn: Arc<str> = model.datastores[ds].name.as_str().into();
                let key = (rid << 8) | k as u64;
                let l = || vec![("pool_name", dsn.clone())];
                let wait_f = ins.family("db_client_connection_wait_time_seconds", MetricKind::Histogram, "Time it took to obtain an open connection from the pool.", "seconds", &[0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5], big);
                let used_f = ins.family("db_client_connection_count", MetricKind::Gauge, "Connections in the pool by state.", "", &[], big);
                let pending_f = ins.family("db_client_connection_pending_requests", MetricKind::Gauge, "Requests waiting for a connection.", "", &[], big);
                let max_f = ins.family("db_client_connection_max", MetricKind::Gauge, "Maximum connections allowed.", "", &[], big);
                let wait_hist = ins.get(wait_f, target, key, l);
                let used_gauge = ins.get(used_f, target, key, || vec![("pool_name", dsn.clone()), ("state", "used".into())]);
                let idle_gauge = ins.get(used_f, target, key | 1 << 40, || vec![("pool_name", dsn.clone()), ("state", "idle".into())]);
                let pending_gauge = ins.get(pending_f, target, key, l);
                let max_gauge = ins.get(max_f, target, key, l);
                pools.push(Pool { size, in_use: 0, waiters: VecDeque::new(), leaked: Vec::new(), pending_leaks: 0, wait_hist, used_gauge, idle_gauge, pending_gauge, max_gauge, warn_template: pool_tpl, ds: ds as u16 });
            }
            let heap_max = s.heap_mb * 1024.0 * 1024.0;
            replicas.push(Replica {
                service: ri.service,
                node: ri.node,
                resource: ri.resource,
                target,
                workers: s.workers,
                busy: 0,
                queue: VecDeque::new(),
                pools: pools.into(),
                gc_until: SimTime::ZERO,
                gc_total: 0,
                heap_used: heap_max * 0.3,
                heap_max,
                young_alloc: 0.0,
                lock_held: false,
                lock_queue: VecDeque::new(),
                queue_peak: 0,
                inflight: 0,
                cpu_us_total: 0,
                throttled_us_total: 0,
            });
        }
        ins.describe_all(&mut tel.series);
        let mut cdf = Vec::new();
        let mut acc = 0.0;
        for m in &model.traffic.mix {
            acc += m.2;
            cdf.push(acc);
        }
        let leaf_cache = model.services.iter().map(|s| leaf_frames(s.runtime)).collect();
        let nservices = model.services.len();
        let mut e = Engine {
            seed,
            q: EventQueue::new(),
            on: vec![false; faults.len()].into(),
            on_until: i64::MIN,
            stampede: vec![(i64::MIN, 0); faults.len()],
            faults: faults.into(),
            incidents,
            fibers: Dense::new(),
            free_fibers: Vec::new(),
            tasks: Dense::new(),
            free_tasks: Vec::new(),
            calls: Dense::new(),
            free_calls: Vec::new(),
            traces: Dense::new(),
            free_traces: Vec::new(),
            replicas: replicas.into(),
            nodes: nodes.into(),
            datastores: datastores.into(),
            ins,
            fams,
            tpl,
            warn_templates,
            tel,
            r_traffic: rng::stream(seed, "traffic"),
            r_work: rng::stream(seed, "work"),
            r_ids: rng::stream(seed, "ids"),
            r_net: rng::stream(seed, "network"),
            r_fault: rng::stream(seed, "faults"),
            r_sample: rng::stream(seed, "sampling"),
            stats: RunStats::default(),
            affected: BTreeMap::new(),
            truth_traces: BTreeMap::new(),
            profile_acc: FxHashMap::default(),
            db_keys: FxHashMap::default(),
            db_idents: BTreeMap::new(),
            profile_cur: Dense::new(),
            profile_bucket: 0,
            stacks: FxHashMap::default(),
            cpu_stacks: Dense::new(),
            ep_base: Dense::new(),
            scrape_offsets: Dense::new(),
            leaf_cache,
            mix_cdf: cdf.into(),
            paths: Dense::new(),
            rr: vec![0; nservices].into(),
            done: false,
            world,
            model,
        };
        e.schedule_initial();
        e
    }

    fn schedule_initial(&mut self) {
        if !self.mix_cdf.is_empty() {
            let t = self.next_arrival_gap(SimTime::ZERO);
            self.q.schedule(SimTime::ZERO + t, Ev::Arrival);
        }
        // Each target is scraped at its own fixed offset in the interval,
        // plus a few milliseconds of jitter, as Prometheus spreads targets.
        let interval = self.model.scrape_interval.micros();
        for t in 0..self.ins.target_count() {
            let off = (rng::stable_hash(&[b"scrape", &(t as u64).to_le_bytes()]) % (interval as u64 / 1000).max(1)) as i64 * 1000 + 1_000;
            self.scrape_offsets.push(off);
            self.q.schedule(SimTime(off), Ev::Scrape { target: t as u16 });
        }
        for ri in 0..self.replicas.len() {
            if self.model.services[self.replicas[ri].service as usize].runtime == Runtime::Jvm {
                let first = SimDuration::from_secs_f64(2.0 + 3.0 * rng::unit(&mut self.r_fault));
                self.q.schedule(SimTime::ZERO + first, Ev::Gc { replica: ri as u32, major: false });
            }
        }
        for i in 0..self.faults.len() {
            let f = &self.faults[i];
            let first = f.windows.first().map(|w| w.0);
            match (&f.kind, first) {
                (FaultKind::CpuThrottling { .. }, Some(t)) => self.q.schedule(t, Ev::Stall { fault: i as u16 }),
                (FaultKind::NoisyWarning { .. }, Some(t)) => self.q.schedule(t, Ev::Warn { fault: i as u16 }),
                (FaultKind::LockContention { .. }, Some(t)) => self.q.schedule(t, Ev::LockJob { fault: i as u16 }),
                (FaultKind::PoolExhaustion { .. }, Some(t)) => self.q.schedule(t, Ev::Leak { fault: i as u16 }),
                (FaultKind::GcPauses { service, .. }, Some(t)) => {
                    let ri = self.world.service_replicas[*service][f.replica.unwrap_or(0) as usize];
                    self.q.schedule(t, Ev::Gc { replica: ri, major: true });
                }
                _ => {}
            }
        }
    }

    pub fn now(&self) -> SimTime {
        if self.done {
            return SimTime(self.model.duration.micros());
        }
        self.q.now()
    }

    /// Processes events up to `step` further in simulated time; true when done.
    pub fn advance(&mut self, step: SimDuration) -> bool {
        let end = SimTime(self.model.duration.micros());
        let limit = (self.q.now() + step).min(end);
        while let Some((t, ev)) = self.q.pop_until(limit) {
            // Nearly every call timeout finds its attempt answered: it is
            // dropped here, before the fault refresh and the dispatch
            // (`on_call_timeout` would return at the same check).
            if let Ev::CallTimeout { call, key } = ev
                && self.attempt_settled(call, key)
            {
                continue;
            }
            if t.0 >= self.on_until {
                self.refresh_faults(t);
            }
            self.dispatch(t, ev);
        }
        if limit >= end {
            self.done = true;
        }
        self.done
    }

    /// Recomputes `on` for time `t` and how long it holds: until the first
    /// window start or end after `t`, where no `RunFault::active` answer
    /// can change.
    fn refresh_faults(&mut self, t: SimTime) {
        self.on_until = i64::MAX;
        for (i, f) in self.faults.iter().enumerate() {
            self.on[i] = f.active(t);
            for w in &f.windows {
                for e in [w.0 .0, w.1 .0] {
                    if e > t.0 && e < self.on_until {
                        self.on_until = e;
                    }
                }
            }
        }
    }

    /// Whether `on` holds the answers for `now` (checked in debug builds
    /// wherever `on` is read).
    fn on_is_current(&self, now: SimTime) -> bool {
        now.0 < self.on_until && self.faults.iter().zip(self.on.iter()).all(|(f, &on)| f.active(now) == on)
    }

    /// Whether fault `f` is active at the current event's time, from `on`
    /// (fault ids are 1-based and in order, as `faults::plan` numbers them).
    #[inline]
    fn is_on(&self, f: &RunFault) -> bool {
        self.on[f.id as usize - 1]
    }

    // ---------- arrivals ----------

    fn rate_at(&self, t: SimTime) -> f64 {
        let tr = &self.model.traffic;
        let unix_s = self.model.start_unix_ms / 1000 + t.0 / 1_000_000;
        let hour = (unix_s.rem_euclid(86400) / 3600) as usize;
        let next = (hour + 1) % 24;
        let frac = (unix_s.rem_euclid(3600)) as f64 / 3600.0;
        let curve = tr.daily_curve[hour] * (1.0 - frac) + tr.daily_curve[next] * frac;
        let mut rate = tr.rate * curve;
        if let Some(b) = &tr.bursts {
            // Bursts on a fixed seed-derived cadence: a burst starts every `every`.
            let period = b.every.micros().max(1);
            let phase = (rng::stable_hash(&[b"bursts", &self.seed.to_le_bytes()]) % period as u64) as i64;
            if (t.0 + phase).rem_euclid(period) < b.length.micros() {
                rate *= b.factor;
            }
        }
        max_f64(rate, 0.001)
    }

    fn next_arrival_gap(&mut self, t: SimTime) -> SimDuration {
        let rate = self.rate_at(t);
        SimDuration::from_secs_f64(max_f64(rng::exp(&mut self.r_traffic, 1.0 / rate), 1e-6))
    }

    fn on_arrival(&mut self, now: SimTime) {
        let gap = self.next_arrival_gap(now);
        self.q.schedule(now + gap, Ev::Arrival);
        let u = rng::unit(&mut self.r_traffic);
        let k = self.mix_cdf.partition_point(|&c| c < u).min(self.mix_cdf.len() - 1);
        let (svc, ep, _) = self.model.traffic.mix[k];
        let tr = &self.model.traffic;
        let user = 1 + self.r_traffic.random_range(0..tr.users);
        // Product popularity is skewed: a few products get most views.
        let uu = rng::unit(&mut self.r_traffic);
        let mut product = 1 + ((uu * uu * uu) * tr.products as f64) as u32;
        let ncat = tr.categories.len() as u32;
        let mut category = if ncat > 0 { ((product - 1) % ncat + 1) as u16 } else { 0 };
        // N+1's campaign: its category's traffic surges in the windows.
        for f in &self.faults {
            if let FaultKind::NPlusOne { category: c, factor, .. } = f.kind {
                if self.is_on(f) && ncat > 0 && rng::unit(&mut self.r_traffic) < (factor - 1.0) / (factor - 1.0 + ncat as f64) {
                    category = c;
                    product = (product / ncat) * ncat + c as u32;
                }
            }
        }
        self.stats.requests += 1;
        let plan = &self.model.instrumentation;
        let traced = plan.tracing && (plan.sampling_ratio >= 1.0 || rng::unit(&mut self.r_sample) < plan.sampling_ratio);
        let trace_id = TraceId(rng::u128(&mut self.r_ids) | 1);
        let trace = if traced { self.new_trace(trace_id) } else { NO };
        let replica = self.pick_replica(svc as u16);
        let t = self.new_task(now, trace, trace_id, SpanId::INVALID, replica, svc as u16, ep as u16, (NO, 0, NO, u16::MAX), product, category, user);
        self.tasks[t as usize].root = true;
        self.start_task(now, t);
    }

    fn pick_replica(&mut self, svc: u16) -> u32 {
        let reps = &self.world.service_replicas[svc as usize];
        // Round-robin with a random start, like a kube-proxy / client LB.
        let i = self.rr[svc as usize];
        self.rr[svc as usize] = i.wrapping_add(1 + (self.r_net.next_u32() % 2) * (reps.len() as u32 > 2) as u32);
        reps[(i % reps.len() as u32) as usize]
    }

    // ---------- traces and spans ----------

    fn new_trace(&mut self, id: TraceId) -> u32 {
        let idx = if let Some(i) = self.free_traces.pop() {
            let t = &mut self.traces[i as usize];
            t.spans.clear();
            t.open = 0;
            t.trace_id = id;
            t.alive = true;
            i
        } else {
            self.traces.push(TraceBuf { spans: Dense::with_capacity(16), open: 0, trace_id: id, alive: true });
            self.traces.len() as u32 - 1
        };
        idx
    }

    /// Opens a span in `trace`; returns its index in the trace buffer.
    fn open_span(&mut self, trace: u32, parent: SpanId, op: OpId, res: ResourceId, start: SimTime) -> (u32, SpanId) {
        let span_id = SpanId(self.r_ids.next_u64() | 1);
        if trace == NO {
            return (NO, span_id);
        }
        let tb = &mut self.traces[trace as usize];
        tb.open += 1;
        tb.spans.push(SpanRecord {
            trace_id: tb.trace_id,
            span_id,
            parent,
            start,
            end: start,
            op,
            resource: res,
            status: StatusCode::Unset,
            error: ErrorType::None,
            http_status: 0,
            resend: 0,
            cache: 0,
            product: 0,
            category: 0,
            user: 0,
            cause: 0,
        });
        (tb.spans.len() as u32 - 1, span_id)
    }

    /// Where a client span of task `t` goes: the task's trace under its
    /// server span, or, when the plan turns propagation off, the root of a
    /// new one-span trace (the context was lost on the way out).
    fn client_ctx(&mut self, t: u32) -> (u32, SpanId) {
        let k = &self.tasks[t as usize];
        if k.trace == NO || self.model.instrumentation.propagation {
            return (k.trace, k.span_id);
        }
        let id = TraceId(rng::u128(&mut self.r_ids) | 1);
        (self.new_trace(id), SpanId::INVALID)
    }

    fn span_mut(&mut self, trace: u32, span: u32) -> Option<&mut SpanRecord> {
        if trace == NO || span == NO {
            return None;
        }
        self.traces.get_mut(trace as usize).and_then(|t| t.spans.get_mut(span as usize))
    }

    fn close_span(&mut self, now: SimTime, trace: u32, span: u32) {
        if trace == NO || span == NO {
            return;
        }
        let tb = &mut self.traces[trace as usize];
        tb.spans[span as usize].end = now;
        tb.open -= 1;
        if tb.open == 0 {
            self.finish_trace(trace);
        }
    }

    /// Tail sampling at trace completion: keep errors, slow roots and a share of the rest.
    fn finish_trace(&mut self, trace: u32) {
        self.stats.spans += self.traces[trace as usize].spans.len() as u64;
        let plan = &self.model.instrumentation;
        let tb = &self.traces[trace as usize];
        let error = tb.spans.iter().any(|s| s.status == StatusCode::Error);
        let root_slow = tb.spans.iter().find(|s| s.is_root()).is_some_and(|r| r.duration_us() >= plan.keep_slower_than.micros());
        let sampled = ((tb.trace_id.0 >> 64) as u64 as f64 / u64::MAX as f64) < plan.keep_ratio;
        let reason = if error {
            Some(KeepReason::Error)
        } else if root_slow {
            Some(KeepReason::Slow)
        } else if sampled {
            Some(KeepReason::Sampled)
        } else {
            None
        };
        let tb = &self.traces[trace as usize];
        match reason {
            Some(r) => {
                self.tel.traces.insert_trace(&tb.spans, r);
                self.stats.spans_kept += tb.spans.len() as u64;
                self.stats.traces_kept += 1;
                let causes: Vec<(u16, SpanId)> = tb.spans.iter().filter(|s| s.cause != 0).map(|s| (s.cause, s.span_id)).collect();
                if !causes.is_empty() {
                    self.truth_traces.insert(tb.trace_id, causes);
                }
            }
            None => {
                self.tel.traces.record_dropped(tb.spans.len());
                self.stats.spans_dropped += tb.spans.len() as u64;
                self.stats.traces_dropped += 1;
            }
        }
        self.traces[trace as usize].alive = false;
        self.free_traces.push(trace);
    }

    // ---------- tasks ----------

    #[allow(clippy::too_many_arguments)]
    fn new_task(&mut self, now: SimTime, trace: u32, trace_id: TraceId, parent: SpanId, replica: u32, service: u16, endpoint: u16, caller: (u32, u32, u32, u16), product: u32, category: u16, user: u32) -> u32 {
        let (call, call_key, from_replica, from_service) = caller;
        let (_, op) = self.world.handlers[service as usize][endpoint as usize];
        let res = self.replicas[replica as usize].resource;
        let (span, span_id) = self.open_span(trace, parent, op, res, now);
        let task = Task {
            trace,
            span,
            trace_id,
            span_id,
            replica,
            service,
            endpoint,
            start: now,
            status: 200,
            error: ErrorType::None,
            call,
            call_key,
            from_replica,
            from_service,
            product,
            category,
            user,
            cause: 0,
            has_worker: false,
            locked: false,
            hang: false,
            root: false,
            alive: true,
        };
        let idx = if let Some(i) = self.free_tasks.pop() {
            self.tasks[i as usize] = task;
            i
        } else {
            self.tasks.push(task);
            self.tasks.len() as u32 - 1
        };
        self.replicas[replica as usize].inflight += 1;
        idx
    }

    fn start_task(&mut self, now: SimTime, t: u32) {
        let ri = self.tasks[t as usize].replica as usize;
        let r = &mut self.replicas[ri];
        if r.busy < r.workers {
            r.busy += 1;
            self.tasks[t as usize].has_worker = true;
            self.begin_handler(now, t);
        } else {
            r.queue.push_back(t);
            r.queue_peak = r.queue_peak.max(r.queue.len());
        }
    }

    fn mark_cause(&mut self, t: u32, fault: u16) {
        let task = &mut self.tasks[t as usize];
        if task.cause == 0 {
            task.cause = fault;
        }
    }

    /// The worker picked the request up: fault hooks, then the handler program.
    fn begin_handler(&mut self, now: SimTime, t: u32) {
        let (svc, ep, ri) = {
            let k = &self.tasks[t as usize];
            (k.service as usize, k.endpoint as usize, k.replica as usize)
        };
        // Waiting in the worker queue long enough to matter is the starvation's doing.
        let queued = now.0 - self.tasks[t as usize].start.0;
        let mut hold_us = 0i64;
        let mut blocking = false;
        for i in 0..self.faults.len() {
            if !self.on[i] {
                continue;
            }
            let id = self.faults[i].id;
            match self.faults[i].kind {
                FaultKind::ThreadStarvation { service, hold, ratio } if service == svc => {
                    if queued > 20_000 {
                        self.mark_cause(t, id);
                    }
                    if rng::unit(&mut self.r_fault) < ratio {
                        hold_us += lognormal(&mut self.r_fault, hold.micros() as f64, 0.3) as i64;
                        blocking = true;
                        self.mark_cause(t, id);
                    }
                }
                FaultKind::FlakyDependency { service, target, ratio } if target == svc => {
                    let from = self.tasks[t as usize].from_service as usize;
                    if from == service && rng::unit(&mut self.r_fault) < ratio {
                        self.tasks[t as usize].hang = true;
                        self.mark_cause(t, id);
                        hold_us += HANG_US;
                    }
                }
                FaultKind::ErrorBurst { service, ratio } if service == svc => {
                    if rng::unit(&mut self.r_fault) < ratio {
                        let k = &mut self.tasks[t as usize];
                        k.status = 499;
                        k.error = ErrorType::ClientCancelled;
                    }
                }
                _ => {}
            }
        }
        let (list, _) = self.world.handlers[svc][ep];
        let f = self.new_fiber(t, list, NO);
        if hold_us > 0 {
            if blocking {
                let stack = self.blocking_stack(svc, ep);
                self.add_profile(now, ri, stack, hold_us);
            }
            self.q.schedule(now + SimDuration(hold_us), Ev::Hold { fiber: f });
            return;
        }
        if self.lock_needed(now, t) {
            self.acquire_lock(now, f);
            return;
        }
        self.run_fiber(now, f);
    }

    /// The lock-contention faults on task `t`'s endpoint.
    fn lock_faults(&self, t: u32) -> impl Iterator<Item = &RunFault> {
        let k = &self.tasks[t as usize];
        let (svc, ep) = (k.service as usize, k.endpoint as usize);
        self.faults.iter().filter(move |f| matches!(f.kind, FaultKind::LockContention { service, endpoint, .. } if service == svc && endpoint == ep))
    }

    fn lock_needed(&self, now: SimTime, t: u32) -> bool {
        debug_assert!(self.on_is_current(now));
        self.lock_faults(t).any(|f| self.is_on(f))
    }

    fn acquire_lock(&mut self, now: SimTime, f: u32) {
        let t = self.fibers[f as usize].task;
        let ri = self.tasks[t as usize].replica as usize;
        self.fibers[f as usize].since = now;
        if !self.replicas[ri].lock_held {
            self.replicas[ri].lock_held = true;
            self.enter_critical(now, f);
        } else {
            self.replicas[ri].lock_queue.push_back(f);
        }
    }

    fn enter_critical(&mut self, now: SimTime, f: u32) {
        let t = self.fibers[f as usize].task;
        let id = self.lock_faults(t).next().map(|f| f.id).unwrap_or(0);
        let ri = self.tasks[t as usize].replica as usize;
        let waited = now.0 - self.fibers[f as usize].since.0;
        self.tasks[t as usize].locked = true;
        if waited > 0 {
            let tg = self.replicas[ri].target;
            let fam = self.fams.lock_wait;
            let inst = self.ins.get(fam, tg, ri as u64, || vec![("lock", "cart-session".into())]);
            self.ins.add(inst, waited as f64 / 1e6);
            let svc = self.tasks[t as usize].service as usize;
            let ep = self.tasks[t as usize].endpoint as usize;
            let stack = self.lock_stack(svc, ep);
            self.add_profile(now, ri, stack, waited);
        }
        if waited > LOCK_WARN_US {
            self.mark_cause(t, id);
            let queued = self.replicas[ri].lock_queue.len() as i64;
            self.log(now, Severity::Warn, t, self.tpl.lock, vec![LogValue::Str("cart-session".into()), LogValue::Int(waited / 1000), LogValue::Int(queued)]);
        }
        // The critical section: a short piece of CPU work under the lock.
        let hold_us = lognormal(&mut self.r_work, 1500.0, 0.25);
        self.fibers[f as usize].span = LOCK_MARK;
        self.start_cpu(now, f, hold_us, 2);
    }

    fn release_lock(&mut self, now: SimTime, t: u32) {
        let ri = self.tasks[t as usize].replica as usize;
        self.tasks[t as usize].locked = false;
        self.release_replica_lock(now, ri);
    }

    fn release_replica_lock(&mut self, now: SimTime, ri: usize) {
        if let Some(next) = self.replicas[ri].lock_queue.pop_front() {
            self.enter_critical(now, next);
        } else {
            self.replicas[ri].lock_held = false;
        }
    }

    /// The handler is done: respond, record the server span, metrics and logs.
    fn finish_task(&mut self, now: SimTime, t: u32) {
        let (svc, ep, ri, trace, span, call, root) = {
            let k = &self.tasks[t as usize];
            (k.service as usize, k.endpoint as usize, k.replica as usize, k.trace, k.span, k.call, k.root)
        };
        {
            let e = &self.model.services[svc].endpoints[ep];
            let k = &mut self.tasks[t as usize];
            if k.error == ErrorType::None && k.status < 400 {
                let u = rng::unit(&mut self.r_work);
                if u < e.error_ratio {
                    k.status = 500;
                    k.error = ErrorType::ServerError;
                } else if u < e.error_ratio + e.not_found_ratio {
                    k.status = 404;
                } else if u < e.error_ratio + e.not_found_ratio + e.bad_request_ratio {
                    k.status = 400;
                }
            } else if k.status < 400 {
                k.status = match k.error {
                    ErrorType::Timeout | ErrorType::DbTimeout | ErrorType::ConnectionPoolTimeout => 504,
                    ErrorType::BadGateway => 502,
                    _ => 500,
                };
            }
        }
        let k = &self.tasks[t as usize];
        let (status, error, cause, dur) = (k.status, k.error, k.cause, now.0 - k.start.0);
        let (product, category, user) = (k.product, k.category, k.user);
        if let Some(s) = self.span_mut(trace, span) {
            s.http_status = status;
            s.error = if status >= 500 || error == ErrorType::ClientCancelled { error } else { ErrorType::None };
            s.status = if status >= 500 || error == ErrorType::ClientCancelled { StatusCode::Error } else { StatusCode::Unset };
            s.product = product;
            s.category = category;
            s.user = if root { user } else { 0 };
            s.cause = cause;
        }
        if cause != 0 {
            *self.affected.entry(cause).or_default() += 1;
        }
        self.record_server_metrics(now, t, dur, status);
        let plan_level = self.model.instrumentation.log_level;
        let (m, r) = self.world.names[svc][ep].clone();
        if status >= 500 && plan_level <= Severity::Error {
            self.log(now, Severity::Error, t, self.tpl.error, vec![LogValue::Str(m.clone()), LogValue::Str(r.clone()), LogValue::Int(status as i64), LogValue::Str(error.as_str().into())]);
        } else if error == ErrorType::ClientCancelled && plan_level <= Severity::Warn {
            self.log(now, Severity::Warn, t, self.tpl.cancel, vec![LogValue::Str(m.clone()), LogValue::Str(r.clone())]);
        }
        if self.model.services[svc].access_log && plan_level <= Severity::Info {
            // Routes without a parameter share one string; others get their concrete path.
            let path: Arc<str> = if r.contains('{') { self.path_of(svc, ep, &r, product) } else { r.clone() };
            self.log(now, Severity::Info, t, self.tpl.access, vec![LogValue::Str(m), LogValue::Str(path), LogValue::Int(status as i64), LogValue::Float(dur as f64 / 1000.0)]);
        }
        self.close_span(now, trace, span);
        // Free the worker: the next queued request starts.
        self.replicas[ri].inflight -= 1;
        if self.tasks[t as usize].has_worker {
            if let Some(next) = self.replicas[ri].queue.pop_front() {
                self.tasks[next as usize].has_worker = true;
                self.begin_handler(now, next);
            } else {
                self.replicas[ri].busy -= 1;
            }
        }
        if call != NO {
            let (key, from, cause) = (self.tasks[t as usize].call_key, self.tasks[t as usize].from_replica, self.tasks[t as usize].cause);
            let mut lat = self.net_latency(now, ri as u32, from);
            let lf = if lat > 150_000 { self.loss_fault(now, ri as u32, from) } else { 0 };
            if lat > 150_000 && lf == 0 {
                lat = lat.min(150_000);
            }
            // A lost answer may arrive after the caller's timeout, which then
            // fires on an attempt the loss shaped: the attempt carries it.
            if lf != 0 && cause == 0 {
                let c = &mut self.calls[call as usize];
                if !c.done && c.key() == key && c.child_cause == 0 {
                    c.child_cause = lf;
                }
            }
            self.q.schedule(now + SimDuration(lat), Ev::CallReturn { call, key, status, cause: if cause != 0 { cause } else { lf } });
        }
        if root {
            self.stats.completed += 1;
        }
        self.tasks[t as usize].alive = false;
        self.free_tasks.push(t);
    }

    fn record_server_metrics(&mut self, now: SimTime, t: u32, dur_us: i64, status: u16) {
        let plan = &self.model.instrumentation;
        if !plan.metrics {
            return;
        }
        let k = &self.tasks[t as usize];
        let (svc, ep, ri) = (k.service as usize, k.endpoint as usize, k.replica as usize);
        let e = &self.model.services[svc].endpoints[ep];
        let mut key: u64 = (ri as u64) << 48 | (ep as u64) << 40 | (status as u64) << 28;
        let mut extra: u64 = 0;
        for l in &plan.metric_labels {
            match l {
                MetricLabel::Path => extra = extra.wrapping_mul(1_000_003).wrapping_add(k.product as u64 + 1),
                MetricLabel::UserId => extra = extra.wrapping_mul(1_000_003).wrapping_add(k.user as u64 + 7),
                MetricLabel::ProductId => extra = extra.wrapping_mul(1_000_003).wrapping_add(k.product as u64 + 13),
                _ => {}
            }
        }
        key ^= rng::splitmix64(extra) & 0x0fff_ffff;
        let key = key.wrapping_add(extra << 1);
        let (product, user) = (k.product, k.user);
        let tg = self.replicas[ri].target;
        let fam = self.fams.server;
        let (method, route) = (&e.method, &e.route);
        let build = || {
            let mut v: Vec<(&'static str, Arc<str>)> = Vec::new();
            for l in &plan.metric_labels {
                let val: Arc<str> = match l {
                    MetricLabel::Method => method.as_str().into(),
                    MetricLabel::Route => route.as_str().into(),
                    MetricLabel::Path => concrete_path(route, product).into(),
                    MetricLabel::Status => status.to_string().into(),
                    MetricLabel::UserId => format!("u{user:05}").into(),
                    MetricLabel::ProductId => format!("P{product:05}").into(),
                };
                v.push((l.label_name(), val));
            }
            v
        };
        let inst = self.ins.get(fam, tg, key, build);
        let (tid, sid) = if k.trace != NO { (k.trace_id, k.span_id) } else { (TraceId::INVALID, SpanId::INVALID) };
        let ms = self.tel.unix_ms(now);
        self.ins.observe(inst, dur_us as f64 / 1e6, tid, sid, ms);
    }

    // ---------- fibers ----------

    fn new_fiber(&mut self, task: u32, list: ListId, parent: u32) -> u32 {
        let f = Fiber { task, list, pc: 0, parent, pending: 0, repeat: 0, gc_mark: 0, stall_mark: 0, span: NO, since: SimTime::ZERO, cache_miss: false, n1: false, span_trace: NO, external: false, queued_us: 0, alive: true };
        if let Some(i) = self.free_fibers.pop() {
            self.fibers[i as usize] = f;
            i
        } else {
            self.fibers.push(f);
            self.fibers.len() as u32 - 1
        }
    }

    /// Runs steps from the fiber's pc until one has to wait.
    fn run_fiber(&mut self, now: SimTime, f: u32) {
        loop {
            let (list, pc) = (self.fibers[f as usize].list, self.fibers[f as usize].pc as usize);
            if pc >= self.world.lists[list as usize].len() {
                self.fiber_done(now, f);
                return;
            }
            let step = &self.world.lists[list as usize][pc];
            if step.probability < 1.0 && rng::unit(&mut self.r_work) >= step.probability {
                self.fibers[f as usize].pc += 1;
                continue;
            }
            let node = step.node;
            match node {
                Node::Cpu { median_us, sigma, leaf } => {
                    let us = lognormal(&mut self.r_work, median_us, sigma);
                    self.start_cpu(now, f, us, leaf);
                    return;
                }
                Node::Parallel { first, len } => {
                    self.fibers[f as usize].pending = len;
                    let task = self.fibers[f as usize].task;
                    for k in first..first + len {
                        let b = self.world.branches[k as usize];
                        let c = self.new_fiber(task, b, f);
                        self.run_fiber(now, c);
                    }
                    return;
                }
                Node::Call { service, endpoint, timeout_us, retries, op } => {
                    self.start_call(now, f, service, endpoint, timeout_us, retries, op);
                    return;
                }
                Node::Db { pool, .. } | Node::Cache { pool, .. } => {
                    self.acquire_conn(now, f, pool);
                    return;
                }
                Node::External { ds, median_us, sigma, error_ratio, timeout_us, op } => {
                    self.start_external(now, f, ds, median_us, sigma, error_ratio, timeout_us, op);
                    return;
                }
            }
        }
    }

    fn step_done(&mut self, now: SimTime, f: u32) {
        let fb = &mut self.fibers[f as usize];
        if fb.repeat > 0 {
            fb.repeat -= 1;
        } else {
            fb.pc += 1;
        }
        self.run_fiber(now, f);
    }

    fn fiber_done(&mut self, now: SimTime, f: u32) {
        let (parent, task) = (self.fibers[f as usize].parent, self.fibers[f as usize].task);
        self.fibers[f as usize].alive = false;
        self.free_fibers.push(f);
        if parent != NO {
            let p = &mut self.fibers[parent as usize];
            p.pending -= 1;
            if p.pending == 0 {
                self.step_done(now, parent);
            }
        } else {
            if self.tasks[task as usize].locked {
                self.release_lock(now, task);
            }
            self.finish_task(now, task);
        }
    }

    // ---------- CPU ----------

    /// Starts a CPU burst of `demand_us` of work; saturation of the node
    /// (more runnable bursts than cores) and a bad replica stretch it.
    fn start_cpu(&mut self, now: SimTime, f: u32, demand_us: f64, leaf: u8) {
        let t = self.fibers[f as usize].task;
        let ri = self.tasks[t as usize].replica as usize;
        let svc = self.tasks[t as usize].service as usize;
        let ep = self.tasks[t as usize].endpoint;
        let node = self.replicas[ri].node as usize;
        let mut demand = max_f64(demand_us, 1.0);
        for i in 0..self.faults.len() {
            let fl = &self.faults[i];
            if let FaultKind::BadReplica { service, factor, ratio, .. } = fl.kind {
                if service == svc && fl.replica.map(|r| self.world.replicas[ri].index as u32 == r).unwrap_or(false) && self.is_on(fl) && rng::unit(&mut self.r_fault) < ratio {
                    demand *= factor;
                    let id = fl.id;
                    self.mark_cause(t, id);
                }
            }
        }
        let spike = self.spike_cores(now, node);
        let n = &mut self.nodes[node];
        let avail = max_f64(n.cores - spike, 0.25);
        let slowdown = max_f64((n.running + 1) as f64 / avail, 1.0);
        n.running += 1;
        let wall = (demand * slowdown) as i64;
        let (gc_total, gc_until) = (self.replicas[ri].gc_total, self.replicas[ri].gc_until);
        let fb = &mut self.fibers[f as usize];
        fb.gc_mark = gc_total;
        fb.stall_mark = self.nodes[node].stall_total;
        // Starting inside a pause: nothing runs until it ends.
        let start = now.max(gc_until).max(self.nodes[node].stall_until);
        if start > now {
            if let Some(id) = self.pause_fault(now, ri) {
                self.mark_cause(t, id);
            }
        }
        self.q.schedule(start + SimDuration(wall), Ev::CpuDone { fiber: f });
        let r = &mut self.replicas[ri];
        // Account the work now (profile buckets are 10 s; the burst is short).
        r.cpu_us_total += demand as i64;
        r.young_alloc += demand * 40.0; // ~40 bytes allocated per µs of CPU
        self.nodes[node].busy_us += demand as i64;
        let stack = self.cpu_stack(svc, ep, leaf);
        let leaves = self.leaf_cache[svc];
        if leaf == 0 {
            for (k, (_, share)) in leaves.iter().enumerate() {
                self.add_profile(now, ri, stack + k as u32, (demand * share) as i64);
            }
        } else {
            self.add_profile(now, ri, stack, demand as i64);
        }
    }

    fn spike_cores(&self, now: SimTime, node: usize) -> f64 {
        debug_assert!(self.on_is_current(now));
        self.faults.iter().filter_map(|f| match f.kind { FaultKind::CpuSpike { node: n, cores } if n == node && self.is_on(f) => Some(cores), _ => None }).sum()
    }

    fn on_cpu_done(&mut self, now: SimTime, f: u32) {
        let t = self.fibers[f as usize].task;
        let ri = self.tasks[t as usize].replica as usize;
        let node = self.replicas[ri].node as usize;
        // A GC pause or a throttling stall during the burst stretches it.
        let extra = (self.replicas[ri].gc_total - self.fibers[f as usize].gc_mark) + (self.nodes[node].stall_total - self.fibers[f as usize].stall_mark);
        if extra > 0 {
            let stall_extra = self.nodes[node].stall_total - self.fibers[f as usize].stall_mark;
            let fb = &mut self.fibers[f as usize];
            fb.gc_mark = self.replicas[ri].gc_total;
            fb.stall_mark = self.nodes[node].stall_total;
            if stall_extra > 0 {
                self.replicas[ri].throttled_us_total += stall_extra;
            }
            let gc_extra = extra - stall_extra;
            let svc = self.replicas[ri].service as usize;
            let idx = self.world.replicas[ri].index as u32;
            let culprit = self.faults.iter().find(|fl| {
                self.is_on(fl)
                    && match fl.kind {
                        FaultKind::CpuThrottling { node: n, .. } => n == node && stall_extra > 0,
                        FaultKind::GcPauses { service, .. } => service == svc && fl.replica == Some(idx) && gc_extra > 50_000,
                        _ => false,
                    }
            }).map(|fl| fl.id);
            if let Some(id) = culprit {
                self.mark_cause(t, id);
            }
            self.q.schedule(now + SimDuration(extra), Ev::CpuDone { fiber: f });
            return;
        }
        self.nodes[node].running -= 1;
        self.maybe_young_gc(now, ri);
        // A lock's critical section ends with its CPU burst.
        if self.fibers[f as usize].span == LOCK_MARK {
            self.fibers[f as usize].span = NO;
            self.release_lock(now, t);
            self.run_fiber(now, f);
            return;
        }
        self.step_done(now, f);
    }

    fn maybe_young_gc(&mut self, now: SimTime, ri: usize) {
        let svc = self.replicas[ri].service as usize;
        if self.model.services[svc].runtime != Runtime::Jvm {
            return;
        }
        let r = &self.replicas[ri];
        if r.young_alloc > r.heap_max * 0.25 && r.gc_until <= now {
            self.q.schedule(now, Ev::Gc { replica: ri as u32, major: false });
            self.replicas[ri].young_alloc = 0.0;
        }
    }

    // ---------- GC and stalls ----------

    fn on_gc(&mut self, now: SimTime, ri: u32, major: bool) {
        let ri = ri as usize;
        let svc = self.replicas[ri].service as usize;
        let idx = self.world.replicas[ri].index as u32;
        let fault = self.faults.iter().find(|f| matches!(f.kind, FaultKind::GcPauses { service, .. } if service == svc) && f.replica == Some(idx)).cloned();
        let mut full = false;
        let mut pause_us = lognormal(&mut self.r_fault, 8_000.0, 0.4) as i64;
        let mut fault_id = 0;
        if let (Some(f), true) = (&fault, major) {
            if let FaultKind::GcPauses { pause, every, .. } = f.kind {
                if f.active(now) {
                    full = true;
                    pause_us = lognormal(&mut self.r_fault, pause.micros() as f64, 0.25) as i64;
                    fault_id = f.id;
                    let next = now + SimDuration::from_secs_f64(every.as_secs_f64() * (0.6 + 0.8 * rng::unit(&mut self.r_fault)));
                    self.q.schedule(next, Ev::Gc { replica: ri as u32, major: true });
                } else {
                    if let Some(w) = f.windows.iter().find(|w| w.0 > now) {
                        self.q.schedule(w.0, Ev::Gc { replica: ri as u32, major: true });
                    }
                    return;
                }
            }
        }
        let r = &mut self.replicas[ri];
        if r.gc_until > now {
            return;
        }
        let before = r.heap_used + r.young_alloc.min(r.heap_max * 0.25);
        let after = if full { r.heap_max * 0.22 } else { (r.heap_max * 0.3).max(before * 0.45) };
        r.heap_used = after;
        r.young_alloc = 0.0;
        r.gc_until = now + SimDuration(pause_us);
        r.gc_total += pause_us;
        let tg = r.target;
        let heap_mb = r.heap_max / 1048576.0;
        let fam = self.fams.gc;
        let action: Arc<str> = if full { "end of major GC".into() } else { "end of minor GC".into() };
        let name: Arc<str> = if full { "G1 Old Generation".into() } else { "G1 Young Generation".into() };
        let inst = self.ins.get(fam, tg, (ri as u64) << 1 | full as u64, || vec![("jvm_gc_action", action.clone()), ("jvm_gc_name", name.clone())]);
        let ms = self.tel.unix_ms(now);
        self.ins.observe(inst, pause_us as f64 / 1e6, TraceId::INVALID, SpanId::INVALID, ms);
        let stack = self.gc_stack(full);
        self.add_profile(now, ri, stack, pause_us * 2);
        if self.model.instrumentation.log_level <= Severity::Info || (full && self.model.instrumentation.log_level <= Severity::Warn) {
            let sev = if full { Severity::Warn } else { Severity::Info };
            let cause = if full { "G1 Humongous Allocation" } else { "G1 Evacuation Pause" };
            let fields = vec![
                LogValue::Str(cause.into()),
                LogValue::Int((before / 1048576.0) as i64),
                LogValue::Int((after / 1048576.0) as i64),
                LogValue::Int(heap_mb as i64),
                LogValue::Float(pause_us as f64 / 1000.0),
            ];
            self.push_log(now, sev, ri, TraceId::INVALID, SpanId::INVALID, self.tpl.gc, fields);
        }
        // Every task that was running on this replica is stretched: mark the cause.
        if full {
            for i in 0..self.tasks.len() {
                let k = &self.tasks[i];
                if k.alive && k.replica as usize == ri && k.has_worker && fault_id != 0 {
                    self.mark_cause(i as u32, fault_id);
                }
            }
        }
    }

    fn on_stall(&mut self, now: SimTime, fi: u16) {
        let f = &self.faults[fi as usize];
        let FaultKind::CpuThrottling { node, ratio } = f.kind else { return };
        let id = f.id;
        if f.active(now) {
            // The neighbour's burst: our pods get (1 - ratio) of the node,
            // i.e. they stall for most of a few CFS periods.
            let len = lognormal(&mut self.r_fault, 350_000.0 * ratio, 0.35) as i64;
            let n = &mut self.nodes[node];
            let start = now.max(n.stall_until);
            n.stall_until = start + SimDuration(len);
            n.stall_total += len;
            n.steal_us += (len as f64 * n.cores * ratio) as i64;
            let gap = rng::exp(&mut self.r_fault, 5.0);
            self.q.schedule(now + SimDuration::from_secs_f64(gap), Ev::Stall { fault: fi });
            for i in 0..self.tasks.len() {
                let k = &self.tasks[i];
                if k.alive && k.has_worker && self.replicas[k.replica as usize].node as usize == node {
                    self.mark_cause(i as u32, id);
                }
            }
        } else if let Some(w) = f.windows.iter().find(|w| w.0 > now) {
            self.q.schedule(w.0, Ev::Stall { fault: fi });
        }
    }

    /// The background job behind lock contention: on every replica it takes
    /// the lock (when free) and holds it for `hold`, so requests queue up
    /// behind it and then run one by one (the staircase).
    fn on_lock_job(&mut self, now: SimTime, fi: u16) {
        let f = &self.faults[fi as usize];
        let FaultKind::LockContention { service, hold, .. } = f.kind else { return };
        if f.active(now) {
            for k in 0..self.world.service_replicas[service].len() {
                let ri = self.world.service_replicas[service][k] as usize;
                if !self.replicas[ri].lock_held {
                    self.replicas[ri].lock_held = true;
                    let h = lognormal(&mut self.r_fault, hold.micros() as f64, 0.3) as i64;
                    self.q.schedule(now + SimDuration(h), Ev::LockRelease { replica: ri as u32 });
                }
            }
            let gap = rng::exp(&mut self.r_fault, 3.0);
            self.q.schedule(now + SimDuration::from_secs_f64(gap), Ev::LockJob { fault: fi });
        } else if let Some(w) = f.windows.iter().find(|w| w.0 > now) {
            self.q.schedule(w.0, Ev::LockJob { fault: fi });
        }
    }

    fn on_warn(&mut self, now: SimTime, fi: u16) {
        let f = &self.faults[fi as usize];
        let FaultKind::NoisyWarning { service, per_minute, .. } = f.kind else { return };
        if f.active(now) {
            let reps = &self.world.service_replicas[service];
            let ri = reps[self.r_fault.random_range(0..reps.len())] as usize;
            if let Some(&tpl) = self.warn_templates.get(&f.id) {
                if self.model.instrumentation.log_level <= Severity::Warn {
                    self.push_log(now, Severity::Warn, ri, TraceId::INVALID, SpanId::INVALID, tpl, vec![]);
                }
            }
            let gap = rng::exp(&mut self.r_fault, 60.0 / per_minute);
            self.q.schedule(now + SimDuration::from_secs_f64(gap), Ev::Warn { fault: fi });
        } else if let Some(w) = f.windows.iter().find(|w| w.0 > now) {
            self.q.schedule(w.0, Ev::Warn { fault: fi });
        }
    }

    /// The fault behind a replica's current pause, if a fault caused it.
    fn pause_fault(&self, now: SimTime, ri: usize) -> Option<u16> {
        let r = &self.replicas[ri];
        let idx = self.world.replicas[ri].index as u32;
        self.faults.iter().find(|f| {
            self.is_on(f)
                && match f.kind {
                    FaultKind::GcPauses { service, .. } => service == r.service as usize && f.replica == Some(idx) && r.gc_until > now,
                    FaultKind::CpuThrottling { node, .. } => node == r.node as usize && self.nodes[node].stall_until > now,
                    _ => false,
                }
        }).map(|f| f.id)
    }

    /// When events for this replica may next run (GC pause or node stall).
    fn paused_until(&self, ri: usize) -> SimTime {
        let r = &self.replicas[ri];
        r.gc_until.max(self.nodes[r.node as usize].stall_until)
    }

    // ---------- network ----------

    /// One-way latency between two replicas; packet loss on either node
    /// costs a retransmission timeout (doubling on repeats).
    fn net_latency(&mut self, now: SimTime, from: u32, to: u32) -> i64 {
        debug_assert!(self.on_is_current(now));
        let (na, nb) = (self.replicas[from as usize].node as usize, self.replicas[to as usize].node as usize);
        let mut us = if na == nb { 80.0 } else { 250.0 } * (0.8 + 0.4 * rng::unit(&mut self.r_net));
        for f in &self.faults {
            if let FaultKind::PacketLoss { node, ratio } = f.kind {
                if (node == na || node == nb) && self.is_on(f) {
                    let mut rto = RTO_US as f64;
                    while rng::unit(&mut self.r_net) < ratio && rto < 3_200_000.0 {
                        us += rto;
                        rto *= 2.0;
                        self.nodes[node].retransmits += 1;
                    }
                }
            }
        }
        us as i64
    }

    fn loss_fault(&self, now: SimTime, a: u32, b: u32) -> u16 {
        debug_assert!(self.on_is_current(now));
        let (na, nb) = (self.replicas[a as usize].node as usize, self.replicas[b as usize].node as usize);
        self.faults.iter().find(|f| matches!(f.kind, FaultKind::PacketLoss { node, .. } if node == na || node == nb) && self.is_on(f)).map(|f| f.id).unwrap_or(0)
    }

    // ---------- calls ----------

    #[allow(clippy::too_many_arguments)]
    fn start_call(&mut self, now: SimTime, f: u32, service: u16, endpoint: u16, timeout_us: i64, retries: u8, op: OpId) {
        let t = self.fibers[f as usize].task;
        let mut c = Call { fiber: f, task: t, span: NO, service, endpoint, target_replica: 0, attempt: 0, retries_left: retries, timeout_us, started: now, done: false, child_cause: 0, op, generation: 0, span_trace: NO };
        let ci = if let Some(i) = self.free_calls.pop() {
            c.generation = (self.calls[i as usize].generation + 1) & 0x00ff_ffff;
            self.calls[i as usize] = c;
            i
        } else {
            self.calls.push(c);
            self.calls.len() as u32 - 1
        };
        self.send_attempt(now, ci);
    }

    fn send_attempt(&mut self, now: SimTime, ci: u32) {
        let (t, service, op) = (self.calls[ci as usize].task, self.calls[ci as usize].service, self.calls[ci as usize].op);
        let (res, from) = {
            let k = &self.tasks[t as usize];
            (self.replicas[k.replica as usize].resource, k.replica)
        };
        let (trace, parent) = self.client_ctx(t);
        let (span, _) = self.open_span(trace, parent, op, res, now);
        self.calls[ci as usize].span_trace = trace;
        let attempt = self.calls[ci as usize].attempt;
        if let Some(s) = self.span_mut(trace, span) {
            s.resend = attempt;
        }
        let target = self.pick_replica(service);
        let lat = self.net_latency(now, from, target);
        let c = &mut self.calls[ci as usize];
        c.span = span;
        c.target_replica = target;
        c.started = now;
        c.child_cause = 0;
        if lat > 150_000 {
            let lf = self.loss_fault(now, from, target);
            if lf != 0 {
                self.calls[ci as usize].child_cause = lf;
                if let Some(s) = self.span_mut(trace, span) {
                    s.cause = lf;
                }
                self.mark_cause(t, lf);
            }
        }
        // The request in flight keeps its trace open until it lands.
        if trace != NO {
            self.traces[trace as usize].open += 1;
        }
        let c = &self.calls[ci as usize];
        let key = c.key();
        self.q.schedule(now + SimDuration(lat), Ev::Deliver { call: ci, key, target, trace, span });
        if c.timeout_us > 0 {
            // `now` is the queue's clock: a lane per call site's timeout.
            debug_assert_eq!(now, self.q.now());
            self.q.schedule_after(SimDuration(c.timeout_us), Ev::CallTimeout { call: ci, key });
        }
    }

    fn on_deliver(&mut self, now: SimTime, ci: u32, key: u32, target: u32, in_flight_trace: u32, span: u32) {
        self.deliver(now, ci, key, target, span);
        if in_flight_trace != NO {
            let tb = &mut self.traces[in_flight_trace as usize];
            tb.open -= 1;
            if tb.open == 0 {
                self.finish_trace(in_flight_trace);
            }
        }
    }

    fn deliver(&mut self, now: SimTime, ci: u32, key: u32, target: u32, span_idx: u32) {
        let c = &self.calls[ci as usize];
        if c.generation != key >> 8 || c.done {
            return; // the caller gave up and closed the connection
        }
        let (t, service, endpoint) = (c.task, c.service, c.endpoint);
        let k = &self.tasks[t as usize];
        let propagate = self.model.instrumentation.propagation;
        let (trace, parent_span) = if k.trace == NO {
            (NO, SpanId::INVALID)
        } else {
            let sid = if span_idx != NO && c.span_trace == k.trace { self.traces[k.trace as usize].spans[span_idx as usize].span_id } else { k.span_id };
            (k.trace, sid)
        };
        let (trace_id, product, category, user) = (k.trace_id, k.product, k.category, k.user);
        let (from_replica, from_service) = (k.replica, k.service);
        let (trace, trace_id, parent_span) = if propagate || trace == NO {
            (trace, trace_id, parent_span)
        } else {
            // No propagation: the callee starts a new, disconnected trace.
            let id = TraceId(rng::u128(&mut self.r_ids) | 1);
            (self.new_trace(id), id, SpanId::INVALID)
        };
        let child = self.new_task(now, trace, trace_id, parent_span, target, service, endpoint, (ci, key, from_replica, from_service), product, category, user);
        self.start_task(now, child);
    }

    fn on_call_return(&mut self, now: SimTime, ci: u32, key: u32, status: u16, cause: u16) {
        let c = &self.calls[ci as usize];
        if c.done || c.key() != key {
            return; // a late answer to an attempt that already timed out
        }
        let (t, f, span, started, service) = (c.task, c.fiber, c.span, c.started, c.service);
        let child_cause = if c.child_cause != 0 { c.child_cause } else { cause };
        let trace = c.span_trace;
        if let Some(s) = self.span_mut(trace, span) {
            s.http_status = status;
            if status >= 500 {
                s.status = StatusCode::Error;
                s.error = ErrorType::BadGateway;
            }
            if child_cause != 0 && s.cause == 0 {
                s.cause = child_cause;
            }
        }
        if child_cause != 0 {
            self.mark_cause(t, child_cause);
        }
        self.close_span(now, trace, span);
        self.record_client(now, t, service, status, now.0 - started.0, trace, span);
        self.calls[ci as usize].done = true;
        if status >= 500 {
            let k = &mut self.tasks[t as usize];
            if k.error == ErrorType::None {
                k.error = ErrorType::BadGateway;
            }
        }
        self.free_calls.push(ci);
        self.step_done(now, f);
    }

    /// Whether attempt `key` of call `ci` is over: answered, or retried.
    #[inline(always)]
    fn attempt_settled(&self, ci: u32, key: u32) -> bool {
        let c = &self.calls[ci as usize];
        c.done || c.key() != key
    }

    fn on_call_timeout(&mut self, now: SimTime, ci: u32, key: u32) {
        if self.attempt_settled(ci, key) {
            return;
        }
        let c = &self.calls[ci as usize];
        let attempt = c.attempt;
        let (t, span, started, service, retries_left, timeout_us) = (c.task, c.span, c.started, c.service, c.retries_left, c.timeout_us);
        let trace = c.span_trace;
        let cause = self.faults.iter().find(|f| matches!(f.kind, FaultKind::FlakyDependency { target, .. } if target == service as usize) && self.is_on(f)).map(|f| f.id).unwrap_or(0);
        let cause = if cause != 0 { cause } else { self.calls[ci as usize].child_cause };
        if let Some(s) = self.span_mut(trace, span) {
            s.status = StatusCode::Error;
            s.error = ErrorType::Timeout;
            if cause != 0 {
                s.cause = cause;
            }
        }
        if cause != 0 {
            self.mark_cause(t, cause);
        }
        self.close_span(now, trace, span);
        self.record_client(now, t, service, 0, now.0 - started.0, trace, span);
        if retries_left > 0 {
            let target: Arc<str> = self.model.services[service as usize].name.as_str().into();
            if self.model.instrumentation.log_level <= Severity::Warn {
                self.log(now, Severity::Warn, t, self.tpl.retry, vec![LogValue::Str(target.clone()), LogValue::Int(timeout_us / 1000), LogValue::Int(attempt as i64 + 1)]);
            }
            let ri = self.tasks[t as usize].replica as usize;
            let tg = self.replicas[ri].target;
            let fam = self.fams.retries;
            let inst = self.ins.get(fam, tg, (ri as u64) << 16 | service as u64, || vec![("server_address", target)]);
            self.ins.add(inst, 1.0);
            let c = &mut self.calls[ci as usize];
            c.attempt += 1;
            c.retries_left -= 1;
            self.send_attempt(now, ci);
        } else {
            let f = self.calls[ci as usize].fiber;
            self.calls[ci as usize].done = true;
            let k = &mut self.tasks[t as usize];
            if k.error == ErrorType::None {
                k.error = ErrorType::Timeout;
            }
            self.free_calls.push(ci);
            self.step_done(now, f);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record_client(&mut self, now: SimTime, t: u32, service: u16, status: u16, dur_us: i64, trace: u32, span: u32) {
        if !self.model.instrumentation.metrics {
            return;
        }
        let ri = self.tasks[t as usize].replica as usize;
        let tg = self.replicas[ri].target;
        let fam = self.fams.client;
        let model = &self.model;
        let inst = self.ins.get(fam, tg, (ri as u64) << 32 | (service as u64) << 16 | status as u64, || {
            let target: Arc<str> = model.services[service as usize].name.as_str().into();
            let st: Arc<str> = if status == 0 { "".into() } else { status.to_string().into() };
            let err: Arc<str> = if status == 0 { "timeout".into() } else { "".into() };
            vec![("server_address", target), ("http_response_status_code", st), ("error_type", err)]
        });
        let (tid, sid) = match self.span_mut(trace, span) {
            Some(s) => (s.trace_id, s.span_id),
            None => (TraceId::INVALID, SpanId::INVALID),
        };
        let ms = self.tel.unix_ms(now);
        self.ins.observe(inst, dur_us as f64 / 1e6, tid, sid, ms);
    }

    /// A dense id per distinct db metric label set (system, operation, collection, server).
    fn db_metric_key(&mut self, op: OpId) -> u32 {
        if let Some(&k) = self.db_keys.get(&op) {
            return k;
        }
        let o = self.tel.traces.operation(op);
        let ident: Vec<String> = o.attributes.iter().filter(|(k, _)| matches!(*k, sc::DB_SYSTEM | sc::DB_OPERATION_NAME | sc::DB_COLLECTION_NAME | sc::SERVER_ADDRESS)).map(|(k, v)| format!("{k}={v}")).collect();
        let n = self.db_idents.len() as u32;
        let k = *self.db_idents.entry(ident.join(",")).or_insert(n);
        self.db_keys.insert(op, k);
        k
    }

    // ---------- pools and datastores ----------

    fn pool_capacity(&self, now: SimTime, ri: usize, pool: usize) -> u32 {
        let svc = self.replicas[ri].service as usize;
        let p = &self.replicas[ri].pools[pool];
        let mut size = p.size;
        for f in self.pool_faults(svc, p.ds as usize).filter(|f| self.is_on(f)) {
            if let FaultKind::PoolExhaustion { pool_size, .. } = f.kind {
                size = size.min(pool_size);
            }
        }
        size.saturating_sub(p.leaked_at(now))
    }

    /// The pool-exhaustion faults on `svc`'s pool for datastore `ds`.
    fn pool_faults(&self, svc: usize, ds: usize) -> impl Iterator<Item = &RunFault> {
        self.faults.iter().filter(move |f| matches!(f.kind, FaultKind::PoolExhaustion { service, datastore, .. } if service == svc && datastore == ds))
    }

    fn acquire_conn(&mut self, now: SimTime, f: u32, pool: Option<u8>) {
        let t = self.fibers[f as usize].task;
        let ri = self.tasks[t as usize].replica as usize;
        self.fibers[f as usize].since = now;
        let Some(p) = pool else {
            self.start_ds(now, f);
            return;
        };
        let cap = self.pool_capacity(now, ri, p as usize);
        let pl = &mut self.replicas[ri].pools[p as usize];
        if pl.in_use < cap && pl.waiters.is_empty() {
            pl.in_use += 1;
            self.conn_acquired(now, f, p);
        } else {
            pl.waiters.push_back(f);
            // The pool gives up on a waiter after its acquire timeout.
            let svc = self.replicas[ri].service as usize;
            let after = self.model.services[svc].pool_warn_after_us;
            if after > 0 {
                self.q.schedule(now + SimDuration(after), Ev::PoolTimeout { fiber: f, pool: p });
            }
        }
    }

    /// A waiter still without a connection at its acquire timeout fails:
    /// the pool logs "timed out waiting for connection" and the query
    /// step errors without reaching the database.
    fn on_pool_timeout(&mut self, now: SimTime, f: u32, p: u8) {
        let t = self.fibers[f as usize].task;
        let ri = self.tasks[t as usize].replica as usize;
        let svc = self.replicas[ri].service as usize;
        let waited = now.0 - self.fibers[f as usize].since.0;
        if waited != self.model.services[svc].pool_warn_after_us {
            return; // the fiber moved on (and may be waiting again, later)
        }
        let pl = &mut self.replicas[ri].pools[p as usize];
        let Some(pos) = pl.waiters.iter().position(|&x| x == f) else { return };
        pl.waiters.remove(pos);
        let ds = pl.ds as usize;
        let leak = self.pool_faults(svc, ds).next().map(|fl| fl.id);
        if let Some(id) = leak {
            self.mark_cause(t, id);
        }
        if self.model.instrumentation.log_level <= Severity::Warn {
            let pl = &self.replicas[ri].pools[p as usize];
            // Active counts leaked connections too, as the used-connections gauge does.
            let leaked = pl.leaked_at(now) as usize;
            let fields = vec![
                LogValue::Str(self.model.datastores[ds].name.as_str().into()),
                LogValue::Int(waited / 1000),
                LogValue::Int(pl.waiters.len() as i64),
                LogValue::Int((pl.in_use as usize + leaked) as i64),
                LogValue::Int(pl.size as i64),
            ];
            let tpl = pl.warn_template;
            self.log(now, Severity::Warn, t, tpl, fields);
        }
        let k = &mut self.tasks[t as usize];
        if k.error == ErrorType::None {
            k.error = ErrorType::ConnectionPoolTimeout;
        }
        self.step_done(now, f);
    }

    /// The leaking code path of a pool-exhaustion fault, on one replica of
    /// its service drawn at random: it takes a free connection (or the next
    /// one returned) and keeps it until leak detection reclaims it.
    fn on_leak(&mut self, now: SimTime, fi: u16) {
        let f = &self.faults[fi as usize];
        let FaultKind::PoolExhaustion { service, datastore, per_minute, hold, .. } = f.kind else { return };
        if !self.is_on(f) {
            if let Some(w) = f.windows.iter().find(|w| w.0 > now) {
                self.q.schedule(w.0, Ev::Leak { fault: fi });
            }
            return;
        }
        let reps = &self.world.service_replicas[service];
        let ri = reps[self.r_fault.random_range(0..reps.len())] as usize;
        let gap = rng::exp(&mut self.r_fault, 60.0 / (per_minute * reps.len() as f64));
        self.q.schedule(now + SimDuration::from_secs_f64(gap), Ev::Leak { fault: fi });
        let Some(p) = self.replicas[ri].pools.iter().position(|pl| pl.ds as usize == datastore) else { return };
        let cap = self.pool_capacity(now, ri, p);
        let pl = &mut self.replicas[ri].pools[p];
        if pl.in_use < cap {
            self.leak(now, ri, p as u8, hold);
        } else {
            pl.pending_leaks += 1;
        }
    }

    /// One connection of pool `p` leaks for 0.5–1.5 × the fault's `hold`;
    /// leak detection reclaims it then and says so.
    fn leak(&mut self, now: SimTime, ri: usize, p: u8, hold: SimDuration) {
        let hold_us = (hold.micros() as f64 * (0.5 + rng::unit(&mut self.r_fault))) as i64;
        let pl = &mut self.replicas[ri].pools[p as usize];
        let ds = pl.ds as usize;
        pl.leaked.retain(|&t| t > now);
        pl.leaked.push(now + SimDuration(hold_us));
        self.q.schedule(now + SimDuration(hold_us), Ev::Reclaim { replica: ri as u32, pool: p });
        if self.model.instrumentation.log_level <= Severity::Warn {
            let fields = vec![LogValue::Str(self.model.datastores[ds].name.as_str().into()), LogValue::Int(hold_us / 1000)];
            self.push_log(now + SimDuration(hold_us), Severity::Warn, ri, TraceId::INVALID, SpanId::INVALID, self.tpl.leak, fields);
        }
    }

    fn conn_acquired(&mut self, now: SimTime, f: u32, p: u8) {
        let t = self.fibers[f as usize].task;
        let ri = self.tasks[t as usize].replica as usize;
        let waited = now.0 - self.fibers[f as usize].since.0;
        let inst = self.replicas[ri].pools[p as usize].wait_hist;
        let ms = self.tel.unix_ms(now);
        self.ins.observe(inst, waited as f64 / 1e6, TraceId::INVALID, SpanId::INVALID, ms);
        // A wait long enough to matter is the leak's doing (the warning is
        // only for waiters that give up: see on_pool_timeout).
        let svc = self.replicas[ri].service as usize;
        if waited > POOL_SLOW_US {
            let ds = self.replicas[ri].pools[p as usize].ds as usize;
            let leak = self.pool_faults(svc, ds).find(|fl| self.is_on(fl)).map(|fl| fl.id);
            if let Some(id) = leak {
                self.mark_cause(t, id);
            }
        }
        self.start_ds(now, f);
    }

    fn release_conn(&mut self, now: SimTime, ri: usize, p: u8) {
        self.replicas[ri].pools[p as usize].in_use -= 1;
        // A leak that found the pool dry takes this connection.
        if self.replicas[ri].pools[p as usize].pending_leaks > 0 {
            self.replicas[ri].pools[p as usize].pending_leaks -= 1;
            let svc = self.replicas[ri].service as usize;
            let ds = self.replicas[ri].pools[p as usize].ds as usize;
            let hold = self.pool_faults(svc, ds).find(|f| self.is_on(f)).and_then(|f| match f.kind {
                FaultKind::PoolExhaustion { hold, .. } => Some(hold),
                _ => None,
            });
            match hold {
                Some(h) => self.leak(now, ri, p, h),
                None => self.replicas[ri].pools[p as usize].pending_leaks = 0,
            }
        }
        self.pump_pool(now, ri, p);
    }

    /// Hands free connections to waiters, first come first served.
    fn pump_pool(&mut self, now: SimTime, ri: usize, p: u8) {
        loop {
            let cap = self.pool_capacity(now, ri, p as usize);
            let pl = &mut self.replicas[ri].pools[p as usize];
            if pl.in_use >= cap {
                return;
            }
            let Some(next) = pl.waiters.pop_front() else { return };
            pl.in_use += 1;
            self.conn_acquired(now, next, p);
        }
    }

    /// Sends the current db/cache step to its datastore.
    fn start_ds(&mut self, now: SimTime, f: u32) {
        let (list, pc) = (self.fibers[f as usize].list, self.fibers[f as usize].pc as usize);
        let t = self.fibers[f as usize].task;
        let (ds, op, is_cache, hit_ratio) = match &self.world.lists[list as usize][pc].node {
            Node::Db { ds, op, .. } => (*ds, *op, false, 1.0),
            Node::Cache { ds, op, hit_ratio, .. } => (*ds, *op, true, *hit_ratio),
            _ => return,
        };
        let res = self.replicas[self.tasks[t as usize].replica as usize].resource;
        let (trace, parent) = self.client_ctx(t);
        let (span, _) = self.open_span(trace, parent, op, res, now);
        self.fibers[f as usize].span = span;
        self.fibers[f as usize].span_trace = trace;
        self.fibers[f as usize].since = now;
        if is_cache {
            let hr = self.effective_hit_ratio(now, t, ds, hit_ratio);
            let miss = rng::unit(&mut self.r_work) >= hr;
            self.fibers[f as usize].cache_miss = miss;
            if let Some(s) = self.span_mut(trace, span) {
                s.cache = if miss { 2 } else { 1 };
            }
        }
        let d = &mut self.datastores[ds as usize];
        if d.running < d.concurrency {
            d.running += 1;
            self.run_ds(now, f);
        } else {
            d.queue.push_back(f);
        }
    }

    /// The hit ratio of a lookup in `ds` by task `t`'s service. Under a
    /// cache stampede every key was written at once, so every key expires
    /// together every `every` of an incident window; each lookup after an
    /// expiry finds a few more keys refilled, and the ratio climbs back to
    /// `base` over `lookups` lookups. Counting lookups, not seconds, keeps
    /// the burst of misses the same size at any traffic: what a stampede
    /// does to the database then hangs on the database, not on the load.
    fn effective_hit_ratio(&mut self, now: SimTime, t: u32, ds: u16, base: f64) -> f64 {
        let svc = self.tasks[t as usize].service as usize;
        for (i, f) in self.faults.iter().enumerate() {
            if let FaultKind::CacheStampede { service, datastore, every, lookups } = f.kind {
                if service == svc && datastore == ds as usize {
                    if let Some(ws) = f.window_start(now) {
                        let every = every.micros().max(1);
                        let expiry = ws.0 + (now.0 - ws.0).div_euclid(every) * every;
                        let st = &mut self.stampede[i];
                        if st.0 != expiry {
                            *st = (expiry, 0);
                        }
                        st.1 += 1;
                        return base * (st.1 as f64 / lookups as f64).min(1.0);
                    }
                }
            }
        }
        // A surging category's items are colder than the rest: `cold` of
        // its lookups miss, and each refill loads its items one by one.
        match self.n_plus_one(t).map(|f| &f.kind) {
            Some(&FaultKind::NPlusOne { cold, .. }) => base.min(1.0 - cold),
            _ => base,
        }
    }

    /// The N+1 fault on now for task `t`'s endpoint and product category.
    fn n_plus_one(&self, t: u32) -> Option<&RunFault> {
        let k = &self.tasks[t as usize];
        let (svc, ep, cat) = (k.service as usize, k.endpoint as usize, k.category);
        self.faults.iter().find(|f| matches!(f.kind, FaultKind::NPlusOne { service, endpoint, category, .. } if service == svc && endpoint == ep && category == cat) && self.is_on(f))
    }

    fn run_ds(&mut self, now: SimTime, f: u32) {
        let (list, pc) = (self.fibers[f as usize].list, self.fibers[f as usize].pc as usize);
        let (median, sigma) = match &self.world.lists[list as usize][pc].node {
            Node::Db { median_us, sigma, .. } | Node::Cache { median_us, sigma, .. } => (*median_us, *sigma),
            _ => (1000.0, 0.3),
        };
        // N+1: the per-item queries are cheap lookups by primary key.
        let (median, sigma) = if self.fibers[f as usize].n1 { (1000.0, 0.3) } else { (median, sigma) };
        let service = lognormal(&mut self.r_work, median, sigma) as i64;
        self.fibers[f as usize].queued_us = now.0 - self.fibers[f as usize].since.0;
        let rtt = (2.0 * 250.0 * (0.8 + 0.4 * rng::unit(&mut self.r_net))) as i64;
        self.datastores[f_ds(&self.world, &self.fibers[f as usize]) as usize].busy_us += service;
        self.q.schedule(now + SimDuration(service + rtt), Ev::DsDone { fiber: f });
    }

    fn on_ds_done(&mut self, now: SimTime, f: u32) {
        let (list, pc) = (self.fibers[f as usize].list, self.fibers[f as usize].pc as usize);
        let t = self.fibers[f as usize].task;
        let node = self.world.lists[list as usize][pc].node;
        let ds = f_ds(&self.world, &self.fibers[f as usize]) as usize;
        // Free the datastore slot for the next queued query.
        let d = &mut self.datastores[ds];
        if let Some(next) = d.queue.pop_front() {
            self.run_ds(now, next);
        } else {
            d.running -= 1;
        }
        let (trace, ri) = (self.fibers[f as usize].span_trace, self.tasks[t as usize].replica as usize);
        let span = self.fibers[f as usize].span;
        let started = self.fibers[f as usize].since;
        let (pool, error_ratio, timeout_us, is_cache, on_miss) = match node {
            Node::Db { pool, error_ratio, timeout_us, .. } => (pool, error_ratio, timeout_us, false, None),
            Node::Cache { pool, on_miss, .. } => (pool, 0.0, 0, true, on_miss),
            _ => (None, 0.0, 0, false, None),
        };
        let mut failed = error_ratio > 0.0 && rng::unit(&mut self.r_work) < error_ratio;
        if timeout_us > 0 && now.0 - started.0 > timeout_us {
            failed = true;
        }
        let miss = is_cache && self.fibers[f as usize].cache_miss;
        let mut cause = 0;
        if !is_cache {
            // Queueing at an overloaded datastore after a stampede is the stampede's doing.
            let svc = self.tasks[t as usize].service as usize;
            if let Some(fl) = self.faults.iter().find(|fl| matches!(fl.kind, FaultKind::CacheStampede { service, .. } if service == svc) && self.is_on(fl)) {
                if self.fibers[f as usize].queued_us > 10_000 {
                    cause = fl.id;
                }
            }
        }
        if let Some(s) = self.span_mut(trace, span) {
            if failed {
                s.status = StatusCode::Error;
                s.error = ErrorType::DbTimeout;
            }
            if cause != 0 {
                s.cause = cause;
            }
        }
        if cause != 0 {
            self.mark_cause(t, cause);
        }
        self.close_span(now, trace, span);
        self.fibers[f as usize].span = NO;
        if self.model.instrumentation.metrics {
            let tg = self.replicas[ri].target;
            let opid = match self.world.lists[list as usize][pc].node {
                Node::Db { op, .. } | Node::Cache { op, .. } => op,
                _ => OpId(0),
            };
            let fam = self.fams.db;
            let key = self.db_metric_key(opid);
            let opx = self.tel.traces.operation(opid);
            // Operations with the same metric labels (two steps running the
            // same query) must share one instrument, or they would write the
            // same series twice.
            let inst = self.ins.get(fam, tg, (ri as u64) << 32 | key as u64, || {
                let mut v: Vec<(&'static str, Arc<str>)> = Vec::new();
                for (k, val) in &opx.attributes {
                    let name = match *k {
                        sc::DB_SYSTEM => "db_system_name",
                        sc::DB_OPERATION_NAME => "db_operation_name",
                        sc::DB_COLLECTION_NAME => "db_collection_name",
                        sc::SERVER_ADDRESS => "server_address",
                        _ => continue,
                    };
                    v.push((name, val.to_string().into()));
                }
                v
            });
            let (tid, sid) = match self.span_mut(trace, span) {
                Some(s) => (s.trace_id, s.span_id),
                None => (TraceId::INVALID, SpanId::INVALID),
            };
            let ms = self.tel.unix_ms(now);
            self.ins.observe(inst, (now.0 - started.0) as f64 / 1e6, tid, sid, ms);
            if is_cache {
                let fam = self.fams.cache;
                let model = &self.model;
                let inst = self.ins.get(fam, tg, (ri as u64) << 32 | (ds as u64) << 1 | miss as u64, || {
                    let res: Arc<str> = if miss { "miss".into() } else { "hit".into() };
                    vec![("cache", model.datastores[ds].name.as_str().into()), ("result", res)]
                });
                self.ins.add(inst, 1.0);
            }
        }
        if let Some(p) = pool {
            self.release_conn(now, ri, p);
        }
        if failed {
            let k = &mut self.tasks[t as usize];
            if k.error == ErrorType::None {
                k.error = ErrorType::DbTimeout;
            }
        }
        // N+1: this endpoint loads each item of the category one query at a time.
        if !is_cache && self.fibers[f as usize].repeat == 0 && self.fibers[f as usize].parent != NO {
            if let Some((id, &FaultKind::NPlusOne { queries: q, .. })) = self.n_plus_one(t).map(|f| (f.id, &f.kind)) {
                if !self.fibers[f as usize].n1 {
                    self.fibers[f as usize].n1 = true;
                    self.fibers[f as usize].repeat = q - 1;
                    self.mark_cause(t, id);
                }
            }
        }
        if miss {
            if let Some(l) = on_miss {
                self.fibers[f as usize].pending = 1;
                let c = self.new_fiber(t, l, f);
                self.run_fiber(now, c);
                return;
            }
        }
        self.step_done(now, f);
    }

    #[allow(clippy::too_many_arguments)]
    fn start_external(&mut self, now: SimTime, f: u32, ds: u16, median: f64, sigma: f64, error_ratio: f64, timeout_us: i64, op: OpId) {
        let t = self.fibers[f as usize].task;
        let res = self.replicas[self.tasks[t as usize].replica as usize].resource;
        let (trace, parent) = self.client_ctx(t);
        let (span, _) = self.open_span(trace, parent, op, res, now);
        self.fibers[f as usize].span = span;
        self.fibers[f as usize].span_trace = trace;
        self.fibers[f as usize].external = true;
        self.fibers[f as usize].since = now;
        let mut lat = lognormal(&mut self.r_work, median, sigma) as i64;
        let mut err = ErrorType::None;
        if rng::unit(&mut self.r_work) < error_ratio {
            err = ErrorType::BadGateway;
        }
        if timeout_us > 0 && lat > timeout_us {
            lat = timeout_us;
            err = ErrorType::Timeout;
        }
        self.datastores[ds as usize].busy_us += lat / 10;
        if let Some(s) = self.span_mut(trace, span) {
            s.http_status = if err == ErrorType::BadGateway { 502 } else if err == ErrorType::Timeout { 0 } else { 200 };
            if err != ErrorType::None {
                s.status = StatusCode::Error;
                s.error = err;
            }
        }
        if err != ErrorType::None {
            let k = &mut self.tasks[t as usize];
            if k.error == ErrorType::None {
                k.error = err;
            }
        }
        self.q.schedule(now + SimDuration(lat), Ev::Hold { fiber: f });
    }

    fn on_hold(&mut self, now: SimTime, f: u32) {
        let span = self.fibers[f as usize].span;
        let t = self.fibers[f as usize].task;
        if self.fibers[f as usize].external {
            self.fibers[f as usize].external = false;
            // An external call finished.
            let trace = self.fibers[f as usize].span_trace;
            self.close_span(now, trace, span);
            self.fibers[f as usize].span = NO;
            self.step_done(now, f);
            return;
        }
        // A blocking call or a hang at the start of the handler ended.
        if self.tasks[t as usize].hang {
            self.tasks[t as usize].hang = false;
        }
        if self.lock_needed(now, t) {
            self.acquire_lock(now, f);
            return;
        }
        self.run_fiber(now, f);
    }

    // ---------- scraping ----------

    fn on_scrape(&mut self, now: SimTime, target: u16) {
        let interval = self.model.scrape_interval.micros();
        let next = now.0 + interval;
        // A few ms of jitter, never moving a scrape across an interval edge.
        let jitter = (rng::unit(&mut self.r_net) * 3000.0) as i64;
        self.q.schedule(SimTime(next - (now.0 - (next - interval)).rem_euclid(1000) + jitter.min(2999)), Ev::Scrape { target });
        self.refresh_gauges(now, target);
        let ms = self.tel.unix_ms(now);
        let tg = TargetId(target);
        let fam = self.fams.up;
        let up = self.ins.get(fam, tg, target as u64, Vec::new);
        self.ins.set(up, 1.0);
        self.ins.scrape(tg, ms, &mut self.tel.series);
    }

    fn refresh_gauges(&mut self, now: SimTime, target: u16) {
        let tg = TargetId(target);
        if let Some(ni) = self.nodes.iter().position(|n| n.target == tg) {
            let n = &self.nodes[ni];
            let total = now.0 as f64 / 1e6 * n.cores;
            let user = n.busy_us as f64 / 1e6;
            let steal = n.steal_us as f64 / 1e6 + self.spike_busy(now, ni);
            let idle = (total - user - steal).max(0.0);
            let (rt, fam) = (n.retransmits as f64, self.fams.node_cpu);
            for (k, (mode, v)) in [("idle", idle), ("user", user), ("steal", steal)].into_iter().enumerate() {
                let inst = self.ins.get(fam, tg, (ni as u64) << 4 | k as u64, || vec![("mode", mode.into())]);
                self.set_counter(inst, v);
            }
            let fam = self.fams.retrans;
            let inst = self.ins.get(fam, tg, ni as u64, Vec::new);
            self.set_counter(inst, rt);
            return;
        }
        if let Some(di) = self.datastores.iter().position(|d| d.target == tg) {
            let d = &self.datastores[di];
            let (busy, running) = (d.busy_us as f64 / 1e6, (d.running as usize + d.queue.len()) as f64);
            let fam = self.fams.ds_cpu;
            let inst = self.ins.get(fam, tg, di as u64, Vec::new);
            self.set_counter(inst, busy);
            let fam = self.fams.ds_active;
            let inst = self.ins.get(fam, tg, di as u64, Vec::new);
            self.ins.set(inst, running);
            return;
        }
        let Some(ri) = self.replicas.iter().position(|r| r.target == tg) else { return };
        let svc = self.replicas[ri].service as usize;
        let runtime = self.model.services[svc].runtime;
        let fams = (self.fams.cpu, self.fams.throttled, self.fams.memory, self.fams.queued, self.fams.active_threads, self.fams.max_threads, self.fams.active, self.fams.heap);
        let r = &self.replicas[ri];
        let (cpu, thr, q, busy, max, infl) = (r.cpu_us_total as f64 / 1e6, r.throttled_us_total as f64 / 1e6, r.queue.len() as f64, r.busy as f64, r.workers as f64, r.inflight as f64);
        let mem_base = if runtime == Runtime::Jvm { r.heap_used + r.young_alloc.min(r.heap_max * 0.25) + 180.0 * 1048576.0 } else { 60.0 * 1048576.0 + infl * 2.0 * 1048576.0 };
        let heap = r.heap_used + r.young_alloc.min(r.heap_max * 0.25);
        let key = ri as u64;
        let i = self.ins.get(fams.0, tg, key, || vec![("container", self_name(&self.model, svc))]);
        self.set_counter(i, cpu);
        let i = self.ins.get(fams.1, tg, key, || vec![("container", self_name(&self.model, svc))]);
        self.set_counter(i, thr);
        let i = self.ins.get(fams.2, tg, key, || vec![("container", self_name(&self.model, svc))]);
        self.ins.set(i, mem_base);
        let i = self.ins.get(fams.3, tg, key, || vec![("name", "http-workers".into())]);
        self.ins.set(i, q);
        let peak = std::mem::replace(&mut self.replicas[ri].queue_peak, 0) as f64;
        let fam = self.fams.queued_max;
        let i = self.ins.get(fam, tg, key, || vec![("name", "http-workers".into())]);
        self.ins.set(i, peak);
        let i = self.ins.get(fams.4, tg, key, || vec![("name", "http-workers".into())]);
        self.ins.set(i, busy);
        let i = self.ins.get(fams.5, tg, key, || vec![("name", "http-workers".into())]);
        self.ins.set(i, max);
        if self.model.instrumentation.inflight_gauge && self.model.instrumentation.metrics {
            let i = self.ins.get(fams.6, tg, key, Vec::new);
            self.ins.set(i, infl);
        }
        if runtime == Runtime::Jvm {
            let i = self.ins.get(fams.7, tg, key, || vec![("jvm_memory_type", "heap".into())]);
            self.ins.set(i, heap);
        }
        for p in 0..self.replicas[ri].pools.len() {
            let cap = self.pool_capacity(now, ri, p);
            let pl = &self.replicas[ri].pools[p];
            let (u, idle, pend, max) = ((pl.in_use + pl.leaked_at(now)) as f64, (cap.saturating_sub(pl.in_use)) as f64, pl.waiters.len() as f64, pl.size as f64);
            let ids = (pl.used_gauge, pl.idle_gauge, pl.pending_gauge, pl.max_gauge);
            self.ins.set(ids.0, u);
            self.ins.set(ids.1, idle);
            self.ins.set(ids.2, pend);
            self.ins.set(ids.3, max);
        }
    }

    fn spike_busy(&self, now: SimTime, node: usize) -> f64 {
        let mut s = 0.0;
        for f in &self.faults {
            if let FaultKind::CpuSpike { node: n, cores } = f.kind {
                if n == node {
                    for w in &f.windows {
                        let a = w.0.min(now);
                        let b = w.1.min(now);
                        s += (b.0 - a.0) as f64 / 1e6 * cores;
                    }
                }
            }
        }
        s
    }

    fn set_counter(&mut self, id: InstrumentId, v: f64) {
        // Counters derived from state: add the difference (never negative).
        self.ins.set_counter(id, v);
    }

    // ---------- logs and profiles ----------

    fn log(&mut self, now: SimTime, sev: Severity, t: u32, tpl: TemplateId, fields: Vec<LogValue>) {
        let k = &self.tasks[t as usize];
        let (ri, trace, tid, sid) = (k.replica as usize, k.trace, k.trace_id, k.span_id);
        let (tid, sid) = if trace != NO && self.model.instrumentation.log_trace_ids { (tid, sid) } else { (TraceId::INVALID, SpanId::INVALID) };
        self.push_log(now, sev, ri, tid, sid, tpl, fields);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_log(&mut self, now: SimTime, sev: Severity, ri: usize, tid: TraceId, sid: SpanId, tpl: TemplateId, fields: Vec<LogValue>) {
        if sev < self.model.instrumentation.log_level || now.0 >= self.model.duration.micros() {
            return;
        }
        self.tel.logs.push(LogRecord { time: now, severity: sev, resource: self.replicas[ri].resource, trace_id: tid, span_id: sid, template: tpl, fields: fields.into_boxed_slice() });
    }

    /// `route` with `product` in its parameter, as one shared string per
    /// (service, endpoint, product).
    fn path_of(&mut self, svc: usize, ep: usize, route: &str, product: u32) -> Arc<str> {
        self.number_endpoints();
        let by_product = &mut self.paths[(self.ep_base[svc] + ep as u32) as usize];
        let i = product as usize;
        if i >= by_product.len() {
            by_product.resize(i + 1, None);
        }
        by_product[i].get_or_insert_with(|| concrete_path(route, product).into()).clone()
    }

    /// Numbers every (service, endpoint) once: `ep_base`, and the tables
    /// indexed by that number.
    #[inline]
    fn number_endpoints(&mut self) {
        if !self.ep_base.is_empty() {
            return;
        }
        let mut n = 0;
        for h in &self.world.handlers {
            self.ep_base.push(n);
            n += h.len() as u32;
        }
        self.cpu_stacks = vec![NO; n as usize * 3].into();
        self.paths = (0..n).map(|_| Dense::new()).collect();
    }

    fn stack_id(&mut self, key: (u16, u16, u8), build: impl FnOnce(&Self) -> Vec<String>) -> u32 {
        if let Some(&id) = self.stacks.get(&key) {
            return id;
        }
        let folded = build(self);
        let mut first = 0;
        for (k, s) in folded.iter().enumerate() {
            let id = self.tel.profiles.intern(s).0;
            if k == 0 {
                first = id;
            }
        }
        self.stacks.insert(key, first);
        first
    }

    /// Stacks for CPU bursts: for leaf 0 the three handler leaves are
    /// interned consecutively so `id + k` is leaf k.
    fn cpu_stack(&mut self, svc: usize, ep: u16, leaf: u8) -> u32 {
        self.number_endpoints();
        if leaf > 2 {
            return self.cpu_stack_uncached(svc, ep, leaf);
        }
        let slot = (self.ep_base[svc] + ep as u32) as usize * 3 + leaf as usize;
        let id = self.cpu_stacks[slot];
        if id != NO {
            return id;
        }
        let id = self.cpu_stack_uncached(svc, ep, leaf);
        self.cpu_stacks[slot] = id;
        id
    }

    fn cpu_stack_uncached(&mut self, svc: usize, ep: u16, leaf: u8) -> u32 {
        self.stack_id((svc as u16, ep, leaf), |e| {
            let base = &e.world.frames[svc][ep as usize];
            match leaf {
                0 => e.leaf_cache[svc].iter().map(|(l, _)| format!("{base};{l}")).collect(),
                1 => vec![format!("{base};render")],
                _ => vec![format!("{base};cart.Session.update")],
            }
        })
    }

    fn blocking_stack(&mut self, svc: usize, ep: usize) -> u32 {
        self.stack_id((svc as u16, ep as u16, 10), |e| {
            let base = &e.world.frames[svc][ep];
            vec![format!("{base};net.(*Resolver).lookupHost;syscall.Syscall;[blocked] read")]
        })
    }

    fn lock_stack(&mut self, svc: usize, ep: usize) -> u32 {
        self.stack_id((svc as u16, ep as u16, 11), |e| {
            let base = &e.world.frames[svc][ep];
            vec![format!("{base};sync.(*Mutex).Lock;runtime.semacquire;[blocked] futex")]
        })
    }

    fn gc_stack(&mut self, full: bool) -> u32 {
        self.stack_id((u16::MAX, 0, full as u8), |_| {
            vec![if full { "GC Thread;G1CollectedHeap::do_full_collection;G1FullGCMarker::mark".to_string() } else { "GC Thread;G1YoungCollector::collect;G1ParScanThreadState::trim_queue".to_string() }]
        })
    }

    fn add_profile(&mut self, now: SimTime, ri: usize, stack: u32, us: i64) {
        if !self.model.instrumentation.profiling || us <= 0 {
            return;
        }
        let b = self.tel.profiles.bucket_us;
        let bucket = now.0 - now.0.rem_euclid(b);
        if bucket != self.profile_bucket {
            self.flush_profile();
            self.profile_bucket = bucket;
        }
        if (stack as usize) < STACKS_DENSE {
            let i = ri * STACKS_DENSE + stack as usize;
            if i >= self.profile_cur.len() {
                self.profile_cur.resize(self.replicas.len() * STACKS_DENSE, 0);
            }
            self.profile_cur[i] += us;
        } else {
            *self.profile_acc.entry((bucket, ri as u32, stack)).or_default() += us;
        }
    }

    fn flush_profile(&mut self) {
        let bucket = self.profile_bucket;
        for (i, us) in self.profile_cur.iter_mut().enumerate() {
            if *us != 0 {
                *self.profile_acc.entry((bucket, (i / STACKS_DENSE) as u32, (i % STACKS_DENSE) as u32)).or_default() += *us;
                *us = 0;
            }
        }
    }

    // ---------- dispatch and finish ----------

    fn dispatch(&mut self, now: SimTime, ev: Ev) {
        debug_assert!(self.on_is_current(now));
        // Work bound to a paused replica (GC, node stall) waits for the pause to end.
        let replica = match ev {
            Ev::Hold { fiber } | Ev::DsDone { fiber } => Some(self.tasks[self.fibers[fiber as usize].task as usize].replica),
            Ev::Deliver { target, .. } => Some(target),
            Ev::CallReturn { call, key, .. } => {
                let c = &self.calls[call as usize];
                if c.done || c.key() != key {
                    None
                } else {
                    Some(self.tasks[c.task as usize].replica)
                }
            }
            _ => None,
        };
        if let Some(ri) = replica {
            let until = self.paused_until(ri as usize);
            if until > now {
                let task = match ev {
                    Ev::Hold { fiber } | Ev::DsDone { fiber } => Some(self.fibers[fiber as usize].task),
                    Ev::CallReturn { call, .. } => Some(self.calls[call as usize].task),
                    Ev::Deliver { call, key, .. } => {
                        let c = &self.calls[call as usize];
                        (c.generation == key >> 8 && !c.done).then_some(c.task)
                    }
                    _ => None,
                };
                if let (Some(t), Some(id)) = (task, self.pause_fault(now, ri as usize)) {
                    self.mark_cause(t, id);
                }
                self.q.schedule(until, ev);
                return;
            }
        }
        match ev {
            Ev::Arrival => self.on_arrival(now),
            Ev::CpuDone { fiber } => self.on_cpu_done(now, fiber),
            Ev::Hold { fiber } => self.on_hold(now, fiber),
            Ev::DsDone { fiber } => self.on_ds_done(now, fiber),
            Ev::Deliver { call, key, target, trace, span } => self.on_deliver(now, call, key, target, trace, span),
            Ev::CallReturn { call, key, status, cause } => self.on_call_return(now, call, key, status, cause),
            Ev::CallTimeout { call, key } => self.on_call_timeout(now, call, key),
            Ev::Scrape { target } => self.on_scrape(now, target),
            Ev::Gc { replica, major } => self.on_gc(now, replica, major),
            Ev::Stall { fault } => self.on_stall(now, fault),
            Ev::Warn { fault } => self.on_warn(now, fault),
            Ev::LockJob { fault } => self.on_lock_job(now, fault),
            Ev::LockRelease { replica } => self.release_replica_lock(now, replica as usize),
            Ev::Reclaim { replica, pool } => self.pump_pool(now, replica as usize, pool),
            Ev::Leak { fault } => self.on_leak(now, fault),
            Ev::PoolTimeout { fiber, pool } => self.on_pool_timeout(now, fiber, pool),
        }
    }

    pub fn finish(mut self) -> Run {
        let end = SimTime(self.model.duration.micros());
        self.stats.events = self.q.events_processed();
        // Counted independently of `completed`, so conservation is a real check.
        self.stats.in_flight = self.tasks.iter().filter(|k| k.alive && k.root).count() as u64;
        // Traces still open at the end are cut off, as a collector's would be.
        self.flush_profile();
        let mut profile: Vec<((i64, u32, u32), i64)> = self.profile_acc.drain().collect();
        crate::sort::sort(&mut profile);
        for ((b, ri, st), us) in profile {
            if b < end.0 {
                let samples = ((us + SAMPLE_PERIOD_US / 2) / SAMPLE_PERIOD_US) as u64;
                let res = self.replicas[ri as usize].resource;
                self.tel.profiles.add(b, res, crate::store::profiles::StackId(st), samples);
            }
        }
        self.tel.logs.finish();
        let m = &self.model;
        let mut truth = GroundTruth { scenario: m.id.clone(), seed: self.seed, start_unix_ms: m.start_unix_ms, incidents: self.incidents.clone(), traces: std::mem::take(&mut self.truth_traces), affected_requests: std::mem::take(&mut self.affected), ..Default::default() };
        for f in &self.faults {
            let ft = fault_truth(m, &self.world, f);
            if f.red_herring {
                truth.red_herrings.push(ft);
            } else {
                truth.faults.push(ft);
            }
        }
        self.stats.spans_kept = self.tel.traces.span_count() as u64;
        Run { model: self.model, seed: self.seed, telemetry: self.tel, truth, stats: self.stats }
    }
}

const LOCK_MARK: u32 = u32::MAX - 1;
/// Stacks accumulated densely per profile bucket; rarer ones go to a map.
const STACKS_DENSE: usize = 64;

fn f_ds(world: &World, f: &Fiber) -> u16 {
    match &world.lists[f.list as usize][f.pc as usize].node {
        Node::Db { ds, .. } | Node::Cache { ds, .. } | Node::External { ds, .. } => *ds,
        _ => 0,
    }
}

fn self_name(model: &Model, svc: usize) -> Arc<str> {
    model.services[svc].name.as_str().into()
}

/// A concrete URL path for a route template: `{id}` becomes the product id.
pub fn concrete_path(route: &str, product: u32) -> String {
    if let Some(i) = route.find('{') {
        let end = route[i..].find('}').map(|j| i + j + 1).unwrap_or(route.len());
        format!("{}{}{}", &route[..i], product, &route[end..])
    } else {
        route.to_string()
    }
}

fn fault_truth(m: &Model, w: &World, f: &RunFault) -> FaultTruth {
    let mut params = BTreeMap::new();
    let (mut service, mut endpoint, mut pod, mut node, mut datastore) = (None, None, None, None, None);
    let svc_name = |s: usize| Some(m.services[s].name.clone());
    let pod_of = |s: usize, r: Option<u32>| r.and_then(|r| w.service_replicas[s].get(r as usize)).map(|&ri| w.replicas[ri as usize].pod.to_string());
    match &f.kind {
        FaultKind::PoolExhaustion { service: s, datastore: d, per_minute, hold, .. } => {
            service = svc_name(*s);
            datastore = Some(m.datastores[*d].name.clone());
            params.insert("leaks_per_minute".into(), per_minute.to_string());
            params.insert("leak_hold".into(), hold.to_string());
        }
        FaultKind::GcPauses { service: s, pause, every, .. } => {
            service = svc_name(*s);
            pod = pod_of(*s, f.replica);
            params.insert("pause".into(), pause.to_string());
            params.insert("every".into(), every.to_string());
        }
        FaultKind::CpuThrottling { node: n, ratio } => {
            node = Some(m.nodes[*n].name.clone());
            params.insert("ratio".into(), ratio.to_string());
        }
        FaultKind::BadReplica { service: s, factor, ratio, .. } => {
            service = svc_name(*s);
            pod = pod_of(*s, f.replica);
            params.insert("factor".into(), factor.to_string());
            params.insert("ratio".into(), ratio.to_string());
        }
        FaultKind::FlakyDependency { service: s, target, ratio } => {
            service = svc_name(*target);
            params.insert("caller".into(), m.services[*s].name.clone());
            params.insert("ratio".into(), ratio.to_string());
        }
        FaultKind::ThreadStarvation { service: s, hold, ratio } => {
            service = svc_name(*s);
            params.insert("hold".into(), hold.to_string());
            params.insert("ratio".into(), ratio.to_string());
        }
        FaultKind::CacheStampede { service: s, datastore: d, every, lookups } => {
            service = svc_name(*s);
            datastore = Some(m.datastores[*d].name.clone());
            params.insert("every".into(), every.to_string());
            params.insert("lookups".into(), lookups.to_string());
        }
        FaultKind::NPlusOne { service: s, endpoint: e, category, queries, factor, cold } => {
            service = svc_name(*s);
            endpoint = Some(m.services[*s].endpoints[*e].name.clone());
            params.insert("category".into(), m.traffic.categories.get(*category as usize - 1).cloned().unwrap_or_default());
            params.insert("queries".into(), queries.to_string());
            params.insert("factor".into(), factor.to_string());
            // The file's `ratio`: the share of the category's lookups that miss.
            params.insert("ratio".into(), cold.to_string());
        }
        FaultKind::LockContention { service: s, endpoint: e, hold } => {
            service = svc_name(*s);
            endpoint = Some(m.services[*s].endpoints[*e].name.clone());
            params.insert("hold".into(), hold.to_string());
        }
        FaultKind::PacketLoss { node: n, ratio } => {
            node = Some(m.nodes[*n].name.clone());
            params.insert("ratio".into(), ratio.to_string());
        }
        FaultKind::ErrorBurst { service: s, ratio } => {
            service = svc_name(*s);
            params.insert("ratio".into(), ratio.to_string());
        }
        FaultKind::NoisyWarning { service: s, message, .. } => {
            service = svc_name(*s);
            params.insert("message".into(), message.clone());
        }
        FaultKind::CpuSpike { node: n, cores } => {
            node = Some(m.nodes[*n].name.clone());
            params.insert("cores".into(), cores.to_string());
        }
    }
    FaultTruth { id: f.id, kind: f.kind.name(), service, endpoint, pod, node, datastore, windows: f.windows.clone(), params }
}

#[cfg(test)]
mod tests {
    use super::max_f64;

    #[test]
    fn max_f64_is_f64_max() {
        let xs = [0.0, -0.0, 1.0, -1.0, 0.25, 1e-6, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 3.5];
        for &a in &xs {
            for &b in &xs {
                let (m, r) = (max_f64(a, b), a.max(b));
                assert!(m.to_bits() == r.to_bits() || (m.is_nan() && r.is_nan()) || (m == 0.0 && r == 0.0), "{a} {b}: {m} vs {r}");
            }
        }
    }
}
