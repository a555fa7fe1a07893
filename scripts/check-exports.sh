#!/usr/bin/env bash
# Validates obslab's exports with the real tools: promtool (Prometheus 2.x)
# backfills the OpenMetrics file into TSDB blocks, and the OpenTelemetry
# protobuf definitions parse the OTLP/JSON files (scripts/otlp_check.py).
# Installs what it needs on first use (Debian `prometheus`, a Python venv at
# target/pyenv with `opentelemetry-proto` and `protobuf`), builds the CLI in
# release mode, exports two scenarios to target/exports/ and checks them.
# Prints one line per check; exits non-zero if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10m
CASES=("intermittent-p99 7" "bookstore 3")
failures=0
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v promtool >/dev/null 2>&1; then
    echo "installing promtool (Debian package prometheus)..."
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

PY=target/pyenv/bin/python
if ! "$PY" -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2, google.protobuf.json_format' >/dev/null 2>&1; then
    echo "creating target/pyenv with opentelemetry-proto and protobuf..."
    python3 -m venv target/pyenv
    target/pyenv/bin/pip install -q --disable-pip-version-check opentelemetry-proto protobuf
fi

cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/obslab"

# json_field FILE KEY: one top-level field of a JSON object.
json_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

for case in "${CASES[@]}"; do
    read -r scenario seed <<<"$case"
    name="$scenario seed $seed"
    out="target/exports/$scenario-seed$seed"
    rm -rf "$out"
    mkdir -p "$out"
    if ! "$BIN" export "$scenario" --seed "$seed" --duration "$DURATION" --out "$out" >"$out/export.log" 2>&1; then
        fail "$name: obslab export failed: $(tail -n 1 "$out/export.log")"
        continue
    fi
    pass "$name: exported to $out ($(awk '/total/ {print $4, $5}' "$out/export.log"))"
    "$BIN" run "$scenario" --seed "$seed" --duration "$DURATION" --json >"$out/run.json"
    samples=$(json_field "$out/run.json" samples)
    series=$(json_field "$out/run.json" series)

    # OpenMetrics: promtool must backfill every sample.
    if promtool tsdb create-blocks-from openmetrics "$out/metrics.om" "$out/tsdb" >"$out/promtool.log" 2>&1; then
        blocks=$(grep -cE '^[0-9A-HJKMNP-TV-Z]{26} ' "$out/promtool.log" || true)
        got=$(awk 'length($1) == 26 && $1 ~ /^[0-9A-Z]+$/ {s += $5} END {print s + 0}' "$out/promtool.log")
        if [ "$blocks" -ge 1 ] && [ "$got" -eq "$samples" ]; then
            pass "$name: promtool created $blocks block(s) with $got samples of $series series from metrics.om"
        else
            fail "$name: promtool created $blocks block(s) with $got samples; the store has $samples (see $out/promtool.log)"
        fi
    else
        fail "$name: promtool rejected metrics.om: $(grep -v '^$' "$out/promtool.log" | tail -n 1)"
    fi

    # OTLP/JSON: the OpenTelemetry protobuf definitions must parse it.
    if "$PY" scripts/otlp_check.py "$out" \
        --expect-spans "$(json_field "$out/run.json" spans_kept)" \
        --expect-logs "$(json_field "$out/run.json" log_records)" \
        --expect-samples "$samples" >"$out/otlp_check.log" 2>&1; then
        sed "s|^ok   |ok   $name: |" "$out/otlp_check.log"
    else
        sed "s|^|     $name: |" "$out/otlp_check.log"
        fail "$name: scripts/otlp_check.py failed"
    fi

    # JSON lines and folded profiles: shape and counts.
    if "$PY" - "$out" "$(json_field "$out/run.json" log_records)" "$(json_field "$out/run.json" profile_samples)" \
        >"$out/lines_check.log" 2>&1 <<'PYEOF'
import json, re, sys
out, want_logs, want_samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = 0
with open(f"{out}/logs.jsonl") as f:
    for line in f:
        o = json.loads(line)
        assert isinstance(o, dict) and {"ts", "level", "msg", "service", "pod"} <= o.keys(), line
        n += 1
assert n == want_logs, f"{n} lines in logs.jsonl, the run has {want_logs} records"
total = 0
pat = re.compile(r"^[^ ;]+;[^ ;]+;\S.* (\d+)$")
lines = open(f"{out}/profiles.folded").read().splitlines()
assert lines == sorted(lines), "profiles.folded is not sorted"
for line in lines:
    m = pat.match(line)
    assert m, f"bad folded line {line!r}"
    total += int(m.group(1))
assert total == want_samples, f"{total} samples in profiles.folded, the run has {want_samples}"
print(f"logs.jsonl has {n} lines; profiles.folded has {len(lines)} stacks with {total} samples")
PYEOF
    then
        pass "$name: $(tail -n 1 "$out/lines_check.log")"
    else
        fail "$name: logs.jsonl / profiles.folded: $(tail -n 1 "$out/lines_check.log")"
    fi
done

if [ "$failures" -ne 0 ]; then
    echo "check-exports: $failures check(s) failed"
    exit 1
fi
echo "check-exports: all checks passed"
