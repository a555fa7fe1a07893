//! Exemplars for a query, as Prometheus's `/api/v1/query_exemplars` gives
//! them: every exemplar in a time range on the series that the query's
//! selectors select (whatever functions and aggregations wrap them).
//! Dashboards draw them as dots that open their trace.

use super::ast::{Expr, ExprKind, VectorSelector};
use crate::store::{SeriesId, SeriesStore};
use crate::telemetry::metric::{Exemplar, Labels, METRIC_NAME};
use super::ast::MatchOp;

/// One exemplar and the series it was recorded on.
#[derive(Clone, Debug, PartialEq)]
pub struct ExemplarHit {
    pub labels: Labels,
    pub exemplar: Exemplar,
}

/// The exemplars in `[from_ms, to_ms]` of the series selected by `expr`'s
/// selectors, in time order; at most `limit`.
pub fn query_exemplars(store: &SeriesStore, expr: &Expr, from_ms: i64, to_ms: i64, limit: usize) -> Vec<ExemplarHit> {
    let mut selectors = Vec::new();
    collect(expr, &mut selectors);
    let mut ids: Vec<SeriesId> = Vec::new();
    for vs in selectors {
        let name_eq = vs.matchers.iter().find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal);
        let matches = |id: SeriesId| {
            let l = &store.get(id).labels;
            vs.matchers.iter().all(|m| m.matches(l.get(&m.name).unwrap_or("")))
        };
        match name_eq {
            Some(m) => ids.extend(store.by_name(&m.value).iter().copied().filter(|&id| matches(id))),
            None => ids.extend(store.iter().map(|(id, _)| id).filter(|&id| matches(id))),
        }
    }
    crate::sort::sort_by_key(&mut ids, |id| id.0);
    ids.dedup();
    let mut out: Vec<ExemplarHit> = Vec::new();
    for id in ids {
        let s = store.get(id);
        for e in s.exemplars.iter().filter(|e| e.timestamp_ms >= from_ms && e.timestamp_ms <= to_ms) {
            out.push(ExemplarHit { labels: s.labels.clone(), exemplar: e.clone() });
        }
    }
    crate::sort::sort_by(&mut out, |a, b| a.exemplar.timestamp_ms.cmp(&b.exemplar.timestamp_ms).then_with(|| a.labels.cmp(&b.labels)));
    if out.len() > limit {
        // Keep an even spread over time rather than the first `limit`.
        let n = out.len();
        out = (0..limit).map(|k| out[k * n / limit].clone()).collect();
    }
    out
}

fn collect<'a>(e: &'a Expr, out: &mut Vec<&'a VectorSelector>) {
    match &e.kind {
        ExprKind::Number(_) | ExprKind::String(_) => {}
        ExprKind::Vector(vs) => out.push(vs),
        ExprKind::Matrix(m) => out.push(&m.vs),
        ExprKind::Subquery(s) => collect(&s.expr, out),
        ExprKind::Paren(x) | ExprKind::Neg(x) => collect(x, out),
        ExprKind::Binary(b) => {
            collect(&b.lhs, out);
            collect(&b.rhs, out);
        }
        ExprKind::Aggregate(a) => {
            collect(&a.expr, out);
            if let Some(p) = &a.param {
                collect(p, out);
            }
        }
        ExprKind::Call(c) => c.args.iter().for_each(|a| collect(a, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::ids::{SpanId, TraceId};

    #[test]
    fn exemplars_of_the_selected_series_in_range() {
        let mut st = SeriesStore::new();
        let a = st.get_or_create(Labels::from_pairs([("__name__", "h_bucket"), ("le", "0.5"), ("service", "cart")]));
        let b = st.get_or_create(Labels::from_pairs([("__name__", "h_bucket"), ("le", "0.5"), ("service", "web")]));
        let c = st.get_or_create(Labels::from_pairs([("__name__", "other"), ("service", "cart")]));
        for (id, t) in [(a, 10), (a, 20_000), (b, 15), (c, 12)] {
            st.add_exemplar(id, Exemplar { timestamp_ms: t, value: 0.3, trace_id: TraceId(t as u128 + 1), span_id: SpanId(1) });
        }
        let q = crate::query::promql::parse("histogram_quantile(0.99, sum by (le) (rate(h_bucket{service=\"cart\"}[1m])))").unwrap();
        let hits = query_exemplars(&st, &q, 0, 1000, 100);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].exemplar.timestamp_ms, 10);
        assert_eq!(hits[0].labels.get("service"), Some("cart"));
        let all = crate::query::promql::parse("h_bucket + on() group_left other").unwrap();
        assert_eq!(query_exemplars(&st, &all, 0, 100_000, 100).len(), 4);
        assert_eq!(query_exemplars(&st, &all, 0, 100_000, 2).len(), 2, "the limit holds");
        assert!(query_exemplars(&st, &crate::query::promql::parse("1 + 1").unwrap(), 0, 100_000, 10).is_empty());
    }
}
