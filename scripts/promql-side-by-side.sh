#!/usr/bin/env bash
# Side by side: obslab's PromQL engine against a real Prometheus on the lab's
# own data.
#
# 1. exports `intermittent-p99 --seed 7 --duration 30m` (OpenMetrics) into
#    target/side-by-side/,
# 2. backfills a fresh TSDB from it with `promtool tsdb create-blocks-from
#    openmetrics` into target/side-by-side/data,
# 3. starts Debian's `prometheus` on that TSDB (127.0.0.1, a free port, no
#    scrape targets, 10y retention so the 2026-03-02 blocks are not deleted as
#    too old), waits until it is ready,
# 4. runs scripts/promql_side_by_side.py: every query of
#    scripts/side-by-side-queries.txt as an instant query at 3 times and as a
#    range query (60 s step) on both, compared as sets of series at relative
#    1e-5. Prometheus is stopped on exit, whatever happens.
# Installs the Debian package `prometheus` (with promtool) if missing.
# Exit status: 0 when every query is identical, 1 on any difference.
#
# Prometheus 2.42 (Debian) vs 3.x semantics (which obslab follows), and how
# this comparison stays clear of each gap:
# - Range windows and the lookback delta are closed on the left in 2.x,
#   (t-r, t] in 3.x. Every evaluation time is a whole second at :30 past a
#   minute and every range/offset in the queries is whole minutes, so window
#   edges are whole seconds ≡ 30 s mod 60; scrapes carry millisecond offsets
#   and jitter, and the few samples that land on a whole second (this export:
#   09:06:42 and 09:16:01) are never on an edge. The Python script verifies this
#   against the export for every query and evaluation time and reports a
#   query as DIFF if an edge meets a sample.
# - Subqueries: both evaluate the inner query at multiples of the step; 2.x
#   keeps a step that lies exactly on the left edge of the subquery range, 3.x
#   does not. Outer times at :30 with steps dividing a minute avoid that (also
#   checked by the script).
# - `le`/`quantile` label values are normalised to floats at scrape time in
#   3.x ("1" -> "1.0"); promtool 2.42 keeps them as written. obslab's exporter
#   and engine both write le="1", so bucket label sets agree as exported.
# - rate()/increase() extrapolation at the start of a series: 2.42 first
#   shortens the extrapolation to the counter's zero point and then applies
#   the "more than 1.1 sampling intervals from the window start -> extrapolate
#   half an interval" rule; Prometheus >= 2.51 (PR #13725, "Fix limiting of
#   extrapolation to negative values") and 3.x apply the rule first and then
#   limit to the zero point. They differ when a series begins inside a window
#   and its zero point lies between 0.5 and 1.1 intervals before its first
#   sample -- here every series begins between 09:00:00 and 09:00:48 (e.g.
#   rate(cache_gets_total[1m]) at 09:00:30 gives 11.19 on obslab and 3.x,
#   12.47 on 2.42). So evaluation starts at 09:12:30: the queries reach back
#   at most 11m (a 10m subquery of 1m rates; 5m offset + 5m range), so no
#   range window begins before 09:01:30, and no series has a gap in the
#   export (the Python script checks both against the export).
# - Other 3.0 migration notes (holt_winters renamed, regex `.` matching
#   newlines, UTF-8 names, native histograms) are not exercised by the queries.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=intermittent-p99
SEED=7
DURATION=30m
START=1772442000                       # 2026-03-02T09:00:00Z, the scenario's start
TIMES="$((START + 750)),$((START + 1290)),$((START + 1770))"  # 09:12:30 09:21:30 09:29:30
RANGE_START=$((START + 750))           # 09:12:30: no range window reaches back before 09:01:30
RANGE_END=$((START + 1770))            # 09:29:30
STEP=60
OUT=target/side-by-side
began=$(date +%s)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    echo "installing Prometheus and promtool (Debian package prometheus)..."
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
# The Debian package starts a system service on install; it is not used here.
prometheus --version 2>&1 | head -n 1

cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/obslab"

rm -rf "$OUT"
mkdir -p "$OUT"
"$BIN" export "$SCENARIO" --seed "$SEED" --duration "$DURATION" --out "$OUT" >"$OUT/export.log"
promtool tsdb create-blocks-from openmetrics "$OUT/metrics.om" "$OUT/data" >"$OUT/promtool.log" 2>&1 \
    || { cat "$OUT/promtool.log"; exit 1; }
echo "backfilled $(find "$OUT/data" -name meta.json | wc -l) block(s) from $OUT/metrics.om"

cat >"$OUT/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
  evaluation_interval: 1m   # the default subquery step, as obslab assumes
scrape_configs: []
EOF

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
prometheus \
    --config.file="$OUT/prometheus.yml" \
    --storage.tsdb.path="$OUT/data" \
    --storage.tsdb.retention.time=10y \
    --query.lookback-delta=5m \
    --web.listen-address="127.0.0.1:$PORT" \
    >"$OUT/prometheus.log" 2>&1 &
PROM_PID=$!
stop_prometheus() {
    if kill -0 "$PROM_PID" 2>/dev/null; then
        kill "$PROM_PID" 2>/dev/null || true
        wait "$PROM_PID" 2>/dev/null || true
    fi
}
trap stop_prometheus EXIT
trap 'exit 130' INT TERM

ready=0
for _ in $(seq 1 120); do
    if ! kill -0 "$PROM_PID" 2>/dev/null; then
        echo "prometheus exited early:"; tail -n 20 "$OUT/prometheus.log"; exit 1
    fi
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/-/ready", timeout=2)' "$URL" 2>/dev/null; then
        ready=1; break
    fi
    sleep 0.5
done
[ "$ready" = 1 ] || { echo "prometheus not ready after 60 s:"; tail -n 20 "$OUT/prometheus.log"; exit 1; }
echo "prometheus ready at $URL (pid $PROM_PID)"

status=0
python3 scripts/promql_side_by_side.py \
    --bin "$BIN" --url "$URL" \
    --queries scripts/side-by-side-queries.txt \
    --metrics "$OUT/metrics.om" \
    --scenario "$SCENARIO" --seed "$SEED" --duration "$DURATION" \
    --times "$TIMES" --start "$RANGE_START" --end "$RANGE_END" --step "$STEP" \
    --jobs 2 || status=$?
echo "side by side took $(( $(date +%s) - began )) s end to end"
exit "$status"
