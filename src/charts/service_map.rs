//! The service map: services and datastores as nodes, calls as edges with
//! their rate, error ratio and P99 — all measured from the run's client
//! and server metrics over a time range (nothing comes from the scenario
//! file but the names), laid out left to right by call depth from the
//! entry service. Health is a word as well as a colour.

use crate::query::diag::QueryError;
use crate::query::promql::{self, EvalOptions, Value};
use crate::store::SeriesStore;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Ok,
    Degraded,
    Failing,
    /// No traffic in the range.
    Idle,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Degraded => "degraded",
            Health::Failing => "failing",
            Health::Idle => "no traffic measured",
        }
    }
    /// Error ratio above 5% fails; above 1% or a P99 over a second degrades.
    pub fn of(rate: f64, errors: f64, p99: f64) -> Health {
        if !(rate > 0.0) {
            Health::Idle
        } else if errors > 0.05 {
            Health::Failing
        } else if errors > 0.01 || p99 > 1.0 {
            Health::Degraded
        } else {
            Health::Ok
        }
    }
}

/// RED of one node or edge over the range.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Red {
    /// Requests per second.
    pub rate: f64,
    /// 0..1; NaN without traffic.
    pub errors: f64,
    /// Seconds; NaN without traffic.
    pub p99: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapNode {
    pub name: String,
    /// A datastore (database, cache, external API) rather than a service.
    pub store: bool,
    /// Server-side RED (services only).
    pub red: Option<Red>,
    pub health: Health,
    pub column: usize,
    pub row: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapEdge {
    pub from: usize,
    pub to: usize,
    /// Client-side RED: what the caller saw.
    pub red: Red,
    pub health: Health,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceMap {
    pub nodes: Vec<MapNode>,
    pub edges: Vec<MapEdge>,
    pub columns: usize,
    pub rows: usize,
}

type Keyed = BTreeMap<(String, String), f64>;

/// An instant query at `at` keyed by two labels.
fn keyed(store: &SeriesStore, q: &str, at: i64, a: &str, b: &str) -> Result<Keyed, QueryError> {
    let r = promql::instant_query_with(store, &promql::parse(q)?, at, &EvalOptions::default())?;
    let mut out = BTreeMap::new();
    if let Value::Vector(v) = r.value {
        for s in v {
            out.insert((s.labels.get(a).unwrap_or("").to_string(), s.labels.get(b).unwrap_or("").to_string()), s.f);
        }
    }
    Ok(out)
}

/// Builds the map from the metrics in `(from, to]` (Unix ms).
/// `services` and `stores` name the nodes (in the scenario's order);
/// `entry` is where traffic enters.
pub fn build(store: &SeriesStore, services: &[String], stores: &[String], entry: &str, (from, to): (i64, i64)) -> Result<ServiceMap, QueryError> {
    let w = format!("{}s", ((to - from) / 1000).max(1));
    let server = "http_server_request_duration_seconds";
    // Keyed by (service, ""): the second label does not exist.
    let rate = keyed(store, &format!("sum by (service) (rate({server}_count[{w}]))"), to, "service", "-")?;
    let err = keyed(store, &format!("sum by (service) (rate({server}_count{{http_response_status_code=~\"5..\"}}[{w}]))"), to, "service", "-")?;
    let p99 = keyed(store, &format!("histogram_quantile(0.99, sum by (service, le) (rate({server}_bucket[{w}])))"), to, "service", "-")?;
    let mut edge_rate = Keyed::new();
    let mut edge_err = Keyed::new();
    let mut edge_p99 = Keyed::new();
    for (fam, bad) in [("http_client_request_duration_seconds", "http_response_status_code=~\"5..\""), ("db_client_operation_duration_seconds", "error_type!=\"\"")] {
        edge_rate.extend(keyed(store, &format!("sum by (service, server_address) (rate({fam}_count[{w}]))"), to, "service", "server_address")?);
        edge_err.extend(keyed(store, &format!("sum by (service, server_address) (rate({fam}_count{{{bad}}}[{w}]))"), to, "service", "server_address")?);
        edge_p99.extend(keyed(store, &format!("histogram_quantile(0.99, sum by (service, server_address, le) (rate({fam}_bucket[{w}])))"), to, "service", "server_address")?);
    }

    let mut nodes: Vec<MapNode> = Vec::new();
    let index = |nodes: &Vec<MapNode>, n: &str| nodes.iter().position(|x| x.name == n);
    for s in services {
        let k = (s.clone(), String::new());
        let r = rate.get(&k).copied().unwrap_or(0.0);
        let red = Red {
            rate: r,
            errors: if r > 0.0 { err.get(&k).copied().unwrap_or(0.0) / r } else { f64::NAN },
            p99: p99.get(&k).copied().unwrap_or(f64::NAN),
        };
        nodes.push(MapNode { name: s.clone(), store: false, health: Health::of(red.rate, red.errors, red.p99), red: Some(red), column: 0, row: 0 });
    }
    for s in stores {
        nodes.push(MapNode { name: s.clone(), store: true, red: None, health: Health::Idle, column: 0, row: 0 });
    }
    let mut edges = Vec::new();
    for ((caller, callee), &r) in &edge_rate {
        let (Some(a), Some(b)) = (index(&nodes, caller), index(&nodes, callee)) else { continue };
        let k = (caller.clone(), callee.clone());
        let red = Red { rate: r, errors: if r > 0.0 { edge_err.get(&k).copied().unwrap_or(0.0) / r } else { f64::NAN }, p99: edge_p99.get(&k).copied().unwrap_or(f64::NAN) };
        edges.push(MapEdge { from: a, to: b, red, health: Health::of(red.rate, red.errors, red.p99) });
    }
    // A datastore's health is the worst its callers saw.
    for e in &edges {
        if nodes[e.to].store && (nodes[e.to].health == Health::Idle || e.health > nodes[e.to].health) && e.health != Health::Idle {
            nodes[e.to].health = e.health;
        }
    }

    // Columns: call depth from the entry service (BFS); unreached nodes last.
    let mut depth = vec![usize::MAX; nodes.len()];
    let mut queue = VecDeque::new();
    if let Some(e) = index(&nodes, entry) {
        depth[e] = 0;
        queue.push_back(e);
    }
    while let Some(n) = queue.pop_front() {
        for e in edges.iter().filter(|e| e.from == n) {
            if depth[e.to] == usize::MAX {
                depth[e.to] = depth[n] + 1;
                queue.push_back(e.to);
            }
        }
    }
    let deepest = depth.iter().filter(|&&d| d != usize::MAX).max().copied().unwrap_or(0);
    let mut rows_in: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, n) in nodes.iter_mut().enumerate() {
        n.column = if depth[i] == usize::MAX { deepest + 1 } else { depth[i] };
        let r = rows_in.entry(n.column).or_default();
        n.row = *r;
        *r += 1;
    }
    let columns = crate::sort::sorted_unique(nodes.iter().map(|n| n.column));
    Ok(ServiceMap { columns: columns.len(), rows: rows_in.values().copied().max().unwrap_or(0), nodes, edges })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_reads_errors_and_latency() {
        assert_eq!(Health::of(0.0, f64::NAN, f64::NAN), Health::Idle);
        assert_eq!(Health::of(10.0, 0.0, 0.05), Health::Ok);
        assert_eq!(Health::of(10.0, 0.02, 0.05), Health::Degraded);
        assert_eq!(Health::of(10.0, 0.0, 2.0), Health::Degraded);
        assert_eq!(Health::of(10.0, 0.2, 0.05), Health::Failing);
    }

    #[test]
    fn the_map_of_a_real_run_has_the_calls_and_their_red() {
        let model = crate::scenario::load_builtin("intermittent-p99").unwrap();
        let run = crate::sim::run(&model, 3, Some(crate::sim::time::SimDuration::from_secs(600)));
        let services: Vec<String> = model.services.iter().map(|s| s.name.clone()).collect();
        let stores: Vec<String> = model.datastores.iter().map(|d| d.name.clone()).collect();
        let from = run.telemetry.start_unix_ms;
        let m = build(&run.telemetry.series, &services, &stores, "frontend", (from, from + 600_000)).unwrap();
        assert_eq!(m.nodes.len(), services.len() + stores.len());
        let frontend = &m.nodes[0];
        assert_eq!((frontend.name.as_str(), frontend.column), ("frontend", 0));
        assert!(frontend.red.unwrap().rate > 10.0 && frontend.health == Health::Ok, "{frontend:?}");
        assert!(m.edges.len() >= services.len(), "{} edges", m.edges.len());
        assert!(m.edges.iter().all(|e| e.red.rate > 0.0 && e.red.p99 > 0.0 && e.from != e.to));
        for db in ["catalog-db", "catalog-cache", "cart-cache"] {
            let n = m.nodes.iter().find(|n| n.name == db).unwrap();
            assert!(n.store && n.column > 0 && n.health != Health::Idle, "{n:?}");
        }
        assert!(m.columns >= 3);
    }
}
