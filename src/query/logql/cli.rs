//! `obslab logs SCENARIO --seed N --logql EXPR [--start T --end T --step D
//! --limit N] [--duration D] [--direction backward|forward] [--format
//! json|plain]`: simulates the scenario and prints Loki's query_range JSON.
//! Exit codes: 0 success, 1 a query or scenario error (Loki's error JSON
//! on stdout, the query with a caret on stderr), 2 bad arguments.
//! The argument helpers here are shared with `obslab traces`.

use super::{error_json, query_range_with, to_loki_json, Direction, Options};
use crate::query::diag::render_error;
use crate::scenario::{self, Model};
use crate::sim::time::{parse_duration, SimDuration};
use crate::telemetry::log::LogFormat;
use std::collections::BTreeMap;

pub(crate) const USAGE_LOGS: &str =
    "usage: obslab logs SCENARIO [--seed N] --logql EXPR [--start T --end T --step D --limit N] [--duration D] [--direction backward|forward] [--format json|plain]";

/// Parsed `--name value` options and positionals.
pub(crate) struct CliArgs {
    pub positional: Vec<String>,
    pub values: BTreeMap<String, String>,
}

/// Splits arguments; `Err` is a message for a usage error.
pub(crate) fn parse_args(args: &[String], valued: &[&str]) -> Result<CliArgs, String> {
    let mut out = CliArgs { positional: Vec::new(), values: BTreeMap::new() };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            out.positional.extend(args[i..].iter().cloned());
            break;
        }
        let Some(body) = a.strip_prefix("--") else {
            out.positional.push(a.clone());
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        if !valued.contains(&name) {
            return Err(format!("unknown option '--{name}'"));
        }
        let v = match inline {
            Some(v) => v,
            None => {
                let Some(v) = args.get(i) else { return Err(format!("option '--{name}' needs a value")) };
                i += 1;
                v.clone()
            }
        };
        if out.values.insert(name.to_string(), v).is_some() {
            return Err(format!("option '--{name}' given twice"));
        }
    }
    Ok(out)
}

/// A built-in id or a path to a .toml file.
pub(crate) fn load_model(arg: &str) -> Result<Model, String> {
    let looks_like_path = arg.ends_with(".toml") || arg.contains('/') || arg.contains('\\');
    if !looks_like_path {
        if let Some(src) = scenario::builtin(arg) {
            return scenario::load(src).map_err(|e| format!("built-in scenario {arg}: {e}"));
        }
    }
    let src = std::fs::read_to_string(arg).map_err(|e| {
        if looks_like_path {
            format!("cannot read {arg}: {e}")
        } else {
            let ids: Vec<&str> = scenario::BUILTINS.iter().map(|b| b.id).collect();
            format!("no built-in scenario '{arg}' and no file of that name; built-ins are: {}", ids.join(", "))
        }
    })?;
    scenario::load(&src).map_err(|e| format!("{arg}: {e}"))
}

pub(crate) fn seed_arg(a: &CliArgs) -> Result<u64, String> {
    match a.values.get("seed") {
        None => Ok(1),
        Some(s) => s.parse().map_err(|_| format!("--seed needs a whole number, got '{s}'")),
    }
}

pub(crate) fn duration_arg(a: &CliArgs) -> Result<Option<SimDuration>, String> {
    match a.values.get("duration") {
        None => Ok(None),
        Some(s) => match parse_duration(s) {
            Ok(d) if d.micros() > 0 => Ok(Some(d)),
            Ok(_) => Err(format!("--duration must be longer than zero, got '{s}'")),
            Err(e) => Err(format!("--duration: {}", e.message)),
        },
    }
}

/// Unix seconds (possibly fractional) or RFC 3339, in Unix ms.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<f64>() {
        if v.is_finite() && v.abs() < 1e13 {
            return Some((v * 1000.0).round() as i64);
        }
        return None;
    }
    scenario::model::parse_rfc3339(s)
}

/// A step: a duration (`30s`, `1m`) or a number of seconds, in ms.
pub(crate) fn parse_step(s: &str) -> Option<i64> {
    let secs = match s.parse::<f64>() {
        Ok(v) => v,
        Err(_) => super::lexer::parse_go_duration(s)?,
    };
    (secs.is_finite() && secs > 0.0 && secs < 1e9).then(|| ((secs * 1000.0).round() as i64).max(1))
}

/// `obslab logs ...`; returns the exit code.
pub fn logs_main(args: &[String]) -> i32 {
    let usage = |msg: &str| {
        eprintln!("obslab: {msg}");
        eprintln!("{USAGE_LOGS}");
        2
    };
    let a = match parse_args(args, &["seed", "logql", "start", "end", "step", "limit", "duration", "direction", "format"]) {
        Ok(a) => a,
        Err(m) => return usage(&m),
    };
    if a.positional.len() != 1 {
        return usage(if a.positional.is_empty() { "missing SCENARIO" } else { "expected exactly one SCENARIO" });
    }
    let Some(query) = a.values.get("logql") else { return usage("missing --logql EXPR") };
    let seed = match seed_arg(&a) {
        Ok(s) => s,
        Err(m) => return usage(&m),
    };
    let duration = match duration_arg(&a) {
        Ok(d) => d,
        Err(m) => return usage(&m),
    };
    let mut opts = Options::default();
    match a.values.get("direction").map(String::as_str) {
        None | Some("backward") => {}
        Some("forward") => opts.direction = Direction::Forward,
        Some(o) => return usage(&format!("--direction is backward or forward, got '{o}'")),
    }
    match a.values.get("format").map(String::as_str) {
        None | Some("json") => {}
        Some("plain") => opts.format = LogFormat::Plain,
        Some(o) => return usage(&format!("--format is json or plain, got '{o}'")),
    }
    let limit = match a.values.get("limit") {
        None => 100,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return usage(&format!("--limit needs a positive whole number, got '{s}'")),
        },
    };
    let mut times = [None, None];
    for (k, name) in ["start", "end"].iter().enumerate() {
        if let Some(s) = a.values.get(*name) {
            match parse_time(s) {
                Some(t) => times[k] = Some(t),
                None => return usage(&format!("--{name} is Unix seconds or RFC 3339 (2026-03-02T09:00:00Z), got '{s}'")),
            }
        }
    }
    let step = match a.values.get("step") {
        None => 0,
        Some(s) => match parse_step(s) {
            Some(v) => v,
            None => return usage(&format!("--step is a duration such as 30s or a number of seconds, got '{s}'")),
        },
    };
    // Parse before simulating so a typo answers at once.
    let expr = match super::parse(query) {
        Ok(e) => e,
        Err(e) => {
            println!("{}", error_json(&e.message));
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
    let run_len = duration.unwrap_or(model.duration);
    let run = crate::sim::run(&model, seed, duration);
    let tel = &run.telemetry;
    let start = times[0].unwrap_or(tel.start_unix_ms);
    let end = times[1].unwrap_or(tel.start_unix_ms + run_len.micros() / 1000);
    if end < start {
        return usage("--end is before --start");
    }
    match query_range_with(tel, &expr, start, end, step, limit, &opts) {
        Ok(r) => {
            println!("{}", to_loki_json(&r));
            0
        }
        Err(e) => {
            println!("{}", error_json(&e.message));
            eprintln!("{}", render_error(query, &e));
            1
        }
    }
}
