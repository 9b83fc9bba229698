#!/usr/bin/env bash
# Runs every check CI runs. Usage: ./scripts/test.sh   (FUZZ_SECONDS=60 per fuzz target by default)
set -euo pipefail
cd "$(dirname "$0")/.."

# A clean build gains nothing from incremental artifacts, which would double
# the target directory's size on CI's disk.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

echo "== toolchain (pinned in rust-toolchain.toml)"
rustup show active-toolchain
cargo --version

echo "== shared corpora"
test -d ../shared/conformance/cases || { echo "missing ../shared/conformance (the corpus lives beside the repo)"; exit 1; }

echo "== tools the tests drive: boto3, the AWS CLI, cargo-lambda's local Lambda, LocalStack (locked, host mode), jsonata 2.0.6 on Node, Chromium and playwright-core"
python3 -c "import boto3" 2>/dev/null || python3 -m pip install --quiet boto3
command -v aws >/dev/null || python3 -m pip install --quiet awscli
command -v cargo-lambda >/dev/null || python3 -m pip install --quiet cargo-lambda
aws --version
cargo lambda --version
./localstack/setup.sh
# The reference JSONata for the differential test (pinned by its package-lock.json).
command -v node >/dev/null || { echo "the JSONata differential test needs Node.js: apt-get install nodejs npm"; exit 1; }
command -v terraform >/dev/null || { echo "the Terraform checks need terraform on PATH"; exit 1; }
(cd state-language/tests/jsonata-differential && npm ci --silent --no-audit --no-fund)
# The console is tested in Debian's Chromium (a driver's own browser download
# cannot be fetched here), driven by playwright-core pinned by its lock file.
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium for the console tests"
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get install -y -qq chromium >/dev/null || { as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null; }
fi
chromium --version
(cd control-plane/tests/console && npm ci --silent --no-audit --no-fund)

echo "== format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== Terraform: fmt, and checkov offline (provider plugins cannot be downloaded here, so no validate)"
terraform fmt -check -recursive infra/terraform
# checkov pins an old boto3; uvx keeps it in its own environment.
# The report is captured whole before it is searched: `grep -q` in a pipeline
# exits at its first match, and under pipefail the writer's SIGPIPE (141)
# would fail the build even though every check passed.
checkov_report="$(uvx --from checkov==3.3.30 checkov -d infra/terraform --quiet --compact --skip-download 2>/dev/null || true)"
printf '%s\n' "$checkov_report"
if ! grep -q "Failed checks: 0," <<<"$checkov_report"; then
  echo "checkov: failed checks (or no report) above" >&2
  exit 1
fi

log="$(mktemp)"
echo "== tests (unit, CLI, server API with aws-sdk-sfn/boto3/AWS CLI, crash recovery, LocalStack backends and Lambda binaries, purity, AWS corpora)"
cargo test --workspace --locked -- --nocapture 2>&1 | tee "$log" | grep -E "^(test |conformance|  [a-z_]|AWS-validated|validation corpus|invalid definitions|NEW|NOW|corpus cases|corpus through the server|corpus sample|TestState corpus|histories|jsonata reference suite|jsonata differential|S3 and nested)" || true
if grep -qE "^test result: FAILED|error: test failed|could not compile" "$log"; then
  grep -E "panicked|FAILED|NEW FAILURE|NOW PASSES" "$log" | head -50 || true
  exit 1
fi

echo "== Lambda zips for provided.al2023, arm64 and x86_64 (cargo-lambda with zig)"
./scripts/package-lambdas.sh

echo "== fuzz smoke (${FUZZ_SECONDS:-60}s per target)"
./scripts/fuzz-smoke.sh

echo "== summary"
grep -E "^test result:" "$log" | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}'
