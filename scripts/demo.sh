#!/bin/sh
# demo.sh - installs what is missing, builds, makes a small demo database and
# runs squirreld on it with the built-in defaults. Ctrl-C stops it.
# SQUIRREL_DEMO_SECONDS=N stops the daemon after N seconds.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh build
[ -f build/build.ninja ] || meson setup build
meson compile -C build

demo=build/demo
mkdir -p "$demo"
rm -f "$demo/demo.db" "$demo/demo.db-wal" "$demo/demo.db-shm"

# A few local sites to watch, served by the test server on loopback:
# one healthy, one failing, one that refuses HEAD, one slow.
build/tests/sq-httpd --port 0 --port-file "$demo/port" &
httpd=$!
trap 'kill $httpd 2>/dev/null; wait $httpd 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$demo/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$demo/port")
rm -f "$demo/port"

# squirreld creates the schema; the sites go in with plain sqlite3.
build/squirreld --once --db "$demo/demo.db" >/dev/null
sqlite3 "$demo/demo.db" <<SQL
INSERT INTO sites(url, owner_email, name) VALUES
  ('http://127.0.0.1:$port/?status=200', 'ops@example.org', 'healthy'),
  ('http://127.0.0.1:$port/?status=503', 'ops@example.org', 'failing'),
  ('http://127.0.0.1:$port/?head=405&status=200', 'ops@example.org', 'refuses HEAD'),
  ('http://127.0.0.1:$port/?delay=300', 'ops@example.org', 'slow'),
  ('http://127.0.0.1:1/', 'ops@example.org', 'nothing listening'),
  ('https://example.org/', 'ops@example.org', 'a public site');
SQL

echo "== one pass: squirreld --once --db $demo/demo.db"
echo "id	state	status	ms	url	error"
build/squirreld --once --db "$demo/demo.db"
echo
echo "== the daemon: squirreld --db $demo/demo.db (Ctrl-C to stop)"
if [ -n "${SQUIRREL_DEMO_SECONDS:-}" ]; then
	build/squirreld --db "$demo/demo.db" &
	d=$!
	sleep "$SQUIRREL_DEMO_SECONDS"
	kill -TERM $d
	wait $d
else
	build/squirreld --db "$demo/demo.db"
fi
