//! The waterfall of one trace: its spans in tree order (children by start
//! time under their parent), each with its depth and its offset from the
//! trace's start, and the critical path — the chain of spans the trace's
//! end actually waited on (Jaeger's definition: from a span's end, walk
//! back through the child that finished last before it, then the child
//! that finished last before that child started, and so on).
//! Spans whose parent is not in the trace (propagation broken, or a parent
//! dropped) are roots of their own. Iterative, so a deep or adversarial
//! trace cannot overflow the stack.

use crate::telemetry::ids::SpanId;
use crate::telemetry::span::SpanRecord;
use std::collections::HashMap;

/// One row of the waterfall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Index into the spans given to [`layout`].
    pub span: usize,
    pub depth: u32,
    /// Microseconds from the trace's first start.
    pub offset_us: i64,
    pub duration_us: i64,
    pub critical: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Waterfall {
    pub rows: Vec<Row>,
    /// First start to last end, microseconds.
    pub duration_us: i64,
    /// Spans on the critical path.
    pub critical: usize,
}

pub fn layout(spans: &[SpanRecord]) -> Waterfall {
    if spans.is_empty() {
        return Waterfall::default();
    }
    let t0 = spans.iter().map(|s| s.start.0).min().unwrap_or(0);
    let t1 = spans.iter().map(|s| s.end.0).max().unwrap_or(t0);
    let index: HashMap<SpanId, usize> = spans.iter().enumerate().map(|(i, s)| (s.span_id, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match index.get(&s.parent) {
            Some(&p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let by_start = |v: &mut Vec<usize>| crate::sort::sort_by_key(v, |&i| (spans[i].start.0, spans[i].end.0, i));
    by_start(&mut roots);
    for c in children.iter_mut() {
        by_start(c);
    }

    // Depth-first, children in start order; `seen` guards against cycles
    // in malformed parent links.
    let mut rows = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    let mut stack: Vec<(usize, u32)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let s = &spans[i];
        rows.push(Row { span: i, depth, offset_us: s.start.0 - t0, duration_us: (s.end.0 - s.start.0).max(0), critical: false });
        for &c in children[i].iter().rev() {
            stack.push((c, depth + 1));
        }
    }
    // Spans in a parent cycle are reached from no root: list them last.
    for (i, s) in spans.iter().enumerate() {
        if !seen[i] {
            rows.push(Row { span: i, depth: 0, offset_us: s.start.0 - t0, duration_us: (s.end.0 - s.start.0).max(0), critical: false });
        }
    }

    // The critical path from the root that ends last.
    let mut critical = vec![false; spans.len()];
    if let Some(&root) = roots.iter().max_by_key(|&&r| (spans[r].end.0, std::cmp::Reverse(r))) {
        let mut work = vec![(root, spans[root].end.0)];
        let mut guard = 0usize;
        while let Some((i, until)) = work.pop() {
            guard += 1;
            if guard > spans.len() * 2 || std::mem::replace(&mut critical[i], true) {
                continue;
            }
            // Children by end, latest first; walk back from `until`.
            let mut kids = children[i].clone();
            crate::sort::sort_by_key(&mut kids, |&c| std::cmp::Reverse((spans[c].end.0, c)));
            let mut cursor = until.min(spans[i].end.0);
            for c in kids {
                let (cs, ce) = (spans[c].start.0, spans[c].end.0);
                if cs < cursor && !critical[c] {
                    work.push((c, ce.min(cursor)));
                    cursor = cs;
                }
            }
        }
    }
    let mut on_path = 0;
    for r in rows.iter_mut() {
        r.critical = critical[r.span];
        on_path += usize::from(r.critical);
    }
    Waterfall { rows, duration_us: t1 - t0, critical: on_path }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::SimTime;
    use crate::telemetry::ids::TraceId;
    use crate::telemetry::resource::ResourceId;
    use crate::telemetry::span::{ErrorType, OpId, StatusCode};

    fn span(id: u64, parent: u64, start: i64, end: i64) -> SpanRecord {
        SpanRecord {
            trace_id: TraceId(1),
            span_id: SpanId(id),
            parent: SpanId(parent),
            start: SimTime(start),
            end: SimTime(end),
            op: OpId(0),
            resource: ResourceId(0),
            status: StatusCode::Unset,
            error: ErrorType::None,
            http_status: 0,
            resend: 0,
            cache: 0,
            product: 0,
            category: 0,
            user: 0,
            cause: 0,
        }
    }

    #[test]
    fn tree_order_depths_and_offsets() {
        // root 1 (0..100) with children 3 (10..30) and 2 (40..90); 4 under 2.
        let spans = [span(2, 1, 40, 90), span(1, 0, 0, 100), span(4, 2, 50, 60), span(3, 1, 10, 30)];
        let w = layout(&spans);
        let order: Vec<u64> = w.rows.iter().map(|r| spans[r.span].span_id.0).collect();
        assert_eq!(order, vec![1, 3, 2, 4]);
        assert_eq!(w.rows.iter().map(|r| r.depth).collect::<Vec<_>>(), vec![0, 1, 1, 2]);
        assert_eq!(w.rows[2].offset_us, 40);
        assert_eq!(w.duration_us, 100);
    }

    #[test]
    fn critical_path_follows_what_the_end_waited_on() {
        // Parallel children: 2 (10..80) and 3 (10..40); then 4 (80..95).
        // The root waited on 4, which started when 2 ended; 3 finished early.
        let spans = [span(1, 0, 0, 100), span(2, 1, 10, 80), span(3, 1, 10, 40), span(4, 1, 80, 95), span(5, 2, 20, 70)];
        let w = layout(&spans);
        let crit: Vec<u64> = w.rows.iter().filter(|r| r.critical).map(|r| spans[r.span].span_id.0).collect();
        assert_eq!(crit, vec![1, 2, 5, 4]);
        assert_eq!(w.critical, 4);
    }

    #[test]
    fn orphans_and_cycles_still_show() {
        // 2's parent is missing (propagation broken); 3 and 4 point at each other.
        let spans = [span(1, 0, 0, 10), span(2, 99, 5, 8), span(3, 4, 1, 2), span(4, 3, 1, 3)];
        let w = layout(&spans);
        assert_eq!(w.rows.len(), 4, "every span is a row exactly once");
        let mut seen: Vec<usize> = w.rows.iter().map(|r| r.span).collect();
        crate::sort::sort(&mut seen);
        assert_eq!(seen, vec![0, 1, 2, 3]);
        assert!(layout(&[]).rows.is_empty());
    }
}
