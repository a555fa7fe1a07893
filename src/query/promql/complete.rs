//! Completion for the PromQL editor. From the text before the cursor, lexed
//! with [`lex_prefix`] so that a query still being typed works, it tells
//! what is being written (an expression, an operator keyword, a label name,
//! a label value) and offers the matching metric names, functions,
//! aggregations, keywords, label names and values of the series store.
//! It never fails: text it cannot read gets [`Context::None`].

use super::functions::{self, Func, FUNCTIONS};
use super::lexer::{lex_prefix, Tok, Token};
use crate::store::SeriesStore;
use std::ops::Range;

/// What the word under the cursor is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Context {
    /// Nothing to offer (inside a duration, after `offset`, a bad token, ...).
    None,
    /// Where an expression starts: metric names, functions, aggregations.
    Expression,
    /// After an expression: binary operators and modifiers.
    Operator,
    /// After an aggregation's name: `by` or `without`.
    Grouping,
    /// Inside `{...}` or a label list such as `by (...)`; the metric of the
    /// selector (or of the query) when one is known.
    LabelName { metric: Option<String> },
    /// Inside the quotes after `label=` (or `!=`, `=~`, `!~`).
    LabelValue { metric: Option<String>, label: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Metric,
    Function,
    Aggregation,
    Keyword,
    Label,
    Value,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Metric => "metric",
            Kind::Function => "function",
            Kind::Aggregation => "aggregation",
            Kind::Keyword => "keyword",
            Kind::Label => "label",
            Kind::Value => "value",
        }
    }
}

/// One suggestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// What the list shows.
    pub label: String,
    /// What replaces [`Completion::replace`] when it is accepted.
    pub insert: String,
    pub kind: Kind,
    /// The bytes of `label` that matched what was typed.
    pub matched: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub context: Context,
    /// What was typed so far of the word under the cursor.
    pub prefix: String,
    /// The byte range of the query an accepted candidate replaces (ends at
    /// the cursor; both ends on character boundaries).
    pub replace: Range<usize>,
    /// Prefix matches first, then matches elsewhere in the name; at most
    /// `limit` of them.
    pub items: Vec<Candidate>,
    /// How many matched before the cap.
    pub total: usize,
}

const AGGREGATIONS: &[&str] = &["sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "limitk", "limit_ratio"];
const OPERATOR_KEYWORDS: &[&str] = &["and", "or", "unless", "atan2", "on", "ignoring", "group_left", "group_right", "bool", "offset", "by", "without"];
/// Keywords after which an expression starts.
const BINARY_KEYWORDS: &[&str] = &["and", "or", "unless", "atan2", "bool"];
/// Keywords followed by a label list in parentheses.
const LABEL_LIST_KEYWORDS: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];

enum Open {
    /// `(`, and whether it opens a label list (`by (`).
    Paren(bool),
    /// `{`, with the metric name written before it.
    Brace(Option<String>),
    Bracket,
}

/// Completes `query` at byte offset `cursor` (clamped to the text and to a
/// character boundary), offering at most `limit` candidates.
pub fn complete(query: &str, cursor: usize, store: &SeriesStore, limit: usize) -> Completion {
    let mut cursor = cursor.min(query.len());
    while !query.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let head = &query[..cursor];
    let toks = lex_prefix(head);
    let rest = head[toks.last().map_or(0, |t| t.span.end)..].trim_start_matches([' ', '\t', '\n', '\r']);
    let mut out = Completion { context: Context::None, prefix: String::new(), replace: cursor..cursor, items: vec![], total: 0 };
    // What is being typed: an unfinished string, an identifier or nothing.
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'));
    let before: &[Token] = if quote.is_some() {
        out.replace = cursor - rest.len() + 1..cursor;
        &toks
    } else if !rest.is_empty() {
        return out;
    } else {
        match toks.last() {
            Some(t) if t.tok == Tok::Ident && t.span.end == cursor => {
                out.replace = t.span.clone();
                &toks[..toks.len() - 1]
            }
            _ => &toks,
        }
    };
    out.prefix = query[out.replace.clone()].to_string();
    out.context = context(head, before, quote.is_some(), query, store);

    // Candidates in display order, with what accepting one inserts.
    let mut all: Vec<(Kind, String, String)> = Vec::new();
    let after = query[cursor..].trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    match &out.context {
        Context::None => {}
        Context::Expression => {
            all.extend(store.names().filter(|n| !n.is_empty()).map(|n| (Kind::Metric, n.to_string(), n.to_string())));
            all.extend(AGGREGATIONS.iter().map(|a| (Kind::Aggregation, a.to_string(), a.to_string())));
            let call = if after.starts_with('(') { "" } else { "(" };
            all.extend(FUNCTIONS.iter().filter(|f| !matches!(f.func, Func::Unsupported(_))).map(|f| (Kind::Function, f.name.to_string(), format!("{}{call}", f.name))));
        }
        Context::Operator => all.extend(OPERATOR_KEYWORDS.iter().map(|k| (Kind::Keyword, k.to_string(), k.to_string()))),
        Context::Grouping => all.extend(["by", "without"].map(|k| (Kind::Keyword, k.to_string(), k.to_string()))),
        Context::LabelName { metric } => {
            let mut names = Vec::new();
            for_series(store, metric.as_deref(), |l| names.extend(l.iter().map(|l| &*l.name).filter(|n| *n != "__name__")));
            sorted_unique(&mut names);
            // Inside braces a matcher follows the name.
            let in_braces = before.iter().rev().find(|t| matches!(t.tok, Tok::LBrace | Tok::LParen)).is_some_and(|t| t.tok == Tok::LBrace);
            let eq = if in_braces && !after.trim_start().starts_with(['=', '!']) { "=\"" } else { "" };
            all.extend(names.into_iter().map(|n| (Kind::Label, n.to_string(), format!("{n}{eq}"))));
        }
        Context::LabelValue { metric, label } => {
            let mut values = Vec::new();
            for_series(store, metric.as_deref(), |l| values.extend(l.get(label)));
            sorted_unique(&mut values);
            let q = quote.unwrap_or('"');
            let close = if after.starts_with(q) { String::new() } else { q.to_string() };
            all.extend(values.into_iter().map(|v| (Kind::Value, v.to_string(), format!("{}{close}", escape(v, q)))));
        }
    }

    let typed = out.prefix.to_ascii_lowercase();
    // ASCII lower-casing keeps byte offsets. A match inside a name counts
    // from two characters typed, after the prefix matches.
    let at: Vec<Option<usize>> = all.iter().map(|(_, label, _)| label.to_ascii_lowercase().find(&typed).filter(|&at| at == 0 || typed.len() >= 2)).collect();
    let order = at.iter().enumerate().filter(|(_, a)| **a == Some(0)).chain(at.iter().enumerate().filter(|(_, a)| a.is_some_and(|a| a > 0)));
    for (i, a) in order {
        out.total += 1;
        if out.items.len() < limit {
            let (kind, label, insert) = all[i].clone();
            let a = a.unwrap_or(0);
            out.items.push(Candidate { matched: a..a + typed.len(), label, insert, kind });
        }
    }
    out
}

fn sorted_unique(v: &mut Vec<&str>) {
    crate::sort::sort(v);
    v.dedup();
}

/// What the tokens before the word under the cursor leave room for.
fn context(head: &str, toks: &[Token], in_string: bool, query: &str, store: &SeriesStore) -> Context {
    let word = |t: &Token| head[t.span.clone()].to_ascii_lowercase();
    let mut open = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| &toks[j]).filter(|p| p.tok == Tok::Ident);
        match t.tok {
            Tok::LParen => open.push(Open::Paren(prev.is_some_and(|p| LABEL_LIST_KEYWORDS.contains(&word(p).as_str())))),
            Tok::LBrace => open.push(Open::Brace(prev.map(|p| head[p.span.clone()].to_string()))),
            Tok::LBracket => open.push(Open::Bracket),
            Tok::RParen | Tok::RBrace | Tok::RBracket => {
                open.pop();
            }
            _ => {}
        }
    }
    let last = toks.last();
    let last_tok = last.map(|t| t.tok);
    match open.last() {
        Some(Open::Bracket) => Context::None,
        Some(Open::Brace(metric)) => match toks {
            [.., l, op] if in_string && l.tok == Tok::Ident && matches!(op.tok, Tok::Assign | Tok::Neq | Tok::EqlRegex | Tok::NeqRegex) => {
                Context::LabelValue { metric: metric.clone(), label: head[l.span.clone()].to_string() }
            }
            _ if !in_string && matches!(last_tok, Some(Tok::LBrace | Tok::Comma)) => Context::LabelName { metric: metric.clone() },
            _ => Context::None,
        },
        Some(Open::Paren(true)) if !in_string && matches!(last_tok, Some(Tok::LParen | Tok::Comma)) => {
            // The first metric the query names (it may come after the list).
            let metric = lex_prefix(query).iter().filter(|t| t.tok == Tok::Ident).map(|t| &query[t.span.clone()]).find(|w| !store.by_name(w).is_empty()).map(str::to_string);
            Context::LabelName { metric }
        }
        Some(Open::Paren(true)) => Context::None,
        _ if in_string => Context::None,
        _ => match last {
            None => Context::Expression,
            Some(t) => match t.tok {
                Tok::Ident => {
                    let w = word(t);
                    if BINARY_KEYWORDS.contains(&w.as_str()) {
                        Context::Expression
                    } else if LABEL_LIST_KEYWORDS.contains(&w.as_str()) || w == "offset" || functions::lookup(&head[t.span.clone()]).is_some() {
                        Context::None
                    } else if AGGREGATIONS.contains(&w.as_str()) {
                        Context::Grouping
                    } else {
                        Context::Operator
                    }
                }
                Tok::Number | Tok::Duration | Tok::Str | Tok::RParen | Tok::RBrace | Tok::RBracket => Context::Operator,
                Tok::At | Tok::Colon => Context::None,
                _ => Context::Expression,
            },
        },
    }
}

/// Calls `f` with the labels of every series of `metric`, or of every
/// series when the metric is unknown or has none.
fn for_series<'a>(store: &'a SeriesStore, metric: Option<&str>, mut f: impl FnMut(&'a crate::telemetry::metric::Labels)) {
    match metric.map(|m| store.by_name(m)).filter(|ids| !ids.is_empty()) {
        Some(ids) => ids.iter().for_each(|&id| f(&store.get(id).labels)),
        None => store.iter().for_each(|(_, s)| f(&s.labels)),
    }
}

/// A label value as it must be written between `quote`s.
fn escape(v: &str, quote: char) -> String {
    if quote == '`' {
        return v.to_string();
    }
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c if c == quote => {
                s.push('\\');
                s.push(c)
            }
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::metric::Labels;
    use proptest::prelude::*;

    fn store() -> SeriesStore {
        let mut st = SeriesStore::new();
        for (name, service, code) in [
            ("http_server_request_duration_seconds_count", "checkout", "200"),
            ("http_server_request_duration_seconds_count", "cart", "500"),
            ("http_server_request_duration_seconds_bucket", "cart", "200"),
            ("process_cpu_seconds_total", "cart", ""),
        ] {
            let mut l = Labels::from_pairs([("__name__", name), ("service", service)]);
            if !code.is_empty() {
                l.set("code", code);
            }
            if name.ends_with("_total") {
                l.set("pod", "cart-7\"x");
            }
            st.get_or_create(l);
        }
        st
    }

    /// Completes at the `|` in `q`.
    fn at(q: &str) -> Completion {
        let cursor = q.find('|').unwrap();
        complete(&q.replace('|', ""), cursor, &store(), 50)
    }
    fn labels(c: &Completion) -> Vec<&str> {
        c.items.iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn metric_names_in_a_function_argument() {
        let c = at("rate(http_server_req|");
        assert_eq!(c.context, Context::Expression);
        assert_eq!(c.prefix, "http_server_req");
        assert_eq!(c.replace, 5..20);
        assert_eq!(labels(&c), ["http_server_request_duration_seconds_bucket", "http_server_request_duration_seconds_count"]);
        assert!(c.items.iter().all(|i| i.kind == Kind::Metric && i.matched == (0..15)));
        // In the middle of a word, only the part before the cursor counts.
        let c = at("sum(ra|te(x[5m]))");
        assert_eq!(c.prefix, "ra");
        assert_eq!(c.replace, 4..6);
        assert_eq!(labels(&c)[..3], ["rad", "range", "rate"], "prefix matches first");
        assert_eq!(c.items[2].insert, "rate", "no second parenthesis before the one written");
    }

    #[test]
    fn functions_and_aggregations_prefix_matches_first() {
        let c = at("histogram_q|");
        assert_eq!(labels(&c), ["histogram_quantile", "histogram_quantiles"]);
        assert_eq!(c.items[0].insert, "histogram_quantile(");
        let c = at("cpu|");
        assert_eq!(labels(&c), ["process_cpu_seconds_total"], "a match inside the name counts");
        assert_eq!(c.items[0].matched, 8..11);
        let c = at("su|");
        assert_eq!(labels(&c)[..2], ["sum", "sum_over_time"]);
        assert!(!labels(&at("histogram_c|")).contains(&"histogram_count"), "unsupported functions are not offered");
        let c = complete("", 0, &store(), 3);
        assert_eq!((c.items.len(), c.context.clone()), (3, Context::Expression));
        assert!(c.total > 80);
    }

    #[test]
    fn keywords_after_expressions() {
        assert_eq!(labels(&at("sum b|")), ["by"]);
        assert_eq!(at("sum |").context, Context::Grouping);
        assert_eq!(labels(&at("up o|")), ["or", "on", "offset"]);
        assert_eq!(labels(&at("rate(x[5m]) group|")), ["group_left", "group_right"]);
        assert_eq!(at("a and |").context, Context::Expression);
        assert_eq!(at("a > bool http|").items.len(), 2);
        assert_eq!(at("x offset |").context, Context::None);
        assert_eq!(at("rate |").context, Context::None);
        assert_eq!(at("x[5|").context, Context::None);
        assert_eq!(at("x[5m:|").context, Context::None);
    }

    #[test]
    fn label_names_in_braces_and_lists() {
        let c = at("sum by (|");
        assert_eq!(c.context, Context::LabelName { metric: None });
        assert_eq!(labels(&c), ["code", "pod", "service"]);
        assert_eq!(c.items[0].insert, "code", "no matcher in a label list");
        let c = at("sum by (service, |) (rate(process_cpu_seconds_total[5m]))");
        assert_eq!(c.context, Context::LabelName { metric: Some("process_cpu_seconds_total".into()) });
        assert_eq!(labels(&c), ["pod", "service"]);
        let c = at("http_server_request_duration_seconds_count{|");
        assert_eq!(labels(&c), ["code", "service"]);
        assert_eq!(c.items[1].insert, "service=\"");
        let c = at("x{code=\"200\", se|}");
        assert_eq!((c.prefix.as_str(), labels(&c)), ("se", vec!["service"]));
        assert_eq!(labels(&at("a * on(|) b")), ["code", "pod", "service"]);
        assert_eq!(at("x{code=|").context, Context::None);
    }

    #[test]
    fn label_values_in_quotes() {
        let c = at("{service=\"|");
        assert_eq!(c.context, Context::LabelValue { metric: None, label: "service".into() });
        assert_eq!(labels(&c), ["cart", "checkout"]);
        assert_eq!(c.items[0].insert, "cart\"");
        let c = at("http_server_request_duration_seconds_count{service=~\"ch|\"}");
        assert_eq!((c.prefix.as_str(), labels(&c)), ("ch", vec!["checkout"]));
        assert_eq!(c.items[0].insert, "checkout", "the closing quote is there already");
        assert_eq!(c.replace, 53..55);
        let c = at("process_cpu_seconds_total{pod!='|");
        assert_eq!(c.items[0].insert, "cart-7\"x'");
        let c = at("process_cpu_seconds_total{pod!=\"|");
        assert_eq!(c.items[0].insert, "cart-7\\\"x\"");
        assert_eq!(labels(&at("http_server_request_duration_seconds_bucket{code=\"|")), ["200"]);
        assert_eq!(at("label_replace(up, \"|").context, Context::None);
    }

    proptest! {
        #[test]
        fn never_panics_and_replaces_inside_the_text(q in "\\PC{0,40}|[a-z_{}()\\[\\]=~!\"', 0-9.:#+*/-]{0,40}", cursor in 0usize..48, limit in 0usize..5) {
            let c = complete(&q, cursor, &store(), limit);
            prop_assert!(c.replace.start <= c.replace.end && c.replace.end <= q.len());
            prop_assert!(q.is_char_boundary(c.replace.start) && q.is_char_boundary(c.replace.end));
            prop_assert!(c.items.len() <= limit && c.total >= c.items.len());
            for i in &c.items {
                prop_assert!(i.label.get(i.matched.clone()).is_some());
            }
        }
    }

    #[test]
    fn cursor_inside_a_character_or_past_the_end() {
        let c = complete("é", 1, &store(), 5);
        assert_eq!(c.replace, 0..0);
        let c = complete("up", 99, &store(), 5);
        assert_eq!(c.prefix, "up");
    }
}
