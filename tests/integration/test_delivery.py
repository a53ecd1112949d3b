"""The outbox under a hostile world: squirreld against a real HTTP server, a
real SMTP server (tests/smtpd/smtpd.py) and a real SQLite file that another
connection locks or fills with nonsense. Each case asserts the exact mails
received."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     squirreld, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, parse  # noqa: E402

OWNER = "ops@example.org"
BUSY_TIMEOUT_S = 10   # the delivery thread's wait for a lock (src/store/store.c, BUSY_TIMEOUT_MS)


def config(tmp, name, port, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = {FROM}\ntimeout = 5000\n")
        f.write("[check]\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def subjects(srv):
    return [str(parse(raw)["Subject"]) for raw, _ in srv.messages()]


def status_of(db, site_id):
    con = sqlite3.connect(db, timeout=5)
    try:
        return [r[0] for r in con.execute("SELECT status FROM outbox WHERE site_id = ? ORDER BY id",
                                          (site_id,))]
    finally:
        con.close()


def test_lock_while_marking_sent(tmp, httpd):
    """A write lock held past the busy timeout across "mark sent": the mail
    is not sent again, neither alone nor inside the next digest."""
    with Smtpd(tmp, "smtp-lock", "--data-delay", "0.5") as smtp:
        conf = config(tmp, "lock.conf", smtp.port, fail_threshold=1, interval=1)
        db = new_db(tmp, "lock.db")
        a, b = add_sites(db, [(httpd.url("/a?status=503"), OWNER, {"name": "a"}),
                              (httpd.url("/b?status=200"), OWNER, {"name": "b"})])
        errf = open(os.path.join(tmp, "lock.stderr"), "w")
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
        try:
            started = time.monotonic()
            got = wait_for(lambda: "DATA in" in smtp.events(), 60)
            check(got, "lock: the DOWN mail of a reaches the server",
                  f"after {time.monotonic() - started:.1f} s; server events: {smtp.events()};"
                  f" outbox: {status_of(db, a)}")
            print(f"# the DOWN mail reached the server {time.monotonic() - started:.1f} s"
                  " after the start")
            # Another connection takes the write lock while the server holds
            # its answer, and keeps it past the delivery thread's busy timeout.
            con = sqlite3.connect(db, timeout=5, isolation_level=None)
            con.execute("BEGIN IMMEDIATE")
            time.sleep(BUSY_TIMEOUT_S + 4)
            con.execute("ROLLBACK")
            con.close()
            equal(subjects(smtp), ["[squirrel] DOWN a (http 503)"], "lock: one mail while locked")
            recorded = wait_for(lambda: status_of(db, a) == ["sent"], 20, step=0.2)
            check(recorded, "lock: a's alert is recorded as sent once the lock is gone", status_of(db, a))
            # A new alert makes a new round: a must not ride along again.
            con = sqlite3.connect(db, timeout=5)
            con.execute("UPDATE sites SET url = ? WHERE id = ?", (httpd.url("/b?status=503"), b))
            con.commit()
            con.close()
            wait_for(lambda: len(smtp.messages()) >= 2, 20, step=0.2)
            time.sleep(1)
            equal(subjects(smtp), ["[squirrel] DOWN a (http 503)", "[squirrel] DOWN b (http 503)"],
                  "lock: exactly one mail for a, then one for b")
            equal(status_of(db, a) + status_of(db, b), ["sent", "sent"], "lock: both recorded as sent")
        finally:
            rc = stop_pid(proc, signal.SIGTERM, timeout=30)
            errf.close()
        with open(errf.name) as f:
            err = f.read()
        equal(rc, 0, "lock: the daemon stops cleanly")
        check("Sanitizer" not in err and "runtime error" not in err, "lock: no sanitizer report", err[-3000:])
        check("delivered but not recorded" in err, "lock: the unrecorded delivery is logged", err[-2000:])


def test_huge_error_in_outbox(tmp):
    """185,000 location groups and a 2 MB locations line written into the
    outbox: the next start still runs and sends one mail, every line within
    SMTP's 998 bytes, ten groups in words and the rest counted."""
    with Smtpd(tmp, "smtp-huge") as smtp:
        conf = config(tmp, "huge.conf", smtp.port)
        db = new_db(tmp, "huge.db")
        groups = 3 * 1024 * 1024 // 17
        con = sqlite3.connect(db)
        alert = con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, class,"
                            " detail, http_status, locations) VALUES (1, ?, 'down', ?, 'http://127.0.0.1/',"
                            " 'huge', 1, 'http 503 from a', 503, ?)",
                            (OWNER, int(time.time()), "down from 3 of 3 locations: " + "x" * 2_000_000)).lastrowid
        con.executemany("INSERT INTO outbox_located (alert_id, n, class, http_status, locations)"
                        " VALUES (?, ?, 1, 503, 'a')", [(alert, n) for n in range(groups)])
        con.commit()
        con.close()
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
        equal(rc, 0, "huge error: --once runs and exits 0")
        check("Sanitizer" not in err and "runtime error" not in err, "huge error: no sanitizer report", err[-3000:])
        msgs = smtp.messages()
        equal(len(msgs), 1, "huge error: one mail sent")
        if msgs:
            raw = msgs[0][0]
            lines = raw.split(b"\r\n")
            longest = max(len(line) for line in lines)
            check(longest <= 998, f"huge error: no line over 998 bytes (longest {longest})")
            more = f"(seen from a); and {groups - 10} more\r\n".encode()
            check(more in raw, "huge error: ten groups read back, the rest counted", raw[:3000])
            check(len(raw) < 16384, f"huge error: a small mail ({len(raw)} bytes)")
        con = sqlite3.connect(db)
        equal(con.execute("SELECT status FROM outbox").fetchall(), [("sent",)], "huge error: recorded as sent")
        con.close()


def alert_ids(raw):
    return str(parse(raw).get("X-Squirrel-Alerts", "")).split()


def test_repeat_after_crash(tmp, httpd):
    """kill -9 after the server took the mail, before it was marked sent: the
    alert comes again inside a digest with a newer one, under a new
    Message-ID, and says which alert it is."""
    with Smtpd(tmp, "smtp-repeat", "--data-delay", "2") as smtp:
        conf = config(tmp, "repeat.conf", smtp.port, fail_threshold=1, interval=1)
        db = new_db(tmp, "repeat.db")
        a, b = add_sites(db, [(httpd.url("/a?status=503"), OWNER, {"name": "a"}),
                              (httpd.url("/b?status=200"), OWNER, {"name": "b"})])
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            check(wait_for(lambda: "DATA in" in smtp.events(), 20), "repeat: a's mail reaches the server")
        finally:
            stop_pid(proc, signal.SIGKILL)
        # The server keeps what it was given; the outbox never heard of it.
        check(wait_for(lambda: len(smtp.messages()) == 1, 10), "repeat: the server took the first mail")
        equal(status_of(db, a), ["pending"], "repeat: a's alert still pending after kill -9")
        con = sqlite3.connect(db)
        con.execute("UPDATE sites SET url = ? WHERE id = ?", (httpd.url("/b?status=503"), b))
        con.commit()
        con.close()
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
        equal(rc, 0, "repeat: --once exit 0")
        msgs = smtp.messages()
        equal([str(parse(raw)["Subject"]) for raw, _ in msgs],
              ["[squirrel] DOWN a (http 503)", "[squirrel] 2 sites DOWN"], "repeat: a again, in a digest with b")
        if len(msgs) == 2:
            first, second = msgs[0][0], msgs[1][0]
            con = sqlite3.connect(db)
            ids = [str(r[0]) for r in con.execute("SELECT id FROM outbox ORDER BY id")]
            con.close()
            equal(alert_ids(first), ids[:1], "repeat: the first mail names a's alert")
            equal(alert_ids(second), ids, "repeat: the digest names both alerts, a's first")
            check(parse(first)["Message-ID"] != parse(second)["Message-ID"], "repeat: a new Message-ID")
            line = f"  alert id:         {ids[0]}\r\n".encode()
            check(line in first and line in second, "repeat: a's item says its alert id in both mails")


def test_mailer_once_per_load(tmp, httpd):
    """The password is read once per configuration load (when mail is first
    due), not at every round: a password file removed after the first mail
    does not stop the next one; each mail still makes its own login."""
    with Smtpd(tmp, "smtp-once", "--auth", "alice:s3cret") as smtp:
        pw = os.path.join(tmp, "once.pw")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        os.chmod(pw, 0o600)
        conf = config(tmp, "once.conf", smtp.port, fail_threshold=1, interval=1)
        with open(conf) as f:
            text = f.read().replace("[check]\n", f"user = alice\npassword_file = {pw}\n[check]\n", 1)
        with open(conf, "w") as f:
            f.write(text)
        db = new_db(tmp, "once.db")
        a, b = add_sites(db, [(httpd.url("/a?status=503"), OWNER, {"name": "a"}),
                              (httpd.url("/b?status=200"), OWNER, {"name": "b"})])
        errf = open(os.path.join(tmp, "once.stderr"), "w")
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
        try:
            check(wait_for(lambda: len(smtp.messages()) == 1, 30, step=0.2),
                  "once: a's mail sent with the password", smtp.events())
            os.unlink(pw)
            con = sqlite3.connect(db, timeout=5)
            con.execute("UPDATE sites SET url = ? WHERE id = ?", (httpd.url("/b?status=503"), b))
            con.commit()
            con.close()
            check(wait_for(lambda: len(smtp.messages()) == 2, 30, step=0.2),
                  "once: b's mail sent too, the password file gone", open(errf.name).read())
        finally:
            stop_pid(proc)
            errf.close()
        equal(subjects(smtp), ["[squirrel] DOWN a (http 503)", "[squirrel] DOWN b (http 503)"],
              "once: both mails, in order")
        equal([env["auth"] for _, env in smtp.messages()], [True, True], "once: each mail logged in")
        err = open(errf.name).read()
        check("password_file" not in err, "once: the password file was not read again", err)


def test_due_soon(tmp):
    """An alert that waits for a retry a few seconds ahead (or one dated a
    little ahead of this clock) goes out when it is due, not at the next
    30-second look."""
    with Smtpd(tmp, "smtp-soon") as smtp:
        conf = config(tmp, "soon.conf", smtp.port)
        db = new_db(tmp, "soon.db")
        con = sqlite3.connect(db)
        due = int(time.time()) + 3
        con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, class,"
                    " detail, http_status, attempts, next_attempt) VALUES (1, ?, 'down', ?,"
                    " 'http://127.0.0.1:9/', 'soon', 1, '', 503, 1, ?)", (OWNER, due - 60, due))
        con.commit()
        con.close()
        errf = open(os.path.join(tmp, "soon.stderr"), "w")
        started = time.monotonic()
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
        try:
            sent = wait_for(lambda: len(smtp.messages()) == 1, 20, step=0.1)
            took = time.monotonic() - started
            check(sent and took < 10, f"soon: the alert due in 3 s went out after {took:.1f} s",
                  smtp.events())
            check(time.time() >= due - 1, "soon: not before it was due")
        finally:
            rc = stop_pid(proc, signal.SIGTERM, timeout=30)
            errf.close()
        equal(rc, 0, "soon: the daemon stops cleanly")
        equal(subjects(smtp), ["[squirrel] DOWN soon (http 503)"], "soon: the one mail")


def test_due_during_round(tmp):
    """An alert that falls due while a round is still sending another (a
    slow server) goes out when that round ends, not at the next 30-second
    look: only one due already when the round began and still pending
    waits for that look."""
    with Smtpd(tmp, "smtp-during", "--data-delay", "3") as smtp:
        conf = config(tmp, "during.conf", smtp.port)
        db = new_db(tmp, "during.db")
        con = sqlite3.connect(db)
        due = int(time.time()) + 3
        for owner, at in (("first@example.com", due), ("second@example.com", due + 1)):
            con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name,"
                        " class, detail, http_status, attempts, next_attempt) VALUES (1, ?, 'down',"
                        " ?, 'http://127.0.0.1:9/', 'during', 1, '', 503, 1, ?)", (owner, at - 60, at))
        con.commit()
        con.close()
        errf = open(os.path.join(tmp, "during.stderr"), "w")
        try:
            proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
            sent = wait_for(lambda: len(smtp.messages()) == 2, 40, step=0.1)
            late = time.time() - (due + 1)
            check(sent and late < 15, f"during: the second alert went out {late:.1f} s after it was"
                  " due (the first took 3 s to send)", smtp.events())
        finally:
            rc = stop_pid(proc, signal.SIGTERM, timeout=30)
            errf.close()
        equal(rc, 0, "during: the daemon stops cleanly")
        equal(sorted(m[1]["rcpt_tos"][0] for m in smtp.messages()) if sent else [],
              ["first@example.com", "second@example.com"], "during: one mail to each")


def test_retry_rides_along(tmp):
    """A DOWN waiting for its retry is not left behind by the UP that follows
    it: when an alert of an owner is due, that owner's pending alerts go in
    the same digest, oldest first, so nobody reads UP before its DOWN."""
    with Smtpd(tmp, "smtp-along") as smtp:
        conf = config(tmp, "along.conf", smtp.port)
        db = new_db(tmp, "along.db")
        con = sqlite3.connect(db)
        now = int(time.time())
        con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, class,"
                    " detail, http_status, attempts, next_attempt, last_error) VALUES (1, ?, 'down', ?,"
                    " 'http://127.0.0.1:9/', 'along', 1, '', 503, 1, ?, '451 try later')",
                    (OWNER, now - 30, now + 600))
        con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, class,"
                    " detail, http_status, since, next_attempt) VALUES (1, ?, 'up', ?,"
                    " 'http://127.0.0.1:9/', 'along', 0, '', 200, ?, ?)", (OWNER, now, now - 30, now))
        con.commit()
        con.close()
        errf = open(os.path.join(tmp, "along.stderr"), "w")
        try:
            proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
            sent = wait_for(lambda: len(smtp.messages()) >= 1, 20, step=0.1)
            time.sleep(1)
        finally:
            rc = stop_pid(proc, signal.SIGTERM, timeout=30)
            errf.close()
        equal(rc, 0, "along: the daemon stops cleanly")
        msgs = smtp.messages() if sent else []
        equal(len(msgs), 1, "along: one mail")
        body = msgs[0][0].decode(errors="replace") if msgs else ""
        down, up = body.find("DOWN: along"), body.find("UP again: along")
        check(0 <= down < up, "along: the DOWN waiting for its retry goes with the UP, before it", body[:1500])


def main():
    only = sys.argv[1:]
    with tmpdir() as tmp:
        with Httpd(tmp) as httpd:
            if not only or "lock" in only:
                test_lock_while_marking_sent(tmp, httpd)
            if not only or "repeat" in only:
                test_repeat_after_crash(tmp, httpd)
            if not only or "once" in only:
                test_mailer_once_per_load(tmp, httpd)
        if not only or "huge" in only:
            test_huge_error_in_outbox(tmp)
        if not only or "soon" in only:
            test_due_soon(tmp)
        if not only or "during" in only:
            test_due_during_round(tmp)
        if not only or "along" in only:
            test_retry_rides_along(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
