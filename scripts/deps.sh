#!/bin/sh
# deps.sh - installs the Debian 12 packages squirrel needs that are missing.
#   scripts/deps.sh build    what building and running needs
#   scripts/deps.sh test     that, plus what the test suite needs
set -eu

build_pkgs="gcc libc6-dev meson ninja-build pkg-config ca-certificates
  libcurl4-openssl-dev libsqlite3-dev sqlite3 libesmtp-dev libev-dev
  libc-ares-dev libssl-dev libsystemd-dev systemd python3 libhiredis-dev"
test_pkgs="python3-aiosmtpd openssl curl dnsmasq-base man-db chromium redis-server"

case "${1:-build}" in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
*) echo "usage: scripts/deps.sh build|test" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
