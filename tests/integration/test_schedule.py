"""When a failure is confirmed, and what the alert says about it: squirreld
against a real HTTP server answering 503 and a real SMTP server, with a long
interval and a short retry_interval.

The re-check of a failure comes after retry_interval even at a site's first
check (after a start, or a site just added), so the DOWN alert comes within
seconds, not an interval later. The DOWN state, the incident and the mail
say the outage began at the first failed check, not at the confirming one.
Every wait bounded; everything stopped by PID."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db, old_db,  # noqa: E402
                     run, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, body_of, parse  # noqa: E402

OWNER = "ops@example.org"
INTERVAL = 120
RETRY = 2


def write_conf(path, smtp_port):
    with open(path, "w") as f:
        f.write(f"[check]\ninterval = {INTERVAL}\nretry_interval = {RETRY}\nfail_threshold = 2\n")
        f.write("group_window = 0\n")   # the DOWN mail at once: its timing is what is measured
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {smtp_port}\nfrom = {FROM}\ntimeout = 3000\n")


def query(db, sql, args=()):
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def utc(t):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def field(body, label):
    """The value of a 'label: value' line of the mail body, or None."""
    for line in body.splitlines():
        if line.strip().startswith(label):
            return line.strip()[len(label):].strip()
    return None


class Daemon:
    def __init__(self, conf, db):
        self.err = open(db + ".stderr", "w")
        self.proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "libev"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err)

    def stderr(self):
        with open(self.err.name) as f:
            return f.read()

    def stop(self):
        rc = stop_pid(self.proc, signal.SIGTERM, timeout=20)
        self.err.close()
        return rc


def confirmed_fast(tmp, srv, what, start_daemon_first):
    """A failing site is DOWN within seconds of its first check; the alert
    and the incident date the outage from that first failed check."""
    with Smtpd(tmp, f"smtp-{what}") as smtp:
        conf = os.path.join(tmp, f"{what}.conf")
        write_conf(conf, smtp.port)
        db = new_db(tmp, f"{what}.db")
        url = srv.url(f"/{what}?status=503")
        d = None
        try:
            if start_daemon_first:
                d = Daemon(conf, db)
                check(wait_for(lambda: "watching 0 sites" in d.stderr(), 10),
                      f"{what}: the daemon runs", d.stderr())
                t0 = time.monotonic()
                rc, out, err = run(["sqlite3", db, ".timeout 5000",
                                    f"INSERT INTO sites(url, owner_email, name) VALUES ('{url}', '{OWNER}', 'shop');"])
                equal(rc, 0, f"{what}: site added with the sqlite3 shell")
                budget = 2 + RETRY + 4        # first check within 2 s, then the retry
            else:
                add_sites(db, [(url, OWNER, {"name": "shop"})])
                t0 = time.monotonic()
                d = Daemon(conf, db)
                budget = 10 + RETRY + 4       # first check within the startup spread, then the retry
            down = wait_for(lambda: query(db, "SELECT state FROM site_state") == [("down",)], budget, 0.05)
            took = time.monotonic() - t0
            check(down, f"{what}: DOWN {took:.1f} s after the start, within {budget} s "
                  f"(interval {INTERVAL}, retry_interval {RETRY})",
                  query(db, "SELECT * FROM checks"))
            mailed = wait_for(lambda: len(smtp.messages()) >= 1, 10)
            check(mailed, f"{what}: the DOWN mail arrives")
            time.sleep(0.3)
        finally:
            rc = d.stop() if d is not None else 0
        equal(rc, 0, f"{what}: exit 0")
        checks = query(db, "SELECT checked_at, ok FROM checks ORDER BY id")
        equal([ok for _, ok in checks], [0, 0], f"{what}: two failed checks, no more")
        if len(checks) != 2:
            return
        first, second = checks[0][0], checks[1][0]
        check(RETRY - 1 <= second - first <= RETRY + 1,
              f"{what}: the re-check came retry_interval after the first check", checks)
        equal(query(db, "SELECT state, since FROM site_state"), [("down", first)],
              f"{what}: down since the first failed check")
        equal(query(db, "SELECT started_at, ended_at FROM incidents"), [(first, None)],
              f"{what}: the incident started at the first failed check")
        equal(query(db, "SELECT kind, created_at, since FROM outbox"), [("down", second, first)],
              f"{what}: the alert was made at the confirming check, since the first")
        msgs = smtp.messages()
        equal([str(parse(raw)["Subject"]) for raw, _ in msgs], ["[squirrel] DOWN shop (http 503)"],
              f"{what}: one DOWN mail")
        if msgs:
            body = body_of(msgs[0][0])
            equal(field(body, "down since:"), utc(first), f"{what}: the mail says down since the first failure")
            equal(field(body, "checked at:"), utc(second), f"{what}: and checked at the confirming check")


def test_migrated_run(tmp, srv):
    """A run of failures under way in a version 6 database: the migration
    dates it from its first failure in the history (after the last good
    check, unknown verdicts left out), and the DOWN confirmed after the
    migration says so."""
    conf = os.path.join(tmp, "v6.conf")
    with open(conf, "w") as f:
        f.write("[check]\nfail_threshold = 3\n[smtp]\nhost = 127.0.0.1\nport = 1\n")
    db = old_db(tmp, "v6.db", 6)
    sid = add_sites(db, [(srv.url("/v6?status=503"), OWNER, {})])[0]
    now = int(time.time())
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, error)"
                    " VALUES (?, ?, ?, ?, 5, ?)",
                    [(sid, now - 400, 0, 503, "http 503"), (sid, now - 300, 1, 200, ""),
                     (sid, now - 250, 0, 0, "unknown: no answer from b"),
                     (sid, now - 240, 0, 503, "http 503"),
                     (sid, now - 230, 0, 0, "unknown: no answer from a, b"),
                     (sid, now - 180, 0, 503, "http 503")])
    con.execute("INSERT INTO site_state (site_id, state, since, last_check, last_ok, fail_count, ok_count)"
                " VALUES (?, 'up', ?, ?, ?, 2, 0)", (sid, now - 1000, now - 180, now - 300))
    con.commit()
    con.close()
    rc, out, err = run([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "serial"])
    equal(rc, 0, "v6: --once exits 0")
    check("schema migrated from version 6 to " in err, "v6: migrated to the latest version", err)
    equal(query(db, "SELECT state, since, fail_count FROM site_state"), [("down", now - 240, 3)],
          "v6: the third failure confirms it, down since the run's first failure in the history")
    equal(query(db, "SELECT started_at FROM incidents"), [(now - 240,)], "v6: the incident too")
    equal(query(db, "SELECT kind, since FROM outbox"), [("down", now - 240)], "v6: and the alert")


def main():
    with tmpdir() as tmp:
        with Httpd(tmp) as srv:
            confirmed_fast(tmp, srv, "startup", start_daemon_first=False)
            confirmed_fast(tmp, srv, "added", start_daemon_first=True)
            test_migrated_run(tmp, srv)
    return done()


if __name__ == "__main__":
    sys.exit(main())
