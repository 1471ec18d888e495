#!/usr/bin/env bash
# The last step of `make test`: every error message, log line and Debug text
# the suites produced went to the audit file ($CHATBOTKIT_TEST_AUDIT); none may
# contain any secret the tests use. The secrets are found in the test sources
# (every sk_... literal, the stand-in's own tests included) plus the
# stand-in's default.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
audit=${1:?usage: check-secrets.sh AUDIT_FILE}

if [[ ! -s "$audit" ]]; then
    echo "check-secrets: the audit file $audit is empty: no suite recorded its output" >&2
    exit 1
fi
mapfile -t secrets < <(
    { grep -rhoE 'sk_[A-Za-z0-9_]{6,}' "$root/tests" "$root/bindings/python/tests" "$root/bindings/go" "$root/scripts" "$root/standin" \
        --include='*.c' --include='*.h' --include='*.cpp' --include='*.rs' --include='*.py' --include='*.sh' --include='*.go' --include='Makefile' || true
      echo sk_standin_demo; } | sort -u)
leaks=0
for s in "${secrets[@]}"; do
    if grep -qF -- "$s" "$audit"; then
        echo "check-secrets: a secret appears in library output:" >&2
        grep -nF -- "$s" "$audit" | head -5 >&2
        leaks=$((leaks + 1))
    fi
done
lines=$(wc -l < "$audit")
sources=$(sed 's/: .*//' "$audit" | sort | uniq -c | awk '{n=$1; $1=""; printf "%s%s%s", sep, n, $0; sep=","}')
echo "check-secrets: $lines lines of library output ($sources) scanned for ${#secrets[@]} secrets"
if [[ $leaks -eq 0 ]]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
