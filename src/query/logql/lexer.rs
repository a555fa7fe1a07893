//! LogQL's dialect of the shared lexer ([`crate::query::lex`]): Loki's
//! operators, `#` comments, durations (`5m`, `250ms`, `1h30m`) and byte
//! sizes (`10KB`, `1MiB`) glued to numbers. Keywords stay identifiers and
//! the parser reads them in context, as Loki's grammar does.

use crate::query::diag::QueryError;
pub use crate::query::lex::{parse_bytes, parse_go_duration, unquote, Tok, Token, MAX_QUERY_LEN};
use crate::query::lex::{self, Dialect};

pub static LOGQL: Dialect = Dialect {
    operators: &[
        ("{", Tok::LBrace),
        ("}", Tok::RBrace),
        ("(", Tok::LParen),
        (")", Tok::RParen),
        ("[", Tok::LBracket),
        ("]", Tok::RBracket),
        (",", Tok::Comma),
        ("|=", Tok::PipeExact),
        ("|~", Tok::PipeMatch),
        ("|", Tok::Pipe),
        ("!=", Tok::Neq),
        ("!~", Tok::NeqRegex),
        ("==", Tok::EqEq),
        ("=~", Tok::EqRegex),
        ("=", Tok::Eq),
        (">=", Tok::Gte),
        (">", Tok::Gt),
        ("<=", Tok::Lte),
        ("<", Tok::Lt),
        ("+", Tok::Add),
        ("-", Tok::Sub),
        ("*", Tok::Mul),
        ("/", Tok::Div),
        ("%", Tok::Mod),
        ("^", Tok::Pow),
    ],
    ident_byte: |b| b.is_ascii_alphanumeric() || b == b'_',
    comments: true,
    dot_idents: false,
    byte_sizes: true,
    hints: &[('\'', " (LogQL strings use double quotes or backticks)"), ('!', " (did you mean != or !~?)")],
    bad_unit: "a duration (like 5m or 250ms) nor a byte size (like 10KB)",
};

pub fn lex(src: &str) -> Result<Vec<Token>, QueryError> {
    lex::lex(src, &LOGQL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_operators_and_literals() {
        use Tok::*;
        assert_eq!(toks(r#"{a=~"x"} |= "y" != `z` | json"#), vec![LBrace, Ident, EqRegex, Str, RBrace, PipeExact, Str, Neq, Str, Pipe, Ident, Eof]);
        assert_eq!(toks("[5m] > 250ms 10KB 0.99 1e3"), vec![LBracket, Duration, RBracket, Gt, Duration, Bytes, Number, Number, Eof]);
    }

    #[test]
    fn errors_point_at_the_text() {
        assert_eq!(lex(r#"{a="x}"#).unwrap_err().span, 3..6);
        assert_eq!(lex("{a='x'}").unwrap_err().span, 3..4);
        assert_eq!(lex("[5q]").unwrap_err().span, 1..3);
    }
}
