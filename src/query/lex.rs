//! The lexer and token cursor LogQL and TraceQL share. A [`Dialect`] says
//! what differs between the two (operators, identifier characters,
//! comments, literal units, hints for common slips); scanning, string and
//! number literals, error positions and the parser's cursor (`peek`,
//! `expect`, "expected X, found Y", nesting depth) are written once here.
//! Also home to the literal helpers both evaluate with: Go-style string
//! unquoting, durations and byte sizes, and fully anchored regexes.
//! PromQL keeps its own lexer: its grammar (`@`, `offset`, hex and `Inf`
//! numbers, single-quoted strings) is too different to share a table.

use crate::query::diag::QueryError;
use regex_lite::{Regex, RegexBuilder};
use std::ops::Range;

/// Every token either language produces; a dialect's operator table says
/// which it can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Eof,
    Ident,
    /// `.name`: an unscoped TraceQL attribute (the span includes the dot).
    DotIdent,
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
    /// LogQL's line filters `|=` and `|~`.
    PipeExact,
    PipeMatch,
    Neq,
    NeqRegex,
    Eq,
    /// LogQL's `==` (TraceQL reads `==` as [`Tok::Eq`]).
    EqEq,
    EqRegex,
    Gt,
    Gte,
    Lt,
    Lte,
    AndAnd,
    OrOr,
    Not,
    /// TraceQL's structural `>>` (descendant) and `<<` (ancestor).
    Desc,
    Anc,
    Tilde,
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
            Tok::DotIdent => "an attribute",
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
            Tok::PipeMatch => "\"|~\"",
            Tok::Neq => "\"!=\"",
            Tok::NeqRegex => "\"!~\"",
            Tok::Eq => "\"=\"",
            Tok::EqEq => "\"==\"",
            Tok::EqRegex => "\"=~\"",
            Tok::Gt => "\">\"",
            Tok::Gte => "\">=\"",
            Tok::Lt => "\"<\"",
            Tok::Lte => "\"<=\"",
            Tok::AndAnd => "\"&&\"",
            Tok::OrOr => "\"||\"",
            Tok::Not => "\"!\"",
            Tok::Desc => "\">>\"",
            Tok::Anc => "\"<<\"",
            Tok::Tilde => "\"~\"",
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

/// What one query language's lexer accepts.
pub struct Dialect {
    /// Operators and punctuation, longest first where one is a prefix of
    /// another (`|=` before `|`).
    pub operators: &'static [(&'static str, Tok)],
    /// Bytes allowed after an identifier's first letter.
    pub ident_byte: fn(u8) -> bool,
    /// `#` starts a comment running to the end of the line.
    pub comments: bool,
    /// `.name` is an attribute token.
    pub dot_idents: bool,
    /// `10KB` is a byte size.
    pub byte_sizes: bool,
    /// A sentence added to "unexpected character" for characters learners
    /// type by habit from other languages.
    pub hints: &'static [(char, &'static str)],
    /// What a number with an unknown unit should have been.
    pub bad_unit: &'static str,
}

/// The longest query accepted; longer text is refused before lexing so a
/// pasted log file cannot stall the parser.
pub const MAX_QUERY_LEN: usize = 64 * 1024;

pub fn lex(src: &str, d: &Dialect) -> Result<Vec<Token>, QueryError> {
    if src.len() > MAX_QUERY_LEN {
        return Err(QueryError::limit(format!("the query is {} bytes long; the limit is {MAX_QUERY_LEN}", src.len())));
    }
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 3 + 2);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let next = b.get(i + 1).copied();
        let tok = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c == b'#' && d.comments {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c == b'"' || c == b'`' {
            i = scan_string(src, i)?;
            Tok::Str
        } else if c.is_ascii_digit() || (c == b'.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let (tok, end) = scan_number(src, i, d)?;
            i = end;
            tok
        } else if c.is_ascii_alphabetic() || c == b'_' || (c == b'.' && d.dot_idents && next.is_some_and(|n| n.is_ascii_alphabetic() || n == b'_')) {
            i += 1;
            while i < b.len() && (d.ident_byte)(b[i]) {
                i += 1;
            }
            if c == b'.' {
                Tok::DotIdent
            } else {
                Tok::Ident
            }
        } else if let Some(&(op, tok)) = d.operators.iter().find(|(op, _)| src[i..].starts_with(op)) {
            i += op.len();
            tok
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            let hint = d.hints.iter().find(|(h, _)| *h == ch).map(|(_, s)| *s).unwrap_or("");
            return Err(QueryError::parse(i..i + ch.len_utf8(), format!("unexpected character {ch:?}{hint}")));
        };
        out.push(Token { tok, span: start..i });
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

/// A number, or a duration or byte size when a unit is glued to it.
fn scan_number(src: &str, start: usize, d: &Dialect) -> Result<(Tok, usize), QueryError> {
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
    if d.byte_sizes && parse_bytes(text).is_some() {
        return Ok((Tok::Bytes, i));
    }
    Err(QueryError::parse(start..i, format!("{text:?} is neither a number nor {}", d.bad_unit)))
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
        let num: f64 = crate::float::parse(&body[ns..i]).ok()?;
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
    let num: f64 = crate::float::parse(&s[..split]).ok()?;
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

/// Largest compiled regex (bytes of the regex engine's program).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a regex; `anchored` the way Loki's and Tempo's matchers use it
/// (the whole value must match).
pub fn compile_regex(pattern: &str, anchored: bool, span: Range<usize>) -> Result<Regex, QueryError> {
    let full = if anchored { format!("^(?:{pattern})$") } else { pattern.to_string() };
    RegexBuilder::new(&full).size_limit(REGEX_SIZE_LIMIT).nest_limit(100).build().map_err(|e| {
        let msg = e.to_string();
        let first = msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid").trim().to_string();
        QueryError::parse(span, format!("invalid regular expression {pattern:?}: {first}"))
    })
}

/// Deepest nesting of parentheses and aggregations a parser accepts.
pub const MAX_DEPTH: usize = 64;

/// A parser's position in the token list, with the helpers every
/// recursive-descent parser here needs. Parsers wrap it and reach these
/// through `Deref`.
pub struct Cursor<'a> {
    pub src: &'a str,
    pub toks: Vec<Token>,
    pub pos: usize,
    pub depth: usize,
}

impl<'a> Cursor<'a> {
    /// Lexes `src`; the token list always ends with [`Tok::Eof`].
    pub fn new(src: &'a str, d: &Dialect) -> Result<Self, QueryError> {
        Ok(Cursor { src, toks: lex(src, d)?, pos: 0, depth: 0 })
    }
    pub fn cur(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    pub fn peek(&self) -> Tok {
        self.cur().tok
    }
    pub fn peek_at(&self, k: usize) -> Tok {
        self.toks.get(self.pos + k).map(|t| t.tok).unwrap_or(Tok::Eof)
    }
    pub fn text(&self, t: &Token) -> &'a str {
        &self.src[t.span.clone()]
    }
    pub fn cur_text(&self) -> &'a str {
        let t = self.cur();
        &self.src[t.span.clone()]
    }
    /// The current token is the identifier `kw`.
    pub fn is_kw(&self, kw: &str) -> bool {
        self.peek() == Tok::Ident && self.cur_text() == kw
    }
    pub fn bump(&mut self) -> Token {
        let t = self.cur().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    /// Where the last consumed token ends.
    pub fn last_end(&self) -> usize {
        self.toks[self.pos.saturating_sub(1)].span.end
    }
    /// A token as an error sentence names it: its text for names and
    /// literals, its symbol for operators.
    pub fn describe(&self, t: &Token) -> String {
        match t.tok {
            Tok::Eof => "end of the query".into(),
            Tok::Ident | Tok::DotIdent | Tok::Number | Tok::Duration | Tok::Bytes => format!("{:?}", self.text(t)),
            Tok::Str => format!("the string {}", self.text(t)),
            other => other.describe().into(),
        }
    }
    pub fn err_here(&self, what: &str) -> QueryError {
        let t = self.cur();
        QueryError::parse(t.span.clone(), format!("expected {what}, found {}", self.describe(t)))
    }
    pub fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, QueryError> {
        if self.peek() == tok {
            Ok(self.bump())
        } else {
            Err(self.err_here(what))
        }
    }
    /// One level deeper; an error past [`MAX_DEPTH`] so a pathological
    /// query cannot overflow the stack.
    pub fn enter(&mut self, span: Range<usize>) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::parse(span, format!("the query nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }
    /// A string literal's value and span.
    pub fn string_lit(&mut self, what: &str) -> Result<(String, Range<usize>), QueryError> {
        let t = self.expect(Tok::Str, what)?;
        Ok((unquote(self.text(&t), t.span.start)?, t.span))
    }
}

/// Lets a language's parser (a struct holding a `Cursor` named `c`) call
/// the cursor's helpers as its own.
macro_rules! parser_cursor {
    ($parser:ident) => {
        impl<'a> std::ops::Deref for $parser<'a> {
            type Target = $crate::query::lex::Cursor<'a>;
            fn deref(&self) -> &Self::Target {
                &self.c
            }
        }
        impl<'a> std::ops::DerefMut for $parser<'a> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.c
            }
        }
    };
}
pub(crate) use parser_cursor;

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_cursor_names_what_it_expected_and_found() {
        static D: Dialect = Dialect { operators: &[("(", Tok::LParen), (")", Tok::RParen)], ident_byte: |b| b.is_ascii_alphanumeric(), comments: false, dot_idents: false, byte_sizes: false, hints: &[], bad_unit: "a duration" };
        let mut c = Cursor::new("f ( 5m", &D).unwrap();
        assert!(c.is_kw("f"));
        c.bump();
        c.expect(Tok::LParen, "\"(\"").unwrap();
        let e = c.expect(Tok::RParen, "\")\"").unwrap_err();
        assert_eq!((e.span, e.message.as_str()), (4..6, "expected \")\", found \"5m\""));
        assert_eq!(Cursor::new("5q", &D).err().unwrap().message, "\"5q\" is neither a number nor a duration");
    }
}
