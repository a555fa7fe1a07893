//! The TOML reader's error: a byte position and what went wrong, written
//! for a facilitator editing a scenario file by hand.

use std::fmt;

/// A TOML syntax or structure error at byte offset `at` of the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub at: usize,
    pub kind: ErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file ended where `expected` should have come.
    UnexpectedEnd { expected: &'static str },
    /// A character that cannot start or continue what `expected` describes.
    Unexpected { found: char, expected: &'static str },
    /// A control character (other than tab) inside a string or a comment.
    ControlCharacter { found: char },
    /// A `\` escape TOML does not define, or a `\u` that is no Unicode scalar.
    BadEscape { found: String },
    /// A string that is not closed before the end of its line or the file.
    UnterminatedString,
    /// A number that breaks TOML's rules (leading zero, stray underscore...).
    BadNumber { text: String, reason: &'static str },
    /// A bare word where a value belongs, most often a string without quotes.
    BareWord { text: String },
    /// An integer outside the 64-bit signed range.
    IntegerOverflow { text: String },
    /// A date or time value: not supported in scenario files.
    Datetime,
    /// The same key twice in one table.
    DuplicateKey { key: String },
    /// A `[table]` header for a table that is already defined.
    TableRedefined { key: String },
    /// Keys added to something that is not an open table: a value, an
    /// inline table, a static array, or a table closed by its header.
    NotExtendable { key: String, what: &'static str },
    /// Arrays or inline tables nested deeper than [`MAX_DEPTH`](super::parse::MAX_DEPTH).
    TooDeep,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::UnexpectedEnd { expected } => write!(f, "the file ends where {expected} was expected"),
            ErrorKind::Unexpected { found, expected } => write!(f, "expected {expected}, found {}", show(*found)),
            ErrorKind::ControlCharacter { found } => write!(f, "control character {} is not allowed here (use an escape such as \\n or \\u0001 in a \"...\" string)", show(*found)),
            ErrorKind::BadEscape { found } => write!(f, "invalid escape \"{found}\"; expected one of \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"),
            ErrorKind::UnterminatedString => write!(f, "this string is not closed"),
            ErrorKind::BadNumber { text, reason } => write!(f, "invalid number {text:?}: {reason}"),
            ErrorKind::BareWord { text } => write!(f, "expected a value, found `{text}`; strings need quotes: {text:?}"),
            ErrorKind::IntegerOverflow { text } => write!(f, "integer {text} does not fit in 64 bits"),
            ErrorKind::Datetime => write!(f, "TOML dates and times are not supported in scenario files; write the time as a string such as \"2026-03-02T09:00:00Z\""),
            ErrorKind::DuplicateKey { key } => write!(f, "duplicate key `{key}`"),
            ErrorKind::TableRedefined { key } => write!(f, "table `{key}` is defined twice"),
            ErrorKind::NotExtendable { key, what } => write!(f, "cannot add keys to `{key}`: it is {what}"),
            ErrorKind::TooDeep => write!(f, "arrays and inline tables nest more than {} deep", super::parse::MAX_DEPTH),
        }
    }
}

impl std::error::Error for Error {}

/// A character for a message: printable ones quoted, others as `U+XXXX`.
fn show(c: char) -> String {
    match c {
        '\n' => "a line break".into(),
        c if c.is_control() => format!("U+{:04X}", c as u32),
        c => format!("{c:?}"),
    }
}
