//! Query engines over the lab's stores. Shared here: the typed
//! [`QueryError`] with a byte span and the caret rendering used by the CLI
//! and the UI ([`diag`]). Each language lives in its own module as
//! lexer → parser → ast → eval; today that is [`promql`].

pub mod diag;
pub mod lex;
pub mod logql;
pub mod traceql;
pub mod promql;

pub use diag::{ErrorKind, QueryError, render_error};
