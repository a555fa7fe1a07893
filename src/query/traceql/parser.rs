//! The TraceQL parser: recursive descent for spanset expressions and
//! pipelines, Pratt for field expressions inside `{ }`. Checks intrinsic
//! types at parse time (`status = 200` is an error with a suggestion) and
//! compiles regexes fully anchored.

use super::ast::*;
use super::lexer::{Tok, TRACEQL};
use crate::query::diag::QueryError;
use crate::query::lex::{compile_regex, parse_go_duration, parser_cursor, unquote, Cursor};
use crate::telemetry::span::{SpanKind, StatusCode};
use std::ops::Range;

pub fn parse(src: &str) -> Result<Spanset, QueryError> {
    let mut p = Parser { c: Cursor::new(src, &TRACEQL)? };
    if p.peek() == Tok::Eof {
        return Err(QueryError::parse(0..src.len(), "the query is empty; start with a spanset filter such as { status = error }"));
    }
    let s = p.pipeline_expr()?;
    if p.peek() != Tok::Eof {
        let t = p.cur().clone();
        return Err(QueryError::parse(t.span.clone(), format!("unexpected {} after a complete query", p.describe(&t))));
    }
    Ok(s)
}

struct Parser<'a> {
    c: Cursor<'a>,
}
parser_cursor!(Parser);

impl<'a> Parser<'a> {
    // ------------------------------------------------------------ spansets

    /// A spanset expression followed by `| stage`s.
    fn pipeline_expr(&mut self) -> Result<Spanset, QueryError> {
        let input = self.spanset_or()?;
        let mut stages = Vec::new();
        while self.peek() == Tok::Pipe {
            self.bump();
            stages.push(self.stage()?);
        }
        Ok(if stages.is_empty() { input } else { Spanset::Pipeline { input: Box::new(input), stages } })
    }

    fn spanset_or(&mut self) -> Result<Spanset, QueryError> {
        let mut lhs = self.spanset_and()?;
        while self.peek() == Tok::OrOr {
            self.bump();
            let rhs = self.spanset_and()?;
            lhs = Spanset::Binary { op: SOp::Or, lhs: Box::new(lhs), rhs: Box::new(rhs) };
        }
        Ok(lhs)
    }

    fn spanset_and(&mut self) -> Result<Spanset, QueryError> {
        let mut lhs = self.spanset_struct()?;
        while self.peek() == Tok::AndAnd {
            self.bump();
            let rhs = self.spanset_struct()?;
            lhs = Spanset::Binary { op: SOp::And, lhs: Box::new(lhs), rhs: Box::new(rhs) };
        }
        Ok(lhs)
    }

    fn spanset_struct(&mut self) -> Result<Spanset, QueryError> {
        let mut lhs = self.spanset_primary()?;
        loop {
            let op = match self.peek() {
                Tok::Gt => SOp::Child,
                Tok::Desc => SOp::Descendant,
                Tok::Lt => SOp::Parent,
                Tok::Anc => SOp::Ancestor,
                Tok::Tilde => SOp::Sibling,
                _ => break,
            };
            self.bump();
            let rhs = self.spanset_primary()?;
            lhs = Spanset::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) };
        }
        Ok(lhs)
    }

    fn spanset_primary(&mut self) -> Result<Spanset, QueryError> {
        let t = self.cur().clone();
        match t.tok {
            Tok::LBrace => {
                self.bump();
                if self.peek() == Tok::RBrace {
                    let c = self.bump();
                    return Ok(Spanset::Filter { expr: None, span: t.span.start..c.span.end });
                }
                self.enter(t.span.clone())?;
                let e = self.field(0)?;
                self.depth -= 1;
                check_bool(&e, t.span.start..self.last_end())?;
                let c = self.expect(Tok::RBrace, "\"}\" to close the spanset filter (or && / || to add a condition)")?;
                Ok(Spanset::Filter { expr: Some(e), span: t.span.start..c.span.end })
            }
            Tok::LParen => {
                self.bump();
                self.enter(t.span.clone())?;
                let s = self.pipeline_expr()?;
                self.depth -= 1;
                self.expect(Tok::RParen, "\")\"")?;
                Ok(s)
            }
            _ => Err(self.err_here("a spanset filter in braces, such as { status = error }")),
        }
    }

    fn stage(&mut self) -> Result<Stage, QueryError> {
        let t = self.cur().clone();
        if t.tok == Tok::LBrace {
            let Spanset::Filter { expr, .. } = self.spanset_primary()? else { unreachable!("spanset_primary on a brace returns a filter") };
            return Ok(Stage::Filter(expr.unwrap_or(Field::Lit(V::Bool(true)))));
        }
        if t.tok != Tok::Ident {
            return Err(self.err_here("count(), avg(...), min(...), max(...), sum(...), select(...) or { ... } after |"));
        }
        let name = self.text(&t);
        let func = match name {
            "count" => AggFn::Count,
            "avg" => AggFn::Avg,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            "sum" => AggFn::Sum,
            "select" => {
                self.bump();
                self.expect(Tok::LParen, "\"(\" after select")?;
                let mut fields = Vec::new();
                loop {
                    let f = self.field_primary()?;
                    if !matches!(f, Field::Attr { .. } | Field::Intrinsic(_)) {
                        return Err(QueryError::parse(t.span.clone(), "select takes attributes such as span.http.route or resource.service.name"));
                    }
                    fields.push(f);
                    if self.peek() == Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                self.expect(Tok::RParen, "\")\" to close select(")?;
                return Ok(Stage::Select(fields));
            }
            "by" | "coalesce" | "quantile_over_time" | "rate" | "count_over_time" | "histogram_over_time" => {
                return Err(QueryError::unsupported(t.span, format!("| {name}(...)")));
            }
            _ => return Err(QueryError::parse(t.span, format!("unknown pipeline stage {name:?}; use count(), avg(duration), min, max, sum, select(...) or {{ ... }}"))),
        };
        self.bump();
        self.expect(Tok::LParen, &format!("\"(\" after {name}"))?;
        let field = if func == AggFn::Count {
            None
        } else {
            let f = self.field(0)?;
            Some(f)
        };
        let close = self.expect(Tok::RParen, &format!("\")\" to close {name}("))?;
        let op = match self.peek() {
            Tok::Eq => FOp::Eq,
            Tok::Neq => FOp::Neq,
            Tok::Gt => FOp::Gt,
            Tok::Gte => FOp::Gte,
            Tok::Lt => FOp::Lt,
            Tok::Lte => FOp::Lte,
            _ => {
                return Err(QueryError::parse(
                    t.span.start..close.span.end,
                    format!("{name}() in a pipeline needs a comparison, such as | {name}({}) > {}", if func == AggFn::Count { "" } else { "duration" }, if func == AggFn::Count { "3" } else { "200ms" }),
                ))
            }
        };
        self.bump();
        let neg = if self.peek() == Tok::Sub {
            self.bump();
            true
        } else {
            false
        };
        let vt = self.cur().clone();
        let mut value = match vt.tok {
            Tok::Number | Tok::Duration => self.literal()?,
            _ => return Err(self.err_here("a number or a duration to compare with")),
        };
        if neg {
            value = match value {
                V::Int(i) => V::Int(-i),
                V::Float(x) => V::Float(-x),
                V::Dur(d) => V::Dur(-d),
                v => v,
            };
        }
        let span = t.span.start..vt.span.end;
        let want = match (&field, func) {
            (None, _) => LitType::Number,
            (Some(Field::Intrinsic(i)), _) if i.kind() == LitType::Duration => LitType::Duration,
            (Some(Field::Intrinsic(i)), _) => {
                return Err(QueryError::parse(span, format!("{name}({}) needs a numeric field such as duration or span.http.response.status_code", i.as_str())))
            }
            _ => value.lit_type(),
        };
        if value.lit_type() != want {
            return Err(QueryError::parse(vt.span, format!("{name}(...) here is compared with {}, found {}", want.describe(), value.lit_type().describe())));
        }
        Ok(Stage::Aggregate { func, field, op, value, span })
    }

    // ------------------------------------------------------------ fields

    fn binop(&self) -> Option<(FOp, u8, bool)> {
        Some(match self.peek() {
            Tok::OrOr => (FOp::Or, 1, false),
            Tok::AndAnd => (FOp::And, 2, false),
            Tok::Eq => (FOp::Eq, 3, false),
            Tok::Neq => (FOp::Neq, 3, false),
            Tok::Gt => (FOp::Gt, 3, false),
            Tok::Gte => (FOp::Gte, 3, false),
            Tok::Lt => (FOp::Lt, 3, false),
            Tok::Lte => (FOp::Lte, 3, false),
            // Regex operators share the comparison level.
            Tok::EqRegex | Tok::NeqRegex => (FOp::Eq, 3, false),
            Tok::Add => (FOp::Add, 4, false),
            Tok::Sub => (FOp::Sub, 4, false),
            Tok::Mul => (FOp::Mul, 5, false),
            Tok::Div => (FOp::Div, 5, false),
            Tok::Mod => (FOp::Mod, 5, false),
            Tok::Pow => (FOp::Pow, 6, true),
            _ => return None,
        })
    }

    fn field(&mut self, min_bp: u8) -> Result<Field, QueryError> {
        let start = self.cur().span.start;
        self.enter(start..start + 1)?;
        let mut lhs = self.field_unary()?;
        while let Some((op, bp, right)) = self.binop() {
            if bp < min_bp {
                break;
            }
            let opt = self.bump();
            if matches!(opt.tok, Tok::EqRegex | Tok::NeqRegex) {
                let vt = self.cur().clone();
                if vt.tok != Tok::Str {
                    return Err(self.err_here("a regular expression in double quotes after =~ or !~"));
                }
                self.bump();
                let pattern = unquote(self.text(&vt), vt.span.start)?;
                check_string_operand(&lhs, opt.span.start..vt.span.end)?;
                let re = compile_regex(&pattern, true, vt.span.clone())?;
                lhs = Field::Regex { lhs: Box::new(lhs), re, pattern, negate: opt.tok == Tok::NeqRegex };
                continue;
            }
            let rhs_start = self.cur().span.start;
            let rhs = self.field(if right { bp } else { bp + 1 })?;
            let span = start..self.last_end();
            if op.is_comparison() {
                check_comparison(op, &lhs, &rhs, span.clone(), opt.span.clone())?;
            } else if matches!(op, FOp::And | FOp::Or) {
                check_bool(&lhs, start..opt.span.start)?;
                check_bool(&rhs, rhs_start..span.end)?;
            }
            lhs = Field::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn field_unary(&mut self) -> Result<Field, QueryError> {
        match self.peek() {
            Tok::Not => {
                let t = self.bump();
                let e = self.field(6)?;
                check_bool(&e, t.span.start..self.last_end())?;
                Ok(Field::Not(Box::new(e)))
            }
            Tok::Sub => {
                self.bump();
                let e = self.field(6)?;
                Ok(match e {
                    Field::Lit(V::Int(i)) => Field::Lit(V::Int(-i)),
                    Field::Lit(V::Float(x)) => Field::Lit(V::Float(-x)),
                    Field::Lit(V::Dur(d)) => Field::Lit(V::Dur(-d)),
                    e => Field::Neg(Box::new(e)),
                })
            }
            _ => self.field_primary(),
        }
    }

    fn literal(&mut self) -> Result<V, QueryError> {
        let t = self.bump();
        let text = self.text(&t);
        Ok(match t.tok {
            Tok::Number => {
                if let Ok(i) = text.parse::<i64>() {
                    V::Int(i)
                } else {
                    V::Float(crate::float::parse(text).map_err(|_| QueryError::parse(t.span.clone(), "this number cannot be read"))?)
                }
            }
            Tok::Duration => V::Dur((parse_go_duration(text).unwrap_or(0.0) * 1e9).round() as i64),
            Tok::Str => V::Str(unquote(text, t.span.start)?.into()),
            _ => return Err(QueryError::parse(t.span, "expected a value")),
        })
    }

    fn field_primary(&mut self) -> Result<Field, QueryError> {
        let t = self.cur().clone();
        match t.tok {
            Tok::Number | Tok::Duration | Tok::Str => Ok(Field::Lit(self.literal()?)),
            Tok::LParen => {
                self.bump();
                let e = self.field(0)?;
                self.expect(Tok::RParen, "\")\"")?;
                Ok(e)
            }
            Tok::DotIdent => {
                self.bump();
                let name = &self.text(&t)[1..];
                Ok(Field::Attr { scope: Scope::Any, name: name.trim_end_matches('.').to_string() })
            }
            Tok::Ident => {
                self.bump();
                let text = self.text(&t);
                if let Some(rest) = text.strip_prefix("span.") {
                    return attr(Scope::Span, rest, t.span);
                }
                if let Some(rest) = text.strip_prefix("resource.") {
                    return attr(Scope::Resource, rest, t.span);
                }
                if let Some(i) = Intrinsic::from_name(text) {
                    return Ok(Field::Intrinsic(i));
                }
                Ok(Field::Lit(match text {
                    "true" => V::Bool(true),
                    "false" => V::Bool(false),
                    "nil" => V::Nil,
                    "error" => V::Status(StatusCode::Error),
                    "ok" => V::Status(StatusCode::Ok),
                    "unset" => V::Status(StatusCode::Unset),
                    "server" => V::Kind(Some(SpanKind::Server)),
                    "client" => V::Kind(Some(SpanKind::Client)),
                    "producer" => V::Kind(Some(SpanKind::Producer)),
                    "consumer" => V::Kind(Some(SpanKind::Consumer)),
                    "internal" => V::Kind(Some(SpanKind::Internal)),
                    "unspecified" => V::Kind(None),
                    _ => {
                        let hint = if text.contains(':') || text.starts_with("event.") || text.starts_with("link.") || text.starts_with("instrumentation.") {
                            format!("{text} is not supported by this engine's TraceQL")
                        } else {
                            format!(
                                "unknown name {text:?}: intrinsics are name, status, kind, duration, statusMessage, rootName, rootServiceName, traceDuration; attributes need a scope such as span.{text}, resource.{text} or .{text}"
                            )
                        };
                        return Err(QueryError::parse(t.span, hint));
                    }
                }))
            }
            _ => Err(self.err_here("a condition such as status = error, duration > 200ms or span.http.route = \"/cart\"")),
        }
    }
}

fn attr(scope: Scope, name: &str, span: Range<usize>) -> Result<Field, QueryError> {
    if name.is_empty() || name.ends_with('.') {
        return Err(QueryError::parse(span, "an attribute name is missing after the scope"));
    }
    Ok(Field::Attr { scope, name: name.to_string() })
}

/// The static type of a field, when known.
fn static_type(f: &Field) -> Option<LitType> {
    match f {
        Field::Lit(v) => Some(v.lit_type()),
        Field::Intrinsic(i) => Some(i.kind()),
        Field::Binary { op, .. } if op.is_comparison() || matches!(op, FOp::And | FOp::Or) => Some(LitType::Bool),
        Field::Regex { .. } | Field::Not(_) => Some(LitType::Bool),
        Field::Binary { lhs, rhs, .. } => match (static_type(lhs), static_type(rhs)) {
            (Some(LitType::Duration), _) | (_, Some(LitType::Duration)) => Some(LitType::Duration),
            (Some(LitType::Number), Some(LitType::Number)) => Some(LitType::Number),
            _ => None,
        },
        Field::Neg(e) => static_type(e),
        Field::Attr { .. } => None,
    }
}

fn check_bool(f: &Field, span: Range<usize>) -> Result<(), QueryError> {
    match static_type(f) {
        Some(LitType::Bool) | None => Ok(()),
        Some(t) => Err(QueryError::parse(span, format!("a condition is needed here, found {}; compare it, e.g. status = error or duration > 200ms", t.describe()))),
    }
}

fn check_string_operand(f: &Field, span: Range<usize>) -> Result<(), QueryError> {
    match static_type(f) {
        Some(LitType::Str) | None => Ok(()),
        Some(t) => Err(QueryError::parse(span, format!("regular expressions match strings, not {}", t.describe()))),
    }
}

fn check_comparison(op: FOp, lhs: &Field, rhs: &Field, span: Range<usize>, op_span: Range<usize>) -> Result<(), QueryError> {
    let (a, b) = (static_type(lhs), static_type(rhs));
    let (Some(a), Some(b)) = (a, b) else { return Ok(()) };
    if a == LitType::Nil || b == LitType::Nil {
        if !matches!(op, FOp::Eq | FOp::Neq) {
            return Err(QueryError::parse(op_span, "nil is only compared with = or !="));
        }
        return Ok(());
    }
    if a != b {
        let (known, other) = if matches!(lhs, Field::Intrinsic(_)) { (lhs, b) } else { (rhs, a) };
        let what = match known {
            Field::Intrinsic(i) => format!("{} is compared with {}", i.as_str(), i.kind().describe()),
            _ => format!("both sides must have the same type ({} vs {})", a.describe(), b.describe()),
        };
        return Err(QueryError::parse(span, format!("{what}, found {}", other.describe())));
    }
    if matches!(a, LitType::Status | LitType::Kind | LitType::Bool) && !matches!(op, FOp::Eq | FOp::Neq) {
        return Err(QueryError::parse(op_span, format!("{} can only be compared with = or !=", a.describe())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::diag::render_error;

    fn sexp(q: &str) -> String {
        match parse(q) {
            Ok(e) => e.to_string(),
            Err(e) => panic!("{}", render_error(q, &e)),
        }
    }

    #[test]
    fn parses_filters_and_structure() {
        assert_eq!(sexp("{ status = error }"), "{(= status error)}");
        assert_eq!(sexp("{}"), "{}");
        assert_eq!(
            sexp(r#"{ resource.service.name = "frontend" && (duration > 250ms || span.http.response.status_code >= 500) }"#),
            r#"{(&& (= resource.service.name "frontend") (|| (> duration 250ms) (>= span.http.response.status_code 500)))}"#
        );
        assert_eq!(sexp(r#"{ .http.route =~ "/cart.*" && !(kind = client) }"#), r#"{(&& (=~ .http.route "/cart.*") (! (= kind client)))}"#);
        assert_eq!(
            sexp(r#"{ resource.service.name = "frontend" } >> { span.db.system.name = "postgresql" }"#),
            r#"(>> {(= resource.service.name "frontend")} {(= span.db.system.name "postgresql")})"#
        );
        assert_eq!(sexp("{ kind = server } > { kind = client } && { status = error } || { name = \"x\" }"), "(|| (&& (> {(= kind server)} {(= kind client)}) {(= status error)}) {(= name \"x\")})");
        assert_eq!(sexp("{ span:duration > 1s } ~ { trace:rootName != \"a\" }"), "(~ {(> duration 1s)} {(!= rootName \"a\")})");
        assert_eq!(sexp("{ span.a + 2 * 3 > 10 }"), "{(> (+ span.a (* 2 3)) 10)}");
        assert_eq!(sexp("{ span.foo != nil }"), "{(!= span.foo nil)}");
    }

    #[test]
    fn parses_pipelines() {
        assert_eq!(sexp("{ } | count() > 5"), "(pipe {} (> count() 5))");
        assert_eq!(sexp("{ kind = server } | avg(duration) > 200ms | select(span.http.route, resource.service.name)"), "(pipe {(= kind server)} (> avg(duration) 200ms) (select span.http.route resource.service.name))");
        assert_eq!(sexp("({ status = error } | count() >= 2) && { name = \"a\" }"), "(&& (pipe {(= status error)} (>= count() 2)) {(= name \"a\")})");
        assert_eq!(sexp("{ } | max(span.http.response.status_code) >= 500 | { status = error }"), "(pipe {} (>= max(span.http.response.status_code) 500) {(= status error)})");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let q = "{ status = 200 }";
        let e = parse(q).unwrap_err();
        assert_eq!(&q[e.span.clone()], "status = 200");
        assert!(e.message.contains("error, ok or unset"), "{}", e.message);
        let q = "{ duration > \"1s\" }";
        assert!(parse(q).unwrap_err().message.contains("duration is compared with a duration"));
        let q = "{ http.route = \"/\" }";
        let e = parse(q).unwrap_err();
        assert_eq!(&q[e.span.clone()], "http.route");
        assert!(e.message.contains("span.http.route"));
        let q = "{ status = error ";
        assert_eq!(parse(q).unwrap_err().span, q.len()..q.len());
        let q = "{ } | count()";
        assert!(parse(q).unwrap_err().message.contains("needs a comparison"));
        let q = "{ } | avg(duration) > 3";
        assert!(parse(q).unwrap_err().message.contains("a duration"));
        let q = "{ name =~ \"(\" }";
        assert!(parse(q).unwrap_err().message.starts_with("invalid regular expression"));
        let q = "{ kind > server }";
        assert!(parse(q).unwrap_err().message.contains("only be compared with = or !="));
        assert!(parse("{ } | by(name)").unwrap_err().is_unsupported());
        assert!(parse("").unwrap_err().message.contains("empty"));
        assert!(parse("{ duration }").unwrap_err().message.contains("a condition is needed"));
        assert!(parse("{ a = 'x' }").is_err());
    }
}
