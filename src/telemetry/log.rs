//! Log records in the OpenTelemetry model: time, severity (OTel numbers),
//! the emitting resource, trace and span ids when injected, and a template
//! plus fields. Lines are formatted only when shown or exported.

use super::ids::{SpanId, TraceId};
use super::resource::ResourceId;
use crate::sim::time::SimTime;
use std::sync::Arc;

/// OpenTelemetry severity numbers (the first of each range).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Trace = 1,
    Debug = 5,
    Info = 9,
    Warn = 13,
    Error = 17,
    Fatal = 21,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Trace => "TRACE",
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }
    /// The lowercase `level` label value Loki-style tools use.
    pub fn level(self) -> &'static str {
        match self {
            Severity::Trace => "trace",
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        }
    }
    pub fn number(self) -> i32 {
        self as i32
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "trace" => Severity::Trace,
            "debug" => Severity::Debug,
            "info" => Severity::Info,
            "warn" | "warning" => Severity::Warn,
            "error" => Severity::Error,
            "fatal" => Severity::Fatal,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateId(pub u16);

/// A message template: `body` with `{name}` placeholders for `fields`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogTemplate {
    pub logger: Arc<str>,
    pub body: Arc<str>,
    pub fields: Vec<Arc<str>>,
}

/// A field value of a log record.
#[derive(Clone, Debug, PartialEq)]
pub enum LogValue {
    Int(i64),
    Float(f64),
    Str(Arc<str>),
}

impl std::fmt::Display for LogValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogValue::Int(i) => write!(f, "{i}"),
            LogValue::Float(x) => write!(f, "{}", (x * 1000.0).round() / 1000.0),
            LogValue::Str(s) => write!(f, "{s}"),
        }
    }
}

/// How a service writes its log lines (the instrumentation plan's choice).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `2026-03-02T12:00:01.123Z WARN [pool] message key=value`
    Plain,
    /// One JSON object per line with `ts`, `level`, `msg`, fields, ids.
    #[default]
    Json,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    pub time: SimTime,
    pub severity: Severity,
    pub resource: ResourceId,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub template: TemplateId,
    pub fields: Box<[LogValue]>,
}

/// Renders the message body: placeholders replaced by field values.
pub fn render_body(t: &LogTemplate, fields: &[LogValue]) -> String {
    let mut out = String::with_capacity(t.body.len() + 16);
    let mut rest: &str = &t.body;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match t.fields.iter().position(|f| &**f == name).and_then(|i| fields.get(i)) {
                    Some(v) => out.push_str(&v.to_string()),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn renders_placeholders() {
        let t = LogTemplate { logger: "pool".into(), body: "waited {ms} ms for {pool} {x".into(), fields: vec!["pool".into(), "ms".into()] };
        let s = render_body(&t, &[LogValue::Str("catalog-db".into()), LogValue::Int(512)]);
        assert_eq!(s, "waited 512 ms for catalog-db {x");
    }
}
