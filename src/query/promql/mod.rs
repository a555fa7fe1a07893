//! PromQL over the lab's [`SeriesStore`], with Prometheus 3 semantics.
//!
//! Layout: [`lexer`] → [`parser`] (Pratt, with type checking) → [`ast`] →
//! [`eval`] (with [`functions`]' kernels) → [`value`] (results and the HTTP
//! API's JSON). [`testing`] runs Prometheus's own `.test` scripts.
//!
//! ```
//! use obslab::store::SeriesStore;
//! use obslab::telemetry::metric::Labels;
//! use obslab::query::promql;
//!
//! let mut st = SeriesStore::new();
//! let id = st.get_or_create(Labels::from_pairs([("__name__", "up"), ("job", "api")]));
//! st.append(id, 0, 1.0);
//! let v = promql::instant_query(&st, "sum by (job) (up)", 10_000).unwrap();
//! assert!(matches!(v, promql::Value::Vector(ref s) if s[0].f == 1.0));
//! ```

pub mod ast;
pub mod complete;
pub mod eval;
pub mod explain;
pub mod exemplars;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod testing;
pub mod value;

pub use ast::{Expr, ValueType};
pub use eval::EvalOptions;
pub use value::{Annotation, AnnotationKind, Matrix, Sample, Series, Value, Vector, error_json, format_value, to_api_json};

use crate::query::diag::QueryError;
use crate::store::SeriesStore;
use eval::{Evaluator, Grid, RSeries, Val};

/// Parses and type checks a query.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    let mut e = parser::parse(query)?;
    parser::normalize(&mut e);
    Ok(e)
}

/// A successful query: its value and any warning/info annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    pub annotations: Vec<Annotation>,
    /// Samples the evaluation touched (the quantity the limit bounds).
    pub samples: u64,
}

/// Evaluates `query` at `t_ms` (Unix milliseconds) with default options.
pub fn instant_query(store: &SeriesStore, query: &str, t_ms: i64) -> Result<Value, QueryError> {
    Ok(instant_query_with(store, &parse(query)?, t_ms, &EvalOptions::default())?.value)
}

/// Evaluates `query` from `start_ms` to `end_ms` every `step_ms`.
pub fn range_query(store: &SeriesStore, query: &str, start_ms: i64, end_ms: i64, step_ms: i64) -> Result<Matrix, QueryError> {
    match range_query_with(store, &parse(query)?, start_ms, end_ms, step_ms, &EvalOptions::default())?.value {
        Value::Matrix(m) => Ok(m),
        _ => Err(QueryError::eval("range query did not return a matrix")),
    }
}

fn finish_series(v: Vec<RSeries>) -> Result<Vec<RSeries>, QueryError> {
    eval::cleanup_names(v)
}

/// An instant query on a parsed expression.
pub fn instant_query_with(store: &SeriesStore, expr: &Expr, t_ms: i64, opts: &EvalOptions) -> Result<QueryResult, QueryError> {
    let mut ev = Evaluator::new(store, opts, t_ms, t_ms);
    let g = Grid { start: t_ms, end: t_ms, step: 1 };
    let value = match ev.eval(expr, &g)? {
        Val::Scalar(v) => Value::Scalar { t: t_ms, v: v.first().copied().unwrap_or(f64::NAN) },
        Val::Str(s) => Value::String { t: t_ms, v: s },
        Val::Vector(v) => Value::Vector(finish_series(v)?.into_iter().filter_map(|s| s.vs.first().map(|&f| Sample { labels: s.labels, t: t_ms, f })).collect()),
        Val::Matrix(v) => {
            let mut m: Matrix = finish_series(v)?.into_iter().map(|s| Series { labels: s.labels, points: s.ts.into_iter().zip(s.vs).collect() }).collect();
            crate::sort::sort_by(&mut m, |a, b| a.labels.cmp(&b.labels));
            Value::Matrix(m)
        }
    };
    Ok(QueryResult { value, annotations: ev.annotations, samples: ev.samples })
}

/// A range query on a parsed expression; the value is always a matrix
/// sorted by labels.
pub fn range_query_with(store: &SeriesStore, expr: &Expr, start_ms: i64, end_ms: i64, step_ms: i64, opts: &EvalOptions) -> Result<QueryResult, QueryError> {
    if step_ms <= 0 {
        return Err(QueryError::eval("zero or negative query resolution step widths are not accepted. Try a positive integer"));
    }
    if end_ms < start_ms {
        return Err(QueryError::eval("end timestamp must not be before start time"));
    }
    if (end_ms - start_ms) / step_ms > opts.max_points_per_series {
        return Err(QueryError::limit("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"));
    }
    match expr.value_type() {
        ValueType::Scalar | ValueType::Vector => {}
        t => return Err(QueryError::eval(format!("invalid expression type {:?} for range query, must be Scalar or instant Vector", t.documented()))),
    }
    let mut ev = Evaluator::new(store, opts, start_ms, end_ms);
    ev.query_step = if start_ms == end_ms { 0 } else { step_ms };
    let g = Grid { start: start_ms, end: end_ms, step: step_ms };
    let mut m: Matrix = match ev.eval(expr, &g)? {
        Val::Scalar(v) => vec![Series { labels: Default::default(), points: (0..v.len()).map(|i| (g.t(i), v[i])).collect() }],
        Val::Vector(v) | Val::Matrix(v) => finish_series(v)?.into_iter().map(|s| Series { labels: s.labels, points: s.ts.into_iter().zip(s.vs).collect() }).collect(),
        Val::Str(_) => return Err(QueryError::eval("invalid expression type \"string\" for range query, must be Scalar or instant Vector")),
    };
    crate::sort::sort_by(&mut m, |a, b| a.labels.cmp(&b.labels));
    Ok(QueryResult { value: Value::Matrix(m), annotations: ev.annotations, samples: ev.samples })
}

/// Runs Prometheus's PromQL test scripts; see [`testing::promqltest_main`].
pub use testing::promqltest_main;
