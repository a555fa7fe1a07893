//! LogQL on a real 10-minute run of intermittent-p99, and the speed
//! figures (`cargo test --test logql -- --ignored --nocapture`).

use obslab::query::logql::{self, Options, Value};
use obslab::scenario::model::format_rfc3339_ms;
use obslab::sim::time::SimDuration;
use obslab::store::Telemetry;
use obslab::telemetry::log::LogFormat;
use std::sync::OnceLock;
use std::time::Instant;

fn tel() -> &'static Telemetry {
    static T: OnceLock<Telemetry> = OnceLock::new();
    T.get_or_init(|| {
        let model = obslab::scenario::load_builtin("intermittent-p99").unwrap();
        obslab::sim::run(&model, 7, Some(SimDuration::from_secs(600))).telemetry
    })
}

fn range(t: &Telemetry) -> (i64, i64) {
    (t.start_unix_ms, t.start_unix_ms + 600_000)
}

fn q(query: &str, step_ms: i64, limit: usize) -> logql::LogqlResult {
    let t = tel();
    let (s, e) = range(t);
    match logql::query_range(t, query, s, e, step_ms, limit) {
        Ok(r) => r,
        Err(err) => panic!("{}", obslab::query::render_error(query, &err)),
    }
}

fn total(r: &logql::LogqlResult) -> f64 {
    match &r.value {
        Value::Matrix(m) => m.iter().flat_map(|s| s.points.iter().map(|p| p.1)).sum(),
        _ => panic!("expected a matrix"),
    }
}

fn lines(tel: &Telemetry) -> Vec<String> {
    tel.logs.records().iter().map(|r| tel.logs.format_line(r, tel.resource(r.resource), &format_rfc3339_ms(tel.unix_ms(r.time)), LogFormat::Json)).collect()
}

#[test]
fn frontend_get_lines() {
    let r = q(r#"{service="frontend"} |= "GET""#, 0, 100);
    let Value::Streams(s) = &r.value else { panic!() };
    let entries: Vec<_> = s.iter().flat_map(|s| s.entries.iter()).collect();
    assert_eq!(entries.len(), 100);
    assert!(entries.iter().all(|e| e.line.contains("GET")));
    assert!(s.iter().all(|s| s.labels.get("service") == Some("frontend")));
    let json = logql::to_loki_json(&r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["data"]["resultType"], "streams");
}

#[test]
fn counts_by_level_add_up_to_all_records() {
    let t = tel();
    let r = q(r#"sum by (level) (count_over_time({service=~".+"}[1m]))"#, 60_000, 100);
    assert_eq!(total(&r) as usize, t.logs.len());
    let Value::Matrix(m) = &r.value else { panic!() };
    assert!(m.iter().all(|s| s.labels.len() == 1 && s.labels.get("level").is_some()));
}

#[test]
fn substring_filters_agree_with_rendered_lines() {
    let t = tel();
    let all = lines(t);
    for needle in ["GET", "POST /cart", "\"status\":500", "timeout", "recommendation", "09:03:1", "\"level\":\"warn\"", "e4", ".5", "zzz-none"] {
        let want = all.iter().filter(|l| l.contains(needle)).count();
        let query = format!("sum(count_over_time({{service=~\".+\"}} |= {needle:?} [10m]))");
        let r = q(&query, 600_000, 100);
        assert_eq!(total(&r) as usize, want, "{needle}");
        let query = format!("sum(count_over_time({{service=~\".+\"}} != {needle:?} [10m]))");
        assert_eq!(total(&q(&query, 600_000, 100)) as usize, all.len() - want, "!= {needle}");
    }
}

#[test]
fn json_unwrap_quantile_and_errors() {
    let r = q(r#"quantile_over_time(0.99, {service="frontend"} | json | unwrap duration_ms | __error__="" [5m]) by (service)"#, 300_000, 100);
    let Value::Matrix(m) = &r.value else { panic!() };
    assert_eq!(m.len(), 1);
    assert!(m[0].points.iter().all(|p| p.1 > 0.0 && p.1 < 60_000.0));
    let r = q(r#"sum by (status) (count_over_time({service="frontend"} | json | status >= 200 [10m]))"#, 600_000, 100);
    assert!(total(&r) > 0.0);
    let t = tel();
    let (s, e) = range(t);
    let err = logql::query_range(t, r#"sum(sum_over_time({service=~".+"} | json | unwrap duration_ms [10m]))"#, s, e, 0, 100).unwrap_err();
    assert!(err.message.contains("SampleExtractionErr"), "{}", err.message);
}

#[test]
fn logs_cli_prints_loki_json_and_errors() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(logql::logs_main(&args(&["intermittent-p99", "--seed", "7"])), 2);
    assert_eq!(logql::logs_main(&args(&["intermittent-p99", "--logql", "{service=", "--duration", "1m"])), 1);
    assert_eq!(logql::logs_main(&args(&["intermittent-p99", "--logql", r#"{service="cart"}"#, "--duration", "1m", "--limit", "3"])), 0);
    assert_eq!(logql::logs_main(&args(&["intermittent-p99", "--logql", r#"{service="cart"}"#, "--start", "yesterday"])), 2);
}

// ------------------------------------------------------------ measurements

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
#[ignore = "timing report; run with -- --ignored --nocapture"]
fn measure_parse_and_substring_scan() {
    let queries = [
        r#"{service="frontend"} |= "GET""#,
        r#"{service=~"cart|frontend", level=~"warn|error"} |= "timeout" != "health""#,
        r#"sum by (level) (count_over_time({service=~".+"}[1m]))"#,
        r#"quantile_over_time(0.99, {service="frontend"} | json | unwrap duration_ms | __error__="" [5m]) by (service)"#,
        r#"topk(5, sum by (path) (rate({service="frontend"} | json | status >= 500 [5m])))"#,
    ];
    for qs in queries {
        let n = 2000;
        let mut samples = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(logql::parse(std::hint::black_box(qs)).unwrap());
            }
            samples.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
        eprintln!("parse {:>6.2} µs  {qs}", median(samples));
    }

    // One million lines: the real run's records repeated with shifted times.
    let big = million_lines();
    let (s, e) = logql::bench::full_range_ms(&big);
    eprintln!("lines: {}", big.logs.len());
    let opts = Options::default();
    for (label, qs) in [
        ("count |= \"POST /cart\"", r#"sum(count_over_time({service=~".+"} |= "POST /cart" [6h]))"#),
        ("count |= \"timeout\" (absent)", r#"sum(count_over_time({service=~".+"} |= "timeout" [6h]))"#),
        ("count |= \"product/13\"", r#"sum(count_over_time({service=~".+"} |= "product/13" [6h]))"#),
        ("count |= \"500\" (digits)", r#"sum(count_over_time({service=~".+"} |= "500" [6h]))"#),
        ("count |~ \"time.?out\" (regex)", r#"sum(count_over_time({service=~".+"} |~ "time.?out" [6h]))"#),
        ("log query |= \"timeout\" limit 100", r#"{service=~".+"} |= "timeout""#),
    ] {
        let expr = logql::parse(qs).unwrap();
        let mut samples = Vec::new();
        let mut matched = 0.0;
        for _ in 0..3 {
            let t = Instant::now();
            let r = logql::query_range_with(&big, &expr, if expr.is_log() { s } else { e }, e, 3_600_000, 100, &opts).unwrap();
            samples.push(t.elapsed().as_secs_f64() * 1e3);
            matched = match &r.value {
                Value::Matrix(m) => m.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, |a, b| a + b),
                Value::Streams(s) => s.iter().map(|s| s.entries.len() as f64).sum(),
            };
        }
        eprintln!("scan 1M {:>8.1} ms  {label}  (matched {matched})", median(samples));
    }
    // The naive baseline: format every line, then search it.
    let t = Instant::now();
    let mut n = 0;
    for r in big.logs.records() {
        let l = big.logs.format_line(r, big.resource(r.resource), &format_rfc3339_ms(big.unix_ms(r.time)), LogFormat::Json);
        n += l.contains("POST /cart") as usize;
    }
    eprintln!("baseline format+contains {:>8.1} ms (matched {n})", t.elapsed().as_secs_f64() * 1e3);
}

fn million_lines() -> Telemetry {
    logql::bench::repeat_logs(tel(), 1_000_000)
}

/// The log-search budget (QUALITY.md: a substring filter over 1 M lines in
/// ≤ 100 ms in wasm; wasm runs 1.5–2.5× native, so aim for ≤ 40 ms here):
/// `sum(count_over_time({service=~".+"} |= "…" [all]))` over one million
/// JSON lines, median of 5 runs per needle, each checked against rendering
/// every line and `str::contains`. The browser twin is `make bench-wasm`.
///
/// `CARGO_TARGET_DIR=target/h-logs cargo test --release --test logql measure_substring_filter_1m -- --ignored --nocapture`
#[test]
#[ignore = "timing report; run with -- --ignored --nocapture"]
fn measure_substring_filter_1m() {
    let big = million_lines();
    let needles = logql::bench::bench_needles(&big);
    eprintln!("lines: {}", big.logs.len());
    let (_, e) = logql::bench::full_range_ms(&big);
    let opts = Options::default();
    let mut got = Vec::new();
    for (label, needle) in &needles {
        let expr = logql::parse(&logql::bench::count_query(&big, needle)).unwrap();
        let mut samples = Vec::new();
        let mut count = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let r = logql::query_range_with(&big, &expr, e, e, 60_000, 100, &opts).unwrap();
            samples.push(t.elapsed().as_secs_f64() * 1e3);
            count = total(&r) as usize;
        }
        eprintln!("substring 1M {:>7.1} ms  {label:<18} {needle:?}  (matched {count})", median(samples));
        got.push(count);
    }
    // Checked after timing: rendering a million lines first leaves the
    // heap in a state that slows the scans after it.
    let texts: Vec<&str> = needles.iter().map(|(_, n)| n.as_str()).collect();
    let t = Instant::now();
    assert_eq!(got, logql::bench::naive_counts(&big, &texts, LogFormat::Json));
    eprintln!("naive render + contains, all needles in one pass: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    // A log query for a rare word scans back through every line.
    let (s, _) = logql::bench::full_range_ms(&big);
    let expr = logql::parse(r#"{service=~".+"} |= "zebra""#).unwrap();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = logql::query_range_with(&big, &expr, s, e, 0, 100, &opts).unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.stats.lines_scanned, big.logs.len() as u64);
    }
    eprintln!("substring 1M {:>7.1} ms  log query, limit 100  \"zebra\"", median(samples));
}

