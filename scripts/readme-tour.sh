#!/usr/bin/env bash
# Runs the README's tested blocks (each ```sh block after a line
# `<!-- tested: scripts/readme-tour.sh -->`), in order, in one shell, with
# `set -euo pipefail`: every command must succeed as written.
#
# Usage: scripts/readme-tour.sh [STEPWISE_BINARY]
#   Without an argument the tour runs in this checkout, exactly as a user runs it.
#   With a prebuilt binary (the test does this) it runs in a scratch folder laid
#   out like the checkout: examples/ and scripts/main.sh as they are, the binary
#   as target/release/stepwise, STEPWISE_SKIP_BUILD=1 so main.sh does not build,
#   and the ports 8083 and 8084 replaced by free ones. Nothing else is changed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
command -v aws >/dev/null || { echo "the tour needs the AWS CLI: python3 -m pip install awscli" >&2; exit 1; }
command -v openssl >/dev/null || { echo "the tour needs openssl: apt-get install openssl" >&2; exit 1; }

tour="$(awk '
  /<!-- tested: scripts\/readme-tour.sh -->/ { want = 1; next }
  want && /^```sh$/ { inside = 1; want = 0; next }
  inside && /^```$/ { inside = 0; print ""; next }
  inside { print }
' "$repo/README.md")"
[ -n "$tour" ] || { echo "no tested blocks in README.md" >&2; exit 1; }

work="$repo"
if [ $# -ge 1 ]; then
  work="$(mktemp -d /tmp/stepwise-tour.XXXXXX)"
  mkdir -p "$work/scripts" "$work/target/release"
  cp "$repo/scripts/main.sh" "$work/scripts/main.sh"
  ln -s "$repo/examples" "$work/examples"
  ln -s "$(realpath "$1")" "$work/target/release/stepwise"
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  tour="${tour//127.0.0.1:8083/127.0.0.1:$(free_port)}"
  tour="${tour//127.0.0.1:8084/127.0.0.1:$(free_port)}"
  export STEPWISE_SKIP_BUILD=1
  # main.sh serves on its default address: give it the replaced one.
  main_port="$(grep -o '127.0.0.1:[0-9]*' <<<"$tour" | head -1)"
  tour="${tour//.\/scripts\/main.sh &/.\/scripts\/main.sh --listen $main_port \&}"
fi

cd "$work"
{
  echo 'set -euo pipefail'
  echo 'trap '"'"'kill $(jobs -p) 2>/dev/null || true'"'"' EXIT'
  printf '%s\n' "$tour"
} > "$work/.tour.sh"
echo "== running the README's tour in $work"
timeout 600 bash -x "$work/.tour.sh"
echo "== the README's tour ran"
if [ "$work" != "$repo" ]; then rm -rf "$work"; fi
