#!/usr/bin/env bash
# Packages the three Lambda binaries (api, scheduler, sweeper) as provided.al2023 zips,
# one per architecture: target/lambda-zips/<arch>/<binary>.zip, each holding `bootstrap`.
# Usage: ./scripts/package-lambdas.sh [arm64] [x86_64]   (both by default)
# Needs: cargo-lambda and zig (`pip install cargo-lambda` brings both), and the Rust
# standard library for each target (added with rustup below).
set -euo pipefail
cd "$(dirname "$0")/.."

archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(arm64 x86_64)
out="${LAMBDA_ZIP_DIR:-target/lambda-zips}"

command -v cargo-lambda >/dev/null || python3 -m pip install --quiet cargo-lambda
for arch in "${archs[@]}"; do
  case "$arch" in
    arm64) triple=aarch64-unknown-linux-gnu ;;
    x86_64) triple=x86_64-unknown-linux-gnu ;;
    *) echo "unknown architecture '$arch' (arm64 or x86_64)" >&2; exit 2 ;;
  esac
  rustup target add "$triple" >/dev/null
  echo "== $arch ($triple)"
  # zig links against an old glibc, so the binaries run on provided.al2023's (2.34).
  cargo lambda build --profile lambda --locked --compiler cargo-zigbuild --target "$triple" \
    -p stepwise-executors --bin api --bin scheduler --bin sweeper \
    --output-format zip --lambda-dir "$out/$arch"
  for bin in api scheduler sweeper; do
    zip="$out/$arch/$bin/bootstrap.zip"
    test -s "$zip" || { echo "missing $zip" >&2; exit 1; }
    echo "$arch/$bin: $(du -h "$zip" | cut -f1)  $zip"
  done
done
