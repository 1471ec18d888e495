#!/usr/bin/env bash
# Smoke-runs every fuzz target of libchatbotkit for a short while.
#
#   fuzz/smoke.sh                 each target for 20 s
#   FUZZ_SECONDS=300 fuzz/smoke.sh options url
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a toolchain that takes
# -Z flags: the nightly toolchain when rustup has one, else the default
# (stable) toolchain with RUSTC_BOOTSTRAP=1. New corpus entries go to
# fuzz/corpus/<target> (not committed); fuzz/seeds/<target> are the committed
# starting points; crashes land in fuzz/artifacts/<target>. Exits nonzero when
# a target fails (a panic or a failed check is a crash).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=${FUZZ_SECONDS:-20}
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=(options url query fetch_options)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "smoke.sh: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2
    exit 2
fi
toolchain=()
if command -v rustup >/dev/null 2>&1 && rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
echo "# toolchain: $(cargo "${toolchain[@]}" --version) ${RUSTC_BOOTSTRAP:+(RUSTC_BOOTSTRAP=1)}"

cargo "${toolchain[@]}" fuzz build

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "seeds/$t"
    echo "# fuzzing $t for ${seconds}s"
    log=$(mktemp "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
    if cargo "${toolchain[@]}" fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -dict=dict/json.dict -rss_limit_mb=4096 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "ok - $t: ${runs:-?} runs, ${cov:-cov: ?}"
    else
        echo "not ok - $t (log: $log)"
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
        failed+=("$t")
        continue
    fi
    rm -f "$log"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "# FAILED: ${failed[*]}"
    exit 1
fi
echo "# all fuzz targets ran clean"
