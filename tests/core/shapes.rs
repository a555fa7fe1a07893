//! The shapes SCENARIOS.md promises, measured on the emitted metrics.

use obslab::store::Telemetry;
use std::collections::BTreeMap;

/// Final cumulative value per (route, status) of a service's request count.
fn counts(tel: &Telemetry, service: &str) -> BTreeMap<(String, u16), f64> {
    let mut out = BTreeMap::new();
    for &id in tel.series.by_name("http_server_request_duration_seconds_count") {
        let s = tel.series.get(id);
        if s.labels.get("service") != Some(service) {
            continue;
        }
        let route = format!("{} {}", s.labels.get("http_request_method").unwrap_or(""), s.labels.get("http_route").unwrap_or(""));
        let code = s.labels.get("http_response_status_code").and_then(|c| c.parse().ok()).unwrap_or(0);
        *out.entry((route, code)).or_insert(0.0) += s.values.last().copied().unwrap_or(0.0);
    }
    out
}

/// A quantile of one route from its buckets summed over pods and statuses,
/// interpolated as histogram_quantile does.
fn route_quantile(tel: &Telemetry, service: &str, route: &str, q: f64) -> f64 {
    let mut b: BTreeMap<String, f64> = BTreeMap::new();
    for &id in tel.series.by_name("http_server_request_duration_seconds_bucket") {
        let s = tel.series.get(id);
        let r = format!("{} {}", s.labels.get("http_request_method").unwrap_or(""), s.labels.get("http_route").unwrap_or(""));
        if s.labels.get("service") == Some(service) && r == route {
            *b.entry(s.labels.get("le").unwrap().to_string()).or_default() += s.values.last().copied().unwrap_or(0.0);
        }
    }
    let mut v: Vec<(f64, f64)> = b.into_iter().map(|(k, c)| (if k == "+Inf" { f64::INFINITY } else { k.parse().unwrap() }, c)).collect();
    v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let rank = q * v.last().unwrap().1;
    let mut prev = (0.0, 0.0);
    for (le, c) in v {
        if c >= rank {
            return prev.0 + (le - prev.0) * (rank - prev.1) / (c - prev.1);
        }
        prev = (le, c);
    }
    prev.0
}

#[test]
fn bookstore_has_the_documented_shape() {
    let r = super::run("bookstore", 11, 60);
    let tel = &r.telemetry;
    let c = counts(tel, "bookstore-api");
    let total: f64 = c.values().sum();
    let rate = total / 3600.0;
    let route = |name: &str| c.iter().filter(|((r, _), _)| r == name).map(|(_, v)| v).sum::<f64>();
    let status = |name: &str, pred: &dyn Fn(u16) -> bool| c.iter().filter(|((r, s), _)| r == name && pred(*s)).map(|(_, v)| v).sum::<f64>();
    let nf = status("GET /books/{id}", &|s| s == 404) / route("GET /books/{id}");
    let order_fail = status("POST /orders", &|s| s == 502 || s == 504) / route("POST /orders");
    let p95_orders = route_quantile(tel, "bookstore-api", "POST /orders", 0.95);
    let p95_books = route_quantile(tel, "bookstore-api", "GET /books", 0.95);
    println!("rate {rate:.1}/s, 404 {:.2}%, order failures {:.2}%, p95 orders {:.1}ms books {:.1}ms ({:.1}x)", nf * 100.0, order_fail * 100.0, p95_orders * 1e3, p95_books * 1e3, p95_orders / p95_books);
    assert!((32.0..=48.0).contains(&rate), "rate {rate}");
    assert!((0.024..=0.036).contains(&nf), "404 share {nf}");
    assert!((0.003..=0.008).contains(&order_fail), "order failures {order_fail}");
    assert!((3.2..=4.8).contains(&(p95_orders / p95_books)), "p95 ratio {}", p95_orders / p95_books);
    // The slowest route by P95 is POST /orders.
    for r in ["GET /books", "GET /books/{id}", "GET /orders/{id}", "GET /healthz"] {
        assert!(route_quantile(tel, "bookstore-api", r, 0.95) < p95_orders, "{r} slower than POST /orders");
    }
}

#[test]
fn slo_history_has_the_documented_shape_and_budgets_differ_by_seed() {
    let model = obslab::scenario::load_builtin("slo-rollout").unwrap();
    let mut exhausted = 0;
    for seed in 0..6 {
        let r = obslab::sim::run(&model, seed, None);
        let valid = r.truth.valid_requests as f64;
        let budget = valid * 0.001;
        let failed = r.truth.failed_requests as f64;
        println!("seed {seed}: valid {valid:.0} budget {budget:.0} failed {failed:.0} ({:.0}% of budget)", 100.0 * failed / budget);
        assert!((40e6..=60e6).contains(&valid), "valid requests {valid}");
        if failed > budget {
            exhausted += 1;
        }
        history_is_coherent(&r);
        let kinds: Vec<&str> = r.truth.history.iter().map(|h| h.kind).collect();
        assert!(kinds.contains(&"slow_burn") && kinds.contains(&"blip") && kinds.contains(&"maintenance"), "{kinds:?}");
    }
    assert!(exhausted > 0 && exhausted < 6, "every seed ends the same way: {exhausted} of 6 exhausted the budget");
}

/// Final count per status class ("2", "4", "5") of one service's requests, in [from, to] (Unix ms).
fn status_counts(r: &obslab::sim::Run, service: &str, from: i64, to: i64) -> BTreeMap<char, f64> {
    let tel = &r.telemetry;
    let mut out = BTreeMap::new();
    for &id in tel.series.by_name("http_server_request_duration_seconds_count") {
        let s = tel.series.get(id);
        if s.labels.get("service") != Some(service) {
            continue;
        }
        let at = |t: i64| s.timestamps.partition_point(|&x| x <= t).checked_sub(1).map(|i| s.values[i]).unwrap_or(0.0);
        let class = s.labels.get("http_response_status_code").and_then(|c| c.chars().next()).unwrap_or('?');
        *out.entry(class).or_insert(0.0) += at(to) - at(from);
    }
    out
}

/// The SLO history's metrics agree with its truth and with the call path
/// (frontend → checkout → inventory, then payment): the frontend's 5xx
/// are the failures and its non-4xx the valid requests; every failure
/// passes through checkout, so checkout's 5xx equal the frontend's, and the
/// leaves' 5xx are the share that started there (never more); payment sees
/// only what got past inventory; each incident's 5xx start in the service
/// the truth names.
fn history_is_coherent(r: &obslab::sim::Run) {
    let (a, z) = (r.truth.start_unix_ms - 1, r.truth.start_unix_ms + r.model.duration.micros() / 1000 + 60_000);
    let get = |m: &BTreeMap<char, f64>, c: char| m.get(&c).copied().unwrap_or(0.0);
    let fe = status_counts(r, "frontend", a, z);
    assert_eq!(get(&fe, '5'), r.truth.failed_requests as f64, "seed {}: frontend 5xx vs failures", r.seed);
    assert_eq!(get(&fe, '2') + get(&fe, '5'), r.truth.valid_requests as f64, "seed {}: frontend valid", r.seed);
    let co = status_counts(r, "checkout", a, z);
    let (inv, pay) = (status_counts(r, "inventory", a, z), status_counts(r, "payment", a, z));
    assert_eq!(get(&co, '5'), get(&fe, '5'), "seed {}: every failure passes through checkout", r.seed);
    assert_eq!(get(&co, '4') + get(&inv, '4') + get(&pay, '4'), 0.0, "downstream never sees the frontend's 4xx");
    assert!(get(&inv, '5') + get(&pay, '5') < get(&co, '5'), "seed {}: leaves' 5xx exceed their caller's", r.seed);
    let total = |m: &BTreeMap<char, f64>| m.values().sum::<f64>();
    assert!(total(&pay) <= total(&inv) && total(&inv) <= total(&co), "seed {}: requests grow down the path", r.seed);
    for h in r.truth.history.iter().filter(|h| h.kind == "fast_burn") {
        let ms = |t: obslab::sim::time::SimTime| r.truth.start_unix_ms + t.0 / 1000;
        let (from, to) = (ms(h.start), ms(h.end));
        let origin = h.service.as_deref().expect("a fast burn has an origin");
        let (at_fe, at_origin) = (get(&status_counts(r, "frontend", from, to), '5'), get(&status_counts(r, origin, from, to), '5'));
        assert!(at_origin >= 0.95 * at_fe, "seed {}: the fast burn's 5xx ({at_fe}) do not start in {origin} ({at_origin})", r.seed);
        for other in ["inventory", "payment"].into_iter().filter(|s| *s != origin && origin != "checkout") {
            assert!(get(&status_counts(r, other, from, to), '5') < 0.05 * at_fe, "seed {}: {other} shows the {origin} outage's 5xx", r.seed);
        }
    }
}
