//! The native command line: `obslab list | run | export | truth | check | bench`.
//! Output formats are stable because tests and facilitators script them.
//!
//! Exit codes: 0 success, 1 an error a human can act on (a bad scenario
//! file, an unwritable directory), 2 bad arguments (with a `usage:` line on
//! stderr). Arguments are parsed by hand; options take `--name value` or
//! `--name=value`. The wall clock is read here only, to report throughput.

use crate::scenario::{self, Model, ScenarioError, BUILTINS};
use crate::sim::time::{parse_duration, SimDuration};
use crate::sim::{self, Run};
use crate::json::JsonWriter;
use crate::telemetry::export::ExportKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "\
usage: obslab <command> [arguments]

commands:
  list                                          the built-in scenarios
  run SCENARIO [--seed N] [--duration D] [--json]
                                                simulate and print counts, throughput and the telemetry digest
  export SCENARIO --out DIR [--seed N] [--duration D]
                                                write metrics.om, traces/metrics/logs .otlp.json, logs.jsonl, profiles.folded
  truth SCENARIO [--seed N] [--duration D]      print the ground truth (answer key) as JSON
  questions SCENARIO [--seed N] [--key]         the scenario's questions as JSON (--key: with the run's expected answers)
  grade SCENARIO --answers FILE [--seed N]      grade an answer sheet (JSON); prints per-question grades as JSON
  check FILE                                    validate a scenario file
  bench [--json] [--seconds S]                  simulated spans/s and events/s per built-in (median of 3 runs)
  query SCENARIO --promql EXPR [--seed N] [--duration D] [--time T | --start T --end T --step D]
                                                evaluate PromQL; prints Prometheus's /api/v1/query(_range) JSON
  logs SCENARIO --logql EXPR [--seed N] [--duration D] [--start T --end T --step D --limit N]
                                                LogQL; prints Loki's /loki/api/v1/query_range JSON
  traces SCENARIO --traceql EXPR [--seed N] [--duration D] [--limit N]
                                                TraceQL; prints Tempo's search JSON
  promqltest FILE...                            run Prometheus's PromQL test scripts
  help                                          this text

SCENARIO is a built-in id (see `obslab list`), `drill` (the incident drill of the seed) or a path to a .toml file.
The default seed is 1; D is a duration such as 90s, 10m or 1h (default: the scenario's).
bench --seconds S caps the simulated time of each run at S seconds.";

/// Why a command stopped: bad arguments (exit 2) or a failure (exit 1).
#[derive(Debug)]
enum CliError {
    Usage { message: String, usage: &'static str },
    Failure(String),
    /// Output already written; exit with this code.
    Exit(i32),
}

type CliResult = Result<(), CliError>;

fn usage_err(usage: &'static str, message: impl Into<String>) -> CliError {
    CliError::Usage { message: message.into(), usage }
}

const USAGE_LIST: &str = "usage: obslab list";
const USAGE_RUN: &str = "usage: obslab run SCENARIO [--seed N] [--duration D] [--json]";
const USAGE_EXPORT: &str = "usage: obslab export SCENARIO --out DIR [--seed N] [--duration D]";
const USAGE_TRUTH: &str = "usage: obslab truth SCENARIO [--seed N] [--duration D]";
const USAGE_CHECK: &str = "usage: obslab check FILE";
const USAGE_BENCH: &str = "usage: obslab bench [--json] [--seconds S]";
const USAGE_QUERY: &str = "usage: obslab query SCENARIO --promql EXPR [--seed N] [--duration D] [--time T | --start T --end T --step D]";
const USAGE_QUESTIONS: &str = "usage: obslab questions SCENARIO [--seed N] [--duration D] [--key]";
const USAGE_GRADE: &str = "usage: obslab grade SCENARIO --answers FILE [--seed N] [--duration D]";
const USAGE_TOP: &str = "usage: obslab <list|run|export|truth|check|bench|query|logs|traces|questions|grade|promqltest|help> [arguments] (see `obslab help`)";

/// Runs the command line and returns the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE_TOP}");
        return 2;
    };
    let rest = &args[1..];
    // `obslab run --help` prints that command's usage line.
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        let usage = match cmd.as_str() {
            "list" => USAGE_LIST,
            "run" => USAGE_RUN,
            "export" => USAGE_EXPORT,
            "truth" => USAGE_TRUTH,
            "check" => USAGE_CHECK,
            "bench" => USAGE_BENCH,
            "query" => USAGE_QUERY,
            "questions" => USAGE_QUESTIONS,
            "grade" => USAGE_GRADE,
            _ => USAGE_TOP,
        };
        if usage != USAGE_TOP {
            println!("{usage}");
            return 0;
        }
    }
    let result = match cmd.as_str() {
        "list" => cmd_list(rest),
        "run" => cmd_run(rest),
        "export" => cmd_export(rest),
        "truth" => cmd_truth(rest),
        "check" => cmd_check(rest),
        "bench" => cmd_bench(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        "promqltest" => return crate::query::promql::testing::promqltest_main(rest),
        "query" => cmd_query(rest),
        "questions" => cmd_questions(rest),
        "grade" => cmd_grade(rest),
        "logs" => return crate::query::logql::logs_main(rest),
        "traces" => return crate::query::traceql::traces_main(rest),
        other => Err(usage_err(USAGE_TOP, format!("unknown command '{other}'"))),
    };
    match result {
        Ok(()) => 0,
        Err(CliError::Usage { message, usage }) => {
            eprintln!("obslab: {message}");
            eprintln!("{usage}");
            2
        }
        Err(CliError::Failure(message)) => {
            eprintln!("obslab: {message}");
            1
        }
        Err(CliError::Exit(code)) => code,
    }
}

// ------------------------------------------------------------ arguments

/// Parsed arguments of one command.
struct Args {
    positional: Vec<String>,
    values: BTreeMap<&'static str, String>,
    switches: Vec<&'static str>,
}

impl Args {
    /// Splits `args` into positionals, `--opt value` pairs (for names in
    /// `valued`) and `--switch`es; anything else is a usage error.
    fn parse(args: &[String], valued: &[&'static str], switches: &[&'static str], usage: &'static str) -> Result<Args, CliError> {
        let mut out = Args { positional: Vec::new(), values: BTreeMap::new(), switches: Vec::new() };
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if a == "--" {
                out.positional.extend(args[i..].iter().cloned());
                break;
            }
            let Some(body) = a.strip_prefix("--") else {
                if a.starts_with('-') && a.len() > 1 {
                    return Err(usage_err(usage, format!("unknown option '{a}'")));
                }
                out.positional.push(a.clone());
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            if let Some(&n) = valued.iter().find(|&&n| n == name) {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let Some(v) = args.get(i) else {
                            return Err(usage_err(usage, format!("option '--{n}' needs a value")));
                        };
                        i += 1;
                        v.clone()
                    }
                };
                if out.values.insert(n, v).is_some() {
                    return Err(usage_err(usage, format!("option '--{n}' given twice")));
                }
            } else if let Some(&n) = switches.iter().find(|&&n| n == name) {
                if inline.is_some() {
                    return Err(usage_err(usage, format!("option '--{n}' takes no value")));
                }
                out.switches.push(n);
            } else {
                return Err(usage_err(usage, format!("unknown option '--{name}'")));
            }
        }
        Ok(out)
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }

    /// Exactly `n` positionals, named in the error when missing.
    fn expect_positional(&self, names: &[&str], usage: &'static str) -> Result<(), CliError> {
        if self.positional.len() < names.len() {
            return Err(usage_err(usage, format!("missing {}", names[self.positional.len()])));
        }
        if self.positional.len() > names.len() {
            return Err(usage_err(usage, format!("unexpected argument '{}'", self.positional[names.len()])));
        }
        Ok(())
    }

    fn seed(&self, usage: &'static str) -> Result<u64, CliError> {
        match self.values.get("seed") {
            None => Ok(1),
            Some(s) => s.parse::<u64>().map_err(|_| usage_err(usage, format!("--seed expects a whole number from 0 to {}, got '{s}'", u64::MAX))),
        }
    }

    fn duration(&self, usage: &'static str) -> Result<Option<SimDuration>, CliError> {
        let Some(s) = self.values.get("duration") else { return Ok(None) };
        let d = parse_duration(s).map_err(|e| usage_err(usage, format!("--duration '{s}': {e}")))?;
        if d.micros() <= 0 {
            return Err(usage_err(usage, format!("--duration must be longer than zero, got '{s}'")));
        }
        Ok(Some(d))
    }
}

// ------------------------------------------------------------ scenarios

/// A built-in id or a path to a scenario file, loaded and checked.
/// `drill` is the generated incident drill of that seed.
fn load_scenario(arg: &str, seed: u64) -> Result<Model, CliError> {
    if arg == scenario::drill::ID {
        return scenario::drill::model(seed).map_err(|e| CliError::Failure(format!("drill {seed}: {e}")));
    }
    let looks_like_path = arg.ends_with(".toml") || arg.contains('/') || arg.contains('\\');
    if !looks_like_path && let Some(src) = scenario::builtin(arg) {
        return scenario::load(src).map_err(|e| CliError::Failure(format!("built-in scenario {arg}: {e}")));
    }
    let path = Path::new(arg);
    if !path.exists() {
        let ids: Vec<&str> = BUILTINS.iter().map(|b| b.id).collect();
        return Err(CliError::Failure(if looks_like_path {
            format!("cannot read {arg}: no such file")
        } else {
            format!("no built-in scenario '{arg}' and no file of that name; built-ins are: {}", ids.join(", "))
        }));
    }
    let src = std::fs::read_to_string(path).map_err(|e| CliError::Failure(format!("cannot read {arg}: {e}")))?;
    scenario::load(&src).map_err(|e| CliError::Failure(scenario_error(arg, &e)))
}

fn scenario_error(file: &str, e: &ScenarioError) -> String {
    format!("{file}: {e}")
}

/// `30d`, `1h`, `10m`: whole days read better than `720h`.
fn human_duration(d: SimDuration) -> String {
    const DAY_US: i64 = 86_400_000_000;
    if d.micros() > 0 && d.micros() % DAY_US == 0 {
        format!("{}d", d.micros() / DAY_US)
    } else {
        d.to_string()
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut u = "B";
    for unit in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        u = unit;
    }
    format!("{v:.1} {u}")
}

fn per_sec(n: u64, wall_secs: f64) -> f64 {
    if wall_secs > 0.0 { n as f64 / wall_secs } else { 0.0 }
}

// -------------------------------------------------------------- commands

/// A time argument: Unix seconds (fractions allowed) or RFC 3339; Unix ms out.
fn parse_time(s: &str, usage: &'static str) -> Result<i64, CliError> {
    if let Ok(v) = s.parse::<f64>() {
        if v.is_finite() && v.abs() < 1e12 {
            return Ok((v * 1000.0).round() as i64);
        }
    }
    crate::scenario::model::parse_rfc3339(s).ok_or_else(|| usage_err(usage, format!("cannot parse '{s}' as a time: expected Unix seconds or RFC 3339 such as 2026-03-02T09:30:00Z")))
}

fn cmd_query(args: &[String]) -> CliResult {
    use crate::query::promql;
    let a = Args::parse(args, &["seed", "duration", "promql", "time", "start", "end", "step"], &[], USAGE_QUERY)?;
    a.expect_positional(&["SCENARIO"], USAGE_QUERY)?;
    let seed = a.seed(USAGE_QUERY)?;
    let duration = a.duration(USAGE_QUERY)?;
    let Some(expr) = a.values.get("promql") else {
        return Err(usage_err(USAGE_QUERY, "missing --promql EXPR"));
    };
    let range = [a.values.get("start"), a.values.get("end"), a.values.get("step")];
    let is_range = range.iter().any(|v| v.is_some());
    if is_range && (range.iter().any(|v| v.is_none()) || a.values.contains_key("time")) {
        return Err(usage_err(USAGE_QUERY, "a range query needs all of --start, --end and --step, and no --time"));
    }
    let model = load_scenario(&a.positional[0], seed)?;
    let run = sim::run(&model, seed, duration);
    let store = &run.telemetry.series;
    let end_ms = run.telemetry.start_unix_ms + duration.unwrap_or(model.duration).micros() / 1000;
    let fail = |e: crate::query::QueryError| {
        println!("{}", promql::error_json("bad_data", &e.message));
        eprint!("{}", crate::query::render_error(expr, &e));
        CliError::Exit(1)
    };
    let parsed = promql::parse(expr).map_err(fail)?;
    let opts = promql::EvalOptions::default();
    let result = if is_range {
        let start = parse_time(range[0].unwrap(), USAGE_QUERY)?;
        let end = parse_time(range[1].unwrap(), USAGE_QUERY)?;
        let step_s = range[2].unwrap();
        let step = match step_s.parse::<f64>() {
            Ok(v) if v.is_finite() => (v * 1000.0).round() as i64,
            _ => parse_duration(step_s).map_err(|e| usage_err(USAGE_QUERY, format!("--step '{step_s}': {e}")))?.micros() / 1000,
        };
        promql::range_query_with(store, &parsed, start, end, step, &opts)
    } else {
        let t = match a.values.get("time") {
            Some(t) => parse_time(t, USAGE_QUERY)?,
            None => end_ms,
        };
        promql::instant_query_with(store, &parsed, t, &opts)
    }
    .map_err(fail)?;
    println!("{}", promql::to_api_json(&result.value, &result.annotations, expr));
    Ok(())
}

fn cmd_list(args: &[String]) -> CliResult {
    let a = Args::parse(args, &[], &[], USAGE_LIST)?;
    a.expect_positional(&[], USAGE_LIST)?;
    let mut rows = Vec::new();
    for b in BUILTINS {
        match scenario::load(b.source) {
            Ok(m) => rows.push((b.id.to_string(), m.title.clone(), m.level.clone(), human_duration(m.duration))),
            Err(e) => rows.push((b.id.to_string(), format!("(invalid: {e})"), "-".into(), "-".into())),
        }
    }
    match scenario::drill::model(1) {
        Ok(m) => rows.push((scenario::drill::ID.to_string(), "Incident drill (one per seed)".into(), m.level.clone(), human_duration(m.duration))),
        Err(e) => rows.push((scenario::drill::ID.to_string(), format!("(invalid: {e})"), "-".into(), "-".into())),
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
    for (id, title, level, dur) in rows {
        println!("{id:<w0$}  {title:<w1$}  {level:<w2$}  {dur}");
    }
    Ok(())
}

/// A finished run and how long it took on the wall clock.
struct Timed {
    run: Run,
    wall_secs: f64,
}

fn timed_run(model: &Model, seed: u64, duration: Option<SimDuration>) -> Timed {
    let t0 = Instant::now();
    let run = sim::run(model, seed, duration);
    Timed { run, wall_secs: t0.elapsed().as_secs_f64() }
}

fn cmd_run(args: &[String]) -> CliResult {
    let a = Args::parse(args, &["seed", "duration"], &["json"], USAGE_RUN)?;
    a.expect_positional(&["SCENARIO"], USAGE_RUN)?;
    let seed = a.seed(USAGE_RUN)?;
    let duration = a.duration(USAGE_RUN)?;
    let model = load_scenario(&a.positional[0], seed)?;
    let Timed { run, wall_secs } = timed_run(&model, seed, duration);
    let st = &run.stats;
    let tel = &run.telemetry;
    let duration = duration.unwrap_or(model.duration);
    let digest = tel.digest();
    let spans_per_sec = per_sec(st.spans, wall_secs);
    let events_per_sec = per_sec(st.events, wall_secs);
    let profile_samples = tel.profiles.total_samples();
    if a.switch("json") {
        let mut w = JsonWriter::new();
        w.begin_object()
            .field_str("scenario", &model.id)
            .field_int("seed", seed as i128)
            .field_float("duration_s", duration.as_secs_f64())
            .field_int("requests", st.requests as i128)
            .field_int("completed", st.completed as i128)
            .field_int("in_flight", st.in_flight as i128)
            .field_int("spans", st.spans as i128)
            .field_int("spans_kept", st.spans_kept as i128)
            .field_int("spans_dropped", st.spans_dropped as i128)
            .field_int("traces_kept", st.traces_kept as i128)
            .field_int("traces_dropped", st.traces_dropped as i128)
            .field_int("series", tel.series.len() as i128)
            .field_int("samples", tel.series.sample_count() as i128)
            .field_int("log_records", tel.logs.len() as i128)
            .field_int("profile_samples", profile_samples as i128)
            .field_int("events", st.events as i128)
            .field_float("wall_ms", round3(wall_secs * 1e3))
            .field_float("spans_per_sec", spans_per_sec.round())
            .field_float("events_per_sec", events_per_sec.round())
            .field_str("digest", &digest)
            .end_object();
        println!("{}", w.finish());
        return Ok(());
    }
    println!("scenario         {} ({}), seed {seed}, {} simulated", model.id, model.title, human_duration(duration));
    println!("requests         {} ({} completed, {} in flight)", st.requests, st.completed, st.in_flight);
    println!("spans            {} ({} kept, {} dropped by tail sampling)", st.spans, st.spans_kept, st.spans_dropped);
    println!("traces           {} kept, {} dropped", st.traces_kept, st.traces_dropped);
    println!("series           {}", tel.series.len());
    println!("samples          {}", tel.series.sample_count());
    println!("log records      {}", tel.logs.len());
    println!("profile samples  {}", profile_samples);
    println!("events           {}", st.events);
    println!("wall time        {:.1} ms", wall_secs * 1e3);
    println!("spans/s          {}", fmt_rate(spans_per_sec));
    println!("events/s         {}", fmt_rate(events_per_sec));
    println!("digest           {digest}");
    Ok(())
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn fmt_rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn cmd_export(args: &[String]) -> CliResult {
    let a = Args::parse(args, &["seed", "duration", "out"], &[], USAGE_EXPORT)?;
    a.expect_positional(&["SCENARIO"], USAGE_EXPORT)?;
    let seed = a.seed(USAGE_EXPORT)?;
    let duration = a.duration(USAGE_EXPORT)?;
    let Some(out) = a.values.get("out") else {
        return Err(usage_err(USAGE_EXPORT, "missing --out DIR"));
    };
    let out = PathBuf::from(out);
    let model = load_scenario(&a.positional[0], seed)?;
    std::fs::create_dir_all(&out).map_err(|e| CliError::Failure(format!("cannot create directory {}: {e}", out.display())))?;
    let run = sim::run(&model, seed, duration);
    println!(
        "exported {} (seed {seed}, {} simulated) to {}",
        model.id,
        human_duration(duration.unwrap_or(model.duration)),
        out.display()
    );
    let mut total = 0u64;
    for kind in ExportKind::ALL {
        let path = out.join(kind.file_name());
        let n = write_export(kind, &run.telemetry, &path).map_err(|e| CliError::Failure(format!("cannot write {}: {e}", path.display())))?;
        total += n;
        println!("  {:<18} {:>12} bytes  {:>10}", kind.file_name(), n, human_bytes(n));
    }
    println!("  {:<18} {:>12} bytes  {:>10}", "total", total, human_bytes(total));
    Ok(())
}

/// Writes one export file and returns its size. OpenMetrics is streamed
/// (a month of one-minute scrapes runs to gigabytes); the others are
/// rendered one at a time, so only one is in memory.
fn write_export(kind: ExportKind, tel: &crate::store::Telemetry, path: &Path) -> std::io::Result<u64> {
    use std::io::Write as _;
    let file = std::fs::File::create(path)?;
    let mut w = FmtToIo { inner: std::io::BufWriter::with_capacity(1 << 20, file), written: 0, error: None };
    let result = match kind {
        ExportKind::OpenMetrics => crate::telemetry::export::openmetrics::write(&tel.series, &mut w),
        _ => std::fmt::Write::write_str(&mut w, &kind.render(tel)),
    };
    if result.is_err() {
        return Err(w.error.unwrap_or_else(|| std::io::Error::other("formatting failed")));
    }
    w.inner.flush()?;
    Ok(w.written)
}

/// Lets `fmt::Write` code stream into a file, keeping the I/O error.
struct FmtToIo<W: std::io::Write> {
    inner: W,
    written: u64,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> std::fmt::Write for FmtToIo<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        match self.inner.write_all(s.as_bytes()) {
            Ok(()) => {
                self.written += s.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.error = Some(e);
                Err(std::fmt::Error)
            }
        }
    }
}

fn cmd_truth(args: &[String]) -> CliResult {
    let a = Args::parse(args, &["seed", "duration"], &[], USAGE_TRUTH)?;
    a.expect_positional(&["SCENARIO"], USAGE_TRUTH)?;
    let seed = a.seed(USAGE_TRUTH)?;
    let duration = a.duration(USAGE_TRUTH)?;
    let model = load_scenario(&a.positional[0], seed)?;
    let run = sim::run(&model, seed, duration);
    println!("{}", run.truth.to_json());
    Ok(())
}

fn cmd_questions(args: &[String]) -> CliResult {
    let a = Args::parse(args, &["seed", "duration"], &["key"], USAGE_QUESTIONS)?;
    a.expect_positional(&["SCENARIO"], USAGE_QUESTIONS)?;
    let seed = a.seed(USAGE_QUESTIONS)?;
    let duration = a.duration(USAGE_QUESTIONS)?;
    let model = load_scenario(&a.positional[0], seed)?;
    let run = sim::run(&model, seed, duration);
    println!("{}", crate::grading::sheet::questions_json(&run, a.switch("key")));
    Ok(())
}

fn cmd_grade(args: &[String]) -> CliResult {
    use crate::grading::sheet;
    let a = Args::parse(args, &["seed", "duration", "answers"], &[], USAGE_GRADE)?;
    a.expect_positional(&["SCENARIO"], USAGE_GRADE)?;
    let file = a.values.get("answers").ok_or_else(|| usage_err(USAGE_GRADE, "--answers FILE is required".to_string()))?;
    let src = std::fs::read_to_string(file).map_err(|e| CliError::Failure(format!("cannot read {file}: {e}")))?;
    let sh = sheet::parse_sheet(&src).map_err(|e| {
        let (line, col) = scenario::line_col(&src, e.at);
        CliError::Failure(format!("{file}: line {line}, column {col}: {}", e.message))
    })?;
    // The seed on the command line wins; else the sheet's; else the default.
    let seed = if a.values.contains_key("seed") { a.seed(USAGE_GRADE)? } else { sh.seed.unwrap_or(1) };
    let model = load_scenario(&a.positional[0], seed)?;
    if let Some(s) = &sh.scenario {
        if s != &model.id {
            return Err(CliError::Failure(format!("{file} answers scenario {s:?}, not {:?}", model.id)));
        }
    }
    let duration = a.duration(USAGE_GRADE)?;
    let run = sim::run(&model, seed, duration);
    let (graded, unknown) = sheet::grade_sheet(&run, &sh);
    println!("{}", sheet::results_json(&run, &sh, &graded, &unknown));
    Ok(())
}

fn cmd_check(args: &[String]) -> CliResult {
    let a = Args::parse(args, &[], &[], USAGE_CHECK)?;
    a.expect_positional(&["FILE"], USAGE_CHECK)?;
    let file = &a.positional[0];
    let src = std::fs::read_to_string(file).map_err(|e| CliError::Failure(format!("cannot read {file}: {e}")))?;
    match scenario::load(&src) {
        Ok(m) => {
            println!("ok: {} ({})", m.id, m.title);
            Ok(())
        }
        Err(e) => Err(CliError::Failure(scenario_error(file, &e))),
    }
}

/// One scenario's benchmark: medians of three runs.
struct BenchRow {
    scenario: String,
    spans: u64,
    events: u64,
    wall_ms_median: f64,
}

impl BenchRow {
    fn spans_per_sec(&self) -> f64 {
        per_sec(self.spans, self.wall_ms_median / 1e3)
    }
    fn events_per_sec(&self) -> f64 {
        per_sec(self.events, self.wall_ms_median / 1e3)
    }
}

fn cmd_bench(args: &[String]) -> CliResult {
    let a = Args::parse(args, &["seconds"], &["json"], USAGE_BENCH)?;
    a.expect_positional(&[], USAGE_BENCH)?;
    let cap = match a.values.get("seconds") {
        None => None,
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => Some(SimDuration::from_secs_f64(v)),
            _ => return Err(usage_err(USAGE_BENCH, format!("--seconds expects a positive number, got '{s}'"))),
        },
    };
    if cfg!(debug_assertions) {
        eprintln!("obslab: note: this is a debug build; build with --release for meaningful numbers");
    }
    let mut rows = Vec::new();
    for b in BUILTINS {
        let model = scenario::load(b.source).map_err(|e| CliError::Failure(format!("built-in scenario {}: {e}", b.id)))?;
        let duration = cap.map(|c| c.min(model.duration));
        let mut walls = Vec::new();
        let mut spans = 0;
        let mut events = 0;
        for _ in 0..3 {
            let t = timed_run(&model, 1, duration);
            spans = t.run.stats.spans;
            events = t.run.stats.events;
            walls.push(t.wall_secs * 1e3);
        }
        walls.sort_by(f64::total_cmp);
        rows.push(BenchRow { scenario: b.id.to_string(), spans, events, wall_ms_median: walls[1] });
    }
    if a.switch("json") {
        let mut w = JsonWriter::new();
        w.begin_array();
        for r in &rows {
            w.begin_object()
                .field_str("scenario", &r.scenario)
                .field_int("spans", r.spans as i128)
                .field_int("events", r.events as i128)
                .field_float("wall_ms_median", round3(r.wall_ms_median))
                .field_float("spans_per_sec", r.spans_per_sec().round())
                .field_float("events_per_sec", r.events_per_sec().round())
                .end_object();
        }
        w.end_array();
        println!("{}", w.finish());
        return Ok(());
    }
    println!("{:<18} {:>12} {:>12} {:>12} {:>12} {:>12}", "scenario", "spans", "events", "wall ms", "spans/s", "events/s");
    for r in &rows {
        println!(
            "{:<18} {:>12} {:>12} {:>12.1} {:>12} {:>12}",
            r.scenario,
            r.spans,
            r.events,
            r.wall_ms_median,
            fmt_rate(r.spans_per_sec()),
            fmt_rate(r.events_per_sec())
        );
    }
    println!("(wall ms is the median of 3 runs, seed 1)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_options_in_both_spellings() {
        let a = Args::parse(&strs(&["x", "--seed", "7", "--duration=10m", "--json"]), &["seed", "duration"], &["json"], USAGE_RUN).unwrap();
        assert_eq!(a.positional, vec!["x"]);
        assert_eq!(a.seed(USAGE_RUN).unwrap(), 7);
        assert_eq!(a.duration(USAGE_RUN).unwrap(), Some(SimDuration::from_secs(600)));
        assert!(a.switch("json"));
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for args in [&["--nope"][..], &["--seed"], &["--seed", "x"], &["--duration", "5"], &["--duration", "0s"], &["-x"], &["--json=1"], &["--seed", "1", "--seed", "2"]] {
            let r = Args::parse(&strs(args), &["seed", "duration"], &["json"], USAGE_RUN).and_then(|a| {
                a.seed(USAGE_RUN)?;
                a.duration(USAGE_RUN)?;
                Ok(())
            });
            assert!(matches!(r, Err(CliError::Usage { .. })), "{args:?}");
        }
    }

    #[test]
    fn exit_codes() {
        assert_eq!(main(vec![]), 2);
        assert_eq!(main(strs(&["frobnicate"])), 2);
        assert_eq!(main(strs(&["query"])), 2);
        assert_eq!(main(strs(&["run"])), 2);
        assert_eq!(main(strs(&["run", "no-such-scenario"])), 1);
        assert_eq!(main(strs(&["check", "/nonexistent/x.toml"])), 1);
        assert_eq!(main(strs(&["help"])), 0);
        assert_eq!(main(strs(&["list"])), 0);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 + 1), "5.0 MiB");
    }
}
