//! Bench and test support for log search: a large log store made by
//! repeating a real run's records with shifted times, and the naive answer
//! (render every line, `str::contains`) a fast filter must equal. The
//! native bench (`tests/logql.rs`) and the browser bench
//! (`tests/web_bench.rs`) build the same lines from the same run, so their
//! figures compare.

use crate::scenario::model::format_rfc3339_ms;
use crate::sim::time::SimTime;
use crate::store::{LogStore, Telemetry};
use crate::telemetry::log::{LogFormat, TemplateId};

/// A telemetry bundle holding only logs: `src`'s records repeated, each
/// copy shifted by `src`'s span plus one minute, until there are `n`.
pub fn repeat_logs(src: &Telemetry, n: usize) -> Telemetry {
    let mut store = LogStore::new();
    // Templates in id order, so the copied records' ids stay valid.
    if let Some(max) = src.logs.records().iter().map(|r| r.template.0).max() {
        for k in 0..=max {
            store.add_template(src.logs.template(TemplateId(k)).clone());
        }
    }
    let recs = src.logs.records();
    let span = recs.last().map(|r| r.time.0).unwrap_or(0) + 60_000_000;
    let mut shift = 0i64;
    'outer: while !recs.is_empty() {
        for r in recs {
            if store.len() >= n {
                break 'outer;
            }
            let mut c = r.clone();
            c.time = SimTime(r.time.0 + shift);
            store.push(c);
        }
        shift += span;
    }
    store.finish();
    Telemetry { start_unix_ms: src.start_unix_ms, resources: src.resources.clone(), logs: store, ..Default::default() }
}

/// How many rendered lines contain each needle (the reference answer),
/// rendering each line once.
pub fn naive_counts(tel: &Telemetry, needles: &[&str], format: LogFormat) -> Vec<usize> {
    let mut counts = vec![0; needles.len()];
    for r in tel.logs.records() {
        let line = tel.logs.format_line(r, tel.resource(r.resource), &format_rfc3339_ms(tel.unix_ms(r.time)), format);
        for (c, n) in counts.iter_mut().zip(needles) {
            *c += line.contains(n) as usize;
        }
    }
    counts
}

/// `[start, end]` in Unix ms covering every record of `tel`.
pub fn full_range_ms(tel: &Telemetry) -> (i64, i64) {
    let last = tel.logs.records().last().map(|r| tel.unix_ms(r.time)).unwrap_or(tel.start_unix_ms);
    (tel.start_unix_ms, last + 1000)
}

/// The metric query that counts the lines of the whole store containing
/// `needle` (a raw backtick string, so it must hold no backtick),
/// evaluated at the end of [`full_range_ms`] (one point).
pub fn count_query(tel: &Telemetry, needle: &str) -> String {
    assert!(!needle.contains('`'), "needles are written as raw backtick strings");
    let (s, e) = full_range_ms(tel);
    let range_s = (e - s) / 1000 + 1;
    format!("sum(count_over_time({{service=~\".+\"}} |= `{needle}` [{range_s}s]))")
}

/// The needles the benches time, as `(what it is, needle)`: a rare word, a
/// common word, a word in no line, a status code (digits only, so every
/// timestamp and number field can advance the matcher), and a fragment of
/// a real trace id (hex, which every id can advance).
pub fn bench_needles(tel: &Telemetry) -> Vec<(&'static str, String)> {
    let recs = tel.logs.records();
    let traced = recs.iter().skip(recs.len() / 2).find(|r| r.trace_id.is_valid()).or_else(|| recs.iter().find(|r| r.trace_id.is_valid()));
    let fragment = traced.map(|r| format!("{}", r.trace_id)[12..22].to_string()).unwrap_or_else(|| "0123456789".into());
    vec![
        ("rare word", "closed connection".to_string()),
        ("common word", "GET".to_string()),
        ("absent word", "zebra".to_string()),
        ("status code", "500".to_string()),
        ("trace-id fragment", fragment),
    ]
}
