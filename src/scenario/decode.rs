//! Decoding the TOML value tree into the typed [`format`](super::format)
//! structs by hand: the [`Decode`] trait for field types and [`Fields`], a
//! cursor over one table that rejects unknown keys and reads required and
//! optional fields. Every [`DecodeError`] carries the field path
//! (`services[1].endpoints[0].steps[2].timeout`) and the span to point at.

use super::toml::{Spanned, Table, Value};
use std::fmt;
use std::ops::Range;

/// A value of the wrong shape for its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Where to point: the value, the key, or the table missing a field;
    /// `0..0` when there is nothing to point at (the file as a whole).
    pub span: Range<usize>,
    /// The field path, e.g. `services[1].replicas`.
    pub path: String,
    pub kind: DecodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The TOML type is not the one the field takes.
    WrongType { expected: &'static str, found: String },
    /// An integer outside the field's range.
    OutOfRange { min: i64, max: i64, found: i64 },
    /// A key the table does not have (a typo never passes silently).
    UnknownField { name: String, expected: &'static [&'static str] },
    /// A required field is absent.
    MissingField,
    /// A string that is none of the field's choices.
    UnknownVariant { found: String, expected: &'static [&'static str] },
    /// An array of the wrong length (`[min, max]` pairs).
    WrongLength { expected: usize, found: usize },
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            DecodeErrorKind::OutOfRange { min, max, found } => write!(f, "expected an integer from {min} to {max}, found {found}"),
            DecodeErrorKind::UnknownField { name, expected } => write!(f, "unknown field `{name}`; expected one of: {}", expected.join(", ")),
            DecodeErrorKind::MissingField => write!(f, "this field is required but missing"),
            DecodeErrorKind::UnknownVariant { found, expected } => write!(f, "expected one of {}, found {found:?}", expected.join(", ")),
            DecodeErrorKind::WrongLength { expected, found } => write!(f, "expected an array of {expected} values, found {found}"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

fn fail<T>(v: &Spanned<Value>, path: &str, kind: DecodeErrorKind) -> Result<T> {
    Err(DecodeError { span: v.span(), path: path.to_string(), kind })
}

fn wrong_type<T>(v: &Spanned<Value>, path: &str, expected: &'static str) -> Result<T> {
    fail(v, path, DecodeErrorKind::WrongType { expected, found: v.get_ref().describe() })
}

/// A field type that can be read from a TOML value at `path`.
pub trait Decode: Sized {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self>;
}

impl Decode for String {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        match v.get_ref() {
            Value::String(s) => Ok(s.clone()),
            _ => wrong_type(v, path, "a string"),
        }
    }
}

impl Decode for bool {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        match v.get_ref() {
            Value::Boolean(b) => Ok(*b),
            _ => wrong_type(v, path, "true or false"),
        }
    }
}

/// Integers are taken as numbers too (`cores = 8`), as serde did.
impl Decode for f64 {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        match v.get_ref() {
            Value::Float(x) => Ok(*x),
            Value::Integer(n) => Ok(*n as f64),
            _ => wrong_type(v, path, "a number"),
        }
    }
}

fn integer(v: &Spanned<Value>, path: &str, min: i64, max: i64) -> Result<i64> {
    match v.get_ref() {
        Value::Integer(n) if (min..=max).contains(n) => Ok(*n),
        Value::Integer(n) => fail(v, path, DecodeErrorKind::OutOfRange { min, max, found: *n }),
        _ => wrong_type(v, path, "a whole number"),
    }
}

impl Decode for u32 {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        integer(v, path, 0, u32::MAX.into()).map(|n| n as u32)
    }
}

impl Decode for u64 {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        integer(v, path, 0, i64::MAX).map(|n| n as u64)
    }
}

impl<T: Decode> Decode for Spanned<T> {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        Ok(Spanned::new(v.span(), T::decode(v, path)?))
    }
}

/// The items of an array, each decoded at `path[i]`.
fn items<'v>(v: &'v Spanned<Value>, path: &str) -> Result<&'v [Spanned<Value>]> {
    match v.get_ref() {
        Value::Array(items) => Ok(items),
        _ => wrong_type(v, path, "an array"),
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        items(v, path)?.iter().enumerate().map(|(i, item)| T::decode(item, &format!("{path}[{i}]"))).collect()
    }
}

/// `[a, b]` pairs such as `[min, max]`.
impl<T: Decode> Decode for [T; 2] {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        match items(v, path)? {
            [a, b] => Ok([T::decode(a, &format!("{path}[0]"))?, T::decode(b, &format!("{path}[1]"))?]),
            other => fail(v, path, DecodeErrorKind::WrongLength { expected: 2, found: other.len() }),
        }
    }
}

/// A table kept as it is (decoded later by whoever owns its meaning).
impl Decode for Table {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
        match v.get_ref() {
            Value::Table(t) => Ok(t.clone()),
            _ => wrong_type(v, path, "a table"),
        }
    }
}

/// One of a fixed set of lowercase words, e.g. `mode = "aggregate"`.
pub fn variant<T: Copy>(v: &Spanned<Value>, path: &str, choices: &[(&'static str, T)], names: &'static [&'static str]) -> Result<T> {
    let s = String::decode(v, path)?;
    match choices.iter().find(|(name, _)| *name == s) {
        Some((_, t)) => Ok(*t),
        None => fail(v, path, DecodeErrorKind::UnknownVariant { found: s, expected: names }),
    }
}

/// A cursor over one table: checks that every key is known, then reads
/// fields by name with the path and span for errors.
pub struct Fields<'a> {
    table: &'a Table,
    span: Range<usize>,
    path: &'a str,
}

impl<'a> Fields<'a> {
    /// The table `v`, whose keys must all be in `known`.
    pub fn of(v: &'a Spanned<Value>, path: &'a str, known: &'static [&'static str]) -> Result<Self> {
        match v.get_ref() {
            Value::Table(table) => Fields::of_table(table, v.span(), path, known),
            _ => wrong_type(v, path, "a table"),
        }
    }

    /// Like [`Fields::of`] for a table that is not inside a value (the root).
    pub fn of_table(table: &'a Table, span: Range<usize>, path: &'a str, known: &'static [&'static str]) -> Result<Self> {
        // Report the first unknown key in file order, not key order.
        let unknown = table.iter().filter(|(k, _)| !known.contains(k)).min_by_key(|(_, e)| e.key_span.start);
        if let Some((key, entry)) = unknown {
            let path = Fields::join(path, key);
            return Err(DecodeError { span: entry.key_span.clone(), path, kind: DecodeErrorKind::UnknownField { name: key.to_string(), expected: known } });
        }
        Ok(Fields { table, span, path })
    }

    fn join(path: &str, name: &str) -> String {
        if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
    }

    /// The field's path, for decoding nested values.
    pub fn path_of(&self, name: &str) -> String {
        Fields::join(self.path, name)
    }

    pub fn required<T: Decode>(&self, name: &str) -> Result<T> {
        match self.table.get(name) {
            Some(v) => T::decode(v, &self.path_of(name)),
            None => Err(DecodeError { span: self.span.clone(), path: self.path_of(name), kind: DecodeErrorKind::MissingField }),
        }
    }

    pub fn optional<T: Decode>(&self, name: &str) -> Result<Option<T>> {
        self.table.get(name).map(|v| T::decode(v, &self.path_of(name))).transpose()
    }

    /// The field, or `default()` when it is absent.
    pub fn or<T: Decode>(&self, name: &str, default: impl FnOnce() -> T) -> Result<T> {
        Ok(self.optional(name)?.unwrap_or_else(default))
    }

    /// The field decoded by `f` (for enums), if present.
    pub fn with<T>(&self, name: &str, f: impl FnOnce(&Spanned<Value>, &str) -> Result<T>) -> Result<Option<T>> {
        self.table.get(name).map(|v| f(v, &self.path_of(name))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::toml::parse;

    #[derive(Debug, PartialEq)]
    struct Pair {
        name: Spanned<String>,
        n: u32,
        xs: Vec<f64>,
        range: Option<[u32; 2]>,
    }

    impl Decode for Pair {
        fn decode(v: &Spanned<Value>, path: &str) -> Result<Self> {
            let f = Fields::of(v, path, &["name", "n", "xs", "range"])?;
            Ok(Pair { name: f.required("name")?, n: f.or("n", || 7)?, xs: f.or("xs", Vec::new)?, range: f.optional("range")? })
        }
    }

    fn decode(src: &str) -> Result<Vec<Pair>> {
        let root = parse(src).expect("valid TOML");
        let f = Fields::of_table(&root, 0..0, "", &["pair"])?;
        f.or("pair", Vec::new)
    }

    #[test]
    fn fields_defaults_and_spans() {
        let src = "[[pair]]\nname = \"a\"\nxs = [1, 2.5]\n[[pair]]\nname = \"b\"\nn = 3\nrange = [1, 2]\n";
        let pairs = decode(src).expect("decodes");
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].n, 7);
        assert_eq!(pairs[0].xs, [1.0, 2.5]);
        assert_eq!(&src[pairs[0].name.span()], "\"a\"");
        assert_eq!(pairs[1].range, Some([1, 2]));
    }

    #[test]
    fn errors_name_the_path_and_what_was_expected() {
        let cases = [
            ("[[pair]]\nname = \"a\"\nnme = 1\n", "pair[0].nme", "unknown field `nme`; expected one of: name, n, xs, range", 20),
            ("[[pair]]\nname = 3\n", "pair[0].name", "expected a string, found an integer 3", 16),
            ("[[pair]]\n[[pair]]\nname = \"a\"\n", "pair[0].name", "this field is required but missing", 0),
            ("[[pair]]\nname = \"a\"\nn = -1\n", "pair[0].n", "expected an integer from 0 to 4294967295, found -1", 24),
            ("[[pair]]\nname = \"a\"\nn = 1.5\n", "pair[0].n", "expected a whole number, found a float 1.5", 24),
            ("[[pair]]\nname = \"a\"\nxs = [1, \"x\"]\n", "pair[0].xs[1]", "expected a number, found a string \"x\"", 29),
            ("[[pair]]\nname = \"a\"\nrange = [1]\n", "pair[0].range", "expected an array of 2 values, found 1", 28),
            ("pair = 1\n", "pair", "expected an array, found an integer 1", 7),
            ("pair = [1]\n", "pair[0]", "expected a table, found an integer 1", 8),
        ];
        for (src, path, message, at) in cases {
            let e = decode(src).expect_err(src);
            assert_eq!((e.path.as_str(), e.kind.to_string().as_str(), e.span.start), (path, message, at), "{src}");
        }
    }

    #[test]
    fn variants() {
        let v = Spanned::new(3..8, Value::String("blue".into()));
        let e = variant(&v, "c", &[("red", 1), ("green", 2)], &["red", "green"]).expect_err("blue is no choice");
        assert_eq!(e.to_string(), "c: expected one of red, green, found \"blue\"");
        assert_eq!(variant(&Spanned::new(0..0, Value::String("green".into())), "c", &[("red", 1), ("green", 2)], &["red", "green"]), Ok(2));
    }
}
