#!/usr/bin/env bash
# Installs the pinned, locked LocalStack (uv.lock) into localstack/.venv with
# pyenv's Python 3.13 (the machine's default 3.11 is too old; 3.12 lacks
# warnings.deprecated). Idempotent and offline-safe once installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
command -v uv >/dev/null || python3 -m pip install --quiet uv
py="$(PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13 || true)"
[ -n "$py" ] || { echo "LocalStack needs Python 3.13: pyenv install 3.13.0 (or a python3.13 on PATH)" >&2; exit 1; }
cd "$here"
# Several stacks may start at once (the serverless tests do, four of them):
# one installs while the others wait, instead of racing on .venv.
exec 9>"$here/.setup.lock"
flock 9
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import localstack, stepwise_moto_dynamodb" 2>/dev/null; then
  uv sync --frozen --python "$py" --quiet
fi
