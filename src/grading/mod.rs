//! Grading: turns a learner's answer to a scenario question into a [`Grade`]
//! (score, verdict, feedback and the evidence they missed). Expected answers
//! are always derived from the run (its ground truth and its telemetry),
//! never from constants written in the question.
//!
//! One module per kind of answer: [`quantity`] (numbers with units),
//! [`rubric`] (free-text key points), [`alerts`] (alert rules replayed over
//! history), [`plan`] (instrumentation plans judged by rules, with their
//! series and storage estimate), [`solver`] (the automated solver that proves questions fair).

pub mod alerts;
pub mod catalogue;
pub mod compare;
pub mod grade;
pub mod plan;
pub mod progress;
pub mod question;
pub mod quantity;
pub mod rubric;
pub mod sheet;
pub mod solver;

use std::fmt;
use std::ops::Range;

/// An answer that cannot be read: the byte range of the answer text it is
/// about and a sentence saying what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerError {
    pub span: Range<usize>,
    pub message: String,
}

impl AnswerError {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        AnswerError { span, message: message.into() }
    }
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}..{}: {}", self.span.start, self.span.end, self.message)
    }
}

impl std::error::Error for AnswerError {}

/// The outcome class of a graded answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Correct,
    Partial,
    Wrong,
    /// Scored by the learner against a model answer (rubric questions).
    SelfCheck,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Partial => "partial",
            Verdict::Wrong => "wrong",
            Verdict::SelfCheck => "self_check",
        }
    }
}

/// A graded answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    pub score: f64,
    pub max: f64,
    pub verdict: Verdict,
    /// One or more sentences for the learner.
    pub feedback: String,
    /// What the learner missed, from the run's data (series, traces, windows).
    pub missed: Vec<String>,
}

impl Grade {
    /// A grade from a score in `0..=max`: correct at max, wrong at 0.
    pub fn scored(score: f64, max: f64, feedback: impl Into<String>) -> Grade {
        let score = if score.is_finite() { score.clamp(0.0, max) } else { 0.0 };
        let verdict = if score >= max - 1e-9 {
            Verdict::Correct
        } else if score <= 1e-9 {
            Verdict::Wrong
        } else {
            Verdict::Partial
        };
        Grade { score, max, verdict, feedback: feedback.into(), missed: Vec::new() }
    }
}
