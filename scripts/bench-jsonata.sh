#!/usr/bin/env bash
# JSONata speed: this engine (criterion, release) beside jsonata 2.0.6 on Node,
# in one run on one machine. Prints a Markdown table for BENCHMARKS.md.
#   ./scripts/bench-jsonata.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null && command -v npm >/dev/null || { echo "bench-jsonata.sh needs Node.js and npm: apt-get install nodejs npm" >&2; exit 1; }
(cd state-language/tests/jsonata-differential && npm ci --silent --no-audit --no-fund)
cargo bench -q -p stepwise-jsonata --bench jsonata >/dev/null
cargo bench -q -p stepwise-state-language --bench engine -- jsonata/ >/dev/null
node state-language/tests/jsonata-differential/bench.js > target/jsonata-node.json
python3 - <<'PY'
import json, pathlib
crit = pathlib.Path("target/criterion")
def median_ns(group):
    for d in crit.rglob("new/estimates.json"):
        bench = json.loads((d.parent / "benchmark.json").read_text())
        if bench.get("title") == group or bench.get("full_id") == group:
            return json.loads(d.read_text())["median"]["point_estimate"]
    return None
node = json.loads(pathlib.Path("target/jsonata-node.json").read_text())
def show(ns):
    return f"{ns/1e3:,.2f} µs" if ns < 1e6 else f"{ns/1e6:,.2f} ms"
print("| operation | Stepwise (Rust) | jsonata 2.0.6 (Node) | Node ÷ Stepwise |")
print("|---|---:|---:|---:|")
for name in ["path lookup (small document)", "$sum(items.price), 10,000 items", "parse a 1 KB expression"]:
    ours = median_ns(f"jsonata/{name}")
    theirs = node.get(name)
    print(f"| {name} | {show(ours)} | {show(theirs)} | {theirs/ours:.1f}× |")
wf = median_ns("jsonata/workflow_100_jsonata_states")
print(f"| workflow of 100 JSONata states (one execution) | {show(wf)} | – | – |")
PY
