#!/usr/bin/env bash
# `make demo`: run the three C examples and print the tokens they mint.
#
# Without CHATBOTKIT_API_SECRET: against the loopback stand-in
# (standin/standin.py on a free 127.0.0.1 port, stopped afterwards).
# With CHATBOTKIT_API_SECRET: against the real API (or CHATBOTKIT_API_BASE_URL);
# set CHATBOTKIT_CONVERSATION_ID and CHATBOTKIT_BOT_ID to ids of your account.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/examples-c/build"

run_examples() {
    echo "== libchatbotkit $(cd "$root" && grep -m1 '^version' Cargo.toml | cut -d'"' -f2) against ${CHATBOTKIT_API_BASE_URL:-https://api.chatbotkit.com}"
    for example in conversation_session bot_session extend async stream; do
        echo
        echo "== examples-c/$example"
        "$bin/$example"
    done
}

if [[ -n "${CHATBOTKIT_API_SECRET:-}" ]]; then
    run_examples
else
    export -f run_examples
    export root bin
    "$root/scripts/with-standin.sh" bash -c run_examples
fi
