#!/usr/bin/env bash
# Seeds per second of `stepwise simulate` (release build): median of RUNS runs of SEEDS seeds.
# Usage: ./scripts/bench-simulate.sh   (RUNS=3 SEEDS=2000)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
seeds="${SEEDS:-2000}"
cargo build --release --locked -p stepwise-control-plane --bin stepwise >/dev/null
rates=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  last=$(./target/release/stepwise simulate --seeds "$seeds" | tail -1)
  end=$(date +%s.%N)
  [[ "$last" == "simulation: $seeds seeds, 0 violations" ]] || { echo "unexpected: $last" >&2; exit 1; }
  rates+=("$(echo "$seeds / ($end - $start)" | bc -l)")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
printf 'simulate: %d seeds x %d runs; seeds/s per run: %s; median %.1f\n' "$seeds" "$runs" "$(printf '%.1f ' "${rates[@]}")" "$median"
