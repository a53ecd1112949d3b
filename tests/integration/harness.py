"""Shared pieces of the integration tests: real servers on loopback, real
SQLite files, and squirreld run as a person would run it.

Every process a test starts is stopped by its PID; every wait is bounded.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

SQUIRRELD = os.environ.get("SQUIRRELD", "build/squirreld")
SQ_HTTPD = os.environ.get("SQ_HTTPD", "build/tests/sq-httpd")
SQUIRRELCTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")

_failures = 0
_count = 0


def check(cond, what, detail=""):
    """One assertion, printed as TAP; the test goes on after a failure."""
    global _failures, _count
    _count += 1
    if cond:
        print(f"ok {_count} - {what}")
    else:
        _failures += 1
        print(f"not ok {_count} - {what}")
        if detail:
            for line in str(detail).splitlines():
                print(f"#   {line}")
    sys.stdout.flush()
    return cond


def equal(got, want, what):
    return check(got == want, what, f"got:  {got!r}\nwant: {want!r}")


def done():
    print(f"1..{_count}")
    return 1 if _failures else 0


def wait_for(pred, timeout, step=0.02):
    """Polls pred until it is true or timeout seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def stop_pid(proc, sig=signal.SIGTERM, timeout=10):
    """Stops a process we started, by its PID, and reaps it."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    return proc.returncode


def free_port():
    """A loopback port with nothing listening (for 'connect refused')."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Httpd:
    """The test HTTP server (tests/httpd/sq-httpd.c) on a free loopback port."""

    def __init__(self, tmpdir, *args):
        self.port_file = os.path.join(tmpdir, f"httpd-{time.monotonic_ns()}.port")
        self.proc = subprocess.Popen(
            [SQ_HTTPD, "--port", "0", "--port-file", self.port_file, *args],
            stdin=subprocess.DEVNULL)
        ok = wait_for(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None, 10)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("sq-httpd did not start")
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def url(self, path="/", host="127.0.0.1", scheme="http"):
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self):
        stop_pid(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run(args, timeout=120, **kw):
    """Runs a command; returns (exit status, stdout, stderr)."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    return p.returncode, p.stdout, p.stderr


def squirreld(*args, timeout=120):
    return run([SQUIRRELD, *args], timeout=timeout)


def new_db(tmpdir, name="squirrel.db"):
    """An empty squirrel database, created by squirreld itself."""
    path = os.path.join(tmpdir, name)
    rc, out, err = squirreld("--once", "--db", path, "--config", empty_config(tmpdir), "--backend", "serial")
    if rc != 0 or out != "":
        raise RuntimeError(f"creating {path}: rc={rc} out={out!r} err={err!r}")
    return path


def tiers(db):
    """Sums a history written with SQL into the hourly tier, as the daemon
    would have summed the checks it recorded (tests/dbtool tiers)."""
    rc, out, err = run([os.environ.get("DBTOOL", "build/tests/dbtool"), "tiers", db])
    if rc != 0:
        raise RuntimeError(f"dbtool tiers {db}: {err}")


def old_db(tmpdir, name, version):
    """A database of an older schema version, made by the steps that version
    ran (tests/dbtool), as an earlier squirrel left it."""
    path = os.path.join(tmpdir, name)
    rc, out, err = run([os.environ.get("DBTOOL", "build/tests/dbtool"), "create", path, str(version)])
    if rc != 0:
        raise RuntimeError(f"creating {path} at version {version}: rc={rc} err={err!r}")
    return path


def undo_v20(con):
    """Schema 20 undone on the connection con (its user_version left to the
    caller): the status page's groups, public sites, incident notes and
    owners' pages."""
    con.execute("DROP TRIGGER IF EXISTS incident_notes_gone")
    con.execute("DROP TABLE IF EXISTS incident_notes")
    con.execute("DROP TABLE IF EXISTS owner_pages")
    for column in ("group_name", "public"):
        con.execute(f"ALTER TABLE sites DROP COLUMN {column}")


def back_to_v8(tmpdir, db):
    """Undoes schemas 20 to 9 in db, for a test that makes a history with the
    daemon and then ages its database: the error column again (an unknown
    verdict's text, "unknown", from its class; other classes are left
    without one) and version 8's triggers, read from a database that
    tests/dbtool made at version 8."""
    ref = old_db(tmpdir, os.path.basename(db) + "-v8ref.db", 8)
    con = sqlite3.connect(ref)
    triggers = [r[0] for r in con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                                          " AND name IN ('checks_uptime', 'checks_count')")]
    con.close()
    os.unlink(ref)
    con = sqlite3.connect(db)
    undo_v20(con)
    # schema 19: the history's tiers (version 16's triggers come back below, then 8's)
    con.execute("DROP TABLE IF EXISTS uptime_days")
    for column in ("checks", "failures", "ms_n", "ms_sum", "ms_min", "ms_max", "ms_hist"):
        con.execute(f"ALTER TABLE uptime_hours DROP COLUMN {column}")
    con.execute("ALTER TABLE checks DROP COLUMN edge")
    for column in ("check_gen", "backfill_below", "backfill_site", "backfill_at", "backfill_id", "raw_below", "days_below", "hours_below",
                   "prune_at", "keep_at"):
        con.execute(f"ALTER TABLE settings DROP COLUMN {column}")
    con.execute("CREATE TRIGGER checks_uptime AFTER INSERT ON checks BEGIN SELECT 1; END")
    con.execute("CREATE TRIGGER checks_count AFTER INSERT ON checks BEGIN SELECT 1; END")
    # schema 18: contacts, their links to sites, an outbox row's contact
    con.execute("DROP TRIGGER IF EXISTS site_contacts_site_gone")
    con.execute("DROP TABLE IF EXISTS site_contacts")
    con.execute("DROP TABLE IF EXISTS contacts")
    for column in ("contact_id", "alert_of"):
        con.execute(f"ALTER TABLE outbox DROP COLUMN {column}")
    # schema 17: the Message-IDs of the mails sent
    for table in ("outbox", "incidents"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN message_id")
    # schema 16: the monitor's own outage (its triggers go with version 8's below)
    con.execute("DROP TABLE IF EXISTS outages")
    con.execute("ALTER TABLE outbox DROP COLUMN fresh")
    # schema 15: maintenance windows, the two marks of a check, their rollup (its
    # trigger reads the marks: a stand-in until version 8's replaces it below)
    con.execute("DROP TRIGGER checks_uptime")
    con.execute("CREATE TRIGGER checks_uptime AFTER INSERT ON checks BEGIN SELECT 1; END")
    for column in ("slow_s", "maint_s"):
        con.execute(f"ALTER TABLE uptime_hours DROP COLUMN {column}")
    for kind, name in (("TRIGGER", "maintenance_site_insert"), ("TRIGGER", "maintenance_site_update"),
                       ("TRIGGER", "sites_delete_maintenance"), ("TRIGGER", "maintenance_version_insert"),
                       ("TRIGGER", "maintenance_version_update"), ("TRIGGER", "maintenance_version_delete"),
                       ("TABLE", "maintenance"), ("TABLE", "maintenance_version")):
        con.execute(f"DROP {kind} {name}")
    for column in ("maintenance", "slow"):
        con.execute(f"ALTER TABLE checks DROP COLUMN {column}")
    # schema 14: certificate warnings
    con.execute("DROP TRIGGER sites_delete_cert")
    con.execute("DROP TABLE site_cert")
    for table, column in (("sites", "cert_warn_days"), ("outbox", "cert_not_after"),
                          ("outbox", "cert_subject"), ("outbox", "cert_issuer")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    # schema 13: dependencies
    con.execute("DROP TRIGGER outbox_delete_children")
    con.execute("DROP TABLE outbox_children")
    con.execute("DROP INDEX site_state_behind")
    for table, column in (("sites", "depends_on"), ("site_state", "parent_down"),
                          ("site_state", "behind"), ("outbox", "children"),
                          ("outbox", "children_back")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.commit()
    # schema 12: the outbox's two CHECKs back to their words before
    cookie = con.execute("PRAGMA schema_version").fetchone()[0]
    con.execute("PRAGMA writable_schema = ON")
    for new, old in (("kind IN ('down', 'up', 'reminder', 'degraded', 'recovered', 'cert', 'outage')",
                      "kind IN ('down', 'up', 'reminder', 'degraded', 'recovered')"),
                     ("status IN ('pending', 'sent', 'failed', 'held', 'cancelled')",
                      "status IN ('pending', 'sent', 'failed')")):
        con.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = 'outbox'", (new, old))
    con.execute("PRAGMA writable_schema = OFF")
    con.execute(f"PRAGMA schema_version = {cookie + 1}")
    con.commit()
    # schema 11: slow is degraded; its two CHECKs back to their words before
    for table, column in (("sites", "slow_ms"), ("sites", "alert_degraded"),
                          ("site_state", "slow_count"), ("site_state", "slow_since")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    cookie = con.execute("PRAGMA schema_version").fetchone()[0]
    con.execute("PRAGMA writable_schema = ON")
    con.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = 'site_state'",
                ("state IN ('unknown', 'up', 'down', 'degraded')",
                 "state IN ('unknown', 'up', 'down')"))
    con.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = 'outbox'",
                ("kind IN ('down', 'up', 'reminder', 'degraded', 'recovered')",
                 "kind IN ('down', 'up', 'reminder')"))
    con.execute("PRAGMA writable_schema = OFF")
    con.execute(f"PRAGMA schema_version = {cookie + 1}")
    con.commit()
    # schema 10: what a site's answer must be
    for column in ("method", "expect_status", "keyword", "keyword_mode", "keyword_nocase"):
        con.execute(f"ALTER TABLE sites DROP COLUMN {column}")
    for kind, name in (("TRIGGER", "checks_uptime"), ("TRIGGER", "checks_count"),
                       ("TRIGGER", "outbox_delete_located"), ("TABLE", "outbox_located")):
        con.execute(f"DROP {kind} {name}")
    con.execute("UPDATE checks SET detail = 'unknown' WHERE class = 20 AND detail = ''")
    for table in ("checks", "check_locations", "outbox"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN class")
        con.execute(f"ALTER TABLE {table} RENAME COLUMN detail TO error")
    con.execute("ALTER TABLE settings DROP COLUMN class_backfill_below")
    for sql in triggers:
        con.execute(sql)
    con.execute("PRAGMA user_version = 8")
    con.commit()
    con.close()


def empty_config(tmpdir):
    path = os.path.join(tmpdir, "empty.conf")
    if not os.path.exists(path):
        open(path, "w").close()
    return path


def add_sites(db, rows):
    """rows: (url, owner_email, extra columns dict). Returns their ids."""
    ids = []
    con = sqlite3.connect(db)
    try:
        for url, email, extra in rows:
            cols = ["url", "owner_email", *extra.keys()]
            cur = con.execute(
                f"INSERT INTO sites ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [url, email, *extra.values()])
            ids.append(cur.lastrowid)
        con.commit()
    finally:
        con.close()
    return ids


def parse_once(out):
    """The --once output: {id: (state, status, ms, url, error)}."""
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) != 6:
            raise AssertionError(f"--once line has {len(f)} fields: {line!r}")
        res[int(f[0])] = (f[1], int(f[2]), int(f[3]), f[4], f[5])
    return res


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="squirrel-test-")


class CtlEnv:
    """squirrelctl on one database with an empty configuration (both may
    be overridden per call)."""

    def __init__(self, tmp, db_name):
        self.tmp = tmp
        self.conf = os.path.join(tmp, "empty.conf")
        open(self.conf, "w").close()
        self.db = os.path.join(tmp, db_name)

    def ctl(self, *args, db=None, conf=None):
        return run([SQUIRRELCTL, "--config", conf or self.conf, "--db", db or self.db, *args],
                   timeout=60)

    def json(self, *args, db=None):
        rc, out, err = self.ctl(*args, "--json", db=db)
        if rc != 0:
            raise AssertionError(f"squirrelctl {' '.join(args)}: rc={rc} {err}")
        return json.loads(out)
