//! Query results as Prometheus defines them: [`Scalar`](Value::Scalar),
//! [`String`](Value::String), instant [`Vector`] of [`Sample`]s and range
//! [`Matrix`] of [`Series`]; warning and info [`Annotation`]s; and the
//! rendering of a result as the JSON of Prometheus's `/api/v1/query` and
//! `/api/v1/query_range`.

use crate::json::JsonWriter;
use crate::query::diag::line_col;
use crate::telemetry::metric::Labels;

/// One sample of an instant vector. `t` is the evaluation time (Unix ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub f: f64,
}

/// A series of a range result: points in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// `(unix ms, value)`, strictly increasing in time.
    pub points: Vec<(i64, f64)>,
}

pub type Vector = Vec<Sample>;
pub type Matrix = Vec<Series>;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vector),
    Matrix(Matrix),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AnnotationKind {
    Warning,
    Info,
}

/// A warning or info note attached to a successful query, positioned at the
/// sub-expression it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub kind: AnnotationKind,
    /// The text after `PromQL warning: ` / `PromQL info: `.
    pub message: String,
    /// Byte offset in the query of the expression the note is about.
    pub pos: usize,
}

impl Annotation {
    /// As Prometheus's API renders it: `PromQL info: ... (1:6)`.
    pub fn render(&self, query: &str) -> String {
        let (l, c) = line_col(query, self.pos);
        let prefix = match self.kind {
            AnnotationKind::Warning => "PromQL warning",
            AnnotationKind::Info => "PromQL info",
        };
        format!("{prefix}: {} ({l}:{c})", self.message)
    }
}

/// Formats a sample value as Prometheus's API does (`strconv.FormatFloat(f,
/// 'f', -1, 64)`, with `+Inf`, `-Inf` and `NaN`).
pub fn format_value(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

fn write_labels(w: &mut JsonWriter, labels: &Labels) {
    w.key("metric").begin_object();
    for l in labels.iter() {
        w.field_str(&l.name, &l.value);
    }
    w.end_object();
}

fn write_point(w: &mut JsonWriter, t: i64, f: f64) {
    w.begin_array();
    if t % 1000 == 0 {
        w.int((t / 1000) as i128);
    } else {
        w.float(t as f64 / 1000.0);
    }
    w.string(&format_value(f));
    w.end_array();
}

/// Renders a result as the body of Prometheus's query API:
/// `{"status":"success","data":{"resultType":...,"result":...}}`, with
/// optional `warnings` and `infos` arrays as Prometheus 3 sends them.
pub fn to_api_json(v: &Value, annotations: &[Annotation], query: &str) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("status", "success").key("data").begin_object();
    w.field_str("resultType", v.type_name());
    w.key("result");
    match v {
        Value::Scalar { t, v } => write_point(&mut w, *t, *v),
        Value::String { t, v } => {
            w.begin_array();
            if t % 1000 == 0 {
                w.int((t / 1000) as i128);
            } else {
                w.float(*t as f64 / 1000.0);
            }
            w.string(v);
            w.end_array();
        }
        Value::Vector(vec) => {
            w.begin_array();
            for s in vec {
                w.begin_object();
                write_labels(&mut w, &s.labels);
                w.key("value");
                write_point(&mut w, s.t, s.f);
                w.end_object();
            }
            w.end_array();
        }
        Value::Matrix(m) => {
            w.begin_array();
            for s in m {
                w.begin_object();
                write_labels(&mut w, &s.labels);
                w.key("values").begin_array();
                for &(t, f) in &s.points {
                    write_point(&mut w, t, f);
                }
                w.end_array();
                w.end_object();
            }
            w.end_array();
        }
    }
    w.end_object();
    for (kind, key) in [(AnnotationKind::Warning, "warnings"), (AnnotationKind::Info, "infos")] {
        let list: Vec<&Annotation> = annotations.iter().filter(|a| a.kind == kind).collect();
        if !list.is_empty() {
            w.key(key).begin_array();
            for a in list {
                w.string(&a.render(query));
            }
            w.end_array();
        }
    }
    w.end_object();
    w.finish()
}

/// The error body of Prometheus's query API.
pub fn error_json(error_type: &str, message: &str) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().field_str("status", "error").field_str("errorType", error_type).field_str("error", message).end_object();
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_vectors_like_prometheus() {
        let v = Value::Vector(vec![Sample { labels: Labels::from_pairs([("__name__", "up"), ("job", "a")]), t: 1_435_781_451_781, f: 1.0 }]);
        assert_eq!(to_api_json(&v, &[], "up"), r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1435781451.781,"1"]}]}}"#);
        let s = Value::Scalar { t: 2000, v: f64::INFINITY };
        assert_eq!(to_api_json(&s, &[], "x"), r#"{"status":"success","data":{"resultType":"scalar","result":[2,"+Inf"]}}"#);
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(0.1), "0.1");
    }
}
