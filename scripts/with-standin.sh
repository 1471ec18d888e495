#!/usr/bin/env bash
# Runs a command against the loopback stand-in of the ChatBotKit session API.
#
#   scripts/with-standin.sh CMD [ARGS...]
#
# Starts standin/standin.py on a free 127.0.0.1 port, exports
# CHATBOTKIT_API_BASE_URL=http://127.0.0.1:PORT and CHATBOTKIT_API_SECRET (the
# caller's value when set, else "sk_standin_demo"), runs CMD, always stops the
# stand-in, and exits with CMD's status. $PYTHON picks the interpreter
# (default python3); STANDIN_VERBOSE=1 makes the stand-in log each request.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
secret=${CHATBOTKIT_API_SECRET:-sk_standin_demo}
workdir=$(mktemp -d "${TMPDIR:-/tmp}/with-standin.XXXXXX")
port_file="$workdir/port"
standin_pid=""

stop_standin() {
    if [[ -n "$standin_pid" ]] && kill -0 "$standin_pid" 2>/dev/null; then
        kill -TERM "$standin_pid" 2>/dev/null || true
        # Bounded wait (5 s), then force.
        for _ in $(seq 1 50); do
            kill -0 "$standin_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$standin_pid" 2>/dev/null || true
    fi
    if [[ -n "$standin_pid" ]]; then
        wait "$standin_pid" 2>/dev/null || true
    fi
    standin_pid=""
    rm -rf "$workdir"
}

on_exit() {
    local status=$?
    trap - EXIT
    stop_standin
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

standin_args=(--port 0 --port-file "$port_file" --secret "$secret")
if [[ "${STANDIN_VERBOSE:-}" == 1 ]]; then
    standin_args+=(--verbose)
fi
"$python" "$root/standin/standin.py" "${standin_args[@]}" &
standin_pid=$!

# Wait up to 10 s for the port file.
for _ in $(seq 1 100); do
    [[ -s "$port_file" ]] && break
    if ! kill -0 "$standin_pid" 2>/dev/null; then
        echo "with-standin: the stand-in exited before listening" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! -s "$port_file" ]]; then
    echo "with-standin: the stand-in did not start within 10 s" >&2
    exit 1
fi
port=$(tr -d '[:space:]' < "$port_file")

export CHATBOTKIT_API_BASE_URL="http://127.0.0.1:$port"
export CHATBOTKIT_API_SECRET="$secret"

status=0
"$@" || status=$?
exit "$status"
