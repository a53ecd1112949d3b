"""When the monitor itself is cut off: every site on one test HTTP server
that is stopped (by its PID) mid-run, a real SMTP server, real SQLite files.
What is asserted is what people get: one mail to [alerts] admin, no mail to
any owner while the monitor cannot tell, and the right DOWN mails for the
sites still down once the network is back; squirreld killed (kill -9) and
started again during the hold sends nothing twice; --once prints `unknown` for what it held;
fewer than outage_min sites never trip the rule; a canary that fails
trips it alone."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, free_port,  # noqa: E402
                     new_db, parse_once, squirreld, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, parse  # noqa: E402

ADMIN = "admin@example.org"
NSITES = 12
STILL_DOWN = 3          # the sites the restarted server no longer answers for


def config(tmp, name, smtp_port, admin=ADMIN, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {smtp_port}\nfrom = {FROM}\ntimeout = 3000\n")
        if admin:
            f.write(f"[alerts]\nadmin = {admin}\n")
        f.write("[check]\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def owner(i):
    return f"owner{i}@example.org"


def mails(smtp):
    """[(recipients, subject)] in the order received."""
    return [(tuple(m["rcpt_tos"]), str(parse(raw)["Subject"])) for raw, m in smtp.messages()]


def site_mails(smtp):
    return [m for m in mails(smtp) if m[0] != (ADMIN,)]


def admin_mails(smtp):
    return [m for m in mails(smtp) if m[0] == (ADMIN,)]


def query(db, sql, *args):
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def once(conf, db):
    return squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")


def test_once_refused(tmp, httpd):
    """--once with every site refused: `unknown` lines, one admin mail, none to owners."""
    with Smtpd(tmp, "smtp-once") as smtp:
        conf = config(tmp, "once.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "once.db")
        dead = free_port()
        ids = add_sites(db, [(f"http://127.0.0.1:{dead}/{i}", owner(i), {}) for i in range(NSITES)])
        rc, out, err = once(conf, db)
        equal(rc, 0, "once: exit 0")
        res = parse_once(out)
        equal(sorted(res), sorted(ids), "once: a line per site")
        equal({r[0] for r in res.values()}, {"unknown"}, "once: every line says unknown")
        equal({r[4] for r in res.values()}, {"unknown outage: connect refused"},
              "once: with what was seen")
        equal(len(admin_mails(smtp)), 1, "once: one mail to the admin")
        check(admin_mails(smtp)[0][1].startswith("[squirrel] MONITOR OUTAGE"),
              "once: saying the monitor is cut off", mails(smtp))
        body = smtp.messages()[0][0].decode()
        check(f"{NSITES} of {NSITES} sites checked in 60 s failed with a network error" in body,
              "once: the admin's mail says what was seen", body)
        equal(site_mails(smtp), [], "once: no mail to any owner")
        equal(query(db, "SELECT count(*) FROM checks WHERE class = 31")[0][0], NSITES,
              "once: the history keeps them as unknown outage")
        equal(query(db, "SELECT count(*) FROM site_state WHERE state = 'down'")[0][0], 0,
              "once: no site down")
        check("squirrel's own network seems cut off" in err, "once: the log says so", err)

        # the next pass, the sites answering again: the hold ends, nobody else is mailed
        con = sqlite3.connect(db)
        for i, sid in enumerate(ids):
            con.execute("UPDATE sites SET url = ? WHERE id = ?", (httpd.url(f"/?back={i}"), sid))
        con.commit()
        con.close()
        rc, out, err = once(conf, db)
        equal({r[0] for r in parse_once(out).values()}, {"up"}, "once: all up again")
        equal(query(db, "SELECT count(*) FROM outages WHERE ended_at IS NOT NULL")[0][0], 1,
              "once: the outage is over")
        equal(len(mails(smtp)), 1, "once: still the one mail only")


def test_once_few(tmp):
    """Fewer than outage_min sites never trip the rule, all refused as they are."""
    with Smtpd(tmp, "smtp-few") as smtp:
        conf = config(tmp, "few.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "few.db")
        dead = free_port()
        add_sites(db, [(f"http://127.0.0.1:{dead}/{i}", owner(i), {}) for i in range(9)])
        rc, out, err = once(conf, db)
        res = parse_once(out)
        equal({r[0] for r in res.values()}, {"down"}, "few: 9 sites refused are down")
        equal({r[4] for r in res.values()}, {"connect refused"}, "few: connect refused")
        equal(len(site_mails(smtp)), 9, "few: each owner told")
        equal(admin_mails(smtp), [], "few: no admin mail")
        equal(query(db, "SELECT count(*) FROM outages")[0][0], 0, "few: no outage")


def test_once_canary(tmp, httpd):
    """A canary that fails trips the rule alone: a site's 503 is then unknown."""
    with Smtpd(tmp, "smtp-canary") as smtp:
        conf = config(tmp, "canary.conf", smtp.port, fail_threshold=1,
                      canary=f"http://127.0.0.1:{free_port()}/canary")
        db = new_db(tmp, "canary.db")
        up, bad = add_sites(db, [(httpd.url("/?c=up"), owner(1), {}),
                                 (httpd.url("/?status=503&c=bad"), owner(2), {})])
        rc, out, err = once(conf, db)
        res = parse_once(out)
        equal((res[up][0], res[bad][0], res[bad][4]), ("up", "unknown", "unknown outage: http 503"),
              "canary: the site up is up, the failing one unknown")
        equal([m[0] for m in mails(smtp)], [(ADMIN,)], "canary: the admin alone is told")
        check("every canary failed (1 of 1)" in smtp.messages()[0][0].decode(),
              "canary: saying the canary failed")
        equal(query(db, "SELECT count(*) FROM checks")[0][0], 2, "canary: not in the history")


def start(conf, db, log):
    return subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)


def test_daemon(tmp):
    """The server of every site stopped mid-run, squirreld restarted during
    the hold, the server back for all but three sites."""
    with Smtpd(tmp, "smtp-daemon") as smtp:
        conf = config(tmp, "daemon.conf", smtp.port, interval=1, retry_interval=1,
                      fail_threshold=3, timeout=2000, connect_timeout=1000, outage_window=10)
        db = new_db(tmp, "daemon.db")
        log = open(os.path.join(tmp, "daemon.log"), "w+")
        # one server, twelve loopback addresses: a site each
        httpd = Httpd(tmp, "--listen", "127.0.0.1", "--count", str(NSITES))
        port = httpd.port
        ids = add_sites(db, [(f"http://127.0.0.{i + 1}:{port}/", owner(i), {})
                             for i in range(NSITES)])
        proc = start(conf, db, log)
        try:
            up = wait_for(lambda: query(db, "SELECT count(*) FROM site_state WHERE state = 'up'")
                          [0][0] == NSITES, 20, 0.1)
            check(up, "daemon: every site up")

            httpd.stop()                      # by its PID: the network of every site is gone
            began = wait_for(lambda: query(db, "SELECT count(*) FROM outages")[0][0] == 1, 20, 0.1)
            check(began, "daemon: the outage is seen")
            check(wait_for(lambda: len(admin_mails(smtp)) == 1, 20, 0.1), "daemon: the admin is told")
            time.sleep(4)                     # several checks of every site during the hold
            held = query(db, "SELECT count(DISTINCT site_id) FROM checks WHERE class = 31")[0][0]
            equal(held, NSITES, "daemon: every site's failures recorded unknown")
            equal(site_mails(smtp), [], "daemon: no owner mailed during the hold")

            # squirreld killed during the hold (kill -9, a crash), then started again:
            # the hold stays, nothing is sent again
            equal(stop_pid(proc, signal.SIGKILL), -signal.SIGKILL, "daemon: killed during the hold")
            proc = start(conf, db, log)
            time.sleep(3)
            equal(query(db, "SELECT count(*) FROM outages WHERE ended_at IS NULL")[0][0], 1,
                  "daemon: after the restart, still held")
            equal(len(admin_mails(smtp)), 1, "daemon: after the restart, no second admin mail")
            equal(query(db, "SELECT count(*) FROM outbox WHERE kind = 'outage'")[0][0], 1,
                  "daemon: one outage alert in the outbox")
            equal(site_mails(smtp), [], "daemon: after the restart, no owner mailed")

            # the server back, on the same port, for all but the last three addresses
            httpd = Httpd(tmp, "--listen", "127.0.0.1", "--count", str(NSITES - STILL_DOWN),
                          "--port", str(port))
            ended = wait_for(lambda: query(db, "SELECT count(*) FROM outages WHERE ended_at IS "
                                           "NOT NULL")[0][0] == 1, 20, 0.1)
            check(ended, "daemon: the outage ends when checks succeed again")
            want = sorted((owner(i),) for i in range(NSITES - STILL_DOWN, NSITES))
            got = wait_for(lambda: len(site_mails(smtp)) >= STILL_DOWN, 30, 0.1)
            if not got:
                log.seek(0)
                why = "\n".join([str(mails(smtp))] + [str(r) for r in query(
                    db, "SELECT id, site_id, kind, status, created_at, next_attempt, attempts, fresh,"
                    " strftime('%s', 'now') FROM outbox")] + log.read().splitlines()[-40:])
            check(got, "daemon: the sites still down are mailed", why if not got else "")
            time.sleep(3)                     # anything more would come now
            equal(sorted(m[0] for m in site_mails(smtp)), want,
                  "daemon: one mail to each owner of a site still down, none to the others")
            check(all(s.startswith("[squirrel] DOWN ") for _, s in site_mails(smtp)),
                  "daemon: DOWN mails", site_mails(smtp))
            equal(len(admin_mails(smtp)), 1, "daemon: the admin still told once")
            end = query(db, "SELECT ended_at FROM outages")[0][0]
            for i in range(NSITES - STILL_DOWN, NSITES):
                sid = ids[i]
                created = query(db, "SELECT created_at FROM outbox WHERE site_id = ? AND "
                                "kind = 'down'", sid)
                equal(len(created), 1, f"daemon: site {sid}: one DOWN alert")
                fresh = query(db, "SELECT count(*) FROM checks WHERE site_id = ? AND ok = 0 AND "
                              "class <> 31 AND checked_at >= ? AND checked_at <= ?",
                              sid, end, created[0][0] if created else 0)[0][0]
                check(fresh >= 3, f"daemon: site {sid}: DOWN after fail_threshold (3) fresh checks",
                      f"{fresh} fresh failures before it")
            equal(query(db, "SELECT count(*) FROM outbox WHERE kind = 'up' OR status IN "
                        "('held', 'cancelled')")[0][0], 0, "daemon: no UP, nothing held left")
        finally:
            stop_pid(proc)
            httpd.stop()
            log.seek(0)
            text = log.read()
            log.close()
        check("squirrel's own network seems cut off" in text and
              "the monitor's outage is over" in text, "daemon: the log says both", text[-3000:])


def main():
    with tmpdir() as tmp:
        with Httpd(tmp) as httpd:
            test_once_refused(tmp, httpd)
            test_once_canary(tmp, httpd)
        test_once_few(tmp)
        test_daemon(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
