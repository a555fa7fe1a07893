#!/usr/bin/env python3
"""Compare obslab's PromQL answers with a real Prometheus on the same data.

Run by scripts/promql-side-by-side.sh, which exports the scenario, backfills
Prometheus and starts it; see that script's header for the semantics gaps
between Debian's Prometheus 2.42 and the 3.x semantics obslab follows.

For each query in the queries file: an instant query at each of --times and a
range query (--start, --end, --step) on both obslab's CLI
(`obslab query SCENARIO --seed N --duration D --promql EXPR ...`) and
Prometheus's HTTP API. Results are compared as sets of series: label sets
equal; values equal at relative 1e-5 (absolute 1e-9 near zero), NaN equal to
NaN; range timestamps equal. Prints one line per query, `ok` or `DIFF` with
the first difference, then `N/M queries identical`. An `ok` line shows, in
brackets, how many series Prometheus returned at each instant time and over
the range query, so that an agreement on empty results is visible. Exit status 1 on any
difference.

Before comparing, it checks that no window edge (evaluation time minus range,
lookback or offset; subquery range start against the subquery step) falls
exactly on a sample timestamp of the export: there the left-closed 2.42 and
left-open 3.x windows would rightly disagree.

Standard library only.
"""
import argparse
import concurrent.futures
import itertools
import json
import math
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

REL_TOL = 1e-5
ABS_TOL = 1e-9
LOOKBACK_MS = 300_000  # both sides use the default 5m lookback delta


# ---------------------------------------------------------------- queries ---

def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


# ------------------------------------------------------------- run a side ---

def run_obslab(args, expr, params):
    cmd = [args.bin, "query", args.scenario, "--seed", str(args.seed),
           "--duration", args.duration, "--promql", expr]
    if "time" in params:
        cmd += ["--time", str(params["time"])]
    else:
        cmd += ["--start", str(params["start"]), "--end", str(params["end"]),
                "--step", str(params["step"])]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"status": "error", "errorType": "cli",
                "error": "exit %d, stdout %r, stderr %r" % (p.returncode, p.stdout[:200], p.stderr[:200])}


def run_prometheus(args, expr, params):
    endpoint = "query" if "time" in params else "query_range"
    q = dict(params)
    q["query"] = expr
    url = "%s/api/v1/%s?%s" % (args.url, endpoint, urllib.parse.urlencode(q))
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400/422 carry the error JSON
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "errorType": "http", "error": str(e)}


# ---------------------------------------------------------------- compare ---

def fval(s):
    return float(s)  # accepts "NaN", "+Inf", "-Inf"


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    d = abs(a - b)
    return d <= ABS_TOL or d <= REL_TOL * max(abs(a), abs(b))


def fmt_labels(m):
    name = m.get("__name__", "")
    rest = ",".join('%s="%s"' % (k, v) for k, v in sorted(m.items()) if k != "__name__")
    return "%s{%s}" % (name, rest)


def key(m):
    return tuple(sorted(m.items()))


def compare(ob, pr):
    """Returns None when equal, else a sentence naming the first difference."""
    if ob.get("status") != "success" or pr.get("status") != "success":
        if ob.get("status") == pr.get("status") == "error":
            return None if ob.get("errorType") == pr.get("errorType") else \
                "both errors, types differ: obslab %s %r, prometheus %s %r" % (
                    ob.get("errorType"), ob.get("error"), pr.get("errorType"), pr.get("error"))
        return "status: obslab %s %s / prometheus %s %s" % (
            ob.get("status"), ob.get("error", ""), pr.get("status"), pr.get("error", ""))
    od, pd = ob["data"], pr["data"]
    if od["resultType"] != pd["resultType"]:
        return "result type: obslab %s, prometheus %s" % (od["resultType"], pd["resultType"])
    rt = od["resultType"]
    if rt in ("scalar", "string"):
        (ot, ov), (pt, pv) = od["result"], pd["result"]
        if ot != pt:
            return "%s timestamp: obslab %s, prometheus %s" % (rt, ot, pt)
        same = ov == pv if rt == "string" else close(fval(ov), fval(pv))
        return None if same else "%s value at %s: obslab %s, prometheus %s" % (rt, ot, ov, pv)
    field = "value" if rt == "vector" else "values"
    om = {key(s["metric"]): s[field] for s in od["result"]}
    pm = {key(s["metric"]): s[field] for s in pd["result"]}
    if len(om) != len(od["result"]):
        return "obslab returned duplicate label sets"
    only_o = sorted(set(om) - set(pm))
    only_p = sorted(set(pm) - set(om))
    if only_o or only_p:
        parts = ["series count obslab %d, prometheus %d" % (len(om), len(pm))]
        if only_o:
            parts.append("only in obslab: %s%s" % (fmt_labels(dict(only_o[0])),
                                                   " (+%d more)" % (len(only_o) - 1) if len(only_o) > 1 else ""))
        if only_p:
            parts.append("only in prometheus: %s%s" % (fmt_labels(dict(only_p[0])),
                                                       " (+%d more)" % (len(only_p) - 1) if len(only_p) > 1 else ""))
        return "; ".join(parts)
    for k in sorted(om):
        a, b = om[k], pm[k]
        pts_a = [a] if rt == "vector" else a
        pts_b = [b] if rt == "vector" else b
        ta = [p[0] for p in pts_a]
        tb = [p[0] for p in pts_b]
        if ta != tb:
            extra_a = sorted(set(ta) - set(tb))
            extra_b = sorted(set(tb) - set(ta))
            return "%s: timestamps differ (%d vs %d points; only obslab at %s; only prometheus at %s)" % (
                fmt_labels(dict(k)), len(ta), len(tb), extra_a[:3], extra_b[:3])
        for (t, va), (_, vb) in zip(pts_a, pts_b):
            if not close(fval(va), fval(vb)):
                return "%s at %s: obslab %s, prometheus %s" % (fmt_labels(dict(k)), t, va, vb)
    return None


def summary(res):
    if res.get("status") != "success":
        return "error"
    d = res["data"]
    if d["resultType"] in ("scalar", "string"):
        return d["resultType"]
    return "%d" % len(d["result"])


# ------------------------------------------------------ window-edge check ---

DUR_RE = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
           "w": 604_800_000, "y": 31_536_000_000}


def dur_ms(text):
    total, pos = 0, 0
    for m in DUR_RE.finditer(text):
        if m.start() != pos:
            raise ValueError("bad duration %r" % text)
        total += int(m.group(1)) * UNIT_MS[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise ValueError("bad duration %r" % text)
    return total


def scan_export(om_path):
    """From the exported OpenMetrics: the sample timestamps (ms) that are
    whole seconds (the only ones an edge at whole-second evaluation times and
    durations can meet), the latest first sample of any series, and the
    largest gap between two samples of a series."""
    edges, first, last, max_gap = set(), {}, {}, 0
    with open(om_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            line = line.split(" # ", 1)[0]  # drop an exemplar
            parts = line.rsplit(" ", 2)
            if len(parts) < 3:
                continue
            ms = round(float(parts[2]) * 1000)
            if ms % 1000 == 0:
                edges.add(ms)
            series = parts[0]
            if series in last:
                max_gap = max(max_gap, ms - last[series])
            else:
                first[series] = ms
            last[series] = ms
    return edges, max(first.values()), max_gap


def edge_problems(expr, eval_ms, edges, latest_start):
    """Conservative check that no left window edge meets a sample or a
    subquery step, and that no range window reaches back before the latest
    series start (where 2.42 extrapolates rate() differently). eval_ms: outer
    evaluation times in ms."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # ignore string literals
    ranges, steps, sub_ranges = [], [], []
    for m in re.finditer(r"\[([^\]:]+)(?::([^\]]*))?\]", text):
        if m.group(2) is None:
            ranges.append(dur_ms(m.group(1).strip()))
        else:
            sub_ranges.append(dur_ms(m.group(1).strip()))
            steps.append(dur_ms(m.group(2).strip()) if m.group(2).strip() else 60_000)
    offsets = [dur_ms(m.group(1)) for m in re.finditer(r"\boffset\s+(-?[0-9a-z]+)", text)]
    offset_sums = {sum(c) for n in range(len(offsets) + 1) for c in itertools.combinations(offsets, n)}
    windows = set(ranges + sub_ranges) | {LOOKBACK_MS}
    problems = []
    for t in eval_ms:
        for o in offset_sums:
            for w in windows:
                if t - o - w in edges:
                    problems.append("window (%d-%d ms] meets a sample" % (t - o - w, t - o))
            for r, s in zip(sub_ranges, steps):
                if (t - o - r) % s == 0:
                    problems.append("subquery [%s:%s] at %d starts on a step" % (r, s, t))
    reach = sum(offsets) + sum(sub_ranges) + max(ranges, default=0)
    if ranges and min(eval_ms) - reach < latest_start:
        problems.append("a range window reaches back to %d ms, before the last series starts (%d ms)" % (
            min(eval_ms) - reach, latest_start))
    for s in steps:  # inner evaluations of a subquery sit on multiples of its step
        for e in edges:
            for w in set(ranges) | {LOOKBACK_MS}:
                if (e + w) % s == 0:
                    problems.append("inner subquery window may start at sample %d" % e)
    return sorted(set(problems))


# ------------------------------------------------------------------- main ---

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="obslab binary")
    ap.add_argument("--url", required=True, help="Prometheus base URL")
    ap.add_argument("--queries", required=True)
    ap.add_argument("--metrics", required=True, help="the exported metrics.om")
    ap.add_argument("--scenario", default="intermittent-p99")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--duration", default="30m")
    ap.add_argument("--times", required=True, help="comma-separated Unix seconds")
    ap.add_argument("--start", type=int, required=True)
    ap.add_argument("--end", type=int, required=True)
    ap.add_argument("--step", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    times = [int(t) for t in args.times.split(",")]
    queries = read_queries(args.queries)
    evals = [{"time": t} for t in times] + [{"start": args.start, "end": args.end, "step": args.step}]
    eval_ms = [t * 1000 for t in times] + [t * 1000 for t in range(args.start, args.end + 1, args.step)]
    edges, latest_start, max_gap = scan_export(args.metrics)
    if max_gap > 16_500:
        print("warning: a series of the export has a %d ms gap: rate() extrapolation may differ (2.42 vs 3.x)" % max_gap)

    # A vacuous comparison (Prometheus without the data) must not pass.
    probe = run_prometheus(args, "count(up)", {"time": times[0]})
    if probe.get("status") != "success" or not probe["data"]["result"]:
        print("error: Prometheus has no data at %d (retention? backfill?): %s" % (times[0], json.dumps(probe)[:300]))
        return 2

    t0 = time.monotonic()
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for qi, q in enumerate(queries):
            for ei, ev in enumerate(evals):
                jobs[(qi, ei, "o")] = pool.submit(run_obslab, args, q, ev)
                jobs[(qi, ei, "p")] = pool.submit(run_prometheus, args, q, ev)
        identical = 0
        for qi, q in enumerate(queries):
            try:
                problems = edge_problems(q, eval_ms, edges, latest_start)
            except ValueError as e:
                problems = ["cannot check window edges: %s" % e]
            first, counts = None, []
            for ei, ev in enumerate(evals):
                ob = jobs[(qi, ei, "o")].result()
                pr = jobs[(qi, ei, "p")].result()
                counts.append(summary(pr))
                d = compare(ob, pr)
                if d and first is None:
                    where = ("instant at %d" % ev["time"]) if "time" in ev else \
                        ("range %d..%d step %d" % (ev["start"], ev["end"], ev["step"]))
                    first = "%s: %s" % (where, d)
            if first is None and not problems:
                identical += 1
                print("ok    [%s] %s" % (" ".join(counts), q))
            else:
                print("DIFF  %s" % q)
                if first:
                    print("      %s" % first)
                for p in problems[:3]:
                    print("      edge: %s" % p)
            sys.stdout.flush()
    print("%d/%d queries identical (%d instant times + 1 range query each; %.0f s)" % (
        identical, len(queries), len(times), time.monotonic() - t0))
    return 0 if identical == len(queries) else 1


if __name__ == "__main__":
    sys.exit(main())
