//! Diagnostics shared by the query languages: a typed error carrying the
//! byte range it is about, and a renderer that prints the query with a
//! caret line under that range, the way a compiler would.

use std::fmt;
use std::ops::Range;

/// What went wrong, in categories a caller can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not a valid query (lexing, parsing, type checking).
    Parse,
    /// The query is valid but failed while running (e.g. duplicate series).
    Eval,
    /// A resource limit was hit (samples touched, points per series, ...).
    Limit,
    /// A real feature of the language that this engine deliberately does not
    /// implement (native histograms, `info()`, fill modifiers, ...).
    Unsupported { feature: String },
}

/// A query error: a sentence for a human plus the byte range of the query it
/// is about (empty when the error concerns the whole query).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub span: Range<usize>,
    pub message: String,
    pub kind: ErrorKind,
}

impl QueryError {
    pub fn parse(span: Range<usize>, message: impl Into<String>) -> Self {
        QueryError { span, message: message.into(), kind: ErrorKind::Parse }
    }
    pub fn eval(message: impl Into<String>) -> Self {
        QueryError { span: 0..0, message: message.into(), kind: ErrorKind::Eval }
    }
    pub fn limit(message: impl Into<String>) -> Self {
        QueryError { span: 0..0, message: message.into(), kind: ErrorKind::Limit }
    }
    pub fn unsupported(span: Range<usize>, feature: impl Into<String>) -> Self {
        let feature = feature.into();
        QueryError {
            span,
            message: format!("{feature} is not supported by this engine"),
            kind: ErrorKind::Unsupported { feature },
        }
    }
    pub fn is_unsupported(&self) -> bool {
        matches!(self.kind, ErrorKind::Unsupported { .. })
    }
    /// The unsupported feature's name, if this is an `Unsupported` error.
    pub fn feature(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Unsupported { feature } => Some(feature),
            _ => None,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(query: &str, pos: usize) -> (usize, usize) {
    let pos = floor_char_boundary(query, pos.min(query.len()));
    let before = &query[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Renders the line of `query` holding the error with a caret line under the
/// span (`^~~~`), then the message:
///
/// ```text
/// sum(rate(x[5m])
///    ^~~~~~~~~~~~
/// unclosed left parenthesis
/// ```
pub fn render_error(query: &str, err: &QueryError) -> String {
    let start = floor_char_boundary(query, err.span.start.min(query.len()));
    let end = floor_char_boundary(query, err.span.end.min(query.len())).max(start);
    let line_start = query[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = query[start..].find('\n').map(|i| start + i).unwrap_or(query.len());
    let line = &query[line_start..line_end];
    let width = query[start..end.min(line_end)].chars().count().max(1);
    let mut out = String::with_capacity(line.len() * 2 + err.message.len() + 4);
    out.push_str(line);
    out.push('\n');
    for c in query[line_start..start].chars() {
        // Keep tabs so the caret lines up under tab-indented text.
        out.push(if c == '\t' { '\t' } else { ' ' });
    }
    out.push('^');
    for _ in 1..width {
        out.push('~');
    }
    out.push('\n');
    out.push_str(&err.message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_span() {
        let q = "sum(rate(x[5m]) by (job)";
        let e = QueryError::parse(3..4, "unclosed left parenthesis");
        assert_eq!(render_error(q, &e), "sum(rate(x[5m]) by (job)\n   ^\nunclosed left parenthesis");
        let e = QueryError::parse(4..15, "x");
        assert_eq!(render_error(q, &e).lines().nth(1).unwrap(), "    ^~~~~~~~~~~");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é{", 2), (1, 2));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
