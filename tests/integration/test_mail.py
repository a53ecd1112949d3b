"""The mail path against a real SMTP server on loopback: composing
(src/alert/alert.c) and sending (src/alert/mailer.c) through tests/mailtool, received by
tests/smtpd/smtpd.py. Each case asserts the exact mail stored (recipient,
subject, each header once, the body's facts) or that nothing was sent."""

import email
import email.header
import email.policy
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, done, equal, free_port, stop_pid, tmpdir, wait_for  # noqa: E402

MAILTOOL = os.environ.get("MAILTOOL", "build/tests/mailtool")
SMTPD = os.environ.get("SQ_SMTPD", "tests/smtpd/smtpd.py")
PYTHON = "/usr/bin/python3"

FROM = "squirrel@monitor.example.net"
TO = "ops@example.org"
REQUIRED = ["From", "To", "Date", "Message-ID", "Subject", "Auto-Submitted",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding"]


class Smtpd:
    """smtpd.py on a free loopback port, stopped by its PID."""

    def __init__(self, tmp, name, *args):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.store = os.path.join(self.dir, "store")
        self.log = os.path.join(self.dir, "events.log")
        port_file = os.path.join(self.dir, "port")
        self.err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(
            [PYTHON, SMTPD, "--port-file", port_file, "--store", self.store,
             "--log", self.log, *args],
            stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None, 20)
        if self.proc.poll() is not None or not os.path.exists(port_file):
            self.stop()
            raise RuntimeError(f"smtpd.py did not start: {open(self.err.name).read()}")
        with open(port_file) as f:
            self.port = int(f.read())

    def messages(self):
        """[(raw bytes, envelope dict)], in the order received."""
        out = []
        if not os.path.isdir(self.store):
            return out
        for name in sorted(os.listdir(self.store)):
            if name.endswith(".json"):
                base = os.path.join(self.store, name[:-5])
                with open(base + ".eml", "rb") as f:
                    raw = f.read()
                with open(base + ".json") as f:
                    out.append((raw, json.load(f)))
        return out

    def events(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def stop(self):
        stop_pid(self.proc)
        self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def write_config(tmp, name, mode=0o600, **smtp):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("[smtp]\n")
        f.write(f"from = {FROM}\n")
        for k, v in smtp.items():
            f.write(f"{k} = {v}\n")
    os.chmod(path, mode)
    return path


def write_secret(tmp, name, text, mode=0o600):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)
    return path


sanitizer_reports = []


def mailtool(conf, to, *args, env=None, timeout=60):
    """Runs tests/mailtool; returns (exit status, [(status, reply)], stdout, stderr).
    A sanitizer report on stderr (in the sanitizer build) is kept for the end."""
    e = dict(os.environ)
    e.pop("SSL_CERT_FILE", None)
    e.pop("CREDENTIALS_DIRECTORY", None)
    if env:
        e.update(env)
    p = subprocess.run([MAILTOOL, "--config", conf, "--to", to, *args], capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=e)
    if "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
        sanitizer_reports.append(f"mailtool {' '.join(args)}:\n{p.stderr}")
    lines = p.stdout.splitlines()
    results = []
    for i, line in enumerate(lines):
        if line.startswith("status: "):
            reply = lines[i + 1][len("reply: "):] if i + 1 < len(lines) else ""
            results.append((line[len("status: "):], reply))
    return p.returncode, results, p.stdout, p.stderr


def expect(res, want, what, err=""):
    """The statuses of mailtool's sends; on a mismatch shows replies and stderr."""
    return check([r[0] for r in res] == want, what, f"got:  {res!r}\nwant: {want!r}\n{err}")


def header_names(raw):
    """The header field names of a raw message, in order (unfolded)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if line and line[0] not in " \t"]


def raw_header(raw, name):
    """The value of a header as sent, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
    for line in head.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def body_of(raw):
    return raw.split(b"\r\n\r\n", 1)[1].decode("utf-8")


def check_mail(raw, meta, subject, what, to=TO):
    """The envelope, every required header exactly once and nothing else."""
    equal(meta["rcpt_tos"], [to], f"{what}: the one recipient")
    equal(meta["mail_from"], FROM, f"{what}: envelope sender")
    equal(sorted(header_names(raw)), sorted(REQUIRED), f"{what}: each required header once, no other")
    msg = parse(raw)
    equal(str(msg["Subject"]), subject, f"{what}: subject")
    equal(str(msg["To"]), to, f"{what}: To")
    equal(str(msg["From"]), f"squirrel <{FROM}>", f"{what}: From")
    equal(raw_header(raw, "Auto-Submitted"), "auto-generated", f"{what}: Auto-Submitted")
    equal(raw_header(raw, "Content-Type"), "text/plain; charset=UTF-8", f"{what}: Content-Type")
    equal(raw_header(raw, "Content-Transfer-Encoding"), "8bit", f"{what}: Content-Transfer-Encoding")
    equal(raw_header(raw, "MIME-Version"), "1.0", f"{what}: MIME-Version")
    check(str(msg["Message-ID"]).endswith("@monitor.example.net>"), f"{what}: Message-ID on the sender's domain",
          msg["Message-ID"])
    date = msg["Date"].datetime.timestamp() if msg["Date"] is not None else 0
    check(abs(date - time.time()) < 120, f"{what}: Date is now", msg["Date"])
    check(all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")),
          f"{what}: header lines fit in 78")
    check(b"\n" not in raw.replace(b"\r\n", b""), f"{what}: CRLF line ends only")


def test_plain(tmp):
    with Smtpd(tmp, "plain") as srv:
        conf = write_config(tmp, "plain.conf", host="127.0.0.1", port=srv.port, timeout=5000)
        rc, res, out, err = mailtool(conf, TO)
        equal(rc, 0, "plain: mailtool exits 0", )
        expect(res, ["SENT"], "plain: SENT", err)
        check(res and res[0][1] == "250 2.0.0 OK queued as 0001", "plain: the server's answer as reply",
              res)
        msgs = srv.messages()
        equal(len(msgs), 1, "plain: one mail stored")
        if not msgs:
            return
        raw, meta = msgs[0]
        check_mail(raw, meta, "[squirrel] DOWN site1.example.org (http 503)", "plain")
        equal(meta["tls"], False, "plain: no TLS was asked for")
        body = body_of(raw)
        for fact in ["DOWN: site1.example.org",
                     "  what failed:      the server answered HTTP 503",
                     "  checked at:       ",
                     "  down since:       ",
                     "  last good check:  ",
                     "  url:              https://site1.example.org/",
                     "  site id:          1"]:
            check(fact in body, f"plain body: {fact.strip()!r}", body)

        # Other subjects, through the same server.
        cases = [
            (["--kind", "up"], "[squirrel] UP site1.example.org after 14m"),
            (["--kind", "reminder", "--error", "timeout"], "[squirrel] STILL DOWN site1.example.org (timeout)"),
            (["--items", "10", "--error", "connect refused"], "[squirrel] 10 sites DOWN"),
            (["--items", "2", "--kind", "up"], "[squirrel] 2 sites UP"),
            (["--items", "3", "--kind", "mixed"], "[squirrel] 2 sites DOWN, 1 UP"),
            (["--name", "Shop", "--error", "dns nxdomain"], "[squirrel] DOWN Shop (dns nxdomain)"),
        ]
        for args, subject in cases:
            before = len(srv.messages())
            rc, res, out, err = mailtool(conf, TO, *args)
            equal(rc, 0, f"{subject}: sent")
            msgs = srv.messages()
            equal(len(msgs), before + 1, f"{subject}: one more mail")
            if len(msgs) == before + 1:
                check_mail(msgs[-1][0], msgs[-1][1], subject, subject)
        digest = body_of(srv.messages()[3][0])
        check(all(f"DOWN: site{i}.example.org" in digest for i in range(1, 11)),
              "digest: every site listed in the one mail")
        check("the connection was refused" in digest, "digest: the error in words")


def test_hostile(tmp):
    with Smtpd(tmp, "hostile") as srv:
        conf = write_config(tmp, "hostile.conf", host="127.0.0.1", port=srv.port, timeout=5000)
        rc, res, out, err = mailtool(conf, TO,
                                     "--name", "evil\r\nBcc: evil@x.example",
                                     "--url", "https://x.example/\r\nBcc: evil2@x.example\r\n",
                                     "--error", "timeout\r\nCc: evil3@x.example")
        equal(rc, 0, "hostile: sent")
        msgs = srv.messages()
        equal(len(msgs), 1, "hostile: one mail")
        if not msgs:
            return
        raw, meta = msgs[0]
        check_mail(raw, meta, "[squirrel] DOWN evilBcc: evil@x.example (timeoutCc: evil3@x.example)",
                   "hostile")
        check(b"\r\nBcc:" not in raw and b"\r\nCc:" not in raw, "hostile: no line starts with Bcc: or Cc:")
        body = body_of(raw)
        check("DOWN: evil  Bcc: evil@x.example" in body, "hostile: the name shown on its line", body)
        check("url:              https://x.example/  Bcc: evil2@x.example" in body,
              "hostile: the url shown on its line", body)

        # A name that is not ASCII: encoded in the subject, UTF-8 in the body.
        name = "Caf\u00e9 \u2603"
        rc, res, out, err = mailtool(conf, TO, "--name", name, "--error", "timeout")
        equal(rc, 0, "non-ASCII: sent")
        raw, meta = srv.messages()[-1]
        subject_raw = [line for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n") if line.startswith(b"Subject:")]
        check(subject_raw and subject_raw[0].startswith(b"Subject: =?UTF-8?B?"), "non-ASCII: RFC 2047 subject",
              subject_raw)
        check_mail(raw, meta, f"[squirrel] DOWN {name} (timeout)", "non-ASCII")
        check(f"DOWN: {name}" in body_of(raw), "non-ASCII: the name in the body")
        check("BODY=8BITMIME" in meta["mail_options"], "non-ASCII: sent as 8BITMIME", meta)

        # libesmtp's dot-stuffing: lines that start with "." arrive intact.
        raw_in = (f"From: squirrel <{FROM}>\r\nTo: {TO}\r\nSubject: dots\r\n"
                  "Date: Tue, 14 May 2024 10:03:20 +0000\r\nMessage-ID: <dots@monitor.example.net>\r\n\r\n"
                  ".leading dot\r\n.\r\n..two\r\nend\r\n").encode()
        path = os.path.join(tmp, "dots.eml")
        with open(path, "wb") as f:
            f.write(raw_in)
        rc, res, out, err = mailtool(conf, TO, "--message", path)
        equal(rc, 0, "dots: sent")
        equal(srv.messages()[-1][0], raw_in, "dots: the message arrives byte for byte (dot-stuffed on the wire)")

        # Recipients that are not one address never reach the server.
        before = len(srv.messages())
        rc, res, out, err = mailtool(conf, "ops@example.org, evil@x.example")
        equal(rc, 3, "two recipients: refused before sending")
        check("not one valid address" in err, "two recipients: the reason", err)
        rc, res, out, err = mailtool(conf, "ops@example.org, evil@x.example", "--message", path)
        expect(res, ["PERMFAIL"], "two recipients: mailer_send refuses too", err)
        equal(len(srv.messages()), before, "two recipients: nothing sent")


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-days", "1", "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def test_starttls(tmp, cert, key):
    trust = {"SSL_CERT_FILE": cert}
    with Smtpd(tmp, "tls", "--starttls", cert, key, "--require-starttls") as srv:
        conf = write_config(tmp, "tls.conf", host="localhost", port=srv.port, tls="starttls", timeout=5000)
        rc, res, out, err = mailtool(conf, TO, "--sends", "3", env=trust)
        expect(res, ["SENT", "SENT", "SENT"], "starttls: three sends in one process", err)
        msgs = srv.messages()
        equal(len(msgs), 3, "starttls: three mails")
        if msgs:
            check_mail(msgs[0][0], msgs[0][1], "[squirrel] DOWN site1.example.org (http 503)", "starttls")
            check(all(m[1]["tls"] for m in msgs), "starttls: every mail came over TLS")
        events = srv.events()
        check("TLS SNI localhost" in events, "starttls: the server name sent (SNI)", events)
        check(not any(e.startswith("MAIL") and "tls=0" in e for e in events),
              "starttls: no MAIL command before TLS", events)

        rc, res, out, err = mailtool(conf, TO, "--threads", "4", env=trust)
        expect(res, ["SENT"] * 4, "starttls: four threads sending at once", err)

        # libesmtp 1.1.0 stalls until its timeout when TLS 1.3 session
        # tickets arrive before it flushed its EHLO (2 to 4 sessions in 100
        # on loopback); the mailer holds STARTTLS to TLS 1.2.
        fast = write_config(tmp, "tls-fast.conf", host="localhost", port=srv.port, tls="starttls",
                            timeout=1000)
        rc, res, out, err = mailtool(fast, TO, "--sends", "100", env=trust, timeout=120)
        expect(res, ["SENT"] * 100, "starttls: 100 sessions in a row, none stalls", err)
        check("TLS TLSv1.2" in srv.events() and "TLS TLSv1.3" not in srv.events(),
              "starttls: TLS 1.2 agreed")

        # Not trusted: no SSL_CERT_FILE, the system store does not know it.
        before = len(srv.messages())
        mails_before = sum(1 for e in srv.events() if e.startswith("MAIL"))
        rc, res, out, err = mailtool(conf, TO)
        expect(res, ["TEMPFAIL"], "untrusted certificate: TEMPFAIL", err)
        check(res and "not trusted" in res[0][1] and "self-signed" in res[0][1].replace("self signed", "self-signed"),
              "untrusted certificate: the reason", res)
        equal(len(srv.messages()), before, "untrusted certificate: nothing sent")
        equal(sum(1 for e in srv.events() if e.startswith("MAIL")), mails_before,
              "untrusted certificate: not even MAIL FROM")

        # Trusted, but for another name: the address is checked too.
        conf_ip = write_config(tmp, "tls-ip.conf", host="127.0.0.1", port=srv.port, tls="starttls", timeout=5000)
        rc, res, out, err = mailtool(conf_ip, TO, env=trust)
        expect(res, ["TEMPFAIL"], "certificate for another name: TEMPFAIL", err)
        check(res and "IP address mismatch" in res[0][1], "certificate for another name: the reason", res)
        equal(len(srv.messages()), before, "certificate for another name: nothing sent")

    # A server without STARTTLS, when tls = starttls requires it.
    with Smtpd(tmp, "notls", "--no-starttls") as srv:
        conf = write_config(tmp, "notls.conf", host="localhost", port=srv.port, tls="starttls", timeout=5000)
        rc, res, out, err = mailtool(conf, TO, env=trust)
        expect(res, ["TEMPFAIL"], "no STARTTLS offered: TEMPFAIL", err)
        check(res and "does not offer STARTTLS" in res[0][1] and "nothing was sent" in res[0][1],
              "no STARTTLS offered: a clear reason", res)
        equal(srv.messages(), [], "no STARTTLS offered: nothing sent")
        events = srv.events()
        check(any(e.startswith("EHLO") for e in events) and not any(e.startswith("MAIL") for e in events),
              "no STARTTLS offered: no MAIL command in plain text", events)


def test_auth(tmp, cert, key):
    trust = {"SSL_CERT_FILE": cert}
    with Smtpd(tmp, "auth", "--starttls", cert, key, "--auth", "alice:s3cret w0rd") as srv:
        good = write_config(tmp, "auth.conf", host="localhost", port=srv.port, tls="starttls",
                            user="alice", password='"s3cret w0rd"', timeout=5000)
        rc, res, out, err = mailtool(good, TO, env=trust)
        expect(res, ["SENT"], "auth: right password SENT", err)
        msgs = srv.messages()
        check(msgs and msgs[-1][1]["auth"] and msgs[-1][1]["tls"], "auth: logged in, over TLS",
              msgs[-1][1] if msgs else None)

        bad = write_config(tmp, "auth-bad.conf", host="localhost", port=srv.port, tls="starttls",
                           user="alice", password="wrong", timeout=5000)
        before = len(srv.messages())
        rc, res, out, err = mailtool(bad, TO, env=trust)
        expect(res, ["TEMPFAIL"], "auth: wrong password TEMPFAIL (the alert waits)", err)
        check(res and "refused the login as alice" in res[0][1]
              and "535 5.7.8 Authentication credentials invalid" in res[0][1],
              "auth: wrong password, the server's answer", res)
        equal(len(srv.messages()), before, "auth: wrong password, nothing sent")

        # The password from a file, and from a systemd credential.
        pw = write_secret(tmp, "pw", "s3cret w0rd")
        conf = write_config(tmp, "auth-file.conf", host="localhost", port=srv.port, tls="starttls",
                            user="alice", password_file=pw, timeout=5000)
        rc, res, out, err = mailtool(conf, TO, env=trust)
        expect(res, ["SENT"], "auth: password_file", err)
        creds = os.path.join(tmp, "creds")
        os.mkdir(creds, 0o700)
        write_secret(creds, "smtp-password", "s3cret w0rd")
        conf = write_config(tmp, "auth-cred.conf", host="localhost", port=srv.port, tls="starttls",
                            user="alice", timeout=5000)
        rc, res, out, err = mailtool(conf, TO, env={**trust, "CREDENTIALS_DIRECTORY": creds})
        expect(res, ["SENT"], "auth: $CREDENTIALS_DIRECTORY/smtp-password", err)
        rc, res, out, err = mailtool(conf, TO, env=trust)
        equal(rc, 3, "auth: user without any password refused at start")
        check("no password" in err, "auth: user without password, the reason", err)

        # Secrets others can read are refused, naming the file and the mode.
        os.chmod(pw, 0o644)
        conf = write_config(tmp, "auth-file2.conf", host="localhost", port=srv.port, tls="starttls",
                            user="alice", password_file=pw, timeout=5000)
        rc, res, out, err = mailtool(conf, TO, env=trust)
        equal(rc, 3, "password file readable by others: refused")
        check(pw in err and "mode 0644" in err and "chmod 600" in err, "password file: file and mode named", err)
        os.chmod(os.path.join(creds, "smtp-password"), 0o640)
        conf = write_config(tmp, "auth-cred2.conf", host="localhost", port=srv.port, tls="starttls",
                            user="alice", timeout=5000)
        rc, res, out, err = mailtool(conf, TO, env={**trust, "CREDENTIALS_DIRECTORY": creds})
        equal(rc, 3, "credential readable by the group: refused")
        check("smtp-password" in err and "mode 0640" in err, "credential: file and mode named", err)
        conf = write_config(tmp, "auth-open.conf", mode=0o644, host="localhost", port=srv.port,
                            tls="starttls", user="alice", password="x", timeout=5000)
        rc, res, out, err = mailtool(conf, TO, env=trust)
        equal(rc, 3, "config file with a password, readable by others: refused")
        check(conf in err and "mode 0644" in err and "holds [smtp] password" in err,
              "config file: file and mode named", err)
        conf = write_config(tmp, "auth-open-nopw.conf", mode=0o644, host="127.0.0.1", port=srv.port)
        rc, res, out, err = mailtool(conf, TO)
        check(rc != 3, "config file readable by others but without a password: accepted", err)

    # AUTH without TLS is for loopback only.
    with Smtpd(tmp, "auth-plain", "--auth", "alice:s3cret") as srv:
        conf = write_config(tmp, "auth-plain.conf", host="127.0.0.1", port=srv.port, user="alice",
                            password="s3cret", timeout=5000)
        rc, res, out, err = mailtool(conf, TO)
        expect(res, ["SENT"], "auth to loopback without TLS: SENT", err)
        msgs = srv.messages()
        check(msgs and msgs[-1][1]["auth"], "auth to loopback: logged in")
    conf = write_config(tmp, "auth-remote.conf", host="mail.example.org", port=25, user="alice", password="x")
    rc, res, out, err = mailtool(conf, TO)
    equal(rc, 3, "auth over plain text to a remote host: refused at start")
    check("clear text" in err and "tls = starttls" in err, "auth over plain text: the reason", err)

    conf = write_config(tmp, "implicit.conf", host="mail.example.org", port=465, tls="tls")
    rc, res, out, err = mailtool(conf, TO)
    equal(rc, 3, "tls = tls: refused at start")
    check("implicit TLS" in err and "tls = starttls" in err, "tls = tls: says why and what to use", err)


def test_failures(tmp):
    # Nothing listens: connection refused, at once.
    port = free_port()
    conf = write_config(tmp, "down.conf", host="127.0.0.1", port=port, timeout=5000)
    t0 = time.monotonic()
    rc, res, out, err = mailtool(conf, TO)
    expect(res, ["TEMPFAIL"], "server down: TEMPFAIL", err)
    check(res and "Connection refused" in res[0][1] and f"127.0.0.1:{port}" in res[0][1],
          "server down: connection refused, server named", res)
    check(time.monotonic() - t0 < 10, "server down: no waiting")

    # A server that takes the connection and never greets.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    try:
        conf = write_config(tmp, "silent.conf", host="127.0.0.1", port=s.getsockname()[1], timeout=1000)
        t0 = time.monotonic()
        rc, res, out, err = mailtool(conf, TO)
        took = time.monotonic() - t0
        expect(res, ["TEMPFAIL"], "silent server: TEMPFAIL", err)
        check(res and "did not answer within 1000 ms" in res[0][1], "silent server: the reason", res)
        check(took < 10, f"silent server: bounded by the timeout ({took:.1f}s)")
    finally:
        s.close()

    # A server that takes the whole message and never gives its final answer.
    with Smtpd(tmp, "hang-data", "--data-delay", "3600") as srv:
        conf = write_config(tmp, "hang-data.conf", host="127.0.0.1", port=srv.port, timeout=1500)
        t0 = time.monotonic()
        rc, res, out, err = mailtool(conf, TO)
        took = time.monotonic() - t0
        expect(res, ["TEMPFAIL"], "hang after DATA: TEMPFAIL", err)
        equal(res[0][1] if res else None,
              f"the message to <{TO}> got no final answer from 127.0.0.1:{srv.port} within "
              "1500 ms (after 354 End data with <CR><LF>.<CR><LF>)",
              "hang after DATA: the timeout is the reason, not the 354")
        check("DATA in" in srv.events(), "hang after DATA: the server had the message")
        check(took < 10, f"hang after DATA: bounded by the timeout ({took:.1f}s)")

    # 451 for the first transaction, then accepted.
    with Smtpd(tmp, "tempfail", "--tempfail", "1") as srv:
        conf = write_config(tmp, "tempfail.conf", host="127.0.0.1", port=srv.port, timeout=5000)
        rc, res, out, err = mailtool(conf, TO)
        expect(res, ["TEMPFAIL"], "451: TEMPFAIL", err)
        check(res and "451 4.3.0 Temporary failure, please try again later" in res[0][1],
              "451: the server's exact answer", res)
        equal(srv.messages(), [], "451: nothing stored")
        rc, res, out, err = mailtool(conf, TO)
        expect(res, ["SENT"], "451 then: SENT", err)
        equal(len(srv.messages()), 1, "451 then: exactly one mail")

    # 550 for the recipient: permanent.
    with Smtpd(tmp, "fail-rcpt", "--fail-rcpt", "bob@example.org") as srv:
        conf = write_config(tmp, "fail-rcpt.conf", host="127.0.0.1", port=srv.port, timeout=5000)
        rc, res, out, err = mailtool(conf, "bob@example.org")
        equal(rc, 2, "550: mailtool exits 2")
        expect(res, ["PERMFAIL"], "550: PERMFAIL", err)
        check(res and "550 5.1.1 <bob@example.org>: Recipient address rejected: no such user" in res[0][1],
              "550: the server's exact answer", res)
        equal(srv.messages(), [], "550: nothing stored")

        # squirreld --test-mail's half: delivery_test().
        rc, res, out, err = mailtool(conf, TO, "--test-mail")
        equal(rc, 0, "test mail: exit 0")
        equal(out.strip(), f"sent to {TO} via 127.0.0.1:{srv.port}: 250 2.0.0 OK queued as 0001",
              "test mail: says where it went and what the server answered")
        msgs = srv.messages()
        check(msgs and str(parse(msgs[-1][0])["Subject"]) == "[squirrel] test message",
              "test mail: received")
        if msgs:
            check_mail(msgs[-1][0], msgs[-1][1], "[squirrel] test message", "test mail")
        rc, res, out, err = mailtool(conf, "bob@example.org", "--test-mail")
        equal(rc, 1, "test mail refused: exit 1")
        check("550 5.1.1 <bob@example.org>: Recipient address rejected: no such user" in err,
              "test mail refused: the server's exact answer on stderr", err)
        equal(out, "", "test mail refused: nothing on stdout")


def main():
    if not os.path.exists(MAILTOOL):
        print(f"1..0 # SKIP {MAILTOOL} not built")
        return 0
    with tmpdir() as tmp:
        cert, key = make_cert(tmp)
        test_plain(tmp)
        test_hostile(tmp)
        test_starttls(tmp, cert, key)
        test_auth(tmp, cert, key)
        test_failures(tmp)
    check(not sanitizer_reports, "no sanitizer report from any mailtool run", "\n".join(sanitizer_reports))
    return done()


if __name__ == "__main__":
    sys.exit(main())
