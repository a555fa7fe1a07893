//! TraceQL evaluation over the [`TraceStore`](crate::store::TraceStore):
//! each kept trace is evaluated on its own; a spanset is a set of the
//! trace's spans; a trace matches when the final spanset is not empty.
//! Spans are materialised (attributes built) only when the query reads
//! span attributes. Missing attributes compare false (except `= nil`), as
//! in Tempo.

use super::ast::*;
use crate::query::diag::QueryError;
use crate::store::Telemetry;
use crate::telemetry::span::{AttrValue, Span, SpanRecord, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;

/// How many ancestors a structural operator walks before giving up (a
/// malformed parent chain must not loop forever).
const MAX_ANCESTRY: usize = 10_000;

pub(crate) struct TraceCtx<'t> {
    tel: &'t Telemetry,
    pub spans: &'t [SpanRecord],
    views: Vec<Option<Span>>,
    root: Option<usize>,
    pub start: i64,
    pub end: i64,
    parents: Option<Vec<Option<usize>>>,
}

impl<'t> TraceCtx<'t> {
    pub fn new(tel: &'t Telemetry, spans: &'t [SpanRecord], root: Option<usize>) -> Self {
        let start = spans.iter().map(|s| s.start.0).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end.0).max().unwrap_or(0);
        TraceCtx { tel, spans, views: vec![None; spans.len()], root, start, end, parents: None }
    }

    fn view(&mut self, i: usize) -> &Span {
        if self.views[i].is_none() {
            self.views[i] = Some(self.tel.traces.materialize(&self.spans[i]));
        }
        self.views[i].as_ref().expect("materialised above")
    }

    fn parents(&mut self) -> &[Option<usize>] {
        if self.parents.is_none() {
            let idx: HashMap<u64, usize> = self.spans.iter().enumerate().map(|(i, s)| (s.span_id.0, i)).collect();
            self.parents = Some(self.spans.iter().map(|s| if s.parent.is_valid() { idx.get(&s.parent.0).copied() } else { None }).collect());
        }
        self.parents.as_deref().unwrap_or(&[])
    }

    fn resource_attr(&self, i: usize, name: &str) -> V {
        let Some(res) = self.tel.resources.get(self.spans[i].resource.0 as usize) else { return V::Nil };
        let v: &Arc<str> = match name {
            "service.name" => &res.service_name,
            "service.namespace" => &res.service_namespace,
            "service.version" => &res.service_version,
            "service.instance.id" => &res.instance_id,
            "k8s.pod.name" => &res.pod,
            "k8s.node.name" => &res.node,
            "k8s.namespace.name" => &res.service_namespace,
            _ => return V::Nil,
        };
        V::Str(v.clone())
    }

    fn span_attr(&mut self, i: usize, name: &str) -> V {
        let v = self.view(i);
        match v.attributes.iter().find(|(k, _)| *k == name) {
            Some((_, a)) => match a {
                AttrValue::Str(s) => V::Str(s.clone()),
                AttrValue::Int(x) => V::Int(*x),
                AttrValue::Double(x) => V::Float(*x),
                AttrValue::Bool(b) => V::Bool(*b),
            },
            None => V::Nil,
        }
    }

    pub fn attr(&mut self, i: usize, scope: Scope, name: &str) -> V {
        match scope {
            Scope::Span => self.span_attr(i, name),
            Scope::Resource => self.resource_attr(i, name),
            Scope::Any => match self.span_attr(i, name) {
                V::Nil => self.resource_attr(i, name),
                v => v,
            },
        }
    }

    pub fn intrinsic(&mut self, i: usize, x: Intrinsic) -> V {
        let s = &self.spans[i];
        match x {
            Intrinsic::Name => V::Str(self.tel.traces.operation(s.op).name.clone()),
            Intrinsic::Status => V::Status(s.status),
            Intrinsic::StatusMessage => {
                let m = if s.status == StatusCode::Error { s.error.exception().map(|e| e.1).unwrap_or("") } else { "" };
                V::Str(m.into())
            }
            Intrinsic::Kind => V::Kind(Some(self.tel.traces.operation(s.op).kind)),
            Intrinsic::Duration => V::Dur(s.duration_us().saturating_mul(1000)),
            Intrinsic::RootName => match self.root {
                Some(r) => V::Str(self.tel.traces.operation(self.spans[r].op).name.clone()),
                None => V::Nil,
            },
            Intrinsic::RootServiceName => match self.root {
                Some(r) => self.resource_attr(r, "service.name"),
                None => V::Nil,
            },
            Intrinsic::TraceDuration => V::Dur((self.end - self.start).saturating_mul(1000)),
        }
    }

    pub fn eval_field(&mut self, f: &Field, i: usize) -> V {
        match f {
            Field::Lit(v) => v.clone(),
            Field::Attr { scope, name } => self.attr(i, *scope, name),
            Field::Intrinsic(x) => self.intrinsic(i, *x),
            Field::Not(e) => match self.eval_field(e, i) {
                V::Bool(b) => V::Bool(!b),
                _ => V::Nil,
            },
            Field::Neg(e) => match self.eval_field(e, i) {
                V::Int(x) => V::Int(x.wrapping_neg()),
                V::Float(x) => V::Float(-x),
                V::Dur(x) => V::Dur(x.wrapping_neg()),
                _ => V::Nil,
            },
            Field::Regex { lhs, re, negate, .. } => match self.eval_field(lhs, i) {
                V::Str(s) => V::Bool(re.is_match(&s) != *negate),
                _ => V::Bool(false),
            },
            Field::Binary { op: FOp::And, lhs, rhs } => V::Bool(truthy(&self.eval_field(lhs, i)) && truthy(&self.eval_field(rhs, i))),
            Field::Binary { op: FOp::Or, lhs, rhs } => V::Bool(truthy(&self.eval_field(lhs, i)) || truthy(&self.eval_field(rhs, i))),
            Field::Binary { op, lhs, rhs } => {
                let a = self.eval_field(lhs, i);
                let b = self.eval_field(rhs, i);
                if !op.is_comparison() {
                    return arith(*op, &a, &b);
                }
                // `x = nil` / `x != nil` test presence; otherwise a missing
                // value never compares true.
                if matches!(**lhs, Field::Lit(V::Nil)) || matches!(**rhs, Field::Lit(V::Nil)) {
                    let both_nil = matches!(a, V::Nil) && matches!(b, V::Nil);
                    return V::Bool(if *op == FOp::Eq { both_nil } else { !both_nil });
                }
                V::Bool(compare(*op, &a, &b))
            }
        }
    }

    pub fn matches(&mut self, f: &Field, i: usize) -> bool {
        truthy(&self.eval_field(f, i))
    }

    /// Walks up from `i`; calls `hit` on each ancestor until it says stop.
    fn any_ancestor(&mut self, i: usize, set: &[bool]) -> bool {
        let parents = self.parents();
        let mut cur = parents[i];
        let mut steps = 0;
        while let Some(p) = cur {
            if set[p] {
                return true;
            }
            steps += 1;
            if steps > MAX_ANCESTRY {
                return false;
            }
            cur = parents[p];
        }
        false
    }

    pub fn eval_spanset(&mut self, s: &Spanset) -> Vec<bool> {
        let n = self.spans.len();
        match s {
            Spanset::Filter { expr: None, .. } => vec![true; n],
            Spanset::Filter { expr: Some(e), .. } => (0..n).map(|i| self.matches(e, i)).collect(),
            Spanset::Binary { op, lhs, rhs } => {
                let a = self.eval_spanset(lhs);
                if *op == SOp::And && !a.iter().any(|&x| x) {
                    return vec![false; n];
                }
                let b = self.eval_spanset(rhs);
                match op {
                    SOp::And => {
                        if !b.iter().any(|&x| x) {
                            return vec![false; n];
                        }
                        a.iter().zip(&b).map(|(x, y)| *x || *y).collect()
                    }
                    SOp::Or => a.iter().zip(&b).map(|(x, y)| *x || *y).collect(),
                    SOp::Child => {
                        let parents = self.parents().to_vec();
                        (0..n).map(|i| b[i] && parents[i].is_some_and(|p| a[p])).collect()
                    }
                    SOp::Descendant => (0..n).map(|i| b[i] && self.any_ancestor(i, &a)).collect(),
                    SOp::Parent => {
                        // B spans that are the parent of some A span.
                        let parents = self.parents().to_vec();
                        let mut out = vec![false; n];
                        for i in 0..n {
                            if a[i] {
                                if let Some(p) = parents[i] {
                                    out[p] = b[p];
                                }
                            }
                        }
                        out
                    }
                    SOp::Ancestor => {
                        // B spans that are an ancestor of some A span.
                        let parents = self.parents().to_vec();
                        let mut out = vec![false; n];
                        for i in 0..n {
                            if !a[i] {
                                continue;
                            }
                            let mut cur = parents[i];
                            let mut steps = 0;
                            while let Some(p) = cur {
                                if b[p] {
                                    out[p] = true;
                                }
                                steps += 1;
                                if steps > MAX_ANCESTRY {
                                    break;
                                }
                                cur = parents[p];
                            }
                        }
                        out
                    }
                    SOp::Sibling => {
                        let parents = self.parents().to_vec();
                        let mut with_a: HashMap<usize, usize> = HashMap::new();
                        for i in 0..n {
                            if a[i] {
                                if let Some(p) = parents[i] {
                                    *with_a.entry(p).or_default() += 1;
                                }
                            }
                        }
                        (0..n)
                            .map(|i| {
                                b[i] && parents[i].is_some_and(|p| {
                                    let k = with_a.get(&p).copied().unwrap_or(0);
                                    k > usize::from(a[i])
                                })
                            })
                            .collect()
                    }
                }
            }
            Spanset::Pipeline { input, stages } => {
                let mut set = self.eval_spanset(input);
                for st in stages {
                    if !set.iter().any(|&x| x) {
                        break;
                    }
                    match st {
                        Stage::Select(_) => {}
                        Stage::Filter(f) => {
                            for i in 0..n {
                                if set[i] && !self.matches(f, i) {
                                    set[i] = false;
                                }
                            }
                        }
                        Stage::Aggregate { func, field, op, value, .. } => {
                            let got = self.aggregate(*func, field.as_ref(), &set);
                            if !compare(*op, &got, value) {
                                set.iter_mut().for_each(|x| *x = false);
                            }
                        }
                    }
                }
                set
            }
        }
    }

    fn aggregate(&mut self, func: AggFn, field: Option<&Field>, set: &[bool]) -> V {
        let members: Vec<usize> = (0..set.len()).filter(|&i| set[i]).collect();
        if func == AggFn::Count {
            return V::Int(members.len() as i64);
        }
        let Some(f) = field else { return V::Nil };
        let mut dur = false;
        let mut vals = Vec::with_capacity(members.len());
        for i in members {
            match self.eval_field(f, i) {
                V::Dur(d) => {
                    dur = true;
                    vals.push(d as f64);
                }
                V::Int(x) => vals.push(x as f64),
                V::Float(x) => vals.push(x),
                _ => {}
            }
        }
        if vals.is_empty() {
            return V::Nil;
        }
        let r = match func {
            AggFn::Avg => vals.iter().sum::<f64>() / vals.len() as f64,
            AggFn::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
            AggFn::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            AggFn::Sum => vals.iter().sum(),
            AggFn::Count => vals.len() as f64,
        };
        if dur { V::Dur(r.round() as i64) } else { V::Float(r) }
    }
}

fn truthy(v: &V) -> bool {
    matches!(v, V::Bool(true))
}

fn num(v: &V) -> Option<f64> {
    match v {
        V::Int(i) => Some(*i as f64),
        V::Float(x) => Some(*x),
        _ => None,
    }
}

pub(crate) fn compare(op: FOp, a: &V, b: &V) -> bool {
    use std::cmp::Ordering;
    if matches!(a, V::Nil) || matches!(b, V::Nil) {
        return false;
    }
    let ord: Option<Ordering> = match (a, b) {
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        (V::Dur(x), V::Dur(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Status(x), V::Status(y)) => Some(x.cmp(y)),
        (V::Kind(x), V::Kind(y)) => Some(x.cmp(y)),
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    };
    let Some(o) = ord else { return false };
    match op {
        FOp::Eq => o == Ordering::Equal,
        FOp::Neq => o != Ordering::Equal,
        FOp::Gt => o == Ordering::Greater,
        FOp::Gte => o != Ordering::Less,
        FOp::Lt => o == Ordering::Less,
        FOp::Lte => o != Ordering::Greater,
        _ => false,
    }
}

fn arith(op: FOp, a: &V, b: &V) -> V {
    let f = |x: f64, y: f64| match op {
        FOp::Add => x + y,
        FOp::Sub => x - y,
        FOp::Mul => x * y,
        FOp::Div => x / y,
        FOp::Mod => x % y,
        FOp::Pow => x.powf(y),
        _ => f64::NAN,
    };
    match (a, b) {
        (V::Dur(x), V::Dur(y)) if matches!(op, FOp::Add | FOp::Sub) => V::Dur(if op == FOp::Add { x.saturating_add(*y) } else { x.saturating_sub(*y) }),
        (V::Dur(x), _) => num(b).map(|y| V::Dur(f(*x as f64, y) as i64)).unwrap_or(V::Nil),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => V::Float(f(x, y)),
            _ => V::Nil,
        },
    }
}

pub(crate) fn check_limit(n: usize, limit: usize) -> Result<(), QueryError> {
    if n > limit {
        return Err(QueryError::limit(format!("the limit is at most {limit} traces")));
    }
    Ok(())
}
