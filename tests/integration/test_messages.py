"""What squirrelctl and squirreld say when the database cannot be used as
asked, and what squirreld --test-mail prints: each message names the file
and the reason a person can act on, never SQLite's bare "unable to open
database file". A database the user may only read still serves every
reading command.

File permissions mean nothing to root, and CI runs as root: there the
commands under test run as nobody (setpriv), from copies of the binaries
in a directory nobody may enter (the build tree may sit under a home that
nobody cannot search). As any other user they run as that user."""

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, done, equal, run, tmpdir  # noqa: E402
from test_mail import Smtpd  # noqa: E402

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
SQUIRRELD = os.environ.get("SQUIRRELD", "build/squirreld")
NOBODY = 65534
TO = "ops@example.org"


class User:
    """Runs squirrelctl and squirreld as a user file permissions apply to."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.prefix = []
        self.ctl_bin, self.d_bin = CTL, SQUIRRELD
        if os.geteuid() == 0:
            bindir = os.path.join(tmp, "bin")
            os.mkdir(bindir)
            self.ctl_bin = shutil.copy(CTL, bindir)
            self.d_bin = shutil.copy(SQUIRRELD, bindir)
            self.prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        self.conf = os.path.join(tmp, "empty.conf")
        open(self.conf, "w").close()
        os.chmod(self.conf, 0o644)

    def ctl(self, db, *args):
        return run([*self.prefix, self.ctl_bin, "--config", self.conf, "--db", db, *args], timeout=60)

    def squirreld(self, db, *args):
        return run([*self.prefix, self.d_bin, "--config", self.conf, "--db", db, "--once",
                    "--backend", "serial", *args], timeout=60)

    def usable(self):
        rc, out, err = run([*self.prefix, self.ctl_bin, "--version"], timeout=60)
        return rc == 0, err


def make_db(u, dirname, name="s.db"):
    """A database with one site, one check and one alert, made as the test user."""
    d = os.path.join(u.tmp, dirname)
    os.makedirs(d, exist_ok=True)
    db = os.path.join(d, name)
    rc, out, err = run([CTL, "--config", u.conf, "--db", db, "init"], timeout=60)
    assert rc == 0, err
    run([CTL, "--config", u.conf, "--db", db, "add", "https://shop.example/", TO, "--name", "Shop"], timeout=60)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, class, detail)"
                " VALUES (1, 1700000000, 0, 503, 120, 1, '')")
    con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name)"
                " VALUES (1, ?, 'down', 1700000000, 'https://shop.example/', 'Shop')", (TO,))
    con.commit()
    con.close()
    return db


def no_sqlite_words(err):
    return "unable to open database file" not in err and "attempt to write a readonly" not in err


def test_missing_directory(u):
    db = os.path.join(u.tmp, "no", "such", "dir", "s.db")
    for what, (rc, out, err) in (("squirrelctl init", u.ctl(db, "init")), ("squirreld", u.squirreld(db))):
        check(rc == 1 and db in err and f"directory {os.path.dirname(db)} does not exist" in err
              and no_sqlite_words(err), f"{what}, a database in a missing directory: exit 1, which and why",
              f"rc={rc} err={err!r}")
    check(not os.path.exists(os.path.join(u.tmp, "no")), "nothing created")


def test_unreadable(u):
    db = make_db(u, "secret")
    os.chmod(db, 0o000)
    for what, (rc, out, err) in (("squirrelctl list", u.ctl(db, "list")), ("squirreld", u.squirreld(db))):
        check(rc == 1 and db in err and "permission denied" in err and "mode 0000" in err
              and no_sqlite_words(err), f"{what}, a database this user may not read: exit 1, which and why",
              f"rc={rc} err={err!r}")
        equal(out, "", f"{what}: nothing on stdout")


def test_unwritable_directory(u):
    d = os.path.join(u.tmp, "closed")
    os.mkdir(d)
    os.chmod(d, 0o555)
    db = os.path.join(d, "new.db")
    for what, (rc, out, err) in (("squirrelctl init", u.ctl(db, "init")), ("squirreld", u.squirreld(db))):
        check(rc == 1 and db in err and f"may not write in the directory {d}" in err and no_sqlite_words(err),
              f"{what}, a new database in a directory this user may not write: exit 1, which and why",
              f"rc={rc} err={err!r}")
    equal(os.listdir(d), [], "nothing created")
    os.chmod(d, 0o755)


def test_read_only(u):
    """A database this user may only read, in a directory they may not write:
    every reading command works; a writing one says why not; nothing changes."""
    db = make_db(u, "ro")
    d = os.path.dirname(db)
    os.chmod(db, 0o444)
    os.chmod(d, 0o555)
    before = open(db, "rb").read()
    rc, out, err = u.ctl(db, "list", "--json")
    check(rc == 0 and [(r["id"], r["url"], r["name"]) for r in json.loads(out or "[]")] ==
          [(1, "https://shop.example/", "Shop")], "list on a read-only database", f"rc={rc} err={err!r}")
    rc, out, err = u.ctl(db, "list")
    check(rc == 0 and "https://shop.example/" in out, "list as a table", f"rc={rc} err={err!r}")
    for args in (("status",), ("status", "1"), ("history", "1"), ("outbox",)):
        rc, out, err = u.ctl(db, *args, "--json")
        check(rc == 0 and isinstance(json.loads(out or "null"), list),
              f"{args[0]} on a read-only database", f"rc={rc} err={err!r}")
    rc, out, err = u.ctl(db, "history", "1", "--json")
    check(rc == 0 and [(r["http_status"], r["error"]) for r in json.loads(out or "[]")] == [(503, "http 503")],
          "history reads the check", f"rc={rc} err={err!r}")
    for what, (rc, out, err) in (
            ("squirrelctl add", u.ctl(db, "add", "https://other.example/", TO)),
            ("squirrelctl disable", u.ctl(db, "disable", "1")),
            ("squirreld", u.squirreld(db))):
        check(rc == 1 and db in err and "may only read" in err and "mode 0444" in err and no_sqlite_words(err),
              f"{what} on a read-only database: exit 1, which and why", f"rc={rc} err={err!r}")
    equal(sorted(os.listdir(d)), ["s.db"], "no journal files left beside it")
    check(open(db, "rb").read() == before, "the file is unchanged")

    # the same database needing a migration: a reading command cannot do it
    os.chmod(d, 0o755)
    os.chmod(db, 0o644)
    con = sqlite3.connect(db)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    con.execute(f"PRAGMA user_version = {version - 1}")
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    os.chmod(db, 0o444)
    os.chmod(d, 0o555)
    rc, out, err = u.ctl(db, "list")
    check(rc == 1 and db in err and f"schema version {version - 1} needs migrating to {version}" in err
          and "may only read" in err, "a read-only database that needs a migration: exit 1, says so",
          f"rc={rc} err={err!r}")
    os.chmod(d, 0o755)


def test_read_only_with_log(u):
    """A read-only copy with writes still in its -wal (a daemon stopped hard):
    reading them takes a -shm file this user cannot make. Says so."""
    db = make_db(u, "logsrc")
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("INSERT INTO sites (url, owner_email) VALUES ('https://late.example/', ?)", (TO,))
    con.commit()
    d = os.path.join(u.tmp, "logro")
    os.mkdir(d)
    copy = os.path.join(d, "s.db")
    shutil.copy(db, copy)
    shutil.copy(db + "-wal", copy + "-wal")
    con.close()
    check(os.path.getsize(copy + "-wal") > 0, "the copy has writes in its log")
    os.chmod(copy, 0o444)
    os.chmod(copy + "-wal", 0o444)
    os.chmod(d, 0o555)
    rc, out, err = u.ctl(copy, "list")
    check(rc == 1 and f"{copy}-wal holds writes" in err and f"may not create in {d}" in err
          and "start squirreld" in err and no_sqlite_words(err),
          "a read-only database with writes in its log: exit 1, which and why", f"rc={rc} err={err!r}")
    equal(sorted(os.listdir(d)), ["s.db", "s.db-wal"], "nothing created beside it")
    os.chmod(d, 0o755)


def test_writable_file_closed_directory(u):
    """SQLite keeps its write-ahead log beside the database: a writer needs the directory."""
    db = make_db(u, "half")
    d = os.path.dirname(db)
    os.chmod(db, 0o666)
    os.chmod(d, 0o555)
    for what, (rc, out, err) in (
            ("squirrelctl add", u.ctl(db, "add", "https://other.example/", TO)),
            ("squirreld", u.squirreld(db))):
        check(rc == 1 and db in err and f"may not write in the directory {d}" in err and no_sqlite_words(err),
              f"{what}, a writable database in a closed directory: exit 1, which and why",
              f"rc={rc} err={err!r}")
    rc, out, err = u.ctl(db, "list")
    check(rc == 0 and "https://shop.example/" in out, "list works there", f"rc={rc} err={err!r}")
    os.chmod(d, 0o755)


def test_mail_reply(tmp):
    """squirreld --test-mail prints the server's final reply."""
    with Smtpd(tmp, "smtp") as srv:
        conf = os.path.join(tmp, "mail.conf")
        with open(conf, "w") as f:
            f.write(f"[smtp]\nhost = 127.0.0.1\nport = {srv.port}\nfrom = squirrel@example.net\ntimeout = 5000\n")
        rc, out, err = run([SQUIRRELD, "--config", conf, "--test-mail", TO], timeout=60)
        equal((rc, out), (0, f"sent to {TO} via 127.0.0.1:{srv.port}: 250 2.0.0 OK queued as 0001\n"),
              "--test-mail: the server's reply to the message")
        equal(len(srv.messages()), 1, "--test-mail: one message received")


def main():
    with tmpdir() as tmp:
        os.chmod(tmp, 0o755)
        u = User(tmp)
        ok, why = u.usable()
        if not ok:
            print(f"1..0 # SKIP cannot run squirrelctl as an unprivileged user: {why}")
            return 0
        test_missing_directory(u)
        test_unreadable(u)
        test_unwritable_directory(u)
        test_read_only(u)
        test_read_only_with_log(u)
        test_writable_file_closed_directory(u)
        test_mail_reply(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
