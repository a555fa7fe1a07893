//! LogQL evaluation over the [`LogStore`](crate::store::LogStore): log
//! queries return streams of entries (newest first by default, up to a
//! limit); metric queries return a matrix over a step grid. Semantics follow
//! Loki: windows are `(t - range, t]`, extracted labels that collide with
//! stream labels get `_extracted`, a metric query over lines carrying
//! `__error__` fails with Loki's advice, and limits (entries, series,
//! points, lines scanned) are typed errors.

use super::ast::*;
use super::parsers;
use super::scan::{GroupNeedle, Needle, Shape, TsCache};
use crate::query::diag::QueryError;
use crate::store::Telemetry;
use crate::telemetry::log::{LogFormat, LogRecord, Severity};
use crate::telemetry::metric::Labels;
use crate::telemetry::resource::Resource;
use std::collections::{BTreeMap, HashMap};

/// Limits in the spirit of Loki's per-tenant limits.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest `limit` a log query may ask for (Loki: max_entries_limit_per_query).
    pub max_entries: usize,
    /// Series in a metric result (Loki: max_query_series).
    pub max_series: usize,
    /// Series held before aggregation (each distinct label set of a range function).
    pub max_inner_series: usize,
    /// Steps per series of a range query (Loki: 11,000).
    pub max_points_per_series: usize,
    /// Log lines a query may scan.
    pub max_lines_scanned: u64,
    /// Samples a metric query may hold at once.
    pub max_samples: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_entries: 5000, max_series: 500, max_inner_series: 100_000, max_points_per_series: 11_000, max_lines_scanned: 50_000_000, max_samples: 20_000_000 }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// Newest first (Loki's default).
    #[default]
    Backward,
    Forward,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub direction: Direction,
    /// How lines are rendered for filters and output.
    pub format: LogFormat,
    pub limits: Limits,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Unix nanoseconds.
    pub ts_ns: i128,
    pub line: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    pub labels: Labels,
    /// In the query's direction.
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// `(unix ms, value)` in time order.
    pub points: Vec<(i64, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Streams(Vec<Stream>),
    Matrix(Vec<Series>),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub lines_scanned: u64,
    /// Bytes of the lines that were rendered (filters that could decide
    /// without rendering do not count).
    pub bytes_rendered: u64,
    pub entries_returned: u64,
}

// ------------------------------------------------------------ the store side

const NO_GROUP: u32 = u32::MAX;

struct Group {
    template: usize,
    res: usize,
    sev: Severity,
    trace: bool,
    stream: u32,
    nfields: usize,
    shape: Option<Shape>,
}

/// Per-query access to the store: groups of records that share a shape and
/// stream labels, their interned label sets, the timestamp cache.
pub(crate) struct Source<'t> {
    tel: &'t Telemetry,
    format: LogFormat,
    nres: usize,
    unknown: Resource,
    index: Vec<u32>,
    groups: Vec<Group>,
    streams: Vec<Labels>,
    stream_ids: HashMap<Labels, u32>,
    ts: TsCache,
    /// The store's distinct string values, for deciding string fields
    /// once per query (`None` inside: too many to do up front).
    strings: std::cell::OnceCell<Option<Vec<&'t str>>>,
}

fn sev_idx(s: Severity) -> usize {
    match s {
        Severity::Trace => 0,
        Severity::Debug => 1,
        Severity::Info => 2,
        Severity::Warn => 3,
        Severity::Error => 4,
        Severity::Fatal => 5,
    }
}

impl<'t> Source<'t> {
    pub fn new(tel: &'t Telemetry, format: LogFormat) -> Self {
        Source {
            tel,
            format,
            nres: tel.resources.len() + 1,
            unknown: Resource {
                service_name: "unknown_service".into(),
                service_namespace: "".into(),
                service_version: "".into(),
                instance_id: "".into(),
                pod: "".into(),
                node: "".into(),
            },
            index: Vec::new(),
            groups: Vec::new(),
            streams: Vec::new(),
            stream_ids: HashMap::new(),
            ts: TsCache::default(),
            strings: std::cell::OnceCell::new(),
        }
    }

    fn resource(&self, idx: usize) -> &Resource {
        self.tel.resources.get(idx).unwrap_or(&self.unknown)
    }

    #[inline]
    fn group_of(&mut self, r: &LogRecord) -> u32 {
        let res = (r.resource.0 as usize).min(self.nres - 1);
        let tpl = r.template.0 as usize;
        let key = ((tpl * self.nres + res) * 6 + sev_idx(r.severity)) * 2 + r.trace_id.is_valid() as usize;
        if let Some(&g) = self.index.get(key) {
            if g != NO_GROUP {
                return g;
            }
        } else {
            self.index.resize(key + 1, NO_GROUP);
        }
        let t = self.tel.logs.template(r.template);
        let resource = self.resource(res);
        let mut labels = Labels::new();
        labels.set("service", &resource.service_name);
        labels.set("namespace", &resource.service_namespace);
        labels.set("pod", &resource.pod);
        labels.set("node", &resource.node);
        labels.set("level", r.severity.level());
        labels.set("logger", &t.logger);
        let nfields = t.fields.len();
        let stream = match self.stream_ids.get(&labels) {
            Some(&s) => s,
            None => {
                let s = self.streams.len() as u32;
                self.streams.push(labels.clone());
                self.stream_ids.insert(labels, s);
                s
            }
        };
        let g = self.groups.len() as u32;
        self.groups.push(Group { template: tpl, res, sev: r.severity, trace: r.trace_id.is_valid(), stream, nfields, shape: None });
        self.index[key] = g;
        g
    }

    fn ensure_shape(&mut self, g: u32) {
        let gr = &self.groups[g as usize];
        if gr.shape.is_some() {
            return;
        }
        let t = self.tel.logs.template(crate::telemetry::log::TemplateId(gr.template as u16));
        let shape = Shape::build(t, self.tel.resources.get(gr.res).unwrap_or(&self.unknown), gr.sev, gr.trace, self.format);
        self.groups[g as usize].shape = Some(shape);
    }

    fn unix_ms(&self, r: &LogRecord) -> i64 {
        self.tel.unix_ms(r.time)
    }

    fn render(&mut self, g: u32, r: &LogRecord, out: &mut String) {
        self.ensure_shape(g);
        let ms = self.unix_ms(r);
        if let Some(shape) = &self.groups[g as usize].shape {
            shape.render(r, &mut self.ts, ms, out);
        }
    }

    /// Record indexes with Unix µs in `(lo, hi]` (or `[lo, hi)` when `left_closed`).
    fn window(&self, lo_us: i64, hi_us: i64, left_closed: bool) -> std::ops::Range<usize> {
        let base = self.tel.start_unix_ms.saturating_mul(1000);
        let recs = self.tel.logs.records();
        let lo = lo_us.saturating_sub(base);
        let hi = hi_us.saturating_sub(base);
        if left_closed {
            let a = recs.partition_point(|r| r.time.0 < lo);
            let b = recs.partition_point(|r| r.time.0 < hi);
            a..b.max(a)
        } else {
            let a = recs.partition_point(|r| r.time.0 <= lo);
            let b = recs.partition_point(|r| r.time.0 <= hi);
            a..b.max(a)
        }
    }
}

// ------------------------------------------------------------ per-line pipeline

/// The labels of one line as the pipeline changes them.
#[derive(Default)]
struct LineLabels {
    stream: u32,
    hide_base: bool,
    dropped: Vec<String>,
    added: Vec<(String, String)>,
    err: Option<&'static str>,
    touched: bool,
}

impl LineLabels {
    fn reset(&mut self, stream: u32) {
        self.stream = stream;
        self.hide_base = false;
        self.dropped.clear();
        self.added.clear();
        self.err = None;
        self.touched = false;
    }
    fn get<'a>(&'a self, streams: &'a [Labels], name: &str) -> Option<&'a str> {
        if name == "__error__" {
            return self.err;
        }
        if let Some((_, v)) = self.added.iter().rev().find(|(k, _)| k == name) {
            return Some(v);
        }
        if self.hide_base || self.dropped.iter().any(|d| d == name) {
            return None;
        }
        streams[self.stream as usize].get(name)
    }
    fn in_base(&self, streams: &[Labels], name: &str) -> bool {
        !self.hide_base && streams[self.stream as usize].get(name).is_some()
    }
    fn set(&mut self, name: String, value: String) {
        self.touched = true;
        if let Some(slot) = self.added.iter_mut().find(|(k, _)| *k == name) {
            slot.1 = value;
        } else {
            self.added.push((name, value));
        }
    }
    fn remove(&mut self, streams: &[Labels], name: &str) {
        if name == "__error__" {
            self.err = None;
            return;
        }
        self.touched = true;
        self.added.retain(|(k, _)| k != name);
        if self.in_base(streams, name) {
            self.dropped.push(name.to_string());
        }
    }
    fn set_err(&mut self, e: &'static str) {
        if self.err.is_none() {
            self.err = Some(e);
        }
    }
    /// The full label set, `__error__` included.
    fn build(&self, streams: &[Labels]) -> Labels {
        let mut l = if self.hide_base { Labels::new() } else { streams[self.stream as usize].clone() };
        for d in &self.dropped {
            l.remove(d);
        }
        for (k, v) in &self.added {
            l.set(k, v);
        }
        if let Some(e) = self.err {
            l.set("__error__", e);
        }
        l
    }
    fn plain(&self) -> bool {
        !self.touched && self.err.is_none()
    }
}

struct FastFilter {
    negate: bool,
    /// Some alternative is empty: every line contains it.
    any_empty: bool,
    needles: Vec<Needle>,
    /// Alternatives too long for an automaton, checked on the rendered line.
    long: Vec<String>,
}

enum GState {
    Unknown,
    Rejected,
    Accepted(Vec<Vec<GroupNeedle>>),
}

/// A log expression prepared for scanning.
struct Plan<'q> {
    log: &'q LogExpr,
    fast: Vec<FastFilter>,
    /// Leading line filters that need the rendered line (regexes).
    slow: Vec<&'q LineFilter>,
    rest: &'q [Stage],
    gstate: Vec<GState>,
    labels: LineLabels,
    line: String,
    /// Reused text buffer for the rare values the matcher formats slowly.
    scratch: String,
    rendered: bool,
    needs_line_later: bool,
}

/// The words of regexes that are plain words joined by `|` (`error|timeout`).
fn literal_alternatives(patterns: &[String]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for p in patterns {
        if p.is_empty() || p.bytes().any(|b| b"\\.+*?()[]{}^$".contains(&b)) {
            return None;
        }
        out.extend(p.split('|').map(str::to_string));
    }
    Some(out)
}

fn line_filter_pass(f: &LineFilter, line: &str) -> bool {
    let any = match f.op {
        MatchOp::Eq | MatchOp::Neq => f.values.iter().any(|v| line.contains(v.as_str())),
        MatchOp::Re | MatchOp::NotRe => f.res.iter().any(|r| r.is_match(line)),
    };
    matches!(f.op, MatchOp::Eq | MatchOp::Re) == any
}

fn cmp_label(op: CmpOp, kind: NumKind, want: f64, v: &str) -> Result<bool, ()> {
    let got = match kind {
        NumKind::Number => crate::float::parse(v.trim()).map_err(|_| ())?,
        NumKind::Duration => super::lexer::parse_go_duration(v.trim()).ok_or(())?,
        NumKind::Bytes => super::lexer::parse_bytes(v.trim()).ok_or(())?,
    };
    Ok(op.apply(got, want))
}

fn label_filter(f: &LabelFilter, l: &mut LineLabels, streams: &[Labels]) -> bool {
    match f {
        LabelFilter::And(a, b) => label_filter(a, l, streams) && label_filter(b, l, streams),
        LabelFilter::Or(a, b) => label_filter(a, l, streams) || label_filter(b, l, streams),
        LabelFilter::Str(m) => m.matches(l.get(streams, &m.name).unwrap_or("")),
        LabelFilter::Num { name, op, value, kind, .. } => {
            // With an error set only string matchers filter, as in Loki.
            if l.err.is_some() {
                return true;
            }
            let Some(v) = l.get(streams, name) else { return false };
            match cmp_label(*op, *kind, *value, v) {
                Ok(b) => b,
                Err(()) => {
                    l.set_err("LabelFilterErr");
                    true
                }
            }
        }
    }
}

fn render_template(parts: &[TemplatePart], l: &LineLabels, streams: &[Labels], line: &str) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Label(n) => out.push_str(l.get(streams, n).unwrap_or("")),
            TemplatePart::Line => out.push_str(line),
        }
    }
    out
}

impl<'q> Plan<'q> {
    fn new(log: &'q LogExpr) -> Plan<'q> {
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        let mut k = 0;
        while let Some(Stage::LineFilter(f)) = log.stages.get(k) {
            match f.op {
                MatchOp::Eq | MatchOp::Neq => {
                    let mut ff = FastFilter { negate: f.op == MatchOp::Neq, any_empty: false, needles: Vec::new(), long: Vec::new() };
                    for v in &f.values {
                        if v.is_empty() {
                            ff.any_empty = true;
                        } else if let Some(n) = Needle::new(v) {
                            ff.needles.push(n);
                        } else {
                            ff.long.push(v.clone());
                        }
                    }
                    fast.push(ff);
                }
                _ => match literal_alternatives(&f.values) {
                    // A regex of plain words is a substring test, as Loki
                    // simplifies it.
                    Some(words) => {
                        let mut ff = FastFilter { negate: f.op == MatchOp::NotRe, any_empty: false, needles: Vec::new(), long: Vec::new() };
                        for v in words {
                            if v.is_empty() {
                                ff.any_empty = true;
                            } else if let Some(n) = Needle::new(&v) {
                                ff.needles.push(n);
                            } else {
                                ff.long.push(v);
                            }
                        }
                        fast.push(ff);
                    }
                    None => slow.push(f),
                },
            }
            k += 1;
        }
        let rest = &log.stages[k..];
        Plan { log, fast, slow, rest, gstate: Vec::new(), labels: LineLabels::default(), line: String::new(), scratch: String::new(), rendered: false, needs_line_later: false }
    }

    fn ensure_line(&mut self, src: &mut Source, g: u32, r: &LogRecord, stats: &mut Stats) {
        if !self.rendered {
            self.line.clear();
            src.render(g, r, &mut self.line);
            stats.bytes_rendered += self.line.len() as u64;
            self.rendered = true;
        }
    }

    /// Runs the pipeline on one record; `true` if the line survives. The
    /// line is in `self.line` when `self.rendered`.
    fn process(&mut self, src: &mut Source, r: &LogRecord, stats: &mut Stats) -> bool {
        let g = src.group_of(r);
        if self.gstate.len() <= g as usize {
            self.gstate.resize_with(g as usize + 1, || GState::Unknown);
        }
        if let GState::Unknown = self.gstate[g as usize] {
            let labels = &src.streams[src.groups[g as usize].stream as usize];
            let ok = self.log.matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or("")));
            self.gstate[g as usize] = if ok {
                src.ensure_shape(g);
                let shape = src.groups[g as usize].shape.as_ref().expect("shape built above");
                let nfields = src.groups[g as usize].nfields;
                let logs = &src.tel.logs;
                let strings = src.strings.get_or_init(|| (logs.string_count() <= super::scan::MAX_STRINGS_UP_FRONT).then(|| logs.strings().map(|s| &**s).collect())).as_deref();
                let kinds = logs.field_kinds(crate::telemetry::log::TemplateId(src.groups[g as usize].template as u16));
                GState::Accepted(self.fast.iter().map(|f| f.needles.iter().map(|n| GroupNeedle::new(n, shape, nfields, strings, kinds)).collect()).collect())
            } else {
                GState::Rejected
            };
        }
        let GState::Accepted(gn) = &self.gstate[g as usize] else { return false };
        stats.lines_scanned += 1;
        self.rendered = false;
        let base_ms = src.tel.start_unix_ms;
        for (f, gns) in self.fast.iter().zip(gn.iter()) {
            let mut found = f.any_empty;
            if !found {
                for (n, gnd) in f.needles.iter().zip(gns) {
                    if gnd.matches(n, r, base_ms, &mut self.scratch) {
                        found = true;
                        break;
                    }
                }
            }
            if !found && !f.long.is_empty() {
                if !self.rendered {
                    self.line.clear();
                    src.render(g, r, &mut self.line);
                    stats.bytes_rendered += self.line.len() as u64;
                    self.rendered = true;
                }
                found = f.long.iter().any(|v| self.line.contains(v.as_str()));
            }
            if found == f.negate {
                return false;
            }
        }
        for f in 0..self.slow.len() {
            self.ensure_line(src, g, r, stats);
            if !line_filter_pass(self.slow[f], &self.line) {
                return false;
            }
        }
        self.labels.reset(src.groups[g as usize].stream);
        let streams = &src.streams;
        let _ = streams;
        for st in self.rest {
            match st {
                Stage::LineFilter(f) => {
                    self.ensure_line(src, g, r, stats);
                    if !line_filter_pass(f, &self.line) {
                        return false;
                    }
                }
                Stage::Json { params, .. } => {
                    self.ensure_line(src, g, r, stats);
                    let mut out: Vec<(String, String)> = Vec::new();
                    let res = if params.is_empty() {
                        parsers::json_all(&self.line, &mut |k, v| out.push((k, v)))
                    } else {
                        let mut res = Ok(());
                        for (name, path) in params {
                            match parsers::json_path(&self.line, path) {
                                Ok(Some(v)) => out.push((name.clone(), v)),
                                Ok(None) => {}
                                Err(e) => {
                                    res = Err(e);
                                    break;
                                }
                            }
                        }
                        res
                    };
                    if res.is_err() {
                        self.labels.set_err("JSONParserErr");
                    }
                    self.add_extracted(out, &src.streams);
                }
                Stage::Logfmt { .. } => {
                    self.ensure_line(src, g, r, stats);
                    let mut out: Vec<(String, String)> = Vec::new();
                    if parsers::logfmt(&self.line, &mut |k, v| out.push((k, v))).is_err() {
                        self.labels.set_err("LogfmtParserErr");
                    }
                    self.add_extracted(out, &src.streams);
                }
                Stage::LabelFilter(f) => {
                    if !label_filter(f, &mut self.labels, &src.streams) {
                        return false;
                    }
                }
                Stage::LineFormat { parts, .. } => {
                    if parts.iter().any(|p| matches!(p, TemplatePart::Line)) {
                        self.ensure_line(src, g, r, stats);
                    }
                    let new = render_template(parts, &self.labels, &src.streams, &self.line);
                    self.line = new;
                    self.rendered = true;
                }
                Stage::LabelFormat { items, .. } => {
                    for (dst, s) in items {
                        match s {
                            LabelFormatSrc::Rename(from) => {
                                let v = self.labels.get(&src.streams, from).map(str::to_string);
                                if let Some(v) = v {
                                    self.labels.remove(&src.streams, from);
                                    self.labels.set(dst.clone(), v);
                                }
                            }
                            LabelFormatSrc::Template(parts) => {
                                if parts.iter().any(|p| matches!(p, TemplatePart::Line)) {
                                    self.ensure_line(src, g, r, stats);
                                }
                                let v = render_template(parts, &self.labels, &src.streams, &self.line);
                                self.labels.set(dst.clone(), v);
                            }
                        }
                    }
                }
                Stage::Drop { names, .. } => {
                    for n in names {
                        self.labels.remove(&src.streams, n);
                    }
                }
                Stage::Keep { names, .. } => {
                    let all = self.labels.build(&src.streams);
                    self.labels.hide_base = true;
                    self.labels.touched = true;
                    self.labels.added.clear();
                    self.labels.dropped.clear();
                    let keep_err = names.iter().any(|n| n == "__error__");
                    for l in all.iter() {
                        if names.iter().any(|n| **n == *l.name) && &*l.name != "__error__" {
                            self.labels.added.push((l.name.to_string(), l.value.to_string()));
                        }
                    }
                    if !keep_err {
                        self.labels.err = None;
                    }
                }
            }
        }
        if self.needs_line_later {
            self.ensure_line(src, g, r, stats);
        }
        true
    }

    fn add_extracted(&mut self, out: Vec<(String, String)>, streams: &[Labels]) {
        for (mut k, v) in out {
            if k.is_empty() {
                continue;
            }
            if self.labels.in_base(streams, &k) {
                k.push_str("_extracted");
            }
            // The first value of a key wins within one parser, as in Loki.
            self.labels.set(k, v);
        }
    }
}

// ------------------------------------------------------------ log queries

/// The query read more lines than [`Limits::max_lines_scanned`]: an error
/// instead of a tab that stops answering.
fn lines_scanned_error(limits: &Limits) -> QueryError {
    QueryError::limit(format!(
        "the query scanned more than {} log lines (max_lines_scanned); narrow the time range or the stream selector",
        limits.max_lines_scanned
    ))
}

pub(crate) fn eval_log(tel: &Telemetry, log: &LogExpr, start_ms: i64, end_ms: i64, limit: usize, opts: &Options) -> Result<(Value, Stats), QueryError> {
    if limit > opts.limits.max_entries {
        return Err(QueryError::limit(format!("max entries limit per query exceeded, limit > max_entries_limit ({limit} > {})", opts.limits.max_entries)));
    }
    let mut src = Source::new(tel, opts.format);
    let mut plan = Plan::new(log);
    plan.needs_line_later = true;
    let mut stats = Stats::default();
    let range = src.window(start_ms.saturating_mul(1000), end_ms.saturating_mul(1000), true);
    let recs = tel.logs.records();
    let mut streams: BTreeMap<Labels, Vec<Entry>> = BTreeMap::new();
    let mut plain: HashMap<u32, Vec<Entry>> = HashMap::new();
    let mut n = 0usize;
    let idxs: Box<dyn Iterator<Item = usize>> = match opts.direction {
        Direction::Backward => Box::new(range.rev()),
        Direction::Forward => Box::new(range),
    };
    for i in idxs {
        if n >= limit {
            break;
        }
        if stats.lines_scanned >= opts.limits.max_lines_scanned {
            return Err(lines_scanned_error(&opts.limits));
        }
        let r = &recs[i];
        if !plan.process(&mut src, r, &mut stats) {
            continue;
        }
        let entry = Entry { ts_ns: tel.unix_nanos(r.time), line: std::mem::take(&mut plan.line) };
        if plan.labels.plain() {
            plain.entry(plan.labels.stream).or_default().push(entry);
        } else {
            streams.entry(plan.labels.build(&src.streams)).or_default().push(entry);
        }
        n += 1;
    }
    for (s, e) in plain {
        streams.entry(src.streams[s as usize].clone()).or_default().extend(e);
    }
    stats.entries_returned = n as u64;
    let mut out: Vec<Stream> = streams.into_iter().map(|(labels, entries)| Stream { labels, entries }).collect();
    for s in &mut out {
        match opts.direction {
            Direction::Backward => crate::sort::sort_by(&mut s.entries, |a, b| b.ts_ns.cmp(&a.ts_ns)),
            Direction::Forward => crate::sort::sort_by(&mut s.entries, |a, b| a.ts_ns.cmp(&b.ts_ns)),
        }
    }
    Ok((Value::Streams(out), stats))
}

// ------------------------------------------------------------ metric queries

/// A series on the step grid: `(step index, value)` in step order.
#[derive(Clone, Debug)]
struct SSeries {
    labels: Labels,
    pts: Vec<(u32, f64)>,
}

enum Val {
    Scalar(f64),
    Matrix(Vec<SSeries>),
}

pub(crate) struct Grid {
    pub start_ms: i64,
    pub step_ms: i64,
    pub n: usize,
}

impl Grid {
    fn t_us(&self, i: usize) -> i64 {
        (self.start_ms + i as i64 * self.step_ms) * 1000
    }
}

struct MetricEval<'t, 'o> {
    tel: &'t Telemetry,
    opts: &'o Options,
    grid: Grid,
    stats: Stats,
    samples: u64,
}

/// Applies `by`/`without` to a label set.
fn project(l: &Labels, g: &Grouping) -> Labels {
    if g.without {
        let mut out = l.clone();
        for n in &g.labels {
            out.remove(n);
        }
        out
    } else {
        Labels::from_sorted_unchecked(l.iter().filter(|x| g.labels.iter().any(|n| **n == *x.name)).cloned().collect())
    }
}

/// Prometheus's quantile over sorted values.
fn quantile(q: f64, v: &mut [f64]) -> f64 {
    if v.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    crate::sort::sort_by(v, |a, b| a.total_cmp(b));
    let n = v.len() as f64;
    let rank = q * (n - 1.0);
    let lo = rank.floor().max(0.0) as usize;
    let hi = (lo + 1).min(v.len() - 1);
    let w = rank - rank.floor();
    v[lo] * (1.0 - w) + v[hi] * w
}

fn range_value(op: RangeOp, param: Option<f64>, w: &[(i64, f64)], range_s: f64, unwrapped: bool, scratch: &mut Vec<f64>) -> f64 {
    let n = w.len() as f64;
    let sum = || w.iter().map(|x| x.1).sum::<f64>();
    match op {
        RangeOp::CountOverTime => n,
        RangeOp::Rate if !unwrapped => n / range_s,
        RangeOp::Rate | RangeOp::BytesRate => sum() / range_s,
        RangeOp::BytesOverTime | RangeOp::SumOverTime => sum(),
        RangeOp::AvgOverTime => {
            // Incremental mean, as Prometheus computes it.
            let mut mean = 0.0;
            for (k, x) in w.iter().enumerate() {
                mean += (x.1 - mean) / (k as f64 + 1.0);
            }
            mean
        }
        RangeOp::MaxOverTime => w.iter().map(|x| x.1).fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a }),
        RangeOp::MinOverTime => w.iter().map(|x| x.1).fold(f64::NAN, |a, b| if a.is_nan() || b < a { b } else { a }),
        RangeOp::StddevOverTime | RangeOp::StdvarOverTime => {
            let (mut cnt, mut mean, mut m2) = (0.0, 0.0, 0.0);
            for x in w {
                cnt += 1.0;
                let d = x.1 - mean;
                mean += d / cnt;
                m2 += d * (x.1 - mean);
            }
            let var = m2 / cnt;
            if op == RangeOp::StddevOverTime { var.sqrt() } else { var }
        }
        RangeOp::QuantileOverTime => {
            scratch.clear();
            scratch.extend(w.iter().map(|x| x.1));
            quantile(param.unwrap_or(f64::NAN), scratch)
        }
        RangeOp::FirstOverTime => w.first().map(|x| x.1).unwrap_or(f64::NAN),
        RangeOp::LastOverTime => w.last().map(|x| x.1).unwrap_or(f64::NAN),
        RangeOp::RateCounter | RangeOp::AbsentOverTime => f64::NAN,
    }
}

/// Evaluates `a op b` on numbers; `None` for a comparison that drops the
/// sample (false without `bool`).
pub(crate) fn scalar_binop(op: BinOp, a: f64, b: f64, bool_mod: bool) -> Option<f64> {
    let cmp = |c: bool| if bool_mod { Some(if c { 1.0 } else { 0.0 }) } else if c { Some(a) } else { None };
    match op {
        BinOp::Add => Some(a + b),
        BinOp::Sub => Some(a - b),
        BinOp::Mul => Some(a * b),
        BinOp::Div => Some(a / b),
        BinOp::Mod => Some(a % b),
        BinOp::Pow => Some(a.powf(b)),
        BinOp::Eq => cmp(a == b),
        BinOp::Neq => cmp(a != b),
        BinOp::Gt => cmp(a > b),
        BinOp::Gte => cmp(a >= b),
        BinOp::Lt => cmp(a < b),
        BinOp::Lte => cmp(a <= b),
        BinOp::And | BinOp::Or | BinOp::Unless => None,
    }
}

fn pipeline_error(err: &str, labels: &Labels) -> QueryError {
    let mut shown = labels.clone();
    shown.set("__error__", err);
    QueryError::eval(format!(
        "pipeline error: '{err}' for series: '{}'. Use a label filter to intentionally skip this error (e.g | __error__!=\"{err}\"). To skip all potential errors you can match empty errors (e.g | __error__=\"\"). The label filter can also be specified after unwrap (e.g | unwrap latency | __error__=\"\").",
        fmt_labels(&shown)
    ))
}

/// `{a="x", b="y"}` as Loki prints label sets.
pub fn fmt_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&x.name);
        s.push('=');
        let mut q = String::new();
        crate::json::push_str(&mut q, &x.value);
        s.push_str(&q);
    }
    s.push('}');
    s
}

impl<'t, 'o> MetricEval<'t, 'o> {
    fn eval(&mut self, e: &Expr, pushdown: Option<&Grouping>) -> Result<Val, QueryError> {
        match e {
            Expr::Number(n) => Ok(Val::Scalar(*n)),
            Expr::Log(l) => Err(QueryError::parse(l.span.clone(), "a log query cannot be used where a metric is expected")),
            Expr::Range { op, param, range, grouping, span } => self.range(*op, *param, range, grouping.as_ref(), pushdown, span.clone()),
            Expr::Vector { op, param, grouping, expr, .. } => {
                let additive = |e: &Expr| match e {
                    Expr::Range { op, range, grouping: None, .. } => match op {
                        RangeOp::CountOverTime | RangeOp::BytesOverTime | RangeOp::BytesRate | RangeOp::SumOverTime => true,
                        RangeOp::Rate => true,
                        _ => {
                            let _ = range;
                            false
                        }
                    },
                    _ => false,
                };
                let empty = Grouping { without: false, labels: Vec::new() };
                let g = grouping.as_ref().unwrap_or(&empty);
                // Summing additive range functions equals summing their inputs
                // first, which keeps per-line label sets (after | json) from
                // turning into one series each.
                let inner = if *op == VecOp::Sum && additive(expr) { self.eval(expr, Some(g))? } else { self.eval(expr, None)? };
                match inner {
                    Val::Scalar(_) => Err(QueryError::eval(format!("{} needs a vector, got a number", op.as_str()))),
                    Val::Matrix(m) => Ok(Val::Matrix(self.vector_agg(*op, *param, g, m)?)),
                }
            }
            Expr::Binary { op, bool_mod, lhs, rhs, .. } => {
                let a = self.eval(lhs, None)?;
                let b = self.eval(rhs, None)?;
                self.binary(*op, *bool_mod, a, b)
            }
        }
    }

    fn check_series(&self, n: usize) -> Result<(), QueryError> {
        if n > self.opts.limits.max_series {
            return Err(QueryError::limit(format!(
                "maximum of series ({}) reached for a single query; aggregate with sum by (...) or narrow the selector",
                self.opts.limits.max_series
            )));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn range(&mut self, op: RangeOp, param: Option<f64>, range: &LogRange, grouping: Option<&Grouping>, pushdown: Option<&Grouping>, span: std::ops::Range<usize>) -> Result<Val, QueryError> {
        if op == RangeOp::RateCounter {
            return Err(QueryError::unsupported(span, "rate_counter"));
        }
        let mut src = Source::new(self.tel, self.opts.format);
        let mut plan = Plan::new(&range.log);
        plan.needs_line_later = matches!(op, RangeOp::BytesOverTime | RangeOp::BytesRate);
        let g = &self.grid;
        let first = g.t_us(0) - range.offset_us - range.range_us;
        let last = g.t_us(g.n.saturating_sub(1)) - range.offset_us;
        let win = src.window(first, last, false);
        let recs = self.tel.logs.records();
        let base_us = self.tel.start_unix_ms * 1000;
        let mut series: Vec<(Labels, Vec<(i64, f64)>)> = Vec::new();
        let mut by_stream: Vec<u32> = Vec::new();
        let mut by_labels: HashMap<Labels, u32> = HashMap::new();
        let mut any_times: Vec<i64> = Vec::new();
        let unwrapped = range.unwrap.is_some();
        for i in win {
            if self.stats.lines_scanned >= self.opts.limits.max_lines_scanned {
                return Err(lines_scanned_error(&self.opts.limits));
            }
            let r = &recs[i];
            if !plan.process(&mut src, r, &mut self.stats) {
                continue;
            }
            let t = base_us + r.time.0;
            let mut value = 1.0;
            if let Some(u) = &range.unwrap {
                let raw = plan.labels.get(&src.streams, &u.label).map(str::to_string);
                let v = raw.as_deref().and_then(|s| {
                    let s = s.trim();
                    match u.conv {
                        UnwrapConv::Number => crate::float::parse(s).ok(),
                        UnwrapConv::Duration => super::lexer::parse_go_duration(s),
                        UnwrapConv::Bytes => super::lexer::parse_bytes(s).or_else(|| crate::float::parse(s).ok()),
                    }
                });
                match v {
                    Some(v) => value = v,
                    None => {
                        value = 0.0;
                        plan.labels.set_err("SampleExtractionErr");
                    }
                }
                plan.labels.remove(&src.streams, &u.label);
                let mut keep = true;
                for f in &u.post {
                    if !label_filter(f, &mut plan.labels, &src.streams) {
                        keep = false;
                        break;
                    }
                }
                if !keep {
                    continue;
                }
            } else if plan.needs_line_later {
                value = plan.line.len() as f64;
            }
            if let Some(e) = plan.labels.err {
                return Err(pipeline_error(e, &plan.labels.build(&src.streams)));
            }
            if op == RangeOp::AbsentOverTime {
                any_times.push(t);
                continue;
            }
            let project_all = |l: &Labels| {
                let l = match grouping {
                    Some(gr) => project(l, gr),
                    None => l.clone(),
                };
                match pushdown {
                    Some(p) => project(&l, p),
                    None => l,
                }
            };
            let idx = if plan.labels.plain() {
                let s = plan.labels.stream as usize;
                if by_stream.len() <= s {
                    by_stream.resize(s + 1, NO_GROUP);
                }
                if by_stream[s] == NO_GROUP {
                    let l = project_all(&src.streams[s]);
                    by_stream[s] = match by_labels.get(&l) {
                        Some(&k) => k,
                        None => {
                            let k = series.len() as u32;
                            by_labels.insert(l.clone(), k);
                            series.push((l, Vec::new()));
                            k
                        }
                    };
                }
                by_stream[s]
            } else {
                let l = project_all(&plan.labels.build(&src.streams));
                match by_labels.get(&l) {
                    Some(&k) => k,
                    None => {
                        let k = series.len() as u32;
                        by_labels.insert(l.clone(), k);
                        series.push((l, Vec::new()));
                        k
                    }
                }
            };
            if series.len() > self.opts.limits.max_inner_series {
                return Err(QueryError::limit(format!(
                    "the query makes more than {} series before aggregation (every distinct label set after the parsers is one); aggregate with sum by (...), or drop labels with | drop or | keep",
                    self.opts.limits.max_inner_series
                )));
            }
            self.samples += 1;
            if self.samples > self.opts.limits.max_samples {
                return Err(QueryError::limit(format!("the query holds more than {} samples; narrow the time range", self.opts.limits.max_samples)));
            }
            series[idx as usize].1.push((t, value));
        }
        let range_s = range.range_us as f64 / 1e6;
        let mut out = Vec::with_capacity(series.len());
        let mut scratch = Vec::new();
        if op == RangeOp::AbsentOverTime {
            let mut labels = Labels::new();
            for m in &range.log.matchers {
                if m.op == MatchOp::Eq {
                    labels.set(&m.name, &m.value);
                }
            }
            let mut pts = Vec::new();
            let mut lo = 0;
            let mut hi = 0;
            for i in 0..g.n {
                let end = g.t_us(i) - range.offset_us;
                let start = end - range.range_us;
                while hi < any_times.len() && any_times[hi] <= end {
                    hi += 1;
                }
                while lo < hi && any_times[lo] <= start {
                    lo += 1;
                }
                if lo == hi {
                    pts.push((i as u32, 1.0));
                }
            }
            if !pts.is_empty() {
                out.push(SSeries { labels, pts });
            }
            return Ok(Val::Matrix(out));
        }
        for (labels, s) in series {
            let mut pts = Vec::new();
            let (mut lo, mut hi) = (0usize, 0usize);
            let step_us = g.step_ms * 1000;
            let first_step = |t: i64| -> usize {
                // The first step whose window end (t_i - offset) reaches t.
                let d = t + range.offset_us - g.t_us(0);
                if d <= 0 { 0 } else { ((d + step_us - 1) / step_us.max(1)) as usize }
            };
            let mut i = first_step(s[0].0);
            while i < g.n {
                let end = g.t_us(i) - range.offset_us;
                let start = end - range.range_us;
                while hi < s.len() && s[hi].0 <= end {
                    hi += 1;
                }
                while lo < hi && s[lo].0 <= start {
                    lo += 1;
                }
                if lo == hi {
                    if hi >= s.len() {
                        break;
                    }
                    i = first_step(s[hi].0).max(i + 1);
                    continue;
                }
                pts.push((i as u32, range_value(op, param, &s[lo..hi], range_s, unwrapped, &mut scratch)));
                i += 1;
            }
            if !pts.is_empty() {
                out.push(SSeries { labels, pts });
            }
        }
        Ok(Val::Matrix(out))
    }

    fn vector_agg(&mut self, op: VecOp, param: Option<f64>, g: &Grouping, m: Vec<SSeries>) -> Result<Vec<SSeries>, QueryError> {
        match op {
            VecOp::Sort | VecOp::SortDesc => Ok(m),
            VecOp::Topk | VecOp::Bottomk => {
                let k = param.unwrap_or(1.0) as usize;
                let mut groups: HashMap<Labels, u32> = HashMap::new();
                let gid: Vec<u32> = m
                    .iter()
                    .map(|s| {
                        let key = project(&s.labels, g);
                        let n = groups.len() as u32;
                        *groups.entry(key).or_insert(n)
                    })
                    .collect();
                let mut per_step: BTreeMap<(u32, u32), Vec<(f64, usize)>> = BTreeMap::new();
                for (si, s) in m.iter().enumerate() {
                    for &(i, v) in &s.pts {
                        per_step.entry((i, gid[si])).or_default().push((v, si));
                    }
                }
                let mut keep: Vec<Vec<u32>> = vec![Vec::new(); m.len()];
                for ((i, _), mut v) in per_step {
                    if op == VecOp::Topk {
                        crate::sort::sort_by(&mut v, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    } else {
                        crate::sort::sort_by(&mut v, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    }
                    for &(_, si) in v.iter().take(k) {
                        keep[si].push(i);
                    }
                }
                let mut out = Vec::new();
                for (si, s) in m.into_iter().enumerate() {
                    let ks = &keep[si];
                    let pts: Vec<(u32, f64)> = s.pts.into_iter().filter(|(i, _)| ks.binary_search(i).is_ok()).collect();
                    if !pts.is_empty() {
                        out.push(SSeries { labels: s.labels, pts });
                    }
                }
                self.check_series(out.len())?;
                Ok(out)
            }
            _ => {
                #[derive(Clone, Copy)]
                struct Acc {
                    sum: f64,
                    n: f64,
                    min: f64,
                    max: f64,
                    mean: f64,
                    m2: f64,
                }
                let mut groups: BTreeMap<Labels, BTreeMap<u32, Acc>> = BTreeMap::new();
                for s in &m {
                    let key = project(&s.labels, g);
                    if !groups.contains_key(&key) {
                        self.check_series(groups.len() + 1)?;
                    }
                    let acc = groups.entry(key).or_default();
                    for &(i, v) in &s.pts {
                        let a = acc.entry(i).or_insert(Acc { sum: 0.0, n: 0.0, min: v, max: v, mean: 0.0, m2: 0.0 });
                        a.sum += v;
                        a.n += 1.0;
                        if v < a.min || a.min.is_nan() {
                            a.min = v;
                        }
                        if v > a.max || a.max.is_nan() {
                            a.max = v;
                        }
                        let d = v - a.mean;
                        a.mean += d / a.n;
                        a.m2 += d * (v - a.mean);
                    }
                }
                Ok(groups
                    .into_iter()
                    .map(|(labels, acc)| SSeries {
                        labels,
                        pts: acc
                            .into_iter()
                            .map(|(i, a)| {
                                let v = match op {
                                    VecOp::Sum => a.sum,
                                    VecOp::Avg => a.mean,
                                    VecOp::Min => a.min,
                                    VecOp::Max => a.max,
                                    VecOp::Count => a.n,
                                    VecOp::Stdvar => a.m2 / a.n,
                                    VecOp::Stddev => (a.m2 / a.n).sqrt(),
                                    _ => f64::NAN,
                                };
                                (i, v)
                            })
                            .collect(),
                    })
                    .collect())
            }
        }
    }

    fn binary(&mut self, op: BinOp, bool_mod: bool, a: Val, b: Val) -> Result<Val, QueryError> {
        match (a, b) {
            (Val::Scalar(x), Val::Scalar(y)) => {
                if op.is_comparison() && !bool_mod {
                    return Err(QueryError::eval("comparisons between two numbers need the bool modifier, as in 1 > bool 0"));
                }
                Ok(Val::Scalar(scalar_binop(op, x, y, bool_mod).unwrap_or(f64::NAN)))
            }
            (Val::Matrix(m), Val::Scalar(y)) => Ok(Val::Matrix(
                m.into_iter()
                    .filter_map(|s| {
                        let pts: Vec<(u32, f64)> = s.pts.into_iter().filter_map(|(i, v)| scalar_binop(op, v, y, bool_mod).map(|r| (i, r))).collect();
                        (!pts.is_empty()).then_some(SSeries { labels: s.labels, pts })
                    })
                    .collect(),
            )),
            (Val::Scalar(x), Val::Matrix(m)) => Ok(Val::Matrix(
                m.into_iter()
                    .filter_map(|s| {
                        let pts: Vec<(u32, f64)> = s
                            .pts
                            .into_iter()
                            .filter_map(|(i, v)| {
                                // A comparison keeps the vector's value, not the number's.
                                match scalar_binop(op, x, v, bool_mod) {
                                    Some(r) if op.is_comparison() && !bool_mod => {
                                        let _ = r;
                                        Some((i, v))
                                    }
                                    other => other.map(|r| (i, r)),
                                }
                            })
                            .collect();
                        (!pts.is_empty()).then_some(SSeries { labels: s.labels, pts })
                    })
                    .collect(),
            )),
            (Val::Matrix(l), Val::Matrix(r)) => {
                let rmap: HashMap<&Labels, &SSeries> = r.iter().map(|s| (&s.labels, s)).collect();
                let mut out = Vec::new();
                match op {
                    BinOp::Or => {
                        let lkeys: HashMap<&Labels, &SSeries> = l.iter().map(|s| (&s.labels, s)).collect();
                        for s in &l {
                            out.push(s.clone());
                        }
                        for s in &r {
                            match lkeys.get(&s.labels) {
                                None => out.push(s.clone()),
                                Some(ls) => {
                                    let pts: Vec<(u32, f64)> = s.pts.iter().copied().filter(|(i, _)| ls.pts.binary_search_by_key(i, |p| p.0).is_err()).collect();
                                    if !pts.is_empty() {
                                        out.push(SSeries { labels: s.labels.clone(), pts });
                                    }
                                }
                            }
                        }
                        crate::sort::sort_by(&mut out, |a, b| a.labels.cmp(&b.labels));
                        // Merge points of the same label set.
                        let mut merged: Vec<SSeries> = Vec::new();
                        for s in out {
                            match merged.last_mut() {
                                Some(last) if last.labels == s.labels => {
                                    last.pts.extend(s.pts);
                                    crate::sort::sort_by_key(&mut last.pts, |p| p.0);
                                }
                                _ => merged.push(s),
                            }
                        }
                        return Ok(Val::Matrix(merged));
                    }
                    _ => {
                        for s in l {
                            let other = rmap.get(&s.labels);
                            let pts: Vec<(u32, f64)> = s
                                .pts
                                .iter()
                                .filter_map(|&(i, v)| {
                                    let rv = other.and_then(|o| o.pts.binary_search_by_key(&i, |p| p.0).ok().map(|k| o.pts[k].1));
                                    match op {
                                        BinOp::And => rv.map(|_| (i, v)),
                                        BinOp::Unless => if rv.is_some() { None } else { Some((i, v)) },
                                        _ => rv.and_then(|rv| scalar_binop(op, v, rv, bool_mod)).map(|x| (i, x)),
                                    }
                                })
                                .collect();
                            if !pts.is_empty() {
                                out.push(SSeries { labels: s.labels, pts });
                            }
                        }
                    }
                }
                Ok(Val::Matrix(out))
            }
        }
    }
}

pub(crate) fn eval_metric(tel: &Telemetry, e: &Expr, start_ms: i64, end_ms: i64, step_ms: i64, opts: &Options) -> Result<(Value, Stats), QueryError> {
    if step_ms <= 0 {
        return Err(QueryError::eval("the step must be positive"));
    }
    if end_ms < start_ms {
        return Err(QueryError::eval("the end of the range is before its start"));
    }
    let n = ((end_ms - start_ms) / step_ms) as u64 + 1;
    if n > opts.limits.max_points_per_series as u64 {
        return Err(QueryError::limit(format!(
            "exceeded maximum resolution of {} points per timeseries ({n} asked); try a larger step",
            opts.limits.max_points_per_series
        )));
    }
    let grid = Grid { start_ms, step_ms, n: n as usize };
    let mut ev = MetricEval { tel, opts, grid, stats: Stats::default(), samples: 0 };
    let v = ev.eval(e, None)?;
    let g = &ev.grid;
    let mut out: Vec<Series> = match v {
        Val::Scalar(x) => vec![Series { labels: Labels::new(), points: (0..g.n).map(|i| (g.start_ms + i as i64 * g.step_ms, x)).collect() }],
        Val::Matrix(m) => m
            .into_iter()
            .map(|s| Series { labels: s.labels, points: s.pts.into_iter().map(|(i, v)| (g.start_ms + i as i64 * g.step_ms, v)).collect() })
            .collect(),
    };
    ev.check_series(out.len())?;
    crate::sort::sort_by(&mut out, |a, b| a.labels.cmp(&b.labels));
    Ok((Value::Matrix(out), ev.stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn quantile_interpolates() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert_eq!(quantile(2.0, &mut v), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }
}
