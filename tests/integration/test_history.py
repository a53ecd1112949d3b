#!/usr/bin/env python3
"""The history's tiers on a migrated database: a version 8 history of a few
days, migrated, then summed (the response times of its hours) and pruned
(raw checks past raw_hours) by the daemon's reporter in bounded steps while
the daemon keeps checking; the daemon killed with SIGKILL in the middle and
started again; at the end every hour of the old history equals what the
daemon's own code sums from the same raw checks, nothing counted twice, the
old successes past raw_hours gone, the failures kept, and the live site
checked on cadence throughout."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, check, done, equal, old_db, stop_pid, tiers,  # noqa: E402
                     tmpdir, wait_for)

OWNER = "ops@example.com"
DAY = 86400
COLUMNS = ("site_id, hour, up_s, down_s, slow_s, maint_s, checks, failures, ms_n, ms_sum, ms_min,"
           " ms_max, ms_hist")


def start(conf, db, log):
    # small steps, so that the backfill spans several of the reporter's bursts (200 ms a second)
    env = dict(os.environ, SQUIRREL_UPKEEP_BATCH="20")
    with open(log, "a") as err:
        return subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "libev"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                env=env)


def settings(db):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("SELECT backfill_below, raw_below, backfill_site FROM settings").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def main():
    with tmpdir() as tmp, Httpd(tmp) as srv:
        db = old_db(tmp, "v8.db", 8)
        now0 = int(time.time())
        end = now0 - 3 * 3600      # the old history ends three hours ago
        con = sqlite3.connect(db)
        con.execute("INSERT INTO sites (id, url, owner_email, name, interval_s) VALUES"
                    " (1, ?, ?, 'live', 1), (2, ?, ?, 'old', 60)",
                    (srv.url("/live"), OWNER, srv.url("/old"), OWNER))
        con.execute("UPDATE sites SET enabled = 0 WHERE id = 2")
        # four days: site 1 every 20 s, site 2 every 60 s; a failure in every 13
        rows = []
        for sid, step in ((1, 20), (2, 60)):
            for i in range(4 * DAY // step):
                t = end - 4 * DAY + i * step
                bad = i % 13 == 0
                rows.append((sid, t, int(not bad), 503 if bad else 200, 40 + (i * 37) % 400,
                             "http 503" if bad else ""))
        con.executemany("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, error)"
                        " VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.commit()
        con.close()
        conf = os.path.join(tmp, "history.conf")
        with open(conf, "w") as f:
            f.write("[check]\ninterval = 1\n[smtp]\nhost = 127.0.0.1\nport = 9\n")
        # the hours compared: those before the last old checks' (the daemon's first check closes
        # the hold of the last one, which no reference can know)
        cutoff = (end - 120) // 3600 * 3600
        # the reference: the same raw history summed by the daemon's own code
        ref = os.path.join(tmp, "ref.db")
        shutil.copy(db, ref)
        rc = subprocess.run([os.environ.get("SQUIRRELCTL", "build/squirrelctl"), "--config", conf,
                             "--db", ref, "init"], capture_output=True, text=True).returncode
        equal(rc, 0, "the copy migrated by squirrelctl init")
        tiers(ref)
        rcon = sqlite3.connect(ref)
        want = rcon.execute(f"SELECT {COLUMNS} FROM uptime_hours WHERE hour < ? ORDER BY 1, 2",
                            (cutoff,)).fetchall()
        rcon.close()
        check(len(want) > 150, "the reference: four days of hours of two sites", len(want))

        log = os.path.join(tmp, "squirreld.err")
        d = start(conf, db, log)
        # SIGKILL once the backfill is under way (its cursor set), not done
        mid = wait_for(lambda: (s := settings(db)) is not None and s[0] > 0 and s[2] is not None and s, 60,
                       step=0.01)
        check(mid, "the backfill under way in the reporter's steps", settings(db))
        stop_pid(d, signal.SIGKILL)
        left = settings(db)
        check(left[0] > 0 and left[2] is not None, "killed in the middle of the backfill", left)
        d = start(conf, db, log)
        try:
            finished = wait_for(lambda: (s := settings(db)) is not None and s[0] == 0 and
                                s[1] >= int(time.time()) - 48 * 3600 - 120, 120, step=0.2)
            check(finished, "after the restart the backfill and the pruning finish", settings(db))
            # the pruning of the old successes, then a look at what the daemon did meanwhile
            gone = wait_for(lambda: sqlite3.connect(db, timeout=10).execute(
                "SELECT count(*) FROM checks WHERE ok = 1 AND edge IS NULL AND checked_at < ?",
                (int(time.time()) - 48 * 3600 - 60,)).fetchone()[0] <= 2, 60, step=0.2)
            check(gone, "the old successes past raw_hours pruned (but each site's latest)")
            live = wait_for(lambda: sqlite3.connect(db, timeout=10).execute(
                "SELECT count(*) FROM checks WHERE site_id = 1 AND checked_at > ?", (end,)).fetchone()[0] >= 8,
                30, step=0.2)
            check(live, "the live site checked meanwhile")
        finally:
            rc = stop_pid(d)
        equal(rc, 0, "the daemon stopped cleanly")
        con = sqlite3.connect(db)
        got = con.execute(f"SELECT {COLUMNS} FROM uptime_hours WHERE hour < ? ORDER BY 1, 2",
                          (cutoff,)).fetchall()
        equal(len(got), len(want), "as many hours as the reference")
        equal(got, want, "every hour of the old history: the reference's sums, nothing twice")
        fails = con.execute("SELECT count(*) FROM checks WHERE ok = 0 AND checked_at < ?", (end,)).fetchone()[0]
        equal(fails, sum(1 for r in rows if not r[2]), "every old failure kept raw")
        recoveries = {(r[0], r[1]) for prev, r in zip(rows, rows[1:]) if prev[0] == r[0] and not prev[2] and r[2]}
        cut = int(time.time()) - 48 * 3600 - 60
        recoveries = {r for r in recoveries if r[1] < cut}
        kept = {tuple(r) for r in con.execute("SELECT site_id, checked_at FROM checks WHERE ok = 1 AND checked_at < ?",
                                              (cut,))}
        check(recoveries <= kept and len(kept - recoveries) <= 1,
              "every old recovery (a success after a failure) kept raw, and at most the old site's latest",
              (len(recoveries), len(kept), sorted(kept - recoveries)[:3]))
        live = [r[0] for r in con.execute("SELECT checked_at FROM checks WHERE site_id = 1 AND checked_at > ?"
                                          " ORDER BY checked_at", (end,))]
        gaps = sorted(b - a for a, b in zip(live, live[1:]))
        check(len(live) > 5 and gaps[-2] <= 3 and gaps[-1] <= 15, "the live site checked every second "
              "throughout, the kill's restart aside", (len(live), gaps[-3:]))
        equal(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "the file is sound")
        con.close()
        with open(log) as f:
            err = f.read()
        check("summing the response times" in err, "the log says the backfill runs", err[-2000:])
    return done()


if __name__ == "__main__":
    sys.exit(main())
