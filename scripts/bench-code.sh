#!/usr/bin/env bash
# Code workflows on the embedded server: workflow tasks per second and the
# start-to-end latency of a 3-activity workflow (sdk/examples/code-bench.rs),
# RUNS times (default 3) at each concurrency, each run on a fresh server and
# data dir; prints the median of the runs. Used for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
execs="${CODE_EXECUTIONS:-1000}"
cargo build --release --locked -p stepwise-control-plane >/dev/null
cargo build --release --locked -p stepwise-sdk --features worker --example code-bench >/dev/null
out="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
for conc in ${CONCURRENCY:-1 4 16}; do
  for i in $(seq 1 "$runs"); do
    echo "concurrency $conc, run $i/$runs" >&2
    rm -rf "$out/data"
    ./target/release/stepwise server --listen "127.0.0.1:$port" --data-dir "$out/data" --log-level warn 2>"$out/server.log" &
    server=$!
    for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    ./target/release/examples/code-bench "http://127.0.0.1:$port" "$execs" "$conc" > "$out/c$conc-$i.json"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
root = sys.argv[1]
by = {}
for f in glob.glob(os.path.join(root, "c*-*.json")):
    r = json.load(open(f))
    by.setdefault(r["concurrency"], []).append(r)
print(f"{'in flight':>9} {'executions/s':>13} {'workflow tasks/s':>17} {'p50 ms':>7} {'p99 ms':>7}   (median of {len(next(iter(by.values())))} runs)")
for c in sorted(by):
    rs = by[c]
    m = lambda k: statistics.median(r[k] for r in rs)
    print(f"{c:>9} {m('executions_per_s'):>13.1f} {m('workflow_tasks_per_s'):>17.1f} {m('p50_ms'):>7.1f} {m('p99_ms'):>7.1f}")
PY
