//! TraceQL's dialect of the shared lexer ([`crate::query::lex`]).
//! Identifiers may hold dots, dashes and a scope colon (`span.http.route`,
//! `resource.service.name`, `trace:rootName`); a dot starts an unscoped
//! attribute (`.http.route`); `>>` and `<<` are structural operators and
//! `==` reads as `=`, as in Tempo.

use crate::query::diag::QueryError;
pub use crate::query::lex::{Tok, Token};
use crate::query::lex::{self, Dialect};

pub static TRACEQL: Dialect = Dialect {
    operators: &[
        ("{", Tok::LBrace),
        ("}", Tok::RBrace),
        ("(", Tok::LParen),
        (")", Tok::RParen),
        (",", Tok::Comma),
        ("||", Tok::OrOr),
        ("|", Tok::Pipe),
        ("&&", Tok::AndAnd),
        ("!=", Tok::Neq),
        ("!~", Tok::NeqRegex),
        ("!", Tok::Not),
        ("=~", Tok::EqRegex),
        ("==", Tok::Eq),
        ("=", Tok::Eq),
        (">>", Tok::Desc),
        (">=", Tok::Gte),
        (">", Tok::Gt),
        ("<<", Tok::Anc),
        ("<=", Tok::Lte),
        ("<", Tok::Lt),
        ("~", Tok::Tilde),
        ("+", Tok::Add),
        ("-", Tok::Sub),
        ("*", Tok::Mul),
        ("/", Tok::Div),
        ("%", Tok::Mod),
        ("^", Tok::Pow),
    ],
    ident_byte: |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b':' || b == b'-',
    comments: false,
    dot_idents: true,
    byte_sizes: false,
    hints: &[('\'', " (TraceQL strings use double quotes)"), ('&', " (did you mean &&?)")],
    bad_unit: "a duration (use ns, us, ms, s, m or h)",
};

pub fn lex(src: &str) -> Result<Vec<Token>, QueryError> {
    lex::lex(src, &TRACEQL)
}
