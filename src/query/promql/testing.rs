//! A runner for Prometheus's PromQL test scripts (`load` / `clear` /
//! `eval`, format in `promqltest/README.md`), so the engine can be checked
//! against Prometheus's own expectations. It follows `promqltest` closely:
//! instant evals are re-run with `@` pinned on every selector at other
//! evaluation times and once more as a range query; values compare with a
//! relative epsilon of 1e-6; annotations are checked when `expect` lines ask.
//!
//! An eval counts as *unsupported* only when the engine rejects it with an
//! `Unsupported` error (native histograms, `info()`, fill modifiers, ...);
//! any other difference is a failure.

use super::ast::{At, Expr, ExprKind};
use super::eval::{EvalOptions, STALE_NAN_BITS, is_stale};
use super::functions;
use super::parser::{parse_duration, parse_metric_prefix};
use super::value::{AnnotationKind, Value};
use super::{QueryResult, instant_query_with, parse, range_query_with};
use crate::query::diag::QueryError;
use crate::store::SeriesStore;
use crate::telemetry::metric::Labels;
use regex_lite::Regex;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What happened to one eval.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Passed,
    Failed(String),
    Unsupported(String),
}

/// Totals for one script.
#[derive(Clone, Debug, Default)]
pub struct FileReport {
    pub passed: usize,
    pub failed: usize,
    pub unsupported: usize,
    /// Unsupported evals by feature.
    pub features: BTreeMap<String, usize>,
    /// Evals that need native histograms (not "float" evals).
    pub native: usize,
    pub failures: Vec<String>,
}

#[derive(Clone, Debug)]
struct Expected {
    labels: Labels,
    /// `None` for an omitted (`_`) value.
    values: Vec<Option<f64>>,
    pos: usize,
    native: bool,
}

#[derive(Clone, Debug, Default)]
struct Expect {
    fail: Option<Matcher>,
    warn: Vec<Matcher>,
    info: Vec<Matcher>,
    no_warn: bool,
    no_info: bool,
    ordered: bool,
    legacy_warn: bool,
    legacy_info: bool,
}

#[derive(Clone, Debug)]
enum Matcher {
    Any,
    Msg(String),
    Re(Regex),
}

impl Matcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Msg(m) => m == s,
            Matcher::Re(r) => r.is_match(s),
        }
    }
}

struct Eval {
    line: usize,
    expr: String,
    range: Option<(i64, i64, i64)>,
    at: i64,
    expect: Expect,
    scalar: Option<f64>,
    series: Vec<Expected>,
    string: Option<String>,
    range_vector: Option<(i64, i64, i64)>,
    native_expected: bool,
}

fn lines_of(input: &str) -> Vec<String> {
    input
        .split('\n')
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { String::new() } else { l.to_string() }
        })
        .collect()
}

/// Parses a go-style number (`ParseInt(s, 0, 64)` then `ParseFloat`).
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let v = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan" {
        f64::NAN
    } else if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()? as f64
    } else if body.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || b == b'+' || b == b'-' || b == b'_') && body.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
        body.replace('_', "").parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

/// One value item of a series description (`1+2x3`, `_x2`, `stale`, ...).
/// Returns the expanded values (`None` = omitted) and whether it was a
/// native histogram.
fn parse_item(item: &str) -> Result<(Vec<Option<f64>>, bool), String> {
    if item.starts_with("{{") {
        let close = item.find("}}").ok_or("unclosed histogram")?;
        let rest = &item[close + 2..];
        let count = if rest.is_empty() {
            1
        } else if let Some(n) = rest.strip_prefix('x') {
            n.parse::<usize>().map_err(|e| e.to_string())? + 1
        } else if rest.starts_with("+{{") || rest.starts_with("-{{") {
            let c2 = rest.rfind("}}").ok_or("unclosed histogram")?;
            let n = rest[c2 + 2..].strip_prefix('x').ok_or("expected x<count> after histogram increment")?;
            n.parse::<usize>().map_err(|e| e.to_string())? + 1
        } else {
            return Err(format!("bad histogram item {item:?}"));
        };
        return Ok((vec![Some(0.0); count], true));
    }
    if item == "_" {
        return Ok((vec![None], false));
    }
    if let Some(n) = item.strip_prefix("_x") {
        let n: usize = n.parse().map_err(|_| format!("bad repetition {item:?}"))?;
        return Ok((vec![None; n], false));
    }
    if item == "stale" {
        return Ok((vec![Some(f64::from_bits(STALE_NAN_BITS))], false));
    }
    // [sign]number[(+|-)number]x<count>
    let b = item.as_bytes();
    let mut i = 0;
    let read_num = |i: &mut usize| -> Result<f64, String> {
        let st = *i;
        if *i < b.len() && (b[*i] == b'+' || b[*i] == b'-') {
            *i += 1;
        }
        if *i < b.len() && b[*i].is_ascii_alphabetic() {
            while *i < b.len() && b[*i].is_ascii_alphabetic() && !(b[*i] == b'x' && *i > st && b[st..*i].eq_ignore_ascii_case(b"inf") || b[*i] == b'x' && b[st..*i].eq_ignore_ascii_case(b"nan")) {
                *i += 1;
            }
        } else {
            while *i < b.len() {
                let c = b[*i];
                if c.is_ascii_digit() || c == b'.' || c == b'_' {
                    *i += 1;
                } else if (c == b'e' || c == b'E') && *i + 1 < b.len() && (b[*i + 1].is_ascii_digit() || ((b[*i + 1] == b'+' || b[*i + 1] == b'-') && *i + 2 < b.len() && b[*i + 2].is_ascii_digit())) {
                    *i += 2;
                } else if matches!(c, b's' | b'm' | b'h' | b'd' | b'w' | b'y') {
                    // A duration used as a number of seconds.
                    while *i < b.len() && b[*i] != b'x' && b[*i] != b'+' && b[*i] != b'-' {
                        *i += 1;
                    }
                    let text = &item[st..*i];
                    let (neg, body) = match text.as_bytes()[0] {
                        b'-' => (true, &text[1..]),
                        b'+' => (false, &text[1..]),
                        _ => (false, text),
                    };
                    let ms = parse_duration(body)?;
                    return Ok(if neg { -(ms as f64) / 1000.0 } else { ms as f64 / 1000.0 });
                } else {
                    break;
                }
            }
        }
        parse_number(&item[st..*i]).ok_or_else(|| format!("bad number {:?} in {item:?}", &item[st..*i]))
    };
    let start = read_num(&mut i)?;
    if i == b.len() {
        return Ok((vec![Some(start)], false));
    }
    let mut step = 0.0;
    if b[i] == b'+' || b[i] == b'-' {
        step = read_num(&mut i)?;
    }
    if i >= b.len() || b[i] != b'x' {
        return Err(format!("bad series item {item:?}"));
    }
    let n: usize = item[i + 1..].parse().map_err(|_| format!("bad repetition in {item:?}"))?;
    if n > 10_000_000 {
        return Err("repetition too large".into());
    }
    let mut out = Vec::with_capacity(n + 1);
    let mut v = start;
    for _ in 0..=n {
        out.push(Some(v));
        v += step;
    }
    Ok((out, false))
}

/// Splits a series description into labels and values.
fn parse_series(line: &str) -> Result<(Labels, Vec<Option<f64>>, bool), String> {
    let (pairs, end) = parse_metric_prefix(line).map_err(|e| e.message)?;
    let labels = Labels::from_pairs(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let rest = &line[end..];
    let mut values = Vec::new();
    let mut native = false;
    let mut items: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let rb = rest.as_bytes();
    let mut i = 0;
    while i < rb.len() {
        if rb[i] == b'{' && rb.get(i + 1) == Some(&b'{') {
            depth += 1;
            cur.push_str("{{");
            i += 2;
            continue;
        }
        if rb[i] == b'}' && rb.get(i + 1) == Some(&b'}') {
            depth -= 1;
            cur.push_str("}}");
            i += 2;
            continue;
        }
        let c = rest[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                items.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
        i += c.len_utf8();
    }
    if !cur.is_empty() {
        items.push(cur);
    }
    for it in items {
        let (vs, n) = parse_item(&it)?;
        native |= n;
        values.extend(vs);
    }
    Ok((labels, values, native))
}

fn almost_equal(a: f64, b: f64) -> bool {
    const EPS: f64 = 0.000001;
    if is_stale(a) || is_stale(b) {
        return is_stale(a) && is_stale(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    let min_normal = f64::MIN_POSITIVE;
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < EPS * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < EPS
}

fn fmt_vals(v: &[(i64, f64)]) -> String {
    let parts: Vec<String> = v.iter().map(|(t, f)| format!("{} @[{}]", super::value::format_value(*f), t)).collect();
    format!("[{}]", parts.join(" "))
}

/// The state of one script run.
struct Runner {
    store: SeriesStore,
    opts: EvalOptions,
}

impl Runner {
    fn new() -> Self {
        Runner { store: SeriesStore::new(), opts: EvalOptions::default() }
    }

    fn load(&mut self, lines: &[String], i: &mut usize, interval: i64, with_nhcb: bool) -> Result<(), String> {
        let mut pending_st = false;
        let mut st_series: Option<Labels> = None;
        // A series defined twice in one block keeps its last definition.
        let mut defs: Vec<(Labels, Vec<Option<f64>>, bool, bool)> = Vec::new();
        while *i + 1 < lines.len() && !lines[*i + 1].is_empty() {
            *i += 1;
            let line = &lines[*i];
            let first = line.split_whitespace().next().unwrap_or("");
            if first.ends_with("@st") {
                let (pairs, _) = parse_metric_prefix(first.trim_end_matches("@st")).map_err(|e| e.message)?;
                st_series = Some(Labels::from_pairs(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str()))));
                pending_st = true;
                continue;
            }
            let (labels, values, native) = parse_series(line)?;
            let st = pending_st && st_series.as_ref() == Some(&labels);
            defs.retain(|d| d.0 != labels);
            defs.push((labels.clone(), values, native, st));
            pending_st = false;
            if with_nhcb {
                // The converted native histogram (custom buckets) series.
                let name = labels.name().unwrap_or("").to_string();
                for suffix in ["_bucket", "_count", "_sum"] {
                    if let Some(base) = name.strip_suffix(suffix) {
                        let mut l = labels.clone();
                        l.remove("le");
                        l.set("__name__", base);
                        let id = self.store.get_or_create(l);
                        self.opts.unsupported_series.insert(id, "native histograms".into());
                    }
                }
            }
        }
        for (labels, values, native, st) in defs {
            let has_samples = values.iter().any(|v| v.is_some());
            if !(has_samples || native) {
                continue;
            }
            let id = self.store.get_or_create(labels);
            for (k, v) in values.iter().enumerate() {
                if let Some(v) = v {
                    self.store.append(id, k as i64 * interval, *v);
                }
            }
            if native {
                self.opts.unsupported_series.insert(id, "native histograms".into());
            }
            if st {
                self.opts.unsupported_series.entry(id).or_insert_with(|| "start timestamps".into());
            }
        }
        Ok(())
    }

    fn parse_eval(&self, lines: &[String], i: &mut usize) -> Result<Eval, String> {
        let head = &lines[*i];
        let line_no = *i + 1;
        let re_inst = Regex::new(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$").map_err(|e| e.to_string())?;
        let re_range = Regex::new(r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$").map_err(|e| e.to_string())?;
        let mut ev = Eval { line: line_no, expr: String::new(), range: None, at: 0, expect: Expect::default(), scalar: None, series: Vec::new(), string: None, range_vector: None, native_expected: false };
        let modifier;
        if let Some(c) = re_inst.captures(head) {
            modifier = c.get(1).map(|m| m.as_str().to_string());
            ev.at = parse_duration(c.get(2).map(|m| m.as_str()).unwrap_or("0"))?;
            ev.expr = c.get(3).map(|m| m.as_str().to_string()).unwrap_or_default();
        } else if let Some(c) = re_range.captures(head) {
            modifier = c.get(1).map(|m| m.as_str().to_string());
            let from = parse_duration(&c[2])?;
            let to = parse_duration(&c[3])?;
            let step = parse_duration(&c[4])?;
            ev.range = Some((from, to, step));
            ev.expr = c[5].to_string();
        } else {
            return Err(format!("line {line_no}: invalid eval command {head:?}"));
        }
        match modifier.as_deref() {
            Some("fail") => ev.expect.fail = Some(Matcher::Any),
            Some("warn") => ev.expect.legacy_warn = true,
            Some("info") => ev.expect.legacy_info = true,
            Some("ordered") => ev.expect.ordered = true,
            _ => {}
        }
        let re_expect = Regex::new(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$").map_err(|e| e.to_string())?;
        let mut pos = 0;
        while *i + 1 < lines.len() && !lines[*i + 1].is_empty() {
            *i += 1;
            let l = lines[*i].as_str();
            if ev.expect.fail.is_some() && l.starts_with("expected_fail_message") {
                ev.expect.fail = Some(Matcher::Msg(l["expected_fail_message".len()..].trim().to_string()));
                continue;
            }
            if ev.expect.fail.is_some() && l.starts_with("expected_fail_regexp") {
                let p = l["expected_fail_regexp".len()..].trim();
                ev.expect.fail = Some(Matcher::Re(Regex::new(p).map_err(|e| e.to_string())?));
                continue;
            }
            if let Some(rest) = l.strip_prefix("expect range vector") {
                let re = Regex::new(r"^\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$").map_err(|e| e.to_string())?;
                let c = re.captures(rest).ok_or_else(|| format!("line {}: bad range vector expectation", *i + 1))?;
                ev.range_vector = Some((parse_duration(&c[1])?, parse_duration(&c[2])?, parse_duration(&c[3])?));
                continue;
            }
            if let Some(rest) = l.strip_prefix("expect string") {
                ev.string = Some(super::lexer::unquote(rest.trim()).map_err(|e| format!("line {}: {e}", *i + 1))?);
                continue;
            }
            if l.split(' ').next() == Some("expect") {
                let c = re_expect.captures(l).ok_or_else(|| format!("line {}: invalid expect statement", *i + 1))?;
                let m = match c.get(2).map(|m| m.as_str()) {
                    Some("msg") => Matcher::Msg(c[3].trim().to_string()),
                    Some(_) => Matcher::Re(Regex::new(c[3].trim()).map_err(|e| format!("line {}: {e}", *i + 1))?),
                    None => Matcher::Any,
                };
                match &c[1] {
                    "fail" => ev.expect.fail = Some(m),
                    "warn" => ev.expect.warn.push(m),
                    "info" => ev.expect.info.push(m),
                    "no_warn" => ev.expect.no_warn = true,
                    "no_info" => ev.expect.no_info = true,
                    _ => ev.expect.ordered = true,
                }
                continue;
            }
            if let Some(f) = parse_number(l) {
                ev.scalar = Some(f);
                continue;
            }
            pos += 1;
            let (labels, values, native) = parse_series(l).map_err(|e| format!("line {}: {e}", *i + 1))?;
            ev.native_expected |= native;
            ev.series.retain(|s| s.labels != labels);
            ev.series.push(Expected { labels, values, pos, native });
        }
        Ok(ev)
    }

    /// Whether an eval is about native histograms (expected histogram
    /// values, or a metric name in the query that holds native histograms):
    /// used only to tell float evals from native-histogram ones in reports.
    fn touches_native(&self, ev: &Eval) -> bool {
        if ev.native_expected {
            return true;
        }
        let mut names = std::collections::HashSet::new();
        for (id, f) in &self.opts.unsupported_series {
            if f == "native histograms"
                && let Some(n) = self.store.get(*id).labels.name() {
                    names.insert(n.to_string());
                }
        }
        ev.expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).any(|w| names.contains(w))
    }

    fn check_annotations(&self, ev: &Eval, res: &QueryResult, query: &str) -> Result<(), String> {
        let warns: Vec<String> = res.annotations.iter().filter(|a| a.kind == AnnotationKind::Warning).map(|a| a.render(query)).collect();
        let infos: Vec<String> = res.annotations.iter().filter(|a| a.kind == AnnotationKind::Info).map(|a| a.render(query)).collect();
        if ev.expect.legacy_warn && warns.is_empty() {
            return Err("expected warnings but got none".into());
        }
        if ev.expect.legacy_info && infos.is_empty() {
            return Err("expected info annotations but got none".into());
        }
        for (exp, got, kind) in [(&ev.expect.warn, &warns, "warn"), (&ev.expect.info, &infos, "info")] {
            if exp.is_empty() {
                continue;
            }
            if got.is_empty() {
                return Err(format!("expected {kind} annotations but none were found"));
            }
            for e in exp.iter() {
                if !got.iter().any(|g| e.matches(g)) {
                    return Err(format!("expected {kind} annotation matching {e:?} but found {got:?}"));
                }
            }
            for g in got.iter() {
                if !exp.iter().any(|e| e.matches(g)) {
                    return Err(format!("unexpected {kind} annotation {g:?}"));
                }
            }
        }
        if ev.expect.no_warn && !warns.is_empty() {
            return Err(format!("unexpected warning annotations: {warns:?}"));
        }
        if ev.expect.no_info && !infos.is_empty() {
            return Err(format!("unexpected info annotations: {infos:?}"));
        }
        Ok(())
    }

    fn compare(&self, ev: &Eval, v: &Value, start: i64, end: i64, step: i64) -> Result<(), String> {
        match v {
            Value::String { v, .. } => match &ev.string {
                Some(s) if s == v => Ok(()),
                other => Err(format!("expected string {other:?} but got {v:?}")),
            },
            Value::Scalar { v, .. } => match ev.scalar {
                Some(e) if almost_equal(e, *v) => Ok(()),
                Some(e) => Err(format!("expected scalar {e} but got {v}")),
                None => Err(format!("expected vector or matrix result, but got scalar {v}")),
            },
            Value::Vector(vec) => {
                if ev.scalar.is_some() {
                    return Err("expected scalar result, but got vector".into());
                }
                for (p, s) in vec.iter().enumerate() {
                    let Some(exp) = ev.series.iter().find(|e| e.labels == s.labels) else {
                        return Err(format!("unexpected metric {} in result, has value {}", s.labels, s.f));
                    };
                    if ev.expect.ordered && exp.pos != p + 1 {
                        return Err(format!("expected metric {} at position {} but was at {}", s.labels, exp.pos, p + 1));
                    }
                    let e0 = exp.values.first().copied().flatten().unwrap_or(f64::NAN);
                    if !almost_equal(e0, s.f) {
                        return Err(format!("expected {} for {} but got {}", e0, s.labels, s.f));
                    }
                }
                for e in &ev.series {
                    if !vec.iter().any(|s| s.labels == e.labels) {
                        return Err(format!("expected metric {} with {:?} not found", e.labels, e.values));
                    }
                }
                Ok(())
            }
            Value::Matrix(m) => {
                if ev.expect.ordered {
                    return Err("expected ordered result, but query returned a matrix".into());
                }
                if ev.scalar.is_some() {
                    return Err("expected scalar result, but got matrix".into());
                }
                for s in m {
                    let Some(exp) = ev.series.iter().find(|e| e.labels == s.labels) else {
                        return Err(format!("unexpected metric {} in result, has {}", s.labels, fmt_vals(&s.points)));
                    };
                    let mut want: Vec<(i64, f64)> = Vec::new();
                    for (k, v) in exp.values.iter().enumerate() {
                        let t = start + k as i64 * step;
                        if t > end {
                            return Err(format!("expected {} points for {}, but query time range cannot return this many points", exp.values.len(), s.labels));
                        }
                        if let Some(v) = v {
                            want.push((t, *v));
                        }
                    }
                    if want.len() != s.points.len() {
                        return Err(format!("expected {} float points for {}, but got {}", want.len(), s.labels, fmt_vals(&s.points)));
                    }
                    for (k, (w, g)) in want.iter().zip(&s.points).enumerate() {
                        if w.0 != g.0 {
                            return Err(format!("expected float value at index {k} for {} to have timestamp {}, but it had timestamp {} (result has {})", s.labels, w.0, g.0, fmt_vals(&s.points)));
                        }
                        if !almost_equal(w.1, g.1) {
                            return Err(format!("expected float value at index {k} (t={}) for {} to be {}, but got {} (result has {})", g.0, s.labels, w.1, g.1, fmt_vals(&s.points)));
                        }
                    }
                }
                for e in &ev.series {
                    if !m.iter().any(|s| s.labels == e.labels) {
                        return Err(format!("expected metric {} not found", e.labels));
                    }
                }
                Ok(())
            }
        }
    }

    /// Checks an error against the `expect fail` expectation.
    fn check_failure(&self, ev: &Eval, e: &QueryError) -> Outcome {
        if let Some(f) = e.feature() {
            return Outcome::Unsupported(f.to_string());
        }
        match &ev.expect.fail {
            Some(m) if m.matches(&e.message) => Outcome::Passed,
            Some(m) => Outcome::Failed(format!("expected error matching {m:?}, got: {}", e.message)),
            None => Outcome::Failed(format!("error evaluating query: {}", e.message)),
        }
    }

    fn run_eval(&self, ev: &Eval) -> Outcome {
        let expr = match parse(&ev.expr) {
            Ok(e) => e,
            Err(e) => return self.check_failure(ev, &e),
        };
        if let Some((start, end, step)) = ev.range {
            let res = match range_query_with(&self.store, &expr, start, end, step, &self.opts) {
                Ok(r) => r,
                Err(e) => return self.check_failure(ev, &e),
            };
            if ev.expect.fail.is_some() {
                return Outcome::Failed("expected error evaluating query but got none".into());
            }
            if let Err(m) = self.check_annotations(ev, &res, &ev.expr) {
                return Outcome::Failed(m);
            }
            if let Err(m) = self.compare(ev, &res.value, start, end, step) {
                return Outcome::Failed(m);
            }
            return Outcome::Passed;
        }
        // Instant query, then the same pinned with @ at other times.
        let mut cases: Vec<(Expr, i64)> = vec![(expr.clone(), ev.at)];
        if let Some(pinned) = pin_at(&expr, ev.at) {
            let ts = ev.at;
            let times = if ts == 0 { vec![-1000, 0, 1000] } else { vec![-10 * ts, 0, ts / 5, ts, 10 * ts] };
            for t in times {
                cases.push((pinned.clone(), t));
            }
        }
        for (k, (e, t)) in cases.iter().enumerate() {
            let label = if k == 0 { String::new() } else { format!(" (with @ {}, evaluated at {}ms)", ev.at, t) };
            let res = match instant_query_with(&self.store, e, *t, &self.opts) {
                Ok(r) => r,
                Err(err) => {
                    return match self.check_failure(ev, &err) {
                        Outcome::Passed => continue,
                        Outcome::Failed(m) => Outcome::Failed(format!("{m}{label}")),
                        o => o,
                    };
                }
            };
            if ev.expect.fail.is_some() {
                return Outcome::Failed(format!("expected error evaluating query but got none{label}"));
            }
            if let Err(m) = self.check_annotations(ev, &res, &ev.expr) {
                return Outcome::Failed(format!("{m}{label}"));
            }
            let (s, en, st) = ev.range_vector.unwrap_or((ev.at, ev.at, 0));
            if let Err(m) = self.compare(ev, &res.value, s, en, st) {
                return Outcome::Failed(format!("{m}{label}"));
            }
            if ev.range_vector.is_some() || ev.string.is_some() || ev.expect.ordered {
                continue;
            }
            let src = e.to_string();
            if ["start()", "end()", "range()", "step()"].iter().any(|f| src.contains(f)) || ["start()", "end()", "range()", "step()"].iter().any(|f| ev.expr.contains(f)) {
                continue;
            }
            // The same query in range mode must agree at the middle step.
            let rr = match range_query_with(&self.store, e, t - 60_000, t + 60_000, 60_000, &self.opts) {
                Ok(r) => r,
                Err(err) => {
                    if let Some(f) = err.feature() {
                        return Outcome::Unsupported(f.to_string());
                    }
                    return Outcome::Failed(format!("error evaluating query in range mode: {}{label}", err.message));
                }
            };
            let Value::Matrix(m) = rr.value else { return Outcome::Failed("range query did not return a matrix".into()) };
            let as_vec = match &res.value {
                Value::Scalar { .. } => {
                    let v = m.first().and_then(|s| s.points.iter().find(|p| p.0 == *t)).map(|p| p.1).unwrap_or(f64::NAN);
                    Value::Scalar { t: *t, v }
                }
                _ => Value::Vector(m.iter().filter_map(|s| s.points.iter().find(|p| p.0 == *t).map(|p| super::value::Sample { labels: s.labels.clone(), t: *t, f: p.1 })).collect()),
            };
            if let Err(msg) = self.compare(ev, &as_vec, *t, *t, 0) {
                return Outcome::Failed(format!("range mode: {msg}{label}"));
            }
        }
        Outcome::Passed
    }
}

/// Pins every selector and subquery without `@` at `t` (except inside a
/// subquery that has one), as promqltest's step-invariance check does.
/// `None` when the query uses a function that depends on evaluation time.
fn pin_at(e: &Expr, t: i64) -> Option<Expr> {
    let mut unsafe_fn = false;
    e.walk(&mut |n| {
        if let ExprKind::Call(c) = &n.kind
            && functions::at_modifier_unsafe(c.func.name) {
                unsafe_fn = true;
            }
    });
    if unsafe_fn {
        return None;
    }
    let mut e = e.clone();
    fn go(e: &mut Expr, t: i64) {
        match &mut e.kind {
            ExprKind::Vector(vs) => {
                if vs.at.is_none() {
                    vs.at = Some(At::Timestamp(t));
                }
            }
            ExprKind::Matrix(m) => {
                if m.vs.at.is_none() {
                    m.vs.at = Some(At::Timestamp(t));
                }
            }
            ExprKind::Subquery(s) => {
                // Selectors inside a pinned subquery follow its own steps.
                if s.at.is_none() {
                    s.at = Some(At::Timestamp(t));
                }
            }
            ExprKind::Paren(x) | ExprKind::Neg(x) => go(x, t),
            ExprKind::Binary(b) => {
                go(&mut b.lhs, t);
                go(&mut b.rhs, t);
            }
            ExprKind::Aggregate(a) => {
                go(&mut a.expr, t);
                if let Some(p) = &mut a.param {
                    go(p, t);
                }
            }
            ExprKind::Call(c) => c.args.iter_mut().for_each(|a| go(a, t)),
            ExprKind::Number(_) | ExprKind::String(_) => {}
        }
    }
    go(&mut e, t);
    Some(e)
}

/// Runs one script's text and reports.
pub fn run_script(input: &str) -> FileReport {
    let mut rep = FileReport::default();
    let lines = lines_of(input);
    let mut r = Runner::new();
    let mut i = 0;
    let load_re = Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").expect("static regex");
    while i < lines.len() {
        let l = lines[i].clone();
        if l.is_empty() {
            i += 1;
            continue;
        }
        let cmd = l.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if cmd == "clear" {
            r = Runner::new();
        } else if cmd.starts_with("load") {
            let res = load_re.captures(&l).ok_or_else(|| format!("invalid load command {l:?}")).and_then(|c| {
                let nhcb = c.get(1).is_some();
                let interval = parse_duration(&c[2])?;
                r.load(&lines, &mut i, interval, nhcb)
            });
            if let Err(m) = res {
                rep.failed += 1;
                rep.failures.push(format!("line {}: {m}", i + 1));
                // Skip the rest of the block.
                while i + 1 < lines.len() && !lines[i + 1].is_empty() {
                    i += 1;
                }
            }
        } else if cmd.starts_with("eval") {
            match r.parse_eval(&lines, &mut i) {
                Err(m) => {
                    rep.failed += 1;
                    rep.failures.push(m);
                }
                Ok(ev) => {
                    let outcome = if ev.native_expected && !ev.series.iter().all(|s| !s.native) {
                        // The expected values are native histograms; run the
                        // query anyway: it must be rejected as unsupported.
                        match r.run_eval(&ev) {
                            Outcome::Unsupported(f) => Outcome::Unsupported(f),
                            _ => Outcome::Unsupported("native histograms".into()),
                        }
                    } else {
                        r.run_eval(&ev)
                    };
                    match outcome {
                        Outcome::Passed => rep.passed += 1,
                        Outcome::Unsupported(f) => {
                            if f == "native histograms" || r.touches_native(&ev) {
                                rep.native += 1;
                            }
                            rep.unsupported += 1;
                            *rep.features.entry(f).or_default() += 1;
                        }
                        Outcome::Failed(m) => {
                            rep.failed += 1;
                            let mut s = String::new();
                            let _ = write!(s, "line {}: {}\n    expr: {}\n    ", ev.line, m, ev.expr);
                            if let Some(v) = ev.scalar {
                                let _ = write!(s, "expected scalar {v}");
                            } else if ev.expect.fail.is_some() {
                                let _ = write!(s, "expected: an error");
                            } else {
                                let exp: Vec<String> = ev.series.iter().map(|e| format!("{} {:?}", e.labels, e.values)).collect();
                                let _ = write!(s, "expected: {}", exp.join("; "));
                            }
                            rep.failures.push(s);
                        }
                    }
                }
            }
        } else {
            rep.failed += 1;
            rep.failures.push(format!("line {}: invalid command {l:?}", i + 1));
        }
        i += 1;
    }
    rep
}

/// `obslab promqltest FILE...`: runs each script, prints one line per file
/// (`FILE: P passed, F failed, U unsupported (features: ...)`), each failure
/// with its expression, expected and actual values, and a final total.
/// Returns the process exit code: 1 if anything failed.
pub fn promqltest_main(args: &[String]) -> i32 {
    let (mut p, mut f, mut u, mut native) = (0, 0, 0, 0);
    let mut out = String::new();
    if args.is_empty() {
        eprintln!("usage: obslab promqltest FILE...");
        return 2;
    }
    for path in args {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(out, "{path}: cannot read: {e}");
                f += 1;
                continue;
            }
        };
        let rep = run_script(&text);
        for fail in &rep.failures {
            let _ = writeln!(out, "FAIL {path}: {fail}");
        }
        let feats: Vec<String> = rep.features.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
        let _ = write!(out, "{path}: {} passed, {} failed, {} unsupported", rep.passed, rep.failed, rep.unsupported);
        if !feats.is_empty() {
            let _ = write!(out, " (features: {})", feats.join(", "));
        }
        out.push('\n');
        p += rep.passed;
        f += rep.failed;
        u += rep.unsupported;
        native += rep.native;
    }
    let float_evals = p + f + u - native;
    let pct = if float_evals == 0 { 100.0 } else { 100.0 * p as f64 / float_evals as f64 };
    let _ = writeln!(out, "{p} passed, {f} failed, {u} unsupported ({pct:.1}% of {float_evals} float evals supported and passing)");
    print!("{out}");
    if f > 0 { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_series_values() {
        let (l, v, n) = parse_series("m{a=\"b\"} 1+2x2 _ stale -1 _x2 1x1").unwrap();
        assert_eq!(l.to_string(), "m{a=\"b\"}");
        assert!(!n);
        assert_eq!(v.len(), 3 + 1 + 1 + 1 + 2 + 2);
        assert_eq!(v[..3], [Some(1.0), Some(3.0), Some(5.0)]);
        assert!(is_stale(v[4].unwrap()));
        let (_, v, n) = parse_series("h {{schema:0 sum:1 count:1}}x2 3").unwrap();
        assert!(n);
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn runs_a_small_script() {
        let script = "load 5m\n  http_requests_total{job=\"a\"} 0+10x10\n  http_requests_total{job=\"b\"} 0+20x10\n\neval instant at 50m sum(http_requests_total)\n  {} 300\n\neval range from 0 to 10m step 5m rate(http_requests_total{job=\"a\"}[10m])\n  {job=\"a\"} _ 0.01666666667 0.03333333333\n\neval instant at 50m info(x)\n  {} 1\n";
        let rep = run_script(script);
        assert_eq!((rep.passed, rep.failed, rep.unsupported), (2, 0, 1), "{:?}", rep.failures);
    }
}
