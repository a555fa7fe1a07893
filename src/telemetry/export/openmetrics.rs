//! OpenMetrics text exposition of the whole series store, with a timestamp
//! on every sample, so `promtool tsdb create-blocks-from openmetrics` can
//! backfill a run into a real Prometheus TSDB.
//!
//! Layout: one block per metric family (sorted by name) with `# TYPE`,
//! `# UNIT` (only when the family name ends in `_<unit>`, which the format
//! and promtool's parser require) and `# HELP` (only when non-empty, as an
//! empty HELP line is a parse error), then its series sorted by label set,
//! each series' samples contiguous and in time order. A histogram's series
//! come per label set: `_bucket` by ascending `le`, then `_sum`, `_count`.
//! Exemplars ride on `_bucket` samples in OpenMetrics syntax
//! (` # {trace_id="…",span_id="…"} value timestamp`), each on the sample of
//! the scrape that collected it. The file ends with `# EOF`.
//!
//! Label values are written exactly as stored (escaped), so `le="0.5"` and
//! `le="+Inf"` in the backfilled TSDB match what the lab's own query engine
//! sees; labels with an empty value are left out, as a Prometheus scrape
//! drops them; series that no family describes are written as `unknown`.
//!
//! Timestamps are seconds with millisecond precision. Prometheus parses them
//! as `int64(float * 1000)`, which truncates, so for the few instants where
//! the nearest double of `x.yyy` lands a hair below the millisecond the
//! writer picks the next double up instead; every timestamp reads back as
//! exactly the stored millisecond.

use crate::store::{SeriesId, SeriesStore, Telemetry};
use crate::telemetry::metric::{format_float, Exemplar, Labels, MetricKind, METRIC_NAME};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};

/// The kind of a family as exported; `Unknown` for series no family describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FamilyKind {
    Counter,
    Gauge,
    Histogram,
    Unknown,
}

impl FamilyKind {
    fn as_str(self) -> &'static str {
        match self {
            FamilyKind::Counter => "counter",
            FamilyKind::Gauge => "gauge",
            FamilyKind::Histogram => "histogram",
            FamilyKind::Unknown => "unknown",
        }
    }
}

/// One label set of a family: a single series for counters, gauges and
/// unknowns; buckets, sum and count for histograms.
#[derive(Clone, Debug)]
pub(crate) struct MetricView {
    /// Labels without `__name__` (and without `le` for histograms).
    pub labels: Labels,
    pub series: Option<SeriesId>,
    /// Upper bound and series, ascending, `+Inf` last.
    pub buckets: Vec<(f64, SeriesId)>,
    pub sum: Option<SeriesId>,
    pub count: Option<SeriesId>,
}

impl MetricView {
    fn new(labels: Labels) -> Self {
        MetricView { labels, series: None, buckets: Vec::new(), sum: None, count: None }
    }
}

/// A metric family with its series grouped per label set.
#[derive(Clone, Debug)]
pub(crate) struct FamilyView<'a> {
    pub name: &'a str,
    pub kind: FamilyKind,
    pub help: &'a str,
    pub unit: &'a str,
    pub metrics: Vec<MetricView>,
}

/// Parses an `le` label value; `None` if it is not a number.
fn parse_le(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        _ => s.parse::<f64>().ok().filter(|v| !v.is_nan()),
    }
}

/// Groups the store's series into families, sorted by family name, each
/// family's label sets sorted. Every series lands in at most one family;
/// only a stray series named exactly like a described family (a counter
/// `x` stored without `_total`) is left out, as two families cannot share
/// a name.
pub(crate) fn families(store: &SeriesStore) -> Vec<FamilyView<'_>> {
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    let mut rejected: BTreeSet<SeriesId> = BTreeSet::new();
    let mut out: Vec<FamilyView<'_>> = Vec::new();
    for fam in store.families() {
        let name: &str = &fam.name;
        let mut metrics: BTreeMap<Labels, MetricView> = BTreeMap::new();
        let (kind, roles): (FamilyKind, Vec<String>) = match fam.kind {
            MetricKind::Counter => (FamilyKind::Counter, vec![format!("{name}_total")]),
            MetricKind::Gauge => (FamilyKind::Gauge, vec![name.to_string()]),
            MetricKind::Histogram => {
                (FamilyKind::Histogram, vec![format!("{name}_bucket"), format!("{name}_sum"), format!("{name}_count")])
            }
        };
        for (role, series_name) in roles.into_iter().enumerate() {
            if !claimed.insert(series_name.clone()) {
                continue;
            }
            for &id in store.by_name(&series_name) {
                let s = store.get(id);
                let mut labels = s.labels.without_name();
                match (kind, role) {
                    (FamilyKind::Histogram, 0) => {
                        let Some(le) = s.labels.get("le").and_then(parse_le) else {
                            // A bucket without a usable bound cannot be placed;
                            // it is still exported, as a series of its own.
                            rejected.insert(id);
                            continue;
                        };
                        labels.remove("le");
                        metrics.entry(labels.clone()).or_insert_with(|| MetricView::new(labels)).buckets.push((le, id));
                    }
                    (FamilyKind::Histogram, 1) => metrics.entry(labels.clone()).or_insert_with(|| MetricView::new(labels)).sum = Some(id),
                    (FamilyKind::Histogram, _) => metrics.entry(labels.clone()).or_insert_with(|| MetricView::new(labels)).count = Some(id),
                    _ => metrics.entry(labels.clone()).or_insert_with(|| MetricView::new(labels)).series = Some(id),
                }
            }
        }
        let mut metrics: Vec<MetricView> = metrics.into_values().collect();
        for m in &mut metrics {
            crate::sort::sort_by(&mut m.buckets, |a, b| a.0.total_cmp(&b.0));
        }
        if !metrics.is_empty() {
            out.push(FamilyView { name, kind, help: &fam.help, unit: &fam.unit, metrics });
        }
    }
    // Series of names no family claimed: one `unknown` family per name.
    // A histogram bucket with a bad `le` is also left here.
    let mut leftovers: BTreeMap<&str, BTreeMap<Labels, MetricView>> = BTreeMap::new();
    for (id, s) in store.iter() {
        let name = s.labels.name().unwrap_or("");
        if (claimed.contains(name) && !rejected.contains(&id)) || name.is_empty() {
            continue;
        }
        let labels = s.labels.without_name();
        let mut m = MetricView::new(labels.clone());
        m.series = Some(id);
        leftovers.entry(name).or_default().insert(labels, m);
    }
    for (name, metrics) in leftovers {
        if out.iter().any(|f| f.name == name) {
            continue;
        }
        out.push(FamilyView { name, kind: FamilyKind::Unknown, help: "", unit: "", metrics: metrics.into_values().collect() });
    }
    crate::sort::sort_by(&mut out, |a, b| a.name.cmp(b.name));
    out
}

/// The OpenMetrics text of a run's series store.
pub fn render(tel: &Telemetry) -> String {
    let mut out = String::with_capacity(estimate(&tel.series));
    // Writing into a String cannot fail.
    let _ = write(&tel.series, &mut out);
    out
}

fn estimate(store: &SeriesStore) -> usize {
    (store.sample_count() as usize).saturating_mul(96).min(1 << 30)
}

/// Writes the OpenMetrics exposition of `store` to `out`.
pub fn write(store: &SeriesStore, out: &mut impl Write) -> fmt::Result {
    for fam in families(store) {
        writeln!(out, "# TYPE {} {}", fam.name, fam.kind.as_str())?;
        if !fam.unit.is_empty() && unit_fits(fam.name, fam.unit) {
            writeln!(out, "# UNIT {} {}", fam.name, fam.unit)?;
        }
        if !fam.help.is_empty() {
            writeln!(out, "# HELP {} {}", fam.name, escape_help(fam.help))?;
        }
        for m in &fam.metrics {
            if let Some(id) = m.series {
                write_series(store, id, out)?;
            }
            for &(_, id) in &m.buckets {
                write_series(store, id, out)?;
            }
            if let Some(id) = m.sum {
                write_series(store, id, out)?;
            }
            if let Some(id) = m.count {
                write_series(store, id, out)?;
            }
        }
    }
    out.write_str("# EOF\n")
}

/// Whether `# UNIT` may be written: the name must end in `_<unit>`.
pub fn unit_fits(name: &str, unit: &str) -> bool {
    name.len() > unit.len() + 1 && name.ends_with(unit) && name.as_bytes()[name.len() - unit.len() - 1] == b'_'
}

/// HELP text escaping: backslash and newline (and quotes, which OpenMetrics
/// also escapes in descriptors).
fn escape_help(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '"' => o.push_str("\\\""),
            c => o.push(c),
        }
    }
    o
}

/// `name{a="b",c="d"}` of a series, as it starts each sample line.
fn series_prefix(labels: &Labels) -> String {
    let mut p = String::with_capacity(64);
    p.push_str(labels.name().unwrap_or(""));
    let mut first = true;
    // An empty value means "no label" to Prometheus (a scrape drops it), so
    // it is left out rather than backfilled as `name=""`.
    for l in labels.iter().filter(|l| &*l.name != METRIC_NAME && !l.value.is_empty()) {
        p.push(if first { '{' } else { ',' });
        first = false;
        p.push_str(&l.name);
        p.push_str("=\"");
        p.push_str(&crate::telemetry::metric::escape_label_value(&l.value));
        p.push('"');
    }
    if !first {
        p.push('}');
    }
    p
}

fn write_series(store: &SeriesStore, id: SeriesId, out: &mut impl Write) -> fmt::Result {
    let s = store.get(id);
    let prefix = series_prefix(&s.labels);
    let exemplars = exemplars_by_sample(&s.timestamps, &s.exemplars);
    for (i, (&t, &v)) in s.timestamps.iter().zip(&s.values).enumerate() {
        out.write_str(&prefix)?;
        out.write_char(' ')?;
        write_value(out, v)?;
        out.write_char(' ')?;
        write_timestamp(out, t)?;
        if let Some(e) = exemplars.get(i).copied().flatten() {
            write!(out, " # {{trace_id=\"{}\",span_id=\"{}\"}} ", e.trace_id, e.span_id)?;
            write_value(out, e.value)?;
            out.write_char(' ')?;
            write_timestamp(out, e.timestamp_ms)?;
        }
        out.write_char('\n')?;
    }
    Ok(())
}

/// For each sample, the exemplar collected in its window
/// `(previous sample, this sample]`; the latest wins when several are.
/// Empty when the series has no exemplars.
pub(crate) fn exemplars_by_sample<'a>(timestamps: &[i64], exemplars: &'a [Exemplar]) -> Vec<Option<&'a Exemplar>> {
    if exemplars.is_empty() {
        return Vec::new();
    }
    let mut by: Vec<Option<&Exemplar>> = vec![None; timestamps.len()];
    for e in exemplars {
        let i = timestamps.partition_point(|&t| t < e.timestamp_ms);
        if let Some(slot) = by.get_mut(i)
            && slot.is_none_or(|old| old.timestamp_ms <= e.timestamp_ms)
        {
            *slot = Some(e);
        }
    }
    by
}

/// A sample value as Prometheus's text formats spell it.
fn write_value(out: &mut impl Write, v: f64) -> fmt::Result {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        write!(out, "{}", v as i64)
    } else {
        out.write_str(&format_float(v))
    }
}

/// Unix milliseconds as seconds that Prometheus reads back exactly.
pub fn write_timestamp(out: &mut impl Write, ms: i64) -> fmt::Result {
    let sign = if ms < 0 { "-" } else { "" };
    let whole = ms.unsigned_abs() / 1000;
    let frac = ms.unsigned_abs() % 1000;
    let exact = ms as f64 / 1000.0;
    if go_millis(exact) == ms {
        return if frac == 0 {
            write!(out, "{sign}{whole}")
        } else if frac.is_multiple_of(100) {
            write!(out, "{sign}{whole}.{}", frac / 100)
        } else if frac.is_multiple_of(10) {
            write!(out, "{sign}{whole}.{:02}", frac / 10)
        } else {
            write!(out, "{sign}{whole}.{frac:03}")
        };
    }
    // The nearest double sits just below (or above) the millisecond; a
    // neighbour a few ulps away reads back right. Rust prints the shortest
    // decimal that parses to that double, as Go's ParseFloat will.
    let (mut up, mut down) = (exact, exact);
    for _ in 0..64 {
        up = up.next_up();
        if go_millis(up) == ms {
            return write!(out, "{up}");
        }
        down = down.next_down();
        if go_millis(down) == ms {
            return write!(out, "{down}");
        }
    }
    write!(out, "{exact}")
}

/// What Prometheus's OpenMetrics parser stores for a parsed timestamp.
fn go_millis(secs: f64) -> i64 {
    (secs * 1000.0) as i64
}

/// The seconds string of a timestamp (for tests and tools).
pub fn format_timestamp(ms: i64) -> String {
    let mut s = String::new();
    let _ = write_timestamp(&mut s, ms);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::ids::{SpanId, TraceId};
    use crate::telemetry::metric::MetricFamily;

    fn store() -> SeriesStore {
        let mut st = SeriesStore::new();
        st.describe(MetricFamily { name: "req_duration_seconds".into(), kind: MetricKind::Histogram, help: "Request \"time\".\nSecond line".into(), unit: "seconds".into(), buckets: vec![0.1, 1.0] });
        st.describe(MetricFamily { name: "requests".into(), kind: MetricKind::Counter, help: "Requests.".into(), unit: "seconds".into(), buckets: vec![] });
        st.describe(MetricFamily { name: "temp".into(), kind: MetricKind::Gauge, help: "".into(), unit: "".into(), buckets: vec![] });
        st.describe(MetricFamily { name: "never_seen".into(), kind: MetricKind::Gauge, help: "x".into(), unit: "".into(), buckets: vec![] });
        for (job, k) in [("b", 1.0), ("a", 2.0)] {
            for (le, n) in [("+Inf", 3.0), ("0.1", 1.0), ("1", 2.0)] {
                let id = st.get_or_create(Labels::from_pairs([("__name__", "req_duration_seconds_bucket"), ("job", job), ("le", le)]));
                st.append(id, 1_000, n * k);
                st.append(id, 16_000, n * k + 1.0);
                if le == "1" {
                    st.add_exemplar(id, Exemplar { timestamp_ms: 15_500, value: 0.5, trace_id: TraceId(0xabc), span_id: SpanId(0xdef) });
                }
            }
            for (suffix, v) in [("_sum", 1.25), ("_count", 3.0)] {
                let id = st.get_or_create(Labels::from_pairs([("__name__", format!("req_duration_seconds{suffix}").as_str()), ("job", job)]));
                st.append(id, 1_000, v * k);
                st.append(id, 16_000, v * k + 1.0);
            }
        }
        let c = st.get_or_create(Labels::from_pairs([("__name__", "requests_total"), ("path", "a\"b\\c\nd")]));
        st.append(c, 1_001, 5.0);
        let g = st.get_or_create(Labels::from_pairs([("__name__", "temp")]));
        st.append(g, 1_002, 21.5);
        st.append(g, 2_002, f64::NAN);
        let u = st.get_or_create(Labels::from_pairs([("__name__", "stray"), ("x", "1")]));
        st.append(u, 3_000, 1.0);
        st
    }

    #[test]
    fn writes_families_grouped_with_metadata_and_eof() {
        // 1.001 * 1000 is 1000.9999999999999 in doubles, which Prometheus
        // truncates to 1000 ms, hence the longer spellings below.
        let mut s = String::new();
        write(&store(), &mut s).unwrap();
        let expected = "\
# TYPE req_duration_seconds histogram
# UNIT req_duration_seconds seconds
# HELP req_duration_seconds Request \\\"time\\\".\\nSecond line
req_duration_seconds_bucket{job=\"a\",le=\"0.1\"} 2 1
req_duration_seconds_bucket{job=\"a\",le=\"0.1\"} 3 16
req_duration_seconds_bucket{job=\"a\",le=\"1\"} 4 1
req_duration_seconds_bucket{job=\"a\",le=\"1\"} 5 16 # {trace_id=\"00000000000000000000000000000abc\",span_id=\"0000000000000def\"} 0.5 15.5
req_duration_seconds_bucket{job=\"a\",le=\"+Inf\"} 6 1
req_duration_seconds_bucket{job=\"a\",le=\"+Inf\"} 7 16
req_duration_seconds_sum{job=\"a\"} 2.5 1
req_duration_seconds_sum{job=\"a\"} 3.5 16
req_duration_seconds_count{job=\"a\"} 6 1
req_duration_seconds_count{job=\"a\"} 7 16
req_duration_seconds_bucket{job=\"b\",le=\"0.1\"} 1 1
req_duration_seconds_bucket{job=\"b\",le=\"0.1\"} 2 16
req_duration_seconds_bucket{job=\"b\",le=\"1\"} 2 1
req_duration_seconds_bucket{job=\"b\",le=\"1\"} 3 16 # {trace_id=\"00000000000000000000000000000abc\",span_id=\"0000000000000def\"} 0.5 15.5
req_duration_seconds_bucket{job=\"b\",le=\"+Inf\"} 3 1
req_duration_seconds_bucket{job=\"b\",le=\"+Inf\"} 4 16
req_duration_seconds_sum{job=\"b\"} 1.25 1
req_duration_seconds_sum{job=\"b\"} 2.25 16
req_duration_seconds_count{job=\"b\"} 3 1
req_duration_seconds_count{job=\"b\"} 4 16
# TYPE requests counter
# HELP requests Requests.
requests_total{path=\"a\\\"b\\\\c\\nd\"} 5 1.0010000000000001
# TYPE stray unknown
stray{x=\"1\"} 1 3
# TYPE temp gauge
temp 21.5 1.002
temp NaN 2.0020000000000002
# EOF
";
        assert_eq!(s, expected);
    }

    #[test]
    fn unit_line_only_when_name_ends_in_unit() {
        assert!(unit_fits("x_seconds", "seconds"));
        assert!(!unit_fits("requests", "seconds"));
        assert!(!unit_fits("xseconds", "seconds"));
        assert!(!unit_fits("seconds", "seconds"));
    }

    #[test]
    fn timestamps_read_back_exactly_under_truncation() {
        for ms in [0i64, 1, 999, 1_000, 1_772_452_801_123, 1_772_452_801_001, 1_700_000_000_003, -1_500] {
            let s = format_timestamp(ms);
            let parsed: f64 = s.parse().unwrap();
            assert_eq!(go_millis(parsed), ms, "{ms} -> {s}");
        }
        // Exhaustively over a second of real instants.
        for ms in 1_772_452_800_000i64..1_772_452_801_000 {
            let s = format_timestamp(ms);
            assert_eq!(go_millis(s.parse().unwrap()), ms, "{ms} -> {s}");
        }
        assert_eq!(format_timestamp(1_772_452_801_500), "1772452801.5");
        assert_eq!(format_timestamp(1_772_452_801_000), "1772452801");
    }

    #[test]
    fn exemplars_attach_to_the_window_that_contains_them() {
        let ex = |t| Exemplar { timestamp_ms: t, value: 1.0, trace_id: TraceId(t as u128), span_id: SpanId(1) };
        let exs = [ex(5), ex(10), ex(12), ex(25)];
        let by = exemplars_by_sample(&[10, 20], &exs);
        assert_eq!(by[0].map(|e| e.timestamp_ms), Some(10));
        assert_eq!(by[1].map(|e| e.timestamp_ms), Some(12));
        assert!(exemplars_by_sample(&[10], &[]).is_empty());
    }

    #[test]
    fn empty_label_values_are_left_out() {
        use crate::telemetry::metric::Label;
        let mut st = SeriesStore::new();
        let l = Labels::from_sorted_unchecked(vec![
            Label { name: "__name__".into(), value: "g".into() },
            Label { name: "a".into(), value: "".into() },
            Label { name: "b".into(), value: "x".into() },
        ]);
        let id = st.get_or_create(l);
        st.append(id, 1000, 1.0);
        let mut s = String::new();
        write(&st, &mut s).unwrap();
        assert_eq!(s, "# TYPE g unknown\ng{b=\"x\"} 1 1\n# EOF\n");
    }

    #[test]
    fn empty_store_is_just_eof() {
        let mut s = String::new();
        write(&SeriesStore::new(), &mut s).unwrap();
        assert_eq!(s, "# EOF\n");
    }
}
