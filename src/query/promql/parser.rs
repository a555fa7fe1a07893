//! A hand-written Pratt parser for PromQL. Binary operators bind by the
//! table in [`BinOp::precedence`] (Prometheus's: `or` < `and unless` <
//! comparisons < `+ -` < `* / % atan2` < `^`, with `^` right-associative);
//! unary minus binds like `*` so `-a ^ b` is `-(a ^ b)`; the postfix
//! modifiers (`[range]`, `[range:step]`, `offset`, `@`) bind tightest.
//! After parsing, the tree is type checked as Prometheus's `checkAST` does.
//! Every error carries a span and a sentence; no input panics.

use super::ast::*;
use super::functions::{self, Func};
use super::lexer::{self, Tok, Token};
use crate::query::diag::{QueryError, line_col};

/// Parses and type checks a PromQL expression.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    let tokens = lexer::lex(input)?;
    let mut p = Parser { input, toks: tokens, pos: 0, depth: 0 };
    if p.peek() == Tok::Eof {
        return Err(QueryError::parse(0..input.len(), "no expression found in input"));
    }
    let e = p.expr(0)?;
    if p.peek() != Tok::Eof {
        return Err(p.unexpected("an operator or the end of the query"));
    }
    check(&e, input)?;
    Ok(e)
}

/// Parses a series description as used by test scripts and `promtool`:
/// `metric{label="value"}` with no operators. Returns the label pairs
/// (including `__name__`) and the byte offset where the description ends.
pub fn parse_metric_prefix(input: &str) -> Result<(Vec<(String, String)>, usize), QueryError> {
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() && (bytes[i] == b'_' || bytes[i] == b':' || bytes[i].is_ascii_alphanumeric()) {
        i += 1;
    }
    let mut labels = Vec::new();
    if i > 0 {
        labels.push(("__name__".to_string(), input[..i].to_string()));
    }
    if i < bytes.len() && bytes[i] == b'{' {
        // Find the closing brace outside of quotes.
        let mut j = i + 1;
        let mut quote: Option<u8> = None;
        while j < bytes.len() {
            let c = bytes[j];
            match quote {
                Some(q) if c == b'\\' && q != b'`' => j += 1,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'"' || c == b'\'' || c == b'`' => quote = Some(c),
                None if c == b'}' => break,
                None => {}
            }
            j += 1;
        }
        if j >= bytes.len() {
            return Err(QueryError::parse(i..input.len(), "unclosed label set in series description"));
        }
        let toks = lexer::lex(&input[i..=j])?;
        let mut k = 1;
        let tok_at = |k: usize| toks.get(k).map(|t| t.tok).unwrap_or(Tok::Eof);
        loop {
            let Some(t) = toks.get(k) else {
                return Err(QueryError::parse(i..input.len(), "unclosed label set in series description"));
            };
            match t.tok {
                Tok::RBrace => break,
                Tok::Ident | Tok::Str => {
                    let name_text = &input[i + t.span.start..i + t.span.end];
                    let name = if t.tok == Tok::Str { lexer::unquote(name_text).map_err(|m| QueryError::parse(t.span.clone(), m))? } else { name_text.to_string() };
                    if tok_at(k + 1) == Tok::Assign && tok_at(k + 2) == Tok::Str {
                        let vt = &toks[k + 2];
                        let v = lexer::unquote(&input[i + vt.span.start..i + vt.span.end]).map_err(|m| QueryError::parse(vt.span.clone(), m))?;
                        labels.push((name, v));
                        k += 3;
                    } else if t.tok == Tok::Str {
                        labels.push(("__name__".into(), name));
                        k += 1;
                    } else {
                        return Err(QueryError::parse(i + t.span.start..i + t.span.end, "expected \"=\" and a string in label set"));
                    }
                    if tok_at(k) == Tok::Comma {
                        k += 1;
                    }
                }
                _ => return Err(QueryError::parse(i + t.span.start..i + t.span.end.max(t.span.start + 1), "unexpected token in label set")),
            }
        }
        i = j + 1;
    }
    Ok((labels, i))
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Deep nesting is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 200;

fn tok_text<'a>(input: &'a str, t: &Token) -> &'a str {
    &input[t.span.clone()]
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Tok {
        self.toks[self.pos].tok
    }
    fn peek_at(&self, n: usize) -> Tok {
        self.toks.get(self.pos + n).map(|t| t.tok).unwrap_or(Tok::Eof)
    }
    fn cur(&self) -> &Token {
        &self.toks[self.pos]
    }
    fn text(&self) -> &'a str {
        tok_text(self.input, &self.toks[self.pos])
    }
    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }
    fn prev_end(&self) -> usize {
        if self.pos == 0 { 0 } else { self.toks[self.pos - 1].span.end }
    }
    fn is_ident(&self, kw: &str) -> bool {
        self.peek() == Tok::Ident && self.text().eq_ignore_ascii_case(kw)
    }

    fn describe(&self, t: &Token) -> String {
        match t.tok {
            Tok::Ident | Tok::Number | Tok::Duration => format!("{} {:?}", t.tok.describe(), tok_text(self.input, t)),
            Tok::Str => format!("string {}", tok_text(self.input, t)),
            _ => t.tok.describe().to_string(),
        }
    }

    fn unexpected(&self, expected: &str) -> QueryError {
        let t = self.cur();
        let (line, col) = line_col(self.input, t.span.start);
        let at = if self.input.contains('\n') { format!("{line}:{col}") } else { col.to_string() };
        let span = if t.tok == Tok::Eof { self.input.len().saturating_sub(1)..self.input.len() } else { t.span.clone() };
        QueryError::parse(span, format!("unexpected {} at {}: expected {}", self.describe(t), at, expected))
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<Token, QueryError> {
        if self.peek() == tok { Ok(self.bump()) } else { Err(self.unexpected(expected)) }
    }

    fn binop(&self) -> Option<BinOp> {
        Some(match self.peek() {
            Tok::Add => BinOp::Add,
            Tok::Sub => BinOp::Sub,
            Tok::Mul => BinOp::Mul,
            Tok::Div => BinOp::Div,
            Tok::Mod => BinOp::Mod,
            Tok::Pow => BinOp::Pow,
            Tok::EqlC => BinOp::Eql,
            Tok::Neq => BinOp::Neq,
            Tok::Gtr => BinOp::Gtr,
            Tok::Lss => BinOp::Lss,
            Tok::Gte => BinOp::Gte,
            Tok::Lte => BinOp::Lte,
            Tok::Ident => match self.text().to_ascii_lowercase().as_str() {
                "and" => BinOp::And,
                "or" => BinOp::Or,
                "unless" => BinOp::Unless,
                "atan2" => BinOp::Atan2,
                _ => return None,
            },
            _ => return None,
        })
    }

    fn expr(&mut self, min_bp: u8) -> Result<Expr, QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::parse(self.cur().span.clone(), "expression nested too deeply"));
        }
        let mut lhs = self.unary()?;
        let mut chain = 0usize;
        loop {
            if matches!(self.peek(), Tok::TrimUpper | Tok::TrimLower) {
                return Err(QueryError::unsupported(self.cur().span.clone(), "the experimental trim operators </ and >/"));
            }
            let Some(op) = self.binop() else { break };
            let (bp, right) = op.precedence();
            if bp < min_bp {
                break;
            }
            let op_tok = self.bump();
            // Long operator chains make deep trees; bound them like nesting.
            chain += 1;
            if self.depth + chain > MAX_DEPTH {
                return Err(QueryError::parse(op_tok.span, "expression nested too deeply"));
            }
            let (return_bool, matching) = self.bin_modifiers(op)?;
            let rhs = self.expr(if right { bp } else { bp + 1 })?;
            let span = lhs.span.start..rhs.span.end;
            let _ = op_tok;
            lhs = Expr { kind: ExprKind::Binary(Box::new(Binary { op, lhs, rhs, return_bool, matching })), span };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn bin_modifiers(&mut self, op: BinOp) -> Result<(bool, Option<VectorMatching>), QueryError> {
        let mut return_bool = false;
        if self.is_ident("bool") {
            self.bump();
            return_bool = true;
        }
        let mut m = VectorMatching { card: if op.is_set() { Card::ManyToMany } else { Card::OneToOne }, on: false, labels: vec![], include: vec![], explicit: false, fill_lhs: None, fill_rhs: None };
        if self.is_ident("on") || self.is_ident("ignoring") {
            m.on = self.is_ident("on");
            m.explicit = true;
            self.bump();
            m.labels = self.grouping_labels()?;
            if self.is_ident("group_left") || self.is_ident("group_right") {
                m.card = if self.is_ident("group_left") { Card::ManyToOne } else { Card::OneToMany };
                self.bump();
                if self.peek() == Tok::LParen {
                    m.include = self.grouping_labels()?;
                }
            }
        }
        let mut seen = 0;
        while seen < 2 && (self.is_ident("fill") || self.is_ident("fill_left") || self.is_ident("fill_right")) && self.peek_at(1) == Tok::LParen {
            let kw = self.text().to_ascii_lowercase();
            let kw_tok = self.bump();
            self.bump();
            let mut sign = 1.0;
            match self.peek() {
                Tok::Sub => {
                    self.bump();
                    sign = -1.0;
                }
                Tok::Add => {
                    self.bump();
                }
                _ => {}
            }
            let v = match self.peek() {
                Tok::Number => {
                    let t = self.bump();
                    parse_number(tok_text(self.input, &t)).map_err(|e| QueryError::parse(t.span.clone(), e))?
                }
                Tok::Duration => {
                    let t = self.bump();
                    parse_duration(tok_text(self.input, &t)).map_err(|e| QueryError::parse(t.span.clone(), e))? as f64 / 1000.0
                }
                Tok::Ident if matches!(self.text().to_ascii_lowercase().as_str(), "inf" | "nan") => {
                    let t = self.bump();
                    if tok_text(self.input, &t).eq_ignore_ascii_case("inf") { f64::INFINITY } else { f64::NAN }
                }
                _ => return Err(self.unexpected("a number in the fill modifier")),
            } * sign;
            self.expect(Tok::RParen, "\")\" to close the fill modifier")?;
            let dup = match kw.as_str() {
                "fill" => seen > 0,
                "fill_left" => m.fill_lhs.is_some(),
                _ => m.fill_rhs.is_some(),
            };
            if dup {
                return Err(QueryError::parse(kw_tok.span, format!("unexpected {kw}: the fill values are already set")));
            }
            match kw.as_str() {
                "fill" => {
                    m.fill_lhs = Some(v);
                    m.fill_rhs = Some(v);
                    seen = 2;
                }
                "fill_left" => m.fill_lhs = Some(v),
                _ => m.fill_rhs = Some(v),
            }
            seen += 1;
        }
        Ok((return_bool, Some(m)))
    }

    fn grouping_labels(&mut self) -> Result<Vec<String>, QueryError> {
        self.expect(Tok::LParen, "\"(\" to start a list of labels")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Tok::RParen => {
                    self.bump();
                    return Ok(out);
                }
                Tok::Ident => {
                    let t = self.bump();
                    let name = tok_text(self.input, &t);
                    if name.contains(':') {
                        return Err(QueryError::parse(t.span, format!("invalid label name for grouping: {name:?}")));
                    }
                    out.push(name.to_string());
                }
                Tok::Str => {
                    let t = self.bump();
                    let name = lexer::unquote(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))?;
                    if name.is_empty() {
                        return Err(QueryError::parse(t.span, "invalid label name for grouping: \"\""));
                    }
                    out.push(name);
                }
                _ => return Err(self.unexpected("a label name or \")\"")),
            }
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {}
                _ => return Err(self.unexpected("\",\" or \")\" in the label list")),
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        match self.peek() {
            Tok::Sub | Tok::Add => {
                let t = self.bump();
                // Unary operators bind like `*`: only `^` binds tighter.
                let inner = self.expr(6)?;
                let span = t.span.start..inner.span.end;
                if t.tok == Tok::Add {
                    if let ExprKind::Number(n) = inner.kind {
                        return Ok(Expr { kind: ExprKind::Number(n), span });
                    }
                    return Ok(Expr { kind: inner.kind, span: inner.span });
                }
                if let ExprKind::Number(n) = inner.kind {
                    return Ok(Expr { kind: ExprKind::Number(-n), span });
                }
                Ok(Expr { kind: ExprKind::Neg(Box::new(inner)), span })
            }
            _ => {
                let p = self.primary()?;
                self.postfix(p)
            }
        }
    }

    fn postfix(&mut self, mut e: Expr) -> Result<Expr, QueryError> {
        loop {
            match self.peek() {
                Tok::LBracket => e = self.range_or_subquery(e)?,
                Tok::Ident if self.is_ident("offset") => {
                    let kw = self.bump();
                    let (ms, _span) = self.offset_duration()?;
                    e = self.apply_offset(e, ms, kw.span.start)?;
                }
                Tok::At => {
                    let at_tok = self.bump();
                    let at = self.at_value()?;
                    e = self.apply_at(e, at, at_tok.span.start)?;
                }
                Tok::Ident if self.is_ident("anchored") || self.is_ident("smoothed") => {
                    return Err(QueryError::unsupported(self.cur().span.clone(), format!("the experimental {} modifier", self.text().to_ascii_lowercase())));
                }
                _ => return Ok(e),
            }
        }
    }

    fn apply_offset(&mut self, mut e: Expr, ms: i64, _kw: usize) -> Result<Expr, QueryError> {
        let end = self.prev_end();
        let target: &mut i64 = match &mut e.kind {
            ExprKind::Vector(vs) => &mut vs.offset_ms,
            ExprKind::Matrix(m) => &mut m.vs.offset_ms,
            ExprKind::Subquery(s) => &mut s.offset_ms,
            _ => return Err(QueryError::parse(e.span.start..end, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery")),
        };
        if *target != 0 {
            return Err(QueryError::parse(e.span.start..end, "offset may not be set multiple times"));
        }
        *target = ms;
        e.span.end = end;
        Ok(e)
    }

    fn apply_at(&mut self, mut e: Expr, at: At, _kw: usize) -> Result<Expr, QueryError> {
        let end = self.prev_end();
        let target = match &mut e.kind {
            ExprKind::Vector(vs) => &mut vs.at,
            ExprKind::Matrix(m) => &mut m.vs.at,
            ExprKind::Subquery(s) => &mut s.at,
            _ => return Err(QueryError::parse(e.span.start..end, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery")),
        };
        if target.is_some() {
            return Err(QueryError::parse(e.span.start..end, "@ <timestamp> may not be set multiple times"));
        }
        *target = Some(at);
        e.span.end = end;
        Ok(e)
    }

    fn at_value(&mut self) -> Result<At, QueryError> {
        let start = self.cur().span.start;
        if self.is_ident("start") || self.is_ident("end") {
            let is_start = self.is_ident("start");
            self.bump();
            self.expect(Tok::LParen, "\"(\" after start or end")?;
            self.expect(Tok::RParen, "\")\" after start( or end(")?;
            return Ok(if is_start { At::Start } else { At::End });
        }
        let mut sign = 1.0;
        match self.peek() {
            Tok::Sub => {
                self.bump();
                sign = -1.0;
            }
            Tok::Add => {
                self.bump();
            }
            _ => {}
        }
        let v = match self.peek() {
            Tok::Number => {
                let t = self.bump();
                parse_number(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))?
            }
            Tok::Duration => {
                let t = self.bump();
                parse_duration(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))? as f64 / 1000.0
            }
            Tok::LParen => return Err(QueryError::unsupported(start..self.cur().span.end, "@ with an expression")),
            _ => return Err(self.unexpected("a timestamp, start() or end() after @")),
        } * sign;
        if !v.is_finite() || v >= i64::MAX as f64 || v <= i64::MIN as f64 {
            return Err(QueryError::parse(start..self.prev_end(), format!("timestamp out of bounds for @ modifier: {v}")));
        }
        // Far beyond any real time, and keeps time arithmetic from overflowing.
        const LIMIT: f64 = (1i64 << 53) as f64;
        Ok(At::Timestamp((v * 1000.0).round().clamp(-LIMIT, LIMIT) as i64))
    }

    /// A duration inside brackets or after `offset`: a duration literal or a
    /// number of seconds. Arithmetic on durations is an experimental
    /// Prometheus feature this engine does not support.
    fn duration_value(&mut self, allow_sign: bool) -> Result<(i64, std::ops::Range<usize>), QueryError> {
        let start = self.cur().span.start;
        let mut sign = 1i64;
        if allow_sign {
            match self.peek() {
                Tok::Sub => {
                    self.bump();
                    sign = -1;
                }
                Tok::Add => {
                    self.bump();
                }
                _ => {}
            }
        }
        let ms = match self.peek() {
            Tok::Duration => {
                let t = self.bump();
                parse_duration(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))?
            }
            Tok::Number => {
                let t = self.bump();
                let v = parse_number(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))?;
                if !v.is_finite() || v.abs() > 9.2e12 {
                    return Err(QueryError::parse(t.span, "duration out of range"));
                }
                (v * 1000.0).round() as i64
            }
            Tok::LParen | Tok::Sub | Tok::Add => return Err(QueryError::unsupported(start..self.cur().span.end, "duration expressions")),
            Tok::Ident if matches!(self.text().to_ascii_lowercase().as_str(), "step" | "range" | "max_of" | "min_of") => {
                return Err(QueryError::unsupported(self.cur().span.clone(), "duration expressions"));
            }
            _ => return Err(self.unexpected("a duration such as 5m or a number of seconds")),
        };
        if matches!(self.peek(), Tok::Add | Tok::Sub | Tok::Mul | Tok::Div | Tok::Mod | Tok::Pow) && self.peek_at(1) != Tok::Eof {
            // Inside brackets arithmetic can only be a duration expression.
            if self.in_brackets() {
                return Err(QueryError::unsupported(start..self.cur().span.end, "duration expressions"));
            }
        }
        Ok((ms * sign, start..self.prev_end()))
    }

    fn in_brackets(&self) -> bool {
        // Look back for an unclosed `[` since the last `]`.
        let mut depth = 0i32;
        for t in self.toks[..self.pos].iter().rev() {
            match t.tok {
                Tok::RBracket => depth += 1,
                Tok::LBracket => {
                    if depth == 0 {
                        return true;
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        false
    }

    fn offset_duration(&mut self) -> Result<(i64, std::ops::Range<usize>), QueryError> {
        self.duration_value(true)
    }

    fn positive_duration(&mut self) -> Result<i64, QueryError> {
        let (ms, span) = self.duration_value(false)?;
        if ms <= 0 {
            return Err(QueryError::parse(span, "duration must be greater than 0"));
        }
        Ok(ms)
    }

    fn range_or_subquery(&mut self, e: Expr) -> Result<Expr, QueryError> {
        let open = self.bump();
        let range = self.positive_duration()?;
        match self.peek() {
            Tok::RBracket => {
                let close = self.bump();
                let vs = match e.kind {
                    ExprKind::Vector(vs) => vs,
                    _ => return Err(QueryError::parse(open.span.start..close.span.end, "ranges only allowed for vector selectors")),
                };
                if vs.offset_ms != 0 {
                    return Err(QueryError::parse(open.span.start..close.span.end, "no offset modifiers allowed before range"));
                }
                if vs.at.is_some() {
                    return Err(QueryError::parse(open.span.start..close.span.end, "no @ modifiers allowed before range"));
                }
                Ok(Expr { kind: ExprKind::Matrix(Box::new(MatrixSelector { vs: *vs, range_ms: range })), span: e.span.start..close.span.end })
            }
            Tok::Colon => {
                self.bump();
                let step = if self.peek() == Tok::RBracket { None } else { Some(self.positive_duration()?) };
                let close = self.expect(Tok::RBracket, "\"]\" to close the subquery")?;
                let span = e.span.start..close.span.end;
                Ok(Expr { kind: ExprKind::Subquery(Box::new(Subquery { expr: e, range_ms: range, step_ms: step, offset_ms: 0, at: None })), span })
            }
            _ => Err(self.unexpected("\":\" or \"]\" after the range")),
        }
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let t = self.cur().clone();
        match t.tok {
            Tok::Number => {
                self.bump();
                let v = parse_number(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))?;
                Ok(Expr { kind: ExprKind::Number(v), span: t.span })
            }
            Tok::Duration => {
                self.bump();
                let ms = parse_duration(tok_text(self.input, &t)).map_err(|m| QueryError::parse(t.span.clone(), m))?;
                Ok(Expr { kind: ExprKind::Number(ms as f64 / 1000.0), span: t.span })
            }
            Tok::Str => {
                self.bump();
                let raw = tok_text(self.input, &t);
                let bytes = lexer::unquote_bytes(raw).map_err(|m| QueryError::parse(t.span.clone(), m))?;
                let quoted = lexer::go_quote(&bytes);
                let (value, utf8) = match String::from_utf8(bytes) {
                    Ok(s) => (s, true),
                    Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), false),
                };
                Ok(Expr { kind: ExprKind::String(StringLit { value, quoted, utf8 }), span: t.span })
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr(0)?;
                let close = self.expect(Tok::RParen, "\")\" to close the parenthesis")?;
                Ok(Expr { kind: ExprKind::Paren(Box::new(inner)), span: t.span.start..close.span.end })
            }
            Tok::LBrace => {
                let (matchers, end) = self.label_matchers(None)?;
                self.selector(None, matchers, t.span.start..end)
            }
            Tok::Ident => {
                let name = tok_text(self.input, &t);
                let lower = name.to_ascii_lowercase();
                if lower == "inf" || lower == "nan" {
                    self.bump();
                    let v = if lower == "inf" { f64::INFINITY } else { f64::NAN };
                    return Ok(Expr { kind: ExprKind::Number(v), span: t.span });
                }
                if let Some(op) = AggOp::from_name(name) {
                    let next = self.peek_at(1);
                    let is_mod = self.toks.get(self.pos + 1).is_some_and(|n| n.tok == Tok::Ident && matches!(tok_text(self.input, n).to_ascii_lowercase().as_str(), "by" | "without"));
                    if next == Tok::LParen || is_mod {
                        return self.aggregate(op);
                    }
                }
                if self.peek_at(1) == Tok::LParen && !name.contains(':') {
                    return self.call();
                }
                if matches!(lower.as_str(), "on" | "ignoring" | "group_left" | "group_right" | "bool" | "atan2") {
                    return Err(self.unexpected("an expression"));
                }
                self.bump();
                let mut matchers = Vec::new();
                let mut end = t.span.end;
                if self.peek() == Tok::LBrace {
                    let (m, e) = self.label_matchers(Some(name))?;
                    matchers = m;
                    end = e;
                }
                self.selector(Some(name.to_string()), matchers, t.span.start..end)
            }
            Tok::Eof => Err(self.unexpected("an expression")),
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn selector(&mut self, name: Option<String>, mut matchers: Vec<Matcher>, span: std::ops::Range<usize>) -> Result<Expr, QueryError> {
        if let Some(n) = &name {
            if matchers.iter().any(|m| m.name == "__name__") {
                let other = matchers.iter().find(|m| m.name == "__name__").map(|m| m.value.clone()).unwrap_or_default();
                return Err(QueryError::parse(span, format!("metric name must not be set twice: {n:?} or {other:?}")));
            }
            matchers.push(Matcher::new("__name__", MatchOp::Equal, n).map_err(|m| QueryError::parse(span.clone(), m))?);
        } else if !matchers.iter().any(|m| !m.matches("")) {
            return Err(QueryError::parse(span, "vector selector must contain at least one non-empty matcher"));
        }
        let name = name.or_else(|| matchers.iter().find(|m| m.name == "__name__" && m.op == MatchOp::Equal).map(|m| m.value.clone()).filter(|_| false));
        Ok(Expr { kind: ExprKind::Vector(Box::new(VectorSelector { name, matchers, offset_ms: 0, at: None })), span })
    }

    /// `{a="b", c=~"d", "quoted"="e", "metric_name"}`; returns the matchers
    /// and the end offset of the closing brace.
    fn label_matchers(&mut self, _name: Option<&str>) -> Result<(Vec<Matcher>, usize), QueryError> {
        self.expect(Tok::LBrace, "\"{\"")?;
        let mut out = Vec::new();
        loop {
            if self.peek() == Tok::RBrace {
                let c = self.bump();
                return Ok((out, c.span.end));
            }
            let lt = self.cur().clone();
            let label = match lt.tok {
                Tok::Ident => {
                    self.bump();
                    tok_text(self.input, &lt).to_string()
                }
                Tok::Str => {
                    self.bump();
                    lexer::unquote(tok_text(self.input, &lt)).map_err(|m| QueryError::parse(lt.span.clone(), m))?
                }
                _ => return Err(self.unexpected("a label matcher")),
            };
            let op = match self.peek() {
                Tok::Assign => MatchOp::Equal,
                Tok::Neq => MatchOp::NotEqual,
                Tok::EqlRegex => MatchOp::Regex,
                Tok::NeqRegex => MatchOp::NotRegex,
                Tok::Comma | Tok::RBrace if lt.tok == Tok::Str => {
                    // A bare quoted string is the metric name.
                    out.push(Matcher::new("__name__", MatchOp::Equal, &label).map_err(|m| QueryError::parse(lt.span.clone(), m))?);
                    if self.peek() == Tok::Comma {
                        self.bump();
                    }
                    continue;
                }
                _ => return Err(self.unexpected("a label matching operator (=, !=, =~ or !~)")),
            };
            self.bump();
            let vt = self.cur().clone();
            if vt.tok != Tok::Str {
                return Err(self.unexpected("a quoted label value"));
            }
            self.bump();
            let value = lexer::unquote(tok_text(self.input, &vt)).map_err(|m| QueryError::parse(vt.span.clone(), m))?;
            let m = Matcher::new(&label, op, &value).map_err(|m| QueryError::parse(lt.span.start..vt.span.end, m))?;
            out.push(m);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {}
                _ => return Err(self.unexpected("\",\" or \"}\" after a label matcher")),
            }
        }
    }

    fn call_args(&mut self) -> Result<(Vec<Expr>, usize), QueryError> {
        self.expect(Tok::LParen, "\"(\"")?;
        let mut args = Vec::new();
        if self.peek() == Tok::RParen {
            let c = self.bump();
            return Ok((args, c.span.end));
        }
        loop {
            args.push(self.expr(0)?);
            match self.peek() {
                Tok::Comma => {
                    let c = self.bump();
                    if self.peek() == Tok::RParen {
                        return Err(QueryError::parse(c.span, "trailing commas not allowed in function call args"));
                    }
                }
                Tok::RParen => {
                    let c = self.bump();
                    return Ok((args, c.span.end));
                }
                _ => return Err(self.unexpected("\",\" or \")\" in the argument list")),
            }
        }
    }

    fn call(&mut self) -> Result<Expr, QueryError> {
        let t = self.bump();
        let name = tok_text(self.input, &t);
        let Some(func) = functions::lookup(name) else {
            return Err(QueryError::parse(t.span, format!("unknown function with name {name:?}")));
        };
        if let Func::Unsupported(feature) = func.func {
            // Arguments of unsupported functions may use syntax only they
            // allow (info()'s bare label selectors), so do not judge them.
            let end = self.call_args().map(|(_, e)| e).unwrap_or(t.span.end);
            return Err(QueryError::unsupported(t.span.start..end, feature));
        }
        let (args, end) = self.call_args()?;
        let span = t.span.start..end;
        Ok(Expr { kind: ExprKind::Call(Box::new(Call { func, args })), span })
    }

    fn aggregate(&mut self, op: AggOp) -> Result<Expr, QueryError> {
        let t = self.bump();
        let mut grouping = Vec::new();
        let mut without = false;
        let mut has_grouping = false;
        if self.is_ident("by") || self.is_ident("without") {
            without = self.is_ident("without");
            self.bump();
            grouping = self.grouping_labels()?;
            has_grouping = true;
        }
        let (mut args, mut end) = self.call_args()?;
        if !has_grouping && (self.is_ident("by") || self.is_ident("without")) {
            without = self.is_ident("without");
            self.bump();
            grouping = self.grouping_labels()?;
            has_grouping = true;
            end = self.prev_end();
        }
        let span = t.span.start..end;
        if op == AggOp::LimitRatio {
            return Err(QueryError::unsupported(span, "the experimental limit_ratio aggregation"));
        }
        if args.is_empty() {
            return Err(QueryError::parse(span, "no arguments for aggregate expression provided"));
        }
        let want = if op.has_param() { 2 } else { 1 };
        if args.len() != want {
            return Err(QueryError::parse(span, format!("wrong number of arguments for aggregate expression provided, expected {want}, got {}", args.len())));
        }
        let expr = args.pop().unwrap_or(Expr { kind: ExprKind::Number(0.0), span: span.clone() });
        let param = args.pop();
        Ok(Expr { kind: ExprKind::Aggregate(Box::new(Aggregate { op, expr, param, grouping, without, has_grouping })), span })
    }
}

/// Parses a number literal as Prometheus does (Go's `ParseInt` with base
/// prefix detection, then `ParseFloat`).
pub fn parse_number(s: &str) -> Result<f64, String> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" => return Ok(f64::INFINITY),
        "-inf" => return Ok(f64::NEG_INFINITY),
        "nan" => return Ok(f64::NAN),
        _ => {}
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(h) = clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).map(|v| v as f64).or_else(|_| u64::from_str_radix(h, 16).map(|v| v as f64)).map_err(|e| format!("error parsing number: {e}"));
    }
    if clean.len() > 1 && clean.starts_with('0') && clean.bytes().all(|b| b.is_ascii_digit())
        && let Ok(v) = i64::from_str_radix(&clean[1..], 8) {
            return Ok(v as f64);
        }
    crate::float::parse(&clean).map_err(|e| format!("error parsing number {s:?}: {e}"))
}

/// Parses a Prometheus duration (`1y2w3d4h5m6s7ms`, units in this order,
/// each at most once) into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty duration string".into());
    }
    const UNITS: [(&str, i64); 7] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)];
    let b = s.as_bytes();
    let mut i = 0;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    while i < b.len() {
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if ds == i {
            return Err(format!("not a valid duration string: {s:?}"));
        }
        let n: i64 = s[ds..i].parse().map_err(|_| format!("not a valid duration string: {s:?}"))?;
        let us = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[us..i];
        let Some(idx) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!("not a valid duration string: {s:?}"));
        };
        if idx < next_unit {
            return Err(format!("not a valid duration string: {s:?}"));
        }
        next_unit = idx + 1;
        total = n.checked_mul(UNITS[idx].1).and_then(|v| total.checked_add(v)).ok_or_else(|| "duration out of range".to_string())?;
    }
    if total > i64::MAX / 1_000_000 {
        return Err("duration out of range".into());
    }
    Ok(total)
}

/// Type checks a parsed tree as Prometheus's `checkAST` does.
fn check(e: &Expr, input: &str) -> Result<(), QueryError> {
    let _ = input;
    match &e.kind {
        ExprKind::Number(_) | ExprKind::String(_) | ExprKind::Vector(_) | ExprKind::Matrix(_) => Ok(()),
        ExprKind::Paren(inner) => check(inner, input),
        ExprKind::Neg(inner) => {
            check(inner, input)?;
            let t = inner.value_type();
            if t != ValueType::Scalar && t != ValueType::Vector {
                return Err(QueryError::parse(e.span.clone(), format!("unary expression only allowed on expressions of type scalar or instant vector, got {:?}", t.documented())));
            }
            Ok(())
        }
        ExprKind::Subquery(s) => {
            check(&s.expr, input)?;
            if s.expr.value_type() != ValueType::Vector {
                return Err(QueryError::parse(e.span.clone(), format!("subquery is only allowed on instant vector, got {} instead", s.expr.value_type().documented())));
            }
            Ok(())
        }
        ExprKind::Aggregate(a) => {
            check(&a.expr, input)?;
            if a.expr.value_type() != ValueType::Vector {
                return Err(QueryError::parse(a.expr.span.clone(), format!("expected type instant vector in aggregation expression, got {}", a.expr.value_type().documented())));
            }
            if let Some(p) = &a.param {
                check(p, input)?;
                let want = if a.op == AggOp::CountValues { ValueType::String } else { ValueType::Scalar };
                if p.value_type() != want {
                    return Err(QueryError::parse(p.span.clone(), format!("expected type {} in aggregation parameter, got {}", want.documented(), p.value_type().documented())));
                }
            }
            Ok(())
        }
        ExprKind::Call(c) => {
            let f = c.func;
            let nargs = f.args.len();
            if f.variadic == 0 {
                if nargs != c.args.len() {
                    return Err(QueryError::parse(e.span.clone(), format!("expected {nargs} argument(s) in call to {:?}, got {}", f.name, c.args.len())));
                }
            } else {
                let na = nargs - 1;
                if na > c.args.len() {
                    return Err(QueryError::parse(e.span.clone(), format!("expected at least {na} argument(s) in call to {:?}, got {}", f.name, c.args.len())));
                }
                let max = na as i64 + f.variadic as i64;
                if f.variadic > 0 && max < c.args.len() as i64 {
                    return Err(QueryError::parse(e.span.clone(), format!("expected at most {max} argument(s) in call to {:?}, got {}", f.name, c.args.len())));
                }
            }
            for (i, a) in c.args.iter().enumerate() {
                let i = if i >= nargs {
                    if f.variadic == 0 {
                        break;
                    }
                    nargs - 1
                } else {
                    i
                };
                check(a, input)?;
                let t = a.value_type();
                if t != f.args[i] {
                    return Err(QueryError::parse(a.span.clone(), format!("expected type {} in call to function {:?}, got {}", f.args[i].documented(), f.name, t.documented())));
                }
            }
            Ok(())
        }
        ExprKind::Binary(b) => {
            check(&b.lhs, input)?;
            check(&b.rhs, input)?;
            let (lt, rt) = (b.lhs.value_type(), b.rhs.value_type());
            let op_span = b.lhs.span.end..b.rhs.span.start;
            if b.return_bool && !b.op.is_comparison() {
                return Err(QueryError::parse(op_span, "bool modifier can only be used on comparison operators"));
            }
            if b.op.is_comparison() && !b.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar {
                return Err(QueryError::parse(op_span, "comparisons between scalars must use BOOL modifier"));
            }
            if let Some(m) = &b.matching
                && m.on {
                    for l in &m.labels {
                        if m.include.contains(l) {
                            return Err(QueryError::parse(op_span, format!("label {l:?} must not occur in ON and GROUP clause at once")));
                        }
                    }
                }
            if lt != ValueType::Scalar && lt != ValueType::Vector {
                return Err(QueryError::parse(b.lhs.span.clone(), "binary expression must contain only scalar and instant vector types"));
            }
            if rt != ValueType::Scalar && rt != ValueType::Vector {
                return Err(QueryError::parse(b.rhs.span.clone(), "binary expression must contain only scalar and instant vector types"));
            }
            if let Some(m) = &b.matching {
                let fills = m.fill_lhs.is_some() || m.fill_rhs.is_some();
                if lt != ValueType::Vector || rt != ValueType::Vector {
                    if !m.labels.is_empty() || m.explicit {
                        return Err(QueryError::parse(e.span.clone(), "vector matching only allowed between instant vectors"));
                    }
                    if fills {
                        return Err(QueryError::parse(e.span.clone(), "filling in missing series only allowed between instant vectors"));
                    }
                } else if b.op.is_set() {
                    if fills {
                        return Err(QueryError::parse(e.span.clone(), "filling in missing series not allowed for set operators"));
                    }
                    if matches!(m.card, Card::OneToMany | Card::ManyToOne) {
                        return Err(QueryError::parse(e.span.clone(), format!("no grouping allowed for {:?} operation", b.op.as_str())));
                    }
                }
            }
            if (lt == ValueType::Scalar || rt == ValueType::Scalar) && b.op.is_set() {
                return Err(QueryError::parse(e.span.clone(), format!("set operator {:?} not allowed in binary scalar expression", b.op.as_str())));
            }
            Ok(())
        }
    }
}

/// Removes vector matching from binary expressions that do not join two
/// vectors (the parser records it unconditionally).
pub(crate) fn normalize(e: &mut Expr) {
    match &mut e.kind {
        ExprKind::Binary(b) => {
            normalize(&mut b.lhs);
            normalize(&mut b.rhs);
            if b.lhs.value_type() != ValueType::Vector || b.rhs.value_type() != ValueType::Vector {
                b.matching = None;
            }
        }
        ExprKind::Paren(x) | ExprKind::Neg(x) => normalize(x),
        ExprKind::Subquery(s) => normalize(&mut s.expr),
        ExprKind::Aggregate(a) => {
            normalize(&mut a.expr);
            if let Some(p) = &mut a.param {
                normalize(p);
            }
        }
        ExprKind::Call(c) => c.args.iter_mut().for_each(normalize),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sx(q: &str) -> String {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).sexpr()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(sx("1 + 2 * 3"), "(+ 1 (* 2 3))");
        assert_eq!(sx("2 ^ 3 ^ 2"), "(^ 2 (^ 3 2))");
        assert_eq!(sx("-2 ^ 2"), "(- (^ 2 2))");
        assert_eq!(sx("-a * b"), "(* (- a) b)");
        assert_eq!(sx("a or b and c unless d"), "(or a (unless (and b c) d))");
        assert_eq!(sx("a > bool 1 == 0"), "(== (> bool a 1) 0)");
        assert_eq!(sx("a atan2 b * c"), "(* (atan2 a b) c)");
        assert_eq!(sx("1 - -1"), "(- 1 -1)");
    }

    #[test]
    fn selectors_and_modifiers() {
        assert_eq!(sx("rate(x{a=\"b\"}[5m] offset 1m)"), "(rate x{a=\"b\"}[5m] offset 1m)");
        assert_eq!(sx("x @ 100 offset 1h30m"), "x offset 1h30m @ 100.000");
        assert_eq!(sx("sum by (job) (rate(x[5m]))"), "(sum by (job) (rate x[5m]))");
        assert_eq!(sx("sum(x) without (a, b,)"), "(sum without (a, b) x)");
        assert_eq!(sx("topk(3, x)"), "(topk 3 x)");
        assert!(sx("max_over_time(rate(x[1m])[5m:30s])").starts_with("(max_over_time rate(x[1m])[5m:30s]"));
        assert_eq!(sx("x[300]"), "x[5m]");
        assert_eq!(sx("0x1F + 1e3 + Inf"), "(+ (+ 31 1000) +Inf)");
    }

    #[test]
    fn errors_have_positions_and_sentences() {
        let e = parse("sum(x{a=\"b\",}})").unwrap_err();
        assert!(e.message.contains("unexpected"), "{e}");
        let e = parse("up{job=\"a\" foo}").unwrap_err();
        assert_eq!(e.span, 11..14);
        assert_eq!(e.message, "unexpected identifier \"foo\" at 12: expected \",\" or \"}\" after a label matcher");
        let e = parse("rate(x)").unwrap_err();
        assert_eq!(e.message, "expected type range vector in call to function \"rate\", got instant vector");
        assert_eq!(e.span, 5..6);
        assert!(parse("{}").is_err());
        assert!(parse("1 > 2").is_err());
        assert!(parse("foo offset 1m offset 2m").is_err());
        assert!(parse("(foo)[5m]").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn unsupported_features_are_named() {
        for q in ["info(x)", "x[5m+1m]", "limit_ratio(0.5, x)", "histogram_count(x)", "x[5m] anchored"] {
            let e = parse(q).unwrap_err();
            assert!(e.is_unsupported(), "{q}: {e:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("10s53ms").unwrap(), 10_053);
        assert!(parse_duration("30m1h").is_err());
        assert!(parse_duration("1.5h").is_err());
    }
}
