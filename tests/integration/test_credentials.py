"""A URL with credentials (http://user:PASSWORD@host/): the check uses them
(the test server answers 401 without the right Authorization header), and
the password appears nowhere people or other programs read: --once, the
daemon's log, the status page, the metrics file, the mails, squirrelctl in
text and JSON. The user name stays: http://user@host/ (src/base/urlshow.c)."""

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     parse_once, run, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, parse  # noqa: E402

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
SECRET = "s3cret"
OWNER = "ops@example.org"
AUTH = base64.b64encode(f"user:{SECRET}".encode()).decode()
AUTH_NOUSER = base64.b64encode(f":{SECRET}".encode()).decode()


def write_conf(path, smtp_port, extra=""):
    with open(path, "w") as f:
        f.write("[check]\ninterval = 1\nretry_interval = 1\nfail_threshold = 1\n")
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {smtp_port}\nfrom = {FROM}\ntimeout = 3000\n")
        f.write(extra)


def sites(srv):
    """(url with the password, the url as shown, extra columns)."""
    base = f"127.0.0.1:{srv.port}"
    return [
        (f"http://user:{SECRET}@{base}/ok?auth={AUTH}", f"http://user@{base}/ok?auth={AUTH}", {}),
        (f"http://user:{SECRET}@{base}/down?status=503", f"http://user@{base}/down?status=503",
         {"name": "shop"}),
        (f"http://user:wrong{SECRET}x@{base}/ok?auth={AUTH}", f"http://user@{base}/ok?auth={AUTH}",
         {}),
        (f"http://:{SECRET}@{base}/nouser?auth={AUTH_NOUSER}", f"http://{base}/nouser?auth={AUTH_NOUSER}",
         {}),
    ]


def mail_texts(smtp):
    """Each mail: its raw bytes and its decoded body, as one string."""
    out = []
    for raw, meta in smtp.messages():
        msg = parse(raw)
        out.append(raw.decode("utf-8", "replace") + "\n" + msg.get_content() + "\n" + json.dumps(meta))
    return out


def test_once(tmp, srv):
    with Smtpd(tmp, "smtp-once") as smtp:
        conf = os.path.join(tmp, "once.conf")
        write_conf(conf, smtp.port)
        db = new_db(tmp, "once.db")
        rows = sites(srv)
        ids = add_sites(db, [(u, OWNER, x) for u, _, x in rows])
        rc, out, err = run([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "serial"])
        equal(rc, 0, "--once: exit 0")
        res = parse_once(out)
        equal(res.get(ids[0], ("?",))[:2], ("up", 200), "--once: the right credentials are sent (200)")
        equal(res.get(ids[2], ("?",))[:2], ("down", 401), "--once: the wrong ones get 401")
        equal(res.get(ids[3], ("?",))[:2], ("up", 200), "--once: a password without a user is sent")
        equal([res.get(i, (None,) * 4)[3] for i in ids], [s for _, s, _ in rows],
              "--once: every url shown without its password, the user kept")
        check(SECRET not in out and SECRET not in err, "--once: the password is in no output", out + err)
        mails = mail_texts(smtp)
        check(len(mails) >= 1, "--once: the DOWN mail went out", mails)
        check(all(SECRET not in m for m in mails), "--once: the password is in no mail", mails)
        check(any(rows[1][1] in m for m in mails), "--once: the mail names the url as shown", mails)


def test_daemon_and_ctl(tmp, srv):
    with Smtpd(tmp, "smtp-daemon") as smtp:
        conf = os.path.join(tmp, "daemon.conf")
        page = os.path.join(tmp, "status.html")
        prom = os.path.join(tmp, "squirrel.prom")
        write_conf(conf, smtp.port, f"[squirreld]\nstatus_page = {page}\nmetrics_file = {prom}\n")
        db = new_db(tmp, "daemon.db")
        rows = sites(srv)
        ids = add_sites(db, [(u, OWNER, x) for u, _, x in rows])
        err_path = os.path.join(tmp, "daemon.stderr")
        with open(err_path, "w") as errf:
            proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "libev"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
            try:
                def log():
                    with open(err_path) as f:
                        return f.read()
                check(wait_for(lambda: log().count(" is DOWN: ") >= 2, 20),
                      "daemon: two sites logged DOWN", log())
                down_at = time.monotonic()
                mailed = wait_for(lambda: len(smtp.messages()) >= 1, 60)
                check(mailed, "daemon: an alert mailed",
                      f"after {time.monotonic() - down_at:.1f} s; server events: {smtp.events()};"
                      f" log: {log()[-3000:]}")
                print(f"# the first mail came {time.monotonic() - down_at:.1f} s after the second DOWN")
                check(wait_for(lambda: os.path.exists(page) and os.path.exists(prom), 20),
                      "daemon: the status page and the metrics file written")
            finally:
                rc = stop_pid(proc, timeout=20)
        equal(rc, 0, "daemon: exit 0 on SIGTERM")
        text = log()
        check(SECRET not in text, "daemon: the password is in no log line", text)
        check(f"({rows[1][1]}) is DOWN: http 503" in text, "daemon: the log names the url as shown", text)
        html = open(page).read() if os.path.exists(page) else ""
        check(html != "" and SECRET not in html, "status page: no password", html[-2000:])
        check(f'href="{rows[1][1]}"' in html.replace("&amp;", "&"),
              "status page: the link is the url as shown", html[-2000:])
        metrics = open(prom).read() if os.path.exists(prom) else ""
        check(metrics != "" and SECRET not in metrics, "metrics: no password", metrics)
        check(f'squirrel_site_up{{id="{ids[1]}",url="{rows[1][1]}"}} 0' in metrics,
              "metrics: the url label is the url as shown", metrics)
        mails = mail_texts(smtp)
        check(all(SECRET not in m for m in mails), "daemon: the password is in no mail", mails)

    def ctl(*args):
        return run([CTL, "--config", conf, "--db", db, *args], timeout=60)

    outputs = []
    for args in (["list"], ["list", "--json"], ["status"], ["status", "--json"],
                 ["status", str(ids[1])], ["status", str(ids[1]), "--json"],
                 ["incidents"], ["incidents", "--json"], ["outbox"], ["outbox", "--json"]):
        rc, out, err = ctl(*args)
        equal(rc, 0, f"squirrelctl {' '.join(args)}: exit 0")
        check(SECRET not in out and SECRET not in err, f"squirrelctl {' '.join(args)}: no password",
              out + err)
        outputs.append(out)
    listed = json.loads(outputs[1]) if outputs[1].startswith("[") else []
    equal([s["url"] for s in listed], [s for _, s, _ in rows], "squirrelctl list --json: the urls as shown")
    # a site is still found by the url as stored, password and all
    rc, out, err = ctl("status", rows[1][0])
    equal(rc, 0, "squirrelctl status URL-with-password: found")
    check(SECRET not in out + err and " shop " in out, "squirrelctl status URL: that site, no password", out)
    rc, out, err = ctl("add", rows[1][0], OWNER)
    check(rc != 0 and SECRET not in out + err and rows[1][1] in err,
          "squirrelctl add of a watched url: the refusal shows it without its password", err)
    new = f"http://user:{SECRET}@127.0.0.1:{srv.port}/new"
    rc, out, err = ctl("add", new, OWNER)
    check(rc == 0 and SECRET not in out + err and f"http://user@127.0.0.1:{srv.port}/new" in out,
          "squirrelctl add: the new site printed without its password", out + err)
    con = sqlite3.connect(db)
    stored = con.execute("SELECT url FROM sites WHERE url LIKE '%/new'").fetchall()
    con.close()
    equal(stored, [(new,)], "squirrelctl add: the password is stored, for the check")


def main():
    with tmpdir() as tmp:
        with Httpd(tmp) as srv:
            test_once(tmp, srv)
            test_daemon_and_ctl(tmp, srv)
    return done()


if __name__ == "__main__":
    sys.exit(main())
