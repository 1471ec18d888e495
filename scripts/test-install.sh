#!/usr/bin/env bash
# Builds the examples in-tree (examples-c/Makefile), then installs
# libchatbotkit into a temporary prefix (through DESTDIR staging, as a
# packager would), builds the examples against that prefix three ways, and
# runs each build against the loopback stand-in:
#   0. in-tree Makefile       1. pkg-config (dynamic)   2. CMake find_package (dynamic)
#   3. static linking (pkg-config --static and CMake's static target),
#      checked to need no libchatbotkit.so at run time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cbk-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=/opt/chatbotkit-test
stage="$work/stage"
pass=0 fail=0

check() {  # check NAME CMD...
    local name=$1; shift
    if "$@"; then echo "ok - $name"; pass=$((pass + 1)); else echo "not ok - $name"; fail=$((fail + 1)); fi
}

make -s -C "$root" install DESTDIR="$stage" PREFIX="$prefix" >/dev/null
# The staged tree is relocated for use: pkg-config and CMake find it there.
inst="$work/prefix"
mv "$stage$prefix" "$inst"
sed -i "s|$prefix|$inst|g" "$inst/lib/pkgconfig/chatbotkit.pc"

check "installed files" test -f "$inst/lib/libchatbotkit.so.$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)" \
    -a -L "$inst/lib/libchatbotkit.so.0" -a -L "$inst/lib/libchatbotkit.so" -a -f "$inst/lib/libchatbotkit.a" \
    -a -f "$inst/include/chatbotkit.h" -a -f "$inst/lib/pkgconfig/chatbotkit.pc" \
    -a -f "$inst/lib/cmake/chatbotkit/chatbotkitConfig.cmake"
check "soname" bash -c "readelf -d '$inst/lib/libchatbotkit.so.0' | grep -q 'SONAME.*libchatbotkit.so.0'"

export PKG_CONFIG_PATH="$inst/lib/pkgconfig"
ex="$root/examples-c"
bin="$work/bin"; mkdir -p "$bin"

# 0. In-tree: examples-c/Makefile against target/release, no install.
make -s -C "$ex" BUILDDIR="$work/intree" LIBDIR="$root/target/release" >/dev/null
check "in-tree Makefile build runs" "$root/scripts/with-standin.sh" bash -c \
    "'$work/intree/conversation_session' >/dev/null && '$work/intree/bot_session' >/dev/null && '$work/intree/extend' >/dev/null && '$work/intree/async' >/dev/null && '$work/intree/stream' >/dev/null"

# 1. pkg-config, dynamic.
for p in conversation_session bot_session extend; do
    cc -std=c99 -Wall -Wextra -Werror "$ex/$p.c" -o "$bin/pc_$p" $(pkg-config --cflags --libs chatbotkit) \
        -Wl,-rpath,"$inst/lib"
done
check "pkg-config build runs" "$root/scripts/with-standin.sh" bash -c \
    "'$bin/pc_conversation_session' >/dev/null && '$bin/pc_bot_session' >/dev/null && '$bin/pc_extend' >/dev/null"

# 2. CMake find_package, dynamic and static targets.
cmake -S "$ex" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$inst" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" >/dev/null
check "cmake build runs" "$root/scripts/with-standin.sh" bash -c \
    "'$work/cmake/conversation_session' >/dev/null && '$work/cmake/bot_session' >/dev/null && '$work/cmake/extend' >/dev/null"

# 3. Static: no libchatbotkit.so needed at run time.
cc -std=c99 -Wall -Wextra -Werror "$ex/conversation_session.c" -o "$bin/static_session" \
    $(pkg-config --cflags chatbotkit) "$inst/lib/libchatbotkit.a" $(pkg-config --static --libs-only-l chatbotkit | sed 's/-lchatbotkit//')
for b in "$bin/static_session" "$work/cmake/conversation_session_static"; do
    check "static: $(basename "$b") needs no libchatbotkit.so" bash -c "! ldd '$b' | grep -q chatbotkit"
    check "static: $(basename "$b") runs" "$root/scripts/with-standin.sh" bash -c "'$b' >/dev/null"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
