//! LogQL over the lab's [`LogStore`](crate::store::LogStore), with Loki
//! semantics for the subset learners use: stream selectors, line filters,
//! `json`/`logfmt` parsers, label filters, `line_format`, and metric
//! queries (`count_over_time`, `rate`, `bytes_*`, unwrapped `*_over_time`,
//! vector aggregations, binary operations).
//!
//! Layout: [`lexer`] → [`parser`] → [`ast`] → [`eval`] (with [`scan`]'s
//! fast line access and [`parsers`]' json/logfmt readers). Results render
//! as Loki's `/loki/api/v1/query_range` JSON ([`to_loki_json`]); [`cli`]
//! is `obslab logs`.
//!
//! Stream labels of a record: `service`, `namespace`, `pod`, `node`,
//! `level`, `logger`. The line a filter sees is the record as its service
//! writes it (JSON by default, see [`Options::format`]).

pub mod ast;
pub mod bench;
pub mod cli;
pub mod eval;
pub mod lexer;
pub mod parser;
pub(crate) mod parsers;
pub(crate) mod scan;

pub use ast::Expr;
pub use cli::logs_main;
pub use eval::{Direction, Entry, Limits, Options, Series, Stats, Stream, Value};
pub use parsers::detected_fields;

use crate::json::JsonWriter;
use crate::query::diag::QueryError;
use crate::store::Telemetry;
use crate::telemetry::metric::Labels;

/// Parses a LogQL query.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    parser::parse(query)
}

/// A query's result and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct LogqlResult {
    pub value: Value,
    pub stats: Stats,
}

/// Loki's default step for a range: one point per 250th of it, at least 1 s.
pub fn default_step_ms(start_ms: i64, end_ms: i64) -> i64 {
    (((end_ms - start_ms) / 1000) / 250).max(1) * 1000
}

/// Runs `query` over `[start_ms, end_ms]` (Unix ms). Log queries return up
/// to `limit` entries from `[start, end)`, newest first; metric queries a
/// matrix at `start, start + step, ... ≤ end` (`step_ms` 0: Loki's default).
pub fn query_range(tel: &Telemetry, query: &str, start_ms: i64, end_ms: i64, step_ms: i64, limit: usize) -> Result<LogqlResult, QueryError> {
    query_range_with(tel, &parse(query)?, start_ms, end_ms, step_ms, limit, &Options::default())
}

/// [`query_range`] on a parsed query with explicit options.
pub fn query_range_with(tel: &Telemetry, expr: &Expr, start_ms: i64, end_ms: i64, step_ms: i64, limit: usize, opts: &Options) -> Result<LogqlResult, QueryError> {
    let (value, stats) = match expr {
        Expr::Log(l) => eval::eval_log(tel, l, start_ms, end_ms, limit, opts)?,
        e => {
            let step = if step_ms == 0 { default_step_ms(start_ms, end_ms) } else { step_ms };
            eval::eval_metric(tel, e, start_ms, end_ms, step, opts)?
        }
    };
    Ok(LogqlResult { value, stats })
}

/// A number as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn labels_object(w: &mut JsonWriter, l: &Labels) {
    w.begin_object();
    for x in l.iter() {
        w.field_str(&x.name, &x.value);
    }
    w.end_object();
}

/// The result as Loki's `/loki/api/v1/query_range` response.
pub fn to_loki_json(r: &LogqlResult) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("status", "success").key("data").begin_object();
    match &r.value {
        Value::Streams(streams) => {
            w.field_str("resultType", "streams").key("result").begin_array();
            for s in streams {
                w.begin_object().key("stream");
                labels_object(&mut w, &s.labels);
                w.key("values").begin_array();
                for e in &s.entries {
                    w.begin_array().string(&e.ts_ns.to_string()).string(&e.line).end_array();
                }
                w.end_array().end_object();
            }
            w.end_array();
        }
        Value::Matrix(m) => {
            w.field_str("resultType", "matrix").key("result").begin_array();
            for s in m {
                w.begin_object().key("metric");
                labels_object(&mut w, &s.labels);
                w.key("values").begin_array();
                for &(t, v) in &s.points {
                    w.begin_array().float(t as f64 / 1000.0).string(&format_value(v)).end_array();
                }
                w.end_array().end_object();
            }
            w.end_array();
        }
    }
    w.key("stats").begin_object().key("summary").begin_object();
    w.field_int("totalLinesProcessed", r.stats.lines_scanned as i128);
    w.field_int("totalEntriesReturned", r.stats.entries_returned as i128);
    w.end_object().end_object();
    w.end_object().end_object();
    w.finish()
}

/// Loki's error body: `{"status":"error","errorType":"bad_data","error":...}`.
pub fn error_json(message: &str) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("status", "error").field_str("errorType", "bad_data").field_str("error", message).end_object();
    w.finish()
}

#[cfg(test)]
mod tests;
