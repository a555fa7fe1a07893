//! Incident drills (SCENARIOS.md §4): a generator of fresh incidents for
//! interview practice. The drill's seed picks a topology from a small
//! family ([`TOPOLOGIES`]: an online shop, a payments platform, a video
//! streaming service), and draws its load, capacity, incident timing,
//! severity and red herrings; the cause is drawn from that topology's
//! catalogue by the same seed, each cause placed where it can happen in that
//! system. It asks culprit, mechanism, evidence and window. The seed is the
//! drill's name ("drill 4127"), so two people can compare on the same
//! incident.
//!
//! A topology is a scenario file (`scenarios/intermittent-p99.toml`,
//! `scenarios/drills/*.toml`). The drill edits the parsed file and resolves
//! it as `obslab check` does, so every drill passes the checks a file does.

use super::format::{FaultSpec, ScenarioFile};
use super::model::{FaultKind, Model, Runtime, Step, StepKind};
use super::toml::Spanned;
use super::{model as resolve, parse_file, ScenarioError};
use crate::sim::rng;
use crate::sim::time::parse_duration;
use rand::Rng;

/// The scenario id drills are routed under.
pub const ID: &str = "drill";

/// Severity of a drill, which scales the cause's strength.
pub const SEVERITIES: [(&str, f64); 3] = [("mild", 0.85), ("moderate", 1.0), ("severe", 1.2)];

/// The questions a drill asks (each topology file has exactly these).
const QUESTIONS: [&str; 4] = ["culprit", "mechanism", "evidence", "window"];

/// One system of the drills' family.
#[derive(Debug)]
pub struct Topology {
    /// Short id, e.g. `payments`.
    pub id: &'static str,
    /// What the system is, for the briefing: "a payments platform".
    pub name: &'static str,
    /// Its parts, as the briefing describes them.
    pub parts: &'static str,
    /// What the pager says.
    pub pager: &'static str,
    /// The scenario file.
    pub source: &'static str,
}

/// The family of topologies a drill is drawn from.
pub const TOPOLOGIES: [Topology; 3] = [
    Topology {
        id: "shop",
        name: "an online shop",
        parts: "a Go frontend; product-catalog (JVM) with a Redis cache over its Postgres database; recommendation (JVM); a cart in Redis; checkout calling an external payment provider",
        pager: "checkout and product pages are slow for some users",
        source: super::INTERMITTENT_P99,
    },
    Topology {
        id: "payments",
        name: "a payments platform",
        parts: "an API gateway; checkout, which asks fraud-check (JVM) for a score, authorises with the card network (an external provider) and books an entry in the ledger; payments (JVM), the payment store behind a Redis cache; the ledger, a small-worker writer with its own Postgres database",
        pager: "some card payments and payment-status checks are slow",
        source: include_str!("../../scenarios/drills/payments.toml"),
    },
    Topology {
        id: "streaming",
        name: "a video streaming service",
        parts: "a Node.js edge API; catalog (JVM) with a Redis title cache over its metadata database; search over an Elasticsearch index; recommendation rows (JVM); playback, which keeps watch sessions in Redis and asks a DRM provider for licences",
        pager: "browsing and starting a title are sometimes slow",
        source: include_str!("../../scenarios/drills/streaming.toml"),
    },
];

/// The topology of the drill for `seed`.
pub fn topology(seed: u64) -> &'static Topology {
    let mut r = rng::stream(seed, "drill/topology");
    &TOPOLOGIES[r.random_range(0..TOPOLOGIES.len())]
}

/// The drill for `seed`.
pub fn model(seed: u64) -> Result<Model, ScenarioError> {
    build(seed, topology(seed), None)
}

/// The drill for `seed` on a given topology with one given cause (the
/// index in its catalogue) instead of the drawn one: for tests that must
/// cover every (topology, cause) pair.
pub fn pinned(seed: u64, topology: &Topology, cause: usize) -> Result<Model, ScenarioError> {
    build(seed, topology, Some(cause))
}

fn build(seed: u64, topo: &Topology, cause: Option<usize>) -> Result<Model, ScenarioError> {
    let src = topo.source;
    let mut file = parse_file(src)?;
    let mut r = rng::stream(seed, "drill");
    // Timing: 30 minutes with at least two incidents.
    set_text(&mut file.scenario.duration, "30m".into());
    if let Some(inc) = &mut file.incidents {
        set_text(&mut inc.every, minutes(r.random_range(7.0..12.0)));
        set_text(&mut inc.length, minutes(r.random_range(2.0..4.0)));
        let first = minutes(r.random_range(2.0..5.0));
        match &mut inc.first_after {
            Some(f) => set_text(f, first),
            None => inc.first_after = Some(Spanned::new(0..0, first)),
        }
    }
    // Load and capacity.
    let load = r.random_range(0.8..1.2);
    file.traffic.rate *= load;
    for n in &mut file.nodes {
        n.cores = (n.cores * r.random_range(0.9..1.25)).round().max(2.0);
    }
    // Severity scales the strength of every catalogue cause.
    let (severity, s) = SEVERITIES[r.random_range(0..SEVERITIES.len())];
    if let Some(c) = &mut file.catalogue {
        for f in &mut c.faults {
            strengthen(f, s);
        }
        if let Some(k) = cause {
            if k >= c.faults.len() {
                return Err(ScenarioError { path: "catalogue.faults".into(), line: 0, column: 0, message: format!("{} has {} causes, not {}", topo.id, c.faults.len(), k + 1) });
            }
            c.faults = vec![c.faults.swap_remove(k)];
        }
    }
    // Red herrings: each kept with probability 3/4, moved to a drawn place.
    herrings(&mut file, &mut r);
    file.questions.retain(|q| QUESTIONS.contains(&q.id.get_ref().as_str()));
    describe(&mut file, seed, topo, severity, load);
    resolve::resolve(&file, src)
}

fn herrings(file: &mut ScenarioFile, r: &mut rng::SimRng) {
    let services: Vec<String> = file.services.iter().map(|s| s.name.clone()).collect();
    let nodes: Vec<String> = file.nodes.iter().map(|n| n.name.clone()).collect();
    let mut kept = Vec::new();
    for mut h in std::mem::take(&mut file.red_herrings) {
        if r.random_bool(0.25) {
            continue;
        }
        match h.kind.get_ref().as_str() {
            "error_burst" | "noisy_warning" => move_to(&mut h.service, &services, r),
            "cpu_spike" => move_to(&mut h.node, &nodes, r),
            _ => {}
        }
        kept.push(h);
    }
    file.red_herrings = kept;
}

fn move_to(at: &mut Option<Spanned<String>>, names: &[String], r: &mut rng::SimRng) {
    let name = names[r.random_range(0..names.len())].clone();
    match at {
        Some(s) => set_text(s, name),
        None => *at = Some(Spanned::new(0..0, name)),
    }
}

fn describe(file: &mut ScenarioFile, seed: u64, topo: &Topology, severity: &str, load: f64) {
    let m = &mut file.scenario;
    m.id = ID.to_string();
    m.title = format!("Incident drill {seed}");
    m.subtitle = format!("A {severity} incident in {}, drawn from the catalogue", topo.name);
    m.level = "drill".into();
    m.minutes = 15;
    m.briefing = format!(
        "On call for {}: {}.\n\n\
         Pager: *{}*. Load is {:.0}% of usual. You have 30 minutes of telemetry. \
         Find the culprit, the mechanism and a trace that proves it — against the clock if you like. \
         Drill {seed}: share the number and a colleague gets the same incident.",
        topo.name,
        topo.parts,
        topo.pager,
        load * 100.0
    );
}

/// Replaces a spanned string's text, keeping its place in the file (an
/// error about it still points at the line it came from).
fn set_text(s: &mut Spanned<String>, text: String) {
    *s = Spanned::new(s.span(), text);
}

/// A whole number of seconds, as a scenario file writes a duration.
fn minutes(m: f64) -> String {
    format!("{}s", (m * 60.0).round() as i64)
}

/// Scales a duration written in a file; an unreadable one is left for the
/// resolver to report.
fn scale(d: &mut Option<Spanned<String>>, s: f64) {
    if let Some(x) = d
        && let Ok(v) = parse_duration(x.get_ref())
    {
        let us = (v.micros() as f64 * s).round() as i64;
        set_text(x, format!("{us}us"));
    }
}

fn strengthen(f: &mut FaultSpec, s: f64) {
    let capped = |r: &mut Option<f64>, max: f64| {
        if let Some(r) = r {
            *r = (*r * s).min(max);
        }
    };
    match f.kind.get_ref().as_str() {
        // A leak is the file's whatever the severity: the pool runs dry
        // past a cliff (leaked connections on average near the pool's size),
        // so a little weaker leaves the P99 flat and a little stronger
        // times requests out as errors instead of slowing them.
        "pool_exhaustion" => {}
        "gc_pauses" => scale(&mut f.pause, s),
        "cpu_throttling" => capped(&mut f.ratio, 0.97),
        "bad_replica" => {
            if let Some(x) = &mut f.factor {
                *x *= s;
            }
        }
        "timeouts_retries" | "packet_loss" => capped(&mut f.ratio, 0.95),
        "thread_starvation" => {
            scale(&mut f.hold, s);
            capped(&mut f.ratio, 0.95);
        }
        "n_plus_one" => {
            if let Some(q) = &mut f.queries {
                *q = ((*q as f64) * s).round() as u32;
            }
        }
        "lock_contention" => scale(&mut f.hold, s),
        // cache_stampede has no strength; red herrings are not scaled.
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Whether a cause makes sense where a topology puts it.

/// Why `fault` cannot happen where it is placed in `m`, or `None` when it
/// can: a leak needs a pool the service queries through, a GC pause a JVM,
/// a retry storm a call with a timeout and retries, a stampede a cache in
/// front of a database, N+1 a per-item query, starvation a small worker
/// pool; every service-level cause sits on a service the traffic reaches,
/// and every node-level cause on a node running such a service.
pub fn misplaced(m: &Model, fault: &FaultKind) -> Option<String> {
    let reached = reached(m);
    let svc = |s: usize| &m.services[s];
    let on_path = |s: usize| if reached[s] { None } else { Some(format!("{} is on no request's path", svc(s).name)) };
    let all_steps = |s: usize| svc(s).endpoints.iter().flat_map(|e| flatten(&e.steps)).collect::<Vec<_>>();
    let node_used = |n: usize| (0..m.services.len()).any(|s| reached[s] && (0..svc(s).replicas as usize).any(|i| svc(s).nodes[i % svc(s).nodes.len()] == n));
    match *fault {
        FaultKind::PoolExhaustion { service, datastore, .. } => on_path(service).or_else(|| {
            let queries = all_steps(service).iter().any(|st| matches!(st.kind, StepKind::Db { datastore: d, .. } if d == datastore));
            let pooled = svc(service).pools.iter().any(|p| p.0 == datastore);
            (!(queries && pooled)).then(|| format!("{} has no connection pool it queries {} through", svc(service).name, m.datastores[datastore].name))
        }),
        FaultKind::GcPauses { service, .. } => {
            on_path(service).or_else(|| (svc(service).runtime != Runtime::Jvm).then(|| format!("{} is not a JVM (no stop-the-world collector)", svc(service).name)))
        }
        FaultKind::BadReplica { service, .. } => on_path(service).or_else(|| (svc(service).replicas < 2).then(|| format!("{} has one replica: no sibling to compare", svc(service).name))),
        FaultKind::FlakyDependency { service, target, .. } => on_path(service).or_else(|| {
            let calls = all_steps(service).iter().any(|st| matches!(st.kind, StepKind::Call { service: t, timeout: Some(_), retries, .. } if t == target && retries > 0));
            (!calls).then(|| format!("{} never calls {} with a timeout and retries", svc(service).name, svc(target).name))
        }),
        FaultKind::ThreadStarvation { service, .. } => on_path(service).or_else(|| (svc(service).workers > 8).then(|| format!("{} has {} workers: too many to starve", svc(service).name, svc(service).workers))),
        FaultKind::CacheStampede { service, datastore, .. } => on_path(service).or_else(|| {
            let refills = all_steps(service).iter().any(|st| matches!(&st.kind, StepKind::Cache { datastore: d, on_miss, .. } if *d == datastore && flatten(on_miss).iter().any(|x| matches!(x.kind, StepKind::Db { .. }))));
            (!refills).then(|| format!("{} never refills {} from a database", svc(service).name, m.datastores[datastore].name))
        }),
        FaultKind::NPlusOne { service, endpoint, .. } => on_path(service).or_else(|| {
            // The simulator repeats a query run inside a nested step (a cache
            // miss's refill or a parallel branch): the per-item load.
            let nested = svc(service).endpoints[endpoint].steps.iter().any(|st| match &st.kind {
                StepKind::Cache { on_miss: v, .. } | StepKind::Parallel(v) => flatten(v).iter().any(|x| matches!(x.kind, StepKind::Db { .. })),
                _ => false,
            });
            (!nested).then(|| format!("{} {} loads no items with a query", svc(service).name, svc(service).endpoints[endpoint].name))
        }),
        FaultKind::LockContention { service, .. } => on_path(service),
        FaultKind::CpuThrottling { node, .. } | FaultKind::PacketLoss { node, .. } | FaultKind::CpuSpike { node, .. } => {
            (!node_used(node)).then(|| format!("no service on a request's path runs on {}", m.nodes[node].name))
        }
        FaultKind::ErrorBurst { service, .. } | FaultKind::NoisyWarning { service, .. } => on_path(service),
    }
}

/// Every step of a list, nested ones included.
fn flatten(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    for st in steps {
        out.push(st);
        match &st.kind {
            StepKind::Parallel(v) | StepKind::Cache { on_miss: v, .. } => out.extend(flatten(v)),
            _ => {}
        }
    }
    out
}

/// Which services the traffic reaches, through calls from the entry points.
fn reached(m: &Model) -> Vec<bool> {
    let mut seen = vec![false; m.services.len()];
    let mut todo: Vec<usize> = m.traffic.mix.iter().map(|x| x.0).collect();
    while let Some(s) = todo.pop() {
        if std::mem::replace(&mut seen[s], true) {
            continue;
        }
        for e in &m.services[s].endpoints {
            for st in flatten(&e.steps) {
                if let StepKind::Call { service, .. } = st.kind {
                    todo.push(service);
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drills_differ_by_seed_and_repeat_for_the_same_seed() {
        let a = model(11).unwrap();
        let b = model(11).unwrap();
        let c = model(12).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "the same seed builds the same drill");
        assert_ne!(format!("{:?}{}", a.incidents, a.briefing), format!("{:?}{}", c.incidents, c.briefing));
        assert_eq!(a.questions.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), QUESTIONS);
        let inc = a.incidents.as_ref().unwrap();
        assert!(inc.first_after.micros() + inc.every.micros() + inc.length.micros() <= a.duration.micros(), "two incidents fit in the drill");
    }

    /// Over seeds 1..=30 every topology comes up; each drill resolves like
    /// a file (it is one), names its system in the briefing, asks the four
    /// questions, and every cause its seed can draw is well placed.
    #[test]
    fn the_family_varies_and_every_drill_is_a_valid_scenario() {
        let mut seen = [0usize; TOPOLOGIES.len()];
        let mut mechanisms = std::collections::BTreeSet::new();
        for seed in 1..=30 {
            let topo = topology(seed);
            let m = model(seed).unwrap_or_else(|e| panic!("drill {seed} ({}): {e}", topo.id));
            seen[TOPOLOGIES.iter().position(|t| t.id == topo.id).unwrap()] += 1;
            assert_eq!(m.id, ID);
            assert!(m.briefing.contains(topo.name) && m.briefing.contains(&format!("Drill {seed}")), "drill {seed}: {}", m.briefing);
            assert_eq!(m.questions.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), QUESTIONS, "drill {seed}");
            assert!(m.duration.micros() == 30 * 60_000_000 && m.incidents.is_some());
            let cat = m.catalogue.as_ref().expect("a catalogue");
            for i in crate::sim::faults::drawn_indexes(&m, seed) {
                let f = &cat.faults[i].kind;
                assert_eq!(misplaced(&m, f), None, "drill {seed} ({}): {}", topo.id, f.name());
                mechanisms.insert((topo.id, f.name()));
            }
            for h in &m.red_herrings {
                assert_eq!(misplaced(&m, &h.kind), None, "drill {seed} ({}): herring {}", topo.id, h.kind.name());
            }
        }
        assert!(seen.iter().all(|&n| n > 0), "every topology is drawn in seeds 1..=30: {seen:?}");
        assert!(mechanisms.len() >= 20, "seeds 1..=30 draw many (topology, cause) pairs: {mechanisms:?}");
    }

    /// Every topology file passes `obslab check` (scenario::load) and has
    /// the whole catalogue, each cause once and each well placed; every
    /// (topology, cause) drill resolves.
    #[test]
    fn every_topology_and_cause_is_valid() {
        for t in &TOPOLOGIES {
            let m = super::super::load(t.source).unwrap_or_else(|e| panic!("{}: {e}", t.id));
            let cat = m.catalogue.as_ref().unwrap_or_else(|| panic!("{} has a catalogue", t.id));
            let mut names: Vec<&str> = cat.faults.iter().map(|f| f.kind.name()).collect();
            names.sort_unstable();
            let mut all = FaultKind::ALL[..10].to_vec();
            all.sort_unstable();
            assert_eq!(names, all, "{}: the whole catalogue, each cause once", t.id);
            assert!(QUESTIONS.iter().all(|id| m.questions.iter().any(|q| q.id == *id)), "{}: the four questions", t.id);
            for (k, f) in cat.faults.iter().enumerate() {
                assert_eq!(misplaced(&m, &f.kind), None, "{} {}", t.id, f.kind.name());
                let d = pinned(7, t, k).unwrap_or_else(|e| panic!("{} cause {k}: {e}", t.id));
                assert_eq!(d.catalogue.as_ref().unwrap().faults.len(), 1);
                assert_eq!(d.catalogue.as_ref().unwrap().faults[0].kind.name(), f.kind.name());
            }
        }
        assert!(pinned(7, &TOPOLOGIES[0], 10).is_err(), "a cause past the catalogue is an error, not a panic");
    }

    #[test]
    fn misplaced_causes_are_named() {
        let m = super::super::load(TOPOLOGIES[1].source).unwrap();
        let svc = |n: &str| m.service_index(n).unwrap();
        let gw = svc("api-gateway");
        assert!(misplaced(&m, &FaultKind::GcPauses { service: gw, replica: None, pause: Default::default(), every: Default::default() }).unwrap().contains("not a JVM"));
        assert!(misplaced(&m, &FaultKind::ThreadStarvation { service: gw, hold: Default::default(), ratio: 0.1 }).unwrap().contains("256 workers"));
        let ledger_db = m.datastores.iter().position(|d| d.name == "ledger-db").unwrap();
        assert!(misplaced(&m, &FaultKind::PoolExhaustion { service: svc("payments"), datastore: ledger_db, pool_size: 1, per_minute: 60.0, hold: Default::default() }).is_some());
        assert!(misplaced(&m, &FaultKind::FlakyDependency { service: gw, target: svc("ledger"), ratio: 0.1 }).is_none(), "the gateway calls the ledger with a timeout and a retry");
        assert!(misplaced(&m, &FaultKind::FlakyDependency { service: gw, target: svc("fraud-check"), ratio: 0.1 }).is_some());
    }
}
