#!/usr/bin/env bash
# Builds Stepwise and starts `stepwise server`: the AWS Step Functions API on
# 127.0.0.1:8083 with its data in ./.stepwise. Extra arguments go to the server
# (e.g. --listen 0.0.0.0:8083, --data-dir /var/lib/stepwise, --log-level debug).
set -euo pipefail
cd "$(dirname "$0")/.."
# STEPWISE_SKIP_BUILD=1 uses the binary already in target/release (scripts/readme-tour.sh).
if [ "${STEPWISE_SKIP_BUILD:-}" != 1 ]; then
  cargo build --release --locked -p stepwise-control-plane
fi
./target/release/stepwise validate examples/hello.asl.json
exec ./target/release/stepwise server "$@"
