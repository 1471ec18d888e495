#!/usr/bin/env bash
# Runs the stand-in's own tests (standin/tests) with ${PYTHON:-python3}.
# Extra arguments go to pytest (e.g. standin/test.sh -k tls -x).
#
# The TLS and Retry-After round trips load $CHATBOTKIT_LIB, default
# target/release/libchatbotkit.so: run `make build` at the root first.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}

if ! "$python" -c 'import pytest' >/dev/null 2>&1; then
    echo "standin/test.sh: pytest is not installed for $python (install it, e.g. apt-get install python3-pytest, or set PYTHON)" >&2
    exit 1
fi
# The tests talk to 127.0.0.1 only; a proxy of the machine's must not see that.
export NO_PROXY="${NO_PROXY:+$NO_PROXY,}127.0.0.1,localhost,::1"
export no_proxy="$NO_PROXY"
exec "$python" -m pytest -q -p no:cacheprovider "$here/tests" "$@"
