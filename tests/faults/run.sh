#!/usr/bin/env bash
# Runs a command against fault_server.py.
#
#   tests/faults/run.sh CMD [ARGS...]
#
# Makes a temporary directory, generates two self-signed certificates for
# 127.0.0.1 there (openssl, valid one day): cert.pem exactly as
# `openssl req -x509` makes it (basicConstraints CA:TRUE, from openssl.cnf)
# and leaf.pem with basicConstraints CA:FALSE; starts fault_server.py on free
# 127.0.0.1 ports with them (listeners tls and tls-leaf), exports
# FAULTS_PORT_FILE (the server's "name port" lines), FAULTS_CA_FILE and
# FAULTS_LEAF_CA_FILE (the two certificates), runs CMD, always
# stops the server (bounded) and removes the directory, and exits with CMD's
# status. $PYTHON picks the interpreter (default python3).
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
workdir=$(mktemp -d "${TMPDIR:-/tmp}/cbk-faults.XXXXXX")
server_pid=""

stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do            # up to 5 s, then force
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$server_pid" ]]; then
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
    rm -rf "$workdir"
}

on_exit() {
    local status=$?
    trap - EXIT
    stop_server
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_cert() { # NAME [EXTRA OPENSSL ARGS...]
    local name=$1
    shift
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -days 1 "$@" \
        -keyout "$workdir/$name-key.pem" -out "$workdir/$name.pem" 2>"$workdir/openssl.log" || {
        cat "$workdir/openssl.log" >&2
        echo "run.sh: openssl could not make the test certificate $name" >&2
        exit 1
    }
}
make_cert cert
make_cert leaf -addext basicConstraints=critical,CA:FALSE

port_file="$workdir/ports"
"$python" "$here/fault_server.py" --port-file "$port_file" \
    --cert "$workdir/cert.pem" --key "$workdir/cert-key.pem" \
    --leaf-cert "$workdir/leaf.pem" --leaf-key "$workdir/leaf-key.pem" &
server_pid=$!

for _ in $(seq 1 100); do                   # up to 10 s
    [[ -s "$port_file" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: fault_server.py exited before listening" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! -s "$port_file" ]]; then
    echo "run.sh: fault_server.py did not start within 10 s" >&2
    exit 1
fi

export FAULTS_PORT_FILE="$port_file"
export FAULTS_CA_FILE="$workdir/cert.pem"
export FAULTS_LEAF_CA_FILE="$workdir/leaf.pem"

status=0
"$@" || status=$?
exit "$status"
