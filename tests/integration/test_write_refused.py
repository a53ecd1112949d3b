"""squirreld and a database that refuses writes.

A full disk: squirreld runs with a file size limit of one byte (prlimit on
its PID; the same EFBIG path a full disk takes, ENOSPC), so every commit
fails and the results wait in memory, tried again every 2 s. A site going
DOWN meanwhile is logged once, when its transition is committed, not at
every try.
"""

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, check, done, equal, free_port, new_db,  # noqa: E402
                     stop_pid, tmpdir, wait_for)


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


def main():
    with tmpdir() as tmp:
        os.chmod(tmp, 0o755)
        test_full_disk(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
