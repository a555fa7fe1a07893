//! The grader: [`expected`] derives a question's answer from the run (ground
//! truth or a reference query on its data) and [`grade`] scores a learner's
//! answer text against it, per kind, minus the hints taken.

use super::compare;
use super::question::{expand_range, EntityKind, Kind, Question, Source, TruthKey};
use super::quantity::{self, Dimension, Tolerance};
use super::{catalogue, rubric, AnswerError, Grade, Verdict};
use crate::query::promql;
use crate::scenario::model::format_rfc3339_ms;
use crate::sim::truth::FaultTruth;
use crate::sim::Run;
use crate::telemetry::ids::{SpanId, TraceId};

/// A question whose expected answer cannot be derived from this run (a bug
/// in the question or the scenario, never the learner's fault).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionBug(pub String);

impl std::fmt::Display for QuestionBug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The expected answer of a question for one run.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// Accepted names; the first is the canonical one.
    Entity(Vec<String>),
    Choice(String),
    Choices(Vec<String>),
    Number { value: f64, dim: Dimension },
    /// Unix ms windows.
    Windows(Vec<(i64, i64)>),
    /// Traces that are valid evidence, each with the spans that show it.
    Evidence(Vec<(TraceId, Vec<SpanId>)>),
    Query(String),
    Replay,
    KeyPoints,
    /// A plan that passes every rule on this run (the scenario's own plan,
    /// corrected where it breaks one), as TOML, and its estimated series.
    Plan { reference: String, series: u64 },
}

impl Expected {
    /// The answer as a learner would write it (for feedback and answer keys).
    pub fn display(&self) -> String {
        match self {
            Expected::Entity(v) => v.first().cloned().unwrap_or_default(),
            Expected::Choice(c) => c.clone(),
            Expected::Choices(c) => c.join(", "),
            Expected::Number { value, dim } => quantity::format_quantity(*value, *dim),
            Expected::Windows(w) => w.iter().map(|&(a, b)| format!("{} to {}", format_rfc3339_ms(a), format_rfc3339_ms(b))).collect::<Vec<_>>().join("; "),
            Expected::Evidence(t) => match t.first() {
                Some((t, spans)) => match spans.first() {
                    Some(s) => format!("{t}/{s}"),
                    None => t.to_string(),
                },
                None => String::new(),
            },
            Expected::Query(q) => q.clone(),
            Expected::Replay => "graded by replaying the history".into(),
            Expected::KeyPoints => "see the model answer".into(),
            Expected::Plan { reference, .. } => reference.clone(),
        }
    }
}

fn culprits(run: &Run) -> Result<&[FaultTruth], QuestionBug> {
    if run.truth.faults.is_empty() {
        Err(QuestionBug("this run has no fault in its ground truth, so it has no culprit".into()))
    } else {
        Ok(&run.truth.faults)
    }
}

fn end_ms(run: &Run) -> i64 {
    run.telemetry.start_unix_ms + run.model.duration.micros() / 1000
}

/// Derives the expected answer of `q` from `run`.
pub fn expected(q: &Question, run: &Run) -> Result<Expected, QuestionBug> {
    let truth = &run.truth;
    match &q.source {
        Source::KeyPoints => Ok(Expected::KeyPoints),
        Source::Replay => Ok(Expected::Replay),
        Source::Rules => {
            let good = super::plan::good_plan(&run.model.instrumentation);
            let est = super::plan::estimate(&good, run);
            let budget = q.series_budget.unwrap_or(u64::MAX);
            if est.series > budget {
                return Err(QuestionBug(format!("even a plan with only method, route and status needs {} series on this run ({}), over the question's series_budget of {budget}", est.series, est.formula())));
            }
            Ok(Expected::Plan { reference: super::plan::render(&good), series: est.series })
        }
        Source::Reference { expr, .. } => Ok(Expected::Query(expr.clone())),
        Source::PromQL { expr, label } => {
            let secs = run.model.duration.micros() / 1_000_000;
            let v = promql::instant_query(&run.telemetry.series, &expand_range(expr, secs), end_ms(run)).map_err(|e| QuestionBug(format!("the question's query failed: {}", e.message)))?;
            match (label, v) {
                (None, promql::Value::Scalar { v, .. }) => Ok(Expected::Number { value: v, dim: q.dimension.unwrap_or(Dimension::Count) }),
                (None, promql::Value::Vector(s)) if s.len() == 1 => Ok(Expected::Number { value: s[0].f, dim: q.dimension.unwrap_or(Dimension::Count) }),
                (None, promql::Value::Vector(s)) => Err(QuestionBug(format!("the question's query returned {} series; a number needs exactly one", s.len()))),
                (Some(l), promql::Value::Vector(s)) => {
                    let top = s.iter().filter(|s| !s.f.is_nan()).max_by(|a, b| a.f.total_cmp(&b.f)).ok_or_else(|| QuestionBug("the question's query returned no series".into()))?;
                    let name = top.labels.get(l).ok_or_else(|| QuestionBug(format!("the top series has no label {l:?}")))?;
                    Ok(Expected::Entity(vec![name.to_string()]))
                }
                _ => Err(QuestionBug("the question's query returned neither a number nor a vector".into())),
            }
        }
        Source::Truth(key) => match key {
            // A cause in the infrastructure (a node) has no culprit service: the node is the answer.
            TruthKey::CulpritService => Ok(Expected::Entity(culprits(run)?.iter().filter_map(|f| f.service.clone().or_else(|| f.node.clone()).or_else(|| f.pod.clone())).collect())),
            TruthKey::CulpritNode => Ok(Expected::Entity(culprits(run)?.iter().filter_map(|f| f.node.clone()).collect())),
            TruthKey::CulpritPod => Ok(Expected::Entity(culprits(run)?.iter().filter_map(|f| f.pod.clone()).collect())),
            TruthKey::CulpritMechanism => Ok(Expected::Choice(culprits(run)?[0].kind.to_string())),
            TruthKey::NextAction => {
                let kind = culprits(run)?[0].kind;
                let m = catalogue::mechanism(kind).ok_or_else(|| QuestionBug(format!("{kind} is not in the catalogue")))?;
                Ok(Expected::Choice(m.action.0.to_string()))
            }
            TruthKey::CulpritSignals => {
                let kind = culprits(run)?[0].kind;
                let m = catalogue::mechanism(kind).ok_or_else(|| QuestionBug(format!("{kind} is not in the catalogue")))?;
                Ok(Expected::Choices(m.signals.iter().map(|s| s.to_string()).collect()))
            }
            TruthKey::IncidentWindows => {
                let mut w: Vec<(i64, i64)> = culprits(run)?.iter().flat_map(|f| f.windows.iter()).map(|&(a, b)| (run.telemetry.unix_ms(a), run.telemetry.unix_ms(b))).collect();
                crate::sort::sort(&mut w);
                Ok(Expected::Windows(w))
            }
            TruthKey::CulpritTrace => {
                let ids: Vec<u16> = culprits(run)?.iter().map(|f| f.id).collect();
                let ev: Vec<(TraceId, Vec<SpanId>)> = truth
                    .traces
                    .iter()
                    .filter_map(|(t, spans)| {
                        let s: Vec<SpanId> = spans.iter().filter(|(f, _)| ids.contains(f)).map(|(_, s)| *s).collect();
                        (!s.is_empty()).then_some((*t, s))
                    })
                    .collect();
                if ev.is_empty() {
                    return Err(QuestionBug("no kept trace shows the culprit in this run".into()));
                }
                Ok(Expected::Evidence(ev))
            }
            TruthKey::FailedRequest => {
                let endpoint = q.endpoint.as_deref().unwrap_or("");
                let store = &run.telemetry.traces;
                let ev: Vec<(TraceId, Vec<SpanId>)> = store
                    .traces()
                    .iter()
                    .filter(|t| store.is_error(t))
                    .filter(|t| endpoint.is_empty() || store.root(t).is_some_and(|r| &*store.operation(r.op).name == endpoint))
                    .filter_map(|t| failing_span(run, t.trace_id).map(|s| (t.trace_id, vec![s])))
                    .collect();
                if ev.is_empty() {
                    return Err(QuestionBug(format!("no kept trace of a failed {endpoint} request in this run")));
                }
                Ok(Expected::Evidence(ev))
            }
            TruthKey::BudgetMinutes => Ok(Expected::Number { value: (1.0 - q.objective) * run.model.duration.micros() as f64 / 1e6, dim: Dimension::Time }),
            TruthKey::BudgetRequests => Ok(Expected::Number { value: (1.0 - q.objective) * truth.valid_requests as f64, dim: Dimension::Count }),
            TruthKey::BudgetConsumed => Ok(Expected::Number { value: budget_consumed(q, run)?, dim: Dimension::Ratio }),
            TruthKey::BudgetPolicy => Ok(Expected::Choice(if budget_consumed(q, run)? < 1.0 { "ship" } else { "freeze" }.to_string())),
        },
    }
}

fn budget_consumed(q: &Question, run: &Run) -> Result<f64, QuestionBug> {
    let budget = (1.0 - q.objective) * run.truth.valid_requests as f64;
    if budget <= 0.0 {
        return Err(QuestionBug("this run has no SLO history (no valid requests)".into()));
    }
    Ok(run.truth.failed_requests as f64 / budget)
}

/// The span where a failed trace failed: an error span none of whose
/// children is an error (the deepest error on the path).
pub fn failing_span(run: &Run, trace: TraceId) -> Option<SpanId> {
    let store = &run.telemetry.traces;
    let spans = store.trace_spans(store.trace(trace)?);
    let is_err = |s: &crate::telemetry::span::SpanRecord| s.status == crate::telemetry::span::StatusCode::Error;
    spans.iter().filter(|s| is_err(s)).find(|s| !spans.iter().any(|c| c.parent == s.span_id && is_err(c))).map(|s| s.span_id)
}

/// Whether span `s` is the parent or a child of one of `spans` in `trace`
/// (a pause shows as the gap in a client span while the ground truth marks
/// the server span it delayed, or the other way round).
fn next_to(run: &Run, trace: TraceId, s: SpanId, spans: &[SpanId]) -> bool {
    let store = &run.telemetry.traces;
    let Some(t) = store.trace(trace) else { return false };
    let all = store.trace_spans(t);
    let parent = |id: SpanId| all.iter().find(|r| r.span_id == id).map(|r| r.parent);
    spans.iter().any(|&m| parent(m) == Some(s) || parent(s) == Some(m))
}

fn norm(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'' || c == '`').trim().to_lowercase()
}

/// Reads `trace` or `trace/span` (also `:` or a space between; Tempo's
/// 32-hex form; dashes ignored).
pub fn parse_evidence(answer: &str) -> Result<(TraceId, Option<SpanId>), AnswerError> {
    let t = answer.trim();
    let lead = answer.len() - answer.trim_start().len();
    if t.is_empty() {
        return Err(AnswerError::new(0..answer.len(), "paste a trace id (32 hex digits), optionally followed by / and a span id"));
    }
    let (a, b) = match t.find(|c: char| c == '/' || c == ':' || c.is_whitespace()) {
        Some(i) => (&t[..i], Some((i, t[i + 1..].trim()))),
        None => (t, None),
    };
    let hex: String = a.chars().filter(|c| *c != '-').collect();
    let trace = TraceId::from_hex(&hex).ok_or_else(|| AnswerError::new(lead..lead + a.len(), format!("{a:?} is not a trace id: expected 32 hexadecimal digits")))?;
    let span = match b {
        None => None,
        Some((_, "")) => None,
        Some((i, s)) => {
            let at = lead + i + 1 + (t[i + 1..].len() - t[i + 1..].trim_start().len());
            Some(SpanId::from_hex(s).ok_or_else(|| AnswerError::new(at..at + s.len(), format!("{s:?} is not a span id: expected 16 hexadecimal digits")))?)
        }
    };
    Ok((trace, span))
}

/// Reads a time window: `09:14-09:20`, `09:14:30 to 09:20`, or two RFC 3339
/// times. Clock times are UTC on the run's day (the next day if earlier
/// than the run's start).
pub fn parse_window(answer: &str, run_start_ms: i64) -> Result<(i64, i64), AnswerError> {
    let t = answer.trim();
    let lead = answer.len() - answer.trim_start().len();
    let seps = [" to ", "–", "—", " - ", "/", ".."];
    let split = seps.iter().filter_map(|s| t.find(s).map(|i| (i, s.len()))).min().or_else(|| {
        // `09:14-09:20`: a dash between two clock times.
        t.char_indices().find(|&(i, c)| c == '-' && i > 0 && t[..i].chars().all(|c| c.is_ascii_digit() || c == ':')).map(|(i, _)| (i, 1))
    });
    let Some((i, n)) = split else {
        return Err(AnswerError::new(lead..lead + t.len(), "expected a window such as 09:14-09:20 (UTC) or two RFC 3339 times separated by \" to \""));
    };
    let one = |s: &str, at: usize| -> Result<i64, AnswerError> {
        let s2 = s.trim();
        let at = at + (s.len() - s.trim_start().len());
        if let Some(ms) = crate::scenario::model::parse_rfc3339(s2) {
            return Ok(ms);
        }
        let parts: Vec<&str> = s2.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace()).split(':').collect();
        let nums: Option<Vec<i64>> = parts.iter().map(|p| if p.len() <= 2 && !p.is_empty() { p.parse::<i64>().ok() } else { None }).collect();
        match nums.as_deref() {
            Some([h, m]) | Some([h, m, _]) if *h < 24 && *m < 60 => {
                let sec = if let Some([_, _, s]) = nums.as_deref() { *s } else { 0 };
                if sec >= 60 {
                    return Err(AnswerError::new(at..at + s2.len(), format!("{s2:?}: seconds go up to 59")));
                }
                let day = run_start_ms.div_euclid(86_400_000) * 86_400_000;
                let mut ms = day + ((h * 60 + m) * 60 + sec) * 1000;
                if ms < run_start_ms - 12 * 3_600_000 {
                    ms += 86_400_000;
                }
                Ok(ms)
            }
            _ => Err(AnswerError::new(at..at + s2.len(), format!("{s2:?} is not a time: expected HH:MM (UTC) or an RFC 3339 time"))),
        }
    };
    let a = one(&t[..i], lead)?;
    let b = one(&t[i + n..], lead + i + n)?;
    if b <= a {
        return Err(AnswerError::new(lead..lead + t.len(), "the window ends before it starts"));
    }
    Ok((a, b))
}

fn entity_matches(kind: Option<EntityKind>, answer: &str, expected: &str) -> bool {
    let (a, e) = (norm(answer), norm(expected));
    if a == e {
        return true;
    }
    // An endpoint may be answered by its route alone (`/orders` for `POST /orders`),
    // and a route by method and route.
    if kind == Some(EntityKind::Endpoint) {
        let route = |s: &str| s.rsplit(' ').next().unwrap_or(s).to_string();
        return route(&a) == route(&e);
    }
    false
}

/// Grades `answer` to `q` on `run`, with `hints_used` hints taken.
pub fn grade(q: &Question, answer: &str, run: &Run, hints_used: u32) -> Result<Grade, AnswerError> {
    let exp = expected(q, run).map_err(|e| AnswerError::new(0..0, format!("this question cannot be graded on this run: {e}")))?;
    let max = q.points;
    let mut g = match (q.kind, &exp) {
        (Kind::Entity, Expected::Entity(names)) => {
            if answer.trim().is_empty() {
                return Err(AnswerError::new(0..answer.len(), format!("name a {}", q.entity.map(|e| e.as_str()).unwrap_or("entity"))));
            }
            if names.iter().any(|n| entity_matches(q.entity, answer, n)) {
                Grade::scored(max, max, format!("Yes: {}.", names[0]))
            } else {
                let mut g = Grade::scored(0.0, max, format!("Not {}.", answer.trim()));
                g.missed.push(format!("the answer was {}", names.join(" or ")));
                g
            }
        }
        (Kind::Choice, Expected::Choice(id)) => {
            let pick = pick_option(q, answer)?;
            let text = |id: &str| q.options.iter().find(|o| o.id == id).map(|o| o.text.clone()).unwrap_or_else(|| id.to_string());
            if &pick == id {
                Grade::scored(max, max, format!("Yes: {}.", text(id)))
            } else {
                let mut g = Grade::scored(0.0, max, format!("Not \u{201c}{}\u{201d}.", text(&pick)));
                g.missed.push(format!("the answer was \u{201c}{}\u{201d}", text(id)));
                g
            }
        }
        (Kind::Multi, Expected::Choices(ids)) => {
            let mut picks = Vec::new();
            let mut at = 0;
            for part in answer.split(',') {
                if !part.trim().is_empty() {
                    let p = pick_option(q, part).map_err(|e| AnswerError::new(at + e.span.start..at + e.span.end, e.message))?;
                    if !picks.contains(&p) {
                        picks.push(p);
                    }
                }
                at += part.len() + 1;
            }
            let right = picks.iter().filter(|p| ids.contains(p)).count() as f64;
            let wrong = picks.len() as f64 - right;
            let score = ((right - wrong) / ids.len().max(1) as f64).max(0.0) * max;
            let mut g = Grade::scored(score, max, format!("{} of {} right, {} wrong.", right, ids.len(), wrong));
            for id in ids.iter().filter(|i| !picks.contains(i)) {
                g.missed.push(format!("also: {id}"));
            }
            for p in picks.iter().filter(|p| !ids.contains(p)) {
                g.missed.push(format!("not: {p}"));
            }
            g
        }
        (Kind::Number, Expected::Number { value, dim }) => {
            let got = quantity::parse_quantity(answer, *dim)?;
            let tol = q.tolerance;
            let shown = quantity::format_quantity(*value, *dim);
            if quantity::within(got.value, *value, tol) {
                Grade::scored(max, max, format!("Yes: {shown}."))
            } else {
                let twice = match tol {
                    Tolerance::Relative(r) => Tolerance::Relative(r * 2.0),
                    Tolerance::Absolute(a) => Tolerance::Absolute(a * 2.0),
                };
                let half = quantity::within(got.value, *value, twice);
                let mut g = Grade::scored(if half { max / 2.0 } else { 0.0 }, max, format!("{} is {}.", quantity::format_quantity(got.value, *dim), if half { "close" } else { "off" }));
                g.missed.push(format!("the data says {shown}"));
                g
            }
        }
        (Kind::Window, Expected::Windows(ws)) => {
            // Full marks when at least half of the answer lies in one
            // incident: a P99 chart shows the part of an incident in which
            // requests were slow, which may be shorter than the fault.
            let (a, b) = parse_window(answer, run.telemetry.start_unix_ms)?;
            let inside = |&(x, y): &(i64, i64)| (b.min(y) - a.max(x)).max(0) as f64 / (b - a) as f64;
            let best = ws.iter().map(inside).fold(0.0, f64::max);
            let score = if best >= 0.5 { max } else { max * best / 0.5 };
            let mut g = Grade::scored(score, max, format!("{:.0}% of your window lies in an incident.", best * 100.0));
            if g.verdict != Verdict::Correct {
                g.missed.extend(ws.iter().take(5).map(|&(x, y)| format!("incident {} to {}", format_rfc3339_ms(x), format_rfc3339_ms(y))));
            }
            g
        }
        (Kind::Evidence, Expected::Evidence(ev)) => {
            let (trace, span) = parse_evidence(answer)?;
            let want_span = matches!(q.source, Source::Truth(TruthKey::FailedRequest));
            match ev.iter().find(|(t, _)| *t == trace) {
                Some((_, spans)) => match span {
                    Some(s) if spans.contains(&s) || (!want_span && next_to(run, trace, s, spans)) => Grade::scored(max, max, "Yes: this trace shows it, at that span."),
                    Some(_) => {
                        let mut g = Grade::scored(max / 2.0, max, "The trace is right but that span is not the one.");
                        g.missed.push(format!("the span is {}", spans[0]));
                        g
                    }
                    None if want_span => {
                        let mut g = Grade::scored(max / 2.0, max, "The trace is right; name the span too (trace/span).");
                        g.missed.push(format!("the span is {}", spans[0]));
                        g
                    }
                    None => Grade::scored(max, max, format!("Yes: span {} of this trace shows it.", spans[0])),
                },
                None => {
                    let kept = run.telemetry.traces.trace(trace).is_some();
                    let mut g = Grade::scored(0.0, max, if kept { "This trace does not show it." } else { "No kept trace has this id (it may have been sampled out, or mistyped)." });
                    g.missed.extend(ev.iter().take(3).map(|(t, s)| format!("e.g. trace {t}, span {}", s[0])));
                    g
                }
            }
        }
        (Kind::Query, Expected::Query(reference)) => {
            let Source::Reference { language, .. } = &q.source else { return unreachable_source() };
            let c = compare::compare(run, *language, answer, reference)?;
            let mut g = Grade::scored(c.score * max, max, format!("Your result reproduces {} of the reference's {} results.", c.matched, c.expected));
            g.missed = c.diff;
            if g.verdict != Verdict::Correct {
                g.missed.push(format!("a reference answer: {reference}"));
            }
            g
        }
        (Kind::Rubric, Expected::KeyPoints) => {
            let r = rubric::score(answer, &q.key_points);
            let mut g = Grade::scored(r.score * max, max, format!("Self-check: your answer touches {} of {} key points. Compare it with the model answer.", r.matched.iter().filter(|m| **m).count(), q.key_points.len()));
            g.verdict = Verdict::SelfCheck;
            g.missed = q.key_points.iter().zip(&r.matched).filter(|(_, m)| !**m).map(|(k, _)| k.text.clone()).collect();
            g
        }
        (Kind::AlertRules, Expected::Replay) => super::alerts::grade_rules(answer, run, max)?,
        (Kind::Plan, Expected::Plan { .. }) => super::plan::grade_plan(q, answer, run, max)?,
        _ => return unreachable_source(),
    };
    if hints_used > 0 {
        let cost = (hints_used as f64 * q.hint_cost).min(g.score);
        g.score -= cost;
        let taken = format!("{} hint{} taken", hints_used, if hints_used == 1 { "" } else { "s" });
        if cost > 0.0 {
            g.feedback.push_str(&format!(" ({taken}: −{} point{}.)", plain(cost), if cost == 1.0 { "" } else { "s" }));
        } else {
            g.feedback.push_str(&format!(" ({taken}.)"));
        }
    }
    Ok(g)
}

fn plain(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn unreachable_source() -> Result<Grade, AnswerError> {
    Err(AnswerError::new(0..0, "this question's answer source does not fit its kind (a bug in the scenario file)"))
}

/// An option by id, by its exact text, or by its 1-based number.
fn pick_option(q: &Question, answer: &str) -> Result<String, AnswerError> {
    let a = norm(answer);
    let lead = answer.len() - answer.trim_start().len();
    if let Some(o) = q.options.iter().find(|o| norm(&o.id) == a || norm(&o.text) == a) {
        return Ok(o.id.clone());
    }
    if let Ok(n) = a.parse::<usize>() {
        if n >= 1 && n <= q.options.len() {
            return Ok(q.options[n - 1].id.clone());
        }
    }
    Err(AnswerError::new(lead..lead + answer.trim().len(), format!("{:?} is not an option; expected one of {}", answer.trim(), q.options.iter().map(|o| o.id.as_str()).collect::<Vec<_>>().join(", "))))
}
