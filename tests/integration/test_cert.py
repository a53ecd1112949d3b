"""Warnings before a certificate ends, end to end: certificates made by the
test with openssl and signed by its own CA (tls.py), served on loopback by
tests/tlsd/tlsd.py (which reads them again per connection, so one is
renewed in place), checked by squirreld --once on each backend given,
mails received by the real SMTP server (tests/smtpd).

A certificate with 5 days left gets one `cert` mail, for 7 (the nearest
of 30,14,7,1 crossed); a second pass none; the certificate renewed with 20
days left one more, for 30. A site asking cert_warn_days 3 is mailed
nothing, nor is a plain http site. A bad [check] cert_warn_days stops
squirreld at load, naming the key and what is wrong. A webhook contact
(tests/sink/sink.py) gets the cert event with the certificate's end,
subject and issuer."""

import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Httpd, add_sites, check, done, equal, new_db, parse_once, run,  # noqa: E402
                     squirreld, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, parse  # noqa: E402
from tls import TLSD, make_certs, openssl  # noqa: E402
from test_contacts import Sink  # noqa: E402

OWNER = "ops@example.org"
CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
DAY = 86400


def stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")


def leaf(d, name, cn, seconds_left):
    """A certificate for 127.0.0.1 signed by the test CA, ending seconds_left
    from now, put in place of tls/NAME.pem and .key by rename."""
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", *key, "-keyout", f"{name}.new.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
            cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")
    openssl("ca", "-batch", "-notext", "-create_serial", "-config", "ca.cnf", "-in", f"{name}.csr",
            "-out", f"{name}.new.pem", "-extfile", f"{name}.ext", "-startdate", stamp(now - DAY),
            "-enddate", stamp(now + seconds_left), cwd=d)
    # the key first: a connection between the two renames fails, and the test makes none then
    os.rename(os.path.join(d, f"{name}.new.key"), os.path.join(d, f"{name}.key"))
    os.rename(os.path.join(d, f"{name}.new.pem"), os.path.join(d, f"{name}.pem"))
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


def config(tmp, name, port, ca_file, extra=""):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = {FROM}\ntimeout = 3000\n"
                f"[check]\nca_file = {ca_file}\n{extra}")
    return path


def subjects(srv):
    return [str(parse(raw)["Subject"]) for raw, _ in srv.messages()]


def body(raw):
    return raw.split(b"\r\n\r\n", 1)[1].decode()


def site_cert(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT site_id, warned_days, subject, issuer, length(fingerprint)"
                       " FROM site_cert ORDER BY site_id").fetchall()
    con.close()
    return rows


def test_bad_config(tmp):
    db = new_db(tmp, "bad.db")
    for value, why in [("30,400", "400: a day must be from 1 to 365"),
                       ("0", "0: a day must be from 1 to 365"),
                       ("30,,7", "'30,,7': a day is missing (an empty item)"),
                       ("7d", "'7d' is not a whole number of days")]:
        conf = os.path.join(tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write(f"[check]\ncert_warn_days = {value}\n")
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
        equal(rc, 1, f"cert_warn_days {value}: exit 1")
        check(f"{conf}:2: cert_warn_days: {why}" in err, f"cert_warn_days {value}: explained", err)
        equal(out, "", f"cert_warn_days {value}: nothing checked")
    # a site's own list: the schema refuses what is no list, the daemon skips a day out of range
    con = sqlite3.connect(db)
    for bad in ("7d", "30,,7", ",7", "7,", "", "0x1e"):
        try:
            con.execute("INSERT INTO sites (url, owner_email, cert_warn_days) VALUES (?, ?, ?)",
                        ("https://x.example/", OWNER, bad))
            refused = False
        except sqlite3.IntegrityError:
            refused = True
        check(refused, f"sites.cert_warn_days '{bad}': refused by the schema's CHECK")
    con.close()
    site, = add_sites(db, [("https://127.0.0.1:1/", OWNER, {"cert_warn_days": "30,400"})])
    conf = os.path.join(tmp, "ok.conf")
    with open(conf, "w") as f:
        f.write("[check]\n")
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
    check(rc == 0 and out == "" and
          f"site {site}: skipped: bad cert_warn_days: 400: a day must be from 1 to 365" in err,
          "a site's list with a day out of range: skipped, named", err)


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_hook(backend, sink, db, sid, url):
    """The webhook's cert event: the certificate's end, subject and issuer."""
    got = sink.requests("/s/200/cert")
    if not check(len(got) == 1, f"{backend}: the webhook got one message", got):
        return
    body = json.loads(got[0]["raw"])
    con = sqlite3.connect(db)
    not_after, = con.execute("SELECT cert_not_after FROM outbox WHERE contact_id IS NULL").fetchone()
    con.close()
    equal((body["version"], body["event"], body["site"]["id"], body["site"]["url"]),
          (1, "cert", sid, url), f"{backend}: the webhook's event is cert")
    equal(body["cert"], {"not_after": utc(not_after), "subject": "CN=soon.squirrel.test",
                         "issuer": "CN=squirrel test CA"},
          f"{backend}: the webhook carries the certificate's end, subject and issuer")
    check(abs(not_after - (int(datetime.datetime.now().timestamp()) + 5 * DAY + 3600)) < 600,
          f"{backend}: not_after is the certificate's end", not_after)
    equal(body["alerts"][0]["cert"], body["cert"], f"{backend}: and so does its item in alerts")


def run_backend(tmp, spec, httpd, sink):
    backend, *args = spec.split(":")
    args = [a for a in args if a]
    d = os.path.join(tmp, f"tls-{backend}")
    os.makedirs(d)
    ca_file, _ = make_certs(d)
    d = os.path.join(d, "tls")
    cert, key = leaf(d, "soon", "soon.squirrel.test", 5 * DAY + 3600)
    port_file = os.path.join(tmp, f"tlsd-{backend}.ports")
    tlsd = subprocess.Popen([sys.executable, TLSD, "--port-file", port_file, "--reread",
                             f"soon:{cert}:{key}"], stdin=subprocess.DEVNULL)
    try:
        check(wait_for(lambda: os.path.exists(port_file) or tlsd.poll() is not None, 20)
              and tlsd.poll() is None, f"{backend}: tlsd.py started")
        with open(port_file) as f:
            port = int(f.read().split()[1])
        url = f"https://127.0.0.1:{port}/"
        with Smtpd(tmp, f"smtp-{backend}") as smtp:
            conf = config(tmp, f"cert-{backend}.conf", smtp.port, ca_file)
            db = new_db(tmp, f"cert-{backend}.db")
            sid, near, plain = add_sites(db, [
                (url, OWNER, {"name": "shop"}),
                (url + "near", OWNER, {"name": "near", "cert_warn_days": "3"}),
                (httpd.url("/?status=200"), OWNER, {"name": "plain"})])

            def once(what):
                rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend",
                                         backend, *args)
                equal(rc, 0, f"{backend} {what}: exit 0")
                equal(sorted((k, v[0]) for k, v in parse_once(out).items()),
                      [(sid, "up"), (near, "up"), (plain, "up")], f"{backend} {what}: all up")

            rc, out, err = run([CTL, "--config", conf, "--db", db, "contact", "add", "hook",
                                "webhook", sink.url("/s/200/cert"), "--every-site", "--kinds",
                                "cert"])
            equal(rc, 0, f"{backend}: contact add webhook for cert events")
            once("5 days left")
            check_hook(backend, sink, db, sid, url)
            equal(subjects(smtp), ["[squirrel] CERTIFICATE shop (ends in 5 days)"],
                  f"{backend}: one cert mail, for the site that warns at 7")
            text = body(smtp.messages()[0][0]) if smtp.messages() else ""
            lines = [" ".join(ln.split()) for ln in text.splitlines()]
            for words in ["certificate ends soon: shop (ends in 5 days)", "days left: 5",
                          "subject: CN=soon.squirrel.test", "issuer: CN=squirrel test CA",
                          f"url: {url}", f"site id: {sid}"]:
                check(words in lines, f"{backend}: the mail says '{words}'", text)
            check(re.search(r"ends at:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text) is not None,
                  f"{backend}: the mail says when it ends", text)
            equal(site_cert(db), [(sid, 7, "CN=soon.squirrel.test", "CN=squirrel test CA", 64),
                                  (near, 0, "CN=soon.squirrel.test", "CN=squirrel test CA", 64)],
                  f"{backend}: each https site's certificate kept, 7 warned for the first")

            once("again")
            equal(len(smtp.messages()), 1, f"{backend}: a second pass mails nothing more")

            leaf(d, "soon", "renewed.squirrel.test", 20 * DAY + 3600)
            once("renewed")
            subs = subjects(smtp)
            equal(subs[1:], ["[squirrel] CERTIFICATE shop (ends in 20 days)"],
                  f"{backend}: the renewed certificate, one mail for 30")
            equal([r[:3] for r in site_cert(db)], [(sid, 30, "CN=renewed.squirrel.test"),
                                                   (near, 0, "CN=renewed.squirrel.test")],
                  f"{backend}: the renewed certificate kept, 30 warned")
            rc, out, err = run([CTL, "--config", conf, "--db", db, "status", "--json"])
            rows = {r["id"]: r for r in json.loads(out)} if rc == 0 else {}
            equal([(rows[i]["cert_days"], rows[i]["cert_expires"] is not None) for i in (sid, near, plain)]
                  if rows else rc, [(20, True), (20, True), (None, False)],
                  f"{backend}: squirrelctl status: 20 days left for the https sites, none for http")
            rc, out, err = run([CTL, "--config", conf, "--db", db, "status", str(sid)])
            lines = out.splitlines()
            check(rc == 0 and "CERT" in lines[0].split() and " 20 d " in lines[1],
                  f"{backend}: squirrelctl status shows the days left", out)
            con = sqlite3.connect(db)
            equal(con.execute("SELECT kind, status, site_id, contact_id IS NOT NULL FROM outbox"
                              " ORDER BY id").fetchall(),
                  [("cert", "sent", sid, 0), ("cert", "sent", sid, 1)] * 2,
                  f"{backend}: two cert alerts, both sent (to the owner and the webhook), none for"
                  " the plain site")
            equal(len(sink.requests("/s/200/cert")), 2, f"{backend}: the webhook got both")
            con.close()
    finally:
        stop_pid(tlsd)


def main():
    backends = sys.argv[1:] or ["serial"]
    with tmpdir() as tmp, Httpd(tmp) as httpd:
        test_bad_config(tmp)
        for spec in backends:
            with Sink(tmp, f"sink-{spec.split(':')[0]}") as sink:
                run_backend(tmp, spec, httpd, sink)
    return done()


if __name__ == "__main__":
    sys.exit(main())
