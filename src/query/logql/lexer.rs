//! The LogQL lexer: a query becomes [`Token`]s with byte spans. Numbers
//! directly followed by a unit become durations (`5m`, `250ms`, `1h30m`) or
//! byte sizes (`10KB`, `1MiB`); keywords stay identifiers and the parser
//! reads them in context, as Loki's grammar does. Also home to the literal
//! helpers TraceQL shares: string unquoting and Go-style durations.

use crate::query::diag::QueryError;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Eof,
    Ident,
    Number,
    Duration,
    Bytes,
    /// A quoted string (double quotes or backticks); the span includes them.
    Str,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    /// `|` alone (a pipeline stage follows).
    Pipe,
    /// `|=` `!=` (outside braces also the comparison) `|~` `!~`.
    PipeExact,
    Neq,
    PipeMatch,
    NeqRegex,
    /// `=` and `==`.
    Eq,
    EqEq,
    EqRegex,
    Gt,
    Gte,
    Lt,
    Lte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl Tok {
    pub fn describe(self) -> &'static str {
        match self {
            Tok::Eof => "the end of the query",
            Tok::Ident => "a name",
            Tok::Number => "a number",
            Tok::Duration => "a duration",
            Tok::Bytes => "a byte size",
            Tok::Str => "a string",
            Tok::LBrace => "\"{\"",
            Tok::RBrace => "\"}\"",
            Tok::LParen => "\"(\"",
            Tok::RParen => "\")\"",
            Tok::LBracket => "\"[\"",
            Tok::RBracket => "\"]\"",
            Tok::Comma => "\",\"",
            Tok::Pipe => "\"|\"",
            Tok::PipeExact => "\"|=\"",
            Tok::Neq => "\"!=\"",
            Tok::PipeMatch => "\"|~\"",
            Tok::NeqRegex => "\"!~\"",
            Tok::Eq => "\"=\"",
            Tok::EqEq => "\"==\"",
            Tok::EqRegex => "\"=~\"",
            Tok::Gt => "\">\"",
            Tok::Gte => "\">=\"",
            Tok::Lt => "\"<\"",
            Tok::Lte => "\"<=\"",
            Tok::Add => "\"+\"",
            Tok::Sub => "\"-\"",
            Tok::Mul => "\"*\"",
            Tok::Div => "\"/\"",
            Tok::Mod => "\"%\"",
            Tok::Pow => "\"^\"",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

/// The longest query accepted; longer text is refused before lexing so a
/// pasted log file cannot stall the parser.
pub const MAX_QUERY_LEN: usize = 64 * 1024;

pub fn lex(src: &str) -> Result<Vec<Token>, QueryError> {
    if src.len() > MAX_QUERY_LEN {
        return Err(QueryError::limit(format!("the query is {} bytes long; the limit is {MAX_QUERY_LEN}", src.len())));
    }
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 3 + 2);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            // A comment runs to the end of the line, as in Loki.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let two = if i + 1 < b.len() { Some(b[i + 1]) } else { None };
        let (tok, len) = match (c, two) {
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            (b'|', Some(b'=')) => (Tok::PipeExact, 2),
            (b'|', Some(b'~')) => (Tok::PipeMatch, 2),
            (b'|', _) => (Tok::Pipe, 1),
            (b'!', Some(b'=')) => (Tok::Neq, 2),
            (b'!', Some(b'~')) => (Tok::NeqRegex, 2),
            (b'=', Some(b'=')) => (Tok::EqEq, 2),
            (b'=', Some(b'~')) => (Tok::EqRegex, 2),
            (b'=', _) => (Tok::Eq, 1),
            (b'>', Some(b'=')) => (Tok::Gte, 2),
            (b'>', _) => (Tok::Gt, 1),
            (b'<', Some(b'=')) => (Tok::Lte, 2),
            (b'<', _) => (Tok::Lt, 1),
            (b'+', _) => (Tok::Add, 1),
            (b'-', _) => (Tok::Sub, 1),
            (b'*', _) => (Tok::Mul, 1),
            (b'/', _) => (Tok::Div, 1),
            (b'%', _) => (Tok::Mod, 1),
            (b'^', _) => (Tok::Pow, 1),
            (b'"', _) | (b'`', _) => {
                let end = scan_string(src, i)?;
                out.push(Token { tok: Tok::Str, span: start..end });
                i = end;
                continue;
            }
            (b'0'..=b'9', _) | (b'.', Some(b'0'..=b'9')) => {
                let (tok, end) = scan_number(src, i)?;
                out.push(Token { tok, span: start..end });
                i = end;
                continue;
            }
            (c, _) if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident, span: start..i });
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                let hint = match ch {
                    '\'' => " (LogQL strings use double quotes or backticks)",
                    '!' => " (did you mean != or !~?)",
                    _ => "",
                };
                return Err(QueryError::parse(i..i + ch.len_utf8(), format!("unexpected character {ch:?}{hint}")));
            }
        };
        out.push(Token { tok, span: start..start + len });
        i += len;
    }
    out.push(Token { tok: Tok::Eof, span: src.len()..src.len() });
    Ok(out)
}

/// The end of the string literal starting at `start` (after its closing quote).
pub fn scan_string(src: &str, start: usize) -> Result<usize, QueryError> {
    let b = src.as_bytes();
    let q = b[start];
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == q {
            return Ok(i + 1);
        }
        if b[i] == b'\\' && q == b'"' {
            i += 1;
        }
        i += 1;
    }
    Err(QueryError::parse(start..src.len(), "this string is never closed; add the closing quote"))
}

fn scan_number(src: &str, start: usize) -> Result<(Tok, usize), QueryError> {
    let b = src.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    if i < b.len() && b[i] == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
        i += 1;
        digits(&mut i);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            digits(&mut i);
            return Ok((Tok::Number, i));
        }
    }
    // A unit glued to the number makes a duration or byte size.
    let unit_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || src[i..].starts_with('µ')) {
        i += if src[i..].starts_with('µ') { 'µ'.len_utf8() } else { 1 };
    }
    if i == unit_start {
        return Ok((Tok::Number, i));
    }
    let text = &src[start..i];
    if parse_go_duration(text).is_some() {
        return Ok((Tok::Duration, i));
    }
    if parse_bytes(text).is_some() {
        return Ok((Tok::Bytes, i));
    }
    Err(QueryError::parse(start..i, format!("{text:?} is neither a number, a duration (like 5m or 250ms) nor a byte size (like 10KB)")))
}

/// The value of a string literal token's text (with its quotes). Double
/// quoted strings take Go escapes; backtick strings are raw.
pub fn unquote(text: &str, span_start: usize) -> Result<String, QueryError> {
    if let Some(raw) = text.strip_prefix('`') {
        return Ok(raw.strip_suffix('`').unwrap_or(raw).to_string());
    }
    let inner = text.strip_prefix('"').unwrap_or(text);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.char_indices();
    while let Some((k, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let at = span_start + 1 + k;
        let Some((_, e)) = it.next() else {
            return Err(QueryError::parse(at..at + 1, "a backslash at the end of a string escapes nothing"));
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'u' | 'U' | 'x' => {
                let n = match e {
                    'u' => 4,
                    'U' => 8,
                    _ => 2,
                };
                let mut v: u32 = 0;
                for _ in 0..n {
                    match it.next().and_then(|(_, h)| h.to_digit(16)) {
                        Some(d) => v = v * 16 + d,
                        None => return Err(QueryError::parse(at..at + 2, format!("\\{e} needs {n} hex digits"))),
                    }
                }
                match char::from_u32(v) {
                    Some(ch) => out.push(ch),
                    None => return Err(QueryError::parse(at..at + 2 + n, "this escape is not a valid character")),
                }
            }
            other => {
                return Err(QueryError::parse(
                    at..at + 1 + other.len_utf8(),
                    format!("unknown escape \\{other}; in a double-quoted string write \\\\ for a backslash (a regex like \\d needs \"\\\\d\" or a `backtick` string)"),
                ))
            }
        }
    }
    Ok(out)
}

/// A Go (`time.ParseDuration`) or Prometheus duration in seconds:
/// `250ms`, `1.5s`, `1h30m`, `2d`, `1w`. `None` if it is not one.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body == "0" {
        return Some(0.0);
    }
    let b = body.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut i = 0;
    let mut total = 0.0;
    while i < b.len() {
        let ns = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        let num: f64 = body[ns..i].parse().ok()?;
        let us = i;
        while i < b.len() && !(b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        let mult = match &body[us..i] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 7.0 * 86400.0,
            "y" => 365.0 * 86400.0,
            _ => return None,
        };
        total += num * mult;
    }
    Some(if neg { -total } else { total })
}

/// A byte size like `10KB`, `1.5MiB` or `42B` (case-insensitive, as
/// humanize.ParseBytes reads it) in bytes.
pub fn parse_bytes(s: &str) -> Option<f64> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let num: f64 = s[..split].parse().ok()?;
    let unit = s[split..].trim().to_ascii_lowercase();
    let mult = match unit.as_str() {
        "b" | "" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "pb" | "p" => 1e15,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024.0 * 1024.0,
        "gib" | "gi" => 1024.0 * 1024.0 * 1024.0,
        "tib" | "ti" => 1024f64.powi(4),
        "pib" | "pi" => 1024f64.powi(5),
        _ => return None,
    };
    // A bare number or a lone "m" is not a byte literal in a query.
    if unit.is_empty() || !unit.ends_with('b') && !unit.ends_with('i') {
        return None;
    }
    Some(num * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_operators_and_literals() {
        use Tok::*;
        assert_eq!(toks(r#"{a=~"x"} |= "y" != `z` | json"#), vec![LBrace, Ident, EqRegex, Str, RBrace, PipeExact, Str, Neq, Str, Pipe, Ident, Eof]);
        assert_eq!(toks("[5m] > 250ms 10KB 0.99 1e3"), vec![LBracket, Duration, RBracket, Gt, Duration, Bytes, Number, Number, Eof]);
    }

    #[test]
    fn literal_helpers() {
        assert_eq!(unquote(r#""a\"b\\c\u00e9""#, 0).unwrap(), "a\"b\\cé");
        assert_eq!(unquote(r"`\d+`", 0).unwrap(), r"\d+");
        assert_eq!(unquote(r#""\d""#, 10).unwrap_err().span, 11..13);
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("250ms"), Some(0.25));
        assert_eq!(parse_go_duration("1.5s"), Some(1.5));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_bytes("10KB"), Some(10_000.0));
        assert_eq!(parse_bytes("1MiB"), Some(1_048_576.0));
        assert_eq!(parse_bytes("5m"), None);
    }

    #[test]
    fn errors_point_at_the_text() {
        assert_eq!(lex(r#"{a="x}"#).unwrap_err().span, 3..6);
        assert_eq!(lex("{a='x'}").unwrap_err().span, 3..4);
        assert_eq!(lex("[5q]").unwrap_err().span, 1..3);
    }
}
