//! The PromQL syntax tree. Every node carries the byte span of the query
//! text it came from, so evaluation errors and annotations can point back at
//! it. `Display` prints an expression the way Prometheus's `String()` does;
//! [`Expr::sexpr`] prints an S-expression for parser tests.

use super::functions::FunctionDef;
use regex_lite::Regex;
use std::fmt;
use std::ops::Range;

/// The type of a PromQL expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// The name Prometheus uses in messages and the API.
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
    /// The `resultType` of the HTTP API.
    pub fn api_name(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Number(f64),
    String(StringLit),
    Vector(Box<VectorSelector>),
    Matrix(Box<MatrixSelector>),
    Subquery(Box<Subquery>),
    Paren(Box<Expr>),
    /// Unary minus (unary plus is dropped by the parser).
    Neg(Box<Expr>),
    Binary(Box<Binary>),
    Aggregate(Box<Aggregate>),
    Call(Box<Call>),
}

#[derive(Clone, Debug)]
pub struct StringLit {
    pub value: String,
    /// The literal as Go's `strconv.Quote` prints its raw bytes.
    pub quoted: String,
    /// Whether the unquoted bytes were valid UTF-8.
    pub utf8: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum At {
    /// Unix milliseconds.
    Timestamp(i64),
    Start,
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// A label matcher; regex matchers are fully anchored as in Prometheus.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    pub re: Option<Regex>,
}

impl Matcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(Regex::new(&format!("^(?s:{value})$")).map_err(|e| format!("error parsing regexp {value:?}: {e}"))?),
            _ => None,
        };
        Ok(Matcher { name: name.to_string(), op, value: value.to_string(), re })
    }
    /// Whether a label value (empty when the label is absent) matches.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Regex => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

#[derive(Clone, Debug)]
pub struct VectorSelector {
    /// The metric name written before the braces, if any.
    pub name: Option<String>,
    /// All matchers, including `__name__="name"` for a written name.
    pub matchers: Vec<Matcher>,
    pub offset_ms: i64,
    pub at: Option<At>,
}

#[derive(Clone, Debug)]
pub struct MatrixSelector {
    pub vs: VectorSelector,
    pub range_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Subquery {
    pub expr: Expr,
    pub range_ms: i64,
    /// `None` for `[5m:]` (the default resolution).
    pub step_ms: Option<i64>,
    pub offset_ms: i64,
    pub at: Option<At>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eql,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Atan2 => "atan2",
            BinOp::Eql => "==",
            BinOp::Neq => "!=",
            BinOp::Gtr => ">",
            BinOp::Lss => "<",
            BinOp::Gte => ">=",
            BinOp::Lte => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eql | BinOp::Neq | BinOp::Gtr | BinOp::Lss | BinOp::Gte | BinOp::Lte)
    }
    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }
    /// Arithmetic operators change what a metric means, so they drop its name.
    pub fn changes_schema(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow | BinOp::Atan2)
    }
    /// Binding power (higher binds tighter) and right associativity.
    pub fn precedence(self) -> (u8, bool) {
        match self {
            BinOp::Or => (1, false),
            BinOp::And | BinOp::Unless => (2, false),
            BinOp::Eql | BinOp::Neq | BinOp::Gtr | BinOp::Lss | BinOp::Gte | BinOp::Lte => (3, false),
            BinOp::Add | BinOp::Sub => (4, false),
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Atan2 => (5, false),
            BinOp::Pow => (6, true),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

#[derive(Clone, Debug)]
pub struct VectorMatching {
    pub card: Card,
    /// `on(...)` when true, `ignoring(...)` otherwise.
    pub on: bool,
    pub labels: Vec<String>,
    /// Labels named in `group_left(...)`/`group_right(...)`.
    pub include: Vec<String>,
    /// Whether `on`/`ignoring` was written (for printing).
    pub explicit: bool,
    /// `fill(...)` / `fill_left(...)`: the value for a missing left sample.
    pub fill_lhs: Option<f64>,
    /// `fill(...)` / `fill_right(...)`: the value for a missing right sample.
    pub fill_rhs: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Binary {
    pub op: BinOp,
    pub lhs: Expr,
    pub rhs: Expr,
    pub return_bool: bool,
    /// Present when both sides are instant vectors.
    pub matching: Option<VectorMatching>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

impl AggOp {
    pub fn from_name(s: &str) -> Option<AggOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            "count_values" => AggOp::CountValues,
            "quantile" => AggOp::Quantile,
            "limitk" => AggOp::Limitk,
            "limit_ratio" => AggOp::LimitRatio,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Avg => "avg",
            AggOp::Count => "count",
            AggOp::Min => "min",
            AggOp::Max => "max",
            AggOp::Group => "group",
            AggOp::Stddev => "stddev",
            AggOp::Stdvar => "stdvar",
            AggOp::Topk => "topk",
            AggOp::Bottomk => "bottomk",
            AggOp::CountValues => "count_values",
            AggOp::Quantile => "quantile",
            AggOp::Limitk => "limitk",
            AggOp::LimitRatio => "limit_ratio",
        }
    }
    pub fn has_param(self) -> bool {
        matches!(self, AggOp::Topk | AggOp::Bottomk | AggOp::CountValues | AggOp::Quantile | AggOp::Limitk | AggOp::LimitRatio)
    }
}

#[derive(Clone, Debug)]
pub struct Aggregate {
    pub op: AggOp,
    pub expr: Expr,
    pub param: Option<Expr>,
    pub grouping: Vec<String>,
    pub without: bool,
    /// Whether `by`/`without` was written.
    pub has_grouping: bool,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub func: &'static FunctionDef,
    pub args: Vec<Expr>,
}

impl Expr {
    pub fn value_type(&self) -> ValueType {
        match &self.kind {
            ExprKind::Number(_) => ValueType::Scalar,
            ExprKind::String(_) => ValueType::String,
            ExprKind::Vector(_) => ValueType::Vector,
            ExprKind::Matrix(_) | ExprKind::Subquery(_) => ValueType::Matrix,
            ExprKind::Paren(e) | ExprKind::Neg(e) => e.value_type(),
            ExprKind::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar && b.rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            ExprKind::Aggregate(_) => ValueType::Vector,
            ExprKind::Call(c) => c.func.ret,
        }
    }

    /// The expression without any wrapping parentheses.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let ExprKind::Paren(inner) = &e.kind {
            e = inner;
        }
        e
    }

    /// An S-expression of the tree, for tests: `(+ 1 (* 2 3))`.
    pub fn sexpr(&self) -> String {
        match &self.kind {
            ExprKind::Number(n) => fmt_num(*n),
            ExprKind::String(s) => s.quoted.clone(),
            ExprKind::Vector(vs) => vs.to_string(),
            ExprKind::Matrix(m) => m.to_string(),
            ExprKind::Subquery(_) => self.to_string(),
            ExprKind::Paren(e) => e.sexpr(),
            ExprKind::Neg(e) => format!("(- {})", e.sexpr()),
            ExprKind::Binary(b) => format!("({}{} {} {})", b.op.as_str(), if b.return_bool { " bool" } else { "" }, b.lhs.sexpr(), b.rhs.sexpr()),
            ExprKind::Aggregate(a) => {
                let mut s = format!("({}", a.op.as_str());
                if a.has_grouping {
                    s.push_str(&format!(" {} ({})", if a.without { "without" } else { "by" }, a.grouping.join(", ")));
                }
                if let Some(p) = &a.param {
                    s.push(' ');
                    s.push_str(&p.sexpr());
                }
                s.push(' ');
                s.push_str(&a.expr.sexpr());
                s.push(')');
                s
            }
            ExprKind::Call(c) => {
                let mut s = format!("({}", c.func.name);
                for a in &c.args {
                    s.push(' ');
                    s.push_str(&a.sexpr());
                }
                s.push(')');
                s
            }
        }
    }

    /// Visits every node, parents before children.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Number(_) | ExprKind::String(_) | ExprKind::Vector(_) | ExprKind::Matrix(_) => {}
            ExprKind::Subquery(s) => s.expr.walk(f),
            ExprKind::Paren(e) | ExprKind::Neg(e) => e.walk(f),
            ExprKind::Binary(b) => {
                b.lhs.walk(f);
                b.rhs.walk(f);
            }
            ExprKind::Aggregate(a) => {
                if let Some(p) = &a.param {
                    p.walk(f);
                }
                a.expr.walk(f);
            }
            ExprKind::Call(c) => c.args.iter().for_each(|a| a.walk(f)),
        }
    }
}

/// Formats a number as Prometheus prints literals.
pub fn fmt_num(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n == f64::INFINITY {
        "+Inf".into()
    } else if n == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{n}")
    }
}

/// Formats milliseconds as a Prometheus duration (`1h30m`, `0s`).
pub fn fmt_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut ms = if ms < 0 {
        out.push('-');
        -(ms as i128)
    } else {
        ms as i128
    };
    for (unit, len) in [("y", 365 * 86_400_000i128), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if ms >= len {
            out.push_str(&format!("{}{unit}", ms / len));
            ms %= len;
        }
    }
    out
}

fn fmt_at(at: &Option<At>) -> String {
    match at {
        None => String::new(),
        Some(At::Start) => " @ start()".into(),
        Some(At::End) => " @ end()".into(),
        Some(At::Timestamp(t)) => format!(" @ {:.3}", *t as f64 / 1000.0),
    }
}

fn fmt_offset(o: i64) -> String {
    if o == 0 { String::new() } else { format!(" offset {}", fmt_duration(o)) }
}

impl VectorSelector {
    fn fmt_selector(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = &self.name {
            f.write_str(n)?;
        }
        let ms: Vec<&Matcher> = self.matchers.iter().filter(|m| !(self.name.is_some() && m.name == "__name__" && m.op == MatchOp::Equal && Some(&m.value) == self.name.as_ref())).collect();
        if !ms.is_empty() || self.name.is_none() {
            f.write_str("{")?;
            for (i, m) in ms.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}{}{:?}", m.name, m.op.as_str(), m.value)?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}

impl fmt::Display for VectorSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_selector(f)?;
        write!(f, "{}{}", fmt_offset(self.offset_ms), fmt_at(&self.at))
    }
}

impl fmt::Display for MatrixSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.vs.fmt_selector(f)?;
        write!(f, "[{}]{}{}", fmt_duration(self.range_ms), fmt_offset(self.vs.offset_ms), fmt_at(&self.vs.at))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(n) => f.write_str(&fmt_num(*n)),
            ExprKind::String(s) => f.write_str(&s.quoted),
            ExprKind::Vector(v) => v.fmt(f),
            ExprKind::Matrix(m) => m.fmt(f),
            ExprKind::Subquery(s) => {
                write!(f, "{}[{}:{}]{}{}", s.expr, fmt_duration(s.range_ms), s.step_ms.map(fmt_duration).unwrap_or_default(), fmt_offset(s.offset_ms), fmt_at(&s.at))
            }
            ExprKind::Paren(e) => write!(f, "({e})"),
            ExprKind::Neg(e) => write!(f, "-{e}"),
            ExprKind::Binary(b) => {
                write!(f, "{} {}", b.lhs, b.op.as_str())?;
                if b.return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(m) = &b.matching {
                    if m.explicit {
                        write!(f, " {}({})", if m.on { "on" } else { "ignoring" }, m.labels.join(", "))?;
                    }
                    match m.card {
                        Card::ManyToOne => write!(f, " group_left({})", m.include.join(", "))?,
                        Card::OneToMany => write!(f, " group_right({})", m.include.join(", "))?,
                        _ => {}
                    }
                    match (m.fill_lhs, m.fill_rhs) {
                        (Some(l), Some(r)) if l.to_bits() == r.to_bits() => write!(f, " fill({})", fmt_num(l))?,
                        (l, r) => {
                            if let Some(l) = l {
                                write!(f, " fill_left({})", fmt_num(l))?;
                            }
                            if let Some(r) = r {
                                write!(f, " fill_right({})", fmt_num(r))?;
                            }
                        }
                    }
                }
                write!(f, " {}", b.rhs)
            }
            ExprKind::Aggregate(a) => {
                f.write_str(a.op.as_str())?;
                if a.has_grouping {
                    write!(f, " {} ({}) ", if a.without { "without" } else { "by" }, a.grouping.join(", "))?;
                }
                f.write_str("(")?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            ExprKind::Call(c) => {
                write!(f, "{}(", c.func.name)?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    a.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}
