//! The log store: records in time order, the template table they point
//! into, and formatting of a record as a plain or JSON line. String field
//! values are interned as records arrive (equal text, one `Arc`), so a
//! search can decide a value once per query by its address.

use crate::telemetry::log::{render_body, LogFormat, LogRecord, LogTemplate, LogValue, TemplateId};
use crate::telemetry::resource::Resource;
use crate::sim::fxhash::FxHashSet;
use std::sync::Arc;

/// Slots of `LogStore::known`.
const KNOWN: usize = 256;

fn addr(s: &Arc<str>) -> usize {
    Arc::as_ptr(s) as *const u8 as usize
}

fn known_slot(s: &Arc<str>) -> usize {
    (addr(s) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) as usize >> (usize::BITS - 8)
}

#[derive(Clone, Debug, Default)]
pub struct LogStore {
    records: Vec<LogRecord>,
    templates: Vec<LogTemplate>,
    /// Every distinct string field value, for interning.
    strings: FxHashSet<Arc<str>>,
    /// Addresses of some `Arc`s in `strings`, direct-mapped: a field that
    /// already is one of them needs no hashing. `strings` never lets go of
    /// an `Arc`, so such an address cannot be reused by another string.
    known: Vec<usize>,
    /// Per template, what its records' fields have held.
    kinds: Vec<FieldKinds>,
}

/// What the records of one template have held in each field slot, so a
/// search can rule a slot out for a whole template: `kinds[i]` has
/// [`FieldKinds::INT`], [`FieldKinds::MILLI`], [`FieldKinds::FLOAT`] and
/// [`FieldKinds::STR`] bits; `min_fields` is the fewest fields a record had.
#[derive(Clone, Debug, Default)]
pub struct FieldKinds {
    pub kinds: Vec<u8>,
    pub min_fields: usize,
    seen: bool,
}

impl FieldKinds {
    pub const INT: u8 = 1;
    /// A finite float that is a whole number of thousandths: it shows as
    /// the same text in a message (rounded to thousandths) and in JSON.
    pub const MILLI: u8 = 2;
    /// Any other float.
    pub const FLOAT: u8 = 4;
    pub const STR: u8 = 8;

    /// Whether every record of the template has field `i`, of kinds within `mask`.
    pub fn only(&self, i: usize, mask: u8) -> bool {
        i < self.min_fields && self.kinds.get(i).is_some_and(|&k| k & !mask == 0)
    }

    fn add(&mut self, fields: &[LogValue]) {
        if !self.seen || fields.len() < self.min_fields {
            self.min_fields = fields.len();
        }
        self.seen = true;
        if self.kinds.len() < fields.len() {
            self.kinds.resize(fields.len(), 0);
        }
        for (k, v) in self.kinds.iter_mut().zip(fields) {
            *k |= match v {
                LogValue::Int(_) => Self::INT,
                LogValue::Float(x) if round_milli(*x).is_some_and(|r| r as f64 / 1000.0 == *x) => Self::MILLI,
                LogValue::Float(_) => Self::FLOAT,
                LogValue::Str(_) => Self::STR,
            };
        }
    }
}

/// `(x * 1000).round()` as an integer, exactly as `f64::round` rounds
/// (half away from zero), when it is below 1e15 in magnitude; without a
/// libm call. A message shows a float as this many thousandths.
#[inline]
pub(crate) fn round_milli(x: f64) -> Option<i64> {
    let y = x * 1000.0;
    if !(y.abs() < 1e15) {
        return None;
    }
    let k = y as i64;
    // Exact: `y` and `k` differ by less than 1 and `|y| < 2^52`.
    let f = y - k as f64;
    Some(if f >= 0.5 {
        k + 1
    } else if f <= -0.5 {
        k - 1
    } else {
        k
    })
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
        if self.known.is_empty() {
            self.known = vec![0; KNOWN];
        }
        for v in r.fields.iter_mut() {
            if let LogValue::Str(s) = v {
                if self.known[known_slot(s)] == addr(s) {
                    continue;
                }
                match self.strings.get(s) {
                    Some(same) => *s = same.clone(),
                    None => {
                        self.strings.insert(s.clone());
                    }
                }
                self.known[known_slot(s)] = addr(s);
            }
        }
        let t = r.template.0 as usize;
        if self.kinds.len() <= t {
            self.kinds.resize_with(t + 1, FieldKinds::default);
        }
        self.kinds[t].add(&r.fields);
        self.records.push(r);
    }
    /// What the records of template `t` have held in their fields.
    pub fn field_kinds(&self, t: TemplateId) -> Option<&FieldKinds> {
        self.kinds.get(t.0 as usize)
    }
    /// Sorts records by time (stable, so equal times keep emission order).
    pub fn finish(&mut self) {
        crate::sort::sort_by_key(&mut self.records, |r| r.time);
    }
    /// Every distinct string field value. A record's string value is
    /// always one of these very `Arc`s (records only enter through
    /// [`LogStore::push`]), so a search can decide each text once, up
    /// front, and look a record's value up by its address.
    pub fn strings(&self) -> impl Iterator<Item = &Arc<str>> {
        self.strings.iter()
    }
    pub fn string_count(&self) -> usize {
        self.strings.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::SimTime;
    use crate::telemetry::ids::{SpanId, TraceId};
    use crate::telemetry::log::Severity;
    use crate::telemetry::resource::ResourceId;

    fn rec(fields: Vec<LogValue>) -> LogRecord {
        LogRecord { time: SimTime(0), severity: Severity::Info, resource: ResourceId(0), trace_id: TraceId::INVALID, span_id: SpanId::INVALID, template: TemplateId(0), fields: fields.into_boxed_slice() }
    }

    fn str_at(st: &LogStore, r: usize, f: usize) -> &Arc<str> {
        match &st.records()[r].fields[f] {
            LogValue::Str(s) => s,
            v => panic!("not a string: {v:?}"),
        }
    }

    /// Equal texts end up as one `Arc`, whether they arrive as fresh
    /// `Arc`s or as the interned one again (the address cache), and an
    /// interned text is never confused with a different one.
    #[test]
    fn string_fields_are_interned() {
        let mut st = LogStore::default();
        let a: Arc<str> = "GET".into();
        st.push(rec(vec![LogValue::Str(a.clone()), LogValue::Str("/a".into())]));
        st.push(rec(vec![LogValue::Str("GET".into()), LogValue::Str("/b".into())]));
        let interned = str_at(&st, 0, 0).clone();
        for _ in 0..3 {
            st.push(rec(vec![LogValue::Str(interned.clone()), LogValue::Str("/a".into()), LogValue::Int(1)]));
        }
        assert_eq!(st.string_count(), 3);
        for r in 0..5 {
            assert!(Arc::ptr_eq(str_at(&st, r, 0), &a), "record {r}");
        }
        assert!(Arc::ptr_eq(str_at(&st, 0, 1), str_at(&st, 4, 1)));
        assert_eq!(&**str_at(&st, 1, 1), "/b");
        let mut texts: Vec<&str> = st.strings().map(|s| &**s).collect();
        texts.sort();
        assert_eq!(texts, ["/a", "/b", "GET"]);
    }
}
