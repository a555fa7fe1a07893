//! The TraceQL syntax tree: field expressions evaluated per span, spanset
//! expressions combining the spans of one trace (`&&`, `||`, structural
//! `>`, `>>`, `<`, `<<`, `~`), and pipelines (`| count() > 3`,
//! `| avg(duration) > 200ms`, `| select(...)`). `Display` prints the
//! S-expression the parser tests compare.

use crate::telemetry::span::{SpanKind, StatusCode};
use regex_lite::Regex;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Span,
    Resource,
    /// `.name`: the span's attribute, else the resource's.
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    Name,
    Status,
    StatusMessage,
    Kind,
    Duration,
    RootName,
    RootServiceName,
    TraceDuration,
}

impl Intrinsic {
    pub fn as_str(self) -> &'static str {
        match self {
            Intrinsic::Name => "name",
            Intrinsic::Status => "status",
            Intrinsic::StatusMessage => "statusMessage",
            Intrinsic::Kind => "kind",
            Intrinsic::Duration => "duration",
            Intrinsic::RootName => "rootName",
            Intrinsic::RootServiceName => "rootServiceName",
            Intrinsic::TraceDuration => "traceDuration",
        }
    }
    /// Bare and scoped (`span:`/`trace:`) spellings.
    pub fn from_name(s: &str) -> Option<Intrinsic> {
        Some(match s {
            "name" | "span:name" => Intrinsic::Name,
            "status" | "span:status" => Intrinsic::Status,
            "statusMessage" | "span:statusMessage" => Intrinsic::StatusMessage,
            "kind" | "span:kind" => Intrinsic::Kind,
            "duration" | "span:duration" => Intrinsic::Duration,
            "rootName" | "trace:rootName" => Intrinsic::RootName,
            "rootServiceName" | "trace:rootService" | "trace:rootServiceName" => Intrinsic::RootServiceName,
            "traceDuration" | "trace:duration" => Intrinsic::TraceDuration,
            _ => return None,
        })
    }
    /// The literal type it compares with.
    pub fn kind(self) -> LitType {
        match self {
            Intrinsic::Name | Intrinsic::StatusMessage | Intrinsic::RootName | Intrinsic::RootServiceName => LitType::Str,
            Intrinsic::Status => LitType::Status,
            Intrinsic::Kind => LitType::Kind,
            Intrinsic::Duration | Intrinsic::TraceDuration => LitType::Duration,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LitType {
    Str,
    Number,
    Duration,
    Bool,
    Status,
    Kind,
    Nil,
}

impl LitType {
    pub fn describe(self) -> &'static str {
        match self {
            LitType::Str => "a string",
            LitType::Number => "a number",
            LitType::Duration => "a duration such as 200ms",
            LitType::Bool => "true or false",
            LitType::Status => "a status: error, ok or unset",
            LitType::Kind => "a kind: server, client, producer, consumer, internal or unspecified",
            LitType::Nil => "nil",
        }
    }
}

/// A value during evaluation (and a literal in the query).
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Str(Arc<str>),
    Int(i64),
    Float(f64),
    /// Nanoseconds.
    Dur(i64),
    Bool(bool),
    Status(StatusCode),
    Kind(Option<SpanKind>),
    Nil,
}

impl V {
    pub fn lit_type(&self) -> LitType {
        match self {
            V::Str(_) => LitType::Str,
            V::Int(_) | V::Float(_) => LitType::Number,
            V::Dur(_) => LitType::Duration,
            V::Bool(_) => LitType::Bool,
            V::Status(_) => LitType::Status,
            V::Kind(_) => LitType::Kind,
            V::Nil => LitType::Nil,
        }
    }
}

impl fmt::Display for V {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V::Str(s) => write!(f, "{:?}", &**s),
            V::Int(i) => write!(f, "{i}"),
            V::Float(x) => write!(f, "{x}"),
            V::Dur(ns) => {
                if ns % 1_000_000_000 == 0 {
                    write!(f, "{}s", ns / 1_000_000_000)
                } else if ns % 1_000_000 == 0 {
                    write!(f, "{}ms", ns / 1_000_000)
                } else if ns % 1000 == 0 {
                    write!(f, "{}us", ns / 1000)
                } else {
                    write!(f, "{ns}ns")
                }
            }
            V::Bool(b) => write!(f, "{b}"),
            V::Status(s) => write!(f, "{}", s.as_str()),
            V::Kind(Some(k)) => write!(f, "{}", k.as_str()),
            V::Kind(None) => write!(f, "unspecified"),
            V::Nil => write!(f, "nil"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FOp {
    And,
    Or,
    Eq,
    Neq,
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

impl FOp {
    pub fn as_str(self) -> &'static str {
        match self {
            FOp::And => "&&",
            FOp::Or => "||",
            FOp::Eq => "=",
            FOp::Neq => "!=",
            FOp::Gt => ">",
            FOp::Gte => ">=",
            FOp::Lt => "<",
            FOp::Lte => "<=",
            FOp::Add => "+",
            FOp::Sub => "-",
            FOp::Mul => "*",
            FOp::Div => "/",
            FOp::Mod => "%",
            FOp::Pow => "^",
        }
    }
    pub fn is_comparison(self) -> bool {
        matches!(self, FOp::Eq | FOp::Neq | FOp::Gt | FOp::Gte | FOp::Lt | FOp::Lte)
    }
}

/// An expression evaluated on one span.
#[derive(Clone, Debug)]
pub enum Field {
    Lit(V),
    Attr { scope: Scope, name: String },
    Intrinsic(Intrinsic),
    Binary { op: FOp, lhs: Box<Field>, rhs: Box<Field> },
    /// `=~` / `!~` against a literal regex (fully anchored).
    Regex { lhs: Box<Field>, re: Regex, pattern: String, negate: bool },
    Not(Box<Field>),
    Neg(Box<Field>),
}

impl Field {
    /// Attributes the expression reads (for the result's span attributes).
    pub fn attrs(&self, out: &mut Vec<Field>) {
        match self {
            Field::Attr { .. } | Field::Intrinsic(Intrinsic::Status) | Field::Intrinsic(Intrinsic::Kind) | Field::Intrinsic(Intrinsic::StatusMessage) => {
                if !out.iter().any(|f| f.to_string() == self.to_string()) {
                    out.push(self.clone());
                }
            }
            Field::Binary { lhs, rhs, .. } => {
                lhs.attrs(out);
                rhs.attrs(out);
            }
            Field::Regex { lhs, .. } | Field::Not(lhs) | Field::Neg(lhs) => lhs.attrs(out),
            _ => {}
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Lit(v) => write!(f, "{v}"),
            Field::Attr { scope, name } => match scope {
                Scope::Span => write!(f, "span.{name}"),
                Scope::Resource => write!(f, "resource.{name}"),
                Scope::Any => write!(f, ".{name}"),
            },
            Field::Intrinsic(i) => write!(f, "{}", i.as_str()),
            Field::Binary { op, lhs, rhs } => write!(f, "({} {lhs} {rhs})", op.as_str()),
            Field::Regex { lhs, pattern, negate, .. } => write!(f, "({} {lhs} {pattern:?})", if *negate { "!~" } else { "=~" }),
            Field::Not(e) => write!(f, "(! {e})"),
            Field::Neg(e) => write!(f, "(- {e})"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SOp {
    And,
    Or,
    Child,
    Descendant,
    Parent,
    Ancestor,
    Sibling,
}

impl SOp {
    pub fn as_str(self) -> &'static str {
        match self {
            SOp::And => "&&",
            SOp::Or => "||",
            SOp::Child => ">",
            SOp::Descendant => ">>",
            SOp::Parent => "<",
            SOp::Ancestor => "<<",
            SOp::Sibling => "~",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFn {
    Count,
    Avg,
    Min,
    Max,
    Sum,
}

impl AggFn {
    pub fn as_str(self) -> &'static str {
        match self {
            AggFn::Count => "count",
            AggFn::Avg => "avg",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Sum => "sum",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Stage {
    /// `| { ... }`: keep the spans that match.
    Filter(Field),
    /// `| count() > 3`, `| avg(duration) > 200ms`.
    Aggregate { func: AggFn, field: Option<Field>, op: FOp, value: V, span: Range<usize> },
    /// `| select(span.http.route, ...)`: extra attributes in the result.
    Select(Vec<Field>),
}

#[derive(Clone, Debug)]
pub enum Spanset {
    /// `{ expr }`; `{}` matches every span.
    Filter { expr: Option<Field>, span: Range<usize> },
    Binary { op: SOp, lhs: Box<Spanset>, rhs: Box<Spanset> },
    Pipeline { input: Box<Spanset>, stages: Vec<Stage> },
}

impl Spanset {
    /// Attributes referenced anywhere (filters and select).
    pub fn attrs(&self, out: &mut Vec<Field>) {
        match self {
            Spanset::Filter { expr: Some(e), .. } => e.attrs(out),
            Spanset::Filter { expr: None, .. } => {}
            Spanset::Binary { lhs, rhs, .. } => {
                lhs.attrs(out);
                rhs.attrs(out);
            }
            Spanset::Pipeline { input, stages } => {
                input.attrs(out);
                for s in stages {
                    match s {
                        Stage::Filter(f) => f.attrs(out),
                        Stage::Aggregate { field: Some(f), .. } => f.attrs(out),
                        Stage::Aggregate { .. } => {}
                        Stage::Select(fs) => {
                            for f in fs {
                                f.attrs(out);
                            }
                        }
                    }
                }
            }
        }
    }
}

impl fmt::Display for Spanset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spanset::Filter { expr: Some(e), .. } => write!(f, "{{{e}}}"),
            Spanset::Filter { expr: None, .. } => write!(f, "{{}}"),
            Spanset::Binary { op, lhs, rhs } => write!(f, "({} {lhs} {rhs})", op.as_str()),
            Spanset::Pipeline { input, stages } => {
                write!(f, "(pipe {input}")?;
                for s in stages {
                    match s {
                        Stage::Filter(e) => write!(f, " {{{e}}}")?,
                        Stage::Aggregate { func, field, op, value, .. } => {
                            write!(f, " ({} {}(", op.as_str(), func.as_str())?;
                            if let Some(x) = field {
                                write!(f, "{x}")?;
                            }
                            write!(f, ") {value})")?;
                        }
                        Stage::Select(fs) => {
                            write!(f, " (select")?;
                            for x in fs {
                                write!(f, " {x}")?;
                            }
                            write!(f, ")")?;
                        }
                    }
                }
                write!(f, ")")
            }
        }
    }
}
