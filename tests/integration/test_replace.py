"""The database file replaced under a running squirreld.

Another squirrel database moved over the path is adopted by every thread:
the checks, the status page and the metrics file all follow it. A file at
the path that is not a squirrel database (an empty file, as "sqlite3 PATH"
leaves; another program's SQLite database) is never adopted: one log line
says which file and why, the sites watched are still checked, and the file
is left as it was. Every wait bounded; everything stopped by PID."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     stop_pid, tmpdir, wait_for)

ADOPT_WITHIN = 15   # the file is looked at every 5 s; the page and metrics follow at once


def requests(log, path):
    try:
        with open(log) as f:
            return sum(1 for line in f if path in line)
    except FileNotFoundError:
        return 0


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Daemon:
    def __init__(self, conf, db):
        self.err_path = db + ".stderr"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err)

    def stderr(self):
        return read(self.err_path)

    def stop(self):
        rc = stop_pid(self.proc, signal.SIGTERM, timeout=20)
        self.err.close()
        return rc


def shows(page, prom, paths, absent):
    """The page and the metrics name every path of paths and none of absent."""
    html, metrics = read(page), read(prom)
    return all(p in html and p in metrics for p in paths) and \
        not any(p in html or p in metrics for p in absent)


def main():
    with tmpdir() as tmp, Httpd(tmp, "--log", os.path.join(tmp, "requests.log")) as srv:
        log = os.path.join(tmp, "requests.log")
        conf = os.path.join(tmp, "replace.conf")
        page = os.path.join(tmp, "status.html")
        prom = os.path.join(tmp, "squirrel.prom")
        with open(conf, "w") as f:
            f.write("[check]\ninterval = 1\nretry_interval = 1\n[smtp]\nhost = 127.0.0.1\nport = 1\n")
            f.write(f"[squirreld]\nstatus_page = {page}\nmetrics_file = {prom}\n")
        db = new_db(tmp, "squirrel.db")
        add_sites(db, [(srv.url(f"/first{i}"), "ops@example.org", {}) for i in range(2)])
        second = new_db(tmp, "second.db")
        add_sites(second, [(srv.url(f"/second{i}"), "ops@example.org", {}) for i in range(3)])
        third = new_db(tmp, "third.db")
        add_sites(third, [(srv.url("/third0"), "ops@example.org", {})])
        first_paths = ["/first0", "/first1"]
        second_paths = ["/second0", "/second1", "/second2"]

        d = Daemon(conf, db)
        try:
            check(wait_for(lambda: shows(page, prom, first_paths, []), 10),
                  "the page and the metrics show the first file's sites")

            # mv second.db squirrel.db: every thread follows
            os.rename(second, db)
            t0 = time.monotonic()
            ok = wait_for(lambda: shows(page, prom, second_paths, first_paths), ADOPT_WITHIN, 0.1)
            check(ok, f"after mv, the page and the metrics show the new file's sites and not the old "
                  f"ones within {ADOPT_WITHIN} s ({time.monotonic() - t0:.1f} s)",
                  f"page has first0: {'/first0' in read(page)}; metrics has first0: "
                  f"{'/first0' in read(prom)}; metrics has second0: {'/second0' in read(prom)}")
            check(wait_for(lambda: requests(log, "/second2") > 0, 5), "the new file's sites are checked")
            err = d.stderr()
            check("was replaced by another file; opening it" in err, "the adoption is logged",
                  err[-600:])

            # the file deleted, then an empty file at the path: not adopted
            os.unlink(db)
            check(wait_for(lambda: "was deleted" in d.stderr(), 8), "the deletion is logged")
            open(db, "w").close()
            said = f"{db} is now a file that is not a squirrel database (an empty file"
            check(wait_for(lambda: said in d.stderr(), 8), "an empty file at the path: one line names it "
                  "and why", d.stderr()[-600:])
            before = requests(log, "/second0")
            time.sleep(6)   # past another look at the file
            check(requests(log, "/second0") >= before + 3, "the sites watched are still checked",
                  f"{before} -> {requests(log, '/second0')}")
            err = d.stderr()
            equal(err.count(said), 1, "said once")
            check("0 watched" not in err, "the sites are kept, not replaced by none", err[-600:])
            equal(os.path.getsize(db), 0, "the empty file is left empty (no schema written into it)")
            check(shows(page, prom, second_paths, []), "the page and the metrics still show the sites")

            # another program's SQLite database moved there: not adopted either
            foreign = os.path.join(tmp, "notes.db")
            con = sqlite3.connect(foreign)
            con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            con.execute("INSERT INTO notes (body) VALUES ('mine')")
            con.commit()
            con.close()
            content = open(foreign, "rb").read()
            os.rename(foreign, db)
            said = f"{db} is now a file that is not a squirrel database (an SQLite database with no " \
                "squirrel schema version: another program's)"
            check(wait_for(lambda: said in d.stderr(), 8), "another program's database: one line names it "
                  "and why", d.stderr()[-600:])
            before = requests(log, "/second1")
            time.sleep(6)
            check(requests(log, "/second1") >= before + 3, "the sites watched are still checked",
                  f"{before} -> {requests(log, '/second1')}")
            equal(d.stderr().count(said), 1, "said once")
            check(open(db, "rb").read() == content, "the other program's file is unchanged")
            equal(sorted(f for f in os.listdir(tmp) if f.startswith("squirrel.db") and f != "squirrel.db.stderr"),
                  ["squirrel.db", "squirrel.db-shm", "squirrel.db-wal"],
                  "only the open file's own log beside it")

            # a squirrel database put there at last: adopted
            os.rename(third, db)
            check(wait_for(lambda: shows(page, prom, ["/third0"], second_paths), ADOPT_WITHIN, 0.1),
                  "a squirrel database at the path at last: adopted, by every thread")
            check(wait_for(lambda: requests(log, "/third0") > 0, 5), "its site is checked")
        finally:
            rc = d.stop()
        equal(rc, 0, "exit 0")
    return done()


if __name__ == "__main__":
    sys.exit(main())
