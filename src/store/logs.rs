//! The log store: records in time order, the template table they point
//! into, and formatting of a record as a plain or JSON line. String field
//! values are interned as records arrive (equal text, one `Arc`), so a
//! search can decide a value once per query by its address.

use crate::telemetry::log::{render_body, LogFormat, LogRecord, LogTemplate, LogValue, TemplateId};
use crate::telemetry::resource::Resource;
use crate::sim::fxhash::FxHashSet;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct LogStore {
    records: Vec<LogRecord>,
    templates: Vec<LogTemplate>,
    /// Every distinct string field value, for interning.
    strings: FxHashSet<Arc<str>>,
}

impl LogStore {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add_template(&mut self, t: LogTemplate) -> TemplateId {
        self.templates.push(t);
        TemplateId(self.templates.len() as u16 - 1)
    }
    pub fn template(&self, id: TemplateId) -> &LogTemplate {
        &self.templates[id.0 as usize]
    }
    pub fn push(&mut self, mut r: LogRecord) {
        for v in r.fields.iter_mut() {
            if let LogValue::Str(s) = v {
                match self.strings.get(s) {
                    Some(same) => *s = same.clone(),
                    None => {
                        self.strings.insert(s.clone());
                    }
                }
            }
        }
        self.records.push(r);
    }
    /// Sorts records by time (stable, so equal times keep emission order).
    pub fn finish(&mut self) {
        crate::sort::sort_by_key(&mut self.records, |r| r.time);
    }
    pub fn records(&self) -> &[LogRecord] {
        &self.records
    }
    pub fn len(&self) -> usize {
        self.records.len()
    }
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    pub fn body(&self, r: &LogRecord) -> String {
        render_body(self.template(r.template), &r.fields)
    }
    /// Formats a record as the service would have written it.
    /// `ts` is the RFC 3339 timestamp of the record.
    pub fn format_line(&self, r: &LogRecord, res: &Resource, ts: &str, format: LogFormat) -> String {
        let t = self.template(r.template);
        let body = render_body(t, &r.fields);
        match format {
            LogFormat::Plain => {
                let mut s = format!("{ts} {:<5} [{}] {body}", r.severity.as_str(), t.logger);
                if r.trace_id.is_valid() {
                    s.push_str(&format!(" trace_id={} span_id={}", r.trace_id, r.span_id));
                }
                s
            }
            LogFormat::Json => {
                let mut s = String::with_capacity(160);
                s.push_str("{\"ts\":\"");
                s.push_str(ts);
                s.push_str("\",\"level\":\"");
                s.push_str(r.severity.level());
                s.push_str("\",\"logger\":");
                push_json_str(&mut s, &t.logger);
                s.push_str(",\"msg\":");
                push_json_str(&mut s, &body);
                for (name, v) in t.fields.iter().zip(r.fields.iter()) {
                    s.push(',');
                    push_json_str(&mut s, name);
                    s.push(':');
                    match v {
                        LogValue::Int(i) => s.push_str(&i.to_string()),
                        LogValue::Float(x) if x.is_finite() => s.push_str(&format!("{x}")),
                        LogValue::Float(_) => s.push_str("null"),
                        LogValue::Str(v) => push_json_str(&mut s, v),
                    }
                }
                s.push_str(",\"pod\":");
                push_json_str(&mut s, &res.pod);
                if r.trace_id.is_valid() {
                    s.push_str(&format!(",\"trace_id\":\"{}\",\"span_id\":\"{}\"", r.trace_id, r.span_id));
                }
                s.push('}');
                s
            }
        }
    }
}

/// Appends `v` as a JSON string literal.
pub fn push_json_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
