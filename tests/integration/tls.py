"""Certificates made by the test with openssl, and the HTTPS server that
serves them (tests/tlsd/tlsd.py) on loopback.

A private CA signs four leaves: a good one, an expired one, one not valid
before 2040 and one for another name; a fifth is self-signed. Trusting the
CA (squirrel's [check] ca_file) tells an expired certificate from an
untrusted one. Dates are set with `openssl ca -startdate/-enddate`
(OpenSSL 3.0's `x509 -req` cannot start a certificate in the past or the
future)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import stop_pid, wait_for  # noqa: E402

TLSD = os.path.join(os.path.dirname(__file__), "..", "tlsd", "tlsd.py")

# name -> (subjectAltName, start, end); None: dates from now for a year
LEAVES = {
    "good": ("IP:127.0.0.1", None, None),
    "expired": ("IP:127.0.0.1", "20200101000000Z", "20200201000000Z"),
    "future": ("IP:127.0.0.1", "20400101000000Z", "20410101000000Z"),
    "wrongname": ("DNS:other.squirrel.invalid", None, None),
}

# what squirreld --once says of each (state, status, error), the CA trusted
EXPECT = {
    "good": ("up", 200, ""),
    "expired": ("down", 0, "tls expired"),
    "future": ("down", 0, "tls not yet valid"),
    "wrongname": ("down", 0, "tls name mismatch"),
    "selfsigned": ("down", 0, "tls untrusted"),
    "plain": ("down", 0, "tls handshake"),   # a server that answers TLS in plain text
}


def openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr}")


def make_certs(tmp):
    """The CA's file and {name: (cert, key)} in tmp/tls."""
    d = os.path.join(tmp, "tls")
    os.makedirs(d, exist_ok=True)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
            "-subj", "/CN=squirrel test CA", cwd=d)
    with open(os.path.join(d, "index.txt"), "w"):
        pass
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(f"[ca]\ndefault_ca = test\n[test]\ndir = {d}\ndatabase = $dir/index.txt\n"
                "new_certs_dir = $dir\nserial = $dir/serial\ncertificate = $dir/ca.pem\nprivate_key = $dir/ca.key\n"
                "default_md = sha256\npolicy = any\nunique_subject = no\ndefault_days = 365\n"
                "[any]\ncommonName = supplied\n")
    certs = {}
    for name, (san, start, end) in LEAVES.items():
        openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName = {san}\nbasicConstraints = CA:FALSE\n")
        dates = (["-startdate", start, "-enddate", end] if start else [])
        openssl("ca", "-batch", "-notext", "-create_serial", "-config", "ca.cnf", "-in", f"{name}.csr",
                "-out", f"{name}.pem", "-extfile", f"{name}.ext", *dates, cwd=d)
        certs[name] = (os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key"))
    openssl("req", "-x509", *key, "-keyout", "selfsigned.key", "-out", "selfsigned.pem",
            "-days", "365", "-subj", "/CN=selfsigned", "-addext", "subjectAltName = IP:127.0.0.1",
            cwd=d)
    certs["selfsigned"] = (os.path.join(d, "selfsigned.pem"), os.path.join(d, "selfsigned.key"))
    return os.path.join(d, "ca.pem"), certs


class Tlsd:
    """tlsd.py serving each certificate on its own loopback port."""

    def __init__(self, tmp):
        self.ca_file, certs = make_certs(tmp)
        self.port_file = os.path.join(tmp, "tlsd.ports")
        self.proc = subprocess.Popen(
            [sys.executable, TLSD, "--port-file", self.port_file, "--plain", "plain",
             *[f"{n}:{c}:{k}" for n, (c, k) in certs.items()]], stdin=subprocess.DEVNULL)
        ok = wait_for(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None, 20)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("tlsd.py did not start")
        with open(self.port_file) as f:
            self.ports = {n: int(p) for n, p in (ln.split() for ln in f)}

    def url(self, name, path="/"):
        return f"https://127.0.0.1:{self.ports[name]}{path}"

    def cases(self):
        """(url, extra columns, expected) for test_once's table."""
        return [(self.url(n), {}, EXPECT[n]) for n in EXPECT]

    def stop(self):
        stop_pid(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
