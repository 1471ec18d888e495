#!/bin/sh
# Check the built reference documentation (`make docs`) before it is
# installed:
#
#   scripts/check-docs.sh BUILD_DIR
#
# BUILD_DIR holds man/man3 and html (target/docs). Fails unless every cbk_
# function the release library exports has its own man page, every page
# renders with man(1) without a warning, and the overview page and the
# HTML index exist. The library is $CHATBOTKIT_LIB, else
# target/release/libchatbotkit.so.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build=$1
lib=${CHATBOTKIT_LIB:-target/release/libchatbotkit.so}
man3=$build/man/man3
fail=0
bad() {
	echo "check-docs: $*" >&2
	fail=1
}

for need in "$lib" "$man3/libchatbotkit.3" "$build/html/index.html"; do
	[ -f "$need" ] || { echo "check-docs: $need is missing (run \`make build docs\`)" >&2; exit 1; }
done

# The symbols a program can link against, not the header's list: a function
# the header forgot, or a test-only export that slipped into the release
# build, shows up here.
symbols=$(nm -D --defined-only "$lib" | awk '$3 ~ /^cbk_/ {print $3}' | sort -u)
[ -n "$symbols" ] || bad "no cbk_ symbols in $lib"
for sym in $symbols; do
	page=$man3/$sym.3
	if [ ! -f "$page" ]; then
		bad "$sym: no man page"
	elif head -n 1 "$page" | grep -q '^\.so '; then
		# A link page would show another page (the whole header, with
		# Doxygen's MAN_LINKS): `man cbk_x` must show cbk_x's own.
		bad "$sym: man page is only a link ($(head -n 1 "$page"))"
	elif ! grep -q "^\.TH \"$sym\" \"3\"" "$page"; then
		bad "$sym: man page is not $sym(3)"
	fi
done

# Every page, links included, the way man(1) shows it: from the top of the
# man tree, so that `.so man3/...` links resolve as they will when installed.
# Any output on stderr (a groff or man warning) is a failure.
cd "$build/man"
for page in man3/*.3; do
	err=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l --warnings "$page" 2>&1 >/dev/null) || bad "$page: man -l failed"
	[ -z "$err" ] || bad "$page: $err"
done
cd - >/dev/null

if [ "$fail" -ne 0 ]; then
	echo "check-docs: FAILED" >&2
	exit 1
fi
echo "check-docs: $(echo "$symbols" | wc -l) exported functions documented; $(ls "$man3" | wc -l) man pages render cleanly"
