//! Saved progress: what a learner answered per scenario and seed, the hints
//! they took and the grades they got, as the versioned JSON the browser
//! keeps under [`STORAGE_KEY`]. The format:
//!
//! ```json
//! {"format": "obslab-progress/1",
//!  "runs": [{"scenario": "intermittent-p99", "seed": 7,
//!            "answers": [{"id": "culprit", "answer": "checkout", "hints": 1,
//!                         "grade": {"score": 1, "max": 2, "verdict": "correct"}}]}]}
//! ```
//!
//! `runs` are in the order they were last changed (the newest last). A seed
//! above 2^53 is written as a string, since JSON readers keep numbers as
//! doubles. Reading never panics and never guesses: anything that is not
//! this format is a [`ProgressError`] for the UI to report and set aside
//! (under [`backup_key`]), so progress is never dropped silently. A run's
//! progress also exports as an answer sheet ([`sheet_json`], in
//! [`sheet::FORMAT`]) that `obslab grade` reads.

use super::sheet::{self, Sheet};
use super::{Grade, Verdict};
use crate::json::{self, JsonValue, JsonWriter};
// Line and column as `obslab grade` reports them for the same file.
use crate::scenario::line_col;
use std::fmt;

/// The format this version writes and reads.
pub const FORMAT: &str = "obslab-progress/1";
/// The localStorage key of the progress.
pub const STORAGE_KEY: &str = "obslab.progress.v1";
/// Unreadable progress is moved to this prefix plus a number (1, 2, ...).
pub const CORRUPT_KEY_PREFIX: &str = "obslab.progress.corrupt.";

/// The largest seed a JSON number holds exactly.
const MAX_EXACT: u64 = 1 << 53;
/// More hints than any question has: a bound, so a hand-edited value stays sane.
const MAX_HINTS: u32 = 1000;

/// Everything saved, for every scenario and seed the learner opened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Oldest change first.
    pub runs: Vec<RunProgress>,
}

/// One scenario run (scenario and seed): the answers to its questions.
#[derive(Clone, Debug, PartialEq)]
pub struct RunProgress {
    pub scenario: String,
    pub seed: u64,
    /// At most one per question id.
    pub answers: Vec<SavedAnswer>,
}

/// A question's saved state: the answer last graded (or imported, not yet
/// graded: `grade` is `None`), and the hints taken.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedAnswer {
    pub id: String,
    pub answer: String,
    pub hints: u32,
    pub grade: Option<SavedGrade>,
}

/// What the catalogue shows without simulating the run again.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SavedGrade {
    pub score: f64,
    pub max: f64,
    pub verdict: Verdict,
}

impl SavedGrade {
    pub fn of(g: &Grade) -> SavedGrade {
        SavedGrade { score: g.score, max: g.max, verdict: g.verdict }
    }
}

/// Answered questions and their points, for a progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub answered: usize,
    pub score: f64,
}

impl RunProgress {
    pub fn new(scenario: impl Into<String>, seed: u64) -> RunProgress {
        RunProgress { scenario: scenario.into(), seed, answers: Vec::new() }
    }

    pub fn get(&self, id: &str) -> Option<&SavedAnswer> {
        self.answers.iter().find(|a| a.id == id)
    }

    /// Replaces the saved state of `a.id` (or adds it).
    pub fn set(&mut self, a: SavedAnswer) {
        match self.answers.iter_mut().find(|x| x.id == a.id) {
            Some(x) => *x = a,
            None => self.answers.push(a),
        }
    }

    /// Graded answers among `ids` (the scenario's questions today: a
    /// question since removed from the file no longer counts).
    pub fn summary(&self, ids: &[&str]) -> Summary {
        let mut s = Summary::default();
        for a in self.answers.iter().filter(|a| ids.contains(&a.id.as_str())) {
            if let Some(g) = a.grade {
                s.answered += 1;
                s.score += g.score;
            }
        }
        s
    }
}

impl Progress {
    pub fn run(&self, scenario: &str, seed: u64) -> Option<&RunProgress> {
        self.runs.iter().find(|r| r.scenario == scenario && r.seed == seed)
    }

    /// The runs of one scenario, the most recently changed first.
    pub fn runs_of<'a>(&'a self, scenario: &'a str) -> impl Iterator<Item = &'a RunProgress> + 'a {
        self.runs.iter().rev().filter(move |r| r.scenario == scenario)
    }

    /// Stores `run`, replacing the one with its scenario and seed, as the
    /// most recent change.
    pub fn put(&mut self, run: RunProgress) {
        self.runs.retain(|r| !(r.scenario == run.scenario && r.seed == run.seed));
        self.runs.push(run);
    }
}

/// Saved progress that cannot be read: where (line and column, when the
/// JSON itself is broken) and why, in a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgressError {
    /// 1-based line and column of a syntax error.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ProgressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((l, c)) => write!(f, "line {l}, column {c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ProgressError {}

fn perr<T>(message: impl Into<String>) -> Result<T, ProgressError> {
    Err(ProgressError { at: None, message: message.into() })
}

/// Reads saved progress.
pub fn parse(src: &str) -> Result<Progress, ProgressError> {
    let v = json::parse(src).map_err(|e| ProgressError { at: Some(line_col(src, e.at)), message: e.message })?;
    if !matches!(v, JsonValue::Object(_)) {
        return perr(format!("expected an object with \"format\" and \"runs\", found {}", v.describe()));
    }
    match v.get("format") {
        Some(JsonValue::String(f)) if f == FORMAT => {}
        Some(JsonValue::String(f)) => return perr(format!("it is in format {f:?}; this version of obslab reads {FORMAT:?}")),
        Some(o) => return perr(format!("\"format\" must be a string, found {}", o.describe())),
        None => return perr("it has no \"format\""),
    }
    let Some(runs) = v.get("runs") else { return perr("it has no \"runs\"") };
    let Some(runs) = runs.as_array() else { return perr(format!("\"runs\" must be an array, found {}", runs.describe())) };
    let mut out = Progress::default();
    for (i, r) in runs.iter().enumerate() {
        let at = format!("runs[{i}]");
        let scenario = string(r.get("scenario"), &format!("{at}.scenario"))?;
        let seed = seed(r.get("seed"), &format!("{at}.seed"))?;
        let mut run = RunProgress::new(scenario, seed);
        let Some(answers) = r.get("answers").and_then(JsonValue::as_array) else {
            return perr(format!("{at}.answers must be an array"));
        };
        for (j, a) in answers.iter().enumerate() {
            let at = format!("{at}.answers[{j}]");
            let id = string(a.get("id"), &format!("{at}.id"))?;
            if id.is_empty() {
                return perr(format!("{at}.id is empty"));
            }
            let answer = string(a.get("answer"), &format!("{at}.answer"))?;
            let hints = match a.get("hints") {
                None => 0,
                Some(JsonValue::Number(n)) if n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_HINTS as f64 => *n as u32,
                Some(o) => return perr(format!("{at}.hints must be a whole number up to {MAX_HINTS}, found {}", o.describe())),
            };
            let grade = match a.get("grade") {
                None | Some(JsonValue::Null) => None,
                Some(g) => Some(saved_grade(g, &format!("{at}.grade"))?),
            };
            run.set(SavedAnswer { id, answer, hints, grade });
        }
        out.put(run);
    }
    Ok(out)
}

fn string(v: Option<&JsonValue>, at: &str) -> Result<String, ProgressError> {
    match v {
        Some(JsonValue::String(s)) => Ok(s.clone()),
        Some(o) => perr(format!("{at} must be a string, found {}", o.describe())),
        None => perr(format!("{at} is missing")),
    }
}

fn seed(v: Option<&JsonValue>, at: &str) -> Result<u64, ProgressError> {
    match v {
        Some(JsonValue::Number(n)) if n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_EXACT as f64 => Ok(*n as u64),
        Some(JsonValue::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().or_else(|_| perr(format!("{at} {s:?} is too large"))),
        Some(o) => perr(format!("{at} must be a whole number, found {}", o.describe())),
        None => perr(format!("{at} is missing")),
    }
}

fn saved_grade(g: &JsonValue, at: &str) -> Result<SavedGrade, ProgressError> {
    let num = |k: &str| match g.get(k) {
        Some(JsonValue::Number(n)) if n.is_finite() && *n >= 0.0 => Ok(*n),
        _ => perr(format!("{at}.{k} must be a number of points")),
    };
    let (score, max) = (num("score")?, num("max")?);
    if score > max {
        return perr(format!("{at}: the score {score} is above the maximum {max}"));
    }
    let verdict = match g.get("verdict").and_then(JsonValue::as_str) {
        Some("correct") => Verdict::Correct,
        Some("partial") => Verdict::Partial,
        Some("wrong") => Verdict::Wrong,
        Some("self_check") => Verdict::SelfCheck,
        _ => return perr(format!("{at}.verdict must be correct, partial, wrong or self_check")),
    };
    Ok(SavedGrade { score, max, verdict })
}

fn write_seed(w: &mut JsonWriter, seed: u64) {
    if seed <= MAX_EXACT {
        w.field_int("seed", seed as i128);
    } else {
        w.field_str("seed", &seed.to_string());
    }
}

/// Writes progress in [`FORMAT`]; [`parse`] reads it back unchanged.
pub fn to_json(p: &Progress) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("format", FORMAT).key("runs").begin_array();
    for r in &p.runs {
        w.begin_object().field_str("scenario", &r.scenario);
        write_seed(&mut w, r.seed);
        w.key("answers").begin_array();
        for a in &r.answers {
            w.begin_object().field_str("id", &a.id).field_str("answer", &a.answer).field_int("hints", a.hints as i128);
            if let Some(g) = a.grade {
                w.key("grade").begin_object().field_float("score", g.score).field_float("max", g.max).field_str("verdict", g.verdict.as_str()).end_object();
            }
            w.end_object();
        }
        w.end_array().end_object();
    }
    w.end_array().end_object();
    w.finish()
}

/// The run's answers as an answer sheet (`obslab grade SCENARIO --seed N
/// --answers FILE` grades it): every non-empty answer with its hints.
pub fn sheet_json(run: &RunProgress) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("format", sheet::FORMAT).field_str("scenario", &run.scenario);
    write_seed(&mut w, run.seed);
    w.key("answers").begin_array();
    for a in run.answers.iter().filter(|a| !a.answer.trim().is_empty()) {
        w.begin_object().field_str("id", &a.id).field_str("answer", &a.answer).field_int("hints", a.hints as i128).end_object();
    }
    w.end_array().end_object();
    let mut s = w.finish();
    s.push('\n');
    s
}

/// An imported answer sheet that does not fit this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// Not an answer sheet; `at` is the line and column of a JSON syntax error.
    Unreadable { at: Option<(usize, usize)>, message: String },
    /// Answers for another scenario.
    OtherScenario(String),
    /// Answers for another seed of this scenario: open that seed to import them.
    OtherSeed(u64),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Unreadable { at: Some((l, c)), message } => write!(f, "line {l}, column {c}: {message}"),
            ImportError::Unreadable { at: None, message } => f.write_str(message),
            ImportError::OtherScenario(s) => write!(f, "this file holds answers to the scenario {s:?}"),
            ImportError::OtherSeed(s) => write!(f, "this file holds answers for seed {s}"),
        }
    }
}

/// Reads an answer sheet for `scenario` and `seed` (a sheet that names
/// neither is taken as this run's).
pub fn read_sheet(src: &str, scenario: &str, seed: u64) -> Result<Sheet, ImportError> {
    // The JSON first, for the line and column of a syntax error.
    if let Err(e) = json::parse(src) {
        return Err(ImportError::Unreadable { at: Some(line_col(src, e.at)), message: e.message });
    }
    let s = sheet::parse_sheet(src).map_err(|e| ImportError::Unreadable { at: None, message: e.message })?;
    if let Some(other) = s.scenario.as_deref().filter(|s| *s != scenario) {
        return Err(ImportError::OtherScenario(other.to_string()));
    }
    if let Some(other) = s.seed.filter(|s| *s != seed) {
        return Err(ImportError::OtherSeed(other));
    }
    Ok(s)
}

/// The first free backup key (`obslab.progress.corrupt.1`, `.2`, ...) for
/// unreadable progress; `taken` says whether a key already holds a value.
pub fn backup_key(taken: impl Fn(&str) -> bool) -> String {
    let mut n = 1u32;
    loop {
        let k = format!("{CORRUPT_KEY_PREFIX}{n}");
        // Past a thousand backups, reuse the last rather than loop for ever.
        if !taken(&k) || n >= 1000 {
            return k;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Progress {
        let mut p = Progress::default();
        let mut r = RunProgress::new("intermittent-p99", 7);
        r.set(SavedAnswer { id: "culprit".into(), answer: "product-catalog".into(), hints: 1, grade: Some(SavedGrade { score: 1.0, max: 2.0, verdict: Verdict::Correct }) });
        r.set(SavedAnswer { id: "evidence".into(), answer: "".into(), hints: 1, grade: None });
        r.set(SavedAnswer { id: "walkthrough".into(), answer: "line 1\n\"quoted\" ✓".into(), hints: 0, grade: Some(SavedGrade { score: 1.5, max: 3.0, verdict: Verdict::SelfCheck }) });
        p.put(r);
        p.put(RunProgress::new("bookstore", u64::MAX));
        p
    }

    #[test]
    fn progress_round_trips() {
        let p = sample();
        let text = to_json(&p);
        assert!(text.contains("\"seed\":\"18446744073709551615\""), "{text}");
        assert_eq!(parse(&text).unwrap(), p);
        assert_eq!(parse(&to_json(&Progress::default())).unwrap(), Progress::default());
    }

    #[test]
    fn put_replaces_and_moves_to_the_end() {
        let mut p = sample();
        p.put(RunProgress::new("intermittent-p99", 7));
        assert_eq!(p.runs.len(), 2);
        assert_eq!(p.runs[1].scenario, "intermittent-p99");
        assert!(p.runs[1].answers.is_empty());
        p.put(RunProgress::new("intermittent-p99", 8));
        let seeds: Vec<u64> = p.runs_of("intermittent-p99").map(|r| r.seed).collect();
        assert_eq!(seeds, [8, 7]);
    }

    #[test]
    fn summary_counts_graded_answers_to_current_questions() {
        let p = sample();
        let r = p.run("intermittent-p99", 7).unwrap();
        assert_eq!(r.summary(&["culprit", "evidence", "walkthrough"]), Summary { answered: 2, score: 2.5 });
        // A question no longer in the scenario does not count.
        assert_eq!(r.summary(&["culprit", "evidence"]), Summary { answered: 1, score: 1.0 });
    }

    #[test]
    fn corrupt_progress_is_an_error_with_a_reason_never_a_panic() {
        for (bad, says) in [
            ("", "line 1, column 1"),
            ("{\"format\":\"obslab-progress/1\",\n \"runs\": [}", "line 2, column 11"),
            ("null", "expected an object"),
            ("{\"runs\":[]}", "no \"format\""),
            ("{\"format\":\"obslab-progress/2\",\"runs\":[]}", "\"obslab-progress/2\""),
            ("{\"format\":1,\"runs\":[]}", "must be a string"),
            ("{\"format\":\"obslab-progress/1\"}", "no \"runs\""),
            ("{\"format\":\"obslab-progress/1\",\"runs\":{}}", "must be an array"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"seed\":1,\"answers\":[]}]}", "runs[0].scenario is missing"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":-1,\"answers\":[]}]}", "runs[0].seed must be a whole number"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1.5,\"answers\":[]}]}", "whole number"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":\"99999999999999999999999\",\"answers\":[]}]}", "too large"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1}]}", "answers must be an array"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1,\"answers\":[{\"id\":\"\",\"answer\":\"a\"}]}]}", "id is empty"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1,\"answers\":[{\"id\":\"a\",\"answer\":3}]}]}", "answer must be a string"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1,\"answers\":[{\"id\":\"a\",\"answer\":\"\",\"hints\":1e9}]}]}", "hints"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1,\"answers\":[{\"id\":\"a\",\"answer\":\"\",\"grade\":{\"score\":3,\"max\":2,\"verdict\":\"correct\"}}]}]}", "above the maximum"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1,\"answers\":[{\"id\":\"a\",\"answer\":\"\",\"grade\":{\"score\":1,\"max\":2,\"verdict\":\"great\"}}]}]}", "verdict"),
            ("{\"format\":\"obslab-progress/1\",\"runs\":[{\"scenario\":\"x\",\"seed\":1,\"answers\":[{\"id\":\"a\",\"answer\":\"\",\"grade\":{\"score\":\"1\",\"max\":2,\"verdict\":\"wrong\"}}]}]}", "score must be a number"),
            (&"[".repeat(10_000), "line 1"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.to_string().contains(says), "{bad:.80}: {e}");
        }
        // Truncated at every byte: always an error, never a panic.
        let text = to_json(&sample());
        for i in 0..text.len() {
            if text.is_char_boundary(i) {
                assert!(parse(&text[..i]).is_err(), "{}", &text[..i]);
            }
        }
    }

    #[test]
    fn unknown_fields_are_ignored_within_the_version() {
        let p = parse("{\"format\":\"obslab-progress/1\",\"saved_at\":1,\"runs\":[{\"scenario\":\"x\",\"seed\":\"12\",\"answers\":[{\"id\":\"a\",\"answer\":\"b\",\"note\":true}]}]}").unwrap();
        assert_eq!(p.runs[0].seed, 12);
        assert_eq!(p.runs[0].answers[0], SavedAnswer { id: "a".into(), answer: "b".into(), hints: 0, grade: None });
    }

    #[test]
    fn a_run_exports_as_a_sheet_that_obslab_grade_reads() {
        let p = sample();
        let r = p.run("intermittent-p99", 7).unwrap();
        let text = sheet_json(r);
        let s = sheet::parse_sheet(&text).unwrap();
        assert_eq!(s.scenario.as_deref(), Some("intermittent-p99"));
        assert_eq!(s.seed, Some(7));
        // Empty answers are not exported; hints travel with the answers.
        assert_eq!(s.answers.len(), 2);
        assert_eq!(s.answers[0], sheet::Answer { id: "culprit".into(), answer: "product-catalog".into(), hints: 1 });
        assert_eq!(s.answers[1].answer, "line 1\n\"quoted\" ✓");
        assert_eq!(read_sheet(&text, "intermittent-p99", 7).unwrap(), s);
        let big = sheet_json(&RunProgress::new("bookstore", u64::MAX));
        assert_eq!(sheet::parse_sheet(&big).unwrap().seed, Some(u64::MAX));
    }

    #[test]
    fn imports_check_the_scenario_and_seed_and_place_syntax_errors() {
        let text = sheet_json(sample().run("intermittent-p99", 7).unwrap());
        assert_eq!(read_sheet(&text, "bookstore", 7), Err(ImportError::OtherScenario("intermittent-p99".into())));
        assert_eq!(read_sheet(&text, "intermittent-p99", 8), Err(ImportError::OtherSeed(7)));
        // A sheet without scenario and seed is this run's.
        assert_eq!(read_sheet("{\"answers\":{\"culprit\":\"cart\"}}", "intermittent-p99", 8).unwrap().answers.len(), 1);
        match read_sheet("{\n  \"answers\": [\n    {\"id\": \"a\" \"answer\": \"b\"}\n  ]\n}", "x", 1) {
            Err(ImportError::Unreadable { at: Some((3, 16)), .. }) => {}
            other => panic!("{other:?}"),
        }
        match read_sheet("{\"answers\":[{\"answer\":\"b\"}]}", "x", 1) {
            Err(ImportError::Unreadable { at: None, message }) => assert!(message.contains("needs an \"id\""), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backups_take_the_first_free_number() {
        assert_eq!(backup_key(|_| false), "obslab.progress.corrupt.1");
        assert_eq!(backup_key(|k| k.ends_with(".1") || k.ends_with(".2")), "obslab.progress.corrupt.3");
        assert_eq!(backup_key(|_| true), "obslab.progress.corrupt.1000");
    }
}
