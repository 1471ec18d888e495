#!/usr/bin/env bash
# Checks and tests the Go binding against the loopback stand-in of the API.
#
#   bindings/go/test.sh [GO TEST FLAGS...]     e.g. bindings/go/test.sh -race -v
#
# Works from any directory. Builds the library first (make build) when
# target/release has none; runs gofmt, go vet, then `go test -count=1 ./...`
# under scripts/with-standin.sh. $GO picks the go command (default go).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
go=${GO:-go}

if [[ ! -e "$root/target/release/libchatbotkit.so" || ! -e "$root/target/release/libchatbotkit.so.0" ]]; then
    echo "test.sh: no library in $root/target/release: running make build" >&2
    make -C "$root" build
fi

# Go keeps its build cache and module cache under $HOME; where there is no
# usable home (some CI containers), keep them in the build tree instead.
if [[ -z "${HOME:-}" || ! -w "${HOME:-/nonexistent}" ]]; then
    export GOCACHE=${GOCACHE:-$root/target/go/cache}
    export GOPATH=${GOPATH:-$root/target/go/path}
fi
export CGO_ENABLED=1
# The library honours the environment's proxies; the stand-in is on
# 127.0.0.1, which no proxy should see (as the Makefile does for its suites).
export NO_PROXY="${NO_PROXY:+$NO_PROXY,}127.0.0.1,localhost,::1"
export no_proxy=$NO_PROXY

cd "$here"
unformatted=$(gofmt -l .)
if [[ -n "$unformatted" ]]; then
    echo "test.sh: gofmt would change these files:" >&2
    echo "$unformatted" >&2
    exit 1
fi
"$go" vet ./...
"$root/scripts/with-standin.sh" "$go" test -count=1 "$@" ./...
