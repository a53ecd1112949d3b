#!/bin/sh
# bench.sh - installs what is missing, builds, and runs the benchmarks:
# every backend against the ideal ceil(N/C)*L, curl --parallel and a minimal
# libcurl multi loop (bench/README.md says what each column means).
#   scripts/bench.sh                 every preset of bench/bench.py
#   scripts/bench.sh --preset big    one of them; any bench.py option works
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh test
[ -f build/build.ninja ] || meson setup build
meson compile -C build
[ $# -gt 0 ] || set -- --preset all
exec /usr/bin/python3 bench/bench.py "$@"
