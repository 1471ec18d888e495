#!/usr/bin/env bash
# Parity test: libchatbotkit vs @chatbotkit/sdk (pinned in package.json).
# Installs the SDK quietly into tests/parity/node_modules, then runs pytest.
# Library under test: $CHATBOTKIT_LIB, default <repo>/target/release/libchatbotkit.so.
# Extra arguments go to pytest (e.g. ./run.sh -k id_ -x).
set -euo pipefail
cd "$(dirname "$0")"

if command -v npm >/dev/null 2>&1; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  else
    npm install --no-audit --no-fund --loglevel=error >/dev/null
  fi
else
  echo "run.sh: npm not found; test_parity.py will skip unless node_modules is already present" >&2
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import pytest' >/dev/null 2>&1; then
  echo "run.sh: pytest is not installed for $PYTHON (pip install pytest)" >&2
  exit 2
fi
exec "$PYTHON" -m pytest -q -p no:cacheprovider --tb=short test_parity.py "$@"
