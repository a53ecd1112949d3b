#!/bin/sh
# test.sh - installs what is missing, builds, and runs the whole test suite
# twice: in a normal build (build/) and under AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/).
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh test

[ -f build/build.ninja ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs

[ -f build-asan/build.ninja ] || \
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs --timeout-multiplier 3
echo "all tests passed (build/ and build-asan/)"
