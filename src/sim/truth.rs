//! Ground truth: which faults ran where and when, the incident windows, the
//! red herrings, and for each kept trace which fault slowed or failed which
//! of its spans. This is the answer key; the learner never sees it.

use super::time::SimTime;
use crate::json::JsonWriter;
use crate::telemetry::ids::{SpanId, TraceId};
use std::collections::BTreeMap;

/// One fault (or red herring) as it actually ran.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultTruth {
    /// 1-based; span records carry it in `cause`.
    pub id: u16,
    /// The catalogue name of the mechanism.
    pub kind: &'static str,
    /// The culprit service (or the service that shows it).
    pub service: Option<String>,
    pub endpoint: Option<String>,
    pub pod: Option<String>,
    pub node: Option<String>,
    pub datastore: Option<String>,
    pub windows: Vec<(SimTime, SimTime)>,
    /// Parameters as text, for the answer key.
    pub params: BTreeMap<String, String>,
}

/// An incident of the aggregate (SLO) history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryIncidentTruth {
    pub kind: &'static str,
    pub start: SimTime,
    pub end: SimTime,
    pub error_ratio: f64,
    /// Whether the incident counts against the SLO (maintenance does not).
    pub counts: bool,
    /// The service its failures start in (they show as 5xx there, in its
    /// callers and at the entry).
    pub service: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroundTruth {
    pub scenario: String,
    pub seed: u64,
    pub start_unix_ms: i64,
    pub faults: Vec<FaultTruth>,
    pub red_herrings: Vec<FaultTruth>,
    pub incidents: Vec<(SimTime, SimTime)>,
    /// Kept traces shaped by a fault: trace → (fault id, span) pairs.
    pub traces: BTreeMap<TraceId, Vec<(u16, SpanId)>>,
    /// Requests (all, kept or not) slowed or failed by each fault id.
    pub affected_requests: BTreeMap<u16, u64>,
    pub history: Vec<HistoryIncidentTruth>,
    /// SLO history totals: valid (non-4xx) and failed (5xx) requests.
    pub valid_requests: u64,
    pub failed_requests: u64,
}

impl GroundTruth {
    pub fn fault(&self, id: u16) -> Option<&FaultTruth> {
        self.faults.iter().find(|f| f.id == id)
    }
    /// The answer key as JSON.
    pub fn to_json(&self) -> String {
        let ms = |t: SimTime| self.start_unix_ms + t.0 / 1000;
        let iso = |t: SimTime| crate::scenario::model::format_rfc3339_ms(ms(t));
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field_str("scenario", &self.scenario).field_int("seed", self.seed as i128);
        w.field_str("start", &iso(SimTime::ZERO));
        let write_fault = |w: &mut JsonWriter, f: &FaultTruth| {
            w.begin_object();
            w.field_int("id", f.id as i128).field_str("kind", f.kind);
            for (k, v) in [("service", &f.service), ("endpoint", &f.endpoint), ("pod", &f.pod), ("node", &f.node), ("datastore", &f.datastore)] {
                if let Some(v) = v {
                    w.field_str(k, v);
                }
            }
            w.key("windows").begin_array();
            for &(a, b) in &f.windows {
                w.begin_object().field_str("start", &iso(a)).field_str("end", &iso(b)).field_float("start_offset_s", a.as_secs_f64()).field_float("end_offset_s", b.as_secs_f64()).end_object();
            }
            w.end_array();
            w.key("params").begin_object();
            for (k, v) in &f.params {
                w.field_str(k, v);
            }
            w.end_object();
            w.field_int("affected_requests", *self.affected_requests.get(&f.id).unwrap_or(&0) as i128);
            w.end_object();
        };
        w.key("faults").begin_array();
        for f in &self.faults {
            write_fault(&mut w, f);
        }
        w.end_array();
        w.key("red_herrings").begin_array();
        for f in &self.red_herrings {
            write_fault(&mut w, f);
        }
        w.end_array();
        w.key("incidents").begin_array();
        for &(a, b) in &self.incidents {
            w.begin_object().field_str("start", &iso(a)).field_str("end", &iso(b)).end_object();
        }
        w.end_array();
        w.key("evidence_traces").begin_array();
        for (t, v) in &self.traces {
            w.begin_object().field_str("trace_id", &t.to_string());
            w.key("spans").begin_array();
            for (f, s) in v {
                w.begin_object().field_int("fault", *f as i128).field_str("span_id", &s.to_string()).end_object();
            }
            w.end_array().end_object();
        }
        w.end_array();
        if !self.history.is_empty() || self.valid_requests > 0 {
            w.key("history").begin_array();
            for h in &self.history {
                w.begin_object()
                    .field_str("kind", h.kind)
                    .field_str("start", &iso(h.start))
                    .field_str("end", &iso(h.end))
                    .field_float("error_ratio", h.error_ratio)
                    .field_bool("counts_against_slo", h.counts);
                if let Some(s) = &h.service {
                    w.field_str("service", s);
                }
                w.end_object();
            }
            w.end_array();
            w.field_int("valid_requests", self.valid_requests as i128);
            w.field_int("failed_requests", self.failed_requests as i128);
        }
        w.end_object();
        w.finish()
    }
}
