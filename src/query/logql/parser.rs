//! The LogQL parser: recursive descent for selectors and pipelines, Pratt
//! (binding powers as in Prometheus) for binary operations between metric
//! queries. Checks what Loki checks at parse time (an empty-compatible
//! selector, `unwrap` with the functions that need it, parameters) and
//! says what to write instead.

use super::ast::*;
use super::lexer::{parse_bytes, parse_go_duration, Tok, LOGQL};
pub(crate) use crate::query::lex::compile_regex;
use crate::query::diag::QueryError;
use crate::query::lex::{parser_cursor, Cursor};
use std::ops::Range;

pub fn parse(src: &str) -> Result<Expr, QueryError> {
    let mut p = Parser { c: Cursor::new(src, &LOGQL)? };
    if p.peek() == Tok::Eof {
        return Err(QueryError::parse(0..src.len(), "the query is empty; start with a stream selector such as {service=\"frontend\"}"));
    }
    let e = p.expr(0)?;
    if p.peek() != Tok::Eof {
        let t = p.cur().clone();
        let hint = if matches!(e, Expr::Log(_)) && t.tok == Tok::LBracket {
            " (a range like [5m] belongs inside a function: count_over_time({...}[5m]))"
        } else {
            ""
        };
        return Err(QueryError::parse(t.span.clone(), format!("unexpected {} after a complete query{hint}", p.describe(&t))));
    }
    Ok(e)
}

struct Parser<'a> {
    c: Cursor<'a>,
}
parser_cursor!(Parser);

impl<'a> Parser<'a> {
    fn string(&mut self) -> Result<(String, Range<usize>), QueryError> {
        self.string_lit("a string in double quotes or backticks")
    }

    // ------------------------------------------------------------ expressions

    fn binop(&self) -> Option<(BinOp, u8, bool)> {
        // (op, left binding power, right associative)
        Some(match self.peek() {
            Tok::Ident => match self.cur_text() {
                "or" => (BinOp::Or, 1, false),
                "and" => (BinOp::And, 2, false),
                "unless" => (BinOp::Unless, 2, false),
                _ => return None,
            },
            Tok::EqEq => (BinOp::Eq, 3, false),
            Tok::Neq => (BinOp::Neq, 3, false),
            Tok::Gt => (BinOp::Gt, 3, false),
            Tok::Gte => (BinOp::Gte, 3, false),
            Tok::Lt => (BinOp::Lt, 3, false),
            Tok::Lte => (BinOp::Lte, 3, false),
            Tok::Add => (BinOp::Add, 4, false),
            Tok::Sub => (BinOp::Sub, 4, false),
            Tok::Mul => (BinOp::Mul, 5, false),
            Tok::Div => (BinOp::Div, 5, false),
            Tok::Mod => (BinOp::Mod, 5, false),
            Tok::Pow => (BinOp::Pow, 6, true),
            _ => return None,
        })
    }

    fn expr(&mut self, min_bp: u8) -> Result<Expr, QueryError> {
        let start = self.cur().span.start;
        self.enter(start..start + 1)?;
        let mut lhs = self.unary()?;
        while let Some((op, bp, right)) = self.binop() {
            if bp < min_bp {
                break;
            }
            let opt = self.bump();
            let bool_mod = if self.is_kw("bool") {
                if !op.is_comparison() {
                    return Err(QueryError::parse(self.cur().span.clone(), "bool only goes after a comparison operator (==, !=, >, >=, <, <=)"));
                }
                self.bump();
                true
            } else {
                false
            };
            let rhs = self.expr(if right { bp } else { bp + 1 })?;
            let span = start..self.toks[self.pos.saturating_sub(1)].span.end;
            for (side, e) in [("left", &lhs), ("right", &rhs)] {
                if let Expr::Log(l) = e {
                    return Err(QueryError::parse(
                        l.span.clone(),
                        format!("the {side} side of {} is a log query; only metric queries (like count_over_time({{...}}[5m])) can be combined", op.as_str()),
                    ));
                }
            }
            if op.is_set() && (matches!(lhs, Expr::Number(_)) || matches!(rhs, Expr::Number(_))) {
                return Err(QueryError::parse(opt.span, format!("{} works between two vectors, not with a number", op.as_str())));
            }
            lhs = fold(op, bool_mod, lhs, rhs, span);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        match self.peek() {
            Tok::Sub | Tok::Add => {
                let t = self.bump();
                let e = self.expr(6)?;
                if t.tok == Tok::Add {
                    return Ok(e);
                }
                match e {
                    Expr::Number(n) => Ok(Expr::Number(-n)),
                    Expr::Log(l) => Err(QueryError::parse(l.span, "a log query cannot be negated")),
                    e => {
                        let span = t.span.start..t.span.end;
                        Ok(Expr::Binary { op: BinOp::Mul, bool_mod: false, lhs: Box::new(e), rhs: Box::new(Expr::Number(-1.0)), span })
                    }
                }
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let t = self.cur().clone();
        match t.tok {
            Tok::Number => {
                self.bump();
                let v: f64 = crate::float::parse(self.text(&t)).map_err(|_| QueryError::parse(t.span.clone(), "this number cannot be read"))?;
                Ok(Expr::Number(v))
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr(0)?;
                self.expect(Tok::RParen, "\")\" to close the parenthesis")?;
                Ok(e)
            }
            Tok::LBrace => {
                let l = self.log_expr()?;
                if self.peek() == Tok::LBracket {
                    let r = self.cur().span.clone();
                    return Err(QueryError::parse(r, "a log range like {...}[5m] needs a function around it, such as count_over_time({...}[5m]) or rate({...}[5m])"));
                }
                Ok(Expr::Log(l))
            }
            Tok::Ident => {
                let name = self.text(&t);
                if let Some(op) = RangeOp::from_name(name) {
                    return self.range_agg(op);
                }
                if let Some(op) = VecOp::from_name(name) {
                    return self.vector_agg(op);
                }
                let hint = match name {
                    "increase" | "irate" | "delta" | "deriv" | "histogram_quantile" | "label_replace" | "vector" | "absent" => {
                        format!("{name} is not a LogQL function in this engine")
                    }
                    "json" | "logfmt" | "line_format" | "unwrap" => format!("{name} is a pipeline stage; write it after a selector and a pipe: {{service=\"frontend\"}} | {name}"),
                    _ => format!("unknown function {name:?}; LogQL queries start with a stream selector {{...}} or a function such as count_over_time, rate or sum"),
                };
                Err(QueryError::parse(t.span, hint))
            }
            Tok::Str => Err(QueryError::parse(t.span, "a query cannot start with a string; start with a stream selector such as {service=\"frontend\"}")),
            _ => Err(self.err_here("a stream selector {...}, a function or a number")),
        }
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, QueryError> {
        let without = if self.is_kw("by") {
            false
        } else if self.is_kw("without") {
            true
        } else {
            return Ok(None);
        };
        self.bump();
        self.expect(Tok::LParen, "\"(\" and a list of labels after by/without")?;
        let mut labels = Vec::new();
        while self.peek() != Tok::RParen {
            let t = self.expect(Tok::Ident, "a label name")?;
            labels.push(self.text(&t).to_string());
            if self.peek() == Tok::Comma {
                self.bump();
            } else if self.peek() != Tok::RParen {
                return Err(self.err_here("\",\" or \")\" in the label list"));
            }
        }
        self.bump();
        Ok(Some(Grouping { without, labels }))
    }

    fn number_param(&mut self, what: &str) -> Result<f64, QueryError> {
        let neg = if self.peek() == Tok::Sub {
            self.bump();
            true
        } else {
            false
        };
        let t = self.expect(Tok::Number, what)?;
        let v: f64 = crate::float::parse(self.text(&t)).map_err(|_| QueryError::parse(t.span.clone(), "this number cannot be read"))?;
        self.expect(Tok::Comma, "\",\" after the parameter")?;
        Ok(if neg { -v } else { v })
    }

    fn range_agg(&mut self, op: RangeOp) -> Result<Expr, QueryError> {
        let name_t = self.bump();
        let start = name_t.span.start;
        self.expect(Tok::LParen, &format!("\"(\" after {}", op.as_str()))?;
        let param = if op == RangeOp::QuantileOverTime {
            let v = self.number_param("the quantile, a number between 0 and 1, as the first argument: quantile_over_time(0.99, {...} | unwrap x [5m])")?;
            Some(v)
        } else {
            None
        };
        let range = self.log_range()?;
        let close = self.expect(Tok::RParen, &format!("\")\" to close {}(", op.as_str()))?;
        let grouping = self.grouping()?;
        let span = start..close.span.end;
        match (op.needs_unwrap(), &range.unwrap) {
            (Some(true), None) => {
                return Err(QueryError::parse(
                    span,
                    format!("{} needs numbers: extract one with | unwrap, e.g. {}({{...}} | json | unwrap duration_ms [5m])", op.as_str(), op.as_str()),
                ))
            }
            (Some(false), Some(u)) => {
                return Err(QueryError::parse(u.span.clone(), format!("{} counts lines or bytes and takes no | unwrap; use sum_over_time or avg_over_time for values", op.as_str())))
            }
            _ => {}
        }
        if grouping.is_some() && range.unwrap.is_none() {
            return Err(QueryError::parse(span, format!("grouping belongs outside {}: write sum by (label) ({}(...))", op.as_str(), op.as_str())));
        }
        Ok(Expr::Range { op, param, range: Box::new(range), grouping, span })
    }

    fn log_range(&mut self) -> Result<LogRange, QueryError> {
        let mut log = if self.peek() == Tok::LParen {
            self.bump();
            let l = self.log_expr()?;
            self.expect(Tok::RParen, "\")\" after the log query")?;
            l
        } else if self.peek() == Tok::LBrace {
            self.log_expr_selector_only()?
        } else {
            return Err(self.err_here("a log query with a range, such as {service=\"frontend\"}[5m]"));
        };
        let mut range = None;
        let mut offset_us = 0;
        if self.peek() == Tok::LBracket {
            range = Some(self.range_literal()?);
            offset_us = self.offset()?;
        }
        let unwrap = self.pipeline(&mut log, true)?;
        if range.is_none() {
            if self.peek() != Tok::LBracket {
                return Err(self.err_here("a range such as [5m] after the log query"));
            }
            range = Some(self.range_literal()?);
            offset_us = self.offset()?;
        }
        log.span.end = self.toks[self.pos.saturating_sub(1)].span.end;
        Ok(LogRange { log, range_us: range.unwrap_or(0), offset_us, unwrap })
    }

    fn range_literal(&mut self) -> Result<i64, QueryError> {
        self.bump();
        let t = self.cur().clone();
        if t.tok != Tok::Duration {
            return Err(self.err_here("a duration such as 5m inside [...]"));
        }
        self.bump();
        let secs = parse_go_duration(self.text(&t)).unwrap_or(0.0);
        if secs <= 0.0 {
            return Err(QueryError::parse(t.span, "the range must be longer than zero"));
        }
        if secs > 30.0 * 86400.0 {
            return Err(QueryError::parse(t.span, "the range is longer than 30 days (Loki's max_query_length)"));
        }
        self.expect(Tok::RBracket, "\"]\" to close the range")?;
        Ok((secs * 1e6).round() as i64)
    }

    fn offset(&mut self) -> Result<i64, QueryError> {
        if !self.is_kw("offset") {
            return Ok(0);
        }
        self.bump();
        let t = self.expect(Tok::Duration, "a duration after offset")?;
        Ok((parse_go_duration(self.text(&t)).unwrap_or(0.0) * 1e6).round() as i64)
    }

    fn vector_agg(&mut self, op: VecOp) -> Result<Expr, QueryError> {
        let name_t = self.bump();
        let start = name_t.span.start;
        let mut grouping = self.grouping()?;
        self.expect(Tok::LParen, &format!("\"(\" after {}", op.as_str()))?;
        let param = if matches!(op, VecOp::Topk | VecOp::Bottomk) {
            let t = self.cur().span.clone();
            let k = self.number_param(&format!("the number of series to keep, as in {}(5, ...)", op.as_str()))?;
            if k < 1.0 || k.fract() != 0.0 || k > 1e6 {
                return Err(QueryError::parse(t, format!("{} needs a whole number of series of at least 1, found {k}", op.as_str())));
            }
            Some(k)
        } else {
            None
        };
        let inner = self.expr(0)?;
        let close = self.expect(Tok::RParen, &format!("\")\" to close {}(", op.as_str()))?;
        if let Some(g) = self.grouping()? {
            if grouping.is_some() {
                return Err(QueryError::parse(close.span.end..self.cur().span.start, "by/without is given twice"));
            }
            grouping = Some(g);
        }
        let span = start..self.toks[self.pos.saturating_sub(1)].span.end;
        match &inner {
            Expr::Log(l) => {
                return Err(QueryError::parse(
                    l.span.clone(),
                    format!("{} needs a metric query inside, such as {}(count_over_time({}[5m]))", op.as_str(), op.as_str(), &self.src[l.span.clone()]),
                ))
            }
            Expr::Number(_) => return Err(QueryError::parse(span, format!("{} needs a metric query inside, not a number", op.as_str()))),
            _ => {}
        }
        if matches!(op, VecOp::Sort | VecOp::SortDesc) && grouping.is_some() {
            return Err(QueryError::parse(span, format!("{} takes no by/without", op.as_str())));
        }
        Ok(Expr::Vector { op, param, grouping, expr: Box::new(inner), span })
    }

    // ------------------------------------------------------------ log queries

    fn log_expr(&mut self) -> Result<LogExpr, QueryError> {
        let mut l = self.log_expr_selector_only()?;
        if let Some(u) = self.pipeline(&mut l, false)? {
            return Err(QueryError::parse(u.span, "unwrap only makes sense inside a range function such as sum_over_time({...} | unwrap x [5m])"));
        }
        l.span.end = self.toks[self.pos.saturating_sub(1)].span.end;
        Ok(l)
    }

    fn log_expr_selector_only(&mut self) -> Result<LogExpr, QueryError> {
        let open = self.expect(Tok::LBrace, "a stream selector {...}")?;
        let mut matchers = Vec::new();
        while self.peek() != Tok::RBrace {
            let name_t = self.cur().clone();
            if name_t.tok != Tok::Ident {
                return Err(self.err_here("a label name such as service, level, pod or node"));
            }
            self.bump();
            let op_t = self.bump();
            let op = match op_t.tok {
                Tok::Eq => MatchOp::Eq,
                Tok::Neq => MatchOp::Neq,
                Tok::EqRegex => MatchOp::Re,
                Tok::NeqRegex => MatchOp::NotRe,
                Tok::EqEq => return Err(QueryError::parse(op_t.span, "label matchers use a single =")),
                _ => return Err(QueryError::parse(op_t.span.clone(), format!("expected =, !=, =~ or !~ after the label name, found {}", self.describe(&op_t)))),
            };
            let (value, vspan) = self.string()?;
            let re = match op {
                MatchOp::Re | MatchOp::NotRe => Some(compile_regex(&value, true, vspan.clone())?),
                _ => None,
            };
            matchers.push(Matcher { name: self.text(&name_t).to_string(), op, value, re, span: name_t.span.start..vspan.end });
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {}
                _ => return Err(self.err_here("\",\" or \"}\" after the label matcher")),
            }
        }
        let close = self.bump();
        let span = open.span.start..close.span.end;
        if !matchers.iter().any(|m| !m.matches("")) {
            return Err(QueryError::parse(
                span,
                "queries need at least one matcher that does not match the empty value, such as {service=\"frontend\"} or {service=~\".+\"} (not {service=~\".*\"} or {})",
            ));
        }
        Ok(LogExpr { matchers, stages: Vec::new(), span })
    }

    /// Parses stages into `log`; returns the unwrap if one is allowed and found.
    fn pipeline(&mut self, log: &mut LogExpr, allow_unwrap: bool) -> Result<Option<Unwrap>, QueryError> {
        let mut unwrap: Option<Unwrap> = None;
        loop {
            let t = self.cur().clone();
            let stage = match t.tok {
                Tok::PipeExact | Tok::Neq | Tok::PipeMatch | Tok::NeqRegex => {
                    self.bump();
                    let op = match t.tok {
                        Tok::PipeExact => MatchOp::Eq,
                        Tok::Neq => MatchOp::Neq,
                        Tok::PipeMatch => MatchOp::Re,
                        _ => MatchOp::NotRe,
                    };
                    let mut values = Vec::new();
                    let mut res = Vec::new();
                    let mut end;
                    loop {
                        if self.peek() != Tok::Str {
                            return Err(self.err_here(&format!("a string after {}, such as {} \"timeout\"", t.tok.describe(), self.text(&t))));
                        }
                        let (v, vs) = self.string()?;
                        end = vs.end;
                        if matches!(op, MatchOp::Re | MatchOp::NotRe) {
                            res.push(compile_regex(&v, false, vs)?);
                        }
                        values.push(v);
                        if self.is_kw("or") && self.peek_at(1) == Tok::Str {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                    Stage::LineFilter(LineFilter { op, values, res, span: t.span.start..end })
                }
                Tok::Pipe => {
                    self.bump();
                    match self.stage(t.span.start, allow_unwrap, &mut unwrap)? {
                        Some(s) => s,
                        None => continue,
                    }
                }
                _ => break,
            };
            if let Some(u) = &mut unwrap {
                match stage {
                    Stage::LabelFilter(f) => u.post.push(f),
                    Stage::Json { span, .. } | Stage::Logfmt { span } | Stage::LineFormat { span, .. } | Stage::LabelFormat { span, .. } | Stage::Drop { span, .. } | Stage::Keep { span, .. } => {
                        return Err(QueryError::parse(span, "only label filters (like | __error__=\"\") can follow unwrap"))
                    }
                    Stage::LineFilter(l) => return Err(QueryError::parse(l.span, "line filters must come before unwrap")),
                }
            } else {
                log.stages.push(stage);
            }
        }
        Ok(unwrap)
    }

    /// One stage after `|`; `None` when it was the unwrap (stored in `unwrap`).
    fn stage(&mut self, pipe_start: usize, allow_unwrap: bool, unwrap: &mut Option<Unwrap>) -> Result<Option<Stage>, QueryError> {
        let t = self.cur().clone();
        if t.tok == Tok::LParen {
            return Ok(Some(Stage::LabelFilter(self.label_filter()?)));
        }
        if t.tok != Tok::Ident {
            return Err(self.err_here("a parser (json, logfmt), a label filter, line_format or unwrap after |"));
        }
        let name = self.text(&t);
        // A name followed by a comparison is a label filter, even "json".
        if matches!(self.peek_at(1), Tok::Eq | Tok::EqEq | Tok::Neq | Tok::EqRegex | Tok::NeqRegex | Tok::Gt | Tok::Gte | Tok::Lt | Tok::Lte) {
            return Ok(Some(Stage::LabelFilter(self.label_filter()?)));
        }
        self.bump();
        let span_to_here = |p: &Self| pipe_start..p.toks[p.pos.saturating_sub(1)].span.end;
        match name {
            "json" => {
                let mut params = Vec::new();
                while self.peek() == Tok::Ident && self.peek_at(1) == Tok::Eq {
                    let n = self.bump();
                    self.bump();
                    let (path, ps) = self.string()?;
                    let parts = parse_json_path(&path).ok_or_else(|| QueryError::parse(ps, format!("cannot read the JSON path {path:?}; use a.b.c or a[0]")))?;
                    params.push((self.text(&n).to_string(), parts));
                    if self.peek() == Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                Ok(Some(Stage::Json { params, span: span_to_here(self) }))
            }
            "logfmt" => Ok(Some(Stage::Logfmt { span: span_to_here(self) })),
            "line_format" => {
                let (s, ss) = self.string()?;
                let parts = parse_template(&s, ss.start + 1)?;
                Ok(Some(Stage::LineFormat { parts, span: pipe_start..ss.end }))
            }
            "label_format" => {
                let mut items = Vec::new();
                loop {
                    let d = self.expect(Tok::Ident, "a label name in label_format dst=src")?;
                    self.expect(Tok::Eq, "\"=\" in label_format dst=src")?;
                    let src = if self.peek() == Tok::Str {
                        let (s, ss) = self.string()?;
                        LabelFormatSrc::Template(parse_template(&s, ss.start + 1)?)
                    } else {
                        let s = self.expect(Tok::Ident, "a label name or a \"template\"")?;
                        LabelFormatSrc::Rename(self.text(&s).to_string())
                    };
                    items.push((self.text(&d).to_string(), src));
                    if self.peek() == Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                Ok(Some(Stage::LabelFormat { items, span: span_to_here(self) }))
            }
            "drop" | "keep" => {
                let mut names = Vec::new();
                loop {
                    let n = self.expect(Tok::Ident, &format!("a label name after {name}"))?;
                    names.push(self.text(&n).to_string());
                    if self.peek() == Tok::Eq {
                        return Err(QueryError::parse(self.cur().span.clone(), format!("{name} with a value matcher is not supported here; list label names only")));
                    }
                    if self.peek() == Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                let span = span_to_here(self);
                Ok(Some(if name == "drop" { Stage::Drop { names, span } } else { Stage::Keep { names, span } }))
            }
            "unwrap" => {
                if !allow_unwrap {
                    return Err(QueryError::parse(pipe_start..t.span.end, "unwrap only makes sense inside a range function such as sum_over_time({...} | unwrap x [5m])"));
                }
                if unwrap.is_some() {
                    return Err(QueryError::parse(pipe_start..t.span.end, "only one unwrap per query"));
                }
                let first = self.expect(Tok::Ident, "the label to unwrap, e.g. | unwrap duration_ms")?;
                let fname = self.text(&first);
                let (conv, label) = if self.peek() == Tok::LParen && matches!(fname, "duration" | "duration_seconds" | "bytes") {
                    self.bump();
                    let l = self.expect(Tok::Ident, "a label name")?;
                    self.expect(Tok::RParen, "\")\"")?;
                    (if fname == "bytes" { UnwrapConv::Bytes } else { UnwrapConv::Duration }, self.text(&l).to_string())
                } else {
                    (UnwrapConv::Number, fname.to_string())
                };
                *unwrap = Some(Unwrap { label, conv, post: Vec::new(), span: span_to_here(self) });
                Ok(None)
            }
            "pattern" | "regexp" | "unpack" | "decolorize" | "line_format_json" => Err(QueryError::unsupported(pipe_start..t.span.end, format!("the {name} stage"))),
            _ => Err(QueryError::parse(
                t.span,
                format!("unknown pipeline stage {name:?}; after | write json, logfmt, line_format \"...\", unwrap x, or a label filter such as status >= 500"),
            )),
        }
    }

    fn label_filter(&mut self) -> Result<LabelFilter, QueryError> {
        let mut lhs = self.label_filter_and()?;
        while self.is_kw("or") {
            self.bump();
            let rhs = self.label_filter_and()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_filter_and(&mut self) -> Result<LabelFilter, QueryError> {
        let mut lhs = self.label_filter_primary()?;
        loop {
            if self.is_kw("and") || self.peek() == Tok::Comma {
                self.bump();
            } else if !(self.peek() == Tok::Ident
                && !self.is_kw("or")
                && matches!(self.peek_at(1), Tok::Eq | Tok::EqEq | Tok::Neq | Tok::EqRegex | Tok::NeqRegex | Tok::Gt | Tok::Gte | Tok::Lt | Tok::Lte))
            {
                break;
            }
            let rhs = self.label_filter_primary()?;
            lhs = LabelFilter::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_filter_primary(&mut self) -> Result<LabelFilter, QueryError> {
        if self.peek() == Tok::LParen {
            let open = self.bump();
            self.enter(open.span.clone())?;
            let f = self.label_filter()?;
            self.depth -= 1;
            self.expect(Tok::RParen, "\")\" to close the label filter group")?;
            return Ok(f);
        }
        let name_t = self.expect(Tok::Ident, "a label name in the label filter")?;
        let name = self.text(&name_t).to_string();
        let op_t = self.bump();
        let neg = if self.peek() == Tok::Sub {
            self.bump();
            true
        } else {
            false
        };
        let v = self.cur().clone();
        let cmp = match op_t.tok {
            Tok::Eq | Tok::EqEq => Some(CmpOp::Eq),
            Tok::Neq => Some(CmpOp::Neq),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Gte => Some(CmpOp::Gte),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Lte => Some(CmpOp::Lte),
            Tok::EqRegex | Tok::NeqRegex => None,
            _ => return Err(QueryError::parse(op_t.span.clone(), format!("expected a comparison after {name:?}, found {}", self.describe(&op_t)))),
        };
        match v.tok {
            Tok::Str => {
                if neg {
                    return Err(QueryError::parse(v.span, "a string cannot be negative"));
                }
                let (value, vspan) = self.string()?;
                let op = match op_t.tok {
                    Tok::Eq | Tok::EqEq => MatchOp::Eq,
                    Tok::Neq => MatchOp::Neq,
                    Tok::EqRegex => MatchOp::Re,
                    Tok::NeqRegex => MatchOp::NotRe,
                    _ => {
                        return Err(QueryError::parse(
                            op_t.span.start..vspan.end,
                            format!("{} compares numbers, durations or sizes; remove the quotes (| {name} {} 500) or use =, !=, =~, !~ for text", self.text(&op_t), self.text(&op_t)),
                        ))
                    }
                };
                let re = match op {
                    MatchOp::Re | MatchOp::NotRe => Some(compile_regex(&value, true, vspan.clone())?),
                    _ => None,
                };
                Ok(LabelFilter::Str(Matcher { name, op, value, re, span: name_t.span.start..vspan.end }))
            }
            Tok::Number | Tok::Duration | Tok::Bytes => {
                self.bump();
                let Some(op) = cmp else {
                    return Err(QueryError::parse(op_t.span.start..v.span.end, format!("{} needs a regex in quotes", self.text(&op_t))));
                };
                let text = self.text(&v);
                let (value, kind) = match v.tok {
                    Tok::Number => (crate::float::parse(text).unwrap_or(f64::NAN), NumKind::Number),
                    Tok::Duration => (parse_go_duration(text).unwrap_or(f64::NAN), NumKind::Duration),
                    _ => (parse_bytes(text).unwrap_or(f64::NAN), NumKind::Bytes),
                };
                let value = if neg { -value } else { value };
                let text = if neg { format!("-{text}") } else { text.to_string() };
                Ok(LabelFilter::Num { name, op, value, kind, text, span: name_t.span.start..v.span.end })
            }
            _ => Err(self.err_here("a value: a \"string\", a number, a duration like 250ms or a size like 10KB")),
        }
    }
}

/// `a.b.c` or `a[0].b` → path parts (array indexes as digits).
fn parse_json_path(p: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for seg in p.split('.') {
        let mut s = seg;
        let name_end = s.find('[').unwrap_or(s.len());
        if name_end > 0 {
            out.push(s[..name_end].to_string());
        }
        s = &s[name_end..];
        while let Some(rest) = s.strip_prefix('[') {
            let close = rest.find(']')?;
            let inner = rest[..close].trim_matches('"');
            out.push(inner.to_string());
            s = &rest[close + 1..];
        }
        if !s.is_empty() {
            return None;
        }
    }
    if out.is_empty() || out.iter().any(|s| s.is_empty()) {
        return None;
    }
    Some(out)
}

/// Parses the Go template subset: text and `{{.label}}` / `{{__line__}}`,
/// with `{{-`/`-}}` trimming. `base` is the byte offset of the template's
/// text in the query (for error spans).
pub(crate) fn parse_template(s: &str, base: usize) -> Result<Vec<TemplatePart>, QueryError> {
    let mut parts = Vec::new();
    let mut rest = s;
    let mut off = 0;
    let mut text = String::new();
    while let Some(open) = rest.find("{{") {
        text.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(QueryError::parse(base + off + open..base + s.len(), "this {{ is never closed with }}"));
        };
        let mut action = &after[..close];
        let astart = base + off + open;
        let aspan = astart..astart + close + 4;
        if let Some(a) = action.strip_prefix('-') {
            action = a;
            let t = text.trim_end().len();
            text.truncate(t);
        }
        let trim_after = action.ends_with('-') && action.len() > 1 && action[..action.len() - 1].ends_with(' ');
        if trim_after {
            action = &action[..action.len() - 1];
        }
        let a = action.trim();
        if !text.is_empty() {
            parts.push(TemplatePart::Text(std::mem::take(&mut text)));
        }
        if a == "__line__" {
            parts.push(TemplatePart::Line);
        } else if let Some(name) = a.strip_prefix('.') {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || name.as_bytes()[0].is_ascii_digit() {
                return Err(QueryError::unsupported(aspan, format!("the template action {{{{{a}}}}} (only {{{{.label}}}} and {{{{__line__}}}} are supported)")));
            }
            parts.push(TemplatePart::Label(name.to_string()));
        } else {
            return Err(QueryError::unsupported(aspan, format!("the template action {{{{{a}}}}} (only {{{{.label}}}} and {{{{__line__}}}} are supported)")));
        }
        let consumed = open + 2 + close + 2;
        rest = &rest[consumed..];
        off += consumed;
        if trim_after {
            let t = rest.len() - rest.trim_start().len();
            rest = &rest[t..];
            off += t;
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok(parts)
}

/// Folds number-only arithmetic at parse time, as Loki does.
fn fold(op: BinOp, bool_mod: bool, lhs: Expr, rhs: Expr, span: Range<usize>) -> Expr {
    if let (Expr::Number(a), Expr::Number(b)) = (&lhs, &rhs) {
        if let Some(v) = super::eval::scalar_binop(op, *a, *b, true) {
            return Expr::Number(v);
        }
    }
    Expr::Binary { op, bool_mod, lhs: Box::new(lhs), rhs: Box::new(rhs), span }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::diag::render_error;

    fn sexp(q: &str) -> String {
        match parse(q) {
            Ok(e) => e.to_string(),
            Err(e) => panic!("{q}: {}", render_error(q, &e)),
        }
    }
    fn err(q: &str) -> QueryError {
        parse(q).expect_err(q)
    }

    #[test]
    fn parses_log_queries() {
        assert_eq!(sexp(r#"{service="cart", level=~"warn|error"}"#), r#"(log {service="cart", level=~"warn|error"})"#);
        assert_eq!(sexp(r#"{service="cart"} |= "GET" != "health" |~ `\d+ms` !~ "x" or "y""#), r#"(log {service="cart"} (|= "GET") (!= "health") (|~ "\\d+ms") (!~ "x" "y"))"#);
        assert_eq!(
            sexp(r#"{service="cart"} | json | status >= 500 and duration_ms > 250ms or method="GET", path=~"/p.*""#),
            r#"(log {service="cart"} (json) (filter (or (and status>=500 duration_ms>250ms) (and method="GET" path=~"/p.*"))))"#
        );
        assert_eq!(sexp(r#"{service="x"} | logfmt | line_format "{{.method}} {{ .path }}!""#), r#"(log {service="x"} (logfmt) (line_format "{{.method}} {{.path}}!"))"#);
        assert_eq!(sexp(r#"{service="x"} | json d="a.b", m="msg" | drop __error__"#), r#"(log {service="x"} (json d="a.b" m="msg") (drop __error__))"#);
        assert_eq!(sexp(r#"{service="x"} | size > 10KB | (a="1" or b!="2")"#), r#"(log {service="x"} (filter size>10KB) (filter (or a="1" b!="2")))"#);
    }

    #[test]
    fn parses_metric_queries() {
        assert_eq!(sexp(r#"count_over_time({service="cart"}[5m])"#), r#"(count_over_time 5m (log {service="cart"}))"#);
        assert_eq!(sexp(r#"sum by (level) (rate({service=~".+"} |= "x" [1m]))"#), r#"(sum (by level) (rate 1m (log {service=~".+"} (|= "x"))))"#);
        assert_eq!(sexp(r#"sum(count_over_time({a="b"}[1m] | json)) without (pod, node)"#), r#"(sum (without pod node) (count_over_time 1m (log {a="b"} (json))))"#);
        assert_eq!(
            sexp(r#"quantile_over_time(0.99, {service="frontend"} | json | unwrap duration_ms | __error__="" [5m]) by (service)"#),
            r#"(quantile_over_time 0.99 5m (log {service="frontend"} (json)) (unwrap duration_ms (filter __error__="")) (by service))"#
        );
        assert_eq!(sexp(r#"topk(3, sum by (pod) (bytes_rate({a="b"}[30s])))"#), r#"(topk 3 (sum (by pod) (bytes_rate 30s (log {a="b"}))))"#);
        assert_eq!(
            sexp(r#"sum(rate({a="b"} |= "error" [1m])) / sum(rate({a="b"}[1m])) * 100"#),
            r#"(* (/ (sum (rate 1m (log {a="b"} (|= "error")))) (sum (rate 1m (log {a="b"})))) 100)"#
        );
        assert_eq!(sexp(r#"avg_over_time({a="b"} | logfmt | unwrap duration(took) [1m] offset 5m)"#), r#"(avg_over_time 1m offset 5m (log {a="b"} (logfmt)) (unwrap duration took))"#);
        assert_eq!(sexp("1 + 2 * 3"), "7");
        assert_eq!(sexp(r#"count_over_time({a="b"}[1m]) > bool 10"#), r#"(> bool (count_over_time 1m (log {a="b"})) 10)"#);
    }

    #[test]
    fn errors_have_positions_and_sentences() {
        let e = err(r#"{service=~".*"}"#);
        assert_eq!(e.span, 0..15);
        assert!(e.message.contains("at least one matcher"), "{}", e.message);
        let q = r#"count_over_time({a="b"} | json | unwrap x [5m])"#;
        let e = err(q);
        assert!(e.message.contains("takes no | unwrap"));
        assert_eq!(&q[e.span.clone()], "| unwrap x");
        let q = r#"sum_over_time({a="b"}[5m])"#;
        assert!(err(q).message.contains("needs numbers"));
        let q = r#"{a="b"} | json | status > "500""#;
        let e = err(q);
        assert_eq!(&q[e.span.clone()], r#"> "500""#);
        let q = r#"{a="b"}[5m]"#;
        assert_eq!(err(q).span, 7..8);
        let q = r#"sum(rate({a="b"}[5m])"#;
        let e = err(q);
        assert_eq!(e.span, q.len()..q.len());
        assert_eq!(render_error(q, &e), format!("{q}\n{}^\n{}", " ".repeat(q.len()), e.message));
        let q = r#"{a="b"} |~ "(""#;
        assert!(err(q).message.starts_with("invalid regular expression"));
        let q = r#"{a="b"} | line_format "{{ .x | ToUpper }}""#;
        let e = err(q);
        assert!(e.is_unsupported());
        assert_eq!(&q[e.span.clone()], "{{ .x | ToUpper }}");
        assert!(err(r#"sum({a="b"})"#).message.contains("needs a metric query"));
        assert!(err("").message.contains("empty"));
        assert!(err(r#"{a="b"} | frobnicate"#).message.contains("unknown pipeline stage"));
        assert!(err(r#"{a="b"} | pattern "<x>""#).is_unsupported());
    }

    #[test]
    fn templates_trim_and_split() {
        assert_eq!(
            parse_template("a {{- .x -}} b{{__line__}}", 0).unwrap(),
            vec![TemplatePart::Text("a".into()), TemplatePart::Label("x".into()), TemplatePart::Text("b".into()), TemplatePart::Line]
        );
    }
}
