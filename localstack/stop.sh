#!/usr/bin/env bash
# Stops the LocalStack started by start.sh (or the one in $1, a state dir).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-$(cat "$here/.last-dir" 2>/dev/null || true)}"
[ -n "$dir" ] && [ -f "$dir/pid" ] || exit 0
pid="$(cat "$dir/pid")"
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
