//! Simulated time: [`SimTime`] (integer microseconds since the scenario's
//! start instant) and [`SimDuration`], plus parsing of human durations
//! ("15s", "1h30m", "250ms") with typed errors. The core never reads the
//! wall clock; the scenario file gives the real UTC start so exports carry
//! real timestamps.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds since the scenario's start instant. Totally ordered, never
/// negative in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub i64);

/// A span of simulated time in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub i64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub fn micros(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn from_secs(s: i64) -> SimTime {
        SimTime(s * 1_000_000)
    }
    pub fn from_millis(ms: i64) -> SimTime {
        SimTime(ms * 1_000)
    }
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration((self.0 - earlier.0).max(0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub fn from_micros(us: i64) -> Self {
        SimDuration(us)
    }
    pub fn from_millis(ms: i64) -> Self {
        SimDuration(ms * 1_000)
    }
    pub fn from_secs(s: i64) -> Self {
        SimDuration(s * 1_000_000)
    }
    /// Rounds to the nearest microsecond; negative and NaN inputs give zero.
    pub fn from_secs_f64(s: f64) -> Self {
        if !(s > 0.0) {
            return SimDuration(0);
        }
        SimDuration(libm::round(s * 1e6).min(i64::MAX as f64 / 2.0) as i64)
    }
    pub fn micros(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}
impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, o: SimTime) -> SimDuration {
        SimDuration(self.0 - o.0)
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0 + o.0)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us % 3_600_000_000 == 0 && us != 0 {
            write!(f, "{}h", us / 3_600_000_000)
        } else if us % 60_000_000 == 0 && us != 0 {
            write!(f, "{}m", us / 60_000_000)
        } else if us % 1_000_000 == 0 {
            write!(f, "{}s", us / 1_000_000)
        } else if us % 1_000 == 0 {
            write!(f, "{}ms", us / 1_000)
        } else {
            write!(f, "{}us", us)
        }
    }
}

/// Why a duration string was rejected; `at` is a byte offset into the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.at)
    }
}

/// Parses Prometheus-style durations: one or more `<int><unit>` parts with
/// units `d h m s ms us`, largest first, e.g. `1h30m`, `250ms`, `30d`.
pub fn parse_duration(s: &str) -> Result<SimDuration, DurationError> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(DurationError { at: 0, message: "expected a duration such as 15s, 5m or 1h".into() });
    }
    let mut i = 0;
    let mut total: i64 = 0;
    let mut last_rank = usize::MAX;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(DurationError { at: i, message: format!("expected a number in duration {s:?}") });
        }
        let n: i64 = s[start..i].parse().map_err(|_| DurationError { at: start, message: "number too large".into() })?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let (mult, rank) = match &s[ustart..i] {
            "d" => (86_400_000_000i64, 0),
            "h" => (3_600_000_000, 1),
            "m" => (60_000_000, 2),
            "s" => (1_000_000, 3),
            "ms" => (1_000, 4),
            "us" | "µs" => (1, 5),
            "" => return Err(DurationError { at: ustart, message: format!("missing unit after {n} (use d, h, m, s, ms or us)") }),
            u => return Err(DurationError { at: ustart, message: format!("unknown duration unit {u:?} (use d, h, m, s, ms or us)") }),
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(DurationError { at: ustart, message: "duration units must go from largest to smallest, each once".into() });
        }
        last_rank = rank;
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or(DurationError { at: start, message: "duration too large".into() })?;
    }
    Ok(SimDuration(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), SimDuration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), SimDuration::from_millis(250));
        assert_eq!(parse_duration("30d").unwrap(), SimDuration::from_secs(30 * 86400));
    }

    #[test]
    fn rejects_bad_durations_with_position() {
        assert_eq!(parse_duration("15").unwrap_err().at, 2);
        assert_eq!(parse_duration("5x").unwrap_err().at, 1);
        assert!(parse_duration("1m1h").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
    }

    #[test]
    fn displays_round_units() {
        assert_eq!(SimDuration::from_secs(3600).to_string(), "1h");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
    }
}
