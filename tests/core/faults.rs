//! Each catalogue fault must show in the signals its SCENARIOS.md row names
//! and nowhere else. Seeds are found through the catalogue draw so the test
//! follows the scenario file.

use obslab::scenario::Model;
use obslab::sim::faults::drawn_indexes;
use obslab::sim::time::SimDuration;
use obslab::sim::Run;
use obslab::store::Telemetry;
use std::collections::{BTreeMap, BTreeSet};

const MINUTES: i64 = 30;

fn model() -> Model {
    obslab::scenario::load_builtin("intermittent-p99").unwrap()
}

fn seed_for(model: &Model, kind: &str) -> u64 {
    let cat = model.catalogue.as_ref().unwrap();
    (0..100).find(|&s| drawn_indexes(model, s).iter().any(|&i| cat.faults[i].kind.name() == kind)).unwrap_or_else(|| panic!("no seed draws {kind}"))
}

fn run_kind(kind: &str) -> Run {
    let m = model();
    let seed = seed_for(&m, kind);
    let r = obslab::sim::run(&m, seed, Some(SimDuration::from_secs(MINUTES * 60)));
    assert_eq!(r.truth.faults.len(), 1);
    assert_eq!(r.truth.faults[0].kind, kind, "seed {seed}");
    r
}

/// Largest value per value of `by` over all series of `name`.
fn max_by(tel: &Telemetry, name: &str, by: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for &id in tel.series.by_name(name) {
        let s = tel.series.get(id);
        let k = s.labels.get(by).unwrap_or("").to_string();
        let m = s.values.iter().copied().fold(0.0, f64::max);
        let e = out.entry(k).or_insert(0.0f64);
        *e = e.max(m);
    }
    out
}

/// Increase over the run per value of `by` (counters start at zero).
fn increase_by(tel: &Telemetry, name: &str, by: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for &id in tel.series.by_name(name) {
        let s = tel.series.get(id);
        let k = s.labels.get(by).unwrap_or("").to_string();
        *out.entry(k).or_insert(0.0) += s.values.last().copied().unwrap_or(0.0);
    }
    out
}

fn positive_keys(m: &BTreeMap<String, f64>, threshold: f64) -> BTreeSet<String> {
    m.iter().filter(|(_, v)| **v > threshold).map(|(k, _)| k.clone()).collect()
}

fn log_services(tel: &Telemetry, needle: &str) -> BTreeSet<String> {
    tel.logs.records().iter().filter(|r| tel.logs.body(r).contains(needle)).map(|r| tel.resource(r.resource).service_name.to_string()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Evidence traces exist and the spans the truth names are in the store.
fn assert_evidence(r: &Run) {
    assert!(!r.truth.traces.is_empty(), "{}: no kept trace shaped by the fault", r.truth.faults[0].kind);
    for (tid, spans) in r.truth.traces.iter().take(50) {
        let t = r.telemetry.traces.trace(*tid).expect("evidence trace is kept");
        let ids: BTreeSet<_> = r.telemetry.traces.trace_spans(t).iter().map(|s| s.span_id).collect();
        assert!(spans.iter().all(|(_, s)| ids.contains(s)));
    }
}

/// Signals that must stay quiet unless their fault runs.
fn assert_quiet_except(r: &Run, kind: &str) {
    let tel = &r.telemetry;
    if kind != "pool_exhaustion" {
        assert!(positive_keys(&max_by(tel, "db_client_connection_pending_requests", "service"), 2.0).is_empty(), "{kind}: pool waiters without pool exhaustion");
        assert!(log_services(tel, "timed out waiting for connection").is_empty(), "{kind}: pool warnings");
    }
    if kind != "packet_loss" {
        assert!(positive_keys(&increase_by(tel, "node_netstat_Tcp_RetransSegs_total", "node"), 0.0).is_empty(), "{kind}: retransmits");
    }
    // Retries also follow from a dependency stalled by pool exhaustion.
    if !["timeouts_retries", "packet_loss", "pool_exhaustion", "thread_starvation"].contains(&kind) {
        assert!(log_services(tel, "retrying").is_empty(), "{kind}: retries logged");
    }
    if kind != "lock_contention" {
        assert!(positive_keys(&increase_by(tel, "app_lock_wait_seconds_total", "service"), 0.0).is_empty(), "{kind}: lock waits");
        assert!(log_services(tel, "waiting for lock").is_empty(), "{kind}: lock logs");
    }
    if kind != "cpu_throttling" {
        assert!(positive_keys(&increase_by(tel, "container_cpu_cfs_throttled_seconds_total", "node"), 0.0).is_empty(), "{kind}: throttling");
    }
    if kind != "gc_pauses" {
        let major = tel.series.by_name("jvm_gc_duration_seconds_count").iter().filter(|&&id| tel.series.get(id).labels.get("jvm_gc_action") == Some("end of major GC")).count();
        assert_eq!(major, 0, "{kind}: major GCs");
    }
    if kind != "thread_starvation" {
        let blocked = tel.profiles.samples().any(|((_, _, st), _)| tel.profiles.stack(*st).contains("[blocked] read"));
        assert!(!blocked, "{kind}: blocking reads in the profile");
    }
}

#[test]
fn fault_free_seed_keeps_p99_normal() {
    let mut m = model();
    m.catalogue = None;
    m.red_herrings.clear();
    let r = obslab::sim::run(&m, 1, Some(SimDuration::from_secs(MINUTES * 60)));
    assert!(r.truth.faults.is_empty());
    assert!(r.truth.traces.is_empty());
    assert_quiet_except(&r, "none");
    // No slow requests at all: the +Inf minus le=0.25 share stays tiny.
    let tel = &r.telemetry;
    let (mut slow, mut all) = (0.0, 0.0);
    for &id in tel.series.by_name("http_server_request_duration_seconds_bucket") {
        let s = tel.series.get(id);
        if s.labels.get("service") != Some("frontend") {
            continue;
        }
        let v = s.values.last().copied().unwrap_or(0.0);
        match s.labels.get("le") {
            Some("+Inf") => {
                all += v;
                slow += v;
            }
            Some("0.25") => slow -= v,
            _ => {}
        }
    }
    assert!(all > 50_000.0);
    assert!(slow / all < 0.002, "fault-free share over 250 ms: {}", slow / all);
}

#[test]
fn pool_exhaustion_shows_in_pool_metrics_logs_and_trace_gaps() {
    let r = run_kind("pool_exhaustion");
    let tel = &r.telemetry;
    // The leak keeps each dry spell short (a reclaim every ~100 ms frees
    // the queue), so a 15 s scrape catches a few waiters, not a crowd.
    assert_eq!(positive_keys(&max_by(tel, "db_client_connection_pending_requests", "service"), 0.0), set(&["product-catalog"]));
    assert_eq!(log_services(tel, "timed out waiting for connection"), set(&["product-catalog"]));
    assert_evidence(&r);
    // The gap: a db span starts well after its parent's previous step ended.
    let gap = r.truth.traces.iter().any(|(tid, _)| {
        let t = tel.traces.trace(*tid).unwrap();
        let spans = tel.traces.trace_spans(t);
        spans.iter().filter(|s| tel.traces.operation(s.op).name.starts_with("SELECT")).any(|db| spans.iter().any(|p| p.span_id == db.parent && db.start.0 - p.start.0 > 100_000))
    });
    assert!(gap, "no trace shows a wait before its db span");
    assert_quiet_except(&r, "pool_exhaustion");
}

#[test]
fn gc_pauses_show_in_gc_metrics_logs_and_one_replica() {
    let r = run_kind("gc_pauses");
    let tel = &r.telemetry;
    let pod = r.truth.faults[0].pod.clone().unwrap();
    let mut majors = BTreeSet::new();
    for &id in tel.series.by_name("jvm_gc_duration_seconds_count") {
        let s = tel.series.get(id);
        if s.labels.get("jvm_gc_action") == Some("end of major GC") && s.values.last().copied().unwrap_or(0.0) > 0.0 {
            majors.insert(s.labels.get("pod").unwrap().to_string());
        }
    }
    assert_eq!(majors, set(&[&pod]));
    assert!(tel.logs.records().iter().any(|l| tel.logs.body(l).contains("G1 Humongous") && *tel.resource(l.resource).pod == *pod));
    assert!(tel.profiles.samples().any(|((_, res, st), _)| *tel.resource(*res).pod == *pod && tel.profiles.stack(*st).contains("do_full_collection")));
    assert_evidence(&r);
    assert_quiet_except(&r, "gc_pauses");
}

#[test]
fn cpu_throttling_shows_on_one_node_only() {
    let r = run_kind("cpu_throttling");
    let node = r.truth.faults[0].node.clone().unwrap();
    assert_eq!(positive_keys(&increase_by(&r.telemetry, "container_cpu_cfs_throttled_seconds_total", "node"), 0.0), set(&[&node]));
    assert_evidence(&r);
    for (tid, spans) in &r.truth.traces {
        let t = r.telemetry.traces.trace(*tid).unwrap();
        let on_node = r.telemetry.traces.trace_spans(t).iter().any(|s| *r.telemetry.resource(s.resource).node == *node);
        assert!(on_node, "evidence trace {tid} never touches {node} ({} spans)", spans.len());
    }
    assert_quiet_except(&r, "cpu_throttling");
}

#[test]
fn bad_replica_is_a_per_pod_outlier() {
    let r = run_kind("bad_replica");
    let tel = &r.telemetry;
    let pod = r.truth.faults[0].pod.clone().unwrap();
    // Mean latency per pod of the culprit service: the bad one stands out.
    let (mut sum, mut cnt): (BTreeMap<String, f64>, BTreeMap<String, f64>) = Default::default();
    for (name, m) in [("http_server_request_duration_seconds_sum", &mut sum), ("http_server_request_duration_seconds_count", &mut cnt)] {
        for &id in tel.series.by_name(name) {
            let s = tel.series.get(id);
            if s.labels.get("service") == Some("product-catalog") {
                *m.entry(s.labels.get("pod").unwrap().to_string()).or_default() += s.values.last().copied().unwrap_or(0.0);
            }
        }
    }
    let mean = |p: &str| sum[p] / cnt[p];
    // Over the whole run (the fault is active about a third of it).
    for p in sum.keys().filter(|p| **p != pod) {
        assert!(mean(&pod) > 1.25 * mean(p), "bad pod {pod} mean {} vs {p} {}", mean(&pod), mean(p));
    }
    assert_evidence(&r);
    let pods: BTreeSet<String> = r.truth.traces.keys().flat_map(|tid| {
        let t = tel.traces.trace(*tid).unwrap();
        tel.traces.trace_spans(t).iter().filter(|s| s.cause != 0).map(|s| tel.resource(s.resource).pod.to_string()).collect::<Vec<_>>()
    }).collect();
    assert!(pods.contains(&pod));
    assert_quiet_except(&r, "bad_replica");
}

#[test]
fn timeouts_show_retries_and_timeout_spans() {
    let r = run_kind("timeouts_retries");
    let tel = &r.telemetry;
    // The caller of the flaky dependency retries; its own callers may retry in turn.
    let retrying = positive_keys(&increase_by(tel, "http_client_request_retries_total", "service"), 0.0);
    assert!(retrying.contains("recommendation") && retrying.is_subset(&set(&["recommendation", "frontend"])), "{retrying:?}");
    assert!(log_services(tel, "retrying").is_subset(&set(&["recommendation", "frontend"])));
    assert_evidence(&r);
    let retried = tel.traces.spans().iter().any(|s| s.resend > 0) && tel.traces.spans().iter().any(|s| s.error == obslab::telemetry::span::ErrorType::Timeout);
    assert!(retried);
    assert_quiet_except(&r, "timeouts_retries");
}

#[test]
fn thread_starvation_shows_queueing_and_blocking_profile() {
    let r = run_kind("thread_starvation");
    let tel = &r.telemetry;
    assert_eq!(positive_keys(&max_by(tel, "executor_queued_tasks_max", "service"), 2.0), set(&["cart"]));
    let blocked: u64 = tel.profiles.samples().filter(|((_, res, st), _)| &*tel.resource(*res).service_name == "cart" && tel.profiles.stack(*st).contains("[blocked]")).map(|(_, n)| *n).sum();
    let cart_total: u64 = tel.profiles.samples().filter(|((_, res, _), _)| &*tel.resource(*res).service_name == "cart").map(|(_, n)| *n).sum();
    assert!(blocked * 2 > cart_total, "blocking call should dominate cart's profile: {blocked} of {cart_total}");
    assert_evidence(&r);
    assert_quiet_except(&r, "thread_starvation");
}

#[test]
fn cache_stampede_shows_miss_spikes() {
    let r = run_kind("cache_stampede");
    let tel = &r.telemetry;
    // Misses per scrape interval peak far above their usual share.
    for &id in tel.series.by_name("cache_gets_total") {
        let s = tel.series.get(id);
        if s.labels.get("cache") == Some("catalog-cache") && s.labels.get("result") == Some("miss") {
            let mut d: Vec<f64> = s.values.windows(2).map(|w| w[1] - w[0]).collect();
            d.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let (median, peak) = (d[d.len() / 2], d[d.len() - 1]);
            assert!(peak > 5.0 * median, "{}: peak misses per scrape {peak}, median {median}", s.labels);
        }
    }
    assert_evidence(&r);
    assert_quiet_except(&r, "cache_stampede");
}

#[test]
fn n_plus_one_shows_many_db_spans_for_one_category() {
    let r = run_kind("n_plus_one");
    let tel = &r.telemetry;
    assert_evidence(&r);
    let (tid, _) = r.truth.traces.iter().next().unwrap();
    let t = tel.traces.trace(*tid).unwrap();
    let spans = tel.traces.trace_spans(t);
    let db = spans.iter().filter(|s| tel.traces.operation(s.op).name.starts_with("SELECT")).count();
    assert!(db >= 20, "only {db} db spans in an N+1 trace");
    assert!(spans.iter().any(|s| s.category == 1), "N+1 trace is not for books");
    assert_quiet_except(&r, "n_plus_one");
}

#[test]
fn lock_contention_shows_lock_waits_and_logs() {
    let r = run_kind("lock_contention");
    let tel = &r.telemetry;
    assert_eq!(positive_keys(&increase_by(tel, "app_lock_wait_seconds_total", "service"), 0.0), set(&["cart"]));
    assert_eq!(log_services(tel, "waiting for lock"), set(&["cart"]));
    assert_evidence(&r);
    assert_quiet_except(&r, "lock_contention");
}

#[test]
fn packet_loss_shows_retransmits_on_one_node() {
    let r = run_kind("packet_loss");
    let node = r.truth.faults[0].node.clone().unwrap();
    assert_eq!(positive_keys(&increase_by(&r.telemetry, "node_netstat_Tcp_RetransSegs_total", "node"), 0.0), set(&[&node]));
    assert_evidence(&r);
    assert_quiet_except(&r, "packet_loss");
}

#[test]
fn red_herrings_stay_under_one_percent_errors() {
    let r = super::run("intermittent-p99", 3, 60);
    let tel = &r.telemetry;
    let mut by: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for &id in tel.series.by_name("http_server_request_duration_seconds_count") {
        let s = tel.series.get(id);
        let code: u16 = s.labels.get("http_response_status_code").unwrap().parse().unwrap();
        let e = by.entry(s.labels.get("service").unwrap().to_string()).or_default();
        let v = s.values.last().copied().unwrap_or(0.0);
        e.1 += v;
        if code >= 499 {
            e.0 += v;
        }
    }
    for (svc, (err, all)) in by {
        assert!(err / all < 0.01, "{svc} error ratio {}", err / all);
    }
    assert!(!r.truth.red_herrings.is_empty());
}
