#!/usr/bin/env bash
# Short cargo-fuzz runs of every target; fails on any crash. cargo-fuzz needs
# -Z flags, which the pinned stable toolchain accepts with RUSTC_BOOTSTRAP=1
# (no nightly can be downloaded here); no sanitizer, so no nightly runtime.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none -O
for target in definition jsonpath intrinsic jsonata; do
  corpus="$(mktemp -d)"
  echo "fuzzing $target for ${seconds}s"
  cargo fuzz run --sanitizer none -O "$target" "$corpus" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 2>&1 | grep -E "^Done|SUMMARY|panicked" || true
  if ls artifacts/"$target"/crash-* >/dev/null 2>&1 || ls artifacts/"$target"/timeout-* >/dev/null 2>&1; then
    echo "fuzz target $target found a crash or hang:"; ls artifacts/"$target"; exit 1
  fi
  rm -rf "$corpus"
done
