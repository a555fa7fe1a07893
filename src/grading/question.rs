//! Questions as a scenario file declares them (`[[questions]]`, documented in
//! docs/scenario-format.md): the prompt, the kind of answer, points, hints
//! and explanation, and *where the expected answer comes from* ([`Source`]):
//! a ground-truth key such as `culprit.service`, a reference query evaluated
//! on the run's data, or the replay of alert rules. A question never holds
//! its answer as a constant.

use super::catalogue;
use super::quantity::{Dimension, Tolerance};
use super::rubric::KeyPoint;
use crate::scenario::decode::{variant, Decode, DecodeError, DecodeErrorKind, Fields};
use crate::scenario::toml::{Spanned, Value};
use std::ops::Range;

/// What kind of answer a question takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One option id.
    Choice,
    /// Several option ids.
    Multi,
    /// A number with a unit, within a tolerance.
    Number,
    /// A service, endpoint, node or pod name.
    Entity,
    /// A trace id, optionally with a span id (`trace/span`).
    Evidence,
    /// A time window (`09:14-09:20`, RFC 3339 pairs).
    Window,
    /// A query whose result is compared with the reference query's.
    Query,
    /// Alert rules replayed over the history.
    AlertRules,
    /// Free text scored against key points (a self-check).
    Rubric,
    /// An `[instrumentation]` table judged by the plan rules ([`super::plan`]).
    Plan,
}

impl Kind {
    pub const NAMES: &'static [&'static str] = &["choice", "multi", "number", "entity", "evidence", "window", "query", "alert_rules", "rubric", "plan"];
    const CHOICES: [(&'static str, Kind); 10] = [
        ("choice", Kind::Choice),
        ("multi", Kind::Multi),
        ("number", Kind::Number),
        ("entity", Kind::Entity),
        ("evidence", Kind::Evidence),
        ("window", Kind::Window),
        ("query", Kind::Query),
        ("alert_rules", Kind::AlertRules),
        ("rubric", Kind::Rubric),
        ("plan", Kind::Plan),
    ];
    pub fn as_str(self) -> &'static str {
        Kind::CHOICES.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).unwrap_or("choice")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Service,
    Endpoint,
    Node,
    Pod,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Service => "service",
            EntityKind::Endpoint => "endpoint",
            EntityKind::Node => "node",
            EntityKind::Pod => "pod",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    PromQL,
    LogQL,
    TraceQL,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::PromQL => "promql",
            Language::LogQL => "logql",
            Language::TraceQL => "traceql",
        }
    }
}

/// A ground-truth fact an answer is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruthKey {
    /// The culprit fault's service (or node / pod for node and pod faults).
    CulpritService,
    CulpritNode,
    CulpritPod,
    /// Catalogue name of the culprit mechanism.
    CulpritMechanism,
    /// The signals in which the mechanism shows.
    CulpritSignals,
    /// The next action for the mechanism.
    NextAction,
    /// The culprit's active windows.
    IncidentWindows,
    /// A kept trace with a span shaped by the culprit.
    CulpritTrace,
    /// A kept trace of a failed request, and the span where it failed.
    FailedRequest,
    /// Error budget of the SLO window in minutes: (1 − objective) × window.
    BudgetMinutes,
    /// Error budget in requests: (1 − objective) × valid requests.
    BudgetRequests,
    /// Share of the budget consumed by failed requests.
    BudgetConsumed,
    /// Budget policy: `ship` when budget is left, else `freeze`.
    BudgetPolicy,
}

impl TruthKey {
    const CHOICES: [(&'static str, TruthKey); 13] = [
        ("culprit.service", TruthKey::CulpritService),
        ("culprit.node", TruthKey::CulpritNode),
        ("culprit.pod", TruthKey::CulpritPod),
        ("culprit.mechanism", TruthKey::CulpritMechanism),
        ("culprit.signals", TruthKey::CulpritSignals),
        ("culprit.next_action", TruthKey::NextAction),
        ("culprit.windows", TruthKey::IncidentWindows),
        ("culprit.trace", TruthKey::CulpritTrace),
        ("failed_request.trace", TruthKey::FailedRequest),
        ("slo.budget_minutes", TruthKey::BudgetMinutes),
        ("slo.budget_requests", TruthKey::BudgetRequests),
        ("slo.budget_consumed", TruthKey::BudgetConsumed),
        ("slo.policy", TruthKey::BudgetPolicy),
    ];
    pub const NAMES: &'static [&'static str] = &[
        "culprit.service",
        "culprit.node",
        "culprit.pod",
        "culprit.mechanism",
        "culprit.signals",
        "culprit.next_action",
        "culprit.windows",
        "culprit.trace",
        "failed_request.trace",
        "slo.budget_minutes",
        "slo.budget_requests",
        "slo.budget_consumed",
        "slo.policy",
    ];
    pub fn as_str(self) -> &'static str {
        TruthKey::CHOICES.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).unwrap_or("")
    }
    /// The kinds of question this key can answer.
    fn fits(self, kind: Kind) -> bool {
        use TruthKey::*;
        match self {
            CulpritService | CulpritNode | CulpritPod => kind == Kind::Entity,
            CulpritMechanism | NextAction | BudgetPolicy => kind == Kind::Choice,
            CulpritSignals => kind == Kind::Multi,
            IncidentWindows => kind == Kind::Window,
            CulpritTrace | FailedRequest => kind == Kind::Evidence,
            BudgetMinutes | BudgetRequests | BudgetConsumed => kind == Kind::Number,
        }
    }
}

/// Where a question's expected answer comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Truth(TruthKey),
    /// A PromQL query evaluated at the end of the run (`$__range` is the
    /// run's length): a number, or with `label` the top series' label value.
    PromQL { expr: String, label: Option<String> },
    /// The reference query of a query question.
    Reference { language: Language, expr: String },
    /// Alert rules: the replay of the history against its incidents.
    Replay,
    /// Rubric: key points.
    KeyPoints,
    /// Plan: the instrumentation rules, with the run's label values.
    Rules,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChoiceOption {
    pub id: String,
    pub text: String,
}

/// A resolved question.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub id: String,
    pub kind: Kind,
    pub prompt: String,
    pub points: f64,
    pub hints: Vec<String>,
    /// Points each hint taken costs.
    pub hint_cost: f64,
    /// Shown once the question is answered.
    pub explanation: String,
    pub source: Source,
    pub options: Vec<ChoiceOption>,
    pub entity: Option<EntityKind>,
    pub dimension: Option<Dimension>,
    pub tolerance: Tolerance,
    /// SLO objective for `slo.*` keys (e.g. 0.999).
    pub objective: f64,
    /// For `failed_request.trace`: the root endpoint, e.g. `POST /orders`.
    pub endpoint: Option<String>,
    pub key_points: Vec<KeyPoint>,
    pub model_answer: String,
    /// Plan questions: the most series the request metrics may have.
    pub series_budget: Option<u64>,
}

/// `[[questions]]` as written, before the answer source is checked.
#[derive(Clone, Debug)]
pub struct QuestionSpec {
    pub id: Spanned<String>,
    pub kind: Kind,
    pub prompt: String,
    pub points: f64,
    pub hints: Vec<String>,
    pub hint_cost: f64,
    pub explanation: String,
    pub answer: Option<Spanned<Value>>,
    pub reference: Option<Spanned<String>>,
    pub language: Option<Language>,
    pub options: Option<Spanned<Value>>,
    pub entity: Option<EntityKind>,
    pub unit: Option<Dimension>,
    pub tolerance: Option<f64>,
    pub tolerance_abs: Option<f64>,
    pub objective: Option<f64>,
    pub endpoint: Option<String>,
    pub key_points: Vec<KeyPointSpec>,
    pub model_answer: String,
    pub series_budget: Option<Spanned<u64>>,
}

#[derive(Clone, Debug)]
pub struct KeyPointSpec {
    pub id: String,
    pub text: String,
    pub phrasings: Vec<String>,
}

const QUESTION_FIELDS: &[&str] = &[
    "id",
    "kind",
    "prompt",
    "points",
    "hints",
    "hint_cost",
    "explanation",
    "answer",
    "reference",
    "language",
    "options",
    "entity",
    "unit",
    "tolerance",
    "tolerance_abs",
    "objective",
    "endpoint",
    "key_points",
    "model_answer",
    "series_budget",
];

impl Decode for Kind {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self, DecodeError> {
        variant(v, path, &Kind::CHOICES, Kind::NAMES)
    }
}

impl Decode for KeyPointSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self, DecodeError> {
        let f = Fields::of(v, path, &["id", "text", "phrasings"])?;
        Ok(KeyPointSpec { id: f.required("id")?, text: f.required("text")?, phrasings: f.required("phrasings")? })
    }
}

impl Decode for QuestionSpec {
    fn decode(v: &Spanned<Value>, path: &str) -> Result<Self, DecodeError> {
        let f = Fields::of(v, path, QUESTION_FIELDS)?;
        let points: f64 = f.or("points", || 1.0)?;
        let language = f.with("language", |v, p| variant(v, p, &[("promql", Language::PromQL), ("logql", Language::LogQL), ("traceql", Language::TraceQL)], &["promql", "logql", "traceql"]))?;
        let entity = f.with("entity", |v, p| {
            variant(v, p, &[("service", EntityKind::Service), ("endpoint", EntityKind::Endpoint), ("node", EntityKind::Node), ("pod", EntityKind::Pod)], &["service", "endpoint", "node", "pod"])
        })?;
        let unit = f.with("unit", |v, p| {
            variant(
                v,
                p,
                &[("time", Dimension::Time), ("ratio", Dimension::Ratio), ("count", Dimension::Count), ("rate", Dimension::Rate), ("bytes", Dimension::Bytes)],
                &["time", "ratio", "count", "rate", "bytes"],
            )
        })?;
        Ok(QuestionSpec {
            id: f.required("id")?,
            kind: f.required("kind")?,
            prompt: f.required("prompt")?,
            points,
            hints: f.or("hints", Vec::new)?,
            hint_cost: f.or("hint_cost", || 1.0)?,
            explanation: f.or("explanation", String::new)?,
            answer: f.optional("answer")?,
            reference: f.optional("reference")?,
            language,
            options: f.optional("options")?,
            entity,
            unit,
            tolerance: f.optional("tolerance")?,
            tolerance_abs: f.optional("tolerance_abs")?,
            objective: f.optional("objective")?,
            endpoint: f.optional("endpoint")?,
            key_points: f.or("key_points", Vec::new)?,
            model_answer: f.or("model_answer", String::new)?,
            series_budget: f.optional("series_budget")?,
        })
    }
}

/// Any value, kept for the field's own resolution (`answer`, `options`).
impl Decode for Value {
    fn decode(v: &Spanned<Value>, _path: &str) -> Result<Self, DecodeError> {
        Ok(v.get_ref().clone())
    }
}

/// A question that does not hold together: the span in the file, the field
/// path and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionError {
    pub span: Range<usize>,
    pub path: String,
    pub message: String,
}

fn qerr<T>(span: Range<usize>, path: String, message: impl Into<String>) -> Result<T, QuestionError> {
    Err(QuestionError { span, path, message: message.into() })
}

fn decode_err(e: DecodeError) -> QuestionError {
    QuestionError { span: e.span, path: e.path, message: e.kind.to_string() }
}

/// Checks each spec and turns it into a [`Question`]: ids unique, the
/// answer source fits the kind, options present for choices, reference
/// queries parse.
pub fn resolve(specs: &[QuestionSpec]) -> Result<Vec<Question>, QuestionError> {
    let mut out: Vec<Question> = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let path = |field: &str| format!("questions[{i}].{field}");
        let id = s.id.get_ref().clone();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return qerr(s.id.span(), path("id"), format!("expected letters, digits, '-' or '_', found {id:?}"));
        }
        if out.iter().any(|q| q.id == id) {
            return qerr(s.id.span(), path("id"), format!("question {id:?} is defined twice"));
        }
        if !(s.points.is_finite() && s.points > 0.0) {
            return qerr(s.id.span(), path("points"), format!("expected a positive number of points, found {}", s.points));
        }
        if !(s.hint_cost.is_finite() && s.hint_cost >= 0.0) {
            return qerr(s.id.span(), path("hint_cost"), "expected a cost of zero or more points");
        }
        let source = resolve_source(s, &path)?;
        let options = resolve_options(s, &source, &path)?;
        if matches!(s.kind, Kind::Choice | Kind::Multi) && options.is_empty() {
            return qerr(s.id.span(), path("options"), "a choice question needs options: an array of { id, text } tables or \"catalogue\" / \"signals\" / \"actions\"");
        }
        if s.kind == Kind::Entity && s.entity.is_none() {
            return qerr(s.id.span(), path("entity"), "an entity question needs `entity`: service, endpoint, node or pod");
        }
        if s.kind == Kind::Number && s.unit.is_none() {
            return qerr(s.id.span(), path("unit"), "a number question needs `unit`: time, ratio, count, rate or bytes");
        }
        let series_budget = match (&s.series_budget, s.kind) {
            (Some(b), Kind::Plan) if *b.get_ref() == 0 => return qerr(b.span(), path("series_budget"), "expected a budget of at least 1 series"),
            (Some(b), Kind::Plan) => Some(*b.get_ref()),
            (None, Kind::Plan) => return qerr(s.id.span(), path("series_budget"), "a plan question needs `series_budget`: the most series the request metrics may have"),
            (Some(b), _) => return qerr(b.span(), path("series_budget"), "only plan questions take `series_budget`"),
            (None, _) => None,
        };
        if s.kind == Kind::Rubric && s.key_points.is_empty() {
            return qerr(s.id.span(), path("key_points"), "a rubric question needs key points");
        }
        let tolerance = match (s.tolerance, s.tolerance_abs) {
            (Some(_), Some(_)) => return qerr(s.id.span(), path("tolerance"), "give `tolerance` (relative) or `tolerance_abs`, not both"),
            (Some(r), None) if r.is_finite() && r >= 0.0 => Tolerance::Relative(r),
            (None, Some(a)) if a.is_finite() && a >= 0.0 => Tolerance::Absolute(a),
            (None, None) => Tolerance::Relative(0.05),
            _ => return qerr(s.id.span(), path("tolerance"), "expected a tolerance of zero or more"),
        };
        let objective = s.objective.unwrap_or(0.999);
        if !(objective > 0.0 && objective < 1.0) {
            return qerr(s.id.span(), path("objective"), format!("expected an objective between 0 and 1 such as 0.999, found {objective}"));
        }
        out.push(Question {
            id,
            kind: s.kind,
            prompt: s.prompt.clone(),
            points: s.points,
            hints: s.hints.clone(),
            hint_cost: s.hint_cost,
            explanation: s.explanation.clone(),
            source,
            options,
            entity: s.entity,
            dimension: s.unit,
            tolerance,
            objective,
            endpoint: s.endpoint.clone(),
            key_points: s.key_points.iter().map(|k| KeyPoint { id: k.id.clone(), text: k.text.clone(), phrasings: k.phrasings.clone() }).collect(),
            model_answer: s.model_answer.clone(),
            series_budget,
        });
    }
    Ok(out)
}

fn resolve_source(s: &QuestionSpec, path: &dyn Fn(&str) -> String) -> Result<Source, QuestionError> {
    match s.kind {
        Kind::Rubric => return Ok(Source::KeyPoints),
        Kind::AlertRules => return Ok(Source::Replay),
        Kind::Plan if s.answer.is_some() => {
            let a = s.answer.as_ref().map(|a| a.span()).unwrap_or(0..0);
            return qerr(a, path("answer"), "a plan question takes no `answer`: the rules and the run's data are its answer");
        }
        Kind::Plan => return Ok(Source::Rules),
        Kind::Query => {
            let Some(r) = &s.reference else {
                return qerr(s.id.span(), path("reference"), "a query question needs a `reference` query");
            };
            let language = s.language.unwrap_or(Language::PromQL);
            let checked = match language {
                Language::PromQL => crate::query::promql::parse(&expand_range(r.get_ref(), 3600)).map(|_| ()),
                Language::LogQL => crate::query::logql::parse(r.get_ref()).map(|_| ()),
                Language::TraceQL => crate::query::traceql::parse(r.get_ref()).map(|_| ()),
            };
            if let Err(e) = checked {
                return qerr(r.span(), path("reference"), format!("the reference query does not parse: {}", e.message));
            }
            return Ok(Source::Reference { language, expr: r.get_ref().clone() });
        }
        _ => {}
    }
    let Some(answer) = &s.answer else {
        return qerr(s.id.span(), path("answer"), format!("expected `answer`: one of {} or {{ promql = \"...\" }}", TruthKey::NAMES.join(", ")));
    };
    match answer.get_ref() {
        Value::String(key) => match TruthKey::CHOICES.iter().find(|(n, _)| n == key) {
            Some((_, k)) if k.fits(s.kind) => Ok(Source::Truth(*k)),
            Some(_) => qerr(answer.span(), path("answer"), format!("{key:?} does not answer a {} question", s.kind.as_str())),
            None => Err(decode_err(DecodeError { span: answer.span(), path: path("answer"), kind: DecodeErrorKind::UnknownVariant { found: key.clone(), expected: TruthKey::NAMES } })),
        },
        Value::Table(_) => {
            let p = path("answer");
            let f = Fields::of(answer, &p, &["promql", "label"]).map_err(decode_err)?;
            let expr: Spanned<String> = f.required("promql").map_err(decode_err)?;
            let label: Option<String> = f.optional("label").map_err(decode_err)?;
            if let Err(e) = crate::query::promql::parse(&expand_range(expr.get_ref(), 3600)) {
                return qerr(expr.span(), format!("{p}.promql"), format!("the PromQL does not parse: {}", e.message));
            }
            match (s.kind, &label) {
                (Kind::Number, None) | (Kind::Entity, Some(_)) => Ok(Source::PromQL { expr: expr.get_ref().clone(), label }),
                (Kind::Entity, None) => qerr(answer.span(), p, "an entity answered by a query needs `label`: the label of the top series that names the entity"),
                (Kind::Number, Some(_)) => qerr(answer.span(), p, "a number answered by a query takes no `label`"),
                _ => qerr(answer.span(), p, format!("a query answer fits number and entity questions, not {}", s.kind.as_str())),
            }
        }
        other => qerr(answer.span(), path("answer"), format!("expected a string key or a {{ promql = \"...\" }} table, found {}", other.describe())),
    }
}

fn resolve_options(s: &QuestionSpec, source: &Source, path: &dyn Fn(&str) -> String) -> Result<Vec<ChoiceOption>, QuestionError> {
    let Some(v) = &s.options else { return Ok(Vec::new()) };
    let opts: Vec<ChoiceOption> = match v.get_ref() {
        Value::String(name) => match name.as_str() {
            "catalogue" => catalogue::MECHANISMS.iter().map(|m| ChoiceOption { id: m.id.into(), text: m.title.into() }).collect(),
            "signals" => catalogue::SIGNALS.iter().map(|(id, t)| ChoiceOption { id: (*id).into(), text: (*t).into() }).collect(),
            "actions" => catalogue::MECHANISMS.iter().map(|m| ChoiceOption { id: m.action.0.into(), text: m.action.1.into() }).collect(),
            other => return qerr(v.span(), path("options"), format!("expected \"catalogue\", \"signals\", \"actions\" or an array of {{ id, text }}, found {other:?}")),
        },
        Value::Array(items) => {
            let mut out = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let p = format!("{}[{j}]", path("options"));
                let f = Fields::of(item, &p, &["id", "text"]).map_err(decode_err)?;
                let id: String = f.required("id").map_err(decode_err)?;
                let text: String = f.required("text").map_err(decode_err)?;
                if out.iter().any(|o: &ChoiceOption| o.id == id) {
                    return qerr(item.span(), p, format!("option {id:?} appears twice"));
                }
                out.push(ChoiceOption { id, text });
            }
            out
        }
        other => return qerr(v.span(), path("options"), format!("expected an array of {{ id, text }} tables, found {}", other.describe())),
    };
    // The truth key's possible answers must all be options.
    let needed: Vec<&str> = match source {
        Source::Truth(TruthKey::CulpritMechanism) => catalogue::MECHANISMS.iter().map(|m| m.id).collect(),
        Source::Truth(TruthKey::NextAction) => catalogue::MECHANISMS.iter().map(|m| m.action.0).collect(),
        Source::Truth(TruthKey::CulpritSignals) => catalogue::SIGNALS.iter().map(|(id, _)| *id).collect(),
        Source::Truth(TruthKey::BudgetPolicy) => vec!["ship", "freeze"],
        _ => Vec::new(),
    };
    if let Some(missing) = needed.iter().find(|n| !opts.iter().any(|o| o.id == **n)) {
        return qerr(v.span(), path("options"), format!("option {missing:?} is missing: the run's answer may be any of {}", needed.join(", ")));
    }
    Ok(opts)
}

/// Replaces `$__range` with the run's length in seconds.
pub fn expand_range(expr: &str, seconds: i64) -> String {
    expr.replace("$__range", &format!("{seconds}s"))
}
