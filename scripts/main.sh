#!/usr/bin/env bash
# Builds Stepwise and runs the example workflow with the local runner.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p stepwise-control-plane
./target/release/stepwise validate examples/hello.asl.json
exec ./target/release/stepwise run examples/hello.asl.json --input '{"name":"Ada"}' "$@"
