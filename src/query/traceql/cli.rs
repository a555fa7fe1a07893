//! `obslab traces SCENARIO --seed N --traceql EXPR [--limit N] [--duration
//! D] [--start T --end T]`: simulates the scenario and prints Tempo's
//! search JSON. Exit codes: 0 success, 1 a query or scenario error (an
//! error JSON on stdout, the query with a caret on stderr), 2 bad arguments.

use super::{parse, search_with, to_tempo_json, SearchOptions, MAX_LIMIT};
use crate::query::diag::render_error;
use crate::query::logql::cli::{duration_arg, load_model, parse_args, parse_time, seed_arg};
use crate::query::logql::error_json;

pub(crate) const USAGE_TRACES: &str = "usage: obslab traces SCENARIO [--seed N] --traceql EXPR [--limit N] [--duration D] [--start T --end T]";

/// `obslab traces ...`; returns the exit code.
pub fn traces_main(args: &[String]) -> i32 {
    let usage = |msg: &str| {
        eprintln!("obslab: {msg}");
        eprintln!("{USAGE_TRACES}");
        2
    };
    let a = match parse_args(args, &["seed", "traceql", "limit", "duration", "start", "end"]) {
        Ok(a) => a,
        Err(m) => return usage(&m),
    };
    if a.positional.len() != 1 {
        return usage(if a.positional.is_empty() { "missing SCENARIO" } else { "expected exactly one SCENARIO" });
    }
    let Some(query) = a.values.get("traceql") else { return usage("missing --traceql EXPR") };
    let seed = match seed_arg(&a) {
        Ok(s) => s,
        Err(m) => return usage(&m),
    };
    let duration = match duration_arg(&a) {
        Ok(d) => d,
        Err(m) => return usage(&m),
    };
    let mut opts = SearchOptions::default();
    if let Some(s) = a.values.get("limit") {
        match s.parse::<usize>() {
            Ok(n) if n > 0 && n <= MAX_LIMIT => opts.limit = n,
            _ => return usage(&format!("--limit needs a whole number from 1 to {MAX_LIMIT}, got '{s}'")),
        }
    }
    for name in ["start", "end"] {
        if let Some(s) = a.values.get(name) {
            let Some(t) = parse_time(s) else {
                return usage(&format!("--{name} is Unix seconds or RFC 3339 (2026-03-02T09:00:00Z), got '{s}'"));
            };
            if name == "start" {
                opts.start_ms = Some(t);
            } else {
                opts.end_ms = Some(t);
            }
        }
    }
    let q = match parse(query) {
        Ok(q) => q,
        Err(e) => {
            println!("{}", error_json(&format!("invalid TraceQL query: {}", e.message)));
            eprintln!("{}", render_error(query, &e));
            return 1;
        }
    };
    let model = match load_model(&a.positional[0]) {
        Ok(m) => m,
        Err(m) => {
            eprintln!("obslab: {m}");
            return 1;
        }
    };
    let run = crate::sim::run(&model, seed, duration);
    match search_with(&run.telemetry, &q, &opts) {
        Ok(r) => {
            println!("{}", to_tempo_json(&r));
            0
        }
        Err(e) => {
            println!("{}", error_json(&e.message));
            eprintln!("{}", render_error(query, &e));
            1
        }
    }
}
