"""Schema 9 on a database of schema 8: the error class as a code and the
detail beside it. A version 8 history of several classes (unknown verdicts,
groups of several locations, libcurl's own words) and a pending alert of
three locations are opened by the new squirrelctl, then by squirreld: the
same uptime figures and the same words before the history is converted
(its rows read by their old text) and after (read by their code), every row
converted by the daemon's bounded batches, the pending alert mailed with its
groups in words, and a new check stored with its class."""

import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, CtlEnv, Httpd, check, done, equal, old_db, stop_pid,  # noqa: E402
                     tmpdir, wait_for)
from test_mail import FROM, Smtpd, body_of  # noqa: E402
from test_ctl import SCHEMA  # noqa: E402

OWNER = "ops@example.org"
# texts as version 8 wrote them; the classes they are read as (src/core/classes.c codes)
TEXTS = [
    ("", 1, 200, 0, ""),
    ("timeout", 0, 0, 10, ""),
    ("http 503", 0, 503, 1, ""),
    ("http 503 from a, b", 0, 503, 1, "http 503 from a, b"),
    ("unknown", 0, 0, 20, ""),
    ("unknown: no answer from c", 0, 0, 20, "unknown: no answer from c"),
    ("Weird thing", 0, 0, 19, "Weird thing"),
    ("unknown option", 0, 0, 19, "unknown option"),
    ("dns nxdomain", 0, 0, 3, ""),
]
MANY = 25000   # checks of the second site: three batches of 10,000


def v8_database(tmp):
    """A database of schema 8 with a history of every kind of text."""
    db = old_db(tmp, "v8.db", 8)
    now0 = int(time.time())
    con = sqlite3.connect(db)
    # disabled: only their history speaks of them
    con.execute("INSERT INTO sites (id, url, owner_email, name, interval_s, enabled) VALUES"
                " (1, 'http://127.0.0.1:9/one', ?, 'one', 60, 0),"
                " (2, 'http://127.0.0.1:9/two', ?, 'two', 60, 0)", (OWNER, OWNER))
    # site 1: each text in turn, a check a minute, from 3 h ago for an hour
    rows = [(1, now0 - 3 * 3600 + 60 * i, *TEXTS[i % len(TEXTS)][1:3], 100, TEXTS[i % len(TEXTS)][0])
            for i in range(60)]
    # site 2: a check a second, 7 h to 10 h ago, down one in seven
    rows += [(2, now0 - 10 * 3600 + i, int(i % 7 != 0), 200 if i % 7 else 503, 50,
              "" if i % 7 else ("http 503" if i % 3 else "unknown")) for i in range(MANY)]
    con.executemany("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, error)"
                    " VALUES (?, ?, ?, ?, ?, ?)", rows)
    first = con.execute("SELECT min(id) FROM checks WHERE error = 'http 503 from a, b'").fetchone()[0]
    con.executemany("INSERT INTO check_locations (check_id, location, ok, http_status, ms, error)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(first, "a", 0, 503, 10, "http 503"), (first, "b", 0, 503, 11, "http 503"),
                     (first, "c", 1, 200, 12, "")])
    con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, error, http_status,"
                " since, locations) VALUES (1, ?, 'down', ?, 'http://127.0.0.1:9/one', 'one', ?, 503, ?, ?)",
                (OWNER, now0 - 7200, "http 503 from a, b; timeout from c", now0 - 7300,
                 "down from 3 of 3 locations: a http 503, b http 503, c timeout"))
    # made on first use before version 9, as a coordinator of then did
    con.execute("CREATE TABLE IF NOT EXISTS coordinator_runs (prefix TEXT PRIMARY KEY,"
                " run TEXT NOT NULL, started_at INTEGER NOT NULL)")
    con.execute("INSERT INTO coordinator_runs VALUES ('squirrel', '00000000000000ab', 1)")
    con.commit()
    con.close()
    return db


def figures(e, db):
    """What squirrelctl says of sites 1 and 2: uptime figures and the history's words."""
    st = {r["id"]: (r["uptime_24h"], r["uptime_7d"], r["uptime_30d"], r["p50_ms"], r["p95_ms"])
          for r in e.json("status", db=db) if r["id"] in (1, 2)}
    hist = [(r["checked_at"], r["ok"], r["http_status"], r["error"])
            for r in e.json("history", "1", "--limit", "0", db=db)]
    return st, hist


def main():
    with tmpdir() as tmp, Httpd(tmp) as srv, Smtpd(tmp, "smtp-classes") as smtp:
        e = CtlEnv(tmp, "v8.db")
        db = v8_database(tmp)
        con = sqlite3.connect(db)
        counters = con.execute("SELECT * FROM site_counters ORDER BY 1").fetchall()
        hours = con.execute("SELECT * FROM uptime_hours WHERE up_s + down_s > 0 ORDER BY 1, 2").fetchall()
        con.close()

        rc, out, err = e.ctl("list", db=db)
        check(rc == 1 and "migrat" in err, "a reading command does not migrate version 8", err)
        rc, out, err = e.ctl("init", db=db)
        check(rc == 0 and f"schema version {SCHEMA}" in out, "init migrates version 8", err)
        con = sqlite3.connect(db)
        equal(con.execute("PRAGMA user_version").fetchone()[0], SCHEMA, f"version {SCHEMA}")
        equal(con.execute("SELECT prefix, run FROM coordinator_runs").fetchall(),
              [("squirrel", "00000000000000ab")], "the coordinator's runs of before are kept")
        equal(con.execute("SELECT count(*) FROM checks WHERE class IS NULL").fetchone()[0], 60 + MANY,
              "the history is left for later: no row converted by the migration")
        equal(con.execute("SELECT class, detail, http_status FROM outbox").fetchall(),
              [(1, "http 503 from a, b; timeout from c", 503)], "the outbox converted in the migration")
        equal(con.execute("SELECT n, class, http_status, locations FROM outbox_located ORDER BY n").fetchall(),
              [(0, 1, 503, "a, b"), (1, 10, 0, "c")], "its groups of several locations read once, as rows")
        con.close()

        before = figures(e, db)
        want = [TEXTS[i % len(TEXTS)][0] for i in range(60)][::-1]
        equal([h[3] for h in before[1]], want, "history before the conversion: the same words as version 8")
        check(all(0 < before[0][s][0] < 100 for s in (1, 2)), "uptime neither 0 nor 100", before[0])

        conf = os.path.join(tmp, "classes.conf")
        with open(conf, "w") as f:
            f.write(f"[smtp]\nhost = 127.0.0.1\nport = {smtp.port}\nfrom = {FROM}\n[check]\ninterval = 1\n")
        con = sqlite3.connect(db)
        con.execute("INSERT INTO sites (id, url, owner_email, name) VALUES (3, ?, ?, 'three')",
                    (srv.url("/?status=200"), OWNER))
        con.commit()
        con.close()
        errf = open(os.path.join(tmp, "classes.stderr"), "w+")
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
        try:
            def converted():
                c = sqlite3.connect(db, timeout=10)
                try:
                    return (c.execute("SELECT count(*) FROM checks WHERE class IS NULL").fetchone()[0] == 0 and
                            c.execute("SELECT count(*) FROM checks WHERE site_id = 3").fetchone()[0] > 0)
                finally:
                    c.close()
            check(wait_for(converted, 60), "the daemon converts the whole history while it checks")
            check(wait_for(lambda: len(smtp.messages()) == 1, 30), "the pending alert is mailed")
        finally:
            rc = stop_pid(proc)
        errf.seek(0)
        log = errf.read()
        errf.close()
        equal(rc, 0, "squirreld stops cleanly")
        check("Sanitizer" not in log and "runtime error" not in log, "no sanitizer report", log[-3000:])
        check("converting the history" in log and "history converted" in log,
              "the conversion is logged, start and end", log[-3000:])

        con = sqlite3.connect(db)
        equal(con.execute("SELECT class_backfill_below FROM settings").fetchone()[0], 0, "nothing left to convert")
        equal(con.execute("SELECT count(*) FROM check_locations WHERE class IS NULL").fetchone()[0], 0,
              "the locations' answers converted too")
        equal(con.execute("SELECT location, class, detail FROM check_locations ORDER BY 1").fetchall(),
              [("a", 1, ""), ("b", 1, ""), ("c", 0, "")], "each location's answer by its code")
        got = con.execute("SELECT ok, http_status, class, detail FROM checks WHERE site_id = 1"
                          " ORDER BY id LIMIT ?", (len(TEXTS),)).fetchall()
        equal(got, [t[1:] for t in TEXTS],
              "each text of version 8 read once into its class and detail")
        equal(con.execute("SELECT count(*) FROM checks WHERE site_id = 3 AND class IS NULL").fetchone()[0], 0,
              "a new check is stored with its class")
        equal(con.execute("SELECT class, detail FROM checks WHERE site_id = 3 ORDER BY id DESC LIMIT 1")
              .fetchone(), (0, ""), "a good check: class 0, no detail")
        equal(con.execute("SELECT * FROM site_counters WHERE site_id IN (1, 2) ORDER BY 1").fetchall(),
              counters, "the counters as version 8 counted them")
        # version 15 sums slow and maintenance time apart: none in version 8's history. An hour
        # that holds a check but no second of time (site 1's last check on the hour, its hold
        # still open: once in 3,600 runs) has a row now, for its check count: no uptime in it
        equal(con.execute("SELECT site_id, hour, up_s, down_s FROM uptime_hours WHERE site_id IN (1, 2)"
                          " AND up_s + down_s > 0 ORDER BY 1, 2").fetchall(), hours,
              "the roll-up as version 8 summed it")
        equal(con.execute("SELECT sum(slow_s), sum(maint_s) FROM uptime_hours").fetchone(), (0, 0),
              "no slow or maintenance time in a history from before they were marked")
        con.close()

        after = figures(e, db)
        strip = lambda f: ({k: v[:3] for k, v in f[0].items()}, f[1])  # noqa: E731
        equal(strip(after), strip(before), "uptime figures and words: the same after the conversion")
        # the response times of version 8's history: summed into its hours by the reporter
        equal([v[3:] for v in before[0].values()], [(None, None)] * 2,
              "before the daemon ran: no response times summed for the old history")
        con = sqlite3.connect(db)
        for sid, v in after[0].items():
            ms = sorted(r[0] for r in con.execute(
                "SELECT ms FROM checks WHERE site_id = ? AND ok = 1 AND checked_at >="
                " (CAST(strftime('%s', 'now') AS INTEGER) - 86400) / 3600 * 3600", (sid,)))
            want = tuple(ms[(len(ms) * p + 99) // 100 - 1] for p in (50, 95)) if ms else (None, None)
            check(want[0] is not None and all(abs(g - w) <= w / 32 for g, w in zip(v[3:], want)),
                  f"site {sid}: p50/p95 from the backfilled hours, within 1/32 of {want}", v[3:])
        con.close()

        raw = smtp.messages()[0][0]
        body = body_of(raw)
        check("  what failed:      the server answered HTTP 503 (seen from a, b); "
              "no answer within the timeout (seen from c)\r\n" in body,
              "the converted alert's groups in words", body)
        check("[squirrel] DOWN one (http 503 from a, b; timeout from c)" in raw.decode(),
              "the subject as version 8 wrote it", raw[:600])
    return done()


if __name__ == "__main__":
    sys.exit(main())
