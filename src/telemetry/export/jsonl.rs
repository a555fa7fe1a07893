//! Logs as JSON lines: each record formatted as its service writes JSON
//! logs ([`LogStore::format_line`](crate::store::LogStore::format_line) with
//! [`LogFormat::Json`]), plus `service` and `pod` keys when the line lacks
//! them, so a file of many services' logs can still be told apart (as a log
//! shipper adds them). One object per line, in time order, `\n` after each.

use crate::json::push_str;
use crate::scenario::model::format_rfc3339_ms;
use crate::store::Telemetry;
use crate::telemetry::log::{LogFormat, LogRecord};
use crate::telemetry::resource::Resource;

/// All log records as JSON lines.
pub fn logs(tel: &Telemetry) -> String {
    let mut out = String::with_capacity(tel.logs.len() * 200);
    for r in tel.logs.records() {
        write_line(tel, r, &mut out);
        out.push('\n');
    }
    out
}

/// Appends one record's JSON object (without the newline).
pub fn write_line(tel: &Telemetry, r: &LogRecord, out: &mut String) {
    let unknown;
    let res = match tel.resources.get(r.resource.0 as usize) {
        Some(res) => res,
        None => {
            unknown = Resource {
                service_name: "unknown_service".into(),
                service_namespace: "".into(),
                service_version: "".into(),
                instance_id: "".into(),
                pod: "".into(),
                node: "".into(),
            };
            &unknown
        }
    };
    let ts = format_rfc3339_ms(tel.unix_ms(r.time));
    let line = tel.logs.format_line(r, res, &ts, LogFormat::Json);
    // The formatter emits one flat object; add what it left out before the
    // closing brace.
    let Some(body) = line.strip_suffix('}') else {
        out.push_str(&line);
        return;
    };
    out.push_str(body);
    for (key, value) in [("service", &*res.service_name), ("pod", &*res.pod)] {
        if !has_key(body, key) {
            out.push_str(if body.ends_with('{') { "" } else { "," });
            push_str(out, key);
            out.push(':');
            push_str(out, value);
        }
    }
    out.push('}');
}

/// Whether a flat JSON object text has `key` as a key. Inside JSON strings
/// every `"` is escaped, so `"key":` can only be a key.
fn has_key(obj: &str, key: &str) -> bool {
    let needle = format!("\"{key}\":");
    obj.match_indices(&needle).any(|(i, _)| !obj[..i].ends_with('\\'))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::time::SimTime;
    use crate::telemetry::ids::{SpanId, TraceId};
    use crate::telemetry::log::{LogTemplate, LogValue, Severity};
    use crate::telemetry::resource::ResourceId;

    #[test]
    fn one_object_per_line_with_service_and_pod() {
        let mut tel = Telemetry { start_unix_ms: 1_772_452_800_000, ..Default::default() };
        tel.resources.push(Resource {
            service_name: "checkout".into(),
            service_namespace: "shop".into(),
            service_version: "1".into(),
            instance_id: "checkout-0".into(),
            pod: "checkout-0".into(),
            node: "n1".into(),
        });
        let t = tel.logs.add_template(LogTemplate { logger: "http".into(), body: "said \"{what}\"\nok".into(), fields: vec!["what".into()] });
        let t2 = tel.logs.add_template(LogTemplate { logger: "x".into(), body: "svc {service}".into(), fields: vec!["service".into()] });
        tel.logs.push(LogRecord { time: SimTime(1_500_000), severity: Severity::Error, resource: ResourceId(0), trace_id: TraceId(5), span_id: SpanId(6), template: t, fields: vec![LogValue::Str("hi".into())].into() });
        tel.logs.push(LogRecord { time: SimTime(2_000_000), severity: Severity::Info, resource: ResourceId(0), trace_id: TraceId::INVALID, span_id: SpanId::INVALID, template: t2, fields: vec![LogValue::Str("other".into())].into() });
        let s = logs(&tel);
        assert!(s.ends_with('\n'));
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["ts"], "2026-03-02T12:00:01.500Z");
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "said \"hi\"\nok");
        assert_eq!(v["service"], "checkout");
        assert_eq!(v["pod"], "checkout-0");
        assert_eq!(v["trace_id"], "00000000000000000000000000000005");
        // A field already named `service` is kept, not duplicated.
        assert_eq!(lines[1].matches("\"service\":").count(), 1);
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["service"], "other");
    }

    #[test]
    fn finds_keys_not_text() {
        assert!(has_key(r#"{"a":1,"pod":"x"}"#, "pod"));
        assert!(!has_key(r#"{"msg":"the \"pod\": x"}"#, "pod"));
    }
}
