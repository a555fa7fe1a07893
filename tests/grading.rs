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
        Expected::Plan { reference, .. } => reference.replace("\"status\"]", "\"status\", \"user_id\"]"),
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
    check_scenario("bookstore", &(1..=20).collect::<Vec<_>>(), Some(SimDuration::from_secs(15 * 60)));
}

#[test]
fn slo_rollout_reference_answers_score_full_marks() {
    check_scenario("slo-rollout", &(1..=20).collect::<Vec<_>>(), None);
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

/// The bookstore's plan question on one run, and graders for plans.
mod plan {
    use super::*;
    use obslab::grading::plan::{estimate, parse_plan, render, WEIGHTS};
    use obslab::grading::Grade;
    use obslab::scenario::model::MetricLabel;
    use std::sync::OnceLock;

    fn shared() -> &'static Run {
        static RUN: OnceLock<Run> = OnceLock::new();
        RUN.get_or_init(|| run("bookstore", 3, Some(SimDuration::from_secs(15 * 60))))
    }

    fn question(r: &Run) -> Question {
        r.model.questions.iter().find(|q| q.kind == Kind::Plan).cloned().expect("the bookstore has a plan question")
    }

    fn reference(r: &Run) -> String {
        expected(&question(r), r).unwrap().display()
    }

    fn graded(text: &str) -> Grade {
        let r = shared();
        grade(&question(r), text, r, 0).unwrap_or_else(|e| panic!("{text}\nrejected: {e}"))
    }

    fn weight(id: &str) -> f64 {
        WEIGHTS.iter().find(|(i, _)| *i == id).unwrap().1
    }

    /// Asserts the plan loses exactly the weights of `failing`, and the
    /// feedback says each of `says`.
    fn expect(text: &str, failing: &[&str], says: &[&str]) {
        let g = graded(text);
        let q = question(shared());
        let lost: f64 = failing.iter().map(|f| weight(f)).sum();
        assert!((g.score - (1.0 - lost) * q.points).abs() < 1e-9, "{text}\nscored {}/{} ({failing:?} should fail):\n{}", g.score, g.max, g.feedback);
        for f in failing {
            assert!(g.missed.iter().any(|m| m.starts_with(&format!("{f}:"))), "{f} should be in missed: {:?}", g.missed);
        }
        for s in says {
            assert!(g.feedback.contains(s), "feedback should say {s:?}:\n{}", g.feedback);
        }
    }

    fn with(edit: &str, to: &str) -> String {
        let r = reference(shared());
        assert!(r.contains(edit), "{edit} not in {r}");
        r.replace(edit, to)
    }

    #[test]
    fn the_reference_plan_passes_every_check() {
        let g = graded(&reference(shared()));
        assert_eq!(g.verdict, Verdict::Correct, "{}", g.feedback);
        assert!(g.feedback.contains("passes 6 of 6"), "{}", g.feedback);
        assert!(g.feedback.contains("GET /books/{id}"), "the routes are named: {}", g.feedback);
    }

    #[test]
    fn the_scenarios_own_plan_is_a_good_one() {
        let src = obslab::scenario::builtin("bookstore").unwrap();
        let at = src.find("\n[instrumentation]\n").unwrap() + 1;
        let end = at + src[at..].find("\n# ---").unwrap();
        let g = graded(&src[at..end]);
        assert_eq!(g.verdict, Verdict::Correct, "{}", g.feedback);
    }

    #[test]
    fn wrong_plans_lose_the_checks_they_break_and_say_why() {
        expect(&with("\"status\"]", "\"status\", \"user_id\"]"), &["bounded", "budget"], &["`user_id` (50,000 values: traffic.users = 50000)", "over the budget of 2,000", "cardinality limit (2,000 label sets per metric)", "otel_metric_overflow"]);
        let raised = with("\"status\"]", "\"status\", \"user_id\"]").replace("cardinality_limit = 2000", "cardinality_limit = 1000000");
        expect(&raised, &["bounded", "budget"], &["the default the re-run keeps to stay quick"]);
        expect(&with("\"route\"", "\"path\""), &["red", "template", "bounded", "budget"], &["GET /books/{id} and GET /orders/{id} lack series of their own", "`path` (40,003 values", "/books/8123"]);
        expect(&with("\"route\", ", ""), &["red", "template"], &["without `route` every route shares one series"]);
        expect(&with(", \"status\"", ""), &["red"], &["without `status`", "no error ratio"]);
        expect(&with("propagation = true", "propagation = false"), &["tracing"], &["propagation is off", "lone span"]);
        expect(&with("tracing = true", "tracing = false"), &["tracing", "logs"], &["tracing is off"]);
        expect(&with("log_trace_ids = true", "log_trace_ids = false"), &["logs"], &["log_trace_ids = false"]);
        expect(&with("log_format = \"json\"", "log_format = \"plain\""), &["logs"], &["plain-text"]);
        expect(&with("metrics = true", "metrics = false"), &["red", "template", "bounded", "budget"], &["metrics are off", "GET /books, GET /books/{id}, POST /orders, GET /orders/{id} and GET /healthz lack coverage"]);
        // A plan must say what it judges, not lean on the defaults.
        expect("metrics = true\nmetric_labels = [\"method\", \"route\", \"status\"]\n", &["tracing", "logs"], &["does not say `tracing` or `propagation`"]);
    }

    #[test]
    fn a_malformed_plan_is_rejected_with_line_column_and_field() {
        let r = shared();
        let text = with("log_level = \"info\"", "log_level = \"loud\"");
        let e = grade(&question(r), &text, r, 0).unwrap_err();
        assert_eq!(&text[e.span.clone()], "\"loud\"");
        assert!(e.message.contains("column 13: instrumentation.log_level: expected debug, info, warn or error"), "{}", e.message);
        let e = grade(&question(r), "[instrumentation]\nmetrics = true\nspans = true\n", r, 0).unwrap_err();
        assert!(e.message.starts_with("line 3, column 1: instrumentation.spans: unknown field `spans`"), "{}", e.message);
    }

    #[test]
    fn the_estimate_multiplies_label_values_replicas_and_series_per_histogram() {
        let r = shared();
        let mut p = parse_plan(&reference(r)).unwrap().instrumentation;
        let e = estimate(&p, r);
        let count = |l: &str| -> u64 {
            let q = format!("count(count by ({l}) (http_server_request_duration_seconds_count))");
            match obslab::query::promql::instant_query(&r.telemetry.series, &q, r.telemetry.start_unix_ms + r.model.duration.micros() / 1000).unwrap() {
                obslab::query::promql::Value::Vector(v) => v[0].f as u64,
                _ => unreachable!(),
            }
        };
        let (methods, routes, statuses) = (count("http_request_method"), count("http_route"), count("http_response_status_code"));
        assert_eq!((methods, routes), (2, 5));
        assert_eq!(e.per_label.iter().map(|l| l.values).collect::<Vec<_>>(), [methods, routes, statuses]);
        let per_set = p.buckets.len() as u64 + 3;
        assert_eq!(e.series, methods * routes * statuses * 2 * per_set + 2, "{}", e.formula());
        assert!((e.bytes_per_month - e.series as f64 * (30.0 * 86400.0 / 15.0) * 1.3).abs() < 1.0);
        p.metric_labels.push(MetricLabel::UserId);
        let u = estimate(&p, r);
        assert_eq!(u.series - 2, (e.series - 2) * r.model.traffic.users as u64, "{}", u.formula());
        p.metric_labels = vec![MetricLabel::Path];
        assert_eq!(estimate(&p, r).per_label[0].values, 3 + 2 * r.model.traffic.products as u64);
        p.metrics = false;
        assert_eq!(estimate(&p, r).series, 0);
        assert_eq!(render(&parse_plan(&render(&p)).unwrap().instrumentation), render(&p));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]
        #[test]
        fn no_answer_text_panics(text in "\\PC{0,80}", cut in 0usize..400, insert in "[\\[\\]=\"a-z_ .0-9\n#{},]{0,12}") {
            let r = shared();
            let q = question(r);
            let _ = grade(&q, &text, r, 0);
            // Damage a real plan so the decoder and resolver see near misses too.
            let good = reference(r);
            let mut at = cut.min(good.len());
            while !good.is_char_boundary(at) { at -= 1; }
            let damaged = format!("{}{}{}", &good[..at], insert, &good[(at + insert.len()).min(good.len())..]);
            if let Err(e) = grade(&q, &damaged, r, 0) {
                proptest::prop_assert!(e.span.end <= damaged.len() && e.span.start <= e.span.end, "{e:?}");
                proptest::prop_assert!(damaged.is_char_boundary(e.span.start) && damaged.is_char_boundary(e.span.end));
            }
        }
    }
}
