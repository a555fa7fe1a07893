//! The Prometheus data model the lab's metrics are stored in: [`Labels`]
//! (sorted name/value pairs including `__name__`), metric families with
//! their type, help and unit, and [`Exemplar`]s linking a bucket to a trace.

use super::ids::{SpanId, TraceId};
use std::fmt;
use std::sync::Arc;

pub const METRIC_NAME: &str = "__name__";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    pub name: Arc<str>,
    pub value: Arc<str>,
}

/// A label set, always sorted by name with unique names and no empty values
/// (an empty value means "no label" in Prometheus).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    pub fn new() -> Self {
        Labels(Vec::new())
    }
    /// Builds a label set from pairs; later duplicates win, empty values are dropped.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (N, V)>) -> Self {
        let mut l = Labels::new();
        for (n, v) in pairs {
            l.set(n.as_ref(), v.as_ref());
        }
        l
    }
    pub fn from_sorted_unchecked(v: Vec<Label>) -> Self {
        Labels(v)
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.binary_search_by(|l| (*l.name).cmp(name)).ok().map(|i| &*self.0[i].value)
    }
    pub fn name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|l| (*l.name).cmp(name)) {
            Ok(i) if value.is_empty() => {
                self.0.remove(i);
            }
            Ok(i) => self.0[i].value = value.into(),
            Err(_) if value.is_empty() => {}
            Err(i) => self.0.insert(i, Label { name: name.into(), value: value.into() }),
        }
    }
    pub fn set_arc(&mut self, name: Arc<str>, value: Arc<str>) {
        match self.0.binary_search_by(|l| l.name.cmp(&name)) {
            Ok(i) => self.0[i].value = value,
            Err(i) => self.0.insert(i, Label { name, value }),
        }
    }
    pub fn remove(&mut self, name: &str) {
        if let Ok(i) = self.0.binary_search_by(|l| (*l.name).cmp(name)) {
            self.0.remove(i);
        }
    }
    pub fn without_name(&self) -> Labels {
        Labels(self.0.iter().filter(|l| &*l.name != METRIC_NAME).cloned().collect())
    }
    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }
}

/// Prints `name{a="b", ...}` as Prometheus does.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name().unwrap_or("");
        write!(f, "{name}{{")?;
        let mut first = true;
        for l in self.0.iter().filter(|l| &*l.name != METRIC_NAME) {
            if !first {
                write!(f, ", ")?;
            }
            first = false;
            write!(f, "{}=\"{}\"", l.name, escape_label_value(&l.value))?;
        }
        write!(f, "}}")
    }
}

/// Escapes `\`, `"` and newlines as the exposition formats require.
pub fn escape_label_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Formats a float as Prometheus's Go code does with `FormatFloat(v, 'g', -1, 64)`
/// for the values used in labels and exposition: `+Inf`, `-Inf`, `NaN`, else shortest.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-4) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// Metadata of one metric family. `name` is the family name: a counter's
/// without `_total`, a histogram's without `_bucket`/`_sum`/`_count`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFamily {
    pub name: Arc<str>,
    pub kind: MetricKind,
    pub help: Arc<str>,
    /// OpenMetrics unit (`seconds`, `bytes`) or empty.
    pub unit: Arc<str>,
    /// Bucket upper bounds for histograms (without +Inf).
    pub buckets: Vec<f64>,
}

/// A sample value linked to the trace that produced it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exemplar {
    pub timestamp_ms: i64,
    pub value: f64,
    pub trace_id: TraceId,
    pub span_id: SpanId,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn labels_stay_sorted_and_drop_empty() {
        let l = Labels::from_pairs([("b", "2"), ("__name__", "up"), ("a", "1"), ("c", "")]);
        let names: Vec<&str> = l.iter().map(|l| &*l.name).collect();
        assert_eq!(names, vec!["__name__", "a", "b"]);
        assert_eq!(l.to_string(), "up{a=\"1\", b=\"2\"}");
    }
    #[test]
    fn floats_format_like_go() {
        assert_eq!(format_float(0.005), "0.005");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(2.5), "2.5");
    }
}
