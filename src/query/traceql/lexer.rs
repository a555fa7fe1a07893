//! The TraceQL lexer. Identifiers may hold dots and a scope colon
//! (`span.http.route`, `resource.service.name`, `trace:rootName`); a dot
//! starts an unscoped attribute (`.http.route`). String, duration and
//! number literals follow the LogQL lexer's helpers.

use crate::query::diag::QueryError;
use crate::query::logql::lexer::{parse_go_duration, scan_string, MAX_QUERY_LEN};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Eof,
    Ident,
    /// `.name`: an unscoped attribute (the span includes the dot).
    DotIdent,
    Number,
    Duration,
    Str,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Pipe,
    AndAnd,
    OrOr,
    Not,
    Eq,
    Neq,
    Re,
    NotRe,
    Gt,
    Gte,
    Lt,
    Lte,
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
            Tok::Str => "a string",
            Tok::LBrace => "\"{\"",
            Tok::RBrace => "\"}\"",
            Tok::LParen => "\"(\"",
            Tok::RParen => "\")\"",
            Tok::Comma => "\",\"",
            Tok::Pipe => "\"|\"",
            Tok::AndAnd => "\"&&\"",
            Tok::OrOr => "\"||\"",
            Tok::Not => "\"!\"",
            Tok::Eq => "\"=\"",
            Tok::Neq => "\"!=\"",
            Tok::Re => "\"=~\"",
            Tok::NotRe => "\"!~\"",
            Tok::Gt => "\">\"",
            Tok::Gte => "\">=\"",
            Tok::Lt => "\"<\"",
            Tok::Lte => "\"<=\"",
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

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b':' || b == b'-'
}

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
        let two = b.get(i + 1).copied();
        let (tok, len) = match (c, two) {
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b',', _) => (Tok::Comma, 1),
            (b'|', Some(b'|')) => (Tok::OrOr, 2),
            (b'|', _) => (Tok::Pipe, 1),
            (b'&', Some(b'&')) => (Tok::AndAnd, 2),
            (b'!', Some(b'=')) => (Tok::Neq, 2),
            (b'!', Some(b'~')) => (Tok::NotRe, 2),
            (b'!', _) => (Tok::Not, 1),
            (b'=', Some(b'~')) => (Tok::Re, 2),
            (b'=', Some(b'=')) => (Tok::Eq, 2),
            (b'=', _) => (Tok::Eq, 1),
            (b'>', Some(b'>')) => (Tok::Desc, 2),
            (b'>', Some(b'=')) => (Tok::Gte, 2),
            (b'>', _) => (Tok::Gt, 1),
            (b'<', Some(b'<')) => (Tok::Anc, 2),
            (b'<', Some(b'=')) => (Tok::Lte, 2),
            (b'<', _) => (Tok::Lt, 1),
            (b'~', _) => (Tok::Tilde, 1),
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
            (b'.', Some(n)) if n.is_ascii_alphabetic() || n == b'_' => {
                i += 1;
                while i < b.len() && ident_byte(b[i]) {
                    i += 1;
                }
                out.push(Token { tok: Tok::DotIdent, span: start..i });
                continue;
            }
            (b'0'..=b'9', _) => {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'e' || b[i] == b'E') && b.get(i + 1).is_some_and(|x| x.is_ascii_digit() || *x == b'-' || *x == b'+') {
                    i += 2;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    out.push(Token { tok: Tok::Number, span: start..i });
                    continue;
                }
                let us = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || src[i..].starts_with('µ')) {
                    i += if src[i..].starts_with('µ') { 'µ'.len_utf8() } else { 1 };
                }
                if i == us {
                    if src[start..i].parse::<f64>().is_err() {
                        return Err(QueryError::parse(start..i, format!("{:?} is not a number", &src[start..i])));
                    }
                    out.push(Token { tok: Tok::Number, span: start..i });
                } else if parse_go_duration(&src[start..i]).is_some() {
                    out.push(Token { tok: Tok::Duration, span: start..i });
                } else {
                    return Err(QueryError::parse(start..i, format!("{:?} is neither a number nor a duration (use ns, us, ms, s, m or h)", &src[start..i])));
                }
                continue;
            }
            (c, _) if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && ident_byte(b[i]) {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident, span: start..i });
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                let hint = match ch {
                    '\'' => " (TraceQL strings use double quotes)",
                    '&' => " (did you mean &&?)",
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
