//! The LogQL syntax tree: log queries (a stream selector and a pipeline)
//! and metric queries (range aggregations over them, vector aggregations,
//! binary operations). [`Expr`]'s `Display` prints an S-expression that the
//! parser tests compare against.

use regex_lite::Regex;
use std::fmt;
use std::ops::Range;

/// `=`, `!=`, `=~`, `!~` on a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Neq,
    Re,
    NotRe,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Neq => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// A label matcher; regexes are compiled fully anchored.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    pub re: Option<Regex>,
    pub span: Range<usize>,
}

impl Matcher {
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Neq => v != self.value,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRe => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

/// A line filter: `|=` contains, `!=` does not contain, `|~` regex
/// matches (unanchored), `!~` does not match. Several values joined with
/// `or` match if any does.
#[derive(Clone, Debug)]
pub struct LineFilter {
    pub op: MatchOp,
    pub values: Vec<String>,
    pub res: Vec<Regex>,
    pub span: Range<usize>,
}

/// `==`/`=`, `!=`, `>`, `>=`, `<`, `<=` on numbers, durations and sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Neq => "!=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Neq => a != b,
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
        }
    }
}

/// What a numeric label filter compares the label as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumKind {
    Number,
    /// A Go duration (`250ms`), compared in seconds.
    Duration,
    /// A byte size (`10KB`), compared in bytes.
    Bytes,
}

/// A label filter expression after `|`.
#[derive(Clone, Debug)]
pub enum LabelFilter {
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
    Str(Matcher),
    Num { name: String, op: CmpOp, value: f64, kind: NumKind, text: String, span: Range<usize> },
}

/// One piece of a `line_format` template: literal text or `{{.label}}`.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Label(String),
    /// `{{__line__}}`: the current line.
    Line,
}

/// How `unwrap` turns a label into a sample value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnwrapConv {
    Number,
    /// `duration(label)` / `duration_seconds(label)`: seconds.
    Duration,
    /// `bytes(label)`: bytes.
    Bytes,
}

#[derive(Clone, Debug)]
pub struct Unwrap {
    pub label: String,
    pub conv: UnwrapConv,
    /// Label filters after the unwrap (`| unwrap x | __error__=""`).
    pub post: Vec<LabelFilter>,
    pub span: Range<usize>,
}

#[derive(Clone, Debug)]
pub enum Stage {
    LineFilter(LineFilter),
    /// `| json` with no parameters extracts everything; with parameters
    /// (`| json d="duration_ms"`) only the named paths.
    Json { params: Vec<(String, Vec<String>)>, span: Range<usize> },
    Logfmt { span: Range<usize> },
    LabelFilter(LabelFilter),
    LineFormat { parts: Vec<TemplatePart>, span: Range<usize> },
    /// `| label_format dst=src` (rename) or `dst="template"`.
    LabelFormat { items: Vec<(String, LabelFormatSrc)>, span: Range<usize> },
    Drop { names: Vec<String>, span: Range<usize> },
    Keep { names: Vec<String>, span: Range<usize> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum LabelFormatSrc {
    Rename(String),
    Template(Vec<TemplatePart>),
}

impl Stage {
    /// Whether the stage may change the line a later line filter sees.
    pub fn changes_line(&self) -> bool {
        matches!(self, Stage::LineFormat { .. })
    }
}

/// A stream selector and its pipeline.
#[derive(Clone, Debug)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
    pub span: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeOp {
    CountOverTime,
    Rate,
    BytesOverTime,
    BytesRate,
    RateCounter,
    SumOverTime,
    AvgOverTime,
    MaxOverTime,
    MinOverTime,
    StddevOverTime,
    StdvarOverTime,
    QuantileOverTime,
    FirstOverTime,
    LastOverTime,
    AbsentOverTime,
}

impl RangeOp {
    pub const ALL: [RangeOp; 15] = [
        RangeOp::CountOverTime,
        RangeOp::Rate,
        RangeOp::BytesOverTime,
        RangeOp::BytesRate,
        RangeOp::RateCounter,
        RangeOp::SumOverTime,
        RangeOp::AvgOverTime,
        RangeOp::MaxOverTime,
        RangeOp::MinOverTime,
        RangeOp::StddevOverTime,
        RangeOp::StdvarOverTime,
        RangeOp::QuantileOverTime,
        RangeOp::FirstOverTime,
        RangeOp::LastOverTime,
        RangeOp::AbsentOverTime,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::CountOverTime => "count_over_time",
            RangeOp::Rate => "rate",
            RangeOp::BytesOverTime => "bytes_over_time",
            RangeOp::BytesRate => "bytes_rate",
            RangeOp::RateCounter => "rate_counter",
            RangeOp::SumOverTime => "sum_over_time",
            RangeOp::AvgOverTime => "avg_over_time",
            RangeOp::MaxOverTime => "max_over_time",
            RangeOp::MinOverTime => "min_over_time",
            RangeOp::StddevOverTime => "stddev_over_time",
            RangeOp::StdvarOverTime => "stdvar_over_time",
            RangeOp::QuantileOverTime => "quantile_over_time",
            RangeOp::FirstOverTime => "first_over_time",
            RangeOp::LastOverTime => "last_over_time",
            RangeOp::AbsentOverTime => "absent_over_time",
        }
    }
    pub fn from_name(s: &str) -> Option<RangeOp> {
        RangeOp::ALL.into_iter().find(|o| o.as_str() == s)
    }
    /// Whether the function reads unwrapped sample values (else it counts
    /// lines or bytes). `rate` works both ways.
    pub fn needs_unwrap(self) -> Option<bool> {
        match self {
            RangeOp::CountOverTime | RangeOp::BytesOverTime | RangeOp::BytesRate | RangeOp::AbsentOverTime => Some(false),
            RangeOp::Rate => None,
            _ => Some(true),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    Sort,
    SortDesc,
}

impl VecOp {
    pub const ALL: [VecOp; 11] =
        [VecOp::Sum, VecOp::Avg, VecOp::Min, VecOp::Max, VecOp::Count, VecOp::Stddev, VecOp::Stdvar, VecOp::Topk, VecOp::Bottomk, VecOp::Sort, VecOp::SortDesc];
    pub fn as_str(self) -> &'static str {
        match self {
            VecOp::Sum => "sum",
            VecOp::Avg => "avg",
            VecOp::Min => "min",
            VecOp::Max => "max",
            VecOp::Count => "count",
            VecOp::Stddev => "stddev",
            VecOp::Stdvar => "stdvar",
            VecOp::Topk => "topk",
            VecOp::Bottomk => "bottomk",
            VecOp::Sort => "sort",
            VecOp::SortDesc => "sort_desc",
        }
    }
    pub fn from_name(s: &str) -> Option<VecOp> {
        VecOp::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
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
            BinOp::Eq => "==",
            BinOp::Neq => "!=",
            BinOp::Gt => ">",
            BinOp::Gte => ">=",
            BinOp::Lt => "<",
            BinOp::Lte => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
        }
    }
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Neq | BinOp::Gt | BinOp::Gte | BinOp::Lt | BinOp::Lte)
    }
    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }
}

/// A log range: the log expression, its window and offset (µs).
#[derive(Clone, Debug)]
pub struct LogRange {
    pub log: LogExpr,
    pub range_us: i64,
    pub offset_us: i64,
    pub unwrap: Option<Unwrap>,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Log(LogExpr),
    Range { op: RangeOp, param: Option<f64>, range: Box<LogRange>, grouping: Option<Grouping>, span: Range<usize> },
    Vector { op: VecOp, param: Option<f64>, grouping: Option<Grouping>, expr: Box<Expr>, span: Range<usize> },
    Binary { op: BinOp, bool_mod: bool, lhs: Box<Expr>, rhs: Box<Expr>, span: Range<usize> },
    Number(f64),
}

impl Expr {
    pub fn is_log(&self) -> bool {
        matches!(self, Expr::Log(_))
    }
}

fn fmt_dur(f: &mut fmt::Formatter<'_>, us: i64) -> fmt::Result {
    if us % 3_600_000_000 == 0 {
        write!(f, "{}h", us / 3_600_000_000)
    } else if us % 60_000_000 == 0 {
        write!(f, "{}m", us / 60_000_000)
    } else if us % 1_000_000 == 0 {
        write!(f, "{}s", us / 1_000_000)
    } else {
        write!(f, "{}ms", us as f64 / 1000.0)
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

impl fmt::Display for LabelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelFilter::And(a, b) => write!(f, "(and {a} {b})"),
            LabelFilter::Or(a, b) => write!(f, "(or {a} {b})"),
            LabelFilter::Str(m) => write!(f, "{m}"),
            LabelFilter::Num { name, op, text, .. } => write!(f, "{name}{}{text}", op.as_str()),
        }
    }
}

fn fmt_template(f: &mut fmt::Formatter<'_>, parts: &[TemplatePart]) -> fmt::Result {
    let mut s = String::new();
    for p in parts {
        match p {
            TemplatePart::Text(t) => s.push_str(t),
            TemplatePart::Label(l) => {
                s.push_str("{{.");
                s.push_str(l);
                s.push_str("}}");
            }
            TemplatePart::Line => s.push_str("{{__line__}}"),
        }
    }
    write!(f, "{s:?}")
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::LineFilter(l) => {
                let op = match l.op {
                    MatchOp::Eq => "|=",
                    MatchOp::Neq => "!=",
                    MatchOp::Re => "|~",
                    MatchOp::NotRe => "!~",
                };
                write!(f, "({op}")?;
                for v in &l.values {
                    write!(f, " {v:?}")?;
                }
                write!(f, ")")
            }
            Stage::Json { params, .. } => {
                write!(f, "(json")?;
                for (n, p) in params {
                    write!(f, " {n}={:?}", p.join("."))?;
                }
                write!(f, ")")
            }
            Stage::Logfmt { .. } => write!(f, "(logfmt)"),
            Stage::LabelFilter(l) => write!(f, "(filter {l})"),
            Stage::LineFormat { parts, .. } => {
                write!(f, "(line_format ")?;
                fmt_template(f, parts)?;
                write!(f, ")")
            }
            Stage::LabelFormat { items, .. } => {
                write!(f, "(label_format")?;
                for (d, s) in items {
                    match s {
                        LabelFormatSrc::Rename(src) => write!(f, " {d}={src}")?,
                        LabelFormatSrc::Template(p) => {
                            write!(f, " {d}=")?;
                            fmt_template(f, p)?;
                        }
                    }
                }
                write!(f, ")")
            }
            Stage::Drop { names, .. } => write!(f, "(drop {})", names.join(" ")),
            Stage::Keep { names, .. } => write!(f, "(keep {})", names.join(" ")),
        }
    }
}

impl fmt::Display for LogExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(log {{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{m}")?;
        }
        write!(f, "}}")?;
        for s in &self.stages {
            write!(f, " {s}")?;
        }
        write!(f, ")")
    }
}

fn fmt_grouping(f: &mut fmt::Formatter<'_>, g: &Option<Grouping>) -> fmt::Result {
    if let Some(g) = g {
        write!(f, " ({} {})", if g.without { "without" } else { "by" }, g.labels.join(" "))?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => write!(f, "{l}"),
            Expr::Range { op, param, range, grouping, .. } => {
                write!(f, "({}", op.as_str())?;
                if let Some(p) = param {
                    write!(f, " {p}")?;
                }
                write!(f, " ")?;
                fmt_dur(f, range.range_us)?;
                if range.offset_us != 0 {
                    write!(f, " offset ")?;
                    fmt_dur(f, range.offset_us)?;
                }
                write!(f, " {}", range.log)?;
                if let Some(u) = &range.unwrap {
                    let conv = match u.conv {
                        UnwrapConv::Number => "",
                        UnwrapConv::Duration => "duration ",
                        UnwrapConv::Bytes => "bytes ",
                    };
                    write!(f, " (unwrap {conv}{}", u.label)?;
                    for p in &u.post {
                        write!(f, " (filter {p})")?;
                    }
                    write!(f, ")")?;
                }
                fmt_grouping(f, grouping)?;
                write!(f, ")")
            }
            Expr::Vector { op, param, grouping, expr, .. } => {
                write!(f, "({}", op.as_str())?;
                fmt_grouping(f, grouping)?;
                if let Some(p) = param {
                    write!(f, " {p}")?;
                }
                write!(f, " {expr})")
            }
            Expr::Binary { op, bool_mod, lhs, rhs, .. } => {
                write!(f, "({}{} {lhs} {rhs})", op.as_str(), if *bool_mod { " bool" } else { "" })
            }
            Expr::Number(n) => write!(f, "{n}"),
        }
    }
}
