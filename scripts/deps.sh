#!/bin/sh
# deps.sh - installs the Debian 12 packages squirrel needs that are missing.
#   scripts/deps.sh build    what building and running needs
#   scripts/deps.sh demo     that, plus the SMTP server scripts/demo.sh sends to
#   scripts/deps.sh test     build, plus what the test suite needs
#
# The tests start their own redis-server on a private socket: they need the
# program, not a system Redis. When this script installs redis-server, the
# package's service is neither started (a policy-rc.d for that one install)
# nor left enabled at boot. A redis-server installed before is left as it is.
set -eu

build_pkgs="gcc libc6-dev meson ninja-build pkg-config ca-certificates
  libcurl4-openssl-dev libsqlite3-dev sqlite3 libesmtp-dev libev-dev
  libc-ares-dev libssl-dev libsystemd-dev systemd python3 libhiredis-dev libidn2-dev"
demo_pkgs="python3-aiosmtpd"
test_pkgs="python3-aiosmtpd openssl curl dnsmasq-base man-db chromium redis-server shellcheck"
# Packages that would start and enable a service of their own, PKG.service
quiet_pkgs="redis-server"

case "${1:-build}" in
build) pkgs=$build_pkgs ;;
demo) pkgs="$build_pkgs $demo_pkgs" ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
*) echo "usage: scripts/deps.sh build|demo|test" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

install() {
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}

# One package whose service must not run: installed with invoke-rc.d told
# to start nothing (unless the machine has a policy-rc.d of its own, which
# is kept), then its unit disabled, and stopped if it started anyway.
install_quiet() {
	pkg=$1
	unit=$pkg.service
	policy=/usr/sbin/policy-rc.d
	if [ -e "$policy" ]; then
		install "$pkg"
	else
		printf '#!/bin/sh\n# scripts/deps.sh: no service starts while %s installs\nexit 101\n' \
			"$pkg" | $sudo tee "$policy" >/dev/null
		$sudo chmod 755 "$policy"
		trap '$sudo rm -f "$policy"' EXIT
		trap 'exit 130' INT TERM
		install "$pkg"
		$sudo rm -f "$policy"
		trap - EXIT INT TERM
	fi
	now=
	[ -d /run/systemd/system ] && now=--now
	$sudo systemctl disable $now "$unit" 2>/dev/null ||
		$sudo update-rc.d "$pkg" disable 2>/dev/null || true
	echo "$pkg installed for the tests; its service $unit is not started or enabled" \
		"(sudo systemctl enable --now $unit for a system one)"
}

plain=
quiet=
for p in $missing; do
	case " $quiet_pkgs " in
	*" $p "*) quiet="$quiet $p" ;;
	*) plain="$plain $p" ;;
	esac
done

echo "installing:$missing"
$sudo apt-get update -q
# shellcheck disable=SC2086
[ -z "$plain" ] || install $plain
for p in $quiet; do
	install_quiet "$p"
done
