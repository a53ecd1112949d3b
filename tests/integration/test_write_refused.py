"""squirreld and a database that refuses writes.

A full disk: squirreld runs with a file size limit of one byte (prlimit on
its PID; the same EFBIG path a full disk takes, ENOSPC), so every commit
fails and the results wait in memory, tried again every 2 s. A site going
DOWN meanwhile is logged once, when its transition is committed, not at
every try.

A database it may not write (its -wal and -shm left read-only by another
user's process still holding them): squirreld refuses to start, naming
the file and why, as --once does. File permissions mean nothing to root,
and CI runs as root: there squirreld runs as nobody (setpriv), from a copy
of the binary, as in test_messages.py."""

import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, check, done, equal, free_port, new_db,  # noqa: E402
                     stop_pid, tmpdir, wait_for)

NOBODY = 65534


class Daemon:
    """squirreld with its stderr read through a pipe: a file size limit
    applies to regular files, and would stop its log in a file."""

    def __init__(self, args, prefix=()):
        self.lines = []
        self.proc = subprocess.Popen([*prefix, *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def stderr(self):
        return "".join(self.lines)

    def count(self, needle):
        return sum(1 for line in list(self.lines) if needle in line)

    def stop(self):
        rc = stop_pid(self.proc, signal.SIGTERM, timeout=20)
        self.reader.join(timeout=10)
        self.proc.stderr.close()
        return rc


def test_full_disk(tmp):
    conf = os.path.join(tmp, "full.conf")
    with open(conf, "w") as f:
        f.write("[check]\ninterval = 1\nretry_interval = 1\nfail_threshold = 1\n"
                "[smtp]\nhost = 127.0.0.1\nport = 1\n")
    db = new_db(tmp, "full.db")
    d = Daemon([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"])
    url = f"http://127.0.0.1:{free_port()}/"
    try:
        check(wait_for(lambda: d.count("watching 0 sites") == 1, 10), "started", d.stderr())
        soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (1, hard))
        con = sqlite3.connect(db, timeout=5)
        con.execute("INSERT INTO sites (url, owner_email) VALUES (?, 'ops@example.org')", (url,))
        con.commit()
        con.close()
        check(wait_for(lambda: d.count("results not written; kept in memory") >= 1, 10),
              "the writes fail: the results are kept in memory", d.stderr()[-800:])
        time.sleep(7)   # three tries at least, every 2 s
        tries = d.count("committing")
        check(tries >= 3, f"the commit was tried again ({tries} times)", d.stderr()[-800:])
        equal(d.count("is DOWN"), 0, "no 'is DOWN' while nothing is committed")
        resource.prlimit(d.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
        check(wait_for(lambda: d.count("the results kept meanwhile are recorded") == 1, 10),
              "the disk has room again: the results are written", d.stderr()[-800:])
        time.sleep(3)
        equal(d.count("is DOWN"), 1, "'is DOWN' said exactly once, after the commit")
    finally:
        rc = d.stop()
    equal(rc, 0, "exit 0")
    con = sqlite3.connect(db)
    equal(con.execute("SELECT kind FROM outbox").fetchall(), [("down",)], "one DOWN alert queued")
    con.close()


def test_read_only_start(tmp):
    """-wal and -shm read-only to squirreld, held by another process."""
    prefix, binary = [], SQUIRRELD
    d = os.path.join(tmp, "ro")
    os.mkdir(d)
    if os.geteuid() == 0:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        binary = shutil.copy(SQUIRRELD, bindir)
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    conf = os.path.join(tmp, "ro.conf")
    with open(conf, "w") as f:
        f.write("[smtp]\nhost = 127.0.0.1\nport = 1\n")
    os.chmod(conf, 0o644)
    db = new_db(d, "s.db")
    con = sqlite3.connect(db)
    con.execute("INSERT INTO sites (url, owner_email) VALUES (?, 'ops@example.org')",
                (f"http://127.0.0.1:{free_port()}/",))
    con.commit()
    con.close()
    if prefix:
        os.chown(d, NOBODY, NOBODY)
        os.chown(db, NOBODY, NOBODY)
    holder = sqlite3.connect(db)   # another user's process, still running
    holder.execute("SELECT count(*) FROM sites").fetchall()
    for side in ("-wal", "-shm"):
        os.chmod(db + side, 0o444)
    for once in (("--once",), ()):
        what = "squirreld --once" if once else "squirreld"
        s = Daemon([binary, *once, "--config", conf, "--db", db, "--backend", "serial"], prefix)
        try:
            ended = wait_for(lambda: s.proc.poll() is not None, 15)
        finally:
            rc = s.stop()
        err = s.stderr()
        check(ended and rc == 1, f"{what} on a database it may not write: exits 1",
              f"rc={rc} err={err[-600:]!r}")
    check(re.search(re.escape(f"{db}: cannot write the database: this user may not write its {db}-") +
                    r"(wal|shm) \(mode 0444", err),
          "squirreld: names the file and why", err[-600:])
    holder.close()


def main():
    with tmpdir() as tmp:
        os.chmod(tmp, 0o755)
        test_full_disk(tmp)
        test_read_only_start(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
