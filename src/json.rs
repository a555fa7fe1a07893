//! JSON without serde_json in the browser: a small streaming writer for
//! exports and CLI output (callers write values in order; commas are handled
//! here), and [`parse`], a reader into [`JsonValue`] for the files learners
//! and facilitators hand back (answers, saved progress), with byte-offset
//! errors and a nesting limit so no input can exhaust the stack.

use std::fmt::Write;

pub struct JsonWriter {
    out: String,
    /// Per open container: has it got an element yet?
    stack: Vec<bool>,
    after_key: bool,
}

impl Default for JsonWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonWriter {
    pub fn new() -> Self {
        JsonWriter { out: String::with_capacity(4096), stack: Vec::new(), after_key: false }
    }
    pub fn finish(self) -> String {
        self.out
    }
    pub fn len(&self) -> usize {
        self.out.len()
    }
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
    fn sep(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if let Some(has) = self.stack.last_mut() {
            if *has {
                self.out.push(',');
            }
            *has = true;
        }
    }
    pub fn begin_object(&mut self) -> &mut Self {
        self.sep();
        self.out.push('{');
        self.stack.push(false);
        self
    }
    pub fn end_object(&mut self) -> &mut Self {
        self.stack.pop();
        self.out.push('}');
        self
    }
    pub fn begin_array(&mut self) -> &mut Self {
        self.sep();
        self.out.push('[');
        self.stack.push(false);
        self
    }
    pub fn end_array(&mut self) -> &mut Self {
        self.stack.pop();
        self.out.push(']');
        self
    }
    pub fn key(&mut self, k: &str) -> &mut Self {
        self.sep();
        push_str(&mut self.out, k);
        self.out.push(':');
        self.after_key = true;
        self
    }
    pub fn string(&mut self, v: &str) -> &mut Self {
        self.sep();
        push_str(&mut self.out, v);
        self
    }
    pub fn int(&mut self, v: i128) -> &mut Self {
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }
    /// Finite floats as numbers; NaN and infinities as null (JSON has neither).
    pub fn float(&mut self, v: f64) -> &mut Self {
        self.sep();
        if v.is_finite() {
            let _ = write!(self.out, "{v}");
        } else {
            self.out.push_str("null");
        }
        self
    }
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.out.push_str(if v { "true" } else { "false" });
        self
    }
    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.out.push_str("null");
        self
    }
    /// Shorthands for `key(k)` then a value.
    pub fn field_str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k).string(v)
    }
    pub fn field_int(&mut self, k: &str, v: i128) -> &mut Self {
        self.key(k).int(v)
    }
    pub fn field_float(&mut self, k: &str, v: f64) -> &mut Self {
        self.key(k).float(v)
    }
    pub fn field_bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k).bool(v)
    }
}

/// Appends `v` as a JSON string literal.
pub fn push_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A parsed JSON value. Objects keep their members in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<JsonValue>),
    Object(Vec<(String, JsonValue)>),
}

impl JsonValue {
    /// The member `key` of an object (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsonValue::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[JsonValue]> {
        match self {
            JsonValue::Array(a) => Some(a),
            _ => None,
        }
    }
    /// A word for error messages: "a string", "an object", ...
    pub fn describe(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }
}

/// Malformed JSON: the byte offset and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.at, self.message)
    }
}

impl std::error::Error for JsonError {}

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// Parses one JSON document (RFC 8259), surrounding whitespace allowed.
pub fn parse(src: &str) -> Result<JsonValue, JsonError> {
    let mut r = Reader { s: src.as_bytes(), src, i: 0 };
    r.ws();
    let v = r.value(0)?;
    r.ws();
    if r.i < r.s.len() {
        return Err(r.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct Reader<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl Reader<'_> {
    fn err(&self, m: &str) -> JsonError {
        JsonError { at: self.i, message: m.to_string() }
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.s.get(self.i) {
            None => Err(self.err("expected a value, found the end")),
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(JsonValue::Object(m));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected a member name in double quotes"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(self.err("expected ':' after the member name"));
                    }
                    self.ws();
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("}") {
                        return Ok(JsonValue::Object(m));
                    }
                    return Err(self.err("expected ',' or '}'"));
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(JsonValue::Array(a));
                }
                loop {
                    self.ws();
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        return Ok(JsonValue::Array(a));
                    }
                    return Err(self.err("expected ',' or ']'"));
                }
            }
            Some(b'"') => Ok(JsonValue::String(self.string()?)),
            Some(b't') if self.eat("true") => Ok(JsonValue::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(JsonValue::Bool(false)),
            Some(b'n') if self.eat("null") => Ok(JsonValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value: an object, array, string, number, true, false or null")),
        }
    }
    fn number(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            self.i += 1;
        }
        let text = &self.src[start..self.i];
        let digits = text.strip_prefix('-').unwrap_or(text).as_bytes();
        let leading_zero = digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit();
        match crate::float::parse(text) {
            _ if leading_zero => Err(JsonError { at: start, message: format!("{text:?} is not a number (no leading zeros)") }),
            Ok(n) if n.is_finite() && !text.starts_with('+') && !text.starts_with(".") && !text.starts_with("-.") => Ok(JsonValue::Number(n)),
            _ => Err(JsonError { at: start, message: format!("{text:?} is not a number") }),
        }
    }
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self.src.get(self.i..self.i + 4).ok_or_else(|| self.err("expected four hex digits after \\u"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("expected four hex digits after \\u"))?;
        self.i += 4;
        Ok(v)
    }
    fn string(&mut self) -> Result<String, JsonError> {
        let open = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.i;
            while self.i < self.s.len() && !matches!(self.s[self.i], b'"' | b'\\') && self.s[self.i] >= 0x20 {
                self.i += 1;
            }
            out.push_str(&self.src[run..self.i]);
            match self.s.get(self.i) {
                None => return Err(JsonError { at: open, message: "this string is not closed".into() }),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.s.get(self.i).copied();
                    self.i += 1;
                    match c {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) && self.eat("\\u") {
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("a high surrogate must be followed by a low surrogate"));
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("unknown escape in a string"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control characters must be escaped in a string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn writes_nested_values_with_commas() {
        let mut w = JsonWriter::new();
        w.begin_object().field_str("a", "x\"y").key("b").begin_array().int(1).float(f64::NAN).bool(true).end_array().field_float("c", 0.5).end_object();
        assert_eq!(w.finish(), r#"{"a":"x\"y","b":[1,null,true],"c":0.5}"#);
    }

    #[test]
    fn reads_what_the_writer_writes() {
        let mut w = JsonWriter::new();
        w.begin_object().field_str("a", "x\"y\\\n\u{1F600}").field_float("b", -1.5e3).key("c").begin_array().bool(true).null().end_array().end_object();
        let v = parse(&w.finish()).unwrap();
        assert_eq!(v.get("a").and_then(|v| v.as_str()), Some("x\"y\\\n\u{1F600}"));
        assert_eq!(v.get("b").and_then(|v| v.as_f64()), Some(-1500.0));
        assert_eq!(v.get("c"), Some(&JsonValue::Array(vec![JsonValue::Bool(true), JsonValue::Null])));
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), JsonValue::String("\u{1F600}".into()));
    }

    #[test]
    fn bad_input_is_an_error_with_an_offset_never_a_panic() {
        for (src, at) in [("", 0), ("{", 1), ("{\"a\" 1}", 5), ("[1,]", 3), ("\"abc", 0), ("01x", 0), ("[1] 2", 4), ("\"\\u12\"", 3), ("+1", 0), ("\"é\\x\"", 4)] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.at, at, "{src:?}: {e}");
        }
        assert!(parse(&"[".repeat(10_000)).is_err());
        for s in ["\u{0}", "\"\\ud800\"", "[\"\\ud800\\u0041\"]", "{\"\\", "1e999", "-", "\"\\u"] {
            let _ = parse(s);
        }
    }
}
