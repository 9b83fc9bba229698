#!/usr/bin/env bash
# Builds Stepwise and starts `stepwise server`: the AWS Step Functions API on
# 127.0.0.1:8083 with its data in ./.stepwise. Extra arguments go to the server
# (e.g. --listen 0.0.0.0:8083, --data-dir /var/lib/stepwise, --log-level debug).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p stepwise-control-plane
./target/release/stepwise validate examples/hello.asl.json
exec ./target/release/stepwise server "$@"
