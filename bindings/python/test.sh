#!/usr/bin/env bash
# Builds the chatbotkit-c wheel and tests it as a user would get it.
#
#   bindings/python/test.sh            (from any directory)
#
# 1. a fresh venv in <target>/python-venv (removed and made again each run);
# 2. `pip wheel bindings/python` into <target>/wheels: setuptools-rust runs
#    cargo in the repository's target directory (CARGO_TARGET_DIR when set),
#    so a library that `make build` already compiled is reused as it is;
# 3. the wheel's tag must name a platform (never none-any);
# 4. the wheel and pytest installed into the venv;
# 5. under scripts/with-standin.sh: bindings/python/tests with CHATBOTKIT_LIB
#    unset (the bundled library is the one under test), then the ctypes tests
#    of tests/python against <target>/release/libchatbotkit.so.
#
# $PYTHON picks the interpreter (default python3). Extra arguments go to both
# pytest runs (e.g. -x, -k name).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-python3}
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
venv=$target/python-venv
wheels=$target/wheels

echo "test.sh: fresh venv in $venv"
rm -rf "$venv"
"$python" -m venv "$venv"

# Files left in build/ by an earlier run would go into the wheel too.
rm -rf "$root/bindings/python/build"
mkdir -p "$wheels"
rm -f "$wheels"/chatbotkit_c-*.whl
echo "test.sh: building the wheel"
start=$(date +%s)
"$venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps \
    -w "$wheels" "$root/bindings/python"
echo "test.sh: wheel built in $(( $(date +%s) - start )) s"

shopt -s nullglob
built=("$wheels"/chatbotkit_c-*.whl)
if [[ ${#built[@]} -ne 1 ]]; then
    echo "test.sh: expected one wheel in $wheels, found ${#built[@]}" >&2
    exit 1
fi
wheel=${built[0]}
echo "test.sh: $(basename "$wheel")"
case $(basename "$wheel") in
    *-none-any.whl)
        echo "test.sh: the wheel is tagged none-any; it must name its platform" >&2
        exit 1 ;;
esac
listing=$("$venv/bin/python" -m zipfile -l "$wheel")
if ! grep -q 'chatbotkit_c/libchatbotkit\.' <<<"$listing"; then
    echo "test.sh: the wheel does not bundle libchatbotkit" >&2
    exit 1
fi
for notice in LICENSE THIRD-PARTY-LICENSES; do
    if ! grep -q "chatbotkit_c/$notice " <<<"$listing"; then
        echo "test.sh: the wheel lacks $notice beside the library it bundles" >&2
        exit 1
    fi
done

"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel" pytest

export PYTHONDONTWRITEBYTECODE=1
export PYTHON=$venv/bin/python  # the stand-in's interpreter too
cd "$root"
status=0
echo "test.sh: bindings/python/tests (bundled library)"
env -u CHATBOTKIT_LIB scripts/with-standin.sh \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests "$@" || status=$?
echo "test.sh: tests/python (ctypes, $target/release/libchatbotkit.so)"
CHATBOTKIT_LIB=$target/release/libchatbotkit.so scripts/with-standin.sh \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python "$@" || status=$?
exit "$status"
