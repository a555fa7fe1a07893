//! PromQL's function signature table and the numeric kernels behind the
//! functions and aggregations: rate extrapolation, the `*_over_time` family,
//! linear regression, quantiles, classic-histogram quantiles with
//! Prometheus's monotonicity fixes, Kahan summation and calendar maths. The
//! kernels work on plain slices so the evaluator can feed them straight from
//! the store's columns.

use super::ast::ValueType::{self, Matrix as M, Scalar as S, String as Str, Vector as V};

/// Which implementation a function maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Abs,
    Absent,
    AbsentOverTime,
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    AvgOverTime,
    Ceil,
    Changes,
    Clamp,
    ClampMax,
    ClampMin,
    Cos,
    Cosh,
    CountOverTime,
    DaysInMonth,
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    Deg,
    Delta,
    Deriv,
    Exp,
    FirstOverTime,
    Floor,
    HistogramQuantile,
    HistogramQuantiles,
    Hour,
    Idelta,
    Increase,
    Irate,
    LabelReplace,
    LabelJoin,
    LastOverTime,
    Ln,
    Log10,
    Log2,
    MadOverTime,
    MaxOverTime,
    MinOverTime,
    Minute,
    Month,
    Pi,
    PredictLinear,
    PresentOverTime,
    QuantileOverTime,
    Rad,
    Rate,
    Resets,
    Round,
    Scalar,
    Sgn,
    Sin,
    Sinh,
    Sort,
    SortDesc,
    SortByLabel,
    SortByLabelDesc,
    Sqrt,
    StddevOverTime,
    StdvarOverTime,
    SumOverTime,
    Tan,
    Tanh,
    Time,
    Timestamp,
    TsOfFirstOverTime,
    TsOfLastOverTime,
    TsOfMaxOverTime,
    TsOfMinOverTime,
    DoubleExponentialSmoothing,
    Vector,
    Year,
    /// The query's start, end, range and step, in seconds.
    Start,
    End,
    Range,
    Step,
    MaxOf,
    MinOf,
    /// A real Prometheus function this engine rejects as unsupported.
    Unsupported(&'static str),
}

/// A function's signature: argument types, how many extra arguments of the
/// last type it accepts (`-1` for any number), and its return type.
#[derive(Debug)]
pub struct FunctionDef {
    pub name: &'static str,
    pub args: &'static [ValueType],
    pub variadic: i32,
    pub ret: ValueType,
    pub func: Func,
}

macro_rules! f {
    ($name:literal, [$($a:expr),*], $var:expr, $ret:expr, $func:expr) => {
        FunctionDef { name: $name, args: &[$($a),*], variadic: $var, ret: $ret, func: $func }
    };
}

const NH: Func = Func::Unsupported("native histograms");

/// Every function Prometheus 3 knows, sorted by name.
pub static FUNCTIONS: &[FunctionDef] = &[
    f!("abs", [V], 0, V, Func::Abs),
    f!("absent", [V], 0, V, Func::Absent),
    f!("absent_over_time", [M], 0, V, Func::AbsentOverTime),
    f!("acos", [V], 0, V, Func::Acos),
    f!("acosh", [V], 0, V, Func::Acosh),
    f!("asin", [V], 0, V, Func::Asin),
    f!("asinh", [V], 0, V, Func::Asinh),
    f!("atan", [V], 0, V, Func::Atan),
    f!("atanh", [V], 0, V, Func::Atanh),
    f!("avg_over_time", [M], 0, V, Func::AvgOverTime),
    f!("ceil", [V], 0, V, Func::Ceil),
    f!("changes", [M], 0, V, Func::Changes),
    f!("clamp", [V, S, S], 0, V, Func::Clamp),
    f!("clamp_max", [V, S], 0, V, Func::ClampMax),
    f!("clamp_min", [V, S], 0, V, Func::ClampMin),
    f!("cos", [V], 0, V, Func::Cos),
    f!("cosh", [V], 0, V, Func::Cosh),
    f!("count_over_time", [M], 0, V, Func::CountOverTime),
    f!("day_of_month", [V], 1, V, Func::DayOfMonth),
    f!("day_of_week", [V], 1, V, Func::DayOfWeek),
    f!("day_of_year", [V], 1, V, Func::DayOfYear),
    f!("days_in_month", [V], 1, V, Func::DaysInMonth),
    f!("deg", [V], 0, V, Func::Deg),
    f!("delta", [M], 0, V, Func::Delta),
    f!("deriv", [M], 0, V, Func::Deriv),
    f!("double_exponential_smoothing", [M, S, S], 0, V, Func::DoubleExponentialSmoothing),
    f!("end", [], 0, S, Func::End),
    f!("exp", [V], 0, V, Func::Exp),
    f!("first_over_time", [M], 0, V, Func::FirstOverTime),
    f!("floor", [V], 0, V, Func::Floor),
    f!("histogram_avg", [V], 0, V, NH),
    f!("histogram_count", [V], 0, V, NH),
    f!("histogram_fraction", [S, S, V], 0, V, NH),
    f!("histogram_quantile", [S, V], 0, V, Func::HistogramQuantile),
    f!("histogram_quantiles", [V, Str, S, S], 9, V, Func::HistogramQuantiles),
    f!("histogram_stddev", [V], 0, V, NH),
    f!("histogram_stdvar", [V], 0, V, NH),
    f!("histogram_sum", [V], 0, V, NH),
    f!("hour", [V], 1, V, Func::Hour),
    f!("idelta", [M], 0, V, Func::Idelta),
    f!("increase", [M], 0, V, Func::Increase),
    f!("info", [V, V], 1, V, Func::Unsupported("info()")),
    f!("irate", [M], 0, V, Func::Irate),
    f!("label_join", [V, Str, Str, Str], -1, V, Func::LabelJoin),
    f!("label_replace", [V, Str, Str, Str, Str], 0, V, Func::LabelReplace),
    f!("last_over_time", [M], 0, V, Func::LastOverTime),
    f!("ln", [V], 0, V, Func::Ln),
    f!("log10", [V], 0, V, Func::Log10),
    f!("log2", [V], 0, V, Func::Log2),
    f!("mad_over_time", [M], 0, V, Func::MadOverTime),
    f!("max_of", [S, S], 0, S, Func::MaxOf),
    f!("max_over_time", [M], 0, V, Func::MaxOverTime),
    f!("min_of", [S, S], 0, S, Func::MinOf),
    f!("min_over_time", [M], 0, V, Func::MinOverTime),
    f!("minute", [V], 1, V, Func::Minute),
    f!("month", [V], 1, V, Func::Month),
    f!("pi", [], 0, S, Func::Pi),
    f!("predict_linear", [M, S], 0, V, Func::PredictLinear),
    f!("present_over_time", [M], 0, V, Func::PresentOverTime),
    f!("quantile_over_time", [S, M], 0, V, Func::QuantileOverTime),
    f!("rad", [V], 0, V, Func::Rad),
    f!("range", [], 0, S, Func::Range),
    f!("rate", [M], 0, V, Func::Rate),
    f!("resets", [M], 0, V, Func::Resets),
    f!("round", [V, S], 1, V, Func::Round),
    f!("scalar", [V], 0, S, Func::Scalar),
    f!("sgn", [V], 0, V, Func::Sgn),
    f!("sin", [V], 0, V, Func::Sin),
    f!("sinh", [V], 0, V, Func::Sinh),
    f!("sort", [V], 0, V, Func::Sort),
    f!("sort_by_label", [V, Str], -1, V, Func::SortByLabel),
    f!("sort_by_label_desc", [V, Str], -1, V, Func::SortByLabelDesc),
    f!("sort_desc", [V], 0, V, Func::SortDesc),
    f!("sqrt", [V], 0, V, Func::Sqrt),
    f!("start", [], 0, S, Func::Start),
    f!("start_timestamp", [V], 0, V, Func::Unsupported("start timestamps")),
    f!("stddev_over_time", [M], 0, V, Func::StddevOverTime),
    f!("stdvar_over_time", [M], 0, V, Func::StdvarOverTime),
    f!("step", [], 0, S, Func::Step),
    f!("sum_over_time", [M], 0, V, Func::SumOverTime),
    f!("tan", [V], 0, V, Func::Tan),
    f!("tanh", [V], 0, V, Func::Tanh),
    f!("time", [], 0, S, Func::Time),
    f!("timestamp", [V], 0, V, Func::Timestamp),
    f!("ts_of_first_over_time", [M], 0, V, Func::TsOfFirstOverTime),
    f!("ts_of_last_over_time", [M], 0, V, Func::TsOfLastOverTime),
    f!("ts_of_max_over_time", [M], 0, V, Func::TsOfMaxOverTime),
    f!("ts_of_min_over_time", [M], 0, V, Func::TsOfMinOverTime),
    f!("vector", [S], 0, V, Func::Vector),
    f!("year", [V], 1, V, Func::Year),
];

pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS.binary_search_by(|f| f.name.cmp(name)).ok().map(|i| &FUNCTIONS[i])
}

/// Functions whose result depends on the evaluation time even when their
/// arguments do not (Prometheus's `AtModifierUnsafeFunctions`).
pub fn at_modifier_unsafe(name: &str) -> bool {
    matches!(
        name,
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "end" | "hour" | "minute" | "month" | "year" | "predict_linear" | "range" | "start" | "step" | "time" | "timestamp"
    )
}

/// Neumaier-compensated addition, as Prometheus's `kahansum.Inc`.
#[inline]
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A window of float samples for a range-vector function: timestamps in
/// milliseconds (strictly increasing) and values, the left-open window
/// `(range_start, range_end]` and the evaluation time.
#[derive(Clone, Copy)]
pub struct Window<'a> {
    pub ts: &'a [i64],
    pub vs: &'a [f64],
    pub range_start: i64,
    pub range_end: i64,
    pub range_ms: i64,
    pub eval_ts: i64,
}

/// `rate`, `increase` and `delta` with Prometheus's extrapolation.
pub fn extrapolated_rate(w: Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    extrapolated_rate_scan(w, is_counter, is_counter, is_rate)
}

/// [`extrapolated_rate`] with the per-window scan for counter resets made
/// optional: a caller that knows the window holds no reset passes
/// `scan_resets = false` and gets the same result in constant time.
pub fn extrapolated_rate_scan(w: Window, is_counter: bool, scan_resets: bool, is_rate: bool) -> Option<f64> {
    let n = w.vs.len();
    if n < 2 {
        return None;
    }
    let first_t = w.ts[0];
    let last_t = w.ts[n - 1];
    let mut result = w.vs[n - 1] - w.vs[0];
    if is_counter && scan_resets {
        let mut prev = w.vs[0];
        for &cur in &w.vs[1..] {
            if cur < prev {
                result += prev;
            }
            prev = cur;
        }
    }
    let mut duration_to_start = (first_t - w.range_start) as f64 / 1000.0;
    let mut duration_to_end = (w.range_end - last_t) as f64 / 1000.0;
    let sampled_interval = (last_t - first_t) as f64 / 1000.0;
    let avg = sampled_interval / (n - 1) as f64;
    let threshold = avg * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = avg / 2.0;
    }
    if is_counter {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && w.vs[0] >= 0.0 {
            duration_to_zero = sampled_interval * (w.vs[0] / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = avg / 2.0;
    }
    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if is_rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` and `idelta`: the last two samples.
pub fn instant_value(w: Window, is_rate: bool) -> Option<f64> {
    let n = w.vs.len();
    if n < 2 {
        return None;
    }
    let (t0, v0, t1, v1) = (w.ts[n - 2], w.vs[n - 2], w.ts[n - 1], w.vs[n - 1]);
    let interval = t1 - t0;
    if interval == 0 {
        return None;
    }
    // On a counter reset the last value is the increase.
    let mut r = if !is_rate || !(v1 < v0) { v1 - v0 } else { v1 };
    if is_rate {
        r /= interval as f64 / 1000.0;
    }
    Some(r)
}

pub fn linear_regression(ts: &[i64], vs: &[f64], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut cx, mut sum_y, mut cy, mut sum_xy, mut cxy, mut sum_x2, mut cx2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init_y = vs[0];
    let mut const_y = true;
    for (i, (&t, &v)) in ts.iter().zip(vs).enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_time) as f64 / 1e3;
        (sum_x, cx) = kahan_inc(x, sum_x, cx);
        (sum_y, cy) = kahan_inc(v, sum_y, cy);
        (sum_xy, cxy) = kahan_inc(x * v, sum_xy, cxy);
        (sum_x2, cx2) = kahan_inc(x * x, sum_x2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += cx;
    sum_y += cy;
    sum_xy += cxy;
    sum_x2 += cx2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

pub fn deriv(w: Window) -> Option<f64> {
    if w.vs.len() < 2 {
        return None;
    }
    Some(linear_regression(w.ts, w.vs, w.ts[0]).0)
}

pub fn predict_linear(w: Window, duration: f64) -> Option<f64> {
    if w.vs.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(w.ts, w.vs, w.eval_ts);
    Some(slope * duration + intercept)
}

pub fn resets(w: Window) -> Option<f64> {
    if w.vs.is_empty() {
        return None;
    }
    let mut n = 0;
    for p in w.vs.windows(2) {
        if p[1] < p[0] {
            n += 1;
        }
    }
    Some(n as f64)
}

pub fn changes(w: Window) -> Option<f64> {
    if w.vs.is_empty() {
        return None;
    }
    let mut n = 0;
    for p in w.vs.windows(2) {
        if p[1] != p[0] && !(p[1].is_nan() && p[0].is_nan()) {
            n += 1;
        }
    }
    Some(n as f64)
}

pub fn avg_over_time(vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    let (mut sum, mut count, mut mean, mut c) = (vs[0], 1.0f64, 0.0f64, 0.0f64);
    let mut incremental = false;
    for (i, &f) in vs[1..].iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(f, sum, c);
            if !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(f / count, q * mean, q * c);
    }
    Some(if incremental { mean + c } else { sum / count + c / count })
}

pub fn sum_over_time(vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    let (mut sum, mut c) = (0.0, 0.0);
    for &f in vs {
        (sum, c) = kahan_inc(f, sum, c);
    }
    Some(if sum.is_infinite() { sum } else { sum + c })
}

/// max/min (and their timestamps) over time; NaN loses to any number.
pub fn compare_over_time(w: Window, max: bool, want_ts: bool, ties_latest: bool) -> Option<f64> {
    if w.vs.is_empty() {
        return None;
    }
    let mut best = w.vs[0];
    let mut best_t = w.ts[0];
    for (&t, &f) in w.ts.iter().zip(w.vs) {
        let better = if max {
            f > best || (ties_latest && f >= best)
        } else {
            f < best || (ties_latest && f <= best)
        };
        if better || best.is_nan() {
            best = f;
            best_t = t;
        }
    }
    Some(if want_ts { best_t as f64 / 1000.0 } else { best })
}

pub fn variance_over_time(vs: &[f64]) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &f in vs {
        count += 1.0;
        let delta = f - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (f - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

/// Sorts NaN first, then ascending (Prometheus's `vectorByValueHeap` order).
pub fn sort_nan_first(v: &mut [f64]) {
    crate::sort::sort_by(v, |a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
}

/// The φ-quantile of `values` (sorted in place) with linear interpolation.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    sort_nan_first(values);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

pub fn mad_over_time(vs: &[f64], buf: &mut Vec<f64>) -> Option<f64> {
    if vs.is_empty() {
        return None;
    }
    if vs.iter().any(|v| v.is_nan()) {
        return Some(f64::NAN);
    }
    buf.clear();
    buf.extend_from_slice(vs);
    let median = quantile(0.5, buf);
    for v in buf.iter_mut() {
        *v = (*v - median).abs();
    }
    Some(quantile(0.5, buf))
}

pub fn double_exponential_smoothing(vs: &[f64], sf: f64, tf: f64) -> Option<f64> {
    if vs.len() < 2 {
        return None;
    }
    let (mut s0, mut s1, mut b) = (0.0, vs[0], vs[1] - vs[0]);
    for (i, &v) in vs.iter().enumerate().skip(1) {
        let x = sf * v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Some(s1)
}

/// One classic histogram bucket: upper bound (`le`) and cumulative count.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// Outcome of [`bucket_quantile`]: the value and, when the buckets had to be
/// forced monotonic, the affected bucket bounds and the largest fix.
pub struct BucketQuantile {
    pub value: f64,
    pub forced_monotonic: bool,
    pub min_bucket: f64,
    pub max_bucket: f64,
    pub max_diff: f64,
}

fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < eps * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < eps
}

/// `histogram_quantile` over classic buckets, as Prometheus's
/// `BucketQuantile` (sorting, coalescing, monotonicity fixes).
pub fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> BucketQuantile {
    let mut r = BucketQuantile { value: f64::NAN, forced_monotonic: false, min_bucket: f64::INFINITY, max_bucket: f64::NEG_INFINITY, max_diff: 0.0 };
    if q.is_nan() {
        return r;
    }
    if q < 0.0 {
        r.value = f64::NEG_INFINITY;
        return r;
    }
    if q > 1.0 {
        r.value = f64::INFINITY;
        return r;
    }
    buckets.sort_by(|a, b| a.upper.partial_cmp(&b.upper).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().map(|b| b.upper) != Some(f64::INFINITY) {
        return r;
    }
    // Coalesce buckets with the same upper bound.
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(l) if l.upper == b.upper => l.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
    // Force monotonicity, ignoring tiny float noise.
    let mut prev = buckets[0].count;
    for i in 1..buckets.len() {
        let curr = buckets[i].count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, 1e-12) {
            buckets[i].count = prev;
            continue;
        }
        if curr < prev {
            buckets[i].count = prev;
            r.forced_monotonic = true;
            r.min_bucket = r.min_bucket.min(buckets[i].upper);
            r.max_bucket = r.max_bucket.max(buckets[i].upper);
            r.max_diff = r.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    if buckets.len() < 2 {
        return r;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return r;
    }
    let mut rank = q * observations;
    let n = buckets.len() - 1;
    let b = buckets[..n].partition_point(|x| x.count < rank);
    r.value = if b == n {
        buckets[n - 1].upper
    } else if b == 0 && buckets[0].upper <= 0.0 {
        buckets[0].upper
    } else {
        let mut start = 0.0;
        let end = buckets[b].upper;
        let mut count = buckets[b].count;
        if b > 0 {
            start = buckets[b - 1].upper;
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        start + (end - start) * (rank / count)
    };
    r
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The calendar functions, given Unix seconds (truncated as Go's `int64()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatePart {
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    DaysInMonth,
    Hour,
    Minute,
    Month,
    Year,
}

pub fn date_part(part: DatePart, secs: f64) -> f64 {
    // Go converts NaN and out-of-range floats to the minimum int64.
    let s: i64 = if secs.is_nan() || !(-9.223372036854776e18..9.223372036854776e18).contains(&secs) { i64::MIN } else { secs as i64 };
    let days = s.div_euclid(86_400);
    let sod = s.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    match part {
        DatePart::DayOfMonth => d as f64,
        DatePart::DayOfWeek => (days + 4).rem_euclid(7) as f64,
        DatePart::DayOfYear => {
            const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
            let mut doy = CUM[(m - 1) as usize] + d;
            if m > 2 && is_leap(y) {
                doy += 1;
            }
            doy as f64
        }
        DatePart::DaysInMonth => {
            const DIM: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            let mut n = DIM[(m - 1) as usize];
            if m == 2 && is_leap(y) {
                n += 1;
            }
            n as f64
        }
        DatePart::Hour => (sod / 3600) as f64,
        DatePart::Minute => ((sod % 3600) / 60) as f64,
        DatePart::Month => m as f64,
        DatePart::Year => y as f64,
    }
}

/// Natural ("human") string comparison used by `sort_by_label`: digit runs
/// compare by numeric value.
pub fn natural_less(a: &str, b: &str) -> bool {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        let (ca, cb) = (ab[i], bb[j]);
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            if na.len() != nb.len() {
                return na.len() < nb.len();
            }
            if na != nb {
                return na < nb;
            }
            if (i - si) != (j - sj) {
                return (i - si) < (j - sj);
            }
            continue;
        }
        if ca != cb {
            return ca < cb;
        }
        i += 1;
        j += 1;
    }
    ab.len() - i < bb.len() - j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_lookup() {
        assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(lookup("rate").unwrap().func, Func::Rate);
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn calendar_matches_known_dates() {
        // 2024-02-29T13:45:00Z
        let t = 1_709_214_300.0;
        assert_eq!(date_part(DatePart::Year, t), 2024.0);
        assert_eq!(date_part(DatePart::Month, t), 2.0);
        assert_eq!(date_part(DatePart::DayOfMonth, t), 29.0);
        assert_eq!(date_part(DatePart::DaysInMonth, t), 29.0);
        assert_eq!(date_part(DatePart::DayOfYear, t), 60.0);
        assert_eq!(date_part(DatePart::DayOfWeek, t), 4.0);
        assert_eq!(date_part(DatePart::Hour, t), 13.0);
        assert_eq!(date_part(DatePart::Minute, t), 45.0);
    }

    #[test]
    fn bucket_quantile_interpolates() {
        let mut b = vec![Bucket { upper: 0.1, count: 1.0 }, Bucket { upper: 0.2, count: 3.0 }, Bucket { upper: f64::INFINITY, count: 4.0 }];
        let r = bucket_quantile(0.5, &mut b);
        assert!((r.value - 0.15).abs() < 1e-12);
    }

    #[test]
    fn natural_order() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("a", "b"));
    }
}
