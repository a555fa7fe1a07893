//! The "explain" tree of a query, as PromLens drew it: every sub-expression
//! (parentheses folded away) evaluated on its own with the same engine and
//! limits, at the query's instant or over its range, with the size of its
//! result, its error if it fails, and a sentence on what its operator does.
//! No clock: the tree is a function of the query, the store and the window.
//! A sub-expression that is a range vector is evaluated at the window's end
//! (a range query cannot return one); one inside a subquery is evaluated on
//! the outer window, not the subquery's own steps.

use super::ast::{AggOp, BinOp, Expr, ExprKind, ValueType};
use super::functions::Func;
use super::{instant_query_with, range_query_with, EvalOptions, Value};
use crate::query::diag::QueryError;
use crate::store::SeriesStore;
use std::ops::Range;

/// When the query is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// An instant query at Unix milliseconds.
    Instant(i64),
    /// A range query.
    Range { start: i64, end: i64, step: i64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Selector,
    RangeSelector,
    Subquery,
    Function,
    Aggregation,
    Binary,
    Negation,
    Number,
    String,
}

/// The size of a sub-expression's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Size {
    pub series: usize,
    /// Points over all series (one per series for an instant vector).
    pub samples: usize,
    /// The value of a scalar at an instant.
    pub scalar: Option<f64>,
    /// Samples the evaluation touched (what the limit bounds).
    pub touched: u64,
}

#[derive(Clone, Debug)]
pub struct Node {
    /// The sub-expression's text in the query, a query of its own.
    pub text: String,
    /// Where it is in the query's text.
    pub span: Range<usize>,
    pub kind: NodeKind,
    /// The function, aggregation or operator (`rate`, `sum`, `/`); empty
    /// for selectors and literals.
    pub op: &'static str,
    /// What the operator does, in one sentence.
    pub about: &'static str,
    pub value_type: ValueType,
    pub result: Result<Size, QueryError>,
    pub children: Vec<Node>,
}

impl Node {
    /// The result's size for a reader: `5 series`, `3 series, 60 samples`,
    /// `scalar 0.99`, or the error.
    pub fn summary(&self) -> String {
        match &self.result {
            Err(e) => format!("error: {}", e.message),
            Ok(s) => match (self.value_type, s.scalar) {
                (ValueType::String, _) => "string".into(),
                (ValueType::Scalar, Some(v)) => format!("scalar {}", super::format_value(v)),
                (ValueType::Scalar, None) => format!("scalar, {} points", s.samples),
                (ValueType::Vector, _) if s.samples == s.series => format!("{} series", s.series),
                (ValueType::Vector, _) => format!("{} series, {} points", s.series, s.samples),
                (ValueType::Matrix, _) => format!("{} series, {} samples", s.series, s.samples),
            },
        }
    }
    /// What the node is: its operator, or the kind of selector or literal.
    pub fn label(&self) -> &'static str {
        match self.kind {
            NodeKind::Selector => "selector",
            NodeKind::RangeSelector => "range selector",
            NodeKind::Subquery => "subquery",
            NodeKind::Number => "number",
            NodeKind::String => "string",
            _ => self.op,
        }
    }
    /// How many nodes the tree has.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Node::count).sum::<usize>()
    }
}

/// Explains `query`, parsed as `expr` (see [`super::parse`]), over `window`.
pub fn explain(store: &SeriesStore, query: &str, expr: &Expr, window: Window, opts: &EvalOptions) -> Node {
    let e = expr.unparen();
    let children: Vec<&Expr> = match &e.kind {
        ExprKind::Neg(x) => vec![x],
        ExprKind::Subquery(s) => vec![&s.expr],
        ExprKind::Binary(b) => vec![&b.lhs, &b.rhs],
        ExprKind::Aggregate(a) => a.param.iter().chain([&a.expr]).collect(),
        ExprKind::Call(c) => c.args.iter().collect(),
        _ => vec![],
    };
    let (kind, op) = match &e.kind {
        ExprKind::Number(_) => (NodeKind::Number, ""),
        ExprKind::String(_) => (NodeKind::String, ""),
        ExprKind::Vector(_) => (NodeKind::Selector, ""),
        ExprKind::Matrix(_) => (NodeKind::RangeSelector, ""),
        ExprKind::Subquery(_) => (NodeKind::Subquery, ""),
        ExprKind::Neg(_) | ExprKind::Paren(_) => (NodeKind::Negation, "-"),
        ExprKind::Binary(b) => (NodeKind::Binary, b.op.as_str()),
        ExprKind::Aggregate(a) => (NodeKind::Aggregation, a.op.as_str()),
        ExprKind::Call(c) => (NodeKind::Function, c.func.name),
    };
    Node {
        text: query.get(e.span.clone()).unwrap_or_default().to_string(),
        span: e.span.clone(),
        kind,
        op,
        about: about(e),
        value_type: e.value_type(),
        result: size(store, e, window, opts),
        children: children.into_iter().map(|c| explain(store, query, c, window, opts)).collect(),
    }
}

fn size(store: &SeriesStore, e: &Expr, window: Window, opts: &EvalOptions) -> Result<Size, QueryError> {
    let r = match window {
        Window::Range { start, end, step } if matches!(e.value_type(), ValueType::Scalar | ValueType::Vector) => range_query_with(store, e, start, end, step, opts)?,
        Window::Range { end: t, .. } | Window::Instant(t) => instant_query_with(store, e, t, opts)?,
    };
    let (series, samples, scalar) = match &r.value {
        Value::Scalar { v, .. } => (0, 1, Some(*v)),
        Value::String { .. } => (0, 1, None),
        Value::Vector(v) => (v.len(), v.len(), None),
        // A range query's scalar is one series without labels.
        Value::Matrix(m) => (if e.value_type() == ValueType::Scalar { 0 } else { m.len() }, m.iter().map(|s| s.points.len()).sum(), None),
    };
    Ok(Size { series, samples, scalar, touched: r.samples })
}

/// One sentence on what a node's operator does.
fn about(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::Number(_) => "A number literal.",
        ExprKind::String(_) => "A string literal, an argument of the function.",
        ExprKind::Vector(_) => "Selects every series matching the metric name and label matchers, with its latest sample no older than the 5-minute lookback at each step.",
        ExprKind::Matrix(_) => "Selects all samples inside the range window behind each step of every matching series: a range vector, the input of rate() and the *_over_time() functions.",
        ExprKind::Subquery(_) => "Evaluates the inner query at the subquery's resolution over its range, giving a range vector.",
        ExprKind::Neg(_) | ExprKind::Paren(_) => "Negates every value (the metric name is dropped).",
        ExprKind::Binary(b) => match b.op {
            BinOp::And => "Keeps the left-hand series that have a match on the right (set intersection).",
            BinOp::Or => "All left-hand series, plus the right-hand series with no match on the left (set union).",
            BinOp::Unless => "Keeps the left-hand series that have no match on the right (set difference).",
            op if op.is_comparison() && b.return_bool => "Compares matched values and returns 1 where the comparison holds and 0 where it does not.",
            op if op.is_comparison() => "Keeps the left-hand samples for which the comparison with the matched right-hand value holds; drops the rest.",
            _ => "Arithmetic on each pair of samples with the same labels (or the on/ignoring labels); the metric name is dropped.",
        },
        ExprKind::Aggregate(a) => match a.op {
            AggOp::Topk | AggOp::Bottomk => "Keeps the k series with the largest (topk) or smallest (bottomk) values in each group at each step, labels unchanged.",
            AggOp::Limitk | AggOp::LimitRatio => "Keeps a deterministic sample of k series (or a ratio of them) in each group, labels unchanged.",
            AggOp::Quantile => "The φ-quantile of the values across the series of each group at each step.",
            AggOp::CountValues => "Counts the series having each distinct value, the value becoming a label.",
            AggOp::Count | AggOp::Group => "Counts the series of each group (group: returns 1 per group) at each step.",
            _ => "Combines the series of each group (the by labels, or all but the without labels) into one at each step: sum, average, minimum, maximum or deviation.",
        },
        ExprKind::Call(c) => match c.func.func {
            Func::Rate => "Per-second average rate of increase of a counter over the range, handling counter resets and extrapolating to the window's edges.",
            Func::Irate => "Per-second rate between the last two samples in the range: reacts fast, and is noisy.",
            Func::Increase => "Increase of a counter over the range (rate × range), handling counter resets.",
            Func::Delta | Func::Idelta => "Difference between the first and last (idelta: the last two) samples of a gauge in the range.",
            Func::Deriv | Func::PredictLinear => "Per-second slope of a gauge by linear regression over the range (predict_linear: its value that far ahead).",
            Func::Resets | Func::Changes => "Counts the counter resets (or the value changes) in the range.",
            Func::HistogramQuantile | Func::HistogramQuantiles => "Estimates a quantile from cumulative histogram buckets (the le label), interpolating linearly inside a bucket.",
            Func::Absent | Func::AbsentOverTime => "Returns 1 with the selector's labels when nothing matches, and nothing otherwise: for alerting on missing data.",
            Func::LabelReplace | Func::LabelJoin => "Rewrites a label of every series from other labels; values unchanged.",
            Func::Sort | Func::SortDesc | Func::SortByLabel | Func::SortByLabelDesc => "Orders the series (it matters to instant queries only).",
            Func::Scalar => "Turns a one-series vector into a scalar (NaN for any other number of series).",
            Func::Vector => "Turns a scalar into a vector of one series without labels.",
            Func::Time | Func::Timestamp | Func::Start | Func::End | Func::Range | Func::Step => "Time of the evaluation, or of the samples (timestamp), in seconds.",
            Func::Minute | Func::Hour | Func::DayOfWeek | Func::DayOfMonth | Func::DayOfYear | Func::DaysInMonth | Func::Month | Func::Year => {
                "A calendar field (UTC) of the values, read as Unix seconds (default: the evaluation time)."
            }
            Func::QuantileOverTime | Func::DoubleExponentialSmoothing => "A quantile (or a smoothed value) of each series' samples in the range.",
            _ if c.func.name.ends_with("_over_time") => "Reduces each series' samples in the range to one value: average, sum, minimum, maximum, count, last, ...",
            _ => "A mathematical function applied to every value; the metric name is dropped.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::promql::{instant_query, parse};
    use crate::telemetry::metric::Labels;

    fn store() -> SeriesStore {
        let mut st = SeriesStore::new();
        for (pod, service) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
            let id = st.get_or_create(Labels::from_pairs([("__name__", "x"), ("service", service), ("pod", pod)]));
            for i in 0..40 {
                st.append(id, i * 15_000, (i * 10) as f64);
            }
        }
        st
    }
    fn tree(q: &str, w: Window) -> Node {
        explain(&store(), q, &parse(q).unwrap(), w, &EvalOptions::default())
    }
    fn flat(n: &Node, out: &mut Vec<(String, String)>) {
        out.push((n.text.clone(), n.summary()));
        n.children.iter().for_each(|c| flat(c, out));
    }

    #[test]
    fn every_sub_expression_with_its_size() {
        let q = "(sum by (service) (rate(x[5m]))) * 2";
        let n = tree(q, Window::Instant(300_000));
        let mut f = vec![];
        flat(&n, &mut f);
        let expect = [
            ("(sum by (service) (rate(x[5m]))) * 2", "2 series"),
            ("sum by (service) (rate(x[5m]))", "2 series"),
            ("rate(x[5m])", "3 series"),
            ("x[5m]", "3 series, 60 samples"),
            ("2", "scalar 2"),
        ];
        assert_eq!(f, expect.map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!((n.kind, n.op, n.children[0].op, n.children[0].children[0].kind), (NodeKind::Binary, "*", "sum", NodeKind::Function));
        assert!(n.children[0].children[0].about.starts_with("Per-second average rate"));
        let rate = &n.children[0].children[0];
        assert_eq!(&q[rate.span.clone()], "rate(x[5m])");
        // Each node is what its text gives when run alone.
        let v = instant_query(&store(), &rate.text, 300_000).unwrap();
        assert!(matches!(v, Value::Vector(ref s) if s.len() == 3));
    }

    #[test]
    fn over_a_range_and_with_errors() {
        let w = Window::Range { start: 0, end: 300_000, step: 60_000 };
        let n = tree("x / on(service) x{pod!=\"b1\"}", w);
        assert!(matches!(&n.result, Err(e) if e.message.contains("many-to-many")), "{:?}", n.result);
        assert!(n.summary().starts_with("error: "));
        assert_eq!((n.children[0].summary(), n.children[1].summary()), ("3 series, 18 points".to_string(), "2 series, 12 points".to_string()));
        let n = tree("max_over_time(x[1m]) > bool 100", w);
        assert_eq!(n.children[0].children[0].summary(), "3 series, 12 samples", "a range vector is taken at the window's end");
        assert_eq!(n.children[1].summary(), "scalar, 6 points");
        assert_eq!(n.count(), 4);
    }

    #[test]
    fn on_a_scenario_run() {
        let model = crate::scenario::load_builtin("intermittent-p99").unwrap();
        let run = crate::sim::run(&model, 3, Some(crate::sim::time::SimDuration::from_secs(600)));
        let st = &run.telemetry.series;
        let t = run.telemetry.start_unix_ms + 600_000;
        let q = "sum by (service) (rate(http_server_request_duration_seconds_count[5m]))";
        let n = explain(st, q, &parse(q).unwrap(), Window::Instant(t), &EvalOptions::default());
        assert_eq!(n.count(), 3);
        let metric = st.by_name("http_server_request_duration_seconds_count");
        let services: std::collections::BTreeSet<&str> = metric.iter().filter_map(|&id| st.get(id).labels.get("service")).collect();
        let (sum, rate, sel) = (&n, &n.children[0], &n.children[0].children[0]);
        let series = |n: &Node| n.result.as_ref().unwrap().series;
        assert!(services.len() >= 3, "{services:?}");
        assert_eq!(series(sum), services.len());
        assert_eq!(series(rate), metric.len());
        assert_eq!(series(sel), metric.len());
        assert!(sel.result.as_ref().unwrap().samples >= metric.len() * 5, "a 5m window of a scraped counter holds several samples");
        assert_eq!((sum.kind, rate.kind, sel.kind), (NodeKind::Aggregation, NodeKind::Function, NodeKind::RangeSelector));
    }
}
