#!/usr/bin/env bash
# Runs a command against the loopback stand-in of the ChatBotKit session API.
#
#   scripts/with-standin.sh CMD [ARGS...]
#   scripts/with-standin.sh [--tls] [--port N] [--conversation-ids ID,...]
#                           [--bot-ids ID,...] [--retry-after S] -- CMD [ARGS...]
#
# Exports CHATBOTKIT_API_BASE_URL=http://127.0.0.1:PORT (https with --tls, and
# then CHATBOTKIT_STANDIN_CA_FILE) and CHATBOTKIT_API_SECRET (the caller's
# value when set, else "sk_standin_demo"), runs CMD, always stops the
# stand-in, and exits with CMD's status. $PYTHON picks the interpreter
# (default python3); STANDIN_VERBOSE=1 makes the stand-in log each request.
#
# The work is standin/launcher.py's: it is also what the Python suites start
# the stand-in with, so the two cannot drift apart. This file stays for the
# command line every Makefile and script already uses.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 [OPTIONS --] CMD [ARGS...]" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
options=(--secret "${CHATBOTKIT_API_SECRET:-sk_standin_demo}")
if [[ "${STANDIN_VERBOSE:-}" == 1 ]]; then
    options+=(--verbose)
fi
# Without options of the caller's, everything is CMD, even an argument that
# looks like an option of the launcher's.
if [[ "$1" != -* ]]; then
    options+=(--)
fi
exec "${PYTHON:-python3}" "$root/standin/launcher.py" "${options[@]}" "$@"
