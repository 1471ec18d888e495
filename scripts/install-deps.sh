#!/usr/bin/env bash
# Installs, from Debian's (or Ubuntu's) packages, what the tests, docs and
# examples use and this machine lacks; nothing that is already there, so a
# Node.js or Go installed another way is left alone. Run as root:
#   make deps        (or scripts/install-deps.sh --print to only list them)
# `make test` itself installs nothing.
set -euo pipefail

missing=()
need() {  # need PACKAGE CHECK...: the package, unless the check passes
    local package=$1; shift
    "$@" >/dev/null 2>&1 || missing+=("$package")
}
has() { command -v "$1"; }

need valgrind has valgrind
need cmake has cmake
need pkg-config has pkg-config
need doxygen has doxygen
need man-db has man
need openssl has openssl
need golang-go has go
need nodejs has node
need npm has npm
need libcjson-dev pkg-config --exists libcjson
# Debian splits venv (with ensurepip) out of its Python.
need python3-venv python3 -c 'import ensurepip, venv'

if [ "${1:-}" = "--print" ]; then
    echo "${missing[*]}"
    exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: nothing missing"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
