"""Why an https check failed, in words an owner can act on, and [check]
ca_file: certificates made by the test with openssl (tls.py), served on
loopback (tests/tlsd/tlsd.py), checked by squirreld --once on each backend
given. Without the test's CA every one of them is untrusted; with it, the
expired, the not yet valid and the wrong-name certificates each get their
class, the self-signed one stays untrusted, a server answering TLS in
plain text is a failed handshake and one that stalls it stays "tls". A ca_file that is missing
or not PEM stops squirreld at load, naming the key and the file."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db, parse_once,  # noqa: E402
                     squirreld, stop_pid, tmpdir, wait_for)
from tls import EXPECT, Tlsd  # noqa: E402


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_bad_ca_file(tmp, ca_file):
    db = new_db(tmp, "bad-ca.db")
    missing = os.path.join(tmp, "nope.pem")
    junk = write(os.path.join(tmp, "junk.pem"), "not a certificate\n")
    with open(ca_file) as f:
        good = f.read()
    broken = write(os.path.join(tmp, "broken.pem"), good.replace("\n", "\n%", 3))
    unended = write(os.path.join(tmp, "unended.pem"), good.split("-----END")[0])
    fifo = os.path.join(tmp, "fifo.pem")   # opening it must not wait for a writer
    os.mkfifo(fifo)
    for path, why in [
        (missing, f"ca_file: '{missing}': No such file or directory"),
        (tmp, f"ca_file: '{tmp}': not a regular file"),
        (fifo, f"ca_file: '{fifo}': not a regular file"),
        (junk, f"ca_file: '{junk}': no PEM certificate in it (-----BEGIN CERTIFICATE-----)"),
        (broken, f"ca_file: '{broken}': certificate 1 is not valid base64 (line 2)"),
        (unended, f"ca_file: '{unended}': certificate 1 has no -----END CERTIFICATE----- line"),
    ]:
        conf = write(os.path.join(tmp, "bad-ca.conf"), f"[check]\nca_file = {path}\n")
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
        equal(rc, 1, f"ca_file {os.path.basename(path)}: exit 1")
        check(f"{conf}:2: {why}" in err, f"ca_file {os.path.basename(path)}: explained", err)
        equal(out, "", f"ca_file {os.path.basename(path)}: nothing checked")


def once(tmp, name, backend, args, rows, ca_file):
    db = new_db(tmp, f"{name}-{backend}.db")
    conf = write(os.path.join(tmp, f"{name}.conf"),
                 f"[check]\nca_file = {ca_file}\n" if ca_file else "[check]\n")
    ids = add_sites(db, [(url, "ops@example.org", extra) for url, extra, _ in rows])
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", backend, *args,
                             timeout=120)
    equal(rc, 0, f"{name} {backend}: exit 0")
    res = parse_once(out)
    for site_id, (url, _, want) in zip(ids, rows):
        got = res.get(site_id)
        got = (got[0], got[1], got[4]) if got else None
        equal(got, want, f"{name} {backend}: {url}")


def test_reload(tmp, tls):
    """SIGHUP with a ca_file added: the daemon's checks trust it from then on."""
    db = new_db(tmp, "reload.db")
    conf = os.path.join(tmp, "reload.conf")
    base = "[check]\ninterval = 1\nretry_interval = 1\n"
    write(conf, base)
    site = add_sites(db, [(tls.url("good"), "ops@example.org", {})])[0]

    def last():
        con = sqlite3.connect(db)
        try:
            row = con.execute("SELECT ok, class FROM checks WHERE site_id = ? ORDER BY id DESC LIMIT 1",
                              (site,)).fetchone()
        except sqlite3.Error:
            row = None
        con.close()
        return row

    with open(db + ".stderr", "w") as err:
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "libev"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        try:
            check(wait_for(lambda: last() == (0, 25), 15), "reload: untrusted before the ca_file", str(last()))
            write(conf, base + f"ca_file = {tls.ca_file}\n")
            os.kill(proc.pid, signal.SIGHUP)
            t0 = time.monotonic()
            check(wait_for(lambda: last() == (1, 0), 15), "reload: trusted after SIGHUP",
                  f"{last()} after {time.monotonic() - t0:.1f} s")
        finally:
            equal(stop_pid(proc, timeout=20), 0, "reload: the daemon stops with exit 0")


def main():
    backends = sys.argv[1:] or ["serial"]
    with tmpdir() as tmp, Tlsd(tmp) as tls, Httpd(tmp) as plain:
        test_bad_ca_file(tmp, tls.ca_file)
        test_reload(tmp, tls)
        for spec in backends:
            backend, *args = spec.split(":")
            args = [a for a in args if a]
            # the system's authorities alone: the test's CA is unknown
            once(tmp, "system", backend, args,
                 [(tls.url(n), {}, ("down", 0, "tls untrusted")) for n in ("good", "selfsigned")],
                 None)
            # the test's CA added: each reason told apart, the good one up
            rows = [(tls.url(n), {}, EXPECT[n]) for n in EXPECT]
            # a handshake that stalls (sq-httpd waits for a request line) stays "tls"
            rows.append((plain.url("/", scheme="https"), {"timeout_ms": 1500}, ("down", 0, "tls")))
            once(tmp, "ca", backend, args, rows, tls.ca_file)
    return done()


if __name__ == "__main__":
    sys.exit(main())
