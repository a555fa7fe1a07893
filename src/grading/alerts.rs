//! Alert rules graded by replaying history, the way the SRE Workbook's
//! chapter "Alerting on SLOs" compares alerting strategies: every rule is
//! evaluated over the whole simulated month, its firing intervals are
//! matched against the incidents of the ground truth, and each rule (and the
//! rule set as a whole) gets precision, recall, time to detect, time to
//! reset and a score. This module owns the rule text format
//! ([`parse_rules`]), the replay ([`replay`]), the scoring ([`Outcome`]),
//! the reference rules ([`naive_threshold_rule`], [`multiwindow_rules`]) and
//! the [`grade`] of an answer.
//!
//! # The answer format
//!
//! One or more alerting rules, written as in a Prometheus rule file but
//! without the `groups:`/`rules:` around them (those lines are skipped if
//! pasted):
//!
//! ```text
//! alert: CheckoutFastBurn
//! expr: sum(rate(errors[1h])) / sum(rate(requests[1h])) > 14.4 * 0.001
//!   and sum(rate(errors[5m])) / sum(rate(requests[5m])) > 14.4 * 0.001
//! for: 2m
//! labels:
//!   severity: page
//!
//! alert: CheckoutSlowBurn
//! expr: ...
//! ```
//!
//! - Fields: `alert` (the name; optional), `expr` (PromQL, required),
//!   `for` and `keep_firing_for` (Prometheus durations, default 0),
//!   `labels` and `annotations` (an indented block of `name: value` lines
//!   or an inline `{name: value}`; labels are kept, annotations ignored).
//! - A rule may start with `- ` (a YAML list item). `expr` may continue on
//!   the following lines (any line that is not another `field:` at the
//!   rule's indentation) or use a block scalar (`expr: |`). A value wholly
//!   in single or double quotes is unquoted.
//! - Rules are separated by a blank line, a `---` line, or a new `alert:`
//!   / `- ` item. Lines starting with `#` are comments.
//! - A text whose first line is not a `field:` line is one bare PromQL
//!   expression: an unnamed rule with `for: 0`.
//!
//! Errors are [`AnswerError`]s whose span is a byte range of the whole
//! answer; PromQL errors are moved from the expression to the answer.
//!
//! # The replay
//!
//! Each rule is one PromQL range query from the first to the last minute of
//! the history at [`ReplayOptions::step_ms`] (1 minute, Prometheus's default
//! evaluation interval: detection times are exact to the minute, and the
//! 43,200 steps of a month cost ~20 ms per error ratio in the rule, because
//! `rate()` over a counter with no reset costs the same for `[5m]` as for
//! `[3d]`). The first hour is skipped ([`ReplayOptions::warm_up_ms`]).
//! Every series the expression returns at a step is an active alert of
//! its label set, whatever its value (a scalar result is one alert with no
//! labels), exactly as in Prometheus's rule manager: an alert is pending
//! from the first step it appears, fires once it has been active for
//! `for`, is resolved at the first step it is missing (or, with
//! `keep_firing_for`, once it has been missing that long) and a pending
//! alert that goes missing is dropped. A rule is firing while any of its
//! label sets fires; its firing intervals are the union of theirs.
//! Expressions whose windowed functions would read more than
//! [`ReplayOptions::max_window_samples`] samples over the month (e.g.
//! `quantile_over_time(0.99, x[3d])` at every minute) are refused before
//! they run, with the span of the function.
//!
//! # Matching with the ground truth
//!
//! - The incidents that should alert (**significant** incidents, see
//!   [`is_significant`]) are those that count against the SLO and burn a
//!   real share of the budget: `fast_burn` (an outage of minutes, ~30% of
//!   the month's budget) and `slow_burn` (an elevated error ratio for
//!   days, ~50%). Blips (a few minutes, under 2% of the budget each),
//!   planned maintenance (excluded from the SLO) and client errors (4xx,
//!   not failures of the service) should not alert.
//! - A firing interval **detects** a significant incident when it starts
//!   between the incident's start and its end plus
//!   [`ReplayOptions::attribution_grace_ms`] (1 hour: a late page is
//!   still about that incident). Any other firing interval is a **false
//!   positive**, attributed for feedback to the blip or maintenance window
//!   it started in (or up to 6 hours after), or to noise. An alert already
//!   firing when an incident starts does not detect it: nobody is paged
//!   anew.
//! - Planned maintenance: its requests fail with 503 and nothing in the
//!   metrics marks them as planned, so every rule on the SLI fires there,
//!   the workbook's set included. By default that is a false positive
//!   (nobody should be paged for it); with
//!   [`ReplayOptions::maintenance_is_false_positive`] off, alerts that
//!   start during the window are treated as silenced and count neither
//!   way.
//! - **Time to detect**: first detecting interval's start − incident start.
//!   **Time to reset**: the end of the last detecting interval − incident
//!   end (negative if the alert stopped before the incident did; an
//!   interval still firing at the end of the month is cut there and
//!   flagged).
//!
//! # Scoring
//!
//! - **precision** P = detected incidents / (detected incidents + false
//!   positives). Several intervals that detect the same incident (a rule
//!   that flaps during a slow burn) count once: they are one incident.
//!   For a rule set, false positives that overlap in time (several rules
//!   firing for the same blip) count once: one interruption.
//! - **recall** R = detected significant incidents / significant incidents.
//! - **timeliness** of a detected incident q = d × r, where d = 1 if the
//!   time to detect is within the time the incident takes to burn
//!   [`ReplayOptions::detect_budget_share`] (10%) of the SLO window's budget
//!   at its burn rate (at least [`ReplayOptions::min_detect_ms`], 5
//!   minutes), else that time / time to detect; and r = 1 if it reset
//!   within [`ReplayOptions::reset_allowance_ms`] (6 hours, the longest
//!   short window of the workbook's set), else 0.5 + 0.5 × allowance /
//!   reset. A missed incident has q = 0.
//! - **score** = the harmonic mean of P and the timely recall
//!   Rt = Σq / significant incidents: 2·P·Rt / (P + Rt), in 0..=1. A rule
//!   that never fires scores 0 (no precision, no recall); a rule firing all
//!   month is one long false positive that detects nothing and scores 0.
//!   With no significant incident in the history, the score is
//!   1 / (1 + false positives).

use super::{AnswerError, Grade, Verdict};
use crate::charts::timefmt;
use crate::query::diag::QueryError;
use crate::query::promql::ast::{ExprKind, ValueType};
use crate::query::promql::functions::Func;
use crate::query::promql::{self, EvalOptions, Expr, Value};
use crate::sim::truth::HistoryIncidentTruth;
use crate::sim::Run;
use crate::store::SeriesStore;
use crate::telemetry::metric::escape_label_value;
use crate::telemetry::semconv as sc;
use std::ops::Range;

/// The availability objective of the SLO scenario ("99.9% for checkout");
/// the scenario file does not carry it.
pub const DEFAULT_OBJECTIVE: f64 = 0.999;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

// ------------------------------------------------------------------ rules

/// One alerting rule of an answer.
#[derive(Clone, Debug)]
pub struct AlertRule {
    /// `alert:`; `None` for a bare expression or a rule written without it.
    pub name: Option<String>,
    /// The PromQL as written (a slice of the answer).
    pub expr: String,
    /// The parsed, type-checked expression (an instant vector or a scalar).
    pub query: Expr,
    /// `for:` in milliseconds.
    pub for_ms: i64,
    /// `keep_firing_for:` in milliseconds.
    pub keep_firing_for_ms: i64,
    /// `labels:` in the order written.
    pub labels: Vec<(String, String)>,
    /// Byte range of the whole rule in the answer.
    pub span: Range<usize>,
    /// Byte range of `expr` in the answer.
    pub expr_span: Range<usize>,
}

impl AlertRule {
    /// The name to show: `alert:`, else `rule N` (1-based position).
    pub fn display_name(&self, index: usize) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("rule {}", index + 1),
        }
    }
    /// The `severity` label, if any.
    pub fn severity(&self) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == "severity").map(|(_, v)| v.as_str())
    }
    /// The rule in the answer format (what a model answer shows).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some(n) = &self.name {
            s.push_str(&format!("alert: {n}\n"));
        }
        s.push_str(&format!("expr: {}\n", self.expr));
        if self.for_ms > 0 {
            s.push_str(&format!("for: {}\n", prom_duration(self.for_ms)));
        }
        if self.keep_firing_for_ms > 0 {
            s.push_str(&format!("keep_firing_for: {}\n", prom_duration(self.keep_firing_for_ms)));
        }
        if !self.labels.is_empty() {
            s.push_str("labels:\n");
            for (k, v) in &self.labels {
                s.push_str(&format!("  {k}: {v}\n"));
            }
        }
        s
    }
}

/// Renders rules in the answer format, separated by blank lines.
pub fn rules_to_text(rules: &[AlertRule]) -> String {
    rules.iter().map(AlertRule::to_text).collect::<Vec<_>>().join("\n")
}

/// Milliseconds as a Prometheus duration (`1h30m`, `90s`, `0s`).
fn prom_duration(ms: i64) -> String {
    if ms <= 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut left = ms;
    for (unit, len) in [("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", 1000), ("ms", 1)] {
        if left >= len {
            out.push_str(&format!("{}{unit}", left / len));
            left %= len;
        }
    }
    out
}

/// One line of the answer: byte offsets of its text (without the line
/// break) and of its first non-blank byte.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    /// Bytes of leading spaces and tabs.
    indent: usize,
}

fn lines_of(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            out.push(make_line(text, start, i));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(make_line(text, start, text.len()));
    }
    out
}

fn make_line(text: &str, start: usize, mut end: usize) -> Line {
    if end > start && text.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    let indent = text.as_bytes()[start..end].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    Line { start, end, indent }
}

/// A `field: value` line: absolute byte offsets.
#[derive(Clone, Copy, Debug)]
struct KeyLine {
    /// Whether the line starts a YAML list item (`- alert: ...`).
    dash: bool,
    /// The field name's range, and so its column.
    key: (usize, usize),
    /// The value's range, trimmed of blanks (empty when there is none).
    value: (usize, usize),
}

fn key_line(text: &str, l: Line) -> Option<KeyLine> {
    let b = text.as_bytes();
    let mut i = l.start + l.indent;
    let mut dash = false;
    if i < l.end && b[i] == b'-' && (i + 1 == l.end || b[i + 1] == b' ' || b[i + 1] == b'\t') {
        dash = true;
        i += 1;
        while i < l.end && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
    }
    let ks = i;
    if i < l.end && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
        i += 1;
        while i < l.end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
    } else {
        return None;
    }
    let ke = i;
    if i >= l.end || b[i] != b':' {
        return None;
    }
    i += 1;
    if i < l.end && b[i] != b' ' && b[i] != b'\t' {
        // `job:errors:rate5m` is a metric name, not a field.
        return None;
    }
    let (vs, ve) = trim_range(text, i, l.end);
    Some(KeyLine { dash, key: (ks, ke), value: (vs, ve) })
}

/// The range without leading and trailing ASCII blanks.
fn trim_range(text: &str, mut a: usize, mut b: usize) -> (usize, usize) {
    let s = text.as_bytes();
    while a < b && s[a].is_ascii_whitespace() {
        a += 1;
    }
    while b > a && s[b - 1].is_ascii_whitespace() {
        b -= 1;
    }
    (a, b)
}

/// The range inside matching quotes, if the whole value is quoted.
fn unquote(text: &str, (a, b): (usize, usize)) -> (usize, usize) {
    let s = text.as_bytes();
    if b >= a + 2 && (s[a] == b'"' || s[a] == b'\'') && s[b - 1] == s[a] {
        (a + 1, b - 1)
    } else {
        (a, b)
    }
}

/// Fields a rule may have.
const FIELDS: &str = "alert, expr, for, keep_firing_for, labels or annotations";

/// Rule-file structure around the rules, skipped when pasted.
fn is_structure_key(k: &str) -> bool {
    matches!(k, "groups" | "rules" | "name" | "interval" | "limit" | "query_offset")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    None,
    Expr,
    Labels,
    Annotations,
}

/// A rule being read.
struct Draft {
    start: usize,
    end: usize,
    /// Column of the rule's fields (after `- `).
    key_col: usize,
    /// The first field's span, for errors about the whole rule.
    head: (usize, usize),
    name: Option<String>,
    /// The `expr:` key's span and the expression's range so far (`None`
    /// until its first byte is seen, for block scalars).
    expr_key: Option<(usize, usize)>,
    expr: Option<(usize, usize)>,
    for_ms: Option<i64>,
    keep_ms: Option<i64>,
    labels: Vec<(String, String)>,
    seen: Vec<String>,
    block: Block,
}

impl Draft {
    fn new(line: Line, k: &KeyLine) -> Draft {
        Draft {
            start: line.start + line.indent,
            end: line.end,
            key_col: k.key.0 - line.start,
            head: k.key,
            name: None,
            expr_key: None,
            expr: None,
            for_ms: None,
            keep_ms: None,
            labels: Vec::new(),
            seen: Vec::new(),
            block: Block::None,
        }
    }
    fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Reads the rules of an answer (see the module docs for the format).
/// Every rule has a non-empty, type-checked expression; the error's span is
/// the part of `text` that is wrong.
pub fn parse_rules(text: &str) -> Result<Vec<AlertRule>, AnswerError> {
    let lines = lines_of(text);
    let meaningful = |l: &Line| {
        let t = text[l.start + l.indent..l.end].trim_end();
        !t.is_empty() && !t.starts_with('#') && t != "---"
    };
    let Some(first) = lines.iter().find(|l| meaningful(l)) else {
        return Err(AnswerError::new(0..text.len(), "expected an alert rule (alert:, expr:, for:) or a PromQL expression"));
    };
    if key_line(text, *first).is_none() {
        // A bare expression: the whole answer.
        let (a, b) = trim_range(text, 0, text.len());
        return Ok(vec![finish_expr(text, None, (a, b), 0, 0, Vec::new(), (a, b))?]);
    }
    let mut rules = Vec::new();
    let mut cur: Option<Draft> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let body = &text[line.start + line.indent..line.end];
        let trimmed = body.trim_end();
        if trimmed == "---" {
            if let Some(d) = cur.take() {
                rules.push(finish(text, d)?);
            }
            continue;
        }
        if trimmed.is_empty() {
            // A blank line ends the rule, unless an expression goes on below it.
            let goes_on = cur.as_ref().is_some_and(|d| {
                d.block == Block::Expr && lines[i..].iter().find(|l| meaningful(l)).is_some_and(|n| n.indent > d.key_col && key_line(text, *n).is_none_or(|k| k.key.0 - n.start > d.key_col))
            });
            if !goes_on && let Some(d) = cur.take() {
                rules.push(finish(text, d)?);
            }
            continue;
        }
        let kl = key_line(text, line);
        if trimmed.starts_with('#') {
            continue;
        }
        // Lines inside a block of the current rule.
        if let Some(d) = &mut cur {
            let col = kl.map(|k| k.key.0 - line.start).unwrap_or(line.indent);
            let rule_level = kl.is_some_and(|k| col <= d.key_col || k.dash);
            match d.block {
                Block::Expr if !rule_level => {
                    let (a, _) = d.expr.unwrap_or((line.start + line.indent, line.end));
                    d.expr = Some((a, line.end));
                    d.end = line.end;
                    continue;
                }
                Block::Labels if line.indent > d.key_col && !rule_level => {
                    let Some(k) = kl.filter(|k| !k.dash) else {
                        return Err(AnswerError::new(line.start + line.indent..line.end, "expected a label as `name: value` under labels:"));
                    };
                    let (vs, ve) = unquote(text, k.value);
                    d.labels.push((text[k.key.0..k.key.1].to_string(), text[vs..ve].to_string()));
                    d.end = line.end;
                    continue;
                }
                Block::Annotations if line.indent > d.key_col && !rule_level => {
                    d.end = line.end;
                    continue;
                }
                _ => {}
            }
        }
        let Some(k) = kl else {
            let (a, b) = trim_range(text, line.start, line.end);
            return Err(AnswerError::new(a..b, format!("expected a field such as `expr: ...` ({FIELDS})")));
        };
        let key = &text[k.key.0..k.key.1];
        let starts_new = cur.as_ref().is_some_and(|d| !d.is_empty() && (k.dash || (key == "alert" && d.seen.iter().any(|s| s == "alert"))));
        if starts_new && let Some(d) = cur.take() {
            rules.push(finish(text, d)?);
        }
        if is_structure_key(key) && cur.as_ref().is_none_or(Draft::is_empty) {
            // `groups:`, `- name: slo`, `rules:` around pasted rules.
            cur = None;
            continue;
        }
        let d = cur.get_or_insert_with(|| Draft::new(line, &k));
        if d.is_empty() {
            // The first field fixes the rule's column.
            *d = Draft::new(line, &k);
        }
        if d.seen.iter().any(|s| s == key) {
            return Err(AnswerError::new(k.key.0..k.key.1, format!("`{key}:` appears twice in this rule; separate rules with a blank line or ---")));
        }
        d.end = line.end;
        d.block = Block::None;
        let (vs, ve) = unquote(text, k.value);
        let value = &text[vs..ve];
        match key {
            "alert" => {
                if value.is_empty() {
                    return Err(AnswerError::new(k.key.0..k.value.1.max(k.key.1 + 1).min(text.len()), "alert: needs a name, e.g. `alert: CheckoutFastBurn`"));
                }
                d.name = Some(value.to_string());
            }
            "expr" => {
                d.expr_key = Some(k.key);
                d.block = Block::Expr;
                let v = &text[k.value.0..k.value.1];
                d.expr = if v.is_empty() || matches!(v, "|" | "|-" | "|+" | ">" | ">-" | ">+") { None } else { Some((vs, ve)) };
            }
            "for" | "keep_firing_for" => {
                let ms = promql::parser::parse_duration(value).map_err(|_| {
                    let span = if vs == ve { k.key.0..k.key.1 } else { vs..ve };
                    AnswerError::new(span, format!("{key}: expects a duration such as 5m, 1h or 0s, found {value:?}"))
                })?;
                if key == "for" {
                    d.for_ms = Some(ms);
                } else {
                    d.keep_ms = Some(ms);
                }
            }
            "labels" | "annotations" => {
                if value.is_empty() {
                    d.block = if key == "labels" { Block::Labels } else { Block::Annotations };
                } else if value.starts_with('{') && value.ends_with('}') {
                    if key == "labels" {
                        d.labels.extend(inline_map(text, vs + 1, ve - 1)?);
                    }
                } else {
                    return Err(AnswerError::new(vs..ve, format!("{key}: expects indented `name: value` lines below it or `{{name: value}}`")));
                }
            }
            "record" => {
                return Err(AnswerError::new(k.key.0..k.key.1, "this is a recording rule; the replay grades alerting rules (alert:, expr:, for:)"));
            }
            _ => {
                return Err(AnswerError::new(k.key.0..k.key.1, format!("unknown field `{key}`; an alert rule has {FIELDS}")));
            }
        }
        d.seen.push(key.to_string());
    }
    if let Some(d) = cur.take() {
        rules.push(finish(text, d)?);
    }
    if rules.is_empty() {
        return Err(AnswerError::new(0..text.len(), "expected at least one alert rule with an expr:"));
    }
    Ok(rules)
}

/// `{a: b, c: "d"}` between `a..b` (the braces excluded).
fn inline_map(text: &str, a: usize, b: usize) -> Result<Vec<(String, String)>, AnswerError> {
    let mut out = Vec::new();
    let mut start = a;
    for (i, c) in text[a..b].char_indices().map(|(i, c)| (a + i, c)).chain(std::iter::once((b, ','))) {
        if c != ',' {
            continue;
        }
        let (ps, pe) = trim_range(text, start, i);
        start = i + 1;
        if ps == pe {
            continue;
        }
        let Some(colon) = text[ps..pe].find(':') else {
            return Err(AnswerError::new(ps..pe, "expected `name: value`"));
        };
        let (ks, ke) = unquote(text, trim_range(text, ps, ps + colon));
        let (vs, ve) = unquote(text, trim_range(text, ps + colon + 1, pe));
        out.push((text[ks..ke].to_string(), text[vs..ve].to_string()));
    }
    Ok(out)
}

fn finish(text: &str, d: Draft) -> Result<AlertRule, AnswerError> {
    let Some(key) = d.expr_key else {
        let what = d.name.as_deref().map(|n| format!("rule `{n}`")).unwrap_or_else(|| "this rule".into());
        return Err(AnswerError::new(d.head.0..d.head.1, format!("{what} has no expr: (the PromQL that makes it fire)")));
    };
    let Some(range) = d.expr.map(|(a, b)| trim_range(text, a, b)).filter(|(a, b)| a < b) else {
        return Err(AnswerError::new(key.0..key.1, "expr: is empty; write the PromQL that makes the alert fire"));
    };
    finish_expr(text, d.name, range, d.for_ms.unwrap_or(0), d.keep_ms.unwrap_or(0), d.labels, (d.start, d.end))
}

fn finish_expr(text: &str, name: Option<String>, (a, b): (usize, usize), for_ms: i64, keep_firing_for_ms: i64, labels: Vec<(String, String)>, span: (usize, usize)) -> Result<AlertRule, AnswerError> {
    let src = &text[a..b];
    let query = promql::parse(src).map_err(|e| move_error(&e, src, a, ""))?;
    match query.value_type() {
        ValueType::Vector | ValueType::Scalar => {}
        ValueType::Matrix => {
            return Err(AnswerError::new(a..b, "an alert expression must be an instant vector, not a range vector: wrap `x[5m]` in a function such as rate()"));
        }
        ValueType::String => return Err(AnswerError::new(a..b, "an alert expression must be an instant vector, not a string")),
    }
    Ok(AlertRule { name, expr: src.to_string(), query, for_ms, keep_firing_for_ms, labels, span: span.0..span.1.max(b), expr_span: a..b })
}

/// A query error moved from the expression `src` (which starts at byte
/// `offset` of the answer) to the answer; an error without a position
/// covers the whole expression.
fn move_error(e: &QueryError, src: &str, offset: usize, prefix: &str) -> AnswerError {
    let (mut s, mut t) = if e.span.start == 0 && e.span.end == 0 { (0, src.len()) } else { (e.span.start.min(src.len()), e.span.end.min(src.len())) };
    // Engine spans are byte offsets; keep them on the answer's characters.
    while s > 0 && !src.is_char_boundary(s) {
        s -= 1;
    }
    while t < src.len() && !src.is_char_boundary(t) {
        t += 1;
    }
    AnswerError::new(offset + s..offset + t.max(s), format!("{prefix}{}", e.message))
}

// ------------------------------------------------------------- replay

/// How the replay evaluates and scores; the defaults are documented in the
/// module docs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Evaluation interval (Prometheus's `evaluation_interval`).
    pub step_ms: i64,
    /// The SLO's objective (0.999 for 99.9%).
    pub objective: f64,
    /// The SLO window the budget is defined over.
    pub slo_window_ms: i64,
    /// Share of the window's budget an incident may burn before it is
    /// detected without penalty.
    pub detect_budget_share: f64,
    /// The least time to detect that is never penalised.
    pub min_detect_ms: i64,
    /// How long after an incident's end a newly firing alert still counts
    /// as raised for it.
    pub attribution_grace_ms: i64,
    /// How long after an incident's end an alert may keep firing without
    /// penalty; also how long after a blip or a maintenance window a false
    /// positive is said to be about it (feedback only).
    pub reset_allowance_ms: i64,
    /// Evaluations skipped at the start of the history: there the windows
    /// hold minutes of data, so one failed request makes a 3-day ratio
    /// look like an outage, which a Prometheus with a longer past would
    /// not see.
    pub warm_up_ms: i64,
    /// Whether an alert that fires during planned maintenance is a false
    /// positive (the default) or is treated as silenced, as an
    /// Alertmanager silence for the announced window would (then it counts
    /// neither way, and is still listed).
    pub maintenance_is_false_positive: bool,
    /// The most samples the windowed functions of one rule may read over
    /// the whole replay (window functions other than `rate`, `increase`
    /// and the like read their whole window at every step).
    pub max_window_samples: f64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            step_ms: MINUTE,
            objective: DEFAULT_OBJECTIVE,
            slo_window_ms: 30 * DAY,
            detect_budget_share: 0.10,
            min_detect_ms: 5 * MINUTE,
            attribution_grace_ms: HOUR,
            reset_allowance_ms: 6 * HOUR,
            warm_up_ms: HOUR,
            maintenance_is_false_positive: true,
            max_window_samples: 3e8,
        }
    }
}

/// An incident of the history, in Unix milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// `fast_burn`, `slow_burn`, `blip` or `maintenance`.
    pub kind: &'static str,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The error ratio the incident adds to the baseline.
    pub error_ratio: f64,
    /// Whether it should alert ([`is_significant`]).
    pub significant: bool,
    /// Its burn rate: SLI error ratio (baseline + incident) / error budget
    /// ratio; 0 for incidents that do not count against the SLO.
    pub burn_rate: f64,
    /// Detection within this time is not penalised.
    pub detect_within_ms: i64,
}

/// Whether an incident of the history should page or open a ticket: it
/// counts against the SLO and is a fast or slow burn.
pub fn is_significant(h: &HistoryIncidentTruth) -> bool {
    h.counts && matches!(h.kind, "fast_burn" | "slow_burn")
}

/// What a firing interval is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribution {
    /// It detects this significant incident (index into [`Replay::incidents`]).
    Detects(usize),
    /// A false positive that started during (or shortly after) this
    /// incident that should not alert: a blip or planned maintenance.
    During(usize),
    /// A false positive with no incident near it.
    Noise,
}

/// A firing interval of a rule: from the evaluation at which it fired to
/// the one at which it was resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub fired_at_ms: i64,
    /// The end of the replay when it was still firing then.
    pub resolved_at_ms: i64,
    /// Still firing at the end of the replay.
    pub open: bool,
    pub attribution: Attribution,
}

/// How one significant incident was handled.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Index into [`Replay::incidents`].
    pub incident: usize,
    /// First detecting firing − incident start; `None` when missed.
    pub time_to_detect_ms: Option<i64>,
    /// End of the last detecting firing − incident end.
    pub time_to_reset_ms: Option<i64>,
    /// The last detecting alert was still firing at the end of the replay.
    pub reset_censored: bool,
    /// q in 0..=1 (see the module docs); 0 when missed.
    pub timeliness: f64,
}

/// Precision, recall, timing and score of a rule or a rule set.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Firing intervals (for a set: over all its rules).
    pub alerts: usize,
    /// False positives (for a set: overlapping ones count once).
    pub false_positives: usize,
    /// Significant incidents detected, and how many there were.
    pub detected: usize,
    pub significant: usize,
    /// `None` when nothing fired.
    pub precision: Option<f64>,
    /// `None` when the history has no significant incident.
    pub recall: Option<f64>,
    /// One per significant incident, in time order.
    pub detections: Vec<Detection>,
    /// Time spent firing (for a set: any of its rules).
    pub firing_ms: i64,
    /// 0..=1.
    pub score: f64,
}

/// One rule's replay.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleReplay {
    pub name: String,
    pub severity: Option<String>,
    pub alerts: Vec<Alert>,
    pub outcome: Outcome,
}

/// A replay of a rule set over a run's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// First and last evaluation (Unix ms) and the interval.
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    /// The history's incidents in time order.
    pub incidents: Vec<Incident>,
    /// One per rule, in the answer's order.
    pub rules: Vec<RuleReplay>,
    /// The rule set as a whole.
    pub combined: Outcome,
}

/// Replays `rules` over the run's history with the default options.
pub fn replay(run: &Run, rules: &[AlertRule]) -> Result<Replay, AnswerError> {
    replay_with(run, rules, &ReplayOptions::default())
}

/// Replays `rules` over the run's history. Errors (a rule too costly to
/// replay, an evaluation error such as a many-to-many match) carry the
/// span of the rule's expression or the part of it at fault.
pub fn replay_with(run: &Run, rules: &[AlertRule], opts: &ReplayOptions) -> Result<Replay, AnswerError> {
    let step = opts.step_ms.max(1000);
    let origin = run.telemetry.start_unix_ms;
    let end = origin + run.model.duration.micros() / 1000;
    let start = (origin + opts.warm_up_ms.max(step)).min(end);
    let steps = ((end - start) / step) as usize + 1;
    let incidents = incidents_of(run, opts);
    let eval = EvalOptions {
        max_points_per_series: steps as i64 + 1,
        // Window reads of rate() cost nothing per sample; the windowed
        // functions that do are bounded by `max_window_samples` below.
        max_samples: u64::MAX / 4,
        default_subquery_step_ms: step,
        ..EvalOptions::default()
    };
    let scrape_ms = (run.model.scrape_interval.micros() / 1000).max(1);
    let mut out = Vec::with_capacity(rules.len());
    for (ri, rule) in rules.iter().enumerate() {
        let name = rule.display_name(ri);
        let cost = window_cost(&rule.query, &run.telemetry.series, steps as f64, step, end - start, scrape_ms);
        if cost.cost > opts.max_window_samples {
            let span = cost.worst.unwrap_or(0..0);
            let span = rule.expr_span.start + span.start..rule.expr_span.start + span.end;
            return Err(AnswerError::new(
                if span.is_empty() { rule.expr_span.clone() } else { span },
                format!(
                    "{name}: this would read about {:.1e} samples to replay a month at {}-steps (the limit is {:.0e}); use rate() or increase(), or a shorter window",
                    cost.cost,
                    prom_duration(step),
                    opts.max_window_samples
                ),
            ));
        }
        let res = promql::range_query_with(&run.telemetry.series, &rule.query, start, end, step, &eval).map_err(|e| move_error(&e, &rule.expr, rule.expr_span.start, &format!("{name}: ")))?;
        let Value::Matrix(m) = res.value else {
            return Err(AnswerError::new(rule.expr_span.clone(), format!("{name}: the expression did not return a series over time")));
        };
        let mut intervals = Vec::new();
        let mut present = vec![false; steps];
        for s in &m {
            present.iter_mut().for_each(|p| *p = false);
            for &(t, _) in &s.points {
                if t >= start && t <= end && (t - start) % step == 0 {
                    present[((t - start) / step) as usize] = true;
                }
            }
            intervals.extend(firing_intervals(&present, start, step, rule.for_ms, rule.keep_firing_for_ms));
        }
        let alerts: Vec<Alert> = merge(intervals).into_iter().map(|(a, b, open)| Alert { fired_at_ms: a, resolved_at_ms: b, open, attribution: attribute(a, &incidents, opts) }).collect();
        let outcome = outcome(&[&alerts], &incidents, opts);
        out.push(RuleReplay { name, severity: rule.severity().map(str::to_string), alerts, outcome });
    }
    let all: Vec<&[Alert]> = out.iter().map(|r| r.alerts.as_slice()).collect();
    let combined = outcome(&all, &incidents, opts);
    Ok(Replay { start_ms: start, end_ms: end, step_ms: step, incidents, rules: out, combined })
}

fn incidents_of(run: &Run, opts: &ReplayOptions) -> Vec<Incident> {
    let origin = run.truth.start_unix_ms;
    let baseline = run.model.history.as_ref().map(|h| h.error_ratio).unwrap_or(0.0);
    let budget = (1.0 - opts.objective).max(1e-12);
    let mut v: Vec<Incident> = run
        .truth
        .history
        .iter()
        .map(|h| {
            let burn_rate = if h.counts { (baseline + h.error_ratio) / budget } else { 0.0 };
            let to_burn = if burn_rate > 0.0 { opts.detect_budget_share * opts.slo_window_ms as f64 / burn_rate } else { 0.0 };
            Incident {
                kind: h.kind,
                start_ms: origin + h.start.0.div_euclid(1000),
                end_ms: origin + h.end.0.div_euclid(1000),
                error_ratio: h.error_ratio,
                significant: is_significant(h),
                burn_rate,
                detect_within_ms: (to_burn.min(1e15) as i64).max(opts.min_detect_ms),
            }
        })
        .collect();
    crate::sort::sort_by_key(&mut v, |i| i.start_ms);
    v
}

/// Prometheus's alerting state machine over one label set's presence at
/// each evaluation: (fired at, resolved at, still firing at the end).
fn firing_intervals(present: &[bool], start: i64, step: i64, for_ms: i64, keep_ms: i64) -> Vec<(i64, i64, bool)> {
    #[derive(PartialEq)]
    enum State {
        Inactive,
        Pending,
        Firing,
    }
    let mut out = Vec::new();
    let mut state = State::Inactive;
    let (mut active_at, mut fired_at) = (0i64, 0i64);
    let mut keep_since: Option<i64> = None;
    for (i, &p) in present.iter().enumerate() {
        let t = start + i as i64 * step;
        if p {
            if state == State::Inactive {
                state = State::Pending;
                active_at = t;
            }
            keep_since = None;
        } else {
            match state {
                State::Inactive => continue,
                State::Pending => {
                    state = State::Inactive;
                    continue;
                }
                State::Firing => {
                    let since = *keep_since.get_or_insert(t);
                    if !(keep_ms > 0 && t - since < keep_ms) {
                        out.push((fired_at, t, false));
                        state = State::Inactive;
                        keep_since = None;
                        continue;
                    }
                }
            }
        }
        if state == State::Pending && t - active_at >= for_ms {
            state = State::Firing;
            fired_at = t;
        }
    }
    if state == State::Firing {
        let end = start + present.len().saturating_sub(1) as i64 * step;
        out.push((fired_at, end, true));
    }
    out
}

/// The union of intervals, in time order; touching intervals join.
fn merge(mut v: Vec<(i64, i64, bool)>) -> Vec<(i64, i64, bool)> {
    crate::sort::sort_by_key(&mut v, |x| (x.0, x.1));
    let mut out: Vec<(i64, i64, bool)> = Vec::with_capacity(v.len());
    for (a, b, open) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => {
                if b > last.1 {
                    last.1 = b;
                    last.2 = open;
                } else if b == last.1 {
                    last.2 |= open;
                }
            }
            _ => out.push((a, b, open)),
        }
    }
    out
}

fn attribute(fired_at: i64, incidents: &[Incident], opts: &ReplayOptions) -> Attribution {
    let within = |i: &Incident| i.start_ms <= fired_at && fired_at <= i.end_ms + opts.attribution_grace_ms;
    if let Some(k) = incidents.iter().rposition(|i| i.significant && within(i)) {
        return Attribution::Detects(k);
    }
    let after = |i: &Incident| i.start_ms <= fired_at && fired_at <= i.end_ms + opts.reset_allowance_ms.max(opts.attribution_grace_ms);
    match incidents.iter().rposition(|i| !i.significant && after(i)) {
        Some(k) => Attribution::During(k),
        None => Attribution::Noise,
    }
}

/// Scores the alerts of one rule (one slice) or a rule set (one per rule).
fn outcome(rules: &[&[Alert]], incidents: &[Incident], opts: &ReplayOptions) -> Outcome {
    let mut detections = Vec::new();
    for (k, inc) in incidents.iter().enumerate().filter(|(_, i)| i.significant) {
        let mine = rules.iter().flat_map(|r| r.iter()).filter(|a| a.attribution == Attribution::Detects(k));
        let mut first: Option<i64> = None;
        let mut last: Option<(i64, bool)> = None;
        for a in mine {
            first = Some(first.map_or(a.fired_at_ms, |f| f.min(a.fired_at_ms)));
            if last.is_none_or(|(e, _)| a.resolved_at_ms > e) {
                last = Some((a.resolved_at_ms, a.open));
            } else if let Some((e, o)) = &mut last
                && a.resolved_at_ms == *e
            {
                *o |= a.open;
            }
        }
        let ttd = first.map(|f| f - inc.start_ms);
        let ttr = last.map(|(e, _)| e - inc.end_ms);
        let timeliness = match (ttd, ttr) {
            (Some(d), Some(r)) => {
                let dq = if d <= inc.detect_within_ms { 1.0 } else { inc.detect_within_ms as f64 / d as f64 };
                let allow = opts.reset_allowance_ms.max(1);
                let rq = if r <= allow { 1.0 } else { 0.5 + 0.5 * allow as f64 / r as f64 };
                dq * rq
            }
            _ => 0.0,
        };
        detections.push(Detection { incident: k, time_to_detect_ms: ttd, time_to_reset_ms: ttr, reset_censored: last.is_some_and(|(_, o)| o), timeliness });
    }
    // False positives; overlapping ones of different rules are one.
    let is_fp = |a: &Alert| match a.attribution {
        Attribution::Detects(_) => false,
        Attribution::During(k) if !opts.maintenance_is_false_positive => {
            let i = &incidents[k];
            !(i.kind == "maintenance" && a.fired_at_ms <= i.end_ms + opts.attribution_grace_ms)
        }
        _ => true,
    };
    let fps = merge(rules.iter().flat_map(|r| r.iter()).filter(|a| is_fp(a)).map(|a| (a.fired_at_ms, a.resolved_at_ms, a.open)).collect());
    let false_positives = if rules.len() == 1 { rules[0].iter().filter(|a| is_fp(a)).count() } else { fps.len() };
    let firing_ms = merge(rules.iter().flat_map(|r| r.iter()).map(|a| (a.fired_at_ms, a.resolved_at_ms, a.open)).collect()).iter().map(|(a, b, _)| b - a).sum();
    let alerts = rules.iter().map(|r| r.len()).sum();
    let significant = detections.len();
    let detected = detections.iter().filter(|d| d.time_to_detect_ms.is_some()).count();
    let precision = if detected + false_positives == 0 { None } else { Some(detected as f64 / (detected + false_positives) as f64) };
    let recall = if significant == 0 { None } else { Some(detected as f64 / significant as f64) };
    let score = if significant == 0 {
        1.0 / (1.0 + false_positives as f64)
    } else {
        let p = precision.unwrap_or(0.0);
        let rt = detections.iter().map(|d| d.timeliness).sum::<f64>() / significant as f64;
        if p + rt > 0.0 { 2.0 * p * rt / (p + rt) } else { 0.0 }
    };
    Outcome { alerts, false_positives, detected, significant, precision, recall, detections, firing_ms, score: if score.is_finite() { score.clamp(0.0, 1.0) } else { 0.0 } }
}

// ------------------------------------------------------------ replay cost

struct Cost {
    /// Samples read by windowed functions over the whole replay.
    cost: f64,
    /// Series the node yields (an upper bound).
    series: f64,
    /// The costliest windowed function's span (relative to the expression).
    worst: Option<Range<usize>>,
    worst_cost: f64,
}

impl Cost {
    fn zero(series: f64) -> Cost {
        Cost { cost: 0.0, series, worst: None, worst_cost: 0.0 }
    }
    fn add(&mut self, o: Cost) {
        self.cost += o.cost;
        if o.worst_cost > self.worst_cost {
            self.worst_cost = o.worst_cost;
            self.worst = o.worst;
        }
    }
}

/// Functions whose work per step does not grow with the window (for
/// `rate` and `increase`, on counters without resets).
fn constant_per_step(f: Func) -> bool {
    matches!(
        f,
        Func::Rate
            | Func::Increase
            | Func::Delta
            | Func::Irate
            | Func::Idelta
            | Func::LastOverTime
            | Func::FirstOverTime
            | Func::TsOfLastOverTime
            | Func::TsOfFirstOverTime
            | Func::PresentOverTime
            | Func::CountOverTime
            | Func::AbsentOverTime
    )
}

fn matching_series(store: &SeriesStore, matchers: &[promql::ast::Matcher]) -> f64 {
    let name = matchers.iter().find(|m| m.name == crate::telemetry::metric::METRIC_NAME && m.op == promql::ast::MatchOp::Equal);
    let ok = |l: &crate::telemetry::metric::Labels| matchers.iter().all(|m| m.matches(l.get(&m.name).unwrap_or("")));
    match name {
        Some(m) => store.by_name(&m.value).iter().filter(|&&id| ok(&store.get(id).labels)).count() as f64,
        None => store.iter().filter(|(_, s)| ok(&s.labels)).count() as f64,
    }
}

/// Estimates the samples the windowed functions of `e` read when it is
/// evaluated `steps` times `step` apart over `range` milliseconds.
fn window_cost(e: &Expr, store: &SeriesStore, steps: f64, step: i64, range: i64, scrape_ms: i64) -> Cost {
    match &e.kind {
        ExprKind::Number(_) | ExprKind::String(_) => Cost::zero(1.0),
        ExprKind::Vector(vs) => Cost::zero(matching_series(store, &vs.matchers)),
        ExprKind::Matrix(ms) => Cost::zero(matching_series(store, &ms.vs.matchers)),
        ExprKind::Subquery(sq) => {
            let sub_step = sq.step_ms.unwrap_or(step).max(1);
            let inner_steps = ((range + sq.range_ms) / sub_step + 1) as f64;
            let mut c = window_cost(&sq.expr, store, inner_steps, sub_step, range + sq.range_ms, scrape_ms);
            // Each inner step of each series is a sample to the outer function.
            c.cost += inner_steps * c.series;
            c
        }
        ExprKind::Paren(x) | ExprKind::Neg(x) => window_cost(x, store, steps, step, range, scrape_ms),
        ExprKind::Binary(b) => {
            let mut c = window_cost(&b.lhs, store, steps, step, range, scrape_ms);
            let r = window_cost(&b.rhs, store, steps, step, range, scrape_ms);
            let series = c.series.max(r.series);
            c.add(r);
            c.series = series;
            c
        }
        ExprKind::Aggregate(a) => {
            let mut c = window_cost(&a.expr, store, steps, step, range, scrape_ms);
            if let Some(p) = &a.param {
                let series = c.series;
                c.add(window_cost(p, store, steps, step, range, scrape_ms));
                c.series = series;
            }
            c
        }
        ExprKind::Call(call) => {
            let mut total = Cost::zero(1.0);
            let mut series: f64 = 1.0;
            for a in &call.args {
                let u = a.unparen();
                let arg = window_cost(u, store, steps, step, range, scrape_ms);
                let per_window = match &u.kind {
                    ExprKind::Matrix(ms) => Some((ms.range_ms as f64 / scrape_ms as f64).max(1.0)),
                    ExprKind::Subquery(sq) => Some((sq.range_ms as f64 / sq.step_ms.unwrap_or(step).max(1) as f64).max(1.0)),
                    _ => None,
                };
                series = series.max(arg.series);
                let sub = matches!(u.kind, ExprKind::Subquery(_));
                let n = arg.series;
                total.add(arg);
                if let Some(w) = per_window
                    && (sub || !constant_per_step(call.func.func))
                    && !(sub && matches!(call.func.func, Func::LastOverTime | Func::FirstOverTime | Func::PresentOverTime | Func::CountOverTime))
                {
                    let c = steps * n * w;
                    total.add(Cost { cost: c, series: 0.0, worst: Some(e.span.clone()), worst_cost: c });
                }
            }
            total.series = series;
            total
        }
    }
}

// ------------------------------------------------------------ references

/// Prometheus's name for an OpenTelemetry attribute (`http.route` →
/// `http_route`).
fn prom_label(attr: &str) -> String {
    attr.replace('.', "_")
}

/// The checkout SLI's error ratio over `window` (a PromQL duration): 5xx
/// answers of the history's endpoint over its valid (non-4xx) answers, at
/// the service that serves users. Names come from the run's model and the
/// semantic conventions the simulator emits.
pub fn sli_error_ratio(run: &Run, window: &str) -> Result<String, AnswerError> {
    let Some(h) = &run.model.history else {
        return Err(AnswerError::new(0..0, "this scenario has no SLO history to alert on"));
    };
    let (Some(svc), true) = (run.model.services.get(h.service), promql::parser::parse_duration(window).is_ok()) else {
        return Err(AnswerError::new(0..0, "no such service or window"));
    };
    let Some(ep) = svc.endpoints.get(h.endpoint) else {
        return Err(AnswerError::new(0..0, "no such endpoint"));
    };
    let metric = format!("{}_count", sc::HTTP_SERVER_DURATION);
    let base = format!(
        "service=\"{}\", {}=\"{}\", {}=\"{}\"",
        escape_label_value(&svc.name),
        prom_label(sc::HTTP_REQUEST_METHOD),
        escape_label_value(&ep.method),
        prom_label(sc::HTTP_ROUTE),
        escape_label_value(&ep.route)
    );
    let code = prom_label(sc::HTTP_RESPONSE_STATUS_CODE);
    Ok(format!("sum(rate({metric}{{{base}, {code}=~\"5..\"}}[{window}])) / sum(rate({metric}{{{base}, {code}!~\"4..\"}}[{window}]))"))
}

fn objective_text(objective: f64) -> String {
    format!("(1 - {objective})")
}

/// The naive alert: the SLI's error ratio over 5 minutes above the error
/// budget ratio (`1 - objective`) for 5 minutes.
pub fn naive_threshold_rule(run: &Run, objective: f64) -> Result<AlertRule, AnswerError> {
    let text = format!("alert: CheckoutErrorRatioHigh\nexpr: {} > {}\nfor: 5m\nlabels:\n  severity: page\n", sli_error_ratio(run, "5m")?, objective_text(objective));
    parse_rules(&text)?.pop().ok_or_else(|| AnswerError::new(0..0, "no rule"))
}

/// The SRE Workbook's multiwindow, multi-burn-rate alerts for `objective`:
/// page at 14.4× over 1h and 5m, page at 6× over 6h and 30m, ticket at 1×
/// over 3d and 6h; no `for` (the short window makes them reset quickly).
pub fn multiwindow_rules(run: &Run, objective: f64) -> Result<Vec<AlertRule>, AnswerError> {
    let budget = objective_text(objective);
    let mut text = String::new();
    for (name, factor, long, short, severity) in [
        ("CheckoutBudgetBurn1h", "14.4", "1h", "5m", "page"),
        ("CheckoutBudgetBurn6h", "6", "6h", "30m", "page"),
        ("CheckoutBudgetBurn3d", "1", "3d", "6h", "ticket"),
    ] {
        text.push_str(&format!(
            "alert: {name}\nexpr: ({}) > {factor} * {budget}\n  and ({}) > {factor} * {budget}\nlabels:\n  severity: {severity}\n\n",
            sli_error_ratio(run, long)?,
            sli_error_ratio(run, short)?
        ));
    }
    parse_rules(&text)
}

// ------------------------------------------------------------ grade

/// Grades an answer: parses and replays it, and compares it with the
/// workbook's multiwindow set on the same run. Correct when it scores at
/// least as well as that set (within 0.05), partial when it scores above
/// 0.05, wrong below.
pub fn grade(run: &Run, answer: &str) -> Result<Grade, AnswerError> {
    let rules = parse_rules(answer)?;
    let opts = ReplayOptions::default();
    let r = replay_with(run, &rules, &opts)?;
    let reference = multiwindow_rules(run, opts.objective).and_then(|m| replay_with(run, &m, &opts)).map(|x| x.combined.score).ok();
    let score = r.combined.score;
    let mut feedback = describe(&r);
    if let Some(rs) = reference {
        feedback.push_str(&format!(" The workbook's multiwindow, multi-burn-rate set scores {rs:.2} on this history."));
    }
    let mut g = Grade::scored(score, 1.0, feedback);
    g.verdict = match reference {
        Some(rs) if score >= rs - 0.05 && score > 0.05 => Verdict::Correct,
        None if score >= 0.95 => Verdict::Correct,
        _ if score > 0.05 => Verdict::Partial,
        _ => Verdict::Wrong,
    };
    for d in &r.combined.detections {
        if d.time_to_detect_ms.is_none() {
            let i = &r.incidents[d.incident];
            g.missed.push(format!("missed the {} of {} ({} long, error ratio {:.2}%)", kind_text(i.kind), when(i.start_ms), timefmt::span(i.end_ms - i.start_ms), i.error_ratio * 100.0));
        }
    }
    // False positives, the first few of each rule.
    const SHOWN: usize = 8;
    for rr in &r.rules {
        let fps: Vec<&Alert> = rr.alerts.iter().filter(|a| !matches!(a.attribution, Attribution::Detects(_))).collect();
        for a in fps.iter().take(SHOWN) {
            match a.attribution {
                Attribution::During(k) => {
                    let i = &r.incidents[k];
                    g.missed.push(format!("{} fired at {} for a {} that should not alert", rr.name, when(a.fired_at_ms), kind_text(i.kind)));
                }
                _ => g.missed.push(format!("{} fired at {} with no incident (for {})", rr.name, when(a.fired_at_ms), timefmt::span(a.resolved_at_ms - a.fired_at_ms))),
            }
        }
        if fps.len() > SHOWN {
            g.missed.push(format!("{} fired {} more times with no incident to page for", rr.name, fps.len() - SHOWN));
        }
    }
    Ok(g)
}

fn kind_text(kind: &str) -> &str {
    match kind {
        "fast_burn" => "fast burn",
        "slow_burn" => "slow burn",
        "maintenance" => "planned maintenance",
        k => k,
    }
}

/// `Feb 14 01:09` (UTC).
fn when(t_ms: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (_, m, d, h, mi) = timefmt::civil(t_ms);
    format!("{} {d} {h:02}:{mi:02}", MONTHS[(m.clamp(1, 12) - 1) as usize])
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "n/a".into())
}

/// A paragraph on a replay for the learner.
pub fn describe(r: &Replay) -> String {
    let c = &r.combined;
    let mut s = format!(
        "Replayed {} rule{} over {} at {} steps: precision {} ({} of {} alert episodes were real incidents), recall {} ({} of {} budget-burning incidents), score {:.2}.",
        r.rules.len(),
        if r.rules.len() == 1 { "" } else { "s" },
        timefmt::span(r.end_ms - r.start_ms + r.step_ms),
        prom_duration(r.step_ms),
        pct(c.precision),
        c.detected,
        c.detected + c.false_positives,
        pct(c.recall),
        c.detected,
        c.significant,
        c.score
    );
    for d in &c.detections {
        let i = &r.incidents[d.incident];
        match (d.time_to_detect_ms, d.time_to_reset_ms) {
            (Some(t), Some(z)) => s.push_str(&format!(
                " The {} of {} was detected after {}, and the alerts {} {} after it ended.",
                kind_text(i.kind),
                when(i.start_ms),
                timefmt::span(t),
                if d.reset_censored { "were still firing at the end of the month," } else { "reset" },
                if z < 0 { format!("-{}", timefmt::span(-z)) } else { timefmt::span(z) }
            )),
            _ => s.push_str(&format!(" The {} of {} was missed.", kind_text(i.kind), when(i.start_ms))),
        }
    }
    if r.rules.len() > 1 {
        for rr in &r.rules {
            s.push_str(&format!(" {}: {} alerts, precision {}, recall {}, score {:.2}.", rr.name, rr.outcome.alerts, pct(rr.outcome.precision), pct(rr.outcome.recall), rr.outcome.score));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> AlertRule {
        let mut v = parse_rules(text).unwrap();
        assert_eq!(v.len(), 1, "{text}");
        v.pop().unwrap()
    }

    #[test]
    fn parses_rules_separated_by_blank_lines_and_dashes() {
        let text = "alert: A\nexpr: up == 0\nfor: 2m\n\nalert: B\nexpr: vector(1)\n---\nexpr: vector(2)\nlabels:\n  severity: ticket\n";
        let v = parse_rules(text).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].name.as_deref(), Some("A"));
        assert_eq!(v[0].for_ms, 120_000);
        assert_eq!(&text[v[0].expr_span.clone()], "up == 0");
        assert_eq!(v[1].name.as_deref(), Some("B"));
        assert_eq!(v[1].for_ms, 0);
        assert_eq!(v[2].name, None);
        assert_eq!(v[2].severity(), Some("ticket"));
        assert_eq!(v[2].display_name(2), "rule 3");
    }

    #[test]
    fn a_new_alert_field_starts_a_new_rule() {
        let v = parse_rules("alert: A\nexpr: vector(1)\nalert: B\nexpr: vector(2)").unwrap();
        assert_eq!(v.iter().map(|r| r.name.clone().unwrap()).collect::<Vec<_>>(), ["A", "B"]);
    }

    #[test]
    fn expressions_continue_over_lines() {
        let text = "alert: X\nexpr: sum(rate(a[1h])) > 1\n  and\n  sum(rate(a[5m])) > 1\nfor: 1m\n";
        let r = rule(text);
        assert_eq!(r.expr, "sum(rate(a[1h])) > 1\n  and\n  sum(rate(a[5m])) > 1");
        assert_eq!(r.for_ms, 60_000);
        // An unindented continuation and a blank line inside an indented one.
        let r = rule("expr: sum(a)\n/ sum(b) > 0.1\n");
        assert_eq!(r.expr, "sum(a)\n/ sum(b) > 0.1");
        let r = rule("alert: Y\nexpr: |\n  sum(a)\n\n  > 1\nfor: 5m");
        assert_eq!(r.expr, "sum(a)\n\n  > 1");
        assert_eq!(r.for_ms, 300_000);
    }

    #[test]
    fn pasted_prometheus_rule_files_are_read() {
        let text = "groups:\n- name: slo\n  rules:\n  - alert: Fast\n    expr: 'vector(1) > 0'\n    for: 0s\n    labels:\n      severity: page\n    annotations:\n      summary: |\n        burning: fast\n  - alert: Slow\n    expr: \"vector(1)\"\n    keep_firing_for: 10m\n    labels: {severity: ticket, team: \"shop\"}\n";
        let v = parse_rules(text).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].expr, "vector(1) > 0");
        assert_eq!(v[0].severity(), Some("page"));
        assert_eq!(v[1].name.as_deref(), Some("Slow"));
        assert_eq!(v[1].keep_firing_for_ms, 600_000);
        assert_eq!(v[1].labels, vec![("severity".to_string(), "ticket".to_string()), ("team".to_string(), "shop".to_string())]);
    }

    #[test]
    fn a_bare_expression_is_one_unnamed_rule() {
        let text = "\n  job:slo_errors:ratio_rate5m > 0.001  \n";
        let r = rule(text);
        assert_eq!(r.name, None);
        assert_eq!(r.expr, "job:slo_errors:ratio_rate5m > 0.001");
        assert_eq!(&text[r.expr_span.clone()], r.expr);
        assert_eq!(r.for_ms, 0);
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let text = "alert: A\nexpr: sum(rate(x[5m])) >\nfor: 5m";
        let e = parse_rules(text).unwrap_err();
        assert!(e.span.start >= text.find("sum").unwrap() && e.span.end <= text.find("\nfor").unwrap() + 1, "{e}");

        let text = "alert: A\nexpr: sum(rate(x[5m]) > 1";
        let e = parse_rules(text).unwrap_err();
        assert!(e.span.start >= 15 && e.span.end <= text.len(), "{e:?}");

        let text = "alert: A\nexpr: up\nfor: five minutes";
        let e = parse_rules(text).unwrap_err();
        assert_eq!(&text[e.span.clone()], "five minutes");

        let text = "alert: A\nexpresion: up";
        let e = parse_rules(text).unwrap_err();
        assert_eq!(&text[e.span.clone()], "expresion");

        let text = "alert: A\nfor: 5m";
        let e = parse_rules(text).unwrap_err();
        assert_eq!(&text[e.span.clone()], "alert");
        assert!(e.message.contains("no expr"));

        let text = "alert: A\nexpr: x[5m]";
        let e = parse_rules(text).unwrap_err();
        assert_eq!(&text[e.span.clone()], "x[5m]");

        let text = "alert: A\nexpr: up\nfor: 1m\nfor: 2m";
        let e = parse_rules(text).unwrap_err();
        assert_eq!(e.span, text.rfind("for").unwrap()..text.rfind(':').unwrap());

        let text = "record: job:x:rate5m\nexpr: up";
        assert_eq!(&text[parse_rules(text).unwrap_err().span], "record");

        let text = "alert: A\nexpr: up\nfor: 1m\nthis is not a field";
        assert_eq!(&text[parse_rules(text).unwrap_err().span], "this is not a field");
        // Below expr: it continues the expression, and PromQL points at it.
        let text = "alert: A\nexpr: up\nthis is not a field";
        assert_eq!(&text[parse_rules(text).unwrap_err().span], "this");

        for empty in ["", "   \n\n", "# only a comment\n", "---\n"] {
            assert!(parse_rules(empty).is_err(), "{empty:?}");
        }
        let text = "alert: A\nexpr:\nfor: 1m";
        assert_eq!(&text[parse_rules(text).unwrap_err().span], "expr");
    }

    #[test]
    fn no_panic_on_odd_text() {
        for text in ["alert:", "- ", "-", "expr: é", "alert: ü\nexpr: up{a=\"ü\"} > 1\r\nfor: 1m\r\n", "expr: '", "labels: {a}", "labels: {: b}", "expr: \"\"", "\u{feff}expr: up", "alert: A\n\texpr: up", "expr: up\n  \n", ":", "a:b:c"] {
            let _ = parse_rules(text);
        }
        let r = rule("alert: ü\nexpr: up{a=\"ü\"} > 1\r\nfor: 1m\r\n");
        assert_eq!(r.expr, "up{a=\"ü\"} > 1");
        assert_eq!(r.for_ms, 60_000);
    }

    #[test]
    fn rules_print_back_to_the_same_rules() {
        let text = "alert: A\nexpr: vector(1) > 0\nfor: 1h30m\nkeep_firing_for: 5m\nlabels:\n  severity: page\n\nexpr: vector(2)\n";
        let v = parse_rules(text).unwrap();
        let again = parse_rules(&rules_to_text(&v)).unwrap();
        assert_eq!(again.len(), 2);
        for (a, b) in v.iter().zip(&again) {
            assert_eq!((&a.name, &a.expr, a.for_ms, a.keep_firing_for_ms, &a.labels), (&b.name, &b.expr, b.for_ms, b.keep_firing_for_ms, &b.labels));
        }
    }

    fn bits(s: &str) -> Vec<bool> {
        s.bytes().map(|b| b == b'1').collect()
    }

    #[test]
    fn for_holds_an_alert_pending_as_prometheus_does() {
        // Steps of 1 (ms) for readability.
        assert_eq!(firing_intervals(&bits("0111001"), 0, 1, 0, 0), vec![(1, 4, false), (6, 6, true)]);
        // for: 2 fires at the third consecutive step; a gap resets the pending alert.
        assert_eq!(firing_intervals(&bits("0110111100"), 0, 1, 2, 0), vec![(6, 8, false)]);
        assert_eq!(firing_intervals(&bits("11"), 0, 1, 2, 0), vec![]);
        // keep_firing_for bridges short gaps and delays the resolution.
        assert_eq!(firing_intervals(&bits("1101100000"), 0, 1, 0, 2), vec![(0, 7, false)]);
        assert_eq!(firing_intervals(&bits("1000111"), 0, 1, 0, 2), vec![(0, 3, false), (4, 6, true)]);
        // Never firing, always firing.
        assert!(firing_intervals(&bits("0000"), 0, 60, 0, 0).is_empty());
        assert_eq!(firing_intervals(&bits("1111"), 100, 60, 0, 0), vec![(100, 280, true)]);
    }

    #[test]
    fn merge_joins_overlapping_and_touching_intervals() {
        assert_eq!(merge(vec![(5, 9, false), (0, 3, false), (3, 4, false), (8, 12, true)]), vec![(0, 4, false), (5, 12, true)]);
    }

    fn incident(kind: &'static str, start: i64, end: i64, significant: bool) -> Incident {
        Incident { kind, start_ms: start, end_ms: end, error_ratio: 0.5, significant, burn_rate: 500.0, detect_within_ms: 5 * MINUTE }
    }

    fn alert(a: i64, b: i64, incidents: &[Incident], o: &ReplayOptions) -> Alert {
        Alert { fired_at_ms: a, resolved_at_ms: b, open: false, attribution: attribute(a, incidents, o) }
    }

    #[test]
    fn scoring_counts_incidents_false_positives_and_timeliness() {
        let o = ReplayOptions::default();
        let mut inc = vec![incident("fast_burn", 10 * HOUR, 10 * HOUR + 20 * MINUTE, true), incident("blip", 20 * HOUR, 20 * HOUR + 2 * MINUTE, false), incident("slow_burn", 40 * HOUR, 100 * HOUR, true)];
        inc[2].detect_within_ms = 20 * HOUR;
        // Detects the fast burn in 2 minutes (flapping twice), fires on the blip, misses the slow burn.
        let a = vec![alert(10 * HOUR + 2 * MINUTE, 10 * HOUR + 10 * MINUTE, &inc, &o), alert(10 * HOUR + 12 * MINUTE, 10 * HOUR + 25 * MINUTE, &inc, &o), alert(20 * HOUR + 3 * MINUTE, 20 * HOUR + 6 * MINUTE, &inc, &o)];
        assert_eq!(a[2].attribution, Attribution::During(1));
        let out = outcome(&[&a], &inc, &o);
        assert_eq!((out.detected, out.significant, out.false_positives, out.alerts), (1, 2, 1, 3));
        assert_eq!(out.precision, Some(0.5));
        assert_eq!(out.recall, Some(0.5));
        assert_eq!(out.detections[0].time_to_detect_ms, Some(2 * MINUTE));
        assert_eq!(out.detections[0].time_to_reset_ms, Some(5 * MINUTE));
        assert_eq!(out.detections[0].timeliness, 1.0);
        // P = 0.5, Rt = 0.5.
        assert!((out.score - 0.5).abs() < 1e-9);

        // Late detection (10 minutes for a 5-minute allowance) halves the timeliness.
        let late = vec![alert(10 * HOUR + 10 * MINUTE, 10 * HOUR + 30 * MINUTE, &inc, &o), alert(41 * HOUR, 101 * HOUR, &inc, &o)];
        let out = outcome(&[&late], &inc, &o);
        assert_eq!(out.precision, Some(1.0));
        assert!((out.detections[0].timeliness - 0.5).abs() < 1e-9);
        assert!((out.score - 2.0 * 0.75 / 1.75).abs() < 1e-9);

        // Always firing: one false positive that detects nothing.
        let all = vec![alert(0, 720 * HOUR, &inc, &o)];
        let out = outcome(&[&all], &inc, &o);
        assert_eq!((out.precision, out.recall, out.score), (Some(0.0), Some(0.0), 0.0));
        // Never firing.
        let out = outcome(&[&[]], &inc, &o);
        assert_eq!((out.precision, out.recall, out.score), (None, Some(0.0), 0.0));
    }

    #[test]
    fn a_rule_set_counts_overlapping_false_positives_once() {
        let o = ReplayOptions::default();
        let inc = vec![incident("maintenance", 10 * HOUR, 11 * HOUR, false), incident("fast_burn", 30 * HOUR, 30 * HOUR + 20 * MINUTE, true)];
        let page = vec![alert(10 * HOUR + MINUTE, 11 * HOUR + 5 * MINUTE, &inc, &o), alert(30 * HOUR + 2 * MINUTE, 30 * HOUR + 25 * MINUTE, &inc, &o)];
        let ticket = vec![alert(10 * HOUR + 5 * MINUTE, 17 * HOUR, &inc, &o), alert(30 * HOUR + 6 * MINUTE, 36 * HOUR + 20 * MINUTE, &inc, &o)];
        let out = outcome(&[&page, &ticket], &inc, &o);
        assert_eq!((out.false_positives, out.detected, out.alerts), (1, 1, 4));
        assert_eq!(out.detections[0].time_to_detect_ms, Some(2 * MINUTE));
        assert_eq!(out.detections[0].time_to_reset_ms, Some(6 * HOUR));
        assert_eq!(out.firing_ms, (6 * HOUR + 59 * MINUTE) + (6 * HOUR + 18 * MINUTE));
    }

    #[test]
    fn long_resets_cost_up_to_half_the_timeliness() {
        let o = ReplayOptions::default();
        let inc = vec![incident("fast_burn", 0, 20 * MINUTE, true)];
        let a = vec![alert(MINUTE, 20 * MINUTE + 72 * HOUR, &inc, &o)];
        let out = outcome(&[&a], &inc, &o);
        let q = out.detections[0].timeliness;
        assert!((q - (0.5 + 0.5 * 6.0 / 72.0)).abs() < 1e-9, "{q}");
    }

    #[test]
    fn durations_print_as_prometheus_writes_them() {
        assert_eq!(prom_duration(90 * MINUTE), "1h30m");
        assert_eq!(prom_duration(0), "0s");
        assert_eq!(prom_duration(3 * DAY), "3d");
    }
}

/// Grades an alert-rules answer out of `max` points: the replay score
/// relative to the workbook's multiwindow set on the same history (that
/// set, or anything as good, earns full marks).
pub fn grade_rules(answer: &str, run: &Run, max: f64) -> Result<Grade, AnswerError> {
    let g = grade(run, answer)?;
    let opts = ReplayOptions::default();
    let reference = multiwindow_rules(run, opts.objective).and_then(|m| replay_with(run, &m, &opts)).map(|x| x.combined.score).unwrap_or(1.0);
    let share = if g.verdict == Verdict::Correct { 1.0 } else if reference > 0.0 { (g.score / reference).min(1.0) } else { g.score };
    let verdict = g.verdict;
    let mut out = Grade::scored(share * max, max, g.feedback);
    out.verdict = verdict;
    out.missed = g.missed;
    Ok(out)
}

/// The workbook's multiwindow rules for this run, as a learner would type them.
pub fn reference_rules_text(run: &Run) -> String {
    multiwindow_rules(run, DEFAULT_OBJECTIVE).map(|r| rules_to_text(&r)).unwrap_or_default()
}
