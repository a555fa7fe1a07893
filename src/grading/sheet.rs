//! Answer sheets: the JSON a learner's answers travel in (exported from the
//! browser, collected by a facilitator, fed to `obslab grade`), and the JSON
//! of questions and of graded results. The format, versioned:
//!
//! ```json
//! {"format": "obslab-answers/1", "scenario": "intermittent-p99", "seed": 7,
//!  "answers": [{"id": "culprit", "answer": "product-catalog", "hints": 1}]}
//! ```
//!
//! `answers` may also be an object `{"culprit": "product-catalog"}`.

use super::grade::{expected, grade};
use super::question::{Kind, Question, Source};
use super::{AnswerError, Grade};
use crate::json::{self, JsonValue, JsonWriter};
use crate::sim::Run;

pub const FORMAT: &str = "obslab-answers/1";

#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub id: String,
    pub answer: String,
    pub hints: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub scenario: Option<String>,
    pub seed: Option<u64>,
    /// A learner's name or label, if the sheet carries one.
    pub learner: Option<String>,
    pub answers: Vec<Answer>,
}

/// A sheet that cannot be read: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetError {
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for SheetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.at, self.message)
    }
}

fn serr<T>(message: impl Into<String>) -> Result<T, SheetError> {
    Err(SheetError { at: 0, message: message.into() })
}

/// Reads an answer sheet.
pub fn parse_sheet(src: &str) -> Result<Sheet, SheetError> {
    let v = json::parse(src).map_err(|e| SheetError { at: e.at, message: e.message })?;
    if !matches!(v, JsonValue::Object(_)) {
        return serr(format!("expected an object with \"answers\", found {}", v.describe()));
    }
    if let Some(f) = v.get("format") {
        match f.as_str() {
            Some(FORMAT) => {}
            Some(other) => return serr(format!("this sheet is in format {other:?}; this version reads {FORMAT:?}")),
            None => return serr("\"format\" must be a string"),
        }
    }
    let seed = match v.get("seed") {
        None | Some(JsonValue::Null) => None,
        Some(JsonValue::Number(n)) if n.fract() == 0.0 && *n >= 0.0 && *n <= 9.007e15 => Some(*n as u64),
        Some(JsonValue::String(s)) => Some(s.parse::<u64>().or_else(|_| serr(format!("\"seed\" {s:?} is not a whole number")))?),
        Some(other) => return serr(format!("\"seed\" must be a whole number, found {}", other.describe())),
    };
    let text = |v: Option<&JsonValue>, name: &str| -> Result<Option<String>, SheetError> {
        match v {
            None | Some(JsonValue::Null) => Ok(None),
            Some(JsonValue::String(s)) => Ok(Some(s.clone())),
            Some(o) => serr(format!("\"{name}\" must be a string, found {}", o.describe())),
        }
    };
    let answer_text = |v: &JsonValue, id: &str| -> Result<String, SheetError> {
        match v {
            JsonValue::String(s) => Ok(s.clone()),
            JsonValue::Number(n) => Ok(crate::query::promql::format_value(*n)),
            JsonValue::Array(items) => items.iter().map(|i| i.as_str().map(str::to_string).ok_or(())).collect::<Result<Vec<_>, _>>().map(|v| v.join(", ")).or_else(|_| serr(format!("answer to {id:?}: a list must hold strings"))),
            o => serr(format!("answer to {id:?} must be a string, found {}", o.describe())),
        }
    };
    let mut answers = Vec::new();
    match v.get("answers") {
        Some(JsonValue::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let id = item.get("id").and_then(|v| v.as_str()).ok_or_else(|| SheetError { at: 0, message: format!("answers[{i}] needs an \"id\" string") })?;
                let answer = answer_text(item.get("answer").unwrap_or(&JsonValue::String(String::new())), id)?;
                let hints = match item.get("hints") {
                    None | Some(JsonValue::Null) => 0,
                    Some(JsonValue::Number(n)) if n.fract() == 0.0 && *n >= 0.0 && *n < 1000.0 => *n as u32,
                    Some(o) => return serr(format!("answers[{i}].hints must be a small whole number, found {}", o.describe())),
                };
                answers.push(Answer { id: id.to_string(), answer, hints });
            }
        }
        Some(JsonValue::Object(m)) => {
            for (id, a) in m {
                answers.push(Answer { id: id.clone(), answer: answer_text(a, id)?, hints: 0 });
            }
        }
        Some(o) => return serr(format!("\"answers\" must be an array or an object, found {}", o.describe())),
        None => return serr("the sheet has no \"answers\""),
    }
    Ok(Sheet { scenario: text(v.get("scenario"), "scenario")?, seed, learner: text(v.get("learner"), "learner")?, answers })
}

/// Writes the questions (without their answers unless `key`).
pub fn questions_json(run: &Run, key: bool) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("scenario", &run.model.id).field_int("seed", run.seed as i128);
    w.field_float("max_score", run.model.questions.iter().map(|q| q.points).sum());
    w.key("questions").begin_array();
    for q in &run.model.questions {
        write_question(&mut w, q);
        if key {
            match expected(q, run) {
                Ok(e) => w.field_str("expected", &e.display()),
                Err(e) => w.field_str("expected_error", &e.0),
            };
        }
        w.end_object();
    }
    w.end_array().end_object();
    w.finish()
}

/// Opens the question's object and writes its fields (the caller closes it).
fn write_question(w: &mut JsonWriter, q: &Question) {
    w.begin_object().field_str("id", &q.id).field_str("kind", q.kind.as_str()).field_str("prompt", &q.prompt).field_float("points", q.points);
    if let Some(e) = q.entity {
        w.field_str("entity", e.as_str());
    }
    if let Some(d) = q.dimension {
        w.field_str("unit", d.as_str());
    }
    if let Source::Reference { language, .. } = &q.source {
        w.field_str("language", language.as_str());
    }
    if matches!(q.kind, Kind::Choice | Kind::Multi) {
        w.key("options").begin_array();
        for o in &q.options {
            w.begin_object().field_str("id", &o.id).field_str("text", &o.text).end_object();
        }
        w.end_array();
    }
    if let Some(b) = q.series_budget {
        w.field_int("series_budget", b as i128);
    }
    w.field_int("hints", q.hints.len() as i128).field_float("hint_cost", q.hint_cost);
}

/// One question's result on a sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Graded {
    pub id: String,
    pub result: Result<Grade, AnswerError>,
    pub answered: bool,
}

/// Grades every question of the run's scenario against the sheet.
/// Unanswered questions score 0; answers to unknown ids are reported.
pub fn grade_sheet(run: &Run, sheet: &Sheet) -> (Vec<Graded>, Vec<String>) {
    let mut out = Vec::new();
    for q in &run.model.questions {
        match sheet.answers.iter().rev().find(|a| a.id == q.id) {
            Some(a) => out.push(Graded { id: q.id.clone(), result: grade(q, &a.answer, run, a.hints), answered: true }),
            None => out.push(Graded { id: q.id.clone(), result: Ok(Grade::scored(0.0, q.points, "Not answered.")), answered: false }),
        }
    }
    let unknown = sheet.answers.iter().filter(|a| !run.model.questions.iter().any(|q| q.id == a.id)).map(|a| a.id.clone()).collect();
    (out, unknown)
}

/// The graded sheet as JSON (what `obslab grade` prints).
pub fn results_json(run: &Run, sheet: &Sheet, graded: &[Graded], unknown: &[String]) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("scenario", &run.model.id).field_int("seed", run.seed as i128);
    if let Some(l) = &sheet.learner {
        w.field_str("learner", l);
    }
    let score: f64 = graded.iter().filter_map(|g| g.result.as_ref().ok()).map(|g| g.score).sum();
    let max: f64 = run.model.questions.iter().map(|q| q.points).sum();
    w.field_float("score", score).field_float("max_score", max);
    w.key("questions").begin_array();
    for (g, q) in graded.iter().zip(&run.model.questions) {
        w.begin_object().field_str("id", &g.id).field_bool("answered", g.answered);
        match &g.result {
            Ok(gr) => {
                w.field_float("score", gr.score).field_float("max", gr.max).field_str("verdict", gr.verdict.as_str()).field_str("feedback", &gr.feedback);
                w.key("missed").begin_array();
                for m in &gr.missed {
                    w.string(m);
                }
                w.end_array();
            }
            Err(e) => {
                w.field_float("score", 0.0).field_float("max", q.points).field_str("verdict", "invalid");
                w.key("error").begin_object().field_str("message", &e.message).field_int("start", e.span.start as i128).field_int("end", e.span.end as i128).end_object();
            }
        }
        if g.answered {
            w.field_str("explanation", q.explanation.trim());
        }
        w.end_object();
    }
    w.end_array();
    w.key("unknown_ids").begin_array();
    for u in unknown {
        w.string(u);
    }
    w.end_array().end_object();
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheets_read_both_shapes_and_reject_bad_ones_with_a_reason() {
        let s = parse_sheet(r#"{"format":"obslab-answers/1","scenario":"x","seed":7,"answers":[{"id":"a","answer":"b","hints":2},{"id":"m","answer":["metrics","logs"]}]}"#).unwrap();
        assert_eq!(s.seed, Some(7));
        assert_eq!(s.answers[0], Answer { id: "a".into(), answer: "b".into(), hints: 2 });
        assert_eq!(s.answers[1].answer, "metrics, logs");
        let s = parse_sheet(r#"{"answers":{"a":"b","n":43.2}}"#).unwrap();
        assert_eq!(s.answers[1].answer, "43.2");
        for (bad, says) in [
            ("[]", "expected an object"),
            (r#"{"answers":3}"#, "must be an array"),
            (r#"{"format":"obslab-answers/9","answers":[]}"#, "format"),
            (r#"{"answers":[{"answer":"x"}]}"#, "needs an \"id\""),
            (r#"{"seed":-1,"answers":[]}"#, "whole number"),
            (r#"{"answers":[{"id":"a","hints":1e9}]}"#, "hints"),
            ("{", "member name"),
        ] {
            let e = parse_sheet(bad).unwrap_err();
            assert!(e.message.contains(says), "{bad}: {e}");
        }
    }
}
