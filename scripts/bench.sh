#!/usr/bin/env bash
# Runs the engine benchmarks RUNS times (default 5) and prints, per benchmark,
# the median over runs of criterion's per-run median. Used for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-5}"
out="$(mktemp -d)"
for i in $(seq 1 "$runs"); do
  echo "run $i/$runs" >&2
  cargo bench --locked -p stepwise-state-language --bench engine -- --warm-up-time 1 --measurement-time 4 >/dev/null
  # criterion keeps each benchmark's latest estimates under target/criterion/**/new/.
  find target/criterion -path '*/new/estimates.json' | while read -r f; do
    name="${f#target/criterion/}"; name="${name%/new/estimates.json}"
    mkdir -p "$out/$(dirname "$name")"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' "$f" >> "$out/$name"
  done
done
python3 - "$out" <<'PY'
import os, statistics, sys
root = sys.argv[1]
print(f"{'benchmark':40} {'median of runs':>16}  per-run medians")
for dirpath, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        name = os.path.relpath(os.path.join(dirpath, f), root)
        xs = [float(x) for x in open(os.path.join(dirpath, f))]
        fmt = lambda ns: f"{ns/1e9:.3f} s" if ns >= 1e8 else f"{ns/1e6:.3f} ms" if ns >= 1e5 else f"{ns/1e3:.1f} µs"
        print(f"{name:40} {fmt(statistics.median(xs)):>16}  {', '.join(fmt(x) for x in xs)}")
PY

# The embedded server through its API: `stepwise bench` RUNS times per workload
# (WORKLOADS, default "map activities"; ACTIVITY_WORKERS, default 16).
cargo build --release --locked -p stepwise-control-plane >/dev/null
execs="${SERVER_EXECUTIONS:-20000}"
conc="${SERVER_CONCURRENCY:-8}"
for workload in ${WORKLOADS:-map activities}; do
  for i in $(seq 1 "$runs"); do
    echo "server $workload run $i/$runs" >&2
    ./target/release/stepwise bench --workload "$workload" --workers "${ACTIVITY_WORKERS:-16}" \
      --executions "$execs" --concurrency "$conc" --data-dir "$out/server-data" > "$out/server-$workload-$i.json"
  done
  python3 - "$out"/server-"$workload"-*.json <<'PY'
import json, statistics, sys
rs = [json.load(open(f)) for f in sys.argv[1:]]
eps = [r["executions_per_second"] for r in rs]
p50 = [r["latency_ms"]["p50"] for r in rs]
p99 = [r["latency_ms"]["p99"] for r in rs]
f = lambda xs: ", ".join(f"{x:.0f}" if x > 100 else f"{x:.2f}" for x in xs)
print(f"server {rs[0]['workload']}: {rs[0]['executions']} executions x {len(rs)} runs, concurrency {rs[0]['concurrency']}")
print(f"  executions/s  median {statistics.median(eps):.0f}  ({f(eps)})")
print(f"  p50 ms        median {statistics.median(p50):.2f}  ({f(p50)})")
print(f"  p99 ms        median {statistics.median(p99):.2f}  ({f(p99)})")
PY
done
rm -rf "$out/server-data"
