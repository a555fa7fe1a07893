//! Scenarios: the file format ([`format`]) read by a small TOML reader
//! ([`toml`]) and decoded by hand (`decode`), its resolution into a
//! checked [`model::Model`] the simulator runs, typed errors that name the
//! line, field and what was expected, and the built-in scenarios embedded
//! at compile time.

pub(crate) mod decode;
pub mod drill;
pub mod format;
pub mod model;
pub mod toml;

pub use model::Model;

use std::fmt;

/// A scenario file problem: where it is and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The dotted path of the field (`services[1].endpoints[0].steps[2].call`), if known.
    pub path: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.path.is_empty()) {
            (0, true) => write!(f, "{}", self.message),
            (0, false) => write!(f, "{}: {}", self.path, self.message),
            (l, true) => write!(f, "line {l}, column {}: {}", self.column, self.message),
            (l, false) => write!(f, "line {l}, column {}: {}: {}", self.column, self.path, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// An error at byte `offset` of `src`.
    fn at(src: &str, offset: usize, path: String, message: String) -> Self {
        let (line, column) = line_col(src, offset);
        ScenarioError { path, line, column, message }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = offset - before.iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0) + 1;
    (line, col)
}

/// A built-in scenario: its id and TOML source.
pub struct Builtin {
    pub id: &'static str,
    pub source: &'static str,
}

/// The intermittent-P99 shop, also the first of the drills' topologies.
pub(crate) const INTERMITTENT_P99: &str = include_str!("../../scenarios/intermittent-p99.toml");

pub const BUILTINS: &[Builtin] = &[
    Builtin { id: "bookstore", source: include_str!("../../scenarios/bookstore.toml") },
    Builtin { id: "intermittent-p99", source: INTERMITTENT_P99 },
    Builtin { id: "slo-rollout", source: include_str!("../../scenarios/slo-rollout.toml") },
];

/// The TOML source of a built-in scenario.
pub fn builtin(id: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|b| b.id == id).map(|b| b.source)
}

/// Parses and resolves a scenario file (what `obslab check` runs).
pub fn load(src: &str) -> Result<Model, ScenarioError> {
    model::resolve(&parse_file(src)?, src)
}

/// Parses a scenario file into its plain types, not yet resolved: the
/// drills edit a topology file at this level, then resolve it as
/// [`load`] does, so a drill passes the same checks as a file.
pub(crate) fn parse_file(src: &str) -> Result<format::ScenarioFile, ScenarioError> {
    let root = toml::parse(src).map_err(|e| ScenarioError::at(src, e.at, String::new(), e.to_string()))?;
    format::ScenarioFile::from_table(&root).map_err(|e| match e.span {
        // Nothing to point at: a field missing from the file as a whole.
        std::ops::Range { start: 0, end: 0 } => ScenarioError { path: e.path, line: 0, column: 0, message: e.kind.to_string() },
        span => ScenarioError::at(src, span.start, e.path, e.kind.to_string()),
    })
}

/// Loads a built-in scenario by id.
pub fn load_builtin(id: &str) -> Result<Model, ScenarioError> {
    let src = builtin(id).ok_or_else(|| ScenarioError {
        path: String::new(),
        line: 0,
        column: 0,
        message: format!(
            "no built-in scenario {id:?}; choose one of: {}",
            BUILTINS.iter().map(|b| b.id).collect::<Vec<_>>().join(", ")
        ),
    })?;
    load(src)
}
