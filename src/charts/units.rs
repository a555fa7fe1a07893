//! Units of a panel's values and how numbers in them read on an axis, in a
//! tooltip and in a table. The ids are Grafana's (`s`, `ms`, `reqps`,
//! `percentunit`, `bytes`, ...), so a panel definition reads like one a
//! learner will meet at work.

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unit {
    /// A plain number with k/M suffixes.
    #[default]
    Short,
    /// Seconds, shown as µs, ms, s or min as the size asks.
    Seconds,
    Milliseconds,
    /// Requests per second.
    RequestsPerSecond,
    /// Operations per second.
    OpsPerSecond,
    /// 0..1 shown as a percentage.
    PercentUnit,
    /// 0..100 shown as a percentage.
    Percent,
    Bytes,
    /// CPU cores (a rate of CPU seconds).
    Cores,
}

/// A unit id no panel may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownUnit(pub String);

impl fmt::Display for UnknownUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown unit \"{}\", expected one of: {}", self.0, Unit::ALL.iter().map(|u| u.id()).collect::<Vec<_>>().join(", "))
    }
}

impl Unit {
    pub const ALL: [Unit; 9] = [
        Unit::Short,
        Unit::Seconds,
        Unit::Milliseconds,
        Unit::RequestsPerSecond,
        Unit::OpsPerSecond,
        Unit::PercentUnit,
        Unit::Percent,
        Unit::Bytes,
        Unit::Cores,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Unit::Short => "short",
            Unit::Seconds => "s",
            Unit::Milliseconds => "ms",
            Unit::RequestsPerSecond => "reqps",
            Unit::OpsPerSecond => "ops",
            Unit::PercentUnit => "percentunit",
            Unit::Percent => "percent",
            Unit::Bytes => "bytes",
            Unit::Cores => "cores",
        }
    }

    pub fn parse(id: &str) -> Result<Unit, UnknownUnit> {
        Unit::ALL.into_iter().find(|u| u.id() == id).ok_or_else(|| UnknownUnit(id.to_string()))
    }

    /// A value as a short label: `250 ms`, `1.2 s`, `42 req/s`, `99.5%`.
    pub fn format(self, v: f64) -> String {
        if v.is_nan() {
            return "NaN".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
        }
        match self {
            Unit::Short => short(v),
            Unit::Seconds => seconds(v),
            Unit::Milliseconds => seconds(v / 1000.0),
            Unit::RequestsPerSecond => format!("{} req/s", short(v)),
            Unit::OpsPerSecond => format!("{} ops/s", short(v)),
            Unit::PercentUnit => percent(v * 100.0),
            Unit::Percent => percent(v),
            Unit::Bytes => bytes(v),
            Unit::Cores => format!("{} cores", short(v)),
        }
    }
}

/// `0`, `0.25`, `7.5`, `42`, `1.2k`, `3.4M`.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else if a >= 0.001 {
        trim(format!("{v:.3}"))
    } else {
        format!("{v:.1e}")
    }
}

fn trim(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

fn seconds(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0 s".into()
    } else if a < 1e-3 {
        format!("{} µs", trim(format!("{:.1}", v * 1e6)))
    } else if a < 1.0 {
        format!("{} ms", trim(format!("{:.1}", v * 1e3)))
    } else if a < 60.0 {
        format!("{} s", trim(format!("{v:.2}")))
    } else if a < 3600.0 {
        format!("{} min", trim(format!("{:.1}", v / 60.0)))
    } else {
        format!("{} h", trim(format!("{:.1}", v / 3600.0)))
    }
}

fn percent(p: f64) -> String {
    let a = p.abs();
    if a >= 10.0 || p == 0.0 {
        format!("{}%", trim(format!("{p:.1}")))
    } else if a >= 0.1 {
        format!("{}%", trim(format!("{p:.2}")))
    } else {
        format!("{}%", trim(format!("{p:.3}")))
    }
}

fn bytes(v: f64) -> String {
    const K: f64 = 1024.0;
    let a = v.abs();
    if a >= K * K * K {
        format!("{} GiB", trim(format!("{:.1}", v / (K * K * K))))
    } else if a >= K * K {
        format!("{} MiB", trim(format!("{:.1}", v / (K * K))))
    } else if a >= K {
        format!("{} KiB", trim(format!("{:.1}", v / K)))
    } else {
        format!("{v:.0} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_say_what_is_known() {
        for u in Unit::ALL {
            assert_eq!(Unit::parse(u.id()), Ok(u));
        }
        let e = Unit::parse("furlongs").unwrap_err().to_string();
        assert!(e.contains("\"furlongs\"") && e.contains("percentunit"), "{e}");
    }

    #[test]
    fn values_read_naturally() {
        assert_eq!(Unit::Seconds.format(0.25), "250 ms");
        assert_eq!(Unit::Seconds.format(0.0123), "12.3 ms");
        assert_eq!(Unit::Seconds.format(1.5), "1.5 s");
        assert_eq!(Unit::Seconds.format(0.000_4), "400 µs");
        assert_eq!(Unit::Seconds.format(150.0), "2.5 min");
        assert_eq!(Unit::Milliseconds.format(250.0), "250 ms");
        assert_eq!(Unit::RequestsPerSecond.format(42.0), "42 req/s");
        assert_eq!(Unit::PercentUnit.format(0.995), "99.5%");
        assert_eq!(Unit::PercentUnit.format(0.0047), "0.47%");
        assert_eq!(Unit::Percent.format(12.0), "12%");
        assert_eq!(Unit::Bytes.format(3.0 * 1024.0 * 1024.0), "3 MiB");
        assert_eq!(Unit::Short.format(1234.0), "1.2k");
        assert_eq!(Unit::Short.format(0.25), "0.25");
        assert_eq!(Unit::Short.format(f64::NAN), "NaN");
        assert_eq!(Unit::Short.format(f64::INFINITY), "+Inf");
    }
}
