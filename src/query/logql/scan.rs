//! Fast line access over the log store. A record's line is the template's
//! text with the record's values spliced in, so each (template, resource,
//! severity, has-trace) group gets a [`Shape`]: constant pieces and the
//! slots the record fills. Lines are rendered into a reused buffer only
//! when needed; substring filters run a KMP automaton over the shape,
//! with the constant pieces' transitions precomputed per group, so a
//! record costs only its variable bytes — and nothing when the needle
//! shares no byte with them.

use crate::scenario::model::format_rfc3339_ms;
use crate::telemetry::log::{LogFormat, LogRecord, LogTemplate, LogValue, Severity};
use crate::telemetry::resource::Resource;
use std::fmt::Write;
use std::sync::Arc;

/// One piece of a rendered line.
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    Const(Box<str>),
    /// The RFC 3339 timestamp with milliseconds (24 bytes).
    Ts,
    /// A field inside the message body (JSON-escaped in JSON lines);
    /// `{name}` literally when the record lacks it.
    MsgField { idx: usize, name: Arc<str>, escape: bool },
    /// `,"name":value` in a JSON line; nothing when the record lacks it.
    JsonField { idx: usize, prefix: Box<str> },
    TraceId,
    SpanId,
}

#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub pieces: Vec<Piece>,
}

fn push_json(out: &mut String, v: &str) {
    crate::json::push_str(out, v);
}

/// Escapes a JSON string body (without quotes).
fn escape_into(out: &mut String, v: &str) {
    let mut s = String::new();
    push_json(&mut s, v);
    out.push_str(&s[1..s.len() - 1]);
}

/// Splits a template body the way `render_body` reads it: literal text and
/// `{name}` placeholders resolved against the template's field names.
fn body_parts(t: &LogTemplate) -> Vec<Result<String, (usize, Arc<str>)>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest: &str = &t.body;
    while let Some(open) = rest.find('{') {
        lit.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match t.fields.iter().position(|f| &**f == name) {
                    Some(i) => {
                        if !lit.is_empty() {
                            out.push(Ok(std::mem::take(&mut lit)));
                        }
                        out.push(Err((i, t.fields[i].clone())));
                    }
                    None => {
                        lit.push('{');
                        lit.push_str(name);
                        lit.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                lit.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Ok(lit));
    }
    out
}

impl Shape {
    /// The shape of lines of one group, mirroring `LogStore::format_line`.
    pub fn build(t: &LogTemplate, res: &Resource, sev: Severity, has_trace: bool, format: LogFormat) -> Shape {
        let mut pieces = Vec::new();
        let mut cur = String::new();
        let flush = |cur: &mut String, pieces: &mut Vec<Piece>| {
            if !cur.is_empty() {
                pieces.push(Piece::Const(std::mem::take(cur).into_boxed_str()));
            }
        };
        match format {
            LogFormat::Plain => {
                pieces.push(Piece::Ts);
                let _ = write!(cur, " {:<5} [{}] ", sev.as_str(), t.logger);
                for p in body_parts(t) {
                    match p {
                        Ok(s) => cur.push_str(&s),
                        Err((idx, name)) => {
                            flush(&mut cur, &mut pieces);
                            pieces.push(Piece::MsgField { idx, name, escape: false });
                        }
                    }
                }
                if has_trace {
                    cur.push_str(" trace_id=");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::TraceId);
                    cur.push_str(" span_id=");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::SpanId);
                }
            }
            LogFormat::Json => {
                cur.push_str("{\"ts\":\"");
                flush(&mut cur, &mut pieces);
                pieces.push(Piece::Ts);
                cur.push_str("\",\"level\":\"");
                cur.push_str(sev.level());
                cur.push_str("\",\"logger\":");
                push_json(&mut cur, &t.logger);
                cur.push_str(",\"msg\":\"");
                for p in body_parts(t) {
                    match p {
                        Ok(s) => escape_into(&mut cur, &s),
                        Err((idx, name)) => {
                            flush(&mut cur, &mut pieces);
                            pieces.push(Piece::MsgField { idx, name, escape: true });
                        }
                    }
                }
                cur.push('"');
                flush(&mut cur, &mut pieces);
                for (idx, name) in t.fields.iter().enumerate() {
                    let mut prefix = String::from(",");
                    push_json(&mut prefix, name);
                    prefix.push(':');
                    pieces.push(Piece::JsonField { idx, prefix: prefix.into_boxed_str() });
                }
                cur.push_str(",\"pod\":");
                push_json(&mut cur, &res.pod);
                if has_trace {
                    cur.push_str(",\"trace_id\":\"");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::TraceId);
                    cur.push_str("\",\"span_id\":\"");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::SpanId);
                    cur.push('"');
                }
                cur.push('}');
            }
        }
        flush(&mut cur, &mut pieces);
        Shape { pieces }
    }

    /// Appends the record's line to `out`.
    pub fn render(&self, r: &LogRecord, ts: &mut TsCache, unix_ms: i64, out: &mut String) {
        for p in &self.pieces {
            match p {
                Piece::Const(s) => out.push_str(s),
                Piece::Ts => out.push_str(ts.get(unix_ms)),
                Piece::MsgField { idx, name, escape } => match r.fields.get(*idx) {
                    Some(v) => {
                        let mut tmp = [0u8; 48];
                        match v {
                            LogValue::Str(s) if *escape => escape_into(out, s),
                            LogValue::Str(s) => out.push_str(s),
                            LogValue::Int(i) => out.push_str(itoa(*i, &mut tmp)),
                            LogValue::Float(_) => {
                                let s = v.to_string();
                                if *escape {
                                    escape_into(out, &s)
                                } else {
                                    out.push_str(&s)
                                }
                            }
                        }
                    }
                    None => {
                        let lit = format!("{{{name}}}");
                        if *escape {
                            escape_into(out, &lit)
                        } else {
                            out.push_str(&lit)
                        }
                    }
                },
                Piece::JsonField { idx, prefix } => {
                    if let Some(v) = r.fields.get(*idx) {
                        out.push_str(prefix);
                        json_value(v, out);
                    }
                }
                Piece::TraceId => {
                    let _ = write!(out, "{}", r.trace_id);
                }
                Piece::SpanId => {
                    let _ = write!(out, "{}", r.span_id);
                }
            }
        }
    }
}

fn json_value(v: &LogValue, out: &mut String) {
    match v {
        LogValue::Int(i) => {
            let mut tmp = [0u8; 48];
            out.push_str(itoa(*i, &mut tmp));
        }
        LogValue::Float(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        LogValue::Float(_) => out.push_str("null"),
        LogValue::Str(s) => push_json(out, s),
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_u128(v: u128, buf: &mut [u8; 32]) -> &[u8] {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = HEX[((v >> (4 * (31 - i))) & 0xf) as usize];
    }
    &buf[..]
}

fn hex_u64(v: u64, buf: &mut [u8; 32]) -> &[u8] {
    for (i, b) in buf[..16].iter_mut().enumerate() {
        *b = HEX[((v >> (4 * (15 - i))) & 0xf) as usize];
    }
    &buf[..16]
}

/// Formats an integer into `buf` without allocating.
pub(crate) fn itoa(v: i64, buf: &mut [u8; 48]) -> &str {
    let mut i = buf.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Formats timestamps, re-deriving the date part only when the second changes.
#[derive(Default)]
pub(crate) struct TsCache {
    sec: i64,
    text: String,
}

impl TsCache {
    pub fn get(&mut self, unix_ms: i64) -> &str {
        let sec = unix_ms.div_euclid(1000);
        if self.text.is_empty() || sec != self.sec {
            self.sec = sec;
            self.text = format_rfc3339_ms(sec * 1000);
        }
        let ms = unix_ms.rem_euclid(1000) as u32;
        // `YYYY-MM-DDTHH:MM:SS.mmmZ`: patch the three millisecond digits.
        let n = self.text.len();
        if n >= 5 {
            // SAFETY-free: the bytes replaced are ASCII digits.
            let mut bytes = std::mem::take(&mut self.text).into_bytes();
            bytes[n - 4] = b'0' + (ms / 100) as u8;
            bytes[n - 3] = b'0' + (ms / 10 % 10) as u8;
            bytes[n - 2] = b'0' + (ms % 10) as u8;
            self.text = String::from_utf8(bytes).unwrap_or_default();
        }
        &self.text
    }
}

// ------------------------------------------------------------ substring automaton

/// Needles longer than this are matched on rendered lines instead.
pub(crate) const MAX_DFA_NEEDLE: usize = 255;

const TS_BYTES: &[u8] = b"0123456789-:.TZ";
const HEX_BYTES: &[u8] = b"0123456789abcdef";
const INT_BYTES: &[u8] = b"0123456789-";
/// Finite floats print without exponents (Rust's `Display`); the
/// non-finite ones (`inf`, `NaN`, `null`) are fed as text.
const FLOAT_BYTES: &[u8] = b"0123456789-.";

/// A KMP automaton for one needle: `next[state * 256 + byte]`, where
/// reaching `len` means found.
pub(crate) struct Needle {
    pub text: String,
    len: u16,
    next: Vec<u16>,
    /// Whether a variable piece of each kind can move the automaton off
    /// state 0 (shares a byte with the needle).
    ts_hits: bool,
    hex_hits: bool,
    int_hits: bool,
    float_hits: bool,
    /// From state 0 a piece whose bytes never equal the needle's first
    /// byte stays at state 0: these say whether it can leave state 0.
    ts_first: bool,
    hex_first: bool,
    num_first: bool,
    first: u8,
}

impl Needle {
    /// `None` when the needle is empty or too long for an automaton.
    pub fn new(text: &str) -> Option<Needle> {
        let p = text.as_bytes();
        let m = p.len();
        if m == 0 || m > MAX_DFA_NEEDLE {
            return None;
        }
        let mut next = vec![0u16; m * 256];
        next[p[0] as usize] = 1;
        let mut x = 0usize;
        for j in 1..m {
            for c in 0..256 {
                next[j * 256 + c] = next[x * 256 + c];
            }
            next[j * 256 + p[j] as usize] = (j + 1) as u16;
            x = next[x * 256 + p[j] as usize] as usize;
        }
        let hits = |set: &[u8]| set.iter().any(|b| p.contains(b));
        Some(Needle {
            text: text.to_string(),
            len: m as u16,
            next,
            ts_hits: hits(TS_BYTES),
            hex_hits: hits(HEX_BYTES),
            int_hits: hits(INT_BYTES),
            float_hits: hits(FLOAT_BYTES),
            ts_first: TS_BYTES.contains(&p[0]),
            hex_first: HEX_BYTES.contains(&p[0]),
            num_first: FLOAT_BYTES.contains(&p[0]),
            first: p[0],
        })
    }

    #[inline]
    fn feed(&self, mut s: u16, bytes: &[u8]) -> u16 {
        let mut i = 0;
        while i < bytes.len() {
            if s == 0 {
                // At the start state only the needle's first byte moves on.
                match bytes[i..].iter().position(|&b| b == self.first) {
                    Some(k) => i += k,
                    None => return 0,
                }
            }
            s = self.next[s as usize * 256 + bytes[i] as usize];
            if s == self.len {
                return s;
            }
            i += 1;
        }
        s
    }

    /// Feeds a string as it appears JSON-escaped (or raw).
    fn feed_str(&self, s: u16, v: &str, escape: bool) -> u16 {
        if !escape || !v.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            return self.feed(s, v.as_bytes());
        }
        let mut tmp = String::with_capacity(v.len() + 8);
        escape_into(&mut tmp, v);
        self.feed(s, tmp.as_bytes())
    }

    /// Transition of a constant text for every entry state.
    fn table(&self, text: &str) -> Box<[u16]> {
        (0..self.len).map(|s| self.feed(s, text.as_bytes())).collect()
    }
}

/// A needle prepared for one group's shape.
pub(crate) struct GroupNeedle {
    /// Some constant piece holds the needle: every line of the group matches.
    always: bool,
    /// Per piece: the transition table of its constant text (a `Const`'s
    /// text or a `JsonField`'s key prefix).
    tables: Vec<Option<Box<[u16]>>>,
    /// The answer for records whose fields are all numbers when no number,
    /// timestamp or id can advance the automaton; `None` otherwise.
    numeric_answer: Option<bool>,
}

impl GroupNeedle {
    pub fn new(n: &Needle, shape: &Shape) -> GroupNeedle {
        let mut always = false;
        let tables: Vec<Option<Box<[u16]>>> = shape
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Const(s) => {
                    if s.contains(n.text.as_str()) {
                        always = true;
                    }
                    Some(n.table(s))
                }
                Piece::JsonField { prefix, .. } => Some(n.table(prefix)),
                _ => None,
            })
            .collect();
        let mut g = GroupNeedle { always, tables, numeric_answer: None };
        if !always && !n.ts_hits && !n.hex_hits && !n.int_hits && !n.float_hits {
            // Every variable piece resets the automaton, so the answer only
            // depends on the constant pieces around them.
            let mut s = 0u16;
            let mut hit = false;
            for (i, p) in shape.pieces.iter().enumerate() {
                match p {
                    Piece::Const(_) | Piece::JsonField { .. } => {
                        let t = g.tables[i].as_ref().map(|t| t[s as usize]).unwrap_or(0);
                        if t == n.len {
                            hit = true;
                            break;
                        }
                        s = if matches!(p, Piece::JsonField { .. }) { 0 } else { t };
                    }
                    _ => s = 0,
                }
            }
            g.numeric_answer = Some(hit);
        }
        g
    }

    /// Whether the record's line contains the needle.
    pub fn matches(&self, n: &Needle, shape: &Shape, r: &LogRecord, fields_in_template: usize, ts: &mut TsCache, unix_ms: i64) -> bool {
        if self.always {
            return true;
        }
        if let Some(a) = self.numeric_answer {
            if r.fields.len() >= fields_in_template && r.fields.iter().all(|f| matches!(f, LogValue::Int(_)) || matches!(f, LogValue::Float(x) if x.is_finite())) {
                return a;
            }
        }
        let mut s = 0u16;
        let mut buf = [0u8; 48];
        let mut fbuf = String::new();
        for (i, p) in shape.pieces.iter().enumerate() {
            s = match p {
                Piece::Const(_) => self.tables[i].as_ref().map(|t| t[s as usize]).unwrap_or(0),
                Piece::Ts => {
                    if !n.ts_hits || (s == 0 && !n.ts_first) {
                        0
                    } else {
                        n.feed(s, ts.get(unix_ms).as_bytes())
                    }
                }
                Piece::TraceId | Piece::SpanId => {
                    if !n.hex_hits || (s == 0 && !n.hex_first) {
                        0
                    } else {
                        let mut hex = [0u8; 32];
                        let h = if matches!(p, Piece::TraceId) { hex_u128(r.trace_id.0, &mut hex) } else { hex_u64(r.span_id.0, &mut hex) };
                        n.feed(s, h)
                    }
                }
                Piece::MsgField { idx, name, escape } => match r.fields.get(*idx) {
                    Some(LogValue::Int(v)) => {
                        if !n.int_hits || (s == 0 && !n.num_first) {
                            0
                        } else {
                            n.feed(s, itoa(*v, &mut buf).as_bytes())
                        }
                    }
                    Some(v @ LogValue::Float(x)) => {
                        if x.is_finite() && (!n.float_hits || (s == 0 && !n.num_first)) {
                            0
                        } else {
                            fbuf.clear();
                            let _ = write!(fbuf, "{v}");
                            n.feed(s, fbuf.as_bytes())
                        }
                    }
                    Some(LogValue::Str(v)) => n.feed_str(s, v, *escape),
                    None => n.feed_str(s, &format!("{{{name}}}"), *escape),
                },
                Piece::JsonField { idx, .. } => match r.fields.get(*idx) {
                    None => s,
                    Some(v) => {
                        let t = self.tables[i].as_ref().map(|t| t[s as usize]).unwrap_or(0);
                        if t == n.len {
                            return true;
                        }
                        match v {
                            LogValue::Int(x) => {
                                if !n.int_hits || (t == 0 && !n.num_first) {
                                    0
                                } else {
                                    n.feed(t, itoa(*x, &mut buf).as_bytes())
                                }
                            }
                            LogValue::Float(x) => {
                                if x.is_finite() && (!n.float_hits || (t == 0 && !n.num_first)) {
                                    0
                                } else {
                                    fbuf.clear();
                                    json_value(v, &mut fbuf);
                                    n.feed(t, fbuf.as_bytes())
                                }
                            }
                            LogValue::Str(x) => {
                                let t = n.feed(t, b"\"");
                                if t == n.len {
                                    return true;
                                }
                                let t = n.feed_str(t, x, true);
                                if t == n.len {
                                    return true;
                                }
                                n.feed(t, b"\"")
                            }
                        }
                    }
                },
            };
            if s == n.len {
                return true;
            }
        }
        false
    }
}

/// Renders one record's line with the store's own formatter (for checks).
#[cfg(test)]
pub(crate) fn reference_line(store: &crate::store::LogStore, r: &LogRecord, res: &Resource, unix_ms: i64, format: LogFormat) -> String {
    store.format_line(r, res, &format_rfc3339_ms(unix_ms), format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::ids::{SpanId, TraceId};
    use crate::store::LogStore;
    use crate::telemetry::log::TemplateId;
    use crate::telemetry::resource::ResourceId;
    use crate::sim::time::SimTime;

    fn res() -> Resource {
        Resource { service_name: "cart".into(), service_namespace: "shop".into(), service_version: "1".into(), instance_id: "cart-1".into(), pod: "cart-1".into(), node: "n1".into() }
    }

    fn sample() -> (LogStore, Vec<LogRecord>) {
        let mut st = LogStore::new();
        let t0 = st.add_template(LogTemplate { logger: "http".into(), body: "{method} {path} {status} {ms}ms {nope} {x".into(), fields: vec!["method".into(), "path".into(), "status".into(), "ms".into()] });
        let t1 = st.add_template(LogTemplate { logger: "gc".into(), body: "pause {p} ms \"quoted\"".into(), fields: vec!["p".into()] });
        let recs = vec![
            LogRecord { time: SimTime(1_234_567), severity: Severity::Info, resource: ResourceId(0), trace_id: TraceId(0xabc), span_id: SpanId(0xdef), template: t0, fields: vec![LogValue::Str("GET".into()), LogValue::Str("/a\"b".into()), LogValue::Int(200), LogValue::Float(12.3456)].into() },
            LogRecord { time: SimTime(9_000_001), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0), span_id: SpanId(0), template: t1, fields: vec![LogValue::Int(-42)].into() },
            LogRecord { time: SimTime(9_000_001), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0), span_id: SpanId(0), template: t0, fields: vec![LogValue::Str("PUT".into())].into() },
            LogRecord { time: SimTime(9_000_001), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0x6f), span_id: SpanId(1), template: t0, fields: vec![LogValue::Float(f64::INFINITY), LogValue::Float(f64::NAN), LogValue::Int(5), LogValue::Float(5.1234)].into() },
        ];
        let _ = TemplateId(0);
        (st, recs)
    }

    #[test]
    fn shapes_render_exactly_like_the_store() {
        let (st, recs) = sample();
        let mut ts = TsCache::default();
        for fmt in [LogFormat::Json, LogFormat::Plain] {
            for r in &recs {
                let ms = 1_772_441_999_000 + r.time.0 / 1000;
                let shape = Shape::build(st.template(r.template), &res(), r.severity, r.trace_id.is_valid(), fmt);
                let mut out = String::new();
                shape.render(r, &mut ts, ms, &mut out);
                assert_eq!(out, reference_line(&st, r, &res(), ms, fmt));
            }
        }
    }

    #[test]
    fn automaton_agrees_with_contains() {
        let (st, recs) = sample();
        let mut ts = TsCache::default();
        let needles = ["GET", "200", "inf", "null", "\"ms\":null", "tnull", "e", "d", "6f", "abc\",", "4.3", "5.123", "12.346", "\"status\":200", "a\\\"b", "ms {nope}", "INFO", "-42", "pause", "0abc", "000000000abc", "2026", "}", "{\"ts", "PUT", "zzz", ":09", "span_id", "\"level\":\"warn\""];
        for fmt in [LogFormat::Json, LogFormat::Plain] {
            for r in &recs {
                let ms = 1_772_441_999_000 + r.time.0 / 1000;
                let tpl = st.template(r.template);
                let shape = Shape::build(tpl, &res(), r.severity, r.trace_id.is_valid(), fmt);
                let mut line = String::new();
                shape.render(r, &mut ts, ms, &mut line);
                for n in needles {
                    let nd = Needle::new(n).unwrap();
                    let g = GroupNeedle::new(&nd, &shape);
                    assert_eq!(g.matches(&nd, &shape, r, tpl.fields.len(), &mut ts, ms), line.contains(n), "{n:?} in {line}");
                }
            }
        }
    }
}
