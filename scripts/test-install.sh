#!/usr/bin/env bash
# Installs libchatbotkit as a packager would (`make install DESTDIR=...
# prefix=/usr`), checks what was installed (library, soname, strip, headers,
# .pc, CMake package, LICENSE, man pages, HTML), moves the install elsewhere
# and builds the examples against it four ways, running each against the
# loopback stand-in:
#   0. in-tree Makefile       1. pkg-config (dynamic)   2. CMake find_package (dynamic)
#   3. static linking (pkg-config --static and CMake's static target),
#      checked to need no libchatbotkit.so at run time.
# Then `make uninstall` must remove exactly what was installed, also with
# GNU directory variables overridden.
# Needs `make build docs` first (the Makefile's test-install does both).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cbk-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=/usr
stage="$work/stage"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)
pass=0 fail=0

check() {  # check NAME CMD...
    local name=$1; shift
    if "$@"; then echo "ok - $name"; pass=$((pass + 1)); else echo "not ok - $name"; fail=$((fail + 1)); fi
}

# Every file and link under a tree, relative to it.
listing() { (cd "$1" && find . \( -type f -o -type l \) | sort); }

make -s -C "$root" install DESTDIR="$stage" prefix="$prefix" >/dev/null
check "install does not rebuild" bash -c "! make -s -C '$root' -n install DESTDIR='$work/dry' | grep -q 'cargo build'"
s="$stage$prefix"
check "installed files" test -f "$s/lib/libchatbotkit.so.$version" \
    -a -L "$s/lib/libchatbotkit.so.0" -a -L "$s/lib/libchatbotkit.so" -a -f "$s/lib/libchatbotkit.a" \
    -a -f "$s/include/chatbotkit.h" -a -f "$s/include/chatbotkit.hpp" -a -f "$s/lib/pkgconfig/chatbotkit.pc" \
    -a -f "$s/lib/cmake/chatbotkit/chatbotkitConfig.cmake" -a -f "$s/lib/cmake/chatbotkit/chatbotkitConfigVersion.cmake" \
    -a -f "$s/share/doc/chatbotkit/LICENSE" -a -f "$s/share/doc/chatbotkit/THIRD-PARTY-LICENSES" \
    -a -f "$s/share/doc/chatbotkit/html/index.html" \
    -a -f "$s/share/man/man3/libchatbotkit.3"
check "soname" bash -c "readelf -d '$s/lib/libchatbotkit.so.0' | grep -q 'SONAME.*libchatbotkit.so.0'"
check "the installed library is stripped" bash -c "! readelf -S '$s/lib/libchatbotkit.so.$version' | grep -q -e '\.symtab' -e '\.debug_'"
# Every exported function has its own page, and man renders every page.
missing=""
for f in $(nm -D --defined-only "$s/lib/libchatbotkit.so.$version" | awk '$3 ~ /^cbk_/ {print $3}'); do
    [ -f "$s/share/man/man3/$f.3" ] || missing="$missing $f"
done
check "a man page per exported function${missing:+ (missing:$missing)}" test -z "$missing"
check "man -l renders every installed page" bash -c "cd '$s/share/man' && for p in man3/*.3; do
    out=\$(MANWIDTH=80 man -l --warnings \"\$p\" 2>&1 >/dev/null) || exit 1; [ -z \"\$out\" ] || { echo \"\$p: \$out\"; exit 1; }; done"
check ".pc is relocatable" bash -c "grep -qx 'prefix=$prefix' '$s/lib/pkgconfig/chatbotkit.pc' &&
    grep -qx 'libdir=\${prefix}/lib' '$s/lib/pkgconfig/chatbotkit.pc' && grep -qx 'includedir=\${prefix}/include' '$s/lib/pkgconfig/chatbotkit.pc'"

# The staged tree is moved, as an unpacked package would be: pkg-config
# (--define-prefix) and CMake find it from where it lies.
inst="$work/prefix"
mv "$s" "$inst"
check "pkg-config --define-prefix finds the moved install" bash -c \
    "[ \"\$(PKG_CONFIG_PATH='$inst/lib/pkgconfig' pkg-config --define-prefix --variable=libdir chatbotkit)\" = '$inst/lib' ]"
export PKG_CONFIG_PATH="$inst/lib/pkgconfig"
# The moved tree is found through --define-prefix (the .pc names ${prefix}).
pc() { pkg-config --define-prefix "$@"; }
ex="$root/examples-c"
bin="$work/bin"; mkdir -p "$bin"

# 0. In-tree: examples-c/Makefile against target/release, no install.
make -s -C "$ex" BUILDDIR="$work/intree" LIBDIR="$root/target/release" >/dev/null
check "in-tree Makefile build runs" "$root/scripts/with-standin.sh" bash -c \
    "'$work/intree/conversation_session' >/dev/null && '$work/intree/bot_session' >/dev/null && '$work/intree/extend' >/dev/null && '$work/intree/async' >/dev/null && '$work/intree/stream' >/dev/null"

# 1. pkg-config, dynamic.
for p in conversation_session bot_session extend; do
    cc -std=c99 -Wall -Wextra -Werror "$ex/$p.c" -o "$bin/pc_$p" $(pc --cflags --libs chatbotkit libcjson) \
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
    $(pc --cflags chatbotkit libcjson) "$inst/lib/libchatbotkit.a" $(pc --static --libs-only-l chatbotkit | sed 's/-lchatbotkit//') \
    $(pkg-config --libs libcjson)
for b in "$bin/static_session" "$work/cmake/conversation_session_static"; do
    check "static: $(basename "$b") needs no libchatbotkit.so" bash -c "! ldd '$b' | grep -q chatbotkit"
    check "static: $(basename "$b") runs" "$root/scripts/with-standin.sh" bash -c "'$b' >/dev/null"
done

# CMake: the package's version follows the soname (0.x releases only add).
cmake_version() {  # cmake_version REQUEST -> configure a project asking for it
    local dir="$work/cmake-version-$1"; mkdir -p "$dir"
    printf 'cmake_minimum_required(VERSION 3.13)\nproject(v CXX)\nset(CMAKE_CXX_STANDARD 11)\nfind_package(chatbotkit %s REQUIRED)\nadd_executable(v v.cpp)\ntarget_link_libraries(v PRIVATE chatbotkit::chatbotkit)\n' "$1" > "$dir/CMakeLists.txt"
    printf '#include <chatbotkit.hpp>\nint main() { return chatbotkit::version().empty(); }\n' > "$dir/v.cpp"
    cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$inst" >/dev/null 2>&1 && cmake --build "$dir/build" >/dev/null 2>&1
}
check "find_package(chatbotkit 0) works, and builds C++ as C++17 despite CMAKE_CXX_STANDARD 11" cmake_version 0
check "find_package(chatbotkit $version) works" cmake_version "$version"
refused() { ! cmake_version "$1"; }
check "find_package(chatbotkit 1) fails" refused 1

# Uninstall removes exactly what install wrote, with overridden GNU
# directories too; nothing else in the tree is touched.
for case in "/usr/lib|prefix=/usr" \
            "/usr/lib/x86_64-linux-gnu|prefix=/usr libdir=/usr/lib/x86_64-linux-gnu mandir=/usr/share/man docdir=/usr/share/doc/libchatbotkit0"; do
    libdir=${case%%|*} vars=${case#*|}
    tree="$work/tree"; rm -rf "$tree"; mkdir -p "$tree/usr/lib" "$tree/usr/share/doc/other"
    echo keep > "$tree/usr/share/doc/other/file"
    before=$(listing "$tree")
    # shellcheck disable=SC2086
    make -s -C "$root" install DESTDIR="$tree" $vars >/dev/null
    check "install with $vars puts the library in $libdir" test -f "$tree$libdir/libchatbotkit.so.$version"
    # shellcheck disable=SC2086
    make -s -C "$root" uninstall DESTDIR="$tree" $vars >/dev/null
    check "uninstall with $vars removes exactly what install wrote" test "$before" = "$(listing "$tree")"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
