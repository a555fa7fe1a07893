//! Grading a query by its result, never its text: the learner's query and
//! the reference run on the same data, and the results are compared series
//! by series (PromQL, LogQL metric queries), line by line (LogQL log
//! queries) or trace by trace (TraceQL). Close answers earn partial credit
//! and a diff says what differs.

use super::question::{expand_range, Language};
use super::AnswerError;
use crate::query::diag::QueryError;
use crate::query::{logql, promql, traceql};
use crate::sim::Run;
use crate::telemetry::metric::Labels;

/// How close a learner's result is to the reference's.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// 0 to 1.
    pub score: f64,
    /// Reference series (or lines, or traces) the answer reproduced.
    pub matched: usize,
    pub expected: usize,
    /// What differs, one sentence each (at most a handful).
    pub diff: Vec<String>,
}

/// Relative tolerance for values (floating-point summation order differs
/// between equivalent queries).
const REL: f64 = 1e-6;

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= REL * a.abs().max(b.abs()) || (a - b).abs() < 1e-12
}

fn query_error(e: QueryError, what: &str) -> AnswerError {
    AnswerError::new(e.span, format!("{what}: {}", e.message))
}

/// The run's window in Unix ms and a step giving ~240 points (at least the
/// scrape interval).
fn window(run: &Run) -> (i64, i64, i64) {
    let start = run.telemetry.start_unix_ms;
    let len_ms = run.model.duration.micros() / 1000;
    let step = (len_ms / 240).max(run.model.scrape_interval.micros() / 1000).max(1000);
    (start + step, start + len_ms, step)
}

/// Runs both queries and compares. An error in the learner's query is an
/// [`AnswerError`] pointing into it; an error in the reference is reported
/// the same way with a note (it would be a bug in the question).
pub fn compare(run: &Run, language: Language, answer: &str, reference: &str) -> Result<Comparison, AnswerError> {
    let (start, end, step) = window(run);
    let secs = run.model.duration.micros() / 1_000_000;
    match language {
        Language::PromQL => {
            let opts = promql::EvalOptions::default();
            let eval = |q: &str, who: &str| -> Result<Vec<(Labels, Vec<(i64, f64)>)>, AnswerError> {
                let expr = promql::parse(&expand_range(q, secs)).map_err(|e| query_error(e, who))?;
                match promql::range_query_with(&run.telemetry.series, &expr, start, end, step, &opts).map_err(|e| query_error(e, who))?.value {
                    promql::Value::Matrix(m) => Ok(m.into_iter().map(|s| (s.labels.without_name(), s.points)).collect()),
                    _ => Ok(Vec::new()),
                }
            };
            let got = eval(answer, "your query")?;
            let want = eval(reference, "the reference query (a bug in the question)")?;
            Ok(compare_series(&got, &want))
        }
        Language::LogQL => {
            let eval = |q: &str, who: &str| -> Result<logql::Value, AnswerError> {
                let expr = logql::parse(q).map_err(|e| query_error(e, who))?;
                let r = logql::query_range_with(&run.telemetry, &expr, start - step, end, step, 100_000, &Default::default()).map_err(|e| query_error(e, who))?;
                Ok(r.value)
            };
            let got = eval(answer, "your query")?;
            let want = eval(reference, "the reference query (a bug in the question)")?;
            Ok(match (got, want) {
                (logql::Value::Matrix(g), logql::Value::Matrix(w)) => {
                    let g: Vec<_> = g.into_iter().map(|s| (s.labels, s.points)).collect();
                    let w: Vec<_> = w.into_iter().map(|s| (s.labels, s.points)).collect();
                    compare_series(&g, &w)
                }
                (logql::Value::Streams(g), logql::Value::Streams(w)) => {
                    let lines = |s: Vec<logql::Stream>| s.into_iter().flat_map(|s| s.entries.into_iter().map(|e| (e.ts_ns, e.line)));
                    let lines = |s| crate::sort::sorted_unique(lines(s));
                    compare_sets(&lines(g), &lines(w), "log lines")
                }
                (logql::Value::Matrix(_), _) => Comparison { score: 0.0, matched: 0, expected: 1, diff: vec!["yours is a metric query; the question asks for log lines".into()] },
                (_, _) => Comparison { score: 0.0, matched: 0, expected: 1, diff: vec!["yours returns log lines; the question asks for a metric query (count_over_time, rate, ...)".into()] },
            })
        }
        Language::TraceQL => {
            let eval = |q: &str, who: &str| -> Result<Vec<String>, AnswerError> {
                let spans = traceql::parse(q).map_err(|e| query_error(e, who))?;
                let opts = traceql::SearchOptions { limit: 1_000_000, ..Default::default() };
                let r = traceql::search_with(&run.telemetry, &spans, &opts).map_err(|e| query_error(e, who))?;
                Ok(crate::sort::sorted_unique(r.traces.into_iter().map(|t| t.trace_id.to_string())))
            };
            let got = eval(answer, "your query")?;
            let want = eval(reference, "the reference query (a bug in the question)")?;
            Ok(compare_sets(&got, &want, "traces"))
        }
    }
}

fn show(l: &Labels) -> String {
    if l.is_empty() { "{}".to_string() } else { l.to_string() }
}

/// Series by label set: a reference series counts as reproduced when the
/// answer has a series with the same labels (the metric name aside) and
/// ≥ 99% of its points agree. Extra series dilute the score.
pub fn compare_series(got: &[(Labels, Vec<(i64, f64)>)], want: &[(Labels, Vec<(i64, f64)>)]) -> Comparison {
    // Sorted vectors searched by halving rather than maps: a map collected
    // from an iterator brings its own copy of the standard sort.
    let mut got_by: Vec<(&Labels, &Vec<(i64, f64)>)> = got.iter().map(|(l, p)| (l, p)).collect();
    crate::sort::sort_by(&mut got_by, |a, b| a.0.cmp(b.0));
    let mut want_keys: Vec<&Labels> = want.iter().map(|(l, _)| l).collect();
    crate::sort::sort(&mut want_keys);
    let mut matched = 0;
    let mut diff = Vec::new();
    let mut missing = Vec::new();
    for (labels, points) in want {
        let Some(mine) = last_of(&got_by, &labels) else {
            missing.push(show(labels));
            continue;
        };
        let mut mine: Vec<(i64, f64)> = mine.to_vec();
        crate::sort::sort_by(&mut mine, |a, b| a.0.cmp(&b.0));
        let mut agree = 0;
        let mut first_bad = None;
        for &(t, v) in points {
            match last_of(&mine, &t) {
                Some(&m) if close(m, v) => agree += 1,
                other => {
                    if first_bad.is_none() {
                        first_bad = Some((t, other.copied(), v));
                    }
                }
            }
        }
        if points.is_empty() || agree * 100 >= points.len() * 99 {
            matched += 1;
        } else if let Some((t, m, v)) = first_bad {
            let at = crate::scenario::model::format_rfc3339_ms(t);
            diff.push(match m {
                Some(m) => format!("{}: yours is {} where the reference is {} at {at}", show(labels), promql::format_value(m), promql::format_value(v)),
                None => format!("{}: yours has no point at {at} where the reference has {}", show(labels), promql::format_value(v)),
            });
        }
    }
    let extra: Vec<String> = got.iter().filter(|(l, _)| want_keys.binary_search(&l).is_err()).map(|(l, _)| show(l)).collect();
    if !missing.is_empty() {
        diff.insert(0, format!("missing {} series, e.g. {}", missing.len(), missing.iter().take(3).cloned().collect::<Vec<_>>().join(", ")));
    }
    if !extra.is_empty() {
        diff.push(format!("{} series the reference does not have, e.g. {}", extra.len(), extra.iter().take(3).cloned().collect::<Vec<_>>().join(", ")));
        if !missing.is_empty() && extra.len() == missing.len() {
            diff.push("the same number of series with other labels: check the `by (...)` or `without (...)` of your aggregation".into());
        }
    }
    let expected = want.len();
    let score = if expected == 0 {
        if got.is_empty() { 1.0 } else { 0.0 }
    } else {
        matched as f64 / expected as f64 * expected as f64 / (expected + extra.len()) as f64
    };
    diff.truncate(5);
    Comparison { score, matched, expected, diff }
}

/// The value of the last pair with key `k` in `pairs` (stably sorted by
/// key), as a map collected from them would keep it.
fn last_of<'a, K: Ord, V>(pairs: &'a [(K, V)], k: &K) -> Option<&'a V> {
    let end = pairs.partition_point(|p| p.0 <= *k);
    pairs[..end].last().filter(|p| p.0 == *k).map(|p| &p.1)
}

/// Sets (log lines, trace ids), each sorted and without repeats: Jaccard
/// similarity.
fn compare_sets<T: Ord>(got: &[T], want: &[T], what: &str) -> Comparison {
    let (mut matched, mut i, mut j) = (0, 0, 0);
    while i < got.len() && j < want.len() {
        match got[i].cmp(&want[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                matched += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = got.len() + want.len() - matched;
    let score = if union == 0 { 1.0 } else { matched as f64 / union as f64 };
    let mut diff = Vec::new();
    if matched < want.len() {
        diff.push(format!("{} of the reference's {} {what} are missing", want.len() - matched, want.len()));
    }
    if got.len() > matched {
        diff.push(format!("{} {what} that the reference does not return", got.len() - matched));
    }
    Comparison { score, matched, expected: want.len(), diff }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)], pts: &[(i64, f64)]) -> (Labels, Vec<(i64, f64)>) {
        (Labels::from_pairs(pairs.iter().copied()), pts.to_vec())
    }

    #[test]
    fn identical_results_score_one_and_a_changed_value_is_named() {
        let want = vec![s(&[("route", "/a")], &[(0, 1.0), (1, 2.0)]), s(&[("route", "/b")], &[(0, 3.0), (1, 4.0)])];
        assert_eq!(compare_series(&want, &want).score, 1.0);
        let mut got = want.clone();
        got[1].1[1].1 = 5.0;
        let c = compare_series(&got, &want);
        assert_eq!((c.matched, c.expected), (1, 2));
        assert!((c.score - 0.5).abs() < 1e-9);
        assert!(c.diff[0].contains("route=\"/b\"") && c.diff[0].contains("reference is 4"), "{:?}", c.diff);
    }

    #[test]
    fn wrong_grouping_gets_no_credit_and_a_hint() {
        let want = vec![s(&[("route", "/a")], &[(0, 1.0)]), s(&[("route", "/b")], &[(0, 3.0)])];
        let got = vec![s(&[("pod", "x")], &[(0, 1.0)]), s(&[("pod", "y")], &[(0, 3.0)])];
        let c = compare_series(&got, &want);
        assert_eq!(c.score, 0.0);
        assert!(c.diff.iter().any(|d| d.contains("by (...)")), "{:?}", c.diff);
    }

    #[test]
    fn extra_series_dilute_the_score() {
        let want = vec![s(&[("route", "/a")], &[(0, 1.0)])];
        let got = vec![want[0].clone(), s(&[("route", "/z")], &[(0, 9.0)])];
        assert!((compare_series(&got, &want).score - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_repeated_label_set_or_time_counts_its_last_value_as_a_map_would() {
        let want = vec![s(&[("route", "/a")], &[(0, 1.0), (1, 2.0)])];
        let got = vec![s(&[("route", "/a")], &[(0, 9.0), (1, 9.0)]), s(&[("route", "/a")], &[(1, 9.0), (0, 1.0), (1, 2.0)])];
        assert_eq!(compare_series(&got, &want).matched, 1);
        let got = vec![want[0].clone(), s(&[("route", "/a")], &[(0, 1.0), (1, 5.0)])];
        assert_eq!(compare_series(&got, &want).matched, 0);
    }

    #[test]
    fn sets_score_by_jaccard() {
        let c = compare_sets(&[1, 2, 5], &[1, 2, 3, 4], "traces");
        assert!((c.score - 2.0 / 5.0).abs() < 1e-9);
        assert_eq!(c.diff.len(), 2);
        assert_eq!((c.matched, c.expected), (2, 4));
        let c = compare_sets(&[0, 7], &[3, 7, 9], "traces");
        assert!((c.score - 1.0 / 4.0).abs() < 1e-9);
        let none: [u32; 0] = [];
        assert_eq!(compare_sets(&none, &none, "traces").score, 1.0);
    }
}
