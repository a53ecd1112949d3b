"""What becomes of a site's open incident when nothing will check the site
again: removed with squirrelctl rm or DELETE in the sqlite3 shell, disabled
with squirrelctl disable or UPDATE. The incident ends then and stays in the
history; a disabled site starts afresh when enabled again. Real SQLite
files, a real HTTP server answering 503, squirreld and squirrelctl as a
person runs them. Every wait bounded; everything stopped by PID."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, back_to_v8, check, done, equal, run, stop_pid,  # noqa: E402
                     tmpdir, wait_for)

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
OWNER = "ops@example.org"


class Env:
    def __init__(self, tmp, name, srv):
        self.tmp = tmp
        self.srv = srv
        self.db = os.path.join(tmp, f"{name}.db")
        self.conf = os.path.join(tmp, f"{name}.conf")
        with open(self.conf, "w") as f:
            f.write("[check]\nfail_threshold = 1\ninterval = 60\n[smtp]\nhost = 127.0.0.1\nport = 1\n")
        equal(self.ctl("init")[0], 0, f"{name}: a database")

    def ctl(self, *args):
        return run([CTL, "--config", self.conf, "--db", self.db, *args], timeout=60)

    def add(self, path):
        rc, out, err = self.ctl("add", self.srv.url(path), OWNER, "--json")
        if rc != 0:
            raise AssertionError(f"squirrelctl add: rc={rc} {err}")
        return json.loads(out)[0]["id"]

    def once(self):
        rc, out, err = run([SQUIRRELD, "--once", "--config", self.conf, "--db", self.db,
                            "--backend", "serial"])
        equal(rc, 0, "squirreld --once: exit 0")

    def sql(self, sql, args=()):
        con = sqlite3.connect(self.db, timeout=5)
        try:
            rows = con.execute(sql, args).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def incidents(self, sid):
        return self.sql("SELECT started_at, ended_at FROM incidents WHERE site_id = ? ORDER BY id", (sid,))

    def state(self, sid):
        return self.sql("SELECT state, fail_count FROM site_state WHERE site_id = ?", (sid,))


def ended_between(env, sid, t0, t1, what):
    """The site's one incident ended between t0 and t1 and kept its start."""
    rows = env.incidents(sid)
    check(len(rows) == 1 and rows[0][1] is not None and t0 <= rows[0][1] <= t1 and rows[0][0] <= rows[0][1],
          f"{what}: the incident ended when the site went ({t0}..{t1})", rows)


def down_sites(env, paths):
    ids = [env.add(p) for p in paths]
    env.once()
    equal([len(env.incidents(i)) for i in ids], [1] * len(ids), "each site down has an open incident")
    equal([env.incidents(i)[0][1] for i in ids], [None] * len(ids), "open")
    return ids


def test_removed(tmp, srv):
    env = Env(tmp, "removed", srv)
    a, b, c = down_sites(env, ["/a?status=503", "/b?status=503", "/c?status=503"])
    up = env.add("/up")
    env.once()
    t0 = int(time.time())
    rc, out, err = env.ctl("rm", str(a))
    t1 = int(time.time())
    equal(rc, 0, "squirrelctl rm: exit 0")
    ended_between(env, a, t0, t1, "squirrelctl rm")
    equal(env.incidents(b)[0][1], None, "another site's incident stays open")

    t0 = int(time.time())
    rc, out, err = run(["sqlite3", env.db, ".timeout 5000", f"DELETE FROM sites WHERE id = {b};"])
    t1 = int(time.time())
    equal(rc, 0, "DELETE with the sqlite3 shell")
    ended_between(env, b, t0, t1, "sqlite3 DELETE")

    before = env.incidents(a)
    env.sql("DELETE FROM sites WHERE id = ?", (up,))
    equal(env.incidents(a), before, "deleting a site that is up touches no incident")
    equal(env.sql("SELECT count(*) FROM incidents WHERE ended_at IS NULL"), [(1,)],
          "only the site still there is still down")
    equal(env.incidents(c)[0][1], None, "and its incident is open")


def test_disabled(tmp, srv):
    env = Env(tmp, "disabled", srv)
    a, b = down_sites(env, ["/a?status=503", "/b?status=503"])
    t0 = int(time.time())
    rc, out, err = env.ctl("disable", str(a))
    t1 = int(time.time())
    equal(rc, 0, "squirrelctl disable: exit 0")
    ended_between(env, a, t0, t1, "squirrelctl disable")
    equal(env.state(a), [("unknown", 0)], "disabled: its state is forgotten")
    t0 = int(time.time())
    rc, out, err = run(["sqlite3", env.db, ".timeout 5000", f"UPDATE sites SET enabled = 0 WHERE id = {b};"])
    t1 = int(time.time())
    equal(rc, 0, "UPDATE with the sqlite3 shell")
    ended_between(env, b, t0, t1, "sqlite3 UPDATE enabled = 0")
    before = env.incidents(b)
    env.sql("UPDATE sites SET enabled = 0, name = 'x' WHERE id = ?", (b,))
    equal(env.incidents(b), before, "an edit of a site already disabled changes nothing")

    # enabled again: a new site; still down, it is a new outage with a new incident
    equal(env.ctl("enable", str(a))[0], 0, "squirrelctl enable: exit 0")
    env.once()
    rows = env.incidents(a)
    check(len(rows) == 2 and rows[0][1] is not None and rows[1][1] is None,
          "enabled and still down: a new incident, the old one kept", rows)
    equal(env.sql("SELECT kind FROM outbox WHERE site_id = ? ORDER BY id", (a,)), [("down",), ("down",)],
          "and a new DOWN alert")
    # enabled again and up: nothing to tell
    env.sql("UPDATE sites SET url = ?, enabled = 1 WHERE id = ?", (srv.url("/b-fixed"), b))
    env.once()
    equal(env.state(b), [("up", 0)], "enabled again and up: up")
    equal(env.sql("SELECT kind FROM outbox WHERE site_id = ? ORDER BY id", (b,)), [("down",)],
          "no UP alert for an outage whose incident ended when it was disabled")
    equal(len(env.incidents(b)), 1, "and no new incident")


def test_disabled_in_flight(tmp, srv, log):
    """A site disabled while its check runs: that check's result is dropped
    like a removed site's, so no incident opens for a site nobody watches."""
    env = Env(tmp, "inflight", srv)
    err = open(env.db + ".stderr", "w")
    d = subprocess.Popen([SQUIRRELD, "--config", env.conf, "--db", env.db, "--backend", "libev"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        check(wait_for(lambda: "watching 0 sites" in open(err.name).read(), 10), "the daemon runs")
        sid = env.add("/slow?status=503&delay=2000")
        seen = wait_for(lambda: "/slow" in open(log).read(), 5)
        check(seen, "its check is in flight")
        equal(env.ctl("disable", str(sid))[0], 0, "disabled meanwhile")
        time.sleep(3)
        check(d.poll() is None, "the daemon runs on")
    finally:
        rc = stop_pid(d, signal.SIGTERM, timeout=20)
        err.close()
    equal(rc, 0, "exit 0")
    equal(env.incidents(sid), [], "no incident for the disabled site")
    equal(env.sql("SELECT count(*) FROM outbox"), [(0,)], "no alert")
    equal(env.sql("SELECT count(*) FROM checks"), [(0,)], "the result was dropped")


def test_migration(tmp, srv):
    """Incidents left open by sites removed or disabled before version 7 end
    at the migration, at their site's last check."""
    env = Env(tmp, "v6", srv)
    a, b, c = down_sites(env, ["/a?status=503", "/b?status=503", "/c?status=503"])
    last = {i: env.sql("SELECT max(checked_at) FROM checks WHERE site_id = ?", (i,))[0][0] for i in (a, b)}
    env.sql("UPDATE checks SET checked_at = checked_at - 100 WHERE site_id IN (?, ?)", (a, b))
    env.sql("UPDATE incidents SET started_at = started_at - 200 WHERE site_id IN (?, ?)", (a, b))
    back_to_v8(tmp, env.db)
    for name in ("sites_delete_incident", "sites_disable_incident"):
        env.sql(f"DROP TRIGGER IF EXISTS {name}")
    env.sql("ALTER TABLE site_state DROP COLUMN fail_since")
    env.sql("DELETE FROM sites WHERE id = ?", (a,))
    env.sql("UPDATE sites SET enabled = 0 WHERE id = ?", (b,))
    env.sql("PRAGMA user_version = 6")
    equal(env.sql("SELECT count(*) FROM incidents WHERE ended_at IS NULL"), [(3,)],
          "version 6: three incidents open, two of sites gone")
    rc, out, err = env.ctl("init")
    equal(rc, 0, "init migrates to version 7 and on")
    check(env.sql("PRAGMA user_version")[0][0] >= 7, "version 7 or later")
    equal(env.incidents(a)[0][1], last[a] - 100, "the removed site's incident ends at its last check")
    equal(env.incidents(b)[0][1], last[b] - 100, "the disabled site's too")
    equal(env.state(b), [("unknown", 0)], "the disabled site's state is forgotten")
    equal(env.incidents(c)[0][1], None, "the site still watched keeps its incident open")
    equal(env.state(c), [("down", 1)], "and its state")


def main():
    with tmpdir() as tmp:
        log = os.path.join(tmp, "requests.log")
        with Httpd(tmp, "--log", log) as srv:
            test_removed(tmp, srv)
            test_disabled(tmp, srv)
            test_disabled_in_flight(tmp, srv, log)
            test_migration(tmp, srv)
    return done()


if __name__ == "__main__":
    sys.exit(main())
