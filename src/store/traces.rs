//! The trace store: spans of kept traces (after tail sampling), each
//! trace's spans contiguous, an index by trace id, the operation table the
//! records point into, and counts of what sampling dropped.

use crate::telemetry::ids::TraceId;
use crate::telemetry::span::{materialize, OpId, Operation, Span, SpanRecord, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a trace was kept by the tail sampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepReason {
    Error,
    Slow,
    Sampled,
}

impl KeepReason {
    pub fn as_str(self) -> &'static str {
        match self {
            KeepReason::Error => "error",
            KeepReason::Slow => "slow",
            KeepReason::Sampled => "probabilistic",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceSummary {
    pub trace_id: TraceId,
    /// Index of the first span in the store and the span count.
    pub first: u32,
    pub len: u32,
    /// Index of the root span, if the trace has one.
    pub root: Option<u32>,
    pub reason: KeepReason,
}

#[derive(Clone, Debug, Default)]
pub struct TraceStore {
    spans: Vec<SpanRecord>,
    traces: Vec<TraceSummary>,
    by_id: BTreeMap<TraceId, u32>,
    ops: Vec<Operation>,
    pub categories: Vec<Arc<str>>,
    pub dropped_traces: u64,
    pub dropped_spans: u64,
}

impl TraceStore {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add_operation(&mut self, op: Operation) -> OpId {
        self.ops.push(op);
        OpId(self.ops.len() as u32 - 1)
    }
    pub fn operation(&self, id: OpId) -> &Operation {
        &self.ops[id.0 as usize]
    }
    pub fn operations(&self) -> &[Operation] {
        &self.ops
    }
    /// Stores one whole trace. Spans keep their order.
    pub fn insert_trace(&mut self, spans: &[SpanRecord], reason: KeepReason) {
        let Some(first_span) = spans.first() else { return };
        let first = self.spans.len() as u32;
        let root = spans.iter().position(|s| s.is_root()).map(|i| first + i as u32);
        self.spans.extend_from_slice(spans);
        let idx = self.traces.len() as u32;
        self.by_id.insert(first_span.trace_id, idx);
        self.traces.push(TraceSummary { trace_id: first_span.trace_id, first, len: spans.len() as u32, root, reason });
    }
    pub fn record_dropped(&mut self, spans: usize) {
        self.dropped_traces += 1;
        self.dropped_spans += spans as u64;
    }
    pub fn traces(&self) -> &[TraceSummary] {
        &self.traces
    }
    pub fn spans(&self) -> &[SpanRecord] {
        &self.spans
    }
    pub fn span_count(&self) -> usize {
        self.spans.len()
    }
    pub fn trace(&self, id: TraceId) -> Option<&TraceSummary> {
        self.by_id.get(&id).map(|&i| &self.traces[i as usize])
    }
    pub fn trace_spans(&self, t: &TraceSummary) -> &[SpanRecord] {
        &self.spans[t.first as usize..(t.first + t.len) as usize]
    }
    pub fn root(&self, t: &TraceSummary) -> Option<&SpanRecord> {
        t.root.map(|i| &self.spans[i as usize])
    }
    pub fn is_error(&self, t: &TraceSummary) -> bool {
        self.trace_spans(t).iter().any(|s| s.status == StatusCode::Error)
    }
    /// The full OpenTelemetry view of one stored span.
    pub fn materialize(&self, r: &SpanRecord) -> Span {
        materialize(r, self.operation(r.op), &self.categories)
    }
}
