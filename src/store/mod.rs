//! Stores for the four signals and [`Telemetry`], the bundle a run produces:
//! series, traces, logs and profiles plus the resources they point at and
//! the real UTC instant the scenario starts at. [`Telemetry::digest`] hashes
//! every byte of it in a canonical order, for determinism checks.

pub mod logs;
pub mod profiles;
pub mod series;
pub mod traces;

pub use logs::LogStore;
pub use profiles::ProfileStore;
pub use series::{Series, SeriesId, SeriesStore};
pub use traces::{KeepReason, TraceStore, TraceSummary};

use crate::sim::time::SimTime;
use crate::telemetry::log::LogValue;
use crate::telemetry::resource::{Resource, ResourceId};

/// Everything a run emitted.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    /// Unix milliseconds of `SimTime::ZERO`.
    pub start_unix_ms: i64,
    pub resources: Vec<Resource>,
    pub series: SeriesStore,
    pub traces: TraceStore,
    pub logs: LogStore,
    pub profiles: ProfileStore,
}

impl Telemetry {
    pub fn resource(&self, id: ResourceId) -> &Resource {
        &self.resources[id.0 as usize]
    }
    /// Unix nanoseconds of a simulated instant.
    pub fn unix_nanos(&self, t: SimTime) -> i128 {
        self.start_unix_ms as i128 * 1_000_000 + t.0 as i128 * 1_000
    }
    pub fn unix_ms(&self, t: SimTime) -> i64 {
        self.start_unix_ms + t.0.div_euclid(1000)
    }
    /// A 128-bit hex digest of all telemetry, in a canonical order.
    pub fn digest(&self) -> String {
        let mut d = Digest::new();
        d.i64(self.start_unix_ms);
        for r in &self.resources {
            for (k, v) in r.attributes() {
                d.str(k);
                d.str(v);
            }
        }
        for (_, s) in self.series.iter() {
            for l in s.labels.iter() {
                d.str(&l.name);
                d.str(&l.value);
            }
            for (&t, &v) in s.timestamps.iter().zip(&s.values) {
                d.i64(t);
                d.u64(v.to_bits());
            }
            for e in &s.exemplars {
                d.i64(e.timestamp_ms);
                d.u64(e.value.to_bits());
                d.u128(e.trace_id.0);
            }
        }
        for s in self.traces.spans() {
            d.u128(s.trace_id.0);
            d.u64(s.span_id.0);
            d.u64(s.parent.0);
            d.i64(s.start.0);
            d.i64(s.end.0);
            d.u64(((s.op.0 as u64) << 32) | s.resource.0 as u64);
            d.u64(((s.status as u64) << 40) | ((s.error as u64) << 32) | ((s.http_status as u64) << 16) | ((s.resend as u64) << 8) | s.cache as u64);
            d.u64(((s.product as u64) << 32) | ((s.category as u64) << 16) | s.cause as u64);
            d.u64(s.user as u64);
        }
        d.u64(self.traces.dropped_spans);
        d.u64(self.traces.dropped_traces);
        for r in self.logs.records() {
            d.i64(r.time.0);
            d.u64(((r.severity as u64) << 48) | ((r.template.0 as u64) << 32) | r.resource.0 as u64);
            d.u128(r.trace_id.0);
            d.u64(r.span_id.0);
            for f in r.fields.iter() {
                match f {
                    LogValue::Int(i) => d.i64(*i),
                    LogValue::Float(x) => d.u64(x.to_bits()),
                    LogValue::Str(s) => d.str(s),
                }
            }
        }
        for (&(b, r, s), &n) in self.profiles.samples() {
            d.i64(b);
            d.u64(r.0 as u64);
            d.str(self.profiles.stack(s));
            d.u64(n);
        }
        d.hex()
    }
}

/// Two independent 64-bit FNV-1a lanes with different offsets, finalised
/// with SplitMix64: stable across platforms, not cryptographic.
struct Digest {
    a: u64,
    b: u64,
}

impl Digest {
    fn new() -> Self {
        Digest { a: 0xcbf2_9ce4_8422_2325, b: 0x6c62_272e_07bb_0142 }
    }
    fn bytes(&mut self, bs: &[u8]) {
        for &x in bs {
            self.a = (self.a ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
            self.b = (self.b ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
        }
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }
    fn u128(&mut self, v: u128) {
        self.bytes(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }
    fn hex(&self) -> String {
        use crate::sim::rng::splitmix64;
        format!("{:016x}{:016x}", splitmix64(self.a ^ self.b.rotate_left(17)), splitmix64(self.b))
    }
}
