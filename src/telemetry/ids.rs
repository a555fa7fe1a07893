//! Trace and span identifiers in the OpenTelemetry model: 16- and 8-byte
//! ids, printed as lowercase hex; the all-zero id means "none".

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceId(pub u128);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId(pub u64);

impl TraceId {
    pub const INVALID: TraceId = TraceId(0);
    pub fn is_valid(self) -> bool {
        self.0 != 0
    }
    /// Parses 32 hex digits (case-insensitive); anything else is `None`.
    pub fn from_hex(s: &str) -> Option<TraceId> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(TraceId)
    }
}

impl SpanId {
    pub const INVALID: SpanId = SpanId(0);
    pub fn is_valid(self) -> bool {
        self.0 != 0
    }
    pub fn from_hex(s: &str) -> Option<SpanId> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(SpanId)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hex_round_trip() {
        let t = TraceId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(TraceId::from_hex(&t.to_string()), Some(t));
        assert_eq!(SpanId::from_hex("00000000000000ff"), Some(SpanId(255)));
        assert_eq!(SpanId::from_hex("xyz"), None);
        assert_eq!(TraceId::from_hex(&"g".repeat(32)), None);
    }
}
