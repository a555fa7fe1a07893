//! obslab's half of `scripts/promql-speed.sh`: Prometheus `bench_test.go`-style
//! data (the shape of `tests/promql_bench.rs`: 100 `a_hundred` counters with
//! `l` and `job` labels, 100 classic `h_hundred` histograms of 11 buckets
//! `le="0".."9","+Inf"`, one sample every 10 s, value `s + i/1200` for scrape
//! `s` and series `i`) written as OpenMetrics for promtool, and the same data
//! built in memory to time obslab's PromQL engine. One generator for both
//! sides, so the two engines see bit-identical samples.
//!
//! ```text
//! promql_speed write-om PATH --t0 UNIX_S --intervals N
//! promql_speed bench SPEC.json --t0 UNIX_S --intervals N --runs R --out DIR
//! ```
//!
//! `bench` reads a JSON array of `{"id", "expr", "time"}` (instant) or
//! `{"id", "expr", "start", "end", "step"}` (range; Unix seconds), evaluates
//! each once to warm up and then `R` times, writes each answer as Prometheus
//! API JSON to `DIR/<id>.json` and prints one JSON object per query on
//! stdout: the median and minimum evaluation time (parse excluded, like
//! Prometheus's evalTotalTime) and the samples the engine reports touching.

use obslab::query::promql::{self, EvalOptions};
use obslab::store::SeriesStore;
use obslab::telemetry::metric::Labels;
use std::io::Write;
use std::time::Instant;

const SCRAPE_MS: i64 = 10_000;

/// The series in generation order: name and label pairs (sorted by name).
fn series() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let mut out = Vec::new();
    for i in 0..100 {
        let l = i.to_string();
        out.push(("a_hundred", vec![("job", (if i % 2 == 0 { "api" } else { "web" }).to_string()), ("l", l.clone())]));
        for j in 0..10 {
            out.push(("h_hundred", vec![("l", l.clone()), ("le", j.to_string())]));
        }
        out.push(("h_hundred", vec![("l", l.clone()), ("le", "+Inf".to_string())]));
    }
    out
}

/// The value of series `i` (of `n`) at scrape `s`, as in bench_test.go.
fn value(s: i64, i: usize, n: usize) -> f64 {
    s as f64 + i as f64 / n as f64
}

fn write_om(path: &str, t0_s: i64, intervals: i64) -> std::io::Result<()> {
    let ser = series();
    let n = ser.len();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    // No TYPE lines: `a_hundred` lacks `_total` and `h_hundred` lacks
    // `_bucket`, so they are untyped series, as in bench_test.go.
    for (i, (name, labels)) in ser.iter().enumerate() {
        let ls: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        let head = format!("{name}{{{}}}", ls.join(","));
        for s in 0..intervals {
            let t_ms = t0_s * 1000 + s * SCRAPE_MS;
            // `{}` prints the shortest representation that round-trips, so Go's
            // ParseFloat reads back the same f64.
            writeln!(w, "{head} {} {}.{:03}", value(s, i, n), t_ms / 1000, t_ms % 1000)?;
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()
}

fn build_store(t0_s: i64, intervals: i64) -> SeriesStore {
    let ser = series();
    let n = ser.len();
    let mut st = SeriesStore::new();
    let ids: Vec<_> = ser
        .iter()
        .map(|(name, labels)| {
            let mut pairs: Vec<(&str, &str)> = vec![("__name__", name)];
            pairs.extend(labels.iter().map(|(k, v)| (*k, v.as_str())));
            st.get_or_create(Labels::from_pairs(pairs))
        })
        .collect();
    for &id in &ids {
        st.reserve(id, intervals as usize);
    }
    for s in 0..intervals {
        for (i, &id) in ids.iter().enumerate() {
            st.append(id, t0_s * 1000 + s * SCRAPE_MS, value(s, i, n));
        }
    }
    st
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn flag(args: &[String], name: &str) -> i64 {
    let i = args.iter().position(|a| a == name).unwrap_or_else(|| panic!("missing {name}"));
    args[i + 1].parse().unwrap_or_else(|_| panic!("{name}: not an integer"))
}

fn flag_str<'a>(args: &'a [String], name: &str) -> &'a str {
    let i = args.iter().position(|a| a == name).unwrap_or_else(|| panic!("missing {name}"));
    &args[i + 1]
}

fn bench(args: &[String]) {
    let spec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&args[0]).expect("read spec")).expect("spec JSON");
    let (t0, intervals, runs) = (flag(args, "--t0"), flag(args, "--intervals"), flag(args, "--runs").max(1));
    let out_dir = flag_str(args, "--out");
    std::fs::create_dir_all(out_dir).expect("create --out");
    let t = Instant::now();
    let st = build_store(t0, intervals);
    eprintln!("obslab: {} series, {} samples built in {:.2} s", st.len(), st.sample_count(), t.elapsed().as_secs_f64());
    let opts = EvalOptions { max_samples: u64::MAX, ..EvalOptions::default() };
    for q in spec.as_array().expect("spec is an array") {
        let id = q["id"].as_str().expect("id");
        let expr = q["expr"].as_str().expect("expr");
        let parsed = promql::parse(expr).unwrap_or_else(|e| panic!("{expr}: {}", e.message));
        let eval = || match q.get("time") {
            Some(t) => promql::instant_query_with(&st, &parsed, t.as_i64().expect("time") * 1000, &opts),
            None => {
                let g = |k: &str| q[k].as_i64().unwrap_or_else(|| panic!("{k}"));
                promql::range_query_with(&st, &parsed, g("start") * 1000, g("end") * 1000, g("step") * 1000, &opts)
            }
        };
        let mut result = eval().unwrap_or_else(|e| panic!("{expr}: {}", e.message)); // warm-up
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            result = std::hint::black_box(eval().unwrap());
            times.push(t.elapsed().as_secs_f64());
        }
        std::fs::write(format!("{out_dir}/{id}.json"), promql::to_api_json(&result.value, &result.annotations, expr)).expect("write result");
        let min = times.iter().cloned().fold(f64::INFINITY, f64::min);
        let med = median(&mut times);
        let line = serde_json::json!({
            "id": id, "expr": expr, "runs": runs,
            "median_ms": med * 1e3, "min_ms": min * 1e3,
            "samples": result.samples,
        });
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write-om") if args.len() >= 2 => {
            let t = Instant::now();
            write_om(&args[1], flag(&args, "--t0"), flag(&args, "--intervals")).expect("write OpenMetrics");
            eprintln!("wrote {} in {:.1} s", args[1], t.elapsed().as_secs_f64());
        }
        Some("bench") if args.len() >= 2 => bench(&args[1..]),
        _ => {
            eprintln!("usage: promql_speed write-om PATH --t0 UNIX_S --intervals N\n       promql_speed bench SPEC.json --t0 UNIX_S --intervals N --runs R --out DIR");
            std::process::exit(2);
        }
    }
}
