//! The grader on real runs: for every built-in scenario and several seeds,
//! the expected answer (derived from the run) written as a learner would
//! scores full marks, and deliberately wrong answers score less.

use obslab::grading::grade::{expected, grade, Expected};
use obslab::grading::question::{Kind, Question};
use obslab::grading::Verdict;
use obslab::scenario::load_builtin;
use obslab::sim::{self, time::SimDuration, Run};

fn run(id: &str, seed: u64, duration: Option<SimDuration>) -> Run {
    let model = if id == obslab::scenario::drill::ID { obslab::scenario::drill::model(seed).unwrap() } else { load_builtin(id).unwrap() };
    sim::run(&model, seed, duration)
}

/// A number as a learner would type it, in base units.
fn typed(value: f64, dim: obslab::grading::quantity::Dimension) -> String {
    use obslab::grading::quantity::Dimension::*;
    match dim {
        Time => format!("{value} s"),
        Ratio => format!("{}%", value * 100.0),
        Count => format!("{value}"),
        Rate => format!("{value}/s"),
        Bytes => format!("{value} B"),
    }
}

/// The reference answer as text a learner would type.
fn reference_answer(q: &Question, run: &Run) -> String {
    match expected(q, run).unwrap_or_else(|e| panic!("{}: {}", q.id, e)) {
        Expected::Number { value, dim } => typed(value, dim),
        Expected::Windows(w) => format!("{} to {}", obslab::scenario::model::format_rfc3339_ms(w[0].0), obslab::scenario::model::format_rfc3339_ms(w[0].1)),
        Expected::KeyPoints => q.model_answer.clone(),
        Expected::Replay => obslab::grading::alerts::reference_rules_text(run),
        e => e.display(),
    }
}

/// A wrong answer of the same shape.
fn wrong_answer(q: &Question, run: &Run) -> Option<String> {
    Some(match expected(q, run).ok()? {
        Expected::Entity(names) => run.model.services.iter().map(|s| s.name.clone()).find(|s| !names.contains(s) && !names.iter().any(|n| n.ends_with(&s[s.find('/').unwrap_or(0)..])))?,
        Expected::Choice(id) => q.options.iter().find(|o| o.id != id)?.id.clone(),
        Expected::Choices(ids) => q.options.iter().filter(|o| !ids.contains(&o.id)).map(|o| o.id.clone()).collect::<Vec<_>>().join(", "),
        Expected::Number { value, dim } => typed(value * 0.3, dim),
        Expected::Windows(w) => {
            // An hour before the first incident is outside every window.
            let a = w[0].0 - 3_600_000;
            format!("{} to {}", obslab::scenario::model::format_rfc3339_ms(a), obslab::scenario::model::format_rfc3339_ms(a + 60_000))
        }
        Expected::Evidence(ev) => {
            let store = &run.telemetry.traces;
            store.traces().iter().map(|t| t.trace_id).find(|t| !ev.iter().any(|(e, _)| e == t))?.to_string()
        }
        Expected::Query(_) => match q.source {
            obslab::grading::question::Source::Reference { language: obslab::grading::question::Language::PromQL, .. } => "sum by (instance) (rate(http_server_request_duration_seconds_count[5m]))".into(),
            _ => return None,
        },
        Expected::KeyPoints => "I would restart everything and hope.".into(),
        Expected::Replay => "alert: Always\nexpr: vector(1)".into(),
    })
}

fn check_scenario(id: &str, seeds: &[u64], duration: Option<SimDuration>) {
    for &seed in seeds {
        let r = run(id, seed, duration);
        assert!(!r.model.questions.is_empty(), "{id} has questions");
        for q in &r.model.questions {
            let answer = reference_answer(q, &r);
            let g = grade(q, &answer, &r, 0).unwrap_or_else(|e| panic!("{id} seed {seed} {}: reference answer {answer:?} rejected: {e}", q.id));
            assert!(g.score >= q.points - 1e-9, "{id} seed {seed} {}: reference answer {answer:?} scored {}/{}: {} {:?}", q.id, g.score, g.max, g.feedback, g.missed);
            let want = if q.kind == Kind::Rubric { Verdict::SelfCheck } else { Verdict::Correct };
            assert_eq!(g.verdict, want, "{id} {}", q.id);
            if !q.hints.is_empty() {
                let h = grade(q, &answer, &r, 1).unwrap();
                assert!(h.score < g.score, "{id} {}: a hint costs points", q.id);
            }
            if let Some(bad) = wrong_answer(q, &r) {
                let w = grade(q, &bad, &r, 0).unwrap_or_else(|e| panic!("{id} seed {seed} {}: wrong answer {bad:?} rejected: {e}", q.id));
                assert!(w.score < q.points, "{id} seed {seed} {}: wrong answer {bad:?} scored {}/{}", q.id, w.score, w.max);
            }
        }
    }
}

#[test]
fn intermittent_p99_reference_answers_score_full_marks() {
    check_scenario("intermittent-p99", &[1, 2, 3, 7], Some(SimDuration::from_secs(20 * 60)));
}

#[test]
fn bookstore_reference_answers_score_full_marks() {
    check_scenario("bookstore", &[1, 7], Some(SimDuration::from_secs(15 * 60)));
}

#[test]
fn slo_rollout_reference_answers_score_full_marks() {
    check_scenario("slo-rollout", &[1, 7], None);
}

#[test]
fn drill_reference_answers_score_full_marks() {
    check_scenario("drill", &[4, 5, 6, 4127], None);
}

#[test]
fn the_policy_answer_depends_on_the_seed() {
    let q = |r: &Run| r.model.questions.iter().find(|q| q.id == "policy").cloned().unwrap();
    let answers: std::collections::BTreeSet<String> = (1..=12)
        .map(|seed| {
            let r = run("slo-rollout", seed, None);
            expected(&q(&r), &r).unwrap().display()
        })
        .collect();
    assert_eq!(answers.len(), 2, "some months leave budget and some exhaust it: {answers:?}");
}
