//! A small TOML 1.0 reader for scenario files: one value tree ([`Value`],
//! [`Table`]) where every value carries its byte span ([`Spanned`]), and a
//! typed [`Error`] with a byte position. Hand-written instead of `toml` +
//! serde to keep the wasm download small; datetimes are rejected because
//! no scenario needs them (times are RFC 3339 strings).

mod error;
mod parse;
#[cfg(test)]
mod tests;

pub use error::{Error, ErrorKind};
pub use parse::parse;

use std::collections::BTreeMap;
use std::ops::Range;

/// A value and the byte range of the source text it came from. A span of
/// `0..0` means "not from the file" (a default).
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    span: Range<usize>,
    value: T,
}

impl<T> Spanned<T> {
    pub fn new(span: Range<usize>, value: T) -> Self {
        Spanned { span, value }
    }
    /// The byte range in the source.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
    pub fn get_ref(&self) -> &T {
        &self.value
    }
    pub fn into_inner(self) -> T {
        self.value
    }
}

/// A TOML value. Arrays of tables (`[[x]]`) are arrays of [`Value::Table`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Array(Vec<Spanned<Value>>),
    Table(Table),
}

impl Value {
    /// The type with its article, for messages: "a string", "an integer".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }
    /// The type and, for scalars, the value as written: `a string "two"`.
    pub fn describe(&self) -> String {
        match self {
            Value::String(s) => format!("a string {s:?}"),
            Value::Integer(n) => format!("an integer {n}"),
            Value::Float(x) => format!("a float {x}"),
            Value::Boolean(b) => format!("a boolean {b}"),
            Value::Array(_) | Value::Table(_) => self.type_name().to_string(),
        }
    }
}

/// How a table came to exist; TOML's rules on redefining tables and
/// extending them with dotted keys depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Origin {
    /// Created as a parent of a `[a.b]` header; `[a]` may still define it once.
    #[default]
    Implicit,
    /// Defined by a `[header]` or as an element of `[[header]]`.
    Header,
    /// Created by a dotted key (`a.b = 1`).
    Dotted,
    /// An inline table `{ ... }`: closed, nothing can be added later.
    Inline,
}

/// A key in a table: where the key was written and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key_span: Range<usize>,
    pub value: Spanned<Value>,
}

/// A TOML table. Iteration is in key order (byte-wise), like `toml`'s map
/// without `preserve_order`, which the scenario format relied on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    entries: BTreeMap<String, Entry>,
    origin: Origin,
}

impl Table {
    fn with_origin(origin: Origin) -> Self {
        Table { entries: BTreeMap::new(), origin }
    }
    pub fn get(&self, key: &str) -> Option<&Spanned<Value>> {
        self.entries.get(key).map(|e| &e.value)
    }
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }
    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, e)| (k.as_str(), e))
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
