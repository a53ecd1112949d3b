"""Alerts end to end: squirreld --once against a real HTTP server and a real
SMTP server on loopback. The exact mails received are asserted: how many, to
whom, their subjects; and what waits in the outbox when mail cannot go."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     squirreld, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, header_names, parse  # noqa: E402

OWNER = "ops@example.org"


def config(tmp, name, port, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = {FROM}\ntimeout = 3000\n")
        f.write("[check]\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def once(conf, db):
    return squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")


def set_url(db, site_id, url):
    con = sqlite3.connect(db)
    con.execute("UPDATE sites SET url = ? WHERE id = ?", (url, site_id))
    con.commit()
    con.close()


def outbox(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT kind, status, attempts FROM outbox ORDER BY id").fetchall()
    con.close()
    return rows


def subjects(srv):
    return [str(parse(raw)["Subject"]) for raw, _ in srv.messages()]


def test_down_then_up(tmp, httpd):
    with Smtpd(tmp, "smtp-downup") as smtp:
        conf = config(tmp, "downup.conf", smtp.port)
        db = new_db(tmp, "downup.db")
        sid = add_sites(db, [(httpd.url("/?status=503"), OWNER, {"name": "shop"})])[0]
        rc, out, err = once(conf, db)
        equal(rc, 0, "down/up: first failure, exit 0")
        equal(subjects(smtp), [], "down/up: no mail after one failure (fail_threshold 2)")
        rc, out, err = once(conf, db)
        equal(subjects(smtp), ["[squirrel] DOWN shop (http 503)"], "down/up: DOWN mail on the second failure")
        rc, out, err = once(conf, db)
        equal(len(smtp.messages()), 1, "down/up: no second DOWN mail while it stays down")
        set_url(db, sid, httpd.url("/?status=200"))
        rc, out, err = once(conf, db)
        subs = subjects(smtp)
        equal(len(subs), 2, "down/up: exactly two mails")
        check(len(subs) == 2 and re.fullmatch(r"\[squirrel\] UP shop after \d+s", subs[1]),
              "down/up: UP subject", subs)
        raw, meta = smtp.messages()[0]
        equal(meta["rcpt_tos"], [OWNER], "down/up: to the owner")
        body = raw.split(b"\r\n\r\n", 1)[1].decode()
        check(httpd.url("/?status=503") in body and "503" in body, "down/up: the body names the url and the status", body)
        equal([r[1] for r in outbox(db)], ["sent", "sent"], "down/up: both alerts marked sent")
        check("locations:" not in body, "down/up: one machine checked, no locations line", body)
        con = sqlite3.connect(db)
        equal(con.execute("SELECT count(*) FROM outbox WHERE locations IS NULL").fetchone()[0], 2,
              "down/up: no locations kept for a single-machine check")
        con.close()


def test_flap(tmp, httpd):
    with Smtpd(tmp, "smtp-flap") as smtp:
        conf = config(tmp, "flap.conf", smtp.port)
        db = new_db(tmp, "flap.db")
        sid = add_sites(db, [(httpd.url("/?status=200"), OWNER, {})])[0]
        once(conf, db)
        set_url(db, sid, httpd.url("/?status=500"))
        once(conf, db)
        set_url(db, sid, httpd.url("/?status=200"))
        once(conf, db)
        equal(subjects(smtp), [], "flap: one failure between good checks sends nothing")
        equal(outbox(db), [], "flap: nothing queued")


def test_digest(tmp, httpd):
    with Smtpd(tmp, "smtp-digest") as smtp:
        conf = config(tmp, "digest.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "digest.db")
        add_sites(db, [(httpd.url(f"/{i}?status=503"), OWNER, {}) for i in range(10)])
        add_sites(db, [(httpd.url("/other?status=503"), "other@example.org", {})])
        once(conf, db)
        msgs = smtp.messages()
        equal(len(msgs), 2, "digest: one mail per owner")
        by_rcpt = {tuple(m["rcpt_tos"]): str(parse(raw)["Subject"]) for raw, m in msgs}
        equal(by_rcpt.get((OWNER,)), "[squirrel] 10 sites DOWN", "digest: ten sites in one mail")
        check(by_rcpt.get(("other@example.org",), "").startswith("[squirrel] DOWN "),
              "digest: the other owner gets their own", by_rcpt)
        raw = [raw for raw, m in msgs if m["rcpt_tos"] == [OWNER]][0].decode()
        equal(sum(1 for i in range(10) if f"/{i}?status=503" in raw), 10, "digest: every site listed")


def test_server_down_then_up(tmp, httpd):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    p = port.getsockname()[1]
    port.close()
    conf = config(tmp, "later.conf", p, fail_threshold=1)
    db = new_db(tmp, "later.db")
    add_sites(db, [(httpd.url("/?status=503"), OWNER, {"name": "api"})])
    rc, out, err = once(conf, db)
    equal(rc, 0, "mail server down: --once still exits 0")
    check("1 alert(s) could not be sent and wait in the outbox" in err, "mail server down: said on stderr", err)
    equal(outbox(db), [("down", "pending", 1)], "mail server down: the alert waits")
    # the server comes back on that port
    with Smtpd(tmp, "smtp-later") as smtp:
        conf2 = config(tmp, "later2.conf", smtp.port, fail_threshold=1)
        rc, out, err = once(conf2, db)
        equal(subjects(smtp), ["[squirrel] DOWN api (http 503)"], "server back: the alert delivered")
        rc, out, err = once(conf2, db)
        equal(len(smtp.messages()), 1, "server back: delivered once, not again")
        equal(outbox(db), [("down", "sent", 2)], "server back: marked sent after two attempts")


def test_tempfail_then_ok(tmp, httpd):
    with Smtpd(tmp, "smtp-451", "--tempfail", "1") as smtp:
        conf = config(tmp, "451.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "451.db")
        add_sites(db, [(httpd.url("/?status=502"), OWNER, {"name": "web"})])
        rc, out, err = once(conf, db)
        check("451" in err, "451: the server's answer is logged", err)
        equal(outbox(db), [("down", "pending", 1)], "451: kept for a retry")
        once(conf, db)
        equal(subjects(smtp), ["[squirrel] DOWN web (http 502)"], "451 then success: delivered once")


def test_rejected_recipient(tmp, httpd):
    with Smtpd(tmp, "smtp-550", "--fail-rcpt", "gone@example.org") as smtp:
        conf = config(tmp, "550.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "550.db")
        add_sites(db, [(httpd.url("/?status=500"), "gone@example.org", {})])
        rc, out, err = once(conf, db)
        equal(rc, 0, "550: exit 0")
        equal(outbox(db), [("down", "failed", 1)], "550: failed at once, not retried")
        check("gone@example.org failed" in err and "550" in err, "550: logged with the answer", err)
        once(conf, db)
        rcpts = [e for e in smtp.events() if e.startswith("RCPT")]
        equal(len(rcpts), 1, "550: never tried again")


def test_hostile_values(tmp, httpd):
    with Smtpd(tmp, "smtp-hostile") as smtp:
        conf = config(tmp, "hostile.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "hostile.db")
        add_sites(db, [(httpd.url("/?status=503"), OWNER,
                        {"name": "evil\r\nBcc: thief@evil.example\r\nSubject: owned"})])
        once(conf, db)
        msgs = smtp.messages()
        equal(len(msgs), 1, "hostile name: one mail")
        if msgs:
            raw, meta = msgs[0]
            equal(meta["rcpt_tos"], [OWNER], "hostile name: no extra recipient")
            names = header_names(raw)
            equal(names.count("Subject"), 1, "hostile name: one Subject")
            check("Bcc" not in names, "hostile name: no injected Bcc", names)


def test_idn_owner(tmp, httpd):
    """An owner's internationalised domain written by hand (not through
    squirrelctl, which stores the ASCII form) is mailed in its ASCII form:
    the mail library has no SMTPUTF8."""
    with Smtpd(tmp, "smtp-idn") as smtp:
        conf = config(tmp, "idn.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "idn.db")
        add_sites(db, [(httpd.url("/?status=503"), "ops@b\u00fccher.example", {})])
        rc, out, err = once(conf, db)
        equal(rc, 0, "IDN owner: exit 0")
        check("skipped" not in err, "IDN owner: the site is not skipped", err)
        msgs = smtp.messages()
        equal([m["rcpt_tos"] for _, m in msgs], [["ops@xn--bcher-kva.example"]],
              "IDN owner: one mail, to the domain's ASCII form")
        if msgs:
            equal(str(parse(msgs[0][0])["To"]), "ops@xn--bcher-kva.example", "IDN owner: To: in ASCII")


def test_crash_before_delivery(tmp, httpd):
    """kill -9 while the alert waits for a hung mail server: delivered once after restart."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)          # accepts connections, never says a word
    conf = config(tmp, "crash.conf", hung.getsockname()[1], fail_threshold=1, interval=1)
    db = new_db(tmp, "crash.db")
    add_sites(db, [(httpd.url("/?status=503"), OWNER, {"name": "crashy"})])
    proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        queued = wait_for(lambda: outbox(db) != [], 20)
        check(queued, "crash: the alert is queued by the running daemon")
        time.sleep(0.5)
    finally:
        stop_pid(proc, signal.SIGKILL)
        proc.stderr.close()
        hung.close()
    equal([r[:2] for r in outbox(db)], [("down", "pending")], "crash: the alert survived kill -9")
    with Smtpd(tmp, "smtp-crash") as smtp:
        conf2 = config(tmp, "crash2.conf", smtp.port, fail_threshold=1)
        once(conf2, db)
        once(conf2, db)
        equal(subjects(smtp), ["[squirrel] DOWN crashy (http 503)"], "crash: delivered exactly once")


def test_slow_degraded(tmp, httpd):
    """Slow is degraded, not down: two slow answers (fail_threshold 2) send
    one DEGRADED mail, a fast one RECOVERED; --once prints slow; a site
    with alert_degraded 0 is degraded all the same, and mailed nothing."""
    with Smtpd(tmp, "smtp-slow") as smtp:
        conf = config(tmp, "slow.conf", smtp.port, slow_ms=200)
        db = new_db(tmp, "slow.db")
        sid, quiet = add_sites(db, [(httpd.url("/?status=200&delay=500&slow"), OWNER, {"name": "shop"}),
                                    (httpd.url("/?status=200&delay=500&quiet"), OWNER,
                                     {"name": "quiet", "alert_degraded": 0})])
        rc, out, err = once(conf, db)
        equal([l.split("\t")[1] for l in out.splitlines()], ["slow", "slow"], "slow: --once prints slow")
        equal(subjects(smtp), [], "slow: no mail after one slow check")
        rc, out, err = once(conf, db)
        subs = subjects(smtp)
        check(len(subs) == 1 and re.fullmatch(r"\[squirrel\] DEGRADED shop \(took \d+ ms, slow over 200 ms\)",
                                              subs[0]), "slow: one DEGRADED mail, saying how slow", subs)
        con = sqlite3.connect(db)
        equal(con.execute("SELECT site_id, state FROM site_state ORDER BY site_id").fetchall(),
              [(sid, "degraded"), (quiet, "degraded")], "slow: both sites degraded")
        equal(con.execute("SELECT count(*) FROM incidents").fetchone()[0], 0, "slow: no incident")
        con.close()
        body = smtp.messages()[0][0].split(b"\r\n\r\n", 1)[1].decode()
        check("DEGRADED (slow): shop" in body and "slow since:" in body, "slow: the DEGRADED body", body)
        rc, out, err = once(conf, db)
        equal(len(smtp.messages()), 1, "slow: no second mail while it stays slow")
        set_url(db, sid, httpd.url("/?status=200&fast"))
        set_url(db, quiet, httpd.url("/?status=200&fastquiet"))
        rc, out, err = once(conf, db)
        equal([l.split("\t")[1] for l in out.splitlines()], ["up", "up"], "slow: fast again prints up")
        subs = subjects(smtp)
        check(len(subs) == 2 and re.fullmatch(r"\[squirrel\] RECOVERED shop after \d+s", subs[1]),
              "slow: RECOVERED mail", subs)
        equal([r[0] for r in outbox(db)], ["degraded", "recovered"],
              "slow: the quiet site queued nothing, the other both kinds")
        equal([r[1] for r in outbox(db)], ["sent", "sent"], "slow: both sent")


def main():
    with tmpdir() as tmp:
        with Httpd(tmp) as httpd:
            test_down_then_up(tmp, httpd)
            test_flap(tmp, httpd)
            test_slow_degraded(tmp, httpd)
            test_digest(tmp, httpd)
            test_server_down_then_up(tmp, httpd)
            test_tempfail_then_ok(tmp, httpd)
            test_rejected_recipient(tmp, httpd)
            test_hostile_values(tmp, httpd)
            test_idn_owner(tmp, httpd)
            test_crash_before_delivery(tmp, httpd)
    return done()


if __name__ == "__main__":
    sys.exit(main())
