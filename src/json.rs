//! A small streaming JSON writer for exports and CLI output, so the core
//! needs no serde_json in the browser. Callers write values in order;
//! commas are handled here.

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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn writes_nested_values_with_commas() {
        let mut w = JsonWriter::new();
        w.begin_object().field_str("a", "x\"y").key("b").begin_array().int(1).float(f64::NAN).bool(true).end_array().field_float("c", 0.5).end_object();
        assert_eq!(w.finish(), r#"{"a":"x\"y","b":[1,null,true],"c":0.5}"#);
    }
}
