//! The PromQL evaluator, with Prometheus 3 semantics: every expression is
//! evaluated over a grid of steps (an instant query is a grid of one), the
//! lookback delta and staleness markers decide which sample an instant
//! selector sees, range windows are left-open `(t - range, t]`, `offset`
//! and `@` move the window, subqueries evaluate their inner expression on
//! their own aligned grid, and `__name__` is dropped late ("delayed name
//! removal"), exactly where Prometheus drops it.
//!
//! Range-vector functions read the store's columns directly with binary
//! search and a sliding window per series; vector operations step through
//! per-series point lists with cursors; group and join keys are computed once
//! per series, not per step.

use super::ast::*;
use super::functions::{self as fns, DatePart, Func, Window};
use super::value::{Annotation, AnnotationKind};
use crate::query::diag::QueryError;
use crate::store::{SeriesId, SeriesStore};
use crate::telemetry::metric::{Labels, METRIC_NAME};
use std::borrow::Cow;
use std::collections::HashMap;

/// Prometheus's staleness marker: a NaN with this exact bit pattern.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

#[inline]
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Steps one evaluation grid may have (a subquery's or the query's).
const MAX_STEPS: u64 = 2_000_000;

/// Engine settings; the defaults are Prometheus's.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// How far back an instant selector looks for a sample (5m).
    pub lookback_ms: i64,
    /// Samples a query may touch before it is stopped (50 M).
    pub max_samples: u64,
    /// Points per series a range query may return (11,000).
    pub max_points_per_series: i64,
    /// Resolution of subqueries written without a step (`[5m:]`).
    pub default_subquery_step_ms: i64,
    /// Series that hold data this engine cannot represent (e.g. native
    /// histograms in test scripts), with the feature's name. Selecting one is
    /// an `Unsupported` error rather than a wrong answer.
    pub unsupported_series: HashMap<SeriesId, String>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { lookback_ms: 300_000, max_samples: 50_000_000, max_points_per_series: 11_000, default_subquery_step_ms: 60_000, unsupported_series: HashMap::new() }
    }
}

/// The steps of an evaluation: `start, start+step, ..., <= end` (Unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Grid {
    pub fn n(&self) -> usize {
        if self.end < self.start { 0 } else { ((self.end - self.start) / self.step) as usize + 1 }
    }
    #[inline]
    pub fn t(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }
    #[inline]
    pub fn idx(&self, t: i64) -> usize {
        ((t - self.start) / self.step) as usize
    }
}

/// A series inside the evaluator: labels (still holding `__name__` when it
/// is due to be dropped at the end) and columns of points.
#[derive(Clone, Debug, Default)]
pub(crate) struct RSeries {
    pub labels: Labels,
    pub drop_name: bool,
    pub ts: Vec<i64>,
    pub vs: Vec<f64>,
}

#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// One value per grid step.
    Scalar(Vec<f64>),
    Str(String),
    /// Points at grid step times.
    Vector(Vec<RSeries>),
    /// Raw sample times (a range vector).
    Matrix(Vec<RSeries>),
}

pub(crate) struct Evaluator<'a> {
    pub store: &'a SeriesStore,
    pub opts: &'a EvalOptions,
    /// The query's own start and end, for `@ start()` / `@ end()`.
    pub query_start: i64,
    pub query_end: i64,
    /// The range query's step (0 for an instant query).
    pub query_step: i64,
    pub samples: u64,
    pub annotations: Vec<Annotation>,
}

fn err(msg: impl Into<String>) -> QueryError {
    QueryError::eval(msg)
}

/// Prometheus's `Labels.String()`: `{a="b", c="d"}` with Go quoting.
pub fn labels_string(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&x.name);
        s.push('=');
        s.push_str(&super::lexer::go_quote(x.value.as_bytes()));
    }
    s.push('}');
    s
}

/// Drops the metric's schema labels (`__name__`, `__type__`, `__unit__`),
/// as Prometheus does when an operation changes what a value means.
fn drop_metric_name(l: &Labels) -> Labels {
    if !l.iter().any(|x| is_metadata_label(&x.name)) {
        return l.clone();
    }
    Labels::from_sorted_unchecked(l.iter().filter(|x| !is_metadata_label(&x.name)).cloned().collect())
}

fn is_metadata_label(n: &str) -> bool {
    n == METRIC_NAME || n == "__type__" || n == "__unit__"
}

fn keep_labels(l: &Labels, names: &[String]) -> Labels {
    Labels::from_sorted_unchecked(l.iter().filter(|x| names.iter().any(|n| **n == *x.name)).cloned().collect())
}

fn remove_labels(l: &Labels, names: &[String], and_name: bool) -> Labels {
    Labels::from_sorted_unchecked(l.iter().filter(|x| !(and_name && &*x.name == METRIC_NAME) && !names.iter().any(|n| **n == *x.name)).cloned().collect())
}

/// Builds output series keyed by their labels, refusing two points for the
/// same labels at the same time.
struct Out {
    series: Vec<RSeries>,
    index: HashMap<Labels, usize>,
}

impl Out {
    fn new() -> Self {
        Out { series: Vec::new(), index: HashMap::new() }
    }
    fn id(&mut self, labels: &Labels, drop_name: bool) -> usize {
        if let Some(&i) = self.index.get(labels) {
            return i;
        }
        let i = self.series.len();
        self.series.push(RSeries { labels: labels.clone(), drop_name, ts: Vec::new(), vs: Vec::new() });
        self.index.insert(labels.clone(), i);
        i
    }
    fn push(&mut self, id: usize, t: i64, v: f64) -> Result<(), QueryError> {
        let s = &mut self.series[id];
        if s.ts.last() == Some(&t) {
            return Err(err("vector cannot contain metrics with the same labelset"));
        }
        s.ts.push(t);
        s.vs.push(v);
        Ok(())
    }
    fn finish(self) -> Vec<RSeries> {
        self.series.into_iter().filter(|s| !s.ts.is_empty()).collect()
    }
}

/// Steps through the points of vector series in grid order.
struct Cursors {
    pos: Vec<usize>,
}

impl Cursors {
    fn new(n: usize) -> Self {
        Cursors { pos: vec![0; n] }
    }
    /// The value of series `i` at time `t`, advancing its cursor.
    #[inline]
    fn at(&mut self, s: &RSeries, i: usize, t: i64) -> Option<f64> {
        // Slices, not Vecs: at opt-level z (the wasm build) a Vec's [i] is
        // an out-of-line call, a slice's is a bounds check and a load.
        let (pos, ts, vs): (&mut [usize], &[i64], &[f64]) = (&mut self.pos, &s.ts, &s.vs);
        let p = pos[i];
        if p < ts.len() && ts[p] == t {
            pos[i] = p + 1;
            Some(vs[p])
        } else {
            None
        }
    }
}

/// Merges series whose labels became equal (after dropping names or
/// relabelling); overlapping points are an error, as in Prometheus.
pub(crate) fn merge_same_labels(v: Vec<RSeries>) -> Result<Vec<RSeries>, QueryError> {
    if v.len() <= 1 {
        return Ok(v);
    }
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(v.len());
    let mut out: Vec<RSeries> = Vec::with_capacity(v.len());
    let mut merged = false;
    for s in v {
        match index.get(&s.labels) {
            Some(&i) => {
                merged = true;
                let o = &mut out[i];
                o.ts.extend_from_slice(&s.ts);
                o.vs.extend_from_slice(&s.vs);
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for o in &mut out {
            if o.ts.windows(2).any(|w| w[0] >= w[1]) {
                let mut pts: Vec<(i64, f64)> = o.ts.iter().copied().zip(o.vs.iter().copied()).collect();
                crate::sort::sort_by_key(&mut pts, |p| p.0);
                if pts.windows(2).any(|w| w[0].0 == w[1].0) {
                    return Err(err("vector cannot contain metrics with the same labelset"));
                }
                o.ts = pts.iter().map(|p| p.0).collect();
                o.vs = pts.iter().map(|p| p.1).collect();
            }
        }
    }
    Ok(out)
}

/// Drops `__name__` where it is due and merges the series that collide.
pub(crate) fn cleanup_names(v: Vec<RSeries>) -> Result<Vec<RSeries>, QueryError> {
    let v: Vec<RSeries> = v
        .into_iter()
        .map(|mut s| {
            if s.drop_name {
                s.labels = drop_metric_name(&s.labels);
                s.drop_name = false;
            }
            s
        })
        .collect();
    merge_same_labels(v)
}

/// The source of a range-vector argument: the store (a matrix selector) or
/// an evaluated subquery.
enum RangeSource {
    Store { ids: Vec<SeriesId> },
    Series(Vec<RSeries>),
}

struct RangeArg {
    source: RangeSource,
    range_ms: i64,
    offset_ms: i64,
    at: Option<i64>,
    /// Matchers, for `absent_over_time`'s labels.
    matchers: Option<Vec<Matcher>>,
    pos: usize,
}

impl<'a> Evaluator<'a> {
    pub fn new(store: &'a SeriesStore, opts: &'a EvalOptions, query_start: i64, query_end: i64) -> Self {
        Evaluator { store, opts, query_start, query_end, query_step: 0, samples: 0, annotations: Vec::new() }
    }

    fn annotate(&mut self, kind: AnnotationKind, message: String, pos: usize) {
        if !self.annotations.iter().any(|a| a.kind == kind && a.message == message) {
            self.annotations.push(Annotation { kind, message, pos });
        }
    }

    #[inline]
    fn touch(&mut self, n: usize) -> Result<(), QueryError> {
        self.samples += n as u64;
        if self.samples > self.opts.max_samples {
            return Err(QueryError::limit(format!(
                "query processing would load too many samples into memory in query execution (limit: {} samples)",
                self.opts.max_samples
            )));
        }
        Ok(())
    }

    fn resolve_at(&self, at: &Option<At>) -> Option<i64> {
        match at {
            None => None,
            Some(At::Timestamp(t)) => Some(*t),
            Some(At::Start) => Some(self.query_start),
            Some(At::End) => Some(self.query_end),
        }
    }

    /// Series matching a selector's matchers, sorted by labels.
    fn select(&self, matchers: &[Matcher], span: &std::ops::Range<usize>) -> Result<Vec<SeriesId>, QueryError> {
        let name_eq = matchers.iter().find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal);
        let matches = |id: SeriesId| {
            let l = &self.store.get(id).labels;
            matchers.iter().all(|m| m.matches(l.get(&m.name).unwrap_or("")))
        };
        let mut ids: Vec<SeriesId> = match name_eq {
            Some(m) => self.store.by_name(&m.value).iter().copied().filter(|&id| matches(id)).collect(),
            None => self.store.iter().map(|(id, _)| id).filter(|&id| matches(id)).collect(),
        };
        for id in &ids {
            if let Some(feature) = self.opts.unsupported_series.get(id) {
                return Err(QueryError::unsupported(span.clone(), feature.clone()));
            }
        }
        crate::sort::sort_by(&mut ids, |a, b| self.store.get(*a).labels.cmp(&self.store.get(*b).labels));
        Ok(ids)
    }

    pub fn eval(&mut self, e: &Expr, g: &Grid) -> Result<Val, QueryError> {
        // Every step of every node costs at least one sample; a runaway grid
        // (a tiny subquery step over a long range) must stop, not freeze.
        if g.n() as u64 > MAX_STEPS {
            return Err(QueryError::limit(format!("query would evaluate {} steps in one subquery or query, more than the limit of {MAX_STEPS}", g.n())));
        }
        self.touch(g.n())?;
        if g.end < g.start {
            return Ok(match e.value_type() {
                ValueType::Scalar => Val::Scalar(vec![]),
                ValueType::String => Val::Str(String::new()),
                ValueType::Matrix => Val::Matrix(vec![]),
                ValueType::Vector => Val::Vector(vec![]),
            });
        }
        match &e.kind {
            ExprKind::Number(n) => Ok(Val::Scalar(vec![*n; g.n()])),
            ExprKind::String(s) => Ok(Val::Str(s.value.clone())),
            ExprKind::Paren(inner) => self.eval(inner, g),
            ExprKind::Neg(inner) => match self.eval(inner, g)? {
                Val::Scalar(mut v) => {
                    v.iter_mut().for_each(|x| *x = -*x);
                    Ok(Val::Scalar(v))
                }
                Val::Vector(mut v) => {
                    for s in &mut v {
                        s.drop_name = true;
                        s.vs.iter_mut().for_each(|x| *x = -*x);
                    }
                    Ok(Val::Vector(v))
                }
                _ => Err(err("unary minus on a value that is not a scalar or instant vector")),
            },
            ExprKind::Vector(vs) => Ok(Val::Vector(self.vector_selector(vs, &e.span, g, false)?)),
            ExprKind::Matrix(ms) => {
                let arg = self.range_arg(e, g)?;
                let _ = ms;
                Ok(Val::Matrix(self.materialize_range(&arg, g)?))
            }
            ExprKind::Subquery(_) => {
                let arg = self.range_arg(e, g)?;
                Ok(Val::Matrix(self.materialize_range(&arg, g)?))
            }
            ExprKind::Binary(b) => self.binary(b, e, g),
            ExprKind::Aggregate(a) => self.aggregate(a, g),
            ExprKind::Call(c) => self.call(c, e, g),
        }
    }

    fn vector_selector(&mut self, vs: &VectorSelector, span: &std::ops::Range<usize>, g: &Grid, want_sample_ts: bool) -> Result<Vec<RSeries>, QueryError> {
        let ids = self.select(&vs.matchers, span)?;
        let at = self.resolve_at(&vs.at);
        let lookback = self.opts.lookback_ms;
        let n = g.n();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let s = self.store.get(id);
            let mut rs = RSeries { labels: s.labels.clone(), drop_name: false, ts: Vec::new(), vs: Vec::new() };
            if let Some(at) = at {
                // The same sample at every step.
                let rt = at - vs.offset_ms;
                if let Some((st, v)) = lookup(&s.timestamps, &s.values, rt, lookback) {
                    self.touch(n)?;
                    rs.ts.reserve(n);
                    rs.vs.reserve(n);
                    for i in 0..n {
                        rs.ts.push(g.t(i));
                        rs.vs.push(if want_sample_ts { st as f64 / 1000.0 } else { v });
                    }
                }
            } else {
                // Binary search for the first step, then walk forward.
                let first = g.t(0) - vs.offset_ms;
                let mut p = s.timestamps.partition_point(|&t| t <= first);
                for i in 0..n {
                    let t = g.t(i);
                    let rt = t - vs.offset_ms;
                    while p < s.timestamps.len() && s.timestamps[p] <= rt {
                        p += 1;
                    }
                    if p == 0 {
                        continue;
                    }
                    let (st, v) = (s.timestamps[p - 1], s.values[p - 1]);
                    if st <= rt - lookback || is_stale(v) {
                        continue;
                    }
                    rs.ts.push(t);
                    rs.vs.push(if want_sample_ts { st as f64 / 1000.0 } else { v });
                }
                self.touch(rs.ts.len())?;
            }
            if !rs.ts.is_empty() {
                out.push(rs);
            }
        }
        Ok(out)
    }

    /// Prepares a range-vector argument (a matrix selector or a subquery).
    fn range_arg(&mut self, e: &Expr, g: &Grid) -> Result<RangeArg, QueryError> {
        let e = e.unparen();
        match &e.kind {
            ExprKind::Matrix(ms) => {
                let ids = self.select(&ms.vs.matchers, &e.span)?;
                Ok(RangeArg {
                    source: RangeSource::Store { ids },
                    range_ms: ms.range_ms,
                    offset_ms: ms.vs.offset_ms,
                    at: self.resolve_at(&ms.vs.at),
                    matchers: Some(ms.vs.matchers.clone()),
                    pos: e.span.start,
                })
            }
            ExprKind::Subquery(sq) => {
                let at = self.resolve_at(&sq.at);
                let step = sq.step_ms.unwrap_or(self.opts.default_subquery_step_ms);
                let (lo, end) = match at {
                    Some(at) => (at - sq.offset_ms - sq.range_ms, at - sq.offset_ms),
                    None => {
                        let parent_end = if g.step > 0 { g.start + ((g.end - g.start) / g.step) * g.step } else { g.end };
                        (g.start - sq.offset_ms - sq.range_ms, parent_end - sq.offset_ms)
                    }
                };
                // Go's truncating division, as Prometheus aligns the start.
                let mut start = step * (lo / step);
                if start <= lo {
                    start += step;
                }
                let inner = Grid { start, end, step };
                let v = match self.eval(&sq.expr, &inner)? {
                    Val::Vector(v) => v,
                    _ => return Err(err("subquery is only allowed on instant vector")),
                };
                Ok(RangeArg { source: RangeSource::Series(v), range_ms: sq.range_ms, offset_ms: sq.offset_ms, at, matchers: None, pos: e.span.start })
            }
            _ => Err(err("expected a range vector")),
        }
    }

    /// The raw points of a range argument at an instant evaluation.
    fn materialize_range(&mut self, arg: &RangeArg, g: &Grid) -> Result<Vec<RSeries>, QueryError> {
        let rt = arg.at.unwrap_or(g.start) - arg.offset_ms;
        let (lo, hi) = (rt - arg.range_ms, rt);
        let mut out = Vec::new();
        match &arg.source {
            RangeSource::Store { ids } => {
                for &id in ids {
                    let s = self.store.get(id);
                    let r = s.range(lo + 1, hi);
                    let mut rs = RSeries { labels: s.labels.clone(), drop_name: false, ts: Vec::new(), vs: Vec::new() };
                    for i in r {
                        if !is_stale(s.values[i]) {
                            rs.ts.push(s.timestamps[i]);
                            rs.vs.push(s.values[i]);
                        }
                    }
                    self.touch(rs.ts.len())?;
                    if !rs.ts.is_empty() {
                        out.push(rs);
                    }
                }
            }
            RangeSource::Series(v) => {
                for s in v {
                    let a = s.ts.partition_point(|&t| t <= lo);
                    let b = s.ts.partition_point(|&t| t <= hi);
                    if a < b {
                        out.push(RSeries { labels: s.labels.clone(), drop_name: s.drop_name, ts: s.ts[a..b].to_vec(), vs: s.vs[a..b].to_vec() });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Evaluates a range-vector function for every series and step.
    fn range_function(&mut self, c: &Call, call_expr: &Expr, g: &Grid, midx: usize) -> Result<Val, QueryError> {
        let func = c.func.func;
        // Scalar arguments, one value per step.
        let mut scalars: Vec<Vec<f64>> = Vec::new();
        for (i, a) in c.args.iter().enumerate() {
            if i != midx {
                match self.eval(a, g)? {
                    Val::Scalar(v) => scalars.push(v),
                    _ => return Err(err("expected a scalar argument")),
                }
            }
        }
        let arg = self.range_arg(&c.args[midx], g)?;
        let n = g.n();
        let keep_name = matches!(func, Func::LastOverTime | Func::FirstOverTime);
        let mut out: Vec<RSeries> = Vec::new();
        let mut buf: Vec<f64> = Vec::new();
        let mut present = if func == Func::AbsentOverTime { vec![false; n] } else { Vec::new() };
        let (first_rt, last_rt) = match arg.at {
            Some(at) => (at - arg.offset_ms, at - arg.offset_ms),
            None => (g.t(0) - arg.offset_ms, g.t(n.saturating_sub(1)) - arg.offset_ms),
        };
        let count = match &arg.source {
            RangeSource::Store { ids } => ids.len(),
            RangeSource::Series(v) => v.len(),
        };
        let mut non_counter_names: Vec<String> = Vec::new();
        for si in 0..count {
            let (labels, in_drop, ts, vs): (&Labels, bool, Cow<[i64]>, Cow<[f64]>) = match &arg.source {
                RangeSource::Store { ids } => {
                    let s = self.store.get(ids[si]);
                    let r = s.range(first_rt - arg.range_ms + 1, last_rt);
                    let (ts, vs) = (&s.timestamps[r.clone()], &s.values[r]);
                    if vs.iter().any(|&v| is_stale(v)) {
                        let (mut t2, mut v2) = (Vec::with_capacity(ts.len()), Vec::with_capacity(ts.len()));
                        for (&t, &v) in ts.iter().zip(vs) {
                            if !is_stale(v) {
                                t2.push(t);
                                v2.push(v);
                            }
                        }
                        (&s.labels, false, Cow::Owned(t2), Cow::Owned(v2))
                    } else {
                        (&s.labels, false, Cow::Borrowed(ts), Cow::Borrowed(vs))
                    }
                }
                RangeSource::Series(v) => {
                    let s = &v[si];
                    (&s.labels, s.drop_name, Cow::Borrowed(&s.ts[..]), Cow::Borrowed(&s.vs[..]))
                }
            };
            if ts.is_empty() {
                continue;
            }
            let mut rs = RSeries { labels: labels.clone(), drop_name: in_drop || !keep_name, ts: Vec::new(), vs: Vec::new() };
            // A counter with no reset in the whole fetched range has none in
            // any window: one pass here spares a scan per step, which is what
            // makes `rate(x[3d])` at every minute of a month affordable.
            let scan_resets = matches!(func, Func::Rate | Func::Increase) && vs.windows(2).any(|p| p[1] < p[0]);
            let (mut lo, mut hi) = (0usize, 0usize);
            let mut touched = 0usize;
            for i in 0..n {
                let t = g.t(i);
                let rt = arg.at.unwrap_or(t) - arg.offset_ms;
                let start = rt - arg.range_ms;
                while hi < ts.len() && ts[hi] <= rt {
                    hi += 1;
                }
                while lo < hi && ts[lo] <= start {
                    lo += 1;
                }
                if lo >= hi {
                    continue;
                }
                touched += hi - lo;
                let w = Window { ts: &ts[lo..hi], vs: &vs[lo..hi], range_start: start, range_end: rt, range_ms: arg.range_ms, eval_ts: t };
                let sc = |k: usize| scalars.get(k).map(|v| v[i]).unwrap_or(f64::NAN);
                let r = match func {
                    Func::Rate => fns::extrapolated_rate_scan(w, true, scan_resets, true),
                    Func::Increase => fns::extrapolated_rate_scan(w, true, scan_resets, false),
                    Func::Delta => fns::extrapolated_rate(w, false, false),
                    Func::Irate => fns::instant_value(w, true),
                    Func::Idelta => fns::instant_value(w, false),
                    Func::Deriv => fns::deriv(w),
                    Func::PredictLinear => fns::predict_linear(w, sc(0)),
                    Func::Resets => fns::resets(w),
                    Func::Changes => fns::changes(w),
                    Func::AvgOverTime => fns::avg_over_time(w.vs),
                    Func::SumOverTime => fns::sum_over_time(w.vs),
                    Func::CountOverTime => Some(w.vs.len() as f64),
                    Func::MinOverTime => fns::compare_over_time(w, false, false, false),
                    Func::MaxOverTime => fns::compare_over_time(w, true, false, false),
                    Func::TsOfMinOverTime => fns::compare_over_time(w, false, true, true),
                    Func::TsOfMaxOverTime => fns::compare_over_time(w, true, true, true),
                    Func::LastOverTime => w.vs.last().copied(),
                    Func::FirstOverTime => w.vs.first().copied(),
                    Func::TsOfLastOverTime => w.ts.last().map(|&t| t as f64 / 1000.0),
                    Func::TsOfFirstOverTime => w.ts.first().map(|&t| t as f64 / 1000.0),
                    Func::PresentOverTime => Some(1.0),
                    Func::StddevOverTime => fns::variance_over_time(w.vs).map(f64::sqrt),
                    Func::StdvarOverTime => fns::variance_over_time(w.vs),
                    Func::MadOverTime => fns::mad_over_time(w.vs, &mut buf),
                    Func::QuantileOverTime => {
                        let q = sc(0);
                        if q.is_nan() || !(0.0..=1.0).contains(&q) {
                            self.annotate(AnnotationKind::Warning, format!("quantile value should be between 0 and 1, got {}", go_g(q)), c.args[0].span.start);
                        }
                        buf.clear();
                        buf.extend_from_slice(w.vs);
                        Some(fns::quantile(q, &mut buf))
                    }
                    Func::DoubleExponentialSmoothing => {
                        let (sf, tf) = (sc(0), sc(1));
                        if sf <= 0.0 || sf >= 1.0 {
                            return Err(err(format!("invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}")));
                        }
                        if tf <= 0.0 || tf >= 1.0 {
                            return Err(err(format!("invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}")));
                        }
                        fns::double_exponential_smoothing(w.vs, sf, tf)
                    }
                    Func::AbsentOverTime => {
                        present[i] = true;
                        None
                    }
                    _ => return Err(err(format!("function {} does not take a range vector", c.func.name))),
                };
                if let Some(v) = r {
                    rs.ts.push(t);
                    rs.vs.push(v);
                }
            }
            self.touch(touched)?;
            if matches!(func, Func::Rate | Func::Increase) && !rs.ts.is_empty()
                && let Some(name) = labels.get(METRIC_NAME)
                    && !(name.ends_with("_total") || name.ends_with("_sum") || name.ends_with("_count") || name.ends_with("_bucket")) {
                        non_counter_names.push(name.to_string());
                    }
            if !rs.ts.is_empty() {
                out.push(rs);
            }
        }
        for name in non_counter_names {
            self.annotate(AnnotationKind::Info, format!("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"), arg.pos);
        }
        if func == Func::AbsentOverTime {
            let labels = match &arg.matchers {
                Some(m) => absent_labels(m),
                None => Labels::new(),
            };
            let mut rs = RSeries { labels, drop_name: true, ts: Vec::new(), vs: Vec::new() };
            for (i, p) in present.iter().enumerate() {
                if !p {
                    rs.ts.push(g.t(i));
                    rs.vs.push(1.0);
                }
            }
            let _ = call_expr;
            return Ok(Val::Vector(if rs.ts.is_empty() { vec![] } else { vec![rs] }));
        }
        Ok(Val::Vector(out))
    }

    fn call(&mut self, c: &Call, call_expr: &Expr, g: &Grid) -> Result<Val, QueryError> {
        let func = c.func.func;
        if let Some(midx) = c.args.iter().position(|a| a.unparen().value_type() == ValueType::Matrix) {
            return self.range_function(c, call_expr, g, midx);
        }
        let n = g.n();
        match func {
            Func::Time => return Ok(Val::Scalar((0..n).map(|i| g.t(i) as f64 / 1000.0).collect())),
            Func::Pi => return Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
            Func::Start => return Ok(Val::Scalar(vec![self.query_start as f64 / 1000.0; n])),
            Func::End => return Ok(Val::Scalar(vec![self.query_end as f64 / 1000.0; n])),
            Func::Range => return Ok(Val::Scalar(vec![(self.query_end - self.query_start) as f64 / 1000.0; n])),
            Func::Step => return Ok(Val::Scalar(vec![self.query_step as f64 / 1000.0; n])),
            Func::MaxOf | Func::MinOf => {
                let a = self.eval_scalar(&c.args[0], g)?;
                let b = self.eval_scalar(&c.args[1], g)?;
                let f = if func == Func::MaxOf { go_max } else { go_min };
                return Ok(Val::Scalar(a.iter().zip(&b).map(|(&x, &y)| f(x, y)).collect()));
            }
            Func::Timestamp => {
                let a = c.args[0].unparen();
                if let ExprKind::Vector(vs) = &a.kind {
                    let mut v = self.vector_selector(vs, &a.span, g, true)?;
                    v.iter_mut().for_each(|s| s.drop_name = true);
                    return Ok(Val::Vector(v));
                }
                let mut v = self.eval_vector(&c.args[0], g)?;
                for s in &mut v {
                    s.drop_name = true;
                    for k in 0..s.ts.len() {
                        s.vs[k] = s.ts[k] as f64 / 1000.0;
                    }
                }
                return Ok(Val::Vector(v));
            }
            Func::Vector => {
                let v = self.eval_scalar(&c.args[0], g)?;
                let ts = (0..n).map(|i| g.t(i)).collect();
                return Ok(Val::Vector(vec![RSeries { labels: Labels::new(), drop_name: false, ts, vs: v }]));
            }
            Func::Scalar => {
                let v = self.eval_vector(&c.args[0], g)?;
                let mut out = vec![f64::NAN; n];
                let mut count = vec![0u32; n];
                for s in &v {
                    for (k, &t) in s.ts.iter().enumerate() {
                        let i = g.idx(t);
                        count[i] += 1;
                        out[i] = s.vs[k];
                    }
                }
                for i in 0..n {
                    if count[i] != 1 {
                        out[i] = f64::NAN;
                    }
                }
                return Ok(Val::Scalar(out));
            }
            Func::Absent => {
                let v = self.eval_vector(&c.args[0], g)?;
                let mut present = vec![false; n];
                for s in &v {
                    for &t in &s.ts {
                        present[g.idx(t)] = true;
                    }
                }
                let labels = match &c.args[0].unparen().kind {
                    ExprKind::Vector(vs) => absent_labels(&vs.matchers),
                    _ => Labels::new(),
                };
                let mut rs = RSeries { labels, drop_name: false, ts: vec![], vs: vec![] };
                for (i, p) in present.iter().enumerate() {
                    if !p {
                        rs.ts.push(g.t(i));
                        rs.vs.push(1.0);
                    }
                }
                return Ok(Val::Vector(if rs.ts.is_empty() { vec![] } else { vec![rs] }));
            }
            Func::LabelReplace => return self.label_replace(c, g),
            Func::LabelJoin => return self.label_join(c, g),
            Func::HistogramQuantile | Func::HistogramQuantiles => return self.histogram_quantile(c, g),
            Func::Sort | Func::SortDesc | Func::SortByLabel | Func::SortByLabelDesc => {
                let mut v = self.eval_vector(&c.args[0], g)?;
                if g.start != g.end {
                    self.annotate(AnnotationKind::Warning, "sort is ineffective for range queries since results are always ordered by labels".into(), call_expr.span.start);
                    return Ok(Val::Vector(v));
                }
                match func {
                    Func::Sort | Func::SortDesc => {
                        let desc = func == Func::SortDesc;
                        crate::sort::sort_by(&mut v, |a, b| {
                            let (x, y) = (a.vs[0], b.vs[0]);
                            match (x.is_nan(), y.is_nan()) {
                                (true, true) => std::cmp::Ordering::Equal,
                                (true, false) => std::cmp::Ordering::Greater,
                                (false, true) => std::cmp::Ordering::Less,
                                _ => {
                                    let o = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                                    if desc { o.reverse() } else { o }
                                }
                            }
                        });
                    }
                    _ => {
                        let names: Vec<String> = c.args[1..].iter().map(string_arg).collect();
                        let desc = func == Func::SortByLabelDesc;
                        v.sort_by(|a, b| {
                            for n in &names {
                                let (x, y) = (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
                                if x == y {
                                    continue;
                                }
                                let less = fns::natural_less(x, y);
                                let o = if less { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
                                return if desc { o.reverse() } else { o };
                            }
                            let o = a.labels.cmp(&b.labels);
                            if desc { o.reverse() } else { o }
                        });
                    }
                }
                return Ok(Val::Vector(v));
            }
            _ => {}
        }
        // Date functions without arguments use the evaluation time.
        let date = |f: Func| -> Option<DatePart> {
            Some(match f {
                Func::DayOfMonth => DatePart::DayOfMonth,
                Func::DayOfWeek => DatePart::DayOfWeek,
                Func::DayOfYear => DatePart::DayOfYear,
                Func::DaysInMonth => DatePart::DaysInMonth,
                Func::Hour => DatePart::Hour,
                Func::Minute => DatePart::Minute,
                Func::Month => DatePart::Month,
                Func::Year => DatePart::Year,
                _ => return None,
            })
        };
        if let Some(part) = date(func) {
            if c.args.is_empty() {
                let ts: Vec<i64> = (0..n).map(|i| g.t(i)).collect();
                let vs = ts.iter().map(|&t| fns::date_part(part, t.div_euclid(1000) as f64)).collect();
                return Ok(Val::Vector(vec![RSeries { labels: Labels::new(), drop_name: false, ts, vs }]));
            }
            let mut v = self.eval_vector(&c.args[0], g)?;
            for s in &mut v {
                s.drop_name = true;
                s.vs.iter_mut().for_each(|x| *x = fns::date_part(part, *x));
            }
            return Ok(Val::Vector(v));
        }
        // Element-wise functions with optional scalar parameters.
        let mut v = self.eval_vector(&c.args[0], g)?;
        let mut params: Vec<Vec<f64>> = Vec::new();
        for a in &c.args[1..] {
            params.push(self.eval_scalar(a, g)?);
        }
        let simple: Option<fn(f64) -> f64> = match func {
            Func::Abs => Some(f64::abs),
            Func::Ceil => Some(f64::ceil),
            Func::Floor => Some(f64::floor),
            Func::Exp => Some(f64::exp),
            Func::Sqrt => Some(f64::sqrt),
            Func::Ln => Some(f64::ln),
            Func::Log2 => Some(f64::log2),
            Func::Log10 => Some(f64::log10),
            Func::Sin => Some(f64::sin),
            Func::Cos => Some(f64::cos),
            Func::Tan => Some(f64::tan),
            Func::Asin => Some(f64::asin),
            Func::Acos => Some(f64::acos),
            Func::Atan => Some(f64::atan),
            Func::Sinh => Some(f64::sinh),
            Func::Cosh => Some(f64::cosh),
            Func::Tanh => Some(f64::tanh),
            Func::Asinh => Some(f64::asinh),
            Func::Acosh => Some(f64::acosh),
            Func::Atanh => Some(f64::atanh),
            Func::Rad => Some(|x| x * std::f64::consts::PI / 180.0),
            Func::Deg => Some(|x| x * 180.0 / std::f64::consts::PI),
            Func::Sgn => Some(|x| if x < 0.0 { -1.0 } else if x > 0.0 { 1.0 } else { x }),
            _ => None,
        };
        if let Some(f) = simple {
            for s in &mut v {
                s.drop_name = true;
                s.vs.iter_mut().for_each(|x| *x = f(*x));
            }
            return Ok(Val::Vector(v));
        }
        match func {
            Func::Round => {
                for s in &mut v {
                    s.drop_name = true;
                    for k in 0..s.ts.len() {
                        let to = params.first().map(|p| p[g.idx(s.ts[k])]).unwrap_or(1.0);
                        let inv = 1.0 / to;
                        s.vs[k] = (s.vs[k] * inv + 0.5).floor() / inv;
                    }
                }
                Ok(Val::Vector(v))
            }
            Func::Clamp | Func::ClampMin | Func::ClampMax => {
                for s in &mut v {
                    s.drop_name = true;
                    let (mut ts2, mut vs2) = (Vec::with_capacity(s.ts.len()), Vec::with_capacity(s.ts.len()));
                    for k in 0..s.ts.len() {
                        let i = g.idx(s.ts[k]);
                        let (lo, hi) = match func {
                            Func::Clamp => (params[0][i], params[1][i]),
                            Func::ClampMin => (params[0][i], f64::INFINITY),
                            _ => (f64::NEG_INFINITY, params[0][i]),
                        };
                        if hi < lo {
                            continue;
                        }
                        ts2.push(s.ts[k]);
                        vs2.push(go_max(lo, go_min(hi, s.vs[k])));
                    }
                    s.ts = ts2;
                    s.vs = vs2;
                }
                v.retain(|s| !s.ts.is_empty());
                Ok(Val::Vector(v))
            }
            _ => Err(err(format!("function {} is not implemented", c.func.name))),
        }
    }

    fn eval_vector(&mut self, e: &Expr, g: &Grid) -> Result<Vec<RSeries>, QueryError> {
        match self.eval(e, g)? {
            Val::Vector(v) => Ok(v),
            _ => Err(err("expected an instant vector")),
        }
    }

    fn eval_scalar(&mut self, e: &Expr, g: &Grid) -> Result<Vec<f64>, QueryError> {
        match self.eval(e, g)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(err("expected a scalar")),
        }
    }

    fn label_replace(&mut self, c: &Call, g: &Grid) -> Result<Val, QueryError> {
        let repl = string_arg(&c.args[2]);
        let src = string_arg(&c.args[3]);
        let re_str = string_arg(&c.args[4]);
        let re = regex_lite::Regex::new(&format!("^(?s:{re_str})$")).map_err(|_| err(format!("invalid regular expression in label_replace(): {re_str}")))?;
        let dst = label_name_arg(&c.args[1]).map_err(|d| err(format!("invalid destination label name in label_replace(): {d}")))?;
        let mut v = self.eval_vector(&c.args[0], g)?;
        for s in &mut v {
            let sv = s.labels.get(&src).unwrap_or("").to_string();
            if let Some(caps) = re.captures(&sv) {
                let mut res = String::new();
                caps.expand(&repl, &mut res);
                s.labels.set(&dst, &res);
                if dst == METRIC_NAME {
                    s.drop_name = false;
                }
            }
        }
        Ok(Val::Vector(merge_same_labels(v)?))
    }

    fn label_join(&mut self, c: &Call, g: &Grid) -> Result<Val, QueryError> {
        let sep = string_arg(&c.args[2]);
        let mut srcs: Vec<String> = Vec::new();
        for a in &c.args[3..] {
            srcs.push(label_name_arg(a).map_err(|s| err(format!("invalid source label name in label_join(): {s}")))?);
        }
        let dst = label_name_arg(&c.args[1]).map_err(|d| err(format!("invalid destination label name in label_join(): {d}")))?;
        let mut v = self.eval_vector(&c.args[0], g)?;
        for s in &mut v {
            let joined: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
            let val = joined.join(&sep);
            s.labels.set(&dst, &val);
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
        Ok(Val::Vector(merge_same_labels(v)?))
    }

    /// `histogram_quantile(q, v)` and `histogram_quantiles(v, "label", q...)`
    /// over classic buckets.
    fn histogram_quantile(&mut self, c: &Call, g: &Grid) -> Result<Val, QueryError> {
        let multi = c.func.func == Func::HistogramQuantiles;
        let (v_arg, q_args, label) = if multi { (&c.args[0], &c.args[2..], Some(string_arg(&c.args[1]))) } else { (&c.args[1], &c.args[..1], None) };
        let mut qs: Vec<(Vec<f64>, usize)> = Vec::new();
        for a in q_args {
            qs.push((self.eval_scalar(a, g)?, a.span.start));
        }
        let v = self.eval_vector(v_arg, g)?;
        let n = g.n();
        let arg_pos = v_arg.span.start;
        // Group buckets by their labels without `le`, once per series.
        let mut groups: HashMap<Labels, usize> = HashMap::new();
        let mut group_labels: Vec<Labels> = Vec::new();
        let mut series_group: Vec<Option<(usize, f64)>> = Vec::with_capacity(v.len());
        for s in &v {
            let le = s.labels.get("le").unwrap_or("");
            match parse_go_float(le) {
                Some(ub) => {
                    let key = remove_labels(&s.labels, &["le".to_string()], false);
                    let gi = *groups.entry(key.clone()).or_insert_with(|| {
                        group_labels.push(key);
                        group_labels.len() - 1
                    });
                    series_group.push(Some((gi, ub)));
                }
                None => series_group.push(None),
            }
        }
        let mut buckets: Vec<Vec<fns::Bucket>> = vec![Vec::new(); group_labels.len()];
        let mut scratch: Vec<fns::Bucket> = Vec::new();
        let mut out = Out::new();
        // Output series per (group, quantile), the quantile label set when
        // constant (histogram_quantiles) or added lazily per value.
        let mut out_ids: HashMap<(usize, u64), usize> = HashMap::new();
        let mut cur = Cursors::new(v.len());
        let mut mono: Option<(String, f64, f64, f64, i64, i64, usize)> = None;
        for i in 0..n {
            let t = g.t(i);
            for b in buckets.iter_mut() {
                b.clear();
            }
            let mut any = false;
            for (si, s) in v.iter().enumerate() {
                if let Some(val) = cur.at(s, si, t) {
                    any = true;
                    match series_group[si] {
                        Some((gi, ub)) => buckets[gi].push(fns::Bucket { upper: ub, count: val }),
                        None => {
                            let name = s.labels.get(METRIC_NAME).unwrap_or("");
                            let le = s.labels.get("le").unwrap_or("");
                            let mut msg = format!("bucket label \"le\" is missing or has a malformed value of {le:?}");
                            if !name.is_empty() {
                                msg.push_str(&format!(" for metric name {name:?}"));
                            }
                            self.annotate(AnnotationKind::Warning, msg, arg_pos);
                        }
                    }
                }
            }
            for (qv, qpos) in &qs {
                let qi = qv[i];
                if qi.is_nan() || !(0.0..=1.0).contains(&qi) {
                    self.annotate(AnnotationKind::Warning, format!("quantile value should be between 0 and 1, got {}", go_g(qi)), *qpos);
                }
            }
            if !any {
                continue;
            }
            for (gi, b) in buckets.iter().enumerate() {
                if b.is_empty() {
                    continue;
                }
                for (qv, _) in &qs {
                    let qi = qv[i];
                    scratch.clear();
                    scratch.extend_from_slice(b);
                    let r = fns::bucket_quantile(qi, &mut scratch);
                    if r.forced_monotonic {
                        let name = group_labels[gi].get(METRIC_NAME).unwrap_or("").to_string();
                        match &mut mono {
                            None => mono = Some((name, r.min_bucket, r.max_bucket, r.max_diff, t, t, 1)),
                            Some(m) => {
                                m.1 = m.1.min(r.min_bucket);
                                m.2 = m.2.max(r.max_bucket);
                                m.3 = m.3.max(r.max_diff);
                                m.4 = m.4.min(t);
                                m.5 = m.5.max(t);
                                m.6 += 1;
                            }
                        }
                    }
                    let key = (gi, if label.is_some() { qi.to_bits() } else { 0 });
                    let id = match out_ids.get(&key) {
                        Some(&id) => id,
                        None => {
                            let mut l = group_labels[gi].clone();
                            if let Some(name) = &label {
                                l.set(name, &format_openmetrics_float(qi));
                            }
                            let id = out.id(&l, true);
                            out_ids.insert(key, id);
                            id
                        }
                    };
                    out.push(id, t, r.value)?;
                }
            }
        }
        if let Some((name, minb, maxb, maxd, t0, t1, count)) = mono {
            let mut msg = "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".to_string();
            if !name.is_empty() {
                msg.push_str(&format!(" for metric name {name:?}"));
            }
            msg.push_str(&format!(", from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}", go_g(minb), go_g(maxb), go_g(maxd), count, rfc3339(t0), rfc3339(t1)));
            self.annotate(AnnotationKind::Info, msg, arg_pos);
        }
        Ok(Val::Vector(out.finish()))
    }

    fn aggregate(&mut self, a: &Aggregate, g: &Grid) -> Result<Val, QueryError> {
        let n = g.n();
        let mut grouping = a.grouping.clone();
        crate::sort::sort(&mut grouping);
        if a.op == AggOp::CountValues {
            return self.count_values(a, g, grouping);
        }
        let param: Option<Vec<f64>> = match &a.param {
            Some(p) => Some(self.eval_scalar(p, g)?),
            None => None,
        };
        let v = self.eval_vector(&a.expr, g)?;
        let is_k = matches!(a.op, AggOp::Topk | AggOp::Bottomk | AggOp::Limitk);
        if is_k {
            let p = param.as_deref().unwrap_or(&[]);
            let has_nan = p.iter().any(|x| x.is_nan());
            let max = p.iter().fold(f64::NEG_INFINITY, |m, &x| if x.is_nan() { f64::NAN } else if m.is_nan() { m } else { m.max(x) });
            if !p.is_empty() && max < 1.0 {
                return Ok(Val::Vector(vec![]));
            }
            if has_nan {
                return Err(err("Parameter value is NaN"));
            }
            if let Some(&mn) = p.iter().min_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
                && mn <= -9.223372036854776e18 {
                    return Err(err(format!("Scalar value {} underflows int64", go_g(mn))));
                }
            if max >= 9.223372036854776e18 {
                return Err(err(format!("Scalar value {} overflows int64", go_g(max))));
            }
        }
        if a.op == AggOp::Quantile {
            let p = param.as_deref().unwrap_or(&[]);
            let pos = a.param.as_ref().map(|p| p.span.start).unwrap_or(0);
            if p.iter().any(|x| x.is_nan()) {
                self.annotate(AnnotationKind::Warning, "quantile value should be between 0 and 1, got NaN".into(), pos);
            }
            let max = p.iter().copied().filter(|x| !x.is_nan()).fold(f64::NEG_INFINITY, f64::max);
            let min = p.iter().copied().filter(|x| !x.is_nan()).fold(f64::INFINITY, f64::min);
            if max > 1.0 {
                self.annotate(AnnotationKind::Warning, format!("quantile value should be between 0 and 1, got {}", go_g(max)), pos);
            }
            if min < 0.0 {
                self.annotate(AnnotationKind::Warning, format!("quantile value should be between 0 and 1, got {}", go_g(min)), pos);
            }
        }
        // Group of each series, computed once.
        let mut groups: HashMap<Labels, usize> = HashMap::new();
        let mut group_labels: Vec<Labels> = Vec::new();
        let series_group: Vec<usize> = v
            .iter()
            .map(|s| {
                let key = if a.without {
                    remove_labels(&s.labels, &grouping, true)
                } else if grouping.is_empty() {
                    Labels::new()
                } else {
                    keep_labels(&s.labels, &grouping)
                };
                let next = group_labels.len();
                let gi = *groups.entry(key.clone()).or_insert(next);
                if gi == next {
                    group_labels.push(key);
                }
                gi
            })
            .collect();
        let ng = group_labels.len();
        let mut cur = Cursors::new(v.len());
        if is_k {
            return self.aggregate_k(a, g, &v, &series_group, ng, param.as_deref().unwrap_or(&[]));
        }
        let mut out: Vec<RSeries> = group_labels.iter().map(|l| RSeries { labels: l.clone(), drop_name: false, ts: Vec::with_capacity(n), vs: Vec::with_capacity(n) }).collect();
        #[derive(Clone, Copy, Default)]
        struct Agg {
            seen: bool,
            value: f64,
            mean: f64,
            c: f64,
            count: f64,
            incremental: bool,
            drop: bool,
        }
        let mut st = vec![Agg::default(); ng];
        let mut heaps: Vec<Vec<f64>> = if a.op == AggOp::Quantile { vec![Vec::new(); ng] } else { Vec::new() };
        // Slices for the per-step loop (see `Cursors::at`).
        let (st, heaps, series_group): (&mut [Agg], &mut [Vec<f64>], &[usize]) = (&mut st, &mut heaps, &series_group);
        for i in 0..n {
            let t = g.t(i);
            for x in st.iter_mut() {
                x.seen = false;
            }
            for h in heaps.iter_mut() {
                h.clear();
            }
            for (si, s) in v.iter().enumerate() {
                let Some(f) = cur.at(s, si, t) else { continue };
                let gi = series_group[si];
                let gr = &mut st[gi];
                if !gr.seen {
                    *gr = Agg { seen: true, value: f, mean: f, c: 0.0, count: 1.0, incremental: false, drop: s.drop_name };
                    match a.op {
                        AggOp::Stddev | AggOp::Stdvar => gr.value = if f.is_nan() || f.is_infinite() { f64::NAN } else { 0.0 },
                        AggOp::Group => gr.value = 1.0,
                        AggOp::Quantile => heaps[gi].push(f),
                        _ => {}
                    }
                    continue;
                }
                if s.drop_name {
                    gr.drop = true;
                }
                match a.op {
                    AggOp::Sum => (gr.value, gr.c) = fns::kahan_inc(f, gr.value, gr.c),
                    AggOp::Avg => {
                        gr.count += 1.0;
                        if !gr.incremental {
                            let (nv, nc) = fns::kahan_inc(f, gr.value, gr.c);
                            if !nv.is_infinite() {
                                gr.value = nv;
                                gr.c = nc;
                                continue;
                            }
                            gr.incremental = true;
                            gr.mean = gr.value / (gr.count - 1.0);
                            gr.c /= gr.count - 1.0;
                        }
                        let q = (gr.count - 1.0) / gr.count;
                        (gr.mean, gr.c) = fns::kahan_inc(f / gr.count, q * gr.mean, q * gr.c);
                    }
                    AggOp::Max
                        if (gr.value < f || gr.value.is_nan()) => {
                            gr.value = f;
                        }
                    AggOp::Min
                        if (gr.value > f || gr.value.is_nan()) => {
                            gr.value = f;
                        }
                    AggOp::Count => gr.count += 1.0,
                    AggOp::Group => {}
                    AggOp::Stddev | AggOp::Stdvar => {
                        gr.count += 1.0;
                        let delta = f - gr.mean;
                        gr.mean += delta / gr.count;
                        gr.value += delta * (f - gr.mean);
                    }
                    AggOp::Quantile => heaps[gi].push(f),
                    _ => {}
                }
            }
            for (gi, gr) in st.iter().enumerate() {
                if !gr.seen {
                    continue;
                }
                let val = match a.op {
                    AggOp::Sum => gr.value + gr.c,
                    AggOp::Avg => {
                        if gr.incremental {
                            gr.mean + gr.c
                        } else {
                            gr.value / gr.count + gr.c / gr.count
                        }
                    }
                    AggOp::Count => gr.count,
                    AggOp::Stdvar => gr.value / gr.count,
                    AggOp::Stddev => (gr.value / gr.count).sqrt(),
                    AggOp::Quantile => {
                        let q = param.as_ref().map(|p| p[i]).unwrap_or(f64::NAN);
                        fns::quantile(q, &mut heaps[gi])
                    }
                    _ => gr.value,
                };
                let o = &mut out[gi];
                o.ts.push(t);
                o.vs.push(val);
                o.drop_name = gr.drop;
            }
        }
        Ok(Val::Vector(out.into_iter().filter(|s| !s.ts.is_empty()).collect()))
    }

    fn aggregate_k(&mut self, a: &Aggregate, g: &Grid, v: &[RSeries], series_group: &[usize], ng: usize, param: &[f64]) -> Result<Val, QueryError> {
        let n = g.n();
        let mut cur = Cursors::new(v.len());
        let mut out: Vec<RSeries> = v.iter().map(|s| RSeries { labels: s.labels.clone(), drop_name: s.drop_name, ts: vec![], vs: vec![] }).collect();
        let mut cand: Vec<Vec<(usize, f64)>> = vec![Vec::new(); ng];
        let instant = g.start == g.end;
        let mut order: Vec<usize> = Vec::new();
        for i in 0..n {
            let t = g.t(i);
            for c in cand.iter_mut() {
                c.clear();
            }
            let mut group_order: Vec<usize> = Vec::new();
            for (si, s) in v.iter().enumerate() {
                if let Some(f) = cur.at(s, si, t) {
                    let gi = series_group[si];
                    if cand[gi].is_empty() {
                        group_order.push(gi);
                    }
                    cand[gi].push((si, f));
                }
            }
            let k = param.get(i).copied().unwrap_or(0.0);
            let k = if k.is_nan() { 0 } else { (k as i64).min(v.len() as i64) };
            if k < 1 {
                continue;
            }
            let k = k as usize;
            for gi in group_order {
                let c = &mut cand[gi];
                match a.op {
                    AggOp::Topk => crate::sort::sort_by(c, |x, y| cmp_nan_last(x.1, y.1, true)),
                    AggOp::Bottomk => crate::sort::sort_by(c, |x, y| cmp_nan_last(x.1, y.1, false)),
                    _ => {}
                }
                for &(si, f) in c.iter().take(k) {
                    out[si].ts.push(t);
                    out[si].vs.push(f);
                    if instant {
                        order.push(si);
                    }
                }
            }
        }
        if instant {
            let mut res = Vec::with_capacity(order.len());
            for si in order {
                res.push(std::mem::take(&mut out[si]));
            }
            return Ok(Val::Vector(res.into_iter().filter(|s| !s.ts.is_empty()).collect()));
        }
        Ok(Val::Vector(out.into_iter().filter(|s| !s.ts.is_empty()).collect()))
    }

    fn count_values(&mut self, a: &Aggregate, g: &Grid, mut grouping: Vec<String>) -> Result<Val, QueryError> {
        let Some(ExprKind::String(label)) = a.param.as_ref().map(|p| &p.unparen().kind) else {
            return Err(err("count_values needs a string parameter"));
        };
        if !label.utf8 || label.value.is_empty() {
            return Err(err(format!("invalid label name {}", label.quoted)));
        }
        let lname = label.value.clone();
        if !a.without {
            grouping.push(lname.clone());
            crate::sort::sort(&mut grouping);
        }
        let v = self.eval_vector(&a.expr, g)?;
        let n = g.n();
        let mut cur = Cursors::new(v.len());
        let mut out = Out::new();
        for i in 0..n {
            let t = g.t(i);
            let mut counts: Vec<(Labels, f64)> = Vec::new();
            let mut idx: HashMap<Labels, usize> = HashMap::new();
            for (si, s) in v.iter().enumerate() {
                if let Some(f) = cur.at(s, si, t) {
                    let mut l = s.labels.clone();
                    l.set(&lname, &super::value::format_value(f));
                    let key = if a.without { remove_labels(&l, &grouping, true) } else { keep_labels(&l, &grouping) };
                    match idx.get(&key) {
                        Some(&k) => counts[k].1 += 1.0,
                        None => {
                            idx.insert(key.clone(), counts.len());
                            counts.push((key, 1.0));
                        }
                    }
                }
            }
            for (l, c) in counts {
                let id = out.id(&l, false);
                out.push(id, t, c)?;
            }
        }
        Ok(Val::Vector(out.finish()))
    }

    fn binary(&mut self, b: &Binary, _e: &Expr, g: &Grid) -> Result<Val, QueryError> {
        let lhs = self.eval(&b.lhs, g)?;
        let rhs = self.eval(&b.rhs, g)?;
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(l.iter().zip(&r).map(|(&x, &y)| scalar_op(b.op, x, y)).collect())),
            (Val::Vector(v), Val::Scalar(s)) => Ok(Val::Vector(vector_scalar(b.op, v, &s, false, b.return_bool, g))),
            (Val::Scalar(s), Val::Vector(v)) => Ok(Val::Vector(vector_scalar(b.op, v, &s, true, b.return_bool, g))),
            (Val::Vector(l), Val::Vector(r)) => {
                let default = VectorMatching { card: if b.op.is_set() { Card::ManyToMany } else { Card::OneToOne }, on: false, labels: vec![], include: vec![], explicit: false, fill_lhs: None, fill_rhs: None };
                let m = b.matching.as_ref().unwrap_or(&default);
                if b.op.is_set() { self.set_op(b.op, l, r, m, g) } else { self.vector_binop(b, l, r, m, g) }
            }
            _ => Err(err("binary expression must contain only scalar and instant vector types")),
        }
    }

    fn signatures(&self, l: &[RSeries], r: &[RSeries], m: &VectorMatching) -> (Vec<u32>, Vec<u32>, usize) {
        let mut labels = m.labels.clone();
        crate::sort::sort(&mut labels);
        let mut map: HashMap<Labels, u32> = HashMap::new();
        let mut sig = |s: &RSeries| {
            let key = if m.on { keep_labels(&s.labels, &labels) } else { remove_labels(&s.labels, &labels, true) };
            let next = map.len() as u32;
            *map.entry(key).or_insert(next)
        };
        let ls: Vec<u32> = l.iter().map(&mut sig).collect();
        let rs: Vec<u32> = r.iter().map(&mut sig).collect();
        (ls, rs, map.len())
    }

    fn set_op(&mut self, op: BinOp, l: Vec<RSeries>, r: Vec<RSeries>, m: &VectorMatching, g: &Grid) -> Result<Val, QueryError> {
        let n = g.n();
        let (lsig, rsig, nsig) = self.signatures(&l, &r, m);
        let mut present = vec![false; nsig];
        let mut touched: Vec<u32> = Vec::new();
        let (mut lc, mut rc) = (Cursors::new(l.len()), Cursors::new(r.len()));
        let mut out = Out::new();
        let lid: Vec<usize> = l.iter().map(|s| out.id(&s.labels, s.drop_name)).collect();
        let rid: Vec<usize> = if op == BinOp::Or { r.iter().map(|s| out.id(&s.labels, s.drop_name)).collect() } else { vec![] };
        let mut lvals: Vec<(usize, f64)> = Vec::new();
        let mut rvals: Vec<(usize, f64)> = Vec::new();
        for i in 0..n {
            let t = g.t(i);
            lvals.clear();
            rvals.clear();
            for (k, s) in l.iter().enumerate() {
                if let Some(f) = lc.at(s, k, t) {
                    lvals.push((k, f));
                }
            }
            for (k, s) in r.iter().enumerate() {
                if let Some(f) = rc.at(s, k, t) {
                    rvals.push((k, f));
                }
            }
            for &s in &touched {
                present[s as usize] = false;
            }
            touched.clear();
            match op {
                BinOp::And | BinOp::Unless => {
                    for &(k, _) in &rvals {
                        present[rsig[k] as usize] = true;
                        touched.push(rsig[k]);
                    }
                    for &(k, f) in &lvals {
                        let p = present[lsig[k] as usize];
                        if (op == BinOp::And) == p {
                            out.push(lid[k], t, f)?;
                        }
                    }
                }
                _ => {
                    for &(k, f) in &lvals {
                        present[lsig[k] as usize] = true;
                        touched.push(lsig[k]);
                        out.push(lid[k], t, f)?;
                    }
                    for &(k, f) in &rvals {
                        if !present[rsig[k] as usize] {
                            out.push(rid[k], t, f)?;
                        }
                    }
                }
            }
        }
        // A series keeps the name-drop flag of its own input.
        let mut res = out.finish();
        for s in &mut res {
            if let Some(x) = l.iter().chain(r.iter()).find(|x| x.labels == s.labels) {
                s.drop_name = x.drop_name;
            }
        }
        Ok(Val::Vector(res))
    }

    fn vector_binop(&mut self, b: &Binary, l: Vec<RSeries>, r: Vec<RSeries>, m: &VectorMatching, g: &Grid) -> Result<Val, QueryError> {
        let n = g.n();
        let (lsig, rsig, nsig) = self.signatures(&l, &r, m);
        // For group_right swap sides so the "one" side is always on the right.
        let swapped = m.card == Card::OneToMany;
        let (many, one, msig, osig) = if swapped { (&r, &l, &rsig, &lsig) } else { (&l, &r, &lsig, &rsig) };
        let mut mc = Cursors::new(many.len());
        let mut oc = Cursors::new(one.len());
        let mut right: Vec<Option<(usize, f64)>> = vec![None; nsig];
        let mut touched: Vec<u32> = Vec::new();
        let mut matched: Vec<bool> = vec![false; nsig];
        let mut matched_many: HashMap<(u32, usize), ()> = HashMap::new();
        let mut out = Out::new();
        let mut pair_out: HashMap<(usize, usize), usize> = HashMap::new();
        let mut mvals: Vec<(usize, f64)> = Vec::new();
        let mut labels_sorted = m.labels.clone();
        crate::sort::sort(&mut labels_sorted);
        // After the swap the "one" side is on the right: as in Prometheus, a
        // missing right sample takes fill_right and an unmatched right sample
        // gets a left partner from fill_left, in the swapped orientation.
        let (fill_one, fill_many) = (m.fill_rhs, m.fill_lhs);
        for i in 0..n {
            let t = g.t(i);
            for &s in &touched {
                right[s as usize] = None;
                matched[s as usize] = false;
            }
            touched.clear();
            matched_many.clear();
            for (k, s) in one.iter().enumerate() {
                if let Some(f) = oc.at(s, k, t) {
                    let sg = osig[k] as usize;
                    if let Some((k2, _)) = right[sg] {
                        let matched_labels = if m.on { keep_labels(&s.labels, &labels_sorted) } else { remove_labels(&s.labels, &labels_sorted, true) };
                        let (mut d1, mut d2) = (labels_string(&s.labels), labels_string(&one[k2].labels));
                        if d1 > d2 {
                            std::mem::swap(&mut d1, &mut d2);
                        }
                        let side = if swapped { "left" } else { "right" };
                        return Err(err(format!(
                            "found duplicate series for the match group {} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
                            labels_string(&matched_labels)
                        )));
                    }
                    right[sg] = Some((k, f));
                    touched.push(sg as u32);
                }
            }
            mvals.clear();
            for (k, s) in many.iter().enumerate() {
                if let Some(f) = mc.at(s, k, t) {
                    mvals.push((k, f));
                }
            }
            // Every match (and every filled-in partner) goes through here.
            let mut emit = |many_k: Option<usize>, one_k: Option<usize>, f_many: f64, f_one: f64, sg: usize, out: &mut Out, matched: &mut Vec<bool>| -> Result<(), QueryError> {
                let (fl, fr) = if swapped { (f_one, f_many) } else { (f_many, f_one) };
                let (val, keep) = elem_op(b.op, fl, fr);
                let key = (many_k.unwrap_or(usize::MAX), one_k.unwrap_or(usize::MAX));
                let id = match pair_out.get(&key) {
                    Some(&id) => id,
                    None => {
                        let one_l = match one_k {
                            Some(o) => one[o].labels.clone(),
                            None => match_labels(&many[key.0].labels, m, &labels_sorted),
                        };
                        let many_l = match many_k {
                            Some(k) => many[k].labels.clone(),
                            None => match_labels(&one[key.1].labels, m, &labels_sorted),
                        };
                        let lbl = result_labels(&many_l, &one_l, b.op, m);
                        let id = out.id(&lbl, b.return_bool);
                        pair_out.insert(key, id);
                        id
                    }
                };
                if m.card == Card::OneToOne {
                    if matched[sg] {
                        return Err(err("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"));
                    }
                } else if matched_many.insert((sg as u32, id), ()).is_some() {
                    return Err(err("multiple matches for labels: grouping labels must ensure unique matches"));
                }
                matched[sg] = true;
                if b.return_bool {
                    out.push(id, t, if keep { 1.0 } else { 0.0 })?;
                } else if keep {
                    out.push(id, t, val)?;
                }
                Ok(())
            };
            for &(k, f) in &mvals {
                let sg = msig[k] as usize;
                match right[sg] {
                    Some((ok, of)) => emit(Some(k), Some(ok), f, of, sg, &mut out, &mut matched)?,
                    None => {
                        if let Some(fill) = fill_one {
                            touched.push(sg as u32);
                            emit(Some(k), None, f, fill, sg, &mut out, &mut matched)?;
                        }
                    }
                }
            }
            if let Some(fill) = fill_many {
                for ok in 0..one.len() {
                    let sg = osig[ok] as usize;
                    if let Some((k2, of)) = right[sg]
                        && k2 == ok && !matched[sg] {
                            emit(None, Some(ok), fill, of, sg, &mut out, &mut matched)?;
                        }
                }
            }
        }
        Ok(Val::Vector(out.finish()))
    }
}

/// Orders values ascending (or descending), NaN last either way.
fn cmp_nan_last(a: f64, b: f64, desc: bool) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => {
            let o = a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
    }
}

/// Prometheus's `Labels.MatchLabels`: the labels a match is made on.
fn match_labels(l: &Labels, m: &VectorMatching, names: &[String]) -> Labels {
    if m.on { keep_labels(l, names) } else { remove_labels(l, names, true) }
}

fn result_labels(lhs: &Labels, rhs: &Labels, op: BinOp, m: &VectorMatching) -> Labels {
    let mut l = if op.changes_schema() { drop_metric_name(lhs) } else { lhs.clone() };
    if m.card == Card::OneToOne {
        l = if m.on { keep_labels(&l, &m.labels) } else { remove_labels(&l, &m.labels, false) };
    }
    for name in &m.include {
        match rhs.get(name) {
            Some(v) if !v.is_empty() => l.set(name, v),
            _ => l.remove(name),
        }
    }
    l
}

/// `(value, keep)` of an operator on two floats, as Prometheus's
/// `vectorElemBinop`: comparisons keep the left value when true.
#[inline]
fn elem_op(op: BinOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinOp::Add => (l + r, true),
        BinOp::Sub => (l - r, true),
        BinOp::Mul => (l * r, true),
        BinOp::Div => (l / r, true),
        BinOp::Pow => (go_pow(l, r), true),
        BinOp::Mod => (go_mod(l, r), true),
        BinOp::Atan2 => (l.atan2(r), true),
        BinOp::Eql => (l, l == r),
        BinOp::Neq => (l, l != r),
        BinOp::Gtr => (l, l > r),
        BinOp::Lss => (l, l < r),
        BinOp::Gte => (l, l >= r),
        BinOp::Lte => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

fn scalar_op(op: BinOp, l: f64, r: f64) -> f64 {
    match op {
        BinOp::Eql => (l == r) as u8 as f64,
        BinOp::Neq => (l != r) as u8 as f64,
        BinOp::Gtr => (l > r) as u8 as f64,
        BinOp::Lss => (l < r) as u8 as f64,
        BinOp::Gte => (l >= r) as u8 as f64,
        BinOp::Lte => (l <= r) as u8 as f64,
        _ => elem_op(op, l, r).0,
    }
}

fn vector_scalar(op: BinOp, v: Vec<RSeries>, s: &[f64], swap: bool, return_bool: bool, g: &Grid) -> Vec<RSeries> {
    let mut out = Vec::with_capacity(v.len());
    for mut series in v {
        let (mut ts, mut vs) = (Vec::with_capacity(series.ts.len()), Vec::with_capacity(series.ts.len()));
        for k in 0..series.ts.len() {
            let t = series.ts[k];
            let sv = s[g.idx(t)];
            let (l, r) = if swap { (sv, series.vs[k]) } else { (series.vs[k], sv) };
            let (mut val, mut keep) = elem_op(op, l, r);
            if op.is_comparison() && swap {
                val = r;
            }
            if return_bool {
                val = if keep { 1.0 } else { 0.0 };
                keep = true;
            }
            if keep {
                ts.push(t);
                vs.push(val);
            }
        }
        if op.changes_schema() || return_bool {
            series.drop_name = true;
        }
        series.ts = ts;
        series.vs = vs;
        if !series.ts.is_empty() {
            out.push(series);
        }
    }
    out
}

/// Go's `math.Pow` special cases differ from IEEE `pow` only in corners
/// Prometheus never tests; `powf` matches for finite and infinite inputs.
fn go_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// Go's `math.Mod`: the result has the sign of `x`.
fn go_mod(x: f64, y: f64) -> f64 {
    if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    x % y
}

/// Go's `math.Max` (NaN wins over numbers).
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

/// The sample at or before `t` within the lookback window, unless stale.
fn lookup(ts: &[i64], vs: &[f64], t: i64, lookback: i64) -> Option<(i64, f64)> {
    let p = ts.partition_point(|&x| x <= t);
    if p == 0 {
        return None;
    }
    let (st, v) = (ts[p - 1], vs[p - 1]);
    if st <= t - lookback || is_stale(v) {
        return None;
    }
    Some((st, v))
}

/// Labels for `absent()`: the equality matchers, unless a label is matched
/// more than once.
fn absent_labels(ms: &[Matcher]) -> Labels {
    let mut l = Labels::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in ms {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !seen.contains(&m.name.as_str()) {
            l.set(&m.name, &m.value);
            seen.push(&m.name);
        } else {
            l.remove(&m.name);
        }
    }
    l
}

fn string_arg(e: &Expr) -> String {
    match &e.unparen().kind {
        ExprKind::String(s) => s.value.clone(),
        _ => String::new(),
    }
}

/// A string argument used as a label name: non-empty valid UTF-8.
fn label_name_arg(e: &Expr) -> Result<String, String> {
    match &e.unparen().kind {
        ExprKind::String(s) if s.utf8 && !s.value.is_empty() => Ok(s.value.clone()),
        ExprKind::String(s) => Err(s.value.clone()),
        _ => Err(String::new()),
    }
}

/// Parses a float as Go's `strconv.ParseFloat` (for `le` labels).
pub fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches('+');
    match t.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty() {
        return None;
    }
    crate::float::parse(s).ok()
}

/// Go's `%g` for a float (shortest representation, exponent form outside
/// `1e-4 <= |x| < 1e6`).
pub fn go_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        let s = format!("{f:e}");
        // Rust prints `1e-5`; Go prints `1e-05`.
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = if let Some(d) = e.strip_prefix('-') { ('-', d) } else { ('+', e) };
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{f}")
}

/// OpenMetrics float text: Go's `%g`, with `.0` added to integers.
fn format_openmetrics_float(f: f64) -> String {
    let s = go_g(f);
    if f.is_finite() && !s.contains(['e', '.']) { s + ".0" } else { s }
}

fn rfc3339(ms: i64) -> String {
    let s = ms.div_euclid(1000);
    let (y, m, d) = fns::civil_from_days(s.div_euclid(86_400));
    let sod = s.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, (sod % 3600) / 60, sod % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formatting() {
        assert_eq!(go_g(1.1), "1.1");
        assert_eq!(go_g(1e-5), "1e-05");
        assert_eq!(go_g(f64::NAN), "NaN");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(go_mod(-7.0, 3.0), -1.0);
        assert!(go_mod(1.0, 0.0).is_nan());
    }
}
