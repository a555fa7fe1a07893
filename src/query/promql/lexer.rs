//! The PromQL lexer: turns a query into [`Token`]s with byte spans. Like
//! Prometheus's own lexer it is context sensitive: inside `{...}` only label
//! matchers are lexed, inside `[...]` durations and the subquery colon.
//! Errors carry the span of the offending text and a sentence.

use crate::query::diag::QueryError;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Eof,
    /// `[a-zA-Z_][a-zA-Z0-9_]*`; outside braces it may contain `:`.
    Ident,
    /// A numeric literal (decimal, hex, exponent, `Inf`, `NaN`).
    Number,
    /// A number followed by units: `5m`, `1h30m`, `10s53ms`.
    Duration,
    /// A quoted string; the span includes the quotes.
    Str,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    /// `=` (label matchers only).
    Assign,
    EqlC,
    Neq,
    EqlRegex,
    NeqRegex,
    Lss,
    Lte,
    Gtr,
    Gte,
    /// `</` and `>/`: Prometheus's experimental trim operators.
    TrimUpper,
    TrimLower,
}

impl Tok {
    /// How the token reads in an error sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Tok::Eof => "end of input",
            Tok::Ident => "identifier",
            Tok::Number => "number",
            Tok::Duration => "duration",
            Tok::Str => "string",
            Tok::LParen => "\"(\"",
            Tok::RParen => "\")\"",
            Tok::LBrace => "\"{\"",
            Tok::RBrace => "\"}\"",
            Tok::LBracket => "\"[\"",
            Tok::RBracket => "\"]\"",
            Tok::Comma => "\",\"",
            Tok::Colon => "\":\"",
            Tok::At => "\"@\"",
            Tok::Add => "\"+\"",
            Tok::Sub => "\"-\"",
            Tok::Mul => "\"*\"",
            Tok::Div => "\"/\"",
            Tok::Mod => "\"%\"",
            Tok::Pow => "\"^\"",
            Tok::Assign => "\"=\"",
            Tok::EqlC => "\"==\"",
            Tok::Neq => "\"!=\"",
            Tok::EqlRegex => "\"=~\"",
            Tok::NeqRegex => "\"!~\"",
            Tok::Lss => "\"<\"",
            Tok::Lte => "\"<=\"",
            Tok::Gtr => "\">\"",
            Tok::Gte => "\">=\"",
            Tok::TrimUpper => "\"</\"",
            Tok::TrimLower => "\">/\"",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

/// Lexes the whole query. The last token is always `Eof`.
pub fn lex(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut lx = Lexer::new(input);
    lx.run()?;
    Ok(lx.out)
}

/// Lexes as far as the text is valid and returns the tokens before the
/// first error (without `Eof`): the view of a query still being typed
/// that completion needs, where `rate(x{job="a` is not yet an error.
pub fn lex_prefix(input: &str) -> Vec<Token> {
    let mut lx = Lexer::new(input);
    let _ = lx.run();
    if lx.out.last().is_some_and(|t| t.tok == Tok::Eof) {
        lx.out.pop();
    }
    lx.out
}

struct Lexer<'a> {
    src: &'a [u8],
    input: &'a str,
    pos: usize,
    out: Vec<Token>,
    paren_depth: i32,
    paren_stack: Vec<usize>,
}

fn is_alpha(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}
fn is_alnum(c: u8) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Self {
        Lexer { src: input.as_bytes(), input, pos: 0, out: Vec::with_capacity(input.len() / 3 + 2), paren_depth: 0, paren_stack: Vec::new() }
    }
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }
    fn emit(&mut self, tok: Tok, start: usize) {
        self.out.push(Token { tok, span: start..self.pos });
    }
    fn err(&self, span: Range<usize>, msg: impl Into<String>) -> QueryError {
        QueryError::parse(span, msg)
    }
    fn char_at(&self, pos: usize) -> String {
        self.input[pos..].chars().next().map(|c| format!("{c:?}")).unwrap_or_else(|| "end of input".into())
    }
    fn char_len(&self, pos: usize) -> usize {
        self.input[pos..].chars().next().map(|c| c.len_utf8()).unwrap_or(1)
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' || c == b'\r' {
                break;
            }
            self.pos += 1;
        }
    }

    fn run(&mut self) -> Result<(), QueryError> {
        loop {
            let Some(c) = self.peek() else {
                if self.paren_depth > 0 {
                    let p = self.paren_stack.last().copied().unwrap_or(0);
                    return Err(self.err(p..p + 1, "unclosed left parenthesis"));
                }
                let p = self.pos;
                self.out.push(Token { tok: Tok::Eof, span: p..p });
                return Ok(());
            };
            let start = self.pos;
            match c {
                b'#' => self.skip_comment(),
                c if is_space(c) => self.pos += 1,
                b',' => {
                    self.pos += 1;
                    self.emit(Tok::Comma, start)
                }
                b'*' => {
                    self.pos += 1;
                    self.emit(Tok::Mul, start)
                }
                b'/' => {
                    self.pos += 1;
                    self.emit(Tok::Div, start)
                }
                b'%' => {
                    self.pos += 1;
                    self.emit(Tok::Mod, start)
                }
                b'+' => {
                    self.pos += 1;
                    self.emit(Tok::Add, start)
                }
                b'-' => {
                    self.pos += 1;
                    self.emit(Tok::Sub, start)
                }
                b'^' => {
                    self.pos += 1;
                    self.emit(Tok::Pow, start)
                }
                b'@' => {
                    self.pos += 1;
                    self.emit(Tok::At, start)
                }
                b'=' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'=') => {
                            self.pos += 1;
                            self.emit(Tok::EqlC, start)
                        }
                        Some(b'~') => return Err(self.err(start..self.pos + 1, "unexpected character after \"=\": '~' (regex matchers belong inside braces)")),
                        _ => self.emit(Tok::Assign, start),
                    }
                }
                b'!' => {
                    self.pos += 1;
                    if self.peek() == Some(b'=') {
                        self.pos += 1;
                        self.emit(Tok::Neq, start)
                    } else {
                        let what = self.char_at(self.pos);
                        return Err(self.err(start..self.pos + self.char_len(self.pos).min(self.src.len() - self.pos), format!("unexpected character after \"!\": {what}")));
                    }
                }
                b'<' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'=') => {
                            self.pos += 1;
                            self.emit(Tok::Lte, start)
                        }
                        Some(b'/') => {
                            self.pos += 1;
                            self.emit(Tok::TrimUpper, start)
                        }
                        _ => self.emit(Tok::Lss, start),
                    }
                }
                b'>' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'=') => {
                            self.pos += 1;
                            self.emit(Tok::Gte, start)
                        }
                        Some(b'/') => {
                            self.pos += 1;
                            self.emit(Tok::TrimLower, start)
                        }
                        _ => self.emit(Tok::Gtr, start),
                    }
                }
                b'(' => {
                    self.pos += 1;
                    self.paren_depth += 1;
                    self.paren_stack.push(start);
                    self.emit(Tok::LParen, start)
                }
                b')' => {
                    self.pos += 1;
                    self.paren_depth -= 1;
                    self.paren_stack.pop();
                    if self.paren_depth < 0 {
                        return Err(self.err(start..self.pos, "unexpected right parenthesis \")\""));
                    }
                    self.emit(Tok::RParen, start)
                }
                b'{' => {
                    self.pos += 1;
                    self.emit(Tok::LBrace, start);
                    self.lex_braces(start)?;
                }
                b'}' => return Err(self.err(start..start + 1, "unexpected \"}\" outside of a label matcher list")),
                b'[' => {
                    self.pos += 1;
                    self.emit(Tok::LBracket, start);
                    self.lex_brackets(start)?;
                }
                b']' => return Err(self.err(start..start + 1, "unexpected right bracket \"]\"")),
                b'"' | b'\'' => self.lex_string(c)?,
                b'`' => self.lex_raw_string()?,
                c if c.is_ascii_digit() || (c == b'.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) => self.lex_number_or_duration()?,
                c if is_alpha(c) || c == b':' => {
                    while self.peek().is_some_and(|c| is_alnum(c) || c == b':') {
                        self.pos += 1;
                    }
                    self.emit(Tok::Ident, start);
                }
                _ => {
                    let what = self.char_at(start);
                    return Err(self.err(start..start + self.char_len(start), format!("unexpected character: {what}")));
                }
            }
        }
    }

    fn lex_braces(&mut self, open: usize) -> Result<(), QueryError> {
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(open..self.pos, "unexpected end of input inside braces: \"{\" was never closed"));
            };
            let start = self.pos;
            match c {
                b'#' => self.skip_comment(),
                c if is_space(c) => self.pos += 1,
                c if is_alpha(c) => {
                    while self.peek().is_some_and(is_alnum) {
                        self.pos += 1;
                    }
                    self.emit(Tok::Ident, start);
                }
                b',' => {
                    self.pos += 1;
                    self.emit(Tok::Comma, start)
                }
                b'"' | b'\'' => self.lex_string(c)?,
                b'`' => self.lex_raw_string()?,
                b'=' => {
                    self.pos += 1;
                    if self.peek() == Some(b'~') {
                        self.pos += 1;
                        self.emit(Tok::EqlRegex, start)
                    } else {
                        self.emit(Tok::Assign, start)
                    }
                }
                b'!' => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'~') => {
                            self.pos += 1;
                            self.emit(Tok::NeqRegex, start)
                        }
                        Some(b'=') => {
                            self.pos += 1;
                            self.emit(Tok::Neq, start)
                        }
                        _ => {
                            let what = self.char_at(self.pos);
                            return Err(self.err(start..(self.pos + 1).min(self.src.len()), format!("unexpected character after \"!\" inside braces: {what}")));
                        }
                    }
                }
                b'{' => return Err(self.err(start..start + 1, "unexpected left brace \"{\" inside braces")),
                b'}' => {
                    self.pos += 1;
                    self.emit(Tok::RBrace, start);
                    return Ok(());
                }
                _ => {
                    let what = self.char_at(start);
                    return Err(self.err(start..start + self.char_len(start), format!("unexpected character inside braces: {what}")));
                }
            }
        }
    }

    fn lex_brackets(&mut self, open: usize) -> Result<(), QueryError> {
        let mut depth = 0i32;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(open..self.pos, "unclosed left bracket: \"[\" was never closed"));
            };
            let start = self.pos;
            match c {
                c if is_space(c) => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    self.emit(Tok::RBracket, start);
                    return Ok(());
                }
                b':' => {
                    self.pos += 1;
                    self.emit(Tok::Colon, start)
                }
                b'(' => {
                    depth += 1;
                    self.pos += 1;
                    self.emit(Tok::LParen, start)
                }
                b')' => {
                    depth -= 1;
                    self.pos += 1;
                    if depth < 0 {
                        return Err(self.err(start..self.pos, "unexpected right parenthesis \")\" in duration"));
                    }
                    self.emit(Tok::RParen, start)
                }
                b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b',' => {
                    self.pos += 1;
                    let t = match c {
                        b'+' => Tok::Add,
                        b'-' => Tok::Sub,
                        b'*' => Tok::Mul,
                        b'/' => Tok::Div,
                        b'%' => Tok::Mod,
                        b'^' => Tok::Pow,
                        _ => Tok::Comma,
                    };
                    self.emit(t, start)
                }
                b'[' => return Err(self.err(start..start + 1, "unexpected left bracket \"[\" inside a range")),
                c if c.is_ascii_digit() || (c == b'.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) => self.lex_number_or_duration()?,
                c if is_alpha(c) => {
                    while self.peek().is_some_and(is_alnum) {
                        self.pos += 1;
                    }
                    self.emit(Tok::Ident, start);
                }
                _ => {
                    let what = self.char_at(start);
                    return Err(self.err(start..start + self.char_len(start), format!("unexpected character in range: {what}, expected a duration or \":\"")));
                }
            }
        }
    }

    fn accept(&mut self, set: &[u8]) -> bool {
        if let Some(c) = self.peek()
            && set.contains(&c) {
                self.pos += 1;
                return true;
            }
        false
    }

    /// Scans a number as Prometheus does; `false` when what follows makes it
    /// not a plain number (e.g. a duration unit).
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits: &[u8] = b"0123456789";
        if self.peek() == Some(b'0') && matches!(self.peek_at(1), Some(b'x' | b'X')) {
            self.pos += 2;
            self.accept(b"_");
            digits = b"0123456789abcdefABCDEF";
        }
        let hex = digits.len() > 10;
        self.accept(b".");
        self.accept(digits);
        let mut dot = false;
        let mut exp = false;
        loop {
            let Some(c) = self.peek() else { break };
            let is_digit = digits.contains(&c);
            if !(is_digit || c == b'.' || c == b'_' || (!hex && (c == b'e' || c == b'E'))) {
                break;
            }
            if c == b'.' {
                if dot {
                    self.pos += 1;
                    return false;
                }
                self.pos += 1;
                dot = true;
                if self.accept(b"_.") || hex {
                    return false;
                }
                continue;
            }
            if !hex && (c == b'e' || c == b'E') {
                if exp {
                    self.pos += 1;
                    return false;
                }
                self.pos += 1;
                exp = true;
                self.accept(b"+-");
                if self.accept(b"._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if c == b'_' {
                self.pos += 1;
                if self.accept(b"._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.peek().is_some_and(|c| digits.contains(&c)) {
                self.pos += 1;
            }
        }
        if self.pos == initial {
            return false;
        }
        !self.peek().is_some_and(is_alnum)
    }

    fn lex_number_or_duration(&mut self) -> Result<(), QueryError> {
        let start = self.pos;
        if self.scan_number() {
            self.emit(Tok::Number, start);
            return Ok(());
        }
        // A duration: units after the digits, possibly repeated (1h30m).
        let ok = (|| {
            if !self.accept(b"smhdwy") {
                return false;
            }
            self.accept(b"s");
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                if !self.accept(b"smhdw") {
                    return false;
                }
                self.accept(b"s");
            }
            !self.peek().is_some_and(is_alnum)
        })();
        if ok {
            self.emit(Tok::Duration, start);
            return Ok(());
        }
        while self.peek().is_some_and(|c| is_alnum(c) || c == b'.') {
            self.pos += 1;
        }
        Err(self.err(start..self.pos.max(start + 1), format!("bad number or duration syntax: {:?}", &self.input[start..self.pos.max(start + 1).min(self.input.len())])))
    }

    fn lex_string(&mut self, quote: u8) -> Result<(), QueryError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err(self.err(start..self.pos, "unterminated quoted string")),
                Some(b'\\') => {
                    self.pos += 1;
                    if self.peek().is_none() {
                        return Err(self.err(start..self.pos, "unterminated quoted string"));
                    }
                    self.pos += self.char_len(self.pos);
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += self.char_len(self.pos),
            }
        }
        // Validate escapes now so the error points at the string.
        unquote(&self.input[start..self.pos]).map_err(|m| self.err(start..self.pos, m))?;
        self.emit(Tok::Str, start);
        Ok(())
    }

    fn lex_raw_string(&mut self) -> Result<(), QueryError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.err(start..self.pos, "unterminated raw string")),
                Some(b'`') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += self.char_len(self.pos),
            }
        }
        self.emit(Tok::Str, start);
        Ok(())
    }
}

/// Unquotes a PromQL string literal (with its quotes) as Go's
/// `strconv.Unquote` does, returning raw bytes: `\x` and octal escapes may
/// produce bytes that are not UTF-8.
pub fn unquote_bytes(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b[b.len() - 1] {
        return Err("invalid string literal: mismatched quotes".into());
    }
    let quote = b[0];
    let body = &s[1..s.len() - 1];
    if quote == b'`' {
        if body.contains('`') {
            return Err("invalid raw string literal".into());
        }
        return Ok(body.as_bytes().to_vec());
    }
    if body.contains('\n') {
        return Err("newline in string literal".into());
    }
    let mut out = Vec::with_capacity(body.len());
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == quote {
            return Err("unescaped quote in string literal".into());
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&e) = bytes.get(i) else { return Err("escape sequence not terminated".into()) };
        i += 1;
        match e {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'\'' | b'"' => {
                if e != quote {
                    return Err(format!("unknown escape sequence \\{}", e as char));
                }
                out.push(e)
            }
            b'0'..=b'7' => {
                let mut v: u32 = (e - b'0') as u32;
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => return Err("illegal character in octal escape sequence".into()),
                    }
                }
                if v > 255 {
                    return Err("octal escape value > 255".into());
                }
                out.push(v as u8);
            }
            b'x' | b'u' | b'U' => {
                let n = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let mut v: u32 = 0;
                for _ in 0..n {
                    let Some(&d) = bytes.get(i) else { return Err("escape sequence not terminated".into()) };
                    let dv = (d as char).to_digit(16).ok_or_else(|| format!("illegal character {:?} in escape sequence", d as char))?;
                    v = v.wrapping_mul(16).wrapping_add(dv);
                    i += 1;
                }
                if e == b'x' {
                    out.push(v as u8);
                } else {
                    let ch = char::from_u32(v).ok_or("escape sequence is an invalid Unicode code point")?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
            }
            other => {
                let ch = body[i - 1..].chars().next().unwrap_or(other as char);
                return Err(format!("unknown escape sequence {:?}", format!("\\{ch}")));
            }
        }
    }
    Ok(out)
}

/// Unquotes to a `String`, replacing bytes that are not UTF-8.
pub fn unquote(s: &str) -> Result<String, String> {
    let b = unquote_bytes(s)?;
    Ok(match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Quotes bytes as Go's `strconv.Quote` does (used in messages that must
/// match Prometheus's wording).
pub fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
        };
        if let Some(c) = valid.chars().next() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
                c if c.is_control() => {
                    if (c as u32) < 0x10000 {
                        out.push_str(&format!("\\u{:04x}", c as u32))
                    } else {
                        out.push_str(&format!("\\U{:08x}", c as u32))
                    }
                }
                c => out.push(c),
            }
            i += c.len_utf8();
        } else {
            out.push_str(&format!("\\x{:02x}", bytes[i]));
            i += 1;
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_selectors_and_ranges() {
        use Tok::*;
        assert_eq!(toks(r#"rate(x{a=~"b"}[5m])"#), vec![Ident, LParen, Ident, LBrace, Ident, EqlRegex, Str, RBrace, LBracket, Duration, RBracket, RParen, Eof]);
        assert_eq!(toks("x[1h30m:1m] offset -5m"), vec![Ident, LBracket, Duration, Colon, Duration, RBracket, Ident, Sub, Duration, Eof]);
        assert_eq!(toks("a:b:c >= bool 0x1F"), vec![Ident, Gte, Ident, Number, Eof]);
        assert_eq!(toks("1e3 .5 2. 1_000"), vec![Number, Number, Number, Number, Eof]);
    }

    #[test]
    fn reports_positions() {
        let e = lex("sum(x").unwrap_err();
        assert_eq!(e.span, 3..4);
        assert_eq!(e.message, "unclosed left parenthesis");
        let e = lex("x{a=\"b}").unwrap_err();
        assert!(e.message.contains("unterminated"), "{e}");
        assert!(lex("1.5.5").is_err());
    }

    #[test]
    fn unquotes_like_go() {
        assert_eq!(unquote(r#""a\nb\x41\u00e9""#).unwrap(), "a\nbAé");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert_eq!(unquote(r#"'it\'s'"#).unwrap(), "it's");
        assert!(unquote(r#""\q""#).is_err());
        assert_eq!(go_quote(&unquote_bytes(r#""a\xc5z""#).unwrap()), r#""a\xc5z""#);
    }
}
