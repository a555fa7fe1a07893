#!/usr/bin/env python3
"""Time obslab's PromQL engine and a real Prometheus on identical data.

Run by scripts/promql-speed.sh, which generates the bench_test.go-style data,
backfills Prometheus with it and starts it; see that script's header for what
is measured and how to run it.

Steps: write the query spec; run `promql_speed bench` (examples/promql_speed.rs)
which builds the same samples in memory and prints, per query, obslab's median
evaluation time and samples touched, and writes its answers; then send each
query RUNS+1 times to Prometheus with `stats=all` (first run discarded) and
take the medians of `evalTotalTime` and of the HTTP wall time; compare the
answers with scripts/promql_side_by_side.py's `compare` (relative 1e-5).
Prints a table and writes OUT/report.md and OUT/report.json. Exit status 1
when an answer differs or a side fails.

Standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no scripts/__pycache__ from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promql_side_by_side import compare, dur_ms  # noqa: E402

SCRAPE_S = 10

# (id, expr, kind): kind "range" = over the day, 1 m step; "instant" = at the
# range's end.
QUERIES = [
    ("rate_1m", "rate(a_hundred[1m])", "range"),
    ("sum_rate_1m", "sum by (job) (rate(a_hundred[1m]))", "range"),
    ("rate_5m", "rate(a_hundred[5m])", "range"),
    ("hq_5m", "histogram_quantile(0.9, rate(h_hundred[5m]))", "range"),
    ("sum_le_5m", "sum(rate(h_hundred[5m])) by (le)", "range"),
    ("hq_5m_instant", "histogram_quantile(0.9, rate(h_hundred[5m]))", "instant"),
    # The longest whole-hour window that fits in the data: [23h] for a day.
    ("sum_rate_long_instant", "sum by (job) (rate(a_hundred[{hours}h]))", "instant"),
]


def spec(t0, intervals):
    """Evaluation times: 5 s off the scrape grid (no window edge meets a
    sample), from t0 + 5m5s so no [5m] window starts before the data."""
    start = t0 + 300 + SCRAPE_S // 2
    last_sample = t0 + (intervals - 1) * SCRAPE_S
    step = 60
    if last_sample < start:
        raise SystemExit("too few intervals: the data must cover more than 5 minutes")
    end = start + (last_sample - start) // step * step
    out = []
    hours = (end - t0) // 3600
    for qid, expr, kind in QUERIES:
        if "{hours}" in expr:
            if hours < 1:
                continue
            expr = expr.replace("{hours}", str(hours))
        q = {"id": qid, "expr": expr, "kind": kind}
        q.update({"start": start, "end": end, "step": step} if kind == "range" else {"time": end})
        out.append(q)
    return out


def eval_times(q):
    if q["kind"] == "instant":
        return [q["time"]]
    return list(range(q["start"], q["end"] + 1, q["step"]))


def edge_problems(q, t0):
    """Every range window (t-r, t] must start at or after t0 and not on a
    sample (samples are at t0 + k*10 s)."""
    ranges = [dur_ms(m.group(1)) // 1000 for m in re.finditer(r"\[([0-9a-z]+)\]", q["expr"])]
    problems = []
    for r in ranges:
        first = min(eval_times(q))
        if first - r < t0:
            problems.append("a %d s window starts before the data (%d < %d)" % (r, first - r, t0))
        if any((t - r - t0) % SCRAPE_S == 0 for t in eval_times(q)):
            problems.append("a %d s window edge meets a sample" % r)
    return problems


def prometheus(url, q):
    params = {"query": q["expr"], "stats": "all"}
    if q["kind"] == "instant":
        endpoint, params["time"] = "query", q["time"]
    else:
        endpoint = "query_range"
        params.update(start=q["start"], end=q["end"], step=q["step"])
    full = "%s/api/v1/%s?%s" % (url, endpoint, urllib.parse.urlencode(params))
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(full, timeout=900) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except ValueError:
            body = {"status": "error", "errorType": "http", "error": str(e)}
    return body, time.perf_counter() - t


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt(v, digits=1):
    return "-" if v is None else ("%.*f" % (digits, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="the examples/promql_speed binary")
    ap.add_argument("--url", required=True, help="Prometheus base URL")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--t0", type=int, required=True, help="first sample, Unix seconds")
    ap.add_argument("--intervals", type=int, required=True, help="scrapes per series")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--prometheus-version", default="prometheus")
    args = ap.parse_args()

    queries = spec(args.t0, args.intervals)
    bad = False
    for q in queries:
        for p in edge_problems(q, args.t0):
            print("edge: %s: %s" % (q["expr"], p))
            bad = True
    if bad:
        return 1

    # Prometheus must hold the data, or a comparison would be vacuous.
    probe, _ = prometheus(args.url, {"expr": "count(a_hundred)", "kind": "instant", "time": queries[0]["start"]})
    if probe.get("status") != "success" or not probe["data"]["result"] or probe["data"]["result"][0]["value"][1] != "100":
        print("error: Prometheus does not hold the data: %s" % json.dumps(probe)[:300])
        return 2

    spec_path = os.path.join(args.out, "spec.json")
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump(queries, f)
    res_dir = os.path.join(args.out, "obslab")
    print("obslab: %d runs per query after a warm-up..." % args.runs)
    sys.stdout.flush()
    p = subprocess.run([args.bench, "bench", spec_path, "--t0", str(args.t0), "--intervals", str(args.intervals),
                        "--runs", str(args.runs), "--out", res_dir], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print("error: %s bench exited %d" % (args.bench, p.returncode))
        return 1
    ob = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        ob[r["id"]] = r

    print("prometheus: %d runs per query after a warm-up..." % args.runs)
    rows, status = [], 0
    for q in queries:
        o = ob[q["id"]]
        evals, walls, stats, last = [], [], None, None
        for i in range(args.runs + 1):
            body, wall = prometheus(args.url, q)
            if body.get("status") != "success":
                last = body
                break
            if i > 0:
                timings = body["data"]["stats"]["timings"]
                evals.append(timings["evalTotalTime"])
                walls.append(wall)
            stats, last = body["data"]["stats"], body
        with open(os.path.join(res_dir, q["id"] + ".json"), encoding="utf-8") as f:
            ob_answer = json.load(f)
        diff = compare(ob_answer, last)
        if diff is None and last.get("status") == "success" and last["data"]["resultType"] in ("vector", "matrix") and not last["data"]["result"]:
            diff = "both answers are empty"
        if diff:
            status = 1
        row = {
            "id": q["id"], "expr": q["expr"], "kind": q["kind"],
            "steps": len(eval_times(q)),
            "series": len(last["data"]["result"]) if last.get("status") == "success" else None,
            "obslab_ms": o["median_ms"], "obslab_min_ms": o["min_ms"], "obslab_samples": o["samples"],
            "prom_eval_ms": statistics.median(evals) * 1e3 if evals else None,
            "prom_exec_ms": stats["timings"]["execTotalTime"] * 1e3 if stats else None,
            "prom_wall_ms": statistics.median(walls) * 1e3 if walls else None,
            "prom_samples": (stats.get("samples") or {}).get("totalQueryableSamples") if stats else None,
            "agree": diff is None, "diff": diff,
        }
        row["ratio"] = row["prom_eval_ms"] / row["obslab_ms"] if row["prom_eval_ms"] and row["obslab_ms"] > 0 else None
        row["obslab_msps"] = o["samples"] / o["median_ms"] / 1e3 if o["median_ms"] > 0 else None
        row["prom_msps"] = row["prom_samples"] / row["prom_eval_ms"] / 1e3 if row["prom_samples"] and row["prom_eval_ms"] else None
        rows.append(row)
        print("  %-7s %-48s %s" % ("ok" if diff is None else "DIFF", q["expr"] + (" (instant)" if q["kind"] == "instant" else ""),
                                  "" if diff is None else diff))
        sys.stdout.flush()

    first, last_t = queries[0]["start"], queries[0]["end"]
    utc = lambda s: datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        "# PromQL speed: obslab vs Prometheus on identical data",
        "",
        "Generated by `scripts/promql-speed.sh` on %s UTC (%s, %d cores)." % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), cpu_model(), os.cpu_count() or 0),
        "",
        "- Data: Prometheus bench_test.go style, 100 `a_hundred` counters + 100 classic `h_hundred` histograms "
        "(11 buckets) = 1200 series, 10 s scrapes, %d scrapes (%.1f h), %.1f M samples, from %s." % (
            args.intervals, args.intervals * SCRAPE_S / 3600, 1200 * args.intervals / 1e6, utc(args.t0)),
        "- Range queries: %s .. %s, step 60 s (%d steps). Instant queries at %s." % (
            utc(first), utc(last_t), len(eval_times(queries[0])), utc(last_t)),
        "- obslab: in-process evaluation on an in-memory SeriesStore, median of %d runs after a warm-up "
        "(parse excluded). Prometheus (%s): `stats=all` evalTotalTime, median of %d runs after a warm-up; "
        "wall = HTTP call incl. JSON. Ratio = Prometheus eval / obslab (> 1: obslab faster)." % (
            args.runs, args.prometheus_version, args.runs),
        "- M samples/s: each engine's own sample count (obslab: samples touched; Prometheus: totalQueryableSamples) "
        "over its median time.",
        "- Answers compared at relative 1e-5: %d/%d agree." % (sum(r["agree"] for r in rows), len(rows)),
        "",
        "| query | kind | obslab ms | Prometheus eval ms | ratio | obslab M samples/s | Prometheus M samples/s | Prometheus wall ms | samples obslab / Prometheus | agree |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |" % (
            r["expr"], r["kind"], fmt(r["obslab_ms"], 2), fmt(r["prom_eval_ms"], 2),
            fmt(r["ratio"], 2) + ("x" if r["ratio"] else ""), fmt(r["obslab_msps"]), fmt(r["prom_msps"]),
            fmt(r["prom_wall_ms"], 1), r["obslab_samples"], r["prom_samples"], "yes" if r["agree"] else "NO: " + r["diff"]))
    report = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "report.md"), "w", encoding="utf-8") as f:
        f.write(report)
    with open(os.path.join(args.out, "report.json"), "w", encoding="utf-8") as f:
        json.dump({"intervals": args.intervals, "runs": args.runs, "prometheus": args.prometheus_version, "rows": rows}, f, indent=1)

    print()
    w = max(len(r["expr"]) + (10 if r["kind"] == "instant" else 0) for r in rows)
    print("%-*s %11s %13s %7s %12s %12s" % (w, "query", "obslab ms", "prom eval ms", "ratio", "obslab Ms/s", "prom Ms/s"))
    for r in rows:
        name = r["expr"] + (" (instant)" if r["kind"] == "instant" else "")
        print("%-*s %11s %13s %7s %12s %12s%s" % (w, name, fmt(r["obslab_ms"], 2), fmt(r["prom_eval_ms"], 2),
                                                fmt(r["ratio"], 2), fmt(r["obslab_msps"]), fmt(r["prom_msps"]),
                                                "" if r["agree"] else "  DIFF"))
    print("report: %s" % os.path.join(args.out, "report.md"))
    return status


if __name__ == "__main__":
    sys.exit(main())
