//! Rubric scoring of free-text interview answers ("walk me through how you
//! would debug slow page loads"): which of a question's key points an answer
//! mentions, and where. The result is a self-check shown beside a model
//! answer ([`Verdict::SelfCheck`]), never a grade that gates progress.
//!
//! # Phrasings
//!
//! A [`KeyPoint`] has one or more phrasings; it is matched when any phrasing
//! is found. A phrasing is a list of word slots separated by spaces, and a
//! slot may list alternatives separated by `|`:
//!
//! ```text
//! check cpu|memory|network      "check the node's CPU", "checked memory"
//! p99|latency spike|jump        "a p-99 spike", "latency jumped"
//! thread starvation|pool        "thread-pool exhaustion", "starved threads" (no: order)
//! ```
//!
//! Each alternative is one word: hyphens, apostrophes and other punctuation
//! inside it are dropped (`p-99` is `p99`, `node's` is `nodes`). Stop words
//! (`the`, `a`, `of`, `to`, ...) are ignored when a slot holds nothing else,
//! so `check the cpu` means `check cpu`. A key point with no phrasings uses
//! its `text` as its only phrasing. A phrasing with no words left matches
//! nothing.
//!
//! # Matching
//!
//! - Case and punctuation are ignored; the answer is split into words at
//!   anything that is not a letter or digit, except apostrophes inside a word.
//! - Words are compared after a light stemmer ([`stem`]): plurals and the
//!   suffixes -ing, -ed, -ied, -er, -ly, -ness, -ion, -ation, -ate, -ated,
//!   -ating and a final -e are removed, so `profile`, `profiles`,
//!   `profiling` and `profiler` are one word, as are `starve`, `starved` and
//!   `starvation`. It is deliberately crude: it over-merges a few unrelated
//!   words (`time` and `timing`) rather than missing inflections.
//! - Compounds match either way: two adjacent answer words may form one slot
//!   (`p-99` and `p 99` match `p99`; `thread pool` matches `threadpool`) and
//!   two adjacent slots may form one answer word (`thread pool` matches
//!   `threadpool`).
//! - Slots must appear in order, within one sentence (a `.`, `!`, `?` or `;`
//!   before a space, or a line break, ends one), with at most [`MAX_GAP`]
//!   other words between consecutive slots: `check cpu` matches "check the
//!   node's CPU" but not "check ... (five words) ... CPU".
//!
//! # Limits
//!
//! Negation is out of scope: "I would *not* check the CPU" matches
//! `check cpu`. Nor can a rubric tell understanding from keyword stuffing:
//! an answer that only lists every key term scores full marks. Both are why
//! the score is a self-check beside a model answer, not a grade.

use std::ops::Range;

use super::{Grade, Verdict};

/// One thing a good answer mentions, with the phrasings that count as
/// mentioning it (see the module documentation for their syntax).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPoint {
    pub id: String,
    /// The point as shown to the learner beside the model answer.
    pub text: String,
    pub phrasings: Vec<String>,
}

/// How an answer fared against a rubric: per key point (in the rubric's
/// order) whether it matched and the byte range of the answer that matched
/// it, and `score`, the fraction of points matched (0 for an empty rubric).
#[derive(Clone, Debug, PartialEq)]
pub struct RubricScore {
    pub matched: Vec<bool>,
    pub evidence: Vec<Option<Range<usize>>>,
    pub score: f64,
}

impl RubricScore {
    /// A [`Grade`] out of 1 with the [`Verdict::SelfCheck`] verdict; `missed`
    /// lists the text of the points not found.
    pub fn to_grade(&self, points: &[KeyPoint]) -> Grade {
        let found = self.matched.iter().filter(|&&m| m).count();
        let mut grade = Grade::scored(
            self.score,
            1.0,
            format!(
                "Your answer mentions {found} of {} key points. This is a self-check: \
                 compare it with the model answer.",
                self.matched.len()
            ),
        );
        grade.verdict = Verdict::SelfCheck;
        grade.missed = points
            .iter()
            .zip(&self.matched)
            .filter(|&(_, &m)| !m)
            .map(|(p, _)| p.text.clone())
            .collect();
        grade
    }
}

/// The most words allowed between two consecutive slots of a phrasing.
pub const MAX_GAP: usize = 4;

/// Scores `answer` against `points`. Never panics; linear in the length of
/// the answer for each phrasing.
pub fn score(answer: &str, points: &[KeyPoint]) -> RubricScore {
    let text = AnswerText::new(answer);
    let mut matched = Vec::with_capacity(points.len());
    let mut evidence = Vec::with_capacity(points.len());
    for point in points {
        let phrasings: Vec<&str> = if point.phrasings.is_empty() {
            vec![point.text.as_str()]
        } else {
            point.phrasings.iter().map(String::as_str).collect()
        };
        let found = phrasings
            .iter()
            .filter_map(|p| text.find(&Phrasing::new(p)))
            .min_by_key(|r| (r.end, r.start));
        matched.push(found.is_some());
        evidence.push(found);
    }
    let hits = matched.iter().filter(|&&m| m).count();
    let score = if points.is_empty() { 0.0 } else { hits as f64 / points.len() as f64 };
    RubricScore { matched, evidence, score }
}

/// Where one phrasing first matches in `answer` (the earliest-ending match),
/// for authors checking their phrasings.
pub fn find_phrasing(answer: &str, phrasing: &str) -> Option<Range<usize>> {
    AnswerText::new(answer).find(&Phrasing::new(phrasing))
}

const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "to", "for", "on", "in", "at", "and", "or", "is", "are", "be", "by",
    "with", "that", "this", "it", "its", "into", "from", "as", "then",
];

/// The light stemmer used on both sides of a match: lower-case input in,
/// a stem out (not a word, just a key that inflections share).
pub fn stem(word: &str) -> String {
    let mut s = word.to_lowercase();
    let len = |s: &str| s.chars().count();
    if len(&s) <= 3 {
        return s;
    }
    // Plurals (suffixes are ASCII, so truncating by their byte length stays
    // on a character boundary).
    if s.ends_with("sses") {
        s.truncate(s.len() - 2);
    } else if s.ends_with("ies") && len(&s) > 4 {
        s.truncate(s.len() - 3);
        s.push('y');
    } else if s.ends_with('s') && !(s.ends_with("ss") || s.ends_with("is") || latin_us(&s)) {
        s.pop();
    }
    // One derivational or inflectional suffix, keeping at least three letters.
    const SUFFIXES: &[(&str, &str, bool)] = &[
        ("ation", "", false),
        ("ating", "", false),
        ("ated", "", false),
        ("ness", "", false),
        ("ing", "", true),
        ("ied", "y", false),
        ("ion", "", false),
        ("ed", "", true),
        ("er", "", false),
        ("ly", "", false),
        ("ate", "", false),
    ];
    for &(suffix, replacement, undouble) in SUFFIXES {
        let Some(base) = s.strip_suffix(suffix) else { continue };
        if len(base) < 3 || (suffix == "ed" && base.ends_with('e')) {
            continue;
        }
        let mut base = format!("{base}{replacement}");
        if undouble {
            let mut tail = base.chars().rev();
            if let (Some(a), Some(b)) = (tail.next(), tail.next())
                && a == b
                && a.is_alphabetic()
                && !"aeiouylsz".contains(a)
            {
                base.pop();
            }
        }
        s = base;
        break;
    }
    if s.ends_with('e') && len(&s) > 3 {
        s.pop();
    }
    s
}

/// "-us" is usually a Latin singular (status, bus, virus), except in the
/// plurals of processing units (cpus, gpus, vcpus).
fn latin_us(s: &str) -> bool {
    s.ends_with("us") && !s.ends_with("pus")
}

struct Word {
    /// Lower case, apostrophes removed.
    raw: String,
    stem: String,
    span: Range<usize>,
    sentence: usize,
}

struct AnswerText {
    words: Vec<Word>,
    /// The stem of each word joined with the next one in the same sentence.
    joined: Vec<Option<String>>,
}

impl AnswerText {
    fn new(answer: &str) -> AnswerText {
        let mut words = Vec::new();
        let mut sentence = 0;
        let mut current: Option<(usize, String)> = None;
        let mut chars = answer.char_indices().peekable();
        type Current = Option<(usize, String)>;
        let flush = |current: &mut Current, end: usize, sentence, words: &mut Vec<Word>| {
            if let Some((start, raw)) = current.take() {
                words.push(Word { stem: stem(&raw), raw, span: start..end, sentence });
            }
        };
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|&(_, n)| n);
            if c.is_alphanumeric() {
                let (_, raw) = current.get_or_insert_with(|| (i, String::new()));
                raw.extend(c.to_lowercase());
                continue;
            }
            let inside_word = current.is_some() && next.is_some_and(char::is_alphanumeric);
            if matches!(c, '\'' | '’') && inside_word {
                continue;
            }
            flush(&mut current, i, sentence, &mut words);
            let ends_sentence = c == '\n'
                || (matches!(c, '.' | '!' | '?' | ';') && next.is_none_or(char::is_whitespace));
            if ends_sentence {
                sentence += 1;
            }
        }
        flush(&mut current, answer.len(), sentence, &mut words);
        let joined = words
            .windows(2)
            .map(|w| {
                let same_sentence = w[0].sentence == w[1].sentence;
                same_sentence.then(|| stem(&format!("{}{}", w[0].raw, w[1].raw)))
            })
            .collect();
        AnswerText { words, joined }
    }

    /// The earliest-ending match of `phrasing`, as a byte range of the answer.
    fn find(&self, phrasing: &Phrasing) -> Option<Range<usize>> {
        let n = self.words.len();
        let m = phrasing.slots.len();
        if m == 0 || n == 0 {
            return None;
        }
        // reach[j][e]: slots 0..j can be matched with the last one ending just
        // before word e; the value is the word the match starts at (the
        // latest such, for the tightest evidence).
        let mut reach: Vec<Vec<Option<usize>>> = vec![vec![None; n + 1]; m + 1];
        for j in 0..m {
            let mut tries: Vec<(usize, usize)> = Vec::new();
            if j == 0 {
                tries.extend((0..n).map(|p| (p, p)));
            } else {
                for (e, &cell) in reach[j].iter().enumerate().skip(1) {
                    let Some(start) = cell else { continue };
                    let sentence = self.words[e - 1].sentence;
                    for p in e..n.min(e + MAX_GAP + 1) {
                        if self.words[p].sentence != sentence {
                            break;
                        }
                        tries.push((p, start));
                    }
                }
            }
            for (p, start) in tries {
                let slot = &phrasing.slots[j];
                if slot.iter().any(|a| a.stem == self.words[p].stem) {
                    record(&mut reach, j + 1, p + 1, start);
                }
                if let Some(Some(joined)) = self.joined.get(p)
                    && slot.iter().any(|a| &a.stem == joined)
                {
                    record(&mut reach, j + 1, p + 2, start);
                }
                if phrasing.joined.get(j).is_some_and(|js| js.contains(&self.words[p].stem)) {
                    record(&mut reach, j + 2, p + 1, start);
                }
            }
        }
        let (end, start) = reach[m].iter().enumerate().find_map(|(e, s)| s.map(|s| (e, s)))?;
        Some(self.words[start].span.start..self.words[end - 1].span.end)
    }
}

fn record(reach: &mut [Vec<Option<usize>>], j: usize, e: usize, start: usize) {
    let cell = &mut reach[j][e];
    *cell = Some(cell.map_or(start, |s| s.max(start)));
}

struct Alt {
    raw: String,
    stem: String,
}

struct Phrasing {
    slots: Vec<Vec<Alt>>,
    /// For each slot but the last, the stems of its alternatives joined with
    /// those of the next slot (`thread pool` against `threadpool`).
    joined: Vec<Vec<String>>,
}

impl Phrasing {
    fn new(text: &str) -> Phrasing {
        let mut slots: Vec<Vec<Alt>> = Vec::new();
        for part in text.split_whitespace() {
            let alts: Vec<Alt> = part
                .split('|')
                .filter_map(|a| {
                    let raw: String = a
                        .chars()
                        .filter(|c| c.is_alphanumeric())
                        .flat_map(char::to_lowercase)
                        .collect();
                    (!raw.is_empty()).then(|| Alt { stem: stem(&raw), raw })
                })
                .collect();
            let only_stop_words = alts.iter().all(|a| STOP_WORDS.contains(&a.raw.as_str()));
            if !only_stop_words {
                slots.push(alts);
            }
        }
        let joined = slots
            .windows(2)
            .map(|w| {
                let mut out = Vec::new();
                for a in &w[0] {
                    for b in &w[1] {
                        out.push(stem(&format!("{}{}", a.raw, b.raw)));
                    }
                }
                out
            })
            .collect();
        Phrasing { slots, joined }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn point(id: &str, text: &str, phrasings: &[&str]) -> KeyPoint {
        KeyPoint {
            id: id.to_string(),
            text: text.to_string(),
            phrasings: phrasings.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The rubric for "walk me through how you would debug slow page loads".
    fn slow_page_loads() -> Vec<KeyPoint> {
        vec![
            point(
                "metric-spike",
                "Start from the metric: confirm the latency spike and when it began",
                &[
                    "latency|p99|p95|duration spike|jump|increase|regression",
                    "metric|dashboard|graph|panel latency|p99|duration",
                    "spike metric|dashboard|graph|chart",
                ],
            ),
            point(
                "related-traces",
                "Open traces of the slow requests (exemplars from the spike)",
                &["related|slow|exemplar|sample trace", "trace related|slow|exemplar|from", "exemplar"],
            ),
            point(
                "slow-dependency",
                "Find the span that takes the time: timeouts or a slow dependency",
                &[
                    "timeout",
                    "timed out",
                    "slow dependency|downstream|database|call|span|query",
                    "dependency|downstream|database slow|latency",
                ],
            ),
            point(
                "downstream-logs",
                "Read the logs of the downstream service in the same window",
                &["log downstream|dependency|service|database", "downstream|dependency log"],
            ),
            point(
                "infrastructure",
                "Check the infrastructure: CPU saturation, network latency or loss",
                &[
                    "cpu|network|node|memory saturation|utilisation|utilization|usage|throttling|load",
                    "check cpu|network|infrastructure|node|host",
                    "packet loss",
                ],
            ),
            point(
                "profiling",
                "Profile the service for thread starvation or lock contention",
                &["profile", "flame graph", "thread starvation|pool|contention", "lock contention"],
            ),
        ]
    }

    const MODEL_ANSWER: &str = "First I'd look at the latency dashboard to confirm the p99 spike and \
        when it started. Then I'd pull the traces related to the slow requests, exemplars from \
        the spike, and see which spans take the time: usually a timeout or a slow dependency \
        such as the database. Next I'd read the logs of that downstream service around the same \
        window for errors or retries. If the dependency looks healthy I'd check the \
        infrastructure: CPU saturation on the node, network latency and packet loss. Finally, \
        if nothing there explains it, I'd profile the service to look for thread starvation, \
        e.g. a blocked thread pool or lock contention.";

    #[test]
    fn model_answer_scores_six_of_six() {
        let points = slow_page_loads();
        let s = score(MODEL_ANSWER, &points);
        assert_eq!(s.matched, vec![true; 6], "{s:?}");
        assert_eq!(s.score, 1.0);
        let at = |i: usize| &MODEL_ANSWER[s.evidence[i].clone().unwrap()];
        assert_eq!(at(0), "dashboard to confirm the p99");
        assert_eq!(at(1), "traces related");
        assert_eq!(at(2), "timeout");
        assert_eq!(at(3), "logs of that downstream");
        assert_eq!(at(4), "check the infrastructure");
        assert_eq!(at(5), "profile");
    }

    #[test]
    fn unrelated_answer_scores_zero() {
        let points = slow_page_loads();
        let s = score(
            "I enjoy baking sourdough bread, hiking in the mountains on weekends and reading \
             about medieval history with a cup of tea.",
            &points,
        );
        assert_eq!(s.matched, vec![false; 6]);
        assert_eq!(s.evidence, vec![None; 6]);
        assert_eq!(s.score, 0.0);
    }

    #[test]
    fn partial_answer_scores_a_fraction() {
        let s = score("I would check the node's CPU and then profile the app.", &slow_page_loads());
        assert_eq!(s.matched, vec![false, false, false, false, true, true]);
        assert!((s.score - 2.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn keyword_stuffing_is_not_detected() {
        // The documented limit: a list of terms scores like an explanation.
        let s = score(
            "latency spike, related traces, timeout, downstream logs, cpu saturation, profile",
            &slow_page_loads(),
        );
        assert_eq!(s.score, 1.0);
    }

    #[test]
    fn negation_is_not_understood() {
        assert!(find_phrasing("I would not check the CPU", "check cpu").is_some());
    }

    #[test]
    fn stemmer_merges_inflections() {
        let same = |group: &[&str]| {
            let stems: Vec<String> = group.iter().map(|w| stem(w)).collect();
            assert!(stems.windows(2).all(|w| w[0] == w[1]), "{group:?} -> {stems:?}");
        };
        same(&["profile", "profiles", "profiling", "profiler", "profiled"]);
        same(&["trace", "traces", "tracing", "traced"]);
        same(&["log", "logs", "logging", "logged"]);
        same(&["timeout", "timeouts"]);
        same(&["dependency", "dependencies"]);
        same(&["latency", "latencies"]);
        same(&["spike", "spikes", "spiked", "spiking"]);
        same(&["starve", "starved", "starving", "starvation"]);
        same(&["saturate", "saturated", "saturating", "saturation"]);
        same(&["connect", "connected", "connecting", "connection", "connections"]);
        same(&["process", "processes", "processing", "processed"]);
        same(&["retry", "retries", "retried"]);
        same(&["slow", "slowly", "slowness", "slower"]);
        same(&["queue", "queues", "queueing"]);
        same(&["speed", "speeds"]);
        same(&["cpu", "cpus", "CPUs"]);
        same(&["status", "statuses"]);
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("CPU"), "cpu");
        assert_ne!(stem("trace"), stem("track"));
    }

    #[test]
    fn profile_matches_profiling() {
        assert!(find_phrasing("Profiling showed lock contention", "profile").is_some());
        assert!(find_phrasing("I'd run a profiler", "profiling").is_some());
    }

    #[test]
    fn window_between_slots() {
        let a = "check the node's CPU";
        assert_eq!(find_phrasing(a, "check cpu"), Some(0..a.len()));
        assert!(find_phrasing("check one two three four CPU", "check cpu").is_some());
        assert!(find_phrasing("check one two three four five CPU", "check cpu").is_none());
        // The gap is per pair of slots, not for the whole phrasing.
        let a = "a b c d e f check x y z cpu w v u saturation";
        assert!(find_phrasing(a, "check cpu saturation").is_some());
    }

    #[test]
    fn slots_keep_their_order() {
        assert!(find_phrasing("the cpu I would check", "check cpu").is_none());
    }

    #[test]
    fn a_window_does_not_cross_sentences() {
        assert!(find_phrasing("I would check. The CPU was fine.", "check cpu").is_none());
        assert!(find_phrasing("- check logs\n- cpu", "check cpu").is_none());
        // A point inside a number or word is not a full stop.
        assert!(find_phrasing("check node.js cpu", "check cpu").is_some());
    }

    #[test]
    fn case_punctuation_and_hyphens() {
        assert!(find_phrasing("The P-99 latency...", "p99 latency").is_some());
        assert!(find_phrasing("the p 99 latency", "p99 latency").is_some());
        assert!(find_phrasing("p99 latency", "p-99 latency").is_some());
        assert!(find_phrasing("CPU!!!", "cpu").is_some());
        assert!(find_phrasing("thread-pool exhaustion", "thread pool").is_some());
        assert!(find_phrasing("thread-pool exhaustion", "threadpool").is_some());
        assert!(find_phrasing("the threadpool was exhausted", "thread pool").is_some());
        assert!(find_phrasing("the thread pools were exhausted", "threadpool exhaustion").is_some());
        assert!(find_phrasing("the node’s cpu", "nodes cpu").is_some());
    }

    #[test]
    fn alternatives_and_stop_words() {
        assert!(find_phrasing("checked the memory", "check cpu|memory|network").is_some());
        assert!(find_phrasing("check cpu", "check the cpu").is_some());
        assert!(find_phrasing("check cpu", "check the|a cpu").is_some());
        assert!(find_phrasing("anything at all", "the of a").is_none());
        assert!(find_phrasing("anything at all", "").is_none());
        assert!(find_phrasing("anything at all", "| |").is_none());
    }

    #[test]
    fn evidence_is_the_earliest_match() {
        let a = "cpu first. Later: check memory and check cpu";
        let s = score(a, &[point("x", "", &["check cpu", "check memory"])]);
        assert_eq!(&a[s.evidence[0].clone().unwrap()], "check memory");
    }

    #[test]
    fn text_is_the_phrasing_when_there_are_none() {
        let s = score("then profile it", &[point("p", "profiling", &[])]);
        assert_eq!(s.matched, vec![true]);
    }

    #[test]
    fn empty_inputs() {
        let s = score("", &slow_page_loads());
        assert_eq!(s.score, 0.0);
        assert_eq!(s.matched.len(), 6);
        let s = score("anything", &[]);
        assert_eq!(s, RubricScore { matched: vec![], evidence: vec![], score: 0.0 });
    }

    #[test]
    fn grade_is_a_self_check_listing_missed_points() {
        let points = slow_page_loads();
        let g = score("I would profile it.", &points).to_grade(&points);
        assert_eq!(g.verdict, Verdict::SelfCheck);
        assert!((g.score - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(g.missed.len(), 5);
        assert!(g.feedback.contains("1 of 6"));
    }

    #[test]
    fn non_ascii_text() {
        assert!(find_phrasing("Überprüfe die CPU-Auslastung", "cpu auslastung").is_some());
        assert!(find_phrasing("ÉCHEC", "échec").is_some());
        // Lower-casing that changes byte length must not shift the spans.
        let a = "İİİ check cpu";
        let r = find_phrasing(a, "check cpu").unwrap();
        assert_eq!(&a[r], "check cpu");
    }

    #[test]
    fn long_answers_are_handled() {
        let filler = "then we looked at something else entirely for a while. ".repeat(3_000);
        let answer = format!("{filler}finally I would profile the service for thread starvation");
        let s = score(&answer, &slow_page_loads());
        assert_eq!(s.matched, vec![false, false, false, false, false, true]);
        assert_eq!(&answer[s.evidence[5].clone().unwrap()], "profile");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(answer in "\\PC{0,80}", phrasing in "\\PC{0,20}") {
            let points =
                vec![point("a", &phrasing, &[]), point("b", "x", &[phrasing.as_str(), "a|b c"])];
            let s = score(&answer, &points);
            prop_assert!((0.0..=1.0).contains(&s.score));
            prop_assert_eq!(s.matched.len(), 2);
            for r in s.evidence.iter().flatten() {
                prop_assert!(r.start < r.end && r.end <= answer.len());
                prop_assert!(answer.is_char_boundary(r.start) && answer.is_char_boundary(r.end));
            }
        }

        #[test]
        fn a_phrasing_is_found_in_itself(words in proptest::collection::vec("[a-z]{1,8}", 1..6)) {
            let text = words.join(" ");
            prop_assert!(find_phrasing(&text, &text).is_some()
                || words.iter().all(|w| STOP_WORDS.contains(&w.as_str())));
        }
    }
}
