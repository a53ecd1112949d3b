"""Alerts that read as a conversation: squirreld against a real HTTP server
and a real SMTP server (tests/smtpd/smtpd.py) on loopback, and a real SQLite
file. The DOWNs of one owner's sites failing within [check] group_window go
as one mail, another owner's as their own; the UP and the reminders answer
the DOWN mail (In-Reply-To, References, read with python's email module);
group_window = 0 sends each at once as before; a restart inside the window
sends nothing twice."""

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
OTHER = "web@example.org"


def config(tmp, name, port, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = {FROM}\ntimeout = 5000\n")
        f.write("[check]\ninterval = 1\nretry_interval = 1\nfail_threshold = 1\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def query(db, sql, args=()):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def set_url(db, site_id, url):
    con = sqlite3.connect(db, timeout=10)
    con.execute("UPDATE sites SET url = ? WHERE id = ?", (url, site_id))
    con.commit()
    con.close()


def mails(smtp):
    """[(to, subject, message)] in the order received."""
    out = []
    for raw, meta in smtp.messages():
        msg = parse(raw)
        out.append((meta["rcpt_tos"], str(msg["Subject"]), msg))
    return out


def refs(msg):
    return str(msg["References"] or "").split()


class Daemon:
    """squirreld on one database, stopped by its PID."""

    def __init__(self, tmp, name, conf, db):
        self.errf = open(os.path.join(tmp, name + ".stderr"), "w")
        self.proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errf)

    def stop(self, sig=signal.SIGTERM):
        rc = stop_pid(self.proc, sig, timeout=30)
        self.errf.close()
        with open(self.errf.name) as f:
            return rc, f.read()


def clean(rc, err, what, sig=signal.SIGTERM):
    equal(rc, 0 if sig == signal.SIGTERM else -sig, f"{what}: the daemon stops as it was told")
    check("Sanitizer" not in err and "runtime error" not in err, f"{what}: no sanitizer report", err[-3000:])


def test_group_and_answer(tmp, httpd):
    """Three sites of one owner fail a second apart within the window: one
    mail listing the three; another owner's site: its own mail. A site that
    comes back: an UP mail at once, answering the DOWN mail."""
    window = 4
    with Smtpd(tmp, "smtp-group") as smtp:
        conf = config(tmp, "group.conf", smtp.port, group_window=window)
        db = new_db(tmp, "group.db")
        a1, a2, a3, b1 = add_sites(db, [
            (httpd.url("/a1?status=503"), OWNER, {"name": "a1"}),
            (httpd.url("/a2?status=200"), OWNER, {"name": "a2"}),
            (httpd.url("/a3?status=200"), OWNER, {"name": "a3"}),
            (httpd.url("/b1?status=503"), OTHER, {"name": "b1"})])
        d = Daemon(tmp, "group", conf, db)
        try:
            first = wait_for(lambda: query(db, "SELECT count(*) FROM outbox WHERE site_id = ?", (a1,))[0][0] == 1, 30)
            check(first, "group: a1's DOWN is queued")
            set_url(db, a2, httpd.url("/a2?status=503"))
            time.sleep(1)
            set_url(db, a3, httpd.url("/a3?status=503"))
            wait_for(lambda: len(smtp.messages()) >= 2, 30, step=0.1)
            time.sleep(window + 2)   # anything more would come within this
            got = mails(smtp)
            equal(sorted((to, subject) for to, subject, _ in got),
                  [([OWNER], "[squirrel] 3 sites DOWN"), ([OTHER], "[squirrel] DOWN b1 (http 503)")],
                  "group: one mail for the owner's three sites, one for the other owner's")
            digest = [m for to, _, m in got if to == [OWNER]]
            if digest:
                body = digest[0].get_content()
                check(all(f"DOWN: {n}" in body for n in ("a1", "a2", "a3")), "group: the mail lists a1, a2 and a3",
                      body)
            rows = query(db, "SELECT site_id, created_at, sent_at, next_attempt, message_id FROM outbox"
                         " WHERE kind = 'down' ORDER BY id")
            equal(len(rows), 4, "group: four DOWN alerts in the outbox")
            held = [r for r in rows if r[0] == a1]
            check(held and held[0][2] is not None and held[0][2] - held[0][1] >= window - 1 and
                  held[0][3] == held[0][1] + window,
                  f"group: a1's DOWN was held for the window ({window} s)", rows)
            ids = {r[0]: r[4] for r in rows}
            if digest:
                want = str(digest[0]["Message-ID"]).strip("<>")
                equal([ids[a1], ids[a2], ids[a3]], [want] * 3, "group: each alert keeps the Message-ID it went under")
                equal(query(db, "SELECT message_id FROM incidents WHERE site_id = ?", (a2,)), [(want,)],
                      "group: a2's incident keeps its DOWN mail's Message-ID")

            # a2 comes back: its UP goes at once and answers the DOWN mail
            set_url(db, a2, httpd.url("/a2?status=200"))
            wait_for(lambda: len(smtp.messages()) >= 3, 30, step=0.1)
            time.sleep(1)
            got = mails(smtp)
            equal(len(got), 3, "up: one more mail")
            if len(got) == 3 and digest:
                to, subject, up = got[2]
                equal((to, subject.split(" after ")[0]), ([OWNER], "[squirrel] UP a2"), "up: the UP mail of a2")
                equal(str(up["In-Reply-To"]), str(digest[0]["Message-ID"]), "up: In-Reply-To is the DOWN mail")
                equal(refs(up), [str(digest[0]["Message-ID"])], "up: References is the DOWN mail")
                check(str(up["Message-ID"]) != str(digest[0]["Message-ID"]), "up: a Message-ID of its own")
                row = query(db, "SELECT created_at, sent_at FROM outbox WHERE kind = 'up'")
                check(len(row) == 1 and row[0][1] - row[0][0] <= 1, "up: not held", row)
        finally:
            rc, err = d.stop()
        clean(rc, err, "group")


def test_window_zero(tmp, httpd):
    """group_window = 0: each DOWN goes at once, in its own mail, as before."""
    with Smtpd(tmp, "smtp-zero") as smtp:
        conf = config(tmp, "zero.conf", smtp.port, group_window=0)
        db = new_db(tmp, "zero.db")
        a1, a2 = add_sites(db, [(httpd.url("/z1?status=503"), OWNER, {"name": "z1"}),
                                (httpd.url("/z2?status=200"), OWNER, {"name": "z2"})])
        d = Daemon(tmp, "zero", conf, db)
        try:
            wait_for(lambda: len(smtp.messages()) >= 1, 30, step=0.1)
            set_url(db, a2, httpd.url("/z2?status=503"))
            wait_for(lambda: len(smtp.messages()) >= 2, 30, step=0.1)
            time.sleep(2)
            equal([s for _, s, _ in mails(smtp)], ["[squirrel] DOWN z1 (http 503)", "[squirrel] DOWN z2 (http 503)"],
                  "zero: one mail per DOWN")
            rows = query(db, "SELECT created_at, next_attempt, sent_at FROM outbox ORDER BY id")
            check(len(rows) == 2 and all(r[1] == r[0] and r[2] - r[0] <= 1 for r in rows),
                  "zero: each due when made, sent at once", rows)
        finally:
            rc, err = d.stop()
        clean(rc, err, "zero")


def test_restart_in_window(tmp, httpd):
    """A crash inside the window: the next start sends the held alerts once,
    when they are due; a stop inside the window sends them at the stop, and
    the next start sends nothing more."""
    window = 6
    with Smtpd(tmp, "smtp-crash") as smtp:
        conf = config(tmp, "crash.conf", smtp.port, group_window=window)
        db = new_db(tmp, "crash.db")
        add_sites(db, [(httpd.url("/c1?status=503"), OWNER, {"name": "c1"}),
                       (httpd.url("/c2?status=503"), OWNER, {"name": "c2"})])
        d = Daemon(tmp, "crash1", conf, db)
        try:
            queued = wait_for(lambda: query(db, "SELECT count(*) FROM outbox")[0][0] == 2, 30, step=0.1)
            check(queued, "crash: both DOWNs queued")
        finally:
            rc, err = d.stop(signal.SIGKILL)
        clean(rc, err, "crash", signal.SIGKILL)
        equal(len(smtp.messages()), 0, "crash: nothing sent before the window ends")
        d = Daemon(tmp, "crash2", conf, db)
        try:
            wait_for(lambda: len(smtp.messages()) >= 1, window + 20, step=0.1)
            time.sleep(3)
            equal([s for _, s, _ in mails(smtp)], ["[squirrel] 2 sites DOWN"], "crash: one mail for both, once")
            rows = query(db, "SELECT status, sent_at - created_at FROM outbox ORDER BY id")
            check(len(rows) == 2 and all(r[0] == "sent" and r[1] >= window - 1 for r in rows),
                  "crash: both sent, when the window ended", rows)
        finally:
            rc, err = d.stop()
        clean(rc, err, "crash: the second start")

    with Smtpd(tmp, "smtp-stop") as smtp:
        conf = config(tmp, "stop.conf", smtp.port, group_window=600)
        db = new_db(tmp, "stop.db")
        add_sites(db, [(httpd.url("/s1?status=503"), OWNER, {"name": "s1"}),
                       (httpd.url("/s2?status=503"), OWNER, {"name": "s2"})])
        d = Daemon(tmp, "stop1", conf, db)
        try:
            wait_for(lambda: query(db, "SELECT count(*) FROM outbox")[0][0] == 2, 30, step=0.1)
            time.sleep(0.5)
            equal(len(smtp.messages()), 0, "stop: nothing sent inside the window")
        finally:
            rc, err = d.stop()
        clean(rc, err, "stop")
        equal([s for _, s, _ in mails(smtp)], ["[squirrel] 2 sites DOWN"], "stop: the held mail goes at the stop")
        d = Daemon(tmp, "stop2", conf, db)
        try:
            time.sleep(4)
            equal(len(smtp.messages()), 1, "stop: the next start sends nothing twice")
        finally:
            rc, err = d.stop()
        clean(rc, err, "stop: the second start")


def test_conversation(tmp, httpd):
    """squirreld --once, run after run: two sites DOWN in two mails; their
    reminders and then their UPs in one digest each, In-Reply-To the later
    DOWN mail, References both, oldest first. --once sends at the end of
    its pass, whatever the window."""
    with Smtpd(tmp, "smtp-conv") as smtp:
        conf = config(tmp, "conv.conf", smtp.port, group_window=600)
        remind = config(tmp, "conv-remind.conf", smtp.port, group_window=600, remind_every=1)
        db = new_db(tmp, "conv.db")
        x, y = add_sites(db, [(httpd.url("/x?status=503"), OWNER, {"name": "x"}),
                              (httpd.url("/y?status=200"), OWNER, {"name": "y"})])

        def once(c):
            rc, out, err = squirreld("--once", "--config", c, "--db", db, "--backend", "serial")
            check(rc == 0 and "Sanitizer" not in err and "runtime error" not in err, "conversation: --once runs",
                  err[-2000:])

        once(conf)
        set_url(db, y, httpd.url("/y?status=503"))
        time.sleep(1.1)
        once(conf)
        time.sleep(1.1)
        once(remind)
        set_url(db, x, httpd.url("/x?status=200"))
        set_url(db, y, httpd.url("/y?status=200"))
        once(conf)
        got = mails(smtp)
        equal([s for _, s, _ in got], ["[squirrel] DOWN x (http 503)", "[squirrel] DOWN y (http 503)",
                                        "[squirrel] 2 sites STILL DOWN", "[squirrel] 2 sites UP"],
              "conversation: DOWN x, DOWN y, their reminders, their UPs")
        if len(got) == 4:
            m1, m2 = str(got[0][2]["Message-ID"]), str(got[1][2]["Message-ID"])
            check(m1 != m2, "conversation: two DOWN mails, two Message-IDs")
            for what, msg in (("DOWN x", got[0][2]), ("DOWN y", got[1][2])):
                check(msg["In-Reply-To"] is None and msg["References"] is None,
                      f"conversation: {what} opens a thread")
            for what, msg in (("reminders", got[2][2]), ("UPs", got[3][2])):
                equal(str(msg["In-Reply-To"]), m2, f"conversation: the {what} answer the later DOWN mail")
                equal(refs(msg), [m1, m2], f"conversation: the {what} reference both, oldest first")
            body = got[2][2].get_content()
            check(all(f"STILL DOWN: {n}" in body for n in ("x", "y")), "conversation: the reminder mail is about x and y",
                  body)


def test_hostile_id(tmp, httpd):
    """A Message-ID written into the database by hand that is not one of
    ours (its CHECK dropped): the UP still goes, answering nothing, and the
    log says why."""
    with Smtpd(tmp, "smtp-hostile") as smtp:
        conf = config(tmp, "hostile.conf", smtp.port)
        db = new_db(tmp, "hostile.db")
        h = add_sites(db, [(httpd.url("/h?status=503"), OWNER, {"name": "h"})])[0]
        squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
        con = sqlite3.connect(db)
        cookie = con.execute("PRAGMA schema_version").fetchone()[0]
        con.execute("PRAGMA writable_schema = ON")
        con.execute("UPDATE sqlite_master SET sql = replace(sql, 'CHECK (message_id IS NULL',"
                    " 'CHECK (1 OR message_id IS NULL') WHERE name = 'incidents'")
        con.execute("PRAGMA writable_schema = OFF")
        con.execute(f"PRAGMA schema_version = {cookie + 1}")
        con.commit()
        con.close()
        con = sqlite3.connect(db)
        con.execute("UPDATE incidents SET message_id = ? WHERE site_id = ?",
                    ("x@example.org>\r\nBcc: evil@example.org", h))
        con.commit()
        con.close()
        set_url(db, h, httpd.url("/h?status=200"))
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
        got = mails(smtp)
        equal([s.split(" after ")[0] for _, s, _ in got], ["[squirrel] DOWN h (http 503)", "[squirrel] UP h"],
              "hostile id: the UP goes")
        if len(got) == 2:
            raw = smtp.messages()[1][0]
            check(b"evil" not in raw and got[1][2]["In-Reply-To"] is None and got[1][2]["References"] is None,
                  "hostile id: no header carries it", raw[:600])
            equal(got[1][0], [OWNER], "hostile id: the one recipient")
        check("is not one squirrel makes" in err, "hostile id: the log says so", err[-2000:])


def main():
    with tmpdir() as tmp, Httpd(tmp) as httpd:
        test_group_and_answer(tmp, httpd)
        test_window_zero(tmp, httpd)
        test_restart_in_window(tmp, httpd)
        test_conversation(tmp, httpd)
        test_hostile_id(tmp, httpd)
    return done()


if __name__ == "__main__":
    sys.exit(main())
