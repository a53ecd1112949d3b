#!/bin/sh
# demo.sh - installs what is missing, builds, makes a small demo database and
# runs squirreld on it with the built-in defaults, except that the alert
# mails go to a small SMTP server on loopback that saves them under
# build/demo/mail/ (and this script prints each one as it arrives).
# Ctrl-C stops it. SQUIRREL_DEMO_SECONDS=N stops the daemon after N seconds.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh demo
[ -f build/build.ninja ] || meson setup build
meson compile -C build

demo=build/demo
mail=$demo/mail
mkdir -p "$demo"
rm -rf "$mail" "$demo/demo.db" "$demo/demo.db-wal" "$demo/demo.db-shm" "$demo/status.html" \
	"$demo/status.json" "$demo/public.html" "$demo/public.json"
rm -f "$demo/httpd.port" "$demo/smtpd.port"

pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	pids=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (at most 5 s) for a server to write its port.
wait_port() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$1" ] || { echo "demo: $2 did not start" >&2; exit 1; }
	cat "$1"
}

# A few local sites to watch, served by the test server on loopback:
# one healthy, one failing, one that refuses HEAD, one slow.
build/tests/sq-httpd --port 0 --port-file "$demo/httpd.port" &
pids="$pids $!"
port=$(wait_port "$demo/httpd.port" "the test web server")
rm -f "$demo/httpd.port"

# Where the alert mails go: the test SMTP server, on loopback, saving each
# mail as it was received (NNNN.eml) instead of delivering it. The Debian
# python3, which has python3-aiosmtpd, whatever python3 comes first in PATH.
/usr/bin/python3 tests/smtpd/smtpd.py --port-file "$demo/smtpd.port" --store "$mail" &
pids="$pids $!"
smtp_port=$(wait_port "$demo/smtpd.port" "the SMTP server")
rm -f "$demo/smtpd.port"

# The built-in defaults, but for where the mail goes and the status pages.
cat >"$demo/demo.conf" <<EOF
; Written by scripts/demo.sh: every other key keeps its built-in default.
[squirreld]
status_page = $PWD/$demo/status.html

[status_page]
title = squirrel demo
public_page = $PWD/$demo/public.html

[smtp]
host = 127.0.0.1
port = $smtp_port
EOF

# squirreld creates the schema; the sites go in with plain sqlite3.
build/squirreld --once --config "$demo/demo.conf" --db "$demo/demo.db" >/dev/null
sqlite3 "$demo/demo.db" <<SQL
INSERT INTO sites(url, owner_email, name, group_name, public) VALUES
  ('http://127.0.0.1:$port/?status=200', 'ops@example.org', 'healthy', 'Loopback', 1),
  ('http://127.0.0.1:$port/?status=503', 'ops@example.org', 'failing', 'Loopback', 1),
  ('http://127.0.0.1:$port/?head=405&status=200', 'ops@example.org', 'refuses HEAD', 'Loopback', 1),
  ('http://127.0.0.1:$port/?delay=300', 'ops@example.org', 'slow', 'Loopback', 0),
  ('http://127.0.0.1:1/', 'ops@example.org', 'nothing listening', NULL, 0),
  ('https://example.org/', 'ops@example.org', 'a public site', NULL, 1);
SQL

echo "== one pass: squirreld --once --config $demo/demo.conf --db $demo/demo.db"
printf 'id\tstate\thttp_status\tmilliseconds\turl\terror\n'
build/squirreld --once --config "$demo/demo.conf" --db "$demo/demo.db"

# Prints each mail the SMTP server saves, as it arrives, for as long as
# this script runs.
show_mail() {
	n=1
	s=
	trap 'kill $s 2>/dev/null; exit 0' TERM
	while kill -0 $$ 2>/dev/null; do
		f=$(printf '%s/%04d' "$mail" $n)
		if [ -e "$f.json" ]; then
			printf '\n== mail %04d, saved as %s.eml:\n' $n "$f"
			grep -v -i -E '^(Message-ID|MIME-Version|Content-Type|Content-Transfer-Encoding|Auto-Submitted|X-[A-Za-z-]*|Date):' "$f.eml" | tr -d '\r'
			echo "== end of mail $(printf %04d $n)"
			n=$((n + 1))
		else
			sleep 0.5 &
			s=$!
			wait $s
		fi
	done
}

cat <<EOF

== the daemon: squirreld --config $demo/demo.conf --db $demo/demo.db
   The failing sites failed once in the pass above; the daemon checks
   every site again within 10 s of its start, and that second failure
   (fail_threshold = 2) makes them DOWN: their owner gets one alert mail,
   dated from the first failure.
   It goes to the SMTP server on 127.0.0.1:$smtp_port, which saves it in
   $mail/ (printed below as it arrives); nothing leaves this machine.
   Meanwhile, in another terminal:
     build/squirrelctl --db $demo/demo.db status
     build/squirrelctl --db $demo/demo.db history 2
   The status pages, rewritten every minute: $demo/status.html (every
   site) and $demo/public.html (the public ones), each with its .json
   (or now: build/squirrelctl --db $demo/demo.db report --html FILE [--public])
   Ctrl-C stops the daemon.

EOF
show_mail &
pids="$pids $!"

# Ctrl-C reaches the daemon too: it stops cleanly, then the summary below.
trap ':' INT TERM
if [ -n "${SQUIRREL_DEMO_SECONDS:-}" ]; then
	build/squirreld --config "$demo/demo.conf" --db "$demo/demo.db" &
	d=$!
	sleep "$SQUIRREL_DEMO_SECONDS" || true
	kill -TERM $d 2>/dev/null || true
	wait $d || true
else
	build/squirreld --config "$demo/demo.conf" --db "$demo/demo.db" || true
fi
sleep 0.6   # the last mail's lines
trap 'exit 130' INT TERM

echo
echo "== stopped. What it left in $demo/:"
echo "   demo.db (build/squirrelctl --db $demo/demo.db status), status.html,"
echo "   public.html (and their .json),"
echo "   mail/ ($(find "$mail" -name '*.eml' 2>/dev/null | wc -l) mails, one .eml each)"
