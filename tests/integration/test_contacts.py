"""Contacts: where alerts go besides a site's owner. squirrelctl's contact
verbs and their bad inputs; then squirreld against a real HTTP sink
(tests/sink/sink.py, which records every request), a real SMTP server and a
real SQLite file: each kind's request (the webhook's body, headers and
signature, verified here), the digest per contact, retries (500 then 200
with the same key, 429's Retry-After), a 400 failed at once, a hanging
receiver beside a healthy one, and a kill -9 between sending and marking."""

import base64
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELCTL, SQUIRRELD, Httpd, check, done, equal, run,  # noqa: E402
                     stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd  # noqa: E402

PYTHON = "/usr/bin/python3"
SINK = os.environ.get("SQ_SINK", "tests/sink/sink.py")
OWNER = "owner@example.org"
SECRET = "s3cret key"


class Sink:
    """sink.py on a free loopback port, stopped by its PID."""

    def __init__(self, tmp, name):
        self.log = os.path.join(tmp, name + ".log")
        port_file = os.path.join(tmp, name + ".port")
        self.proc = subprocess.Popen([PYTHON, SINK, "--port-file", port_file, "--log", self.log],
                                     stdin=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None, 20)
        if self.proc.poll() is not None:
            raise RuntimeError("sink.py did not start")
        with open(port_file) as f:
            self.port = int(f.read())

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path=None):
        try:
            with open(self.log) as f:
                recs = [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []
        for r in recs:
            r["raw"] = base64.b64decode(r["body"])
        return [r for r in recs if path is None or r["path"] == path]

    def stop(self):
        stop_pid(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def ctl(conf, db, *args):
    return run([SQUIRRELCTL, "--config", conf, "--db", db, *args])


def outbox(db, what="contact_id, status, attempts, last_error"):
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute(f"SELECT {what} FROM outbox ORDER BY id").fetchall()
    finally:
        con.close()


def by_contact(db):
    """{contact name: (status, attempts, last_error)} of the contacts' rows."""
    con = sqlite3.connect(db, timeout=5)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT c.name, o.status, o.attempts, o.last_error FROM outbox o"
            " JOIN contacts c ON c.id = o.contact_id ORDER BY o.id")}
    finally:
        con.close()


def config(tmp, name, smtp_port, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {smtp_port}\nfrom = {FROM}\ntimeout = 5000\n")
        f.write("[check]\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def clean(err, what):
    check("Sanitizer" not in err and "runtime error" not in err, f"{what}: no sanitizer report",
          err[-3000:])


def test_ctl(tmp, sink):
    conf = config(tmp, "ctl.conf", 9)
    db = os.path.join(tmp, "ctl.db")
    equal(ctl(conf, db, "init")[0], 0, "ctl: init")
    secret = os.path.join(tmp, "secret")
    with open(secret, "w") as f:
        f.write(SECRET + "\n")
    os.chmod(secret, 0o600)
    token = "T0k3nT0k3nT0k3nT0k3n"
    rc, out, err = ctl(conf, db, "contact", "add", "hook", "webhook",
                       sink.url(f"/hooks/{token}?key=abc"), "--secret-file", secret,
                       "--kinds", "down,up")
    equal(rc, 0, "ctl: contact add webhook")
    check(token not in out and "abc" not in out and "…" in out, "ctl: the token is shown as …", out)
    rc, out, err = ctl(conf, db, "contact", "add", "team", "chat", sink.url("/s/200/chat"),
                       "--every-site")
    equal(rc, 0, "ctl: contact add chat --every-site")
    equal(ctl(conf, db, "contact", "add", "oncall", "email", "oncall@example.org")[0], 0,
          "ctl: contact add email")
    rc, out, err = ctl(conf, db, "contact", "list", "--json")
    rows = json.loads(out) if rc == 0 else []
    equal([(r["name"], r["kind"], r["every_site"], r["kinds"], r["secret_file"]) for r in rows],
          [("hook", "webhook", False, "down,up", secret), ("oncall", "email", False, None, None),
           ("team", "chat", True, None, None)], "ctl: contact list")
    check(token not in out, "ctl: no token in contact list --json", out)

    before = outbox(db, "count(*)") + [len(open(db, "rb").read())]
    bad = [
        (["contact", "add", "hook", "chat", sink.url("/x")], 1, "there is a contact 'hook' already"),
        (["contact", "add", "x", "pager", "https://a.example/"], 2, "unknown kind 'pager'"),
        (["contact", "add", "x", "webhook", "http://example.com/h"], 2, "use https"),
        (["contact", "add", "x", "webhook", "ftp://127.0.0.1/h"], 2, "only http and https"),
        (["contact", "add", "x", "webhook", "not a url"], 2, "not a url"),
        (["contact", "add", "x", "email", "nobody"], 2, "is not an owner address"),
        (["contact", "add", "bad name", "chat", sink.url("/x")], 2, "is not a contact name"),
        (["contact", "add", "x", "chat", sink.url("/x"), "--kinds", "down,later"], 2,
         "'later' is not an alert kind"),
        (["contact", "add", "x", "chat", sink.url("/x"), "--secret-file", secret], 2,
         "--secret-file is for webhook"),
        (["contact", "add", "x", "webhook", sink.url("/x"), "--secret-file", "/nonexistent/s"], 2,
         "No such file"),
        (["contact", "add", "x", "sms", "5551234567", "--sender", "+15557654321", "--api",
          "https://api.example/", "--secret-file", secret], 2, "not a phone number"),
        (["contact", "add", "x", "sms", "+15551234567", "--sender", "+15557654321"], 2,
         "an sms contact needs --api URL"),
        (["contact", "add", "x", "sms", "+15551234567", "--sender", "+15557654321", "--api",
          "http://api.example/", "--secret-file", secret], 2, "--api 'http://api.example/': http to"),
        (["contact", "add", "x", "webhook", sink.url("/x"), "--sender", "+15557654321"], 2,
         "--sender and --api are for sms"),
        (["contact", "rm", "nobody"], 1, "no contact 'nobody'"),
        (["contact", "test", "nobody"], 1, "no contact 'nobody'"),
        (["contact", "frob"], 2, "unknown verb 'frob'"),
        (["contact", "list", "--every-site"], 2, "belong to contact add"),
        (["list", "--contact", "hook"], 2, "list does not take --contact"),
        (["add", "https://example.com/", OWNER, "--contact", "nobody"], 1, "no contact 'nobody'"),
    ]
    shared = os.path.join(tmp, "shared")
    with open(shared, "w") as f:
        f.write("x\n")
    os.chmod(shared, 0o644)
    bad.append((["contact", "add", "x", "webhook", sink.url("/x"), "--secret-file", shared], 2,
                "has mode 0644"))
    for args, want_rc, want_err in bad:
        rc, out, err = ctl(conf, db, *args)
        check(rc == want_rc and want_err in err, f"ctl: {' '.join(args)[:60]} refused ({want_err})",
              f"rc={rc} err={err!r}")
    rc, out, err = ctl(conf, db, "list", "--json")
    equal(json.loads(out), [], "ctl: the bad add wrote no site")
    equal(len(json.loads(ctl(conf, db, "contact", "list", "--json")[1])), 3,
          "ctl: the bad contacts wrote nothing")

    rc, out, err = ctl(conf, db, "add", "https://example.com/", OWNER, "--contact", "hook",
                       "--contact", "oncall")
    equal(rc, 0, "ctl: add --contact hook --contact oncall")
    con = sqlite3.connect(db)
    links = con.execute("SELECT c.name FROM site_contacts l JOIN contacts c ON c.id = l.contact_id"
                        " ORDER BY c.name").fetchall()
    con.close()
    equal(links, [("hook",), ("oncall",)], "ctl: the site is linked to both")
    equal(ctl(conf, db, "edit", "1", "--contact", "team")[0], 0, "ctl: edit --contact team")
    rows = json.loads(ctl(conf, db, "contact", "list", "--json")[1])
    equal({r["name"]: r["sites"] for r in rows}, {"hook": 0, "oncall": 0, "team": 1},
          "ctl: edit --contact replaces the links")
    equal(ctl(conf, db, "edit", "1", "--contact", "none")[0], 0, "ctl: edit --contact none")
    rows = json.loads(ctl(conf, db, "contact", "list", "--json")[1])
    equal(sum(r["sites"] for r in rows), 0, "ctl: --contact none unlinks every contact")

    rc, out, err = ctl(conf, db, "contact", "test", "team")
    check(rc == 0 and "HTTP 200: answer 200" in out, "ctl: contact test prints the answer",
          f"rc={rc} out={out!r} err={err!r}")
    got = sink.requests("/s/200/chat")
    check(len(got) == 1 and json.loads(got[0]["raw"])["text"].startswith("TEST squirrel test"),
          "ctl: contact test sent one real message", got)
    equal(ctl(conf, db, "contact", "add", "broken", "webhook", sink.url("/s/400/t"))[0], 0,
          "ctl: contact add broken")
    rc, out, err = ctl(conf, db, "contact", "test", "broken")
    check(rc == 1 and "HTTP 400: answer 400" in err, "ctl: a refused test says the status and "
          "the answer's first line", f"rc={rc} out={out!r} err={err!r}")
    rc, out, err = ctl(conf, db, "contact", "rm", "hook")
    check(rc == 0 and "hook" in out, "ctl: contact rm", f"rc={rc} out={out!r} err={err!r}")
    names = [r["name"] for r in json.loads(ctl(conf, db, "contact", "list", "--json")[1])]
    equal(names, ["broken", "oncall", "team"], "ctl: the contact is gone")


def verify(req, what):
    """The webhook's headers, and its signature checked with the secret."""
    h = req["headers"]
    equal(h.get("content-type"), "application/json", f"{what}: Content-Type")
    want = "sha256=" + hmac.new(SECRET.encode(), req["raw"], hashlib.sha256).hexdigest()
    equal(h.get("x-squirrel-signature"), want, f"{what}: the signature is the body's HMAC-SHA256")
    check(h.get("idempotency-key", "").startswith("squirrel-"), f"{what}: an Idempotency-Key", h)


def test_kinds(tmp, httpd, sink):
    """Two sites, each with the owner's mail, a webhook (signed, down and up
    only), a chat of every site (down only) and an email contact, going down
    and up through --once: one message per contact per round."""
    with Smtpd(tmp, "smtp-kinds") as smtp:
        conf = config(tmp, "kinds.conf", smtp.port, fail_threshold=1, recover_threshold=1)
        db = os.path.join(tmp, "kinds.db")
        ctl(conf, db, "init")
        secret = os.path.join(tmp, "kinds.secret")
        with open(secret, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(secret, 0o600)
        ctl(conf, db, "contact", "add", "hook", "webhook", sink.url("/s/200/hook"), "--secret-file",
            secret, "--kinds", "down,up")
        ctl(conf, db, "contact", "add", "team", "chat", sink.url("/s/200/team"), "--every-site",
            "--kinds", "down")
        ctl(conf, db, "contact", "add", "oncall", "email", "oncall@example.org")
        token = os.path.join(tmp, "ntfy.token")
        with open(token, "w") as f:
            f.write("tk_abc\n")
        os.chmod(token, 0o600)
        ctl(conf, db, "contact", "add", "phone", "ntfy", sink.url("/s/200/phone"), "--secret-file",
            token, "--every-site")
        account = os.path.join(tmp, "sms.account")
        with open(account, "w") as f:
            f.write("AC123:tok456\n")
        os.chmod(account, 0o600)
        rc, out, err = ctl(conf, db, "contact", "add", "pager", "sms", "+15551234567", "--sender",
                           "+15557654321", "--api", sink.url("/s/201/sms"), "--secret-file", account,
                           "--every-site", "--kinds", "down")
        equal(rc, 0, "kinds: contact add sms")
        for name in ("a", "b"):
            rc, out, err = ctl(conf, db, "add", httpd.url(f"/{name}?status=503"), OWNER, "--name",
                               name, "--contact", "hook", "--contact", "oncall")
            equal(rc, 0, f"kinds: add {name}")
        rc, out, err = run([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "serial"])
        equal(rc, 0, "kinds: the DOWN pass")
        clean(err, "kinds")
        hook = sink.requests("/s/200/hook")
        equal(len(hook), 1, "kinds: the webhook got one message for both DOWN alerts")
        if hook:
            verify(hook[0], "kinds")
            body = json.loads(hook[0]["raw"])
            equal((body["version"], body["event"], body["site"]["id"], body["site"]["name"],
                   body["site"]["url"], body["error"], body["http_status"]),
                  (1, "down", 1, "a", httpd.url("/a?status=503"), "http", 503),
                  "kinds: the webhook's fields")
            check(body["since"].endswith("Z") and len(body["since"]) == 20, "kinds: since in UTC",
                  body["since"])
            equal([(a["event"], a["site"]["name"]) for a in body["alerts"]],
                  [("down", "a"), ("down", "b")], "kinds: the digest lists both alerts")
        team = sink.requests("/s/200/team")
        equal([json.loads(r["raw"])["text"].splitlines() for r in team],
              [[f"DOWN a ({httpd.url('/a?status=503')}): the server answered HTTP 503",
                f"DOWN b ({httpd.url('/b?status=503')}): the server answered HTTP 503"]],
              "kinds: the chat got one text for both")
        phone = sink.requests("/s/200/phone")
        if check(len(phone) == 1, "kinds: ntfy got one push for both", phone):
            h = phone[0]["headers"]
            equal((h.get("title"), h.get("priority"), h.get("tags"), h.get("authorization")),
                  ("squirrel: DOWN (and more)", "high", "rotating_light", "Bearer tk_abc"),
                  "kinds: ntfy's title, priority, tags and token")
            equal(phone[0]["raw"].decode().splitlines()[0],
                  f"DOWN a ({httpd.url('/a?status=503')}): the server answered HTTP 503",
                  "kinds: ntfy's text")
        sms = sink.requests("/s/201/sms")
        if check(len(sms) == 1, "kinds: sms got one text for both", sms):
            form = urllib.parse.parse_qs(sms[0]["raw"].decode())
            equal((form["To"], form["From"]), (["+15551234567"], ["+15557654321"]),
                  "kinds: sms To and From")
            equal(form["Body"][0].splitlines()[0],
                  f"DOWN a ({httpd.url('/a?status=503')}): the server answered HTTP 503",
                  "kinds: sms Body")
            check(len(form["Body"][0]) <= 306, "kinds: sms within two segments", form["Body"])
            equal(sms[0]["headers"].get("authorization"),
                  "Basic " + base64.b64encode(b"AC123:tok456").decode(),
                  "kinds: sms account and token as basic authentication")
            equal(sms[0]["headers"].get("content-type"), "application/x-www-form-urlencoded",
                  "kinds: sms is a form")
        equal(sorted(e["rcpt_tos"][0] for _, e in smtp.messages()),
              ["oncall@example.org", OWNER], "kinds: one mail to the owner, one to the email contact")

        for name in ("a", "b"):
            ctl(conf, db, "edit", name == "a" and "1" or "2", "--url", httpd.url(f"/{name}?status=200"))
        rc, out, err = run([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "serial"])
        equal(rc, 0, "kinds: the UP pass")
        hook = sink.requests("/s/200/hook")
        if check(len(hook) == 2, "kinds: the webhook got the UP message", hook):
            verify(hook[1], "kinds up")
            body = json.loads(hook[1]["raw"])
            equal((body["event"], body["error"], [a["event"] for a in body["alerts"]]),
                  ("up", None, ["up", "up"]), "kinds: the UP fields")
            check(hook[0]["headers"]["idempotency-key"] != hook[1]["headers"]["idempotency-key"],
                  "kinds: another message, another key")
        equal(len(sink.requests("/s/200/team")), 1, "kinds: the chat (--kinds down) got no UP")
        equal(len(sink.requests("/s/201/sms")), 1, "kinds: the sms (--kinds down) got no UP")
        phone = sink.requests("/s/200/phone")
        if check(len(phone) == 2, "kinds: ntfy got the UP push", phone):
            equal((phone[1]["headers"].get("priority"), phone[1]["headers"].get("tags")),
                  ("default", "white_check_mark"), "kinds: an UP's priority is default")
        equal(len(smtp.messages()), 4, "kinds: the UP mails to the owner and the email contact")
        equal(sorted(set(r[0] for r in outbox(db, "status"))), ["sent"], "kinds: all sent")


def test_sms_cut(tmp, httpd, sink):
    """The sms Body kept within two segments: 306 characters when the text
    is ASCII, 134 when it is not (UCS-2), cut on a character and ended with
    "..."; a text exactly at the limit is sent whole."""
    conf = config(tmp, "sms.conf", 9, fail_threshold=1)
    db = os.path.join(tmp, "sms.db")
    ctl(conf, db, "init")
    account = os.path.join(tmp, "sms-cut.account")
    with open(account, "w") as f:
        f.write("AC1:tok\n")
    os.chmod(account, 0o600)
    cases = {"a306": ("plain", 306), "a307": ("plain", 307), "u134": ("café ü", 134),
             "u200": ("café ü", 200)}
    want = {}
    for i, (contact, (name, length)) in enumerate(cases.items()):
        equal(ctl(conf, db, "contact", "add", contact, "sms", "+1555000000" + str(i), "--sender",
                  "squirrel", "--api", sink.url(f"/s/201/{contact}"), "--secret-file", account)[0],
              0, f"sms cut: contact add {contact}")
        base = httpd.url(f"/{contact}?status=503&pad=")
        line = f"DOWN {name} ({base}): the server answered HTTP 503"
        url = base + "p" * (length - len(line))
        full = f"DOWN {name} ({url}): the server answered HTTP 503"
        equal(len(full), length, f"sms cut: {contact}'s text is {length} characters")
        limit = 306 if full.isascii() else 134
        want[contact] = full if len(full) <= limit else full[:limit - 3] + "..."
        rc, out, err = ctl(conf, db, "add", url, OWNER, "--name", name, "--contact", contact)
        equal(rc, 0, f"sms cut: add the site of {contact}")
    rc, out, err = run([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "serial"])
    equal(rc, 0, "sms cut: the DOWN pass")
    clean(err, "sms cut")
    for contact, text in want.items():
        got = sink.requests(f"/s/201/{contact}")
        body = urllib.parse.parse_qs(got[0]["raw"].decode())["Body"][0] if len(got) == 1 else None
        equal(body, text, f"sms cut: {contact}: the Body is {len(text)} characters"
              f"{' ending in ...' if text.endswith('...') else ', whole'}")


def test_retries(tmp, httpd, sink):
    """One site, six contacts, on a running daemon: 500 then 200 (the same
    key twice, delivered once), 429 with Retry-After: 2, 400 (failed at
    once, not tried again), one that hangs beside one that answers at once."""
    conf = config(tmp, "retry.conf", 9, fail_threshold=1, interval=1, group_window=0)
    db = os.path.join(tmp, "retry.db")
    ctl(conf, db, "init")
    paths = {"c500": "/s/500,200/r500?ra=1", "c429": "/s/429,200/r429?ra=2", "c400": "/s/400/r400",
             "hang": "/s/hang/hang", "ok": "/s/200/ok"}
    for name, path in paths.items():
        equal(ctl(conf, db, "contact", "add", name, "webhook", sink.url(path), "--kinds", "down")[0],
              0, f"retries: contact {name}")
    ctl(conf, db, "add", httpd.url("/x?status=503"), OWNER, "--name", "x",
        *sum((["--contact", n] for n in paths), []))
    errf = open(os.path.join(tmp, "retry.stderr"), "w")
    proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    try:
        wait_for(lambda: len(sink.requests("/s/200/r500")) >= 2 and
                 len(sink.requests("/s/429,200/r429")) >= 2 and
                 len(sink.requests("/s/hang/hang")) >= 1, 40, step=0.1)
        first = {p: sink.requests(p.split("?")[0]) for p in paths.values()}
        r500, r429 = first["/s/500,200/r500?ra=1"], first["/s/429,200/r429?ra=2"]
        hang, ok = first["/s/hang/hang"], first["/s/200/ok"]
        if check(len(r500) == 2, "500: tried again", r500):
            equal(r500[0]["headers"]["idempotency-key"], r500[1]["headers"]["idempotency-key"],
                  "500: the same Idempotency-Key on the retry")
            # a receiver that hangs (10 s) beside it holds up neither the retry nor its verdict
            gap = r500[1]["t"] - r500[0]["t"]
            check(0.9 <= gap < 4, f"500: tried again after its Retry-After (1 s), not held up by the"
                  f" hanging one ({gap:.1f} s)", gap)
        if check(len(r429) == 2, "429: tried again", r429):
            gap = r429[1]["t"] - r429[0]["t"]
            check(1.9 <= gap < 5, f"429: Retry-After 2 honoured ({gap:.1f} s)", gap)
        if check(len(hang) >= 1 and len(ok) == 1, "hang: both receivers were sent to", first):
            gap = ok[0]["t"] - hang[0]["t"]
            check(abs(gap) < 2, f"hang: the healthy one was not held up ({gap:.2f} s apart)", gap)
        wait_for(lambda: by_contact(db).get("hang", ("", 0))[1] >= 1, 20, step=0.2)
        time.sleep(1)
        rows = by_contact(db)
        equal(rows.get("c500")[:2], ("sent", 2), "500: sent, after two attempts")
        equal(rows.get("c429")[:2], ("sent", 2), "429: sent, after two attempts")
        equal(rows.get("c400"), ("failed", 1, "HTTP 400: answer 400"),
              "400: failed at once, with the status and the answer's first line")
        equal(len(sink.requests("/s/400/r400")), 1, "400: not tried again")
        equal(rows.get("ok")[:2], ("sent", 1), "ok: sent once")
        check(rows.get("hang")[0] == "pending" and "timed out" in rows.get("hang")[2],
              "hang: timed out, to be tried again", rows.get("hang"))
    finally:
        rc = stop_pid(proc, signal.SIGTERM, timeout=40)
        errf.close()
    with open(errf.name) as f:
        err = f.read()
    equal(rc, 0, "retries: the daemon stops cleanly")
    clean(err, "retries")
    check("to contact c400 failed: HTTP 400: answer 400" in err, "400: logged with its status",
          err[-6000:])


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def test_one_sender(tmp, httpd, sink):
    """Two messages hanging at once, sent by two rounds (the second a retry
    after a 500 with Retry-After: 1): one sender carries both, so the
    daemon has no more threads while they hang than after they timed out."""
    conf = config(tmp, "one.conf", 9, fail_threshold=1, interval=1, group_window=0)
    db = os.path.join(tmp, "one.db")
    ctl(conf, db, "init")
    paths = {"h1": "/s/hang/h1", "h2": "/s/500,hang/h2?ra=1"}
    for name, path in paths.items():
        ctl(conf, db, "contact", "add", name, "webhook", sink.url(path), "--kinds", "down")
    ctl(conf, db, "add", httpd.url("/one?status=503"), OWNER, "--contact", "h1", "--contact", "h2")
    errf = open(os.path.join(tmp, "one.stderr"), "w")
    proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    try:
        both = wait_for(lambda: len(sink.requests("/s/hang/h1")) == 1 and
                        len(sink.requests("/s/500,hang/h2")) == 2, 20, step=0.05)
        check(both, "one sender: both messages hang at once")
        time.sleep(0.5)
        during = threads(proc.pid)
        wait_for(lambda: all("timed out" in (r[2] or "") for r in by_contact(db).values()) and
                 len(by_contact(db)) == 2, 30, step=0.2)
        time.sleep(0.5)
        rows = by_contact(db)
        equal([(n, r[0], r[1]) for n, r in rows.items()], [("h1", "pending", 1), ("h2", "pending", 2)],
              "one sender: both timed out, to be tried again")
        after = threads(proc.pid)
        equal(during, after, "one sender: no thread more while two rounds' messages hang")
    finally:
        rc = stop_pid(proc, signal.SIGTERM, timeout=40)
        errf.close()
    equal(rc, 0, "one sender: the daemon stops cleanly")
    clean(open(errf.name).read(), "one sender")


def test_kill(tmp, httpd, sink):
    """kill -9 after the receiver got the message and before the daemon
    marked it sent: sent again at the next start, under the same key."""
    conf = config(tmp, "kill.conf", 9, fail_threshold=1, interval=1, group_window=0)
    db = os.path.join(tmp, "kill.db")
    ctl(conf, db, "init")
    ctl(conf, db, "contact", "add", "k", "webhook", sink.url("/s/slow200,200/k"), "--kinds", "down")
    ctl(conf, db, "add", httpd.url("/k?status=503"), OWNER, "--contact", "k")
    cmd = [SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        got = wait_for(lambda: len(sink.requests("/s/slow200,200/k")) >= 1, 30, step=0.05)
        check(got, "kill: the message reached the receiver")
        stop_pid(proc, signal.SIGKILL)
        equal([r[:2] for r in outbox(db) if r[0]], [(1, "pending")], "kill: still pending after kill -9")
    finally:
        stop_pid(proc, signal.SIGKILL)
    errf = open(os.path.join(tmp, "kill.stderr"), "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
    try:
        wait_for(lambda: len(sink.requests("/s/slow200,200/k")) >= 2, 30, step=0.05)
        wait_for(lambda: [r[1] for r in outbox(db) if r[0]] == ["sent"], 10, step=0.1)
        reqs = sink.requests("/s/slow200,200/k")
        if check(len(reqs) == 2, "kill: sent again after the restart", reqs):
            equal(reqs[0]["headers"]["idempotency-key"], reqs[1]["headers"]["idempotency-key"],
                  "kill: under the same Idempotency-Key")
            equal(reqs[0]["raw"], reqs[1]["raw"], "kill: the same body")
        equal([r[:2] for r in outbox(db) if r[0]], [(1, "sent")], "kill: then marked sent")
    finally:
        rc = stop_pid(proc, signal.SIGTERM, timeout=40)
        errf.close()
    equal(rc, 0, "kill: the daemon stops cleanly")
    clean(open(errf.name).read(), "kill")


def main():
    with tmpdir() as tmp, Httpd(tmp) as httpd, Sink(tmp, "sink") as sink:
        test_ctl(tmp, sink)
        test_kinds(tmp, httpd, sink)
        test_sms_cut(tmp, httpd, sink)
        test_retries(tmp, httpd, sink)
        test_one_sender(tmp, httpd, sink)
        test_kill(tmp, httpd, sink)
    return done()


if __name__ == "__main__":
    sys.exit(main())
