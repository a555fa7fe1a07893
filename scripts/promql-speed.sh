#!/usr/bin/env bash
# PromQL speed: obslab's engine against a real Prometheus on identical
# Prometheus bench_test.go-style data, in one run (QUALITY.md: ">= 40 M
# samples/s native ... side by side with Prometheus on identical data").
#
#   scripts/promql-speed.sh                  # one day, 5 timed runs per query
#   INTERVALS=2160 RUNS=3 scripts/promql-speed.sh   # a quicker 6 h variant
#
# 1. builds `examples/promql_speed.rs` (release) and has it write the data as
#    OpenMetrics into target/promql-speed/bench.om: 100 `a_hundred` counters
#    ({l, job}) and 100 classic `h_hundred` histograms of 11 buckets ({l, le}),
#    one sample every 10 s for INTERVALS scrapes (default 8640 = one day, 1200
#    series, 10.4 M samples, ~580 MB of text) from 2026-03-02T00:00:00Z,
#    value `s + i/1200` for scrape s and series i -- the shape of
#    tests/promql_bench.rs, shifted to a recent day;
# 2. backfills a fresh TSDB with `promtool tsdb create-blocks-from openmetrics`
#    (~15 s for one day: an 18 h and a 6 h block) and deletes the text file
#    (KEEP_OM=1 keeps it);
# 3. starts Debian's `prometheus` on it (127.0.0.1, a free port, no scrape
#    targets, 10y retention), waits until it is ready, stops it on exit;
# 4. runs scripts/promql_speed.py: the same example builds the identical
#    samples in memory (one generator for both sides, values printed with
#    round-trip precision) and times obslab in-process (median of RUNS after a
#    warm-up, parse excluded); then each query goes RUNS+1 times to
#    Prometheus's HTTP API with `stats=all` (first run discarded; median of
#    `evalTotalTime` and of the HTTP wall time). The answers are compared at
#    relative 1e-5 (scripts/promql_side_by_side.py's comparison), so both
#    sides did the same work. Writes target/promql-speed/report.md (+ .json).
#
# Queries: range queries over the day (from t0+5m5s, 1 m step, 1435 steps)
# and two instant queries at the range's end. Evaluation times are 5 s off
# the 10 s scrape grid and ranges are whole minutes, so no window edge meets
# a sample (Prometheus 2.42's windows are closed on the left, 3.x's and
# obslab's are open), and no window starts before the data does (2.42 and 3.x
# extrapolate rate() differently where a series begins inside a window); see
# scripts/promql-side-by-side.sh for those gaps. The Python script checks both.
#
# What the figures mean: obslab's time is the engine on an in-memory
# SeriesStore (f64 arrays); Prometheus's evalTotalTime includes reading and
# decoding its TSDB chunks (mmapped, warm after the first run) and excludes
# JSON encoding and HTTP; the wall column includes both. Both run on the
# same 2-core machine, one query at a time, obslab first with Prometheus idle.
# Sample counts are each engine's own (obslab: samples its limit counts;
# Prometheus: samples.totalQueryableSamples).
# Exit status: 0 when every answer agrees, 1 otherwise. Takes about a minute
# after the build (one day, 2 cores: ~15 s backfill, ~25 s timing).
set -euo pipefail
cd "$(dirname "$0")/.."

T0=1772409600                        # 2026-03-02T00:00:00Z
INTERVALS=${INTERVALS:-8640}         # 10 s scrapes: 8640 = one day
RUNS=${RUNS:-5}
OUT=target/promql-speed
began=$(date +%s)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    echo "installing Prometheus and promtool (Debian package prometheus)..."
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
PROM_VERSION=$(prometheus --version 2>&1 | head -n 1)
echo "$PROM_VERSION"

cargo build --release --quiet --example promql_speed
BENCH="${CARGO_TARGET_DIR:-target}/release/examples/promql_speed"

rm -rf "$OUT"
mkdir -p "$OUT"
"$BENCH" write-om "$OUT/bench.om" --t0 "$T0" --intervals "$INTERVALS"
t=$(date +%s)
promtool tsdb create-blocks-from openmetrics --max-block-duration=24h "$OUT/bench.om" "$OUT/data" >"$OUT/promtool.log" 2>&1 \
    || { cat "$OUT/promtool.log"; exit 1; }
echo "backfilled $(find "$OUT/data" -name meta.json | wc -l) block(s) in $(( $(date +%s) - t )) s"
[ "${KEEP_OM:-0}" = 1 ] || rm -f "$OUT/bench.om"

cat >"$OUT/prometheus.yml" <<'EOF'
global:
  scrape_interval: 15s
  evaluation_interval: 1m
scrape_configs: []
EOF

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
prometheus \
    --config.file="$OUT/prometheus.yml" \
    --storage.tsdb.path="$OUT/data" \
    --storage.tsdb.retention.time=10y \
    --query.lookback-delta=5m \
    --query.timeout=10m \
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
python3 scripts/promql_speed.py \
    --bench "$BENCH" --url "$URL" --out "$OUT" \
    --t0 "$T0" --intervals "$INTERVALS" --runs "$RUNS" \
    --prometheus-version "$PROM_VERSION" || status=$?
if grep -qi "compact" "$OUT/prometheus.log"; then
    echo "note: Prometheus logged compaction during the run (see $OUT/prometheus.log)"
fi
echo "promql speed took $(( $(date +%s) - began )) s end to end"
exit "$status"
