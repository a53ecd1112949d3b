"""A stop is bounded. SIGTERM with a check in flight against a server that
never answers (a site timeout at the 10-minute maximum) ends squirreld within
its drain bound with exit 0: that check is dropped, not recorded; a check that
ends inside the bound is still recorded. Every local backend this build has;
every wait bounded; everything stopped by PID."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     stop_pid, tmpdir, wait_for)

DRAIN_S = 5          # src/daemon.c DRAIN_MAX_MS
# what each backend's close adds (prefork: 2 s before SIGTERM to its workers),
# plus room for a loaded machine
CLOSE_S = {"prefork": 4.0}
MARGIN_S = 2.5


def requests(log, needle):
    try:
        with open(log) as f:
            return sum(1 for line in f if needle in line)
    except FileNotFoundError:
        return 0


def test_stop(tmp, backend):
    log = os.path.join(tmp, f"{backend}.log")
    conf = os.path.join(tmp, f"{backend}.conf")
    with open(conf, "w") as f:
        f.write("[check]\ninterval = 1\nretry_interval = 1\n[smtp]\nhost = 127.0.0.1\nport = 1\n")
    db = new_db(tmp, f"stop-{backend}.db")
    with Httpd(tmp, "--log", log) as srv:
        hang, slow = add_sites(db, [
            (srv.url("/hang?hang=1"), "ops@example.org", {"timeout_ms": 600000}),
            (srv.url("/slow?delay=2500"), "ops@example.org", {}),
        ])
        err_path = db + ".stderr"
        with open(err_path, "w") as err:
            proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", backend],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            try:
                # serial runs one check at a time: the one that never ends, alone
                both = backend != "serial"
                started = wait_for(lambda: requests(log, "/hang") >= 1 and
                                   (requests(log, "/slow") >= 1 or not both), 10)
                check(started, f"{backend}: the checks started")
                # the slow check has just begun: it ends inside the bound
                wait_for(lambda: False, 0.2)
                t0 = time.monotonic()
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
                took = time.monotonic() - t0
            finally:
                rc = stop_pid(proc, signal.SIGKILL)
        with open(err_path) as f:
            stderr = f.read()
    equal(rc, 0, f"{backend}: SIGTERM with a check that never ends: exit 0")
    bound = DRAIN_S + CLOSE_S.get(backend, 0) + MARGIN_S
    check(took < bound, f"{backend}: stopped within the bound ({took:.2f} s < {bound} s)")
    check("stopping: waiting up to 5 s for" in stderr, f"{backend}: the bound is said", stderr)
    check("checks cut short and not recorded" in stderr, f"{backend}: the dropped check is said", stderr)
    con = sqlite3.connect(db)
    hung = con.execute("SELECT count(*) FROM checks WHERE site_id = ?", (hang,)).fetchone()[0]
    rows = con.execute("SELECT ok, ms FROM checks WHERE site_id = ?", (slow,)).fetchall()
    state = con.execute("SELECT state FROM site_state WHERE site_id = ?", (hang,)).fetchone()
    con.close()
    equal(hung, 0, f"{backend}: the check cut short is not recorded")
    check(state is None or state[0] == "unknown", f"{backend}: nor is any state of it", state)
    equal(len(rows), requests(log, "/slow"), f"{backend}: the check that ended in time is recorded")
    check((rows or not both) and all(ok == 1 and ms >= 2400 for ok, ms in rows),
          f"{backend}: it ran to its end", rows)


def main():
    backends = sys.argv[1:] or ["serial"]
    with tmpdir() as tmp:
        for b in backends:
            test_stop(tmp, b)
    return done()


if __name__ == "__main__":
    sys.exit(main())
