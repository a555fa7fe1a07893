//! TraceQL over the lab's [`TraceStore`](crate::store::TraceStore), with
//! Tempo semantics for the subset learners use: spanset filters on
//! intrinsics and attributes, `&& || !`, structural operators, and
//! aggregate pipelines. [`search`] answers like Tempo's search API and
//! [`to_tempo_json`] prints its JSON; [`cli`] is `obslab traces`.
//!
//! Layout: [`lexer`] → [`parser`] → [`ast`] → [`eval`].

pub mod ast;
pub mod cli;
pub mod eval;
pub mod lexer;
pub mod parser;

pub use ast::{Field, Spanset, V};
pub use cli::traces_main;

use crate::json::JsonWriter;
use crate::query::diag::QueryError;
use crate::store::Telemetry;
use crate::telemetry::ids::{SpanId, TraceId};
use ast::{Intrinsic, Stage};
use eval::TraceCtx;

/// Parses a TraceQL query.
pub fn parse(query: &str) -> Result<Spanset, QueryError> {
    parser::parse(query)
}

/// Search options; the defaults are Tempo's.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchOptions {
    /// Traces returned (Tempo: 20).
    pub limit: usize,
    /// Spans shown per matched spanset (Tempo's `spss`: 3).
    pub spans_per_spanset: usize,
    /// Only traces starting in `[start, end)` (Unix ms), when given.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions { limit: 20, spans_per_spanset: 3, start_ms: None, end_ms: None }
    }
}

/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 5000;

#[derive(Clone, Debug, PartialEq)]
pub struct MatchedSpan {
    pub span_id: SpanId,
    pub name: String,
    pub start_unix_nano: i128,
    pub duration_nanos: i64,
    /// The attributes the query reads (and `select`s), in query order.
    pub attributes: Vec<(String, V)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceMatch {
    pub trace_id: TraceId,
    pub root_service_name: String,
    pub root_trace_name: String,
    pub start_unix_nano: i128,
    pub duration_ms: u64,
    pub spans: Vec<MatchedSpan>,
    /// Spans in the matched spanset (more than `spans` may show).
    pub matched: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchResult {
    /// Newest first.
    pub traces: Vec<TraceMatch>,
    pub inspected_traces: u64,
    pub inspected_spans: u64,
}

/// Runs `query` over every kept trace and returns up to `limit` matches.
pub fn search(tel: &Telemetry, query: &str, limit: usize) -> Result<SearchResult, QueryError> {
    let q = parse(query)?;
    search_with(tel, &q, &SearchOptions { limit, ..Default::default() })
}

fn selects(s: &Spanset, out: &mut Vec<Field>) {
    // Attributes read by filters first, then those selected.
    s.attrs(out);
    if let Spanset::Pipeline { stages, .. } = s {
        for st in stages {
            if let Stage::Select(fs) = st {
                for f in fs {
                    if !out.iter().any(|g| g.to_string() == f.to_string()) {
                        out.push(f.clone());
                    }
                }
            }
        }
    }
}

fn attr_key(f: &Field) -> Option<String> {
    match f {
        Field::Attr { name, .. } => Some(name.clone()),
        Field::Intrinsic(i @ (Intrinsic::Status | Intrinsic::Kind | Intrinsic::StatusMessage)) => Some(i.as_str().to_string()),
        Field::Intrinsic(i @ (Intrinsic::RootName | Intrinsic::RootServiceName)) => Some(i.as_str().to_string()),
        _ => None,
    }
}

/// [`search`] on a parsed query.
pub fn search_with(tel: &Telemetry, q: &Spanset, opts: &SearchOptions) -> Result<SearchResult, QueryError> {
    eval::check_limit(opts.limit, MAX_LIMIT)?;
    let mut shown = Vec::new();
    selects(q, &mut shown);
    let shown: Vec<(String, Field)> = shown.into_iter().filter_map(|f| attr_key(&f).map(|k| (k, f))).collect();
    let mut found: Vec<(i64, TraceId, usize, Vec<bool>)> = Vec::new();
    let (mut inspected_traces, mut inspected_spans) = (0u64, 0u64);
    let store = &tel.traces;
    for (ti, t) in store.traces().iter().enumerate() {
        let spans = store.trace_spans(t);
        let root = t.root.map(|r| (r - t.first) as usize);
        let start = spans.iter().map(|s| s.start.0).min().unwrap_or(0);
        let start_ms = tel.unix_ms(crate::sim::time::SimTime(start));
        if opts.start_ms.is_some_and(|s| start_ms < s) || opts.end_ms.is_some_and(|e| start_ms >= e) {
            continue;
        }
        inspected_traces += 1;
        inspected_spans += spans.len() as u64;
        let mut cx = TraceCtx::new(tel, spans, root);
        let set = cx.eval_spanset(q);
        if set.iter().any(|&x| x) {
            found.push((start, t.trace_id, ti, set));
        }
    }
    crate::sort::sort_by(&mut found, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.truncate(opts.limit);
    let mut traces = Vec::with_capacity(found.len());
    for (start, trace_id, ti, set) in found {
        let t = &store.traces()[ti];
        let spans = store.trace_spans(t);
        let root = t.root.map(|r| (r - t.first) as usize);
        let mut cx = TraceCtx::new(tel, spans, root);
        let (root_service_name, root_trace_name) = match root {
            Some(r) => {
                let svc = match cx.intrinsic(r, Intrinsic::RootServiceName) {
                    V::Str(s) => s.to_string(),
                    _ => String::new(),
                };
                (svc, store.operation(spans[r].op).name.to_string())
            }
            None => ("<root span not yet received>".to_string(), String::new()),
        };
        let mut members: Vec<usize> = (0..spans.len()).filter(|&i| set[i]).collect();
        let matched = members.len();
        crate::sort::sort_by_key(&mut members, |&i| (spans[i].start.0, i));
        let mut out_spans = Vec::new();
        for &i in members.iter().take(opts.spans_per_spanset) {
            let s = &spans[i];
            let mut attributes = Vec::new();
            for (k, f) in &shown {
                let v = match f {
                    Field::Attr { scope, name } => cx.attr(i, *scope, name),
                    Field::Intrinsic(x) => cx.intrinsic(i, *x),
                    _ => V::Nil,
                };
                if v != V::Nil {
                    attributes.push((k.clone(), v));
                }
            }
            out_spans.push(MatchedSpan {
                span_id: s.span_id,
                name: store.operation(s.op).name.to_string(),
                start_unix_nano: tel.unix_nanos(s.start),
                duration_nanos: s.duration_us().saturating_mul(1000),
                attributes,
            });
        }
        traces.push(TraceMatch {
            trace_id,
            root_service_name,
            root_trace_name,
            start_unix_nano: tel.unix_nanos(crate::sim::time::SimTime(start)),
            duration_ms: ((cx.end - cx.start).max(0) / 1000) as u64,
            spans: out_spans,
            matched,
        });
    }
    Ok(SearchResult { traces, inspected_traces, inspected_spans })
}

/// A trace id as Tempo prints it: lowercase hex without leading zeros.
pub fn tempo_trace_id(id: TraceId) -> String {
    let s = id.to_string();
    let t = s.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.to_string() }
}

fn write_value(w: &mut JsonWriter, v: &V) {
    w.begin_object();
    match v {
        V::Str(s) => {
            w.field_str("stringValue", s);
        }
        V::Int(i) => {
            w.field_str("intValue", &i.to_string());
        }
        V::Float(x) => {
            w.field_float("doubleValue", *x);
        }
        V::Dur(d) => {
            w.field_str("intValue", &d.to_string());
        }
        V::Bool(b) => {
            w.field_bool("boolValue", *b);
        }
        V::Status(_) | V::Kind(_) => {
            w.field_str("stringValue", &v.to_string());
        }
        V::Nil => {}
    }
    w.end_object();
}

/// The result as Tempo's `/api/search` JSON.
pub fn to_tempo_json(r: &SearchResult) -> String {
    let mut w = JsonWriter::new();
    w.begin_object().key("traces").begin_array();
    for t in &r.traces {
        w.begin_object();
        w.field_str("traceID", &tempo_trace_id(t.trace_id));
        w.field_str("rootServiceName", &t.root_service_name);
        if !t.root_trace_name.is_empty() {
            w.field_str("rootTraceName", &t.root_trace_name);
        }
        w.field_str("startTimeUnixNano", &t.start_unix_nano.to_string());
        if t.duration_ms > 0 {
            w.field_int("durationMs", t.duration_ms as i128);
        }
        w.key("spanSets").begin_array().begin_object().key("spans").begin_array();
        for s in &t.spans {
            w.begin_object();
            w.field_str("spanID", &s.span_id.to_string());
            w.field_str("name", &s.name);
            w.field_str("startTimeUnixNano", &s.start_unix_nano.to_string());
            w.field_str("durationNanos", &s.duration_nanos.to_string());
            if !s.attributes.is_empty() {
                w.key("attributes").begin_array();
                for (k, v) in &s.attributes {
                    w.begin_object().field_str("key", k).key("value");
                    write_value(&mut w, v);
                    w.end_object();
                }
                w.end_array();
            }
            w.end_object();
        }
        w.end_array().field_int("matched", t.matched as i128).end_object().end_array();
        w.end_object();
    }
    w.end_array();
    w.key("metrics").begin_object().field_int("inspectedTraces", r.inspected_traces as i128).field_int("inspectedSpans", r.inspected_spans as i128).end_object();
    w.end_object();
    w.finish()
}

#[cfg(test)]
mod tests;
