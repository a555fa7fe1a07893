//! Scenarios: the file format ([`format`]), its resolution into a checked
//! [`model::Model`] the simulator runs, typed errors that name the line,
//! field and what was expected, and the built-in scenarios embedded at
//! compile time.

pub mod format;
pub mod model;

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

pub const BUILTINS: &[Builtin] = &[
    Builtin { id: "bookstore", source: include_str!("../../scenarios/bookstore.toml") },
    Builtin { id: "intermittent-p99", source: include_str!("../../scenarios/intermittent-p99.toml") },
    Builtin { id: "slo-rollout", source: include_str!("../../scenarios/slo-rollout.toml") },
];

/// The TOML source of a built-in scenario.
pub fn builtin(id: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|b| b.id == id).map(|b| b.source)
}

/// Parses and resolves a scenario file.
pub fn load(src: &str) -> Result<Model, ScenarioError> {
    let file: format::ScenarioFile = toml::from_str(src).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(src, s.start)).unwrap_or((0, 0));
        ScenarioError { path: String::new(), line, column, message: e.message().trim().to_string() }
    })?;
    model::resolve(&file, src)
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
