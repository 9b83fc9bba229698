#!/usr/bin/env bash
# Stepwise's durable code workflows next to Restate's, in one run on one
# machine: Restate 1.7.12 and its TypeScript SDK from npm (pinned by
# scripts/peers/restate/package-lock.json) running a 3-step handler (three
# `ctx.run` steps), and sdk/examples/code-bench running Stepwise's 3-step
# workflow with its steps as local activities (`local`, the like-for-like
# shape) and as remote activities (`remote`). Each at 16 and at 1 in flight,
# RUNS times (default 3), alternating peers so drift on a shared machine
# falls on both; prints the medians as BENCHMARKS.md's table.
#
# Needs Node.js and npm (the Restate server comes as an npm package).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null && command -v npm >/dev/null || { echo "bench-peers needs Node.js and npm: apt-get install nodejs npm" >&2; exit 1; }
runs="${RUNS:-3}"
execs="${PEER_EXECUTIONS:-2000}"
execs_one="${PEER_EXECUTIONS_ONE:-300}"
peers="scripts/peers/restate"
(cd "$peers" && npm ci --silent --no-audit --no-fund)
cargo build --release --locked -p stepwise-control-plane >/dev/null
cargo build --release --locked -p stepwise-sdk --features worker --example code-bench >/dev/null
out="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing listens on $1" >&2; return 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

restate_run() {  # conc executions run
  local base="$out/restate" ingress admin node service
  rm -rf "$base"; mkdir -p "$base"
  ingress="$(free_port)"; admin="$(free_port)"; node="$(free_port)"; service="$(free_port)"
  RESTATE_INGRESS__BIND_ADDRESS="127.0.0.1:$ingress" RESTATE_ADMIN__BIND_ADDRESS="127.0.0.1:$admin" \
    RESTATE_BIND_ADDRESS="127.0.0.1:$node" RESTATE_ADVERTISED_ADDRESS="http://127.0.0.1:$node" \
    "$peers/node_modules/.bin/restate-server" --base-dir "$base" --no-logo --listen-mode tcp >"$base.log" 2>&1 &
  local server=$!
  node "$peers/service.mjs" "$service" >"$base-service.log" 2>&1 &
  local svc=$!
  pids+=("$server" "$svc")
  wait_port "$admin"; wait_port "$service"; wait_port "$ingress"
  curl -sf -X POST "http://127.0.0.1:$admin/deployments" -H 'content-type: application/json' \
    -d "{\"uri\": \"http://127.0.0.1:$service\"}" >/dev/null
  node "$peers/load.mjs" "http://127.0.0.1:$ingress" "$2" "$1" >"$out/restate-c$1-$3.json"
  kill "$server" "$svc"; wait "$server" "$svc" 2>/dev/null || true
}

stepwise_run() {  # conc executions run steps
  local port; port="$(free_port)"
  rm -rf "$out/data"
  ./target/release/stepwise server --listen "127.0.0.1:$port" --data-dir "$out/data" --log-level warn >"$out/server.log" 2>&1 &
  local server=$!
  pids+=("$server")
  wait_port "$port"
  ./target/release/examples/code-bench "http://127.0.0.1:$port" "$2" "$1" "$4" >"$out/stepwise-$4-c$1-$3.json"
  kill "$server"; wait "$server" 2>/dev/null || true
}

for i in $(seq 1 "$runs"); do
  for conc in 16 1; do
    n="$execs"; [ "$conc" = 1 ] && n="$execs_one"
    echo "run $i/$runs, $conc in flight" >&2
    restate_run "$conc" "$n" "$i"
    stepwise_run "$conc" "$n" "$i" local
    stepwise_run "$conc" "$n" "$i" remote
  done
done

python3 - "$out" "$(git rev-parse --short HEAD)" <<'PY'
import glob, json, os, statistics, sys
root, commit = sys.argv[1], sys.argv[2]
rows = {}
for f in glob.glob(os.path.join(root, "*.json")):
    r = json.load(open(f))
    who = "Restate, 3 ctx.run steps" if r.get("peer") == "restate" else f"Stepwise, 3 activities ({r['activities']})"
    rows.setdefault(who, {}).setdefault(r["concurrency"], []).append(r)
print(f"commit {commit}, median of {len(next(iter(next(iter(rows.values())).values())))} runs")
print("| | executions/s, 16 in flight | p50 ms, 16 in flight | p50 ms, 1 in flight |")
print("|---|---|---|---|")
for who in sorted(rows, key=lambda w: (not w.startswith("Restate"), w)):
    by = rows[who]
    m = lambda c, k: statistics.median(r[k] for r in by.get(c, [])) if by.get(c) else float("nan")
    print(f"| {who} | {m(16, 'executions_per_s'):.0f} | {m(16, 'p50_ms'):.1f} | {m(1, 'p50_ms'):.1f} |")
# Each run's figures too: a median hides a bimodal peer.
for who in sorted(rows, key=lambda w: (not w.startswith("Restate"), w)):
    runs = lambda c, k: ", ".join(f"{r[k]:.0f}" for r in rows[who].get(c, []))
    print(f"{who}: executions/s at 16 in flight {runs(16, 'executions_per_s')}; p50 ms at 1 in flight {runs(1, 'p50_ms')}")
PY
