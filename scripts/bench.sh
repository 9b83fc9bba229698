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
