#!/usr/bin/env python3
"""Checks obslab's OTLP/JSON exports against the OpenTelemetry protobuf
definitions (PyPI `opentelemetry-proto`).

Each file is parsed with google.protobuf.json_format.Parse into the
collector's ExportTraceServiceRequest / ExportMetricsServiceRequest /
ExportLogsServiceRequest, then a few invariants are asserted.

OTLP/JSON differs from the plain protobuf JSON mapping in one place: trace
and span ids are hex strings, not base64 (OTLP spec, "JSON Protobuf
Encoding"). Collectors convert them before decoding, and so does this
script, after checking that each id is lowercase hex of the right length.

usage: otlp_check.py DIR [--expect-spans N] [--expect-logs N] [--expect-samples N]

Prints one line per check and exits non-zero on the first failed file.
"""

import argparse
import base64
import json
import os
import re
import sys

try:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit(f"otlp_check: missing Python packages ({e}); pip install opentelemetry-proto protobuf")

HEX = re.compile(r"^[0-9a-f]*$")
ID_LENGTHS = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


class CheckError(Exception):
    pass


def ensure(cond, message):
    if not cond:
        raise CheckError(message)


def hex_ids_to_base64(node, path="$"):
    """Rewrites OTLP hex ids to the base64 the protobuf JSON mapping wants."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ID_LENGTHS and isinstance(v, str):
                ensure(HEX.match(v) is not None, f"{path}.{k}: {v!r} is not lowercase hex")
                ensure(len(v) == ID_LENGTHS[k], f"{path}.{k}: {v!r} has {len(v)} hex digits, want {ID_LENGTHS[k]}")
                node[k] = base64.b64encode(bytes.fromhex(v)).decode("ascii")
            else:
                hex_ids_to_base64(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            hex_ids_to_base64(v, f"{path}[{i}]")


def load(path, message_type):
    with open(path, "rb") as f:
        raw = f.read()
    doc = json.loads(raw)
    hex_ids_to_base64(doc)
    msg = message_type()
    # Unknown or misspelled fields are errors (ignore_unknown_fields=False).
    json_format.Parse(json.dumps(doc), msg)
    return msg, len(raw)


def resource_attrs(resource):
    return {a.key: a.value.string_value for a in resource.attributes}


def check_traces(path, expect_spans):
    req, size = load(path, ExportTraceServiceRequest)
    ensure(len(req.resource_spans) > 0, "no resourceSpans")
    spans = 0
    traces = {}
    errors = 0
    for rs in req.resource_spans:
        ensure(resource_attrs(rs.resource).get("service.name"), "a resource without service.name")
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans += 1
                ensure(len(s.trace_id) == 16, f"trace id of {len(s.trace_id)} bytes")
                ensure(len(s.span_id) == 8, f"span id of {len(s.span_id)} bytes")
                ensure(len(s.parent_span_id) in (0, 8), f"parent span id of {len(s.parent_span_id)} bytes")
                ensure(s.end_time_unix_nano >= s.start_time_unix_nano > 0, f"span {s.span_id.hex()} ends before it starts")
                ensure(s.kind != 0, f"span {s.span_id.hex()} has kind UNSPECIFIED")
                ensure(s.name, "a span without a name")
                if s.status.code == 2:
                    errors += 1
                traces.setdefault(s.trace_id, []).append(s)
    ensure(spans > 0, "no spans")
    orphans = 0
    roots = 0
    for tid, ss in traces.items():
        ids = {s.span_id for s in ss}
        ensure(len(ids) == len(ss), f"trace {tid.hex()} repeats a span id")
        for s in ss:
            if not s.parent_span_id:
                roots += 1
            elif s.parent_span_id not in ids:
                orphans += 1
    ensure(orphans == 0, f"{orphans} spans whose parent is not in their trace")
    if expect_spans is not None:
        ensure(spans == expect_spans, f"{spans} spans, the run kept {expect_spans}")
    return f"{len(req.resource_spans)} resources, {len(traces)} traces, {spans} spans ({roots} roots, {errors} errors), {size} bytes"


def check_metrics(path, expect_samples):
    req, size = load(path, ExportMetricsServiceRequest)
    ensure(len(req.resource_metrics) > 0, "no resourceMetrics")
    kinds = {"sum": 0, "gauge": 0, "histogram": 0}
    points = 0
    samples = 0
    exemplars = 0
    names = set()
    for rm in req.resource_metrics:
        ensure(resource_attrs(rm.resource).get("service.name"), "a resource without service.name")
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                names.add(m.name)
                kind = m.WhichOneof("data")
                ensure(kind in kinds, f"metric {m.name} has unexpected data {kind}")
                kinds[kind] += 1
                if kind == "sum":
                    ensure(m.sum.is_monotonic, f"{m.name}: counter sum not monotonic")
                    ensure(m.sum.aggregation_temporality == 2, f"{m.name}: not cumulative")
                    dps = m.sum.data_points
                elif kind == "gauge":
                    dps = m.gauge.data_points
                else:
                    ensure(m.histogram.aggregation_temporality == 2, f"{m.name}: not cumulative")
                    dps = m.histogram.data_points
                ensure(len(dps) > 0, f"{m.name}: no data points")
                for dp in dps:
                    points += 1
                    ensure(dp.time_unix_nano > 0, f"{m.name}: point without a time")
                    if kind != "gauge":
                        ensure(0 < dp.start_time_unix_nano <= dp.time_unix_nano, f"{m.name}: start after time")
                    if kind == "histogram":
                        b, c = list(dp.explicit_bounds), list(dp.bucket_counts)
                        ensure(len(c) == len(b) + 1, f"{m.name}: {len(c)} bucket counts for {len(b)} bounds")
                        ensure(sum(c) == dp.count, f"{m.name}: buckets sum to {sum(c)}, count is {dp.count}")
                        ensure(all(x < y for x, y in zip(b, b[1:])), f"{m.name}: bounds not increasing")
                        samples += len(c) + 2
                        for e in dp.exemplars:
                            exemplars += 1
                            ensure(len(e.trace_id) == 16 and len(e.span_id) == 8, f"{m.name}: exemplar ids of wrong size")
                    else:
                        samples += 1
    ensure(points > 0, "no data points")
    if expect_samples is not None:
        ensure(samples == expect_samples, f"data points stand for {samples} Prometheus samples, the store has {expect_samples}")
    return (
        f"{len(req.resource_metrics)} resources, {len(names)} metric names, "
        f"{kinds['sum']} sums / {kinds['gauge']} gauges / {kinds['histogram']} histograms, "
        f"{points} points, {exemplars} exemplars, {size} bytes"
    )


def check_logs(path, expect_logs):
    req, size = load(path, ExportLogsServiceRequest)
    ensure(len(req.resource_logs) > 0, "no resourceLogs")
    records = 0
    with_trace = 0
    for rl in req.resource_logs:
        ensure(resource_attrs(rl.resource).get("service.name"), "a resource without service.name")
        for sl in rl.scope_logs:
            ensure(sl.scope.name, "a scope without a name")
            last = 0
            for r in sl.log_records:
                records += 1
                ensure(1 <= r.severity_number <= 24, f"severity number {r.severity_number}")
                ensure(r.severity_text, "a record without severity text")
                ensure(r.body.WhichOneof("value") == "string_value", "a record without a string body")
                ensure(r.time_unix_nano >= last, "records out of time order within a scope")
                last = r.time_unix_nano
                ensure(len(r.trace_id) in (0, 16), f"trace id of {len(r.trace_id)} bytes")
                ensure(len(r.span_id) in (0, 8), f"span id of {len(r.span_id)} bytes")
                if r.trace_id:
                    with_trace += 1
    ensure(records > 0, "no log records")
    if expect_logs is not None:
        ensure(records == expect_logs, f"{records} records, the run has {expect_logs}")
    return f"{len(req.resource_logs)} resources, {records} records ({with_trace} with trace context), {size} bytes"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--expect-spans", type=int)
    ap.add_argument("--expect-logs", type=int)
    ap.add_argument("--expect-samples", type=int)
    a = ap.parse_args()
    checks = [
        ("traces.otlp.json", lambda p: check_traces(p, a.expect_spans)),
        ("metrics.otlp.json", lambda p: check_metrics(p, a.expect_samples)),
        ("logs.otlp.json", lambda p: check_logs(p, a.expect_logs)),
    ]
    failed = 0
    for name, check in checks:
        path = os.path.join(a.dir, name)
        try:
            summary = check(path)
            print(f"ok   {path}: {summary}")
        except (CheckError, json_format.ParseError, ValueError, OSError) as e:
            failed += 1
            print(f"FAIL {path}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
