#!/usr/bin/env python3
"""checkcost.py - the CPU one check costs squirreld, by kind of check.

Four kinds, measured in the same run against the loopback test servers,
each with `squirreld --once` on N sites:

  a  HEAD over http                        (sq-httpd)
  b  GET over http, keyword searched in a ~50 KB body
  c  HEAD over https, the certificate read (tests/tlsd/tlsd.py, a
     certificate made here with openssl and trusted through [check] ca_file)
  d  the same as c with the certificate not read (SQUIRREL_CERT_READ=0,
     the probe's knob for this measurement)

CPU is squirreld's own (user + system, from wait4), less the CPU of a pass
over no site (start, configuration, database), divided by N. The kinds
are run in turns, ROUNDS times, so that a change in the machine's load
touches all of them alike; each figure is the median of its rounds.
Prints a table and the ratio of c to d.

    bench/checkcost.py [--build build] [--sites 200] [--rounds 5] [--backend libev]

Standard library and openssl only; everything it starts is stopped by pid.
"""

import argparse
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from tls import make_certs  # noqa: E402

TLSD = os.path.join(ROOT, "tests", "tlsd", "tlsd.py")
BODY = 50 * 1024
KEYWORD = "needle-in-the-body"


def wait_file(path, proc, timeout=20):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def database(squirrelctl, path, conf, urls, keyword=None):
    """A database (made by squirrelctl init) with one site per url."""
    subprocess.run([squirrelctl, "--config", conf, "--db", path, "init"], check=True,
                   stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    con = sqlite3.connect(path)
    con.executemany("INSERT INTO sites (url, owner_email, keyword) VALUES (?, ?, ?)",
                    [(u, "bench@example.org", keyword) for u in urls])
    con.commit()
    con.close()
    return path


def once(squirreld, conf, db, backend, env):
    """squirreld --once; (CPU seconds, lines of output up)."""
    argv = [squirreld, "--once", "--config", conf, "--db", db, "--backend", backend]
    if backend == "libev":
        argv += ["--max-concurrent", "16"]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    up = sum(1 for line in out.splitlines() if line.split("\t")[1:2] == ["up"])
    return ru.ru_utime + ru.ru_stime, up


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--backend", default="libev")
    a = ap.parse_args()
    squirreld = os.path.join(a.build, "squirreld")
    squirrelctl = os.path.join(a.build, "squirrelctl")
    httpd_bin = os.path.join(a.build, "tests", "sq-httpd")
    if shutil.which("openssl") is None:
        sys.exit("checkcost: openssl is needed to make the certificate")
    tmp = tempfile.mkdtemp(prefix="squirrel-checkcost-")
    procs = []
    try:
        ca_file, certs = make_certs(tmp)
        cert, key = certs["good"]
        port_file = os.path.join(tmp, "httpd.port")
        httpd = subprocess.Popen([httpd_bin, "--port", "0", "--port-file", port_file],
                                 stdin=subprocess.DEVNULL)
        procs.append(httpd)
        tls_ports = os.path.join(tmp, "tlsd.ports")
        tlsd = subprocess.Popen([sys.executable, TLSD, "--port-file", tls_ports, f"good:{cert}:{key}"],
                                stdin=subprocess.DEVNULL)
        procs.append(tlsd)
        if not wait_file(port_file, httpd) or not wait_file(tls_ports, tlsd):
            sys.exit("checkcost: the test servers did not start")
        with open(port_file) as f:
            hport = int(f.read().strip())
        with open(tls_ports) as f:
            tport = int(f.read().split()[1])
        conf = os.path.join(tmp, "checkcost.conf")
        with open(conf, "w") as f:
            f.write(f"[check]\nca_file = {ca_file}\ntimeout = 20000\n")
        n = a.sites
        http = [f"http://127.0.0.1:{hport}/?status=200&n={i}" for i in range(n)]
        body = [f"http://127.0.0.1:{hport}/?status=200&body={BODY}&text={KEYWORD}&n={i}"
                for i in range(n)]
        https = [f"https://127.0.0.1:{tport}/?n={i}" for i in range(n)]
        env = dict(os.environ)
        off = dict(env, SQUIRREL_CERT_READ="0")
        kinds = [
            ("a", "HEAD http", database(squirrelctl, os.path.join(tmp, "a.db"), conf, http), env),
            ("b", f"GET http, keyword in {BODY // 1024} KB",
             database(squirrelctl, os.path.join(tmp, "b.db"), conf, body, KEYWORD), env),
            ("c", "HEAD https, certificate read",
             database(squirrelctl, os.path.join(tmp, "c.db"), conf, https), env),
            ("d", "HEAD https, certificate not read",
             database(squirrelctl, os.path.join(tmp, "d.db"), conf, https), off),
        ]
        empty = database(squirrelctl, os.path.join(tmp, "empty.db"), conf, [])
        cpu = {k[0]: [] for k in kinds}
        base = []
        for _ in range(a.rounds):
            base.append(once(squirreld, conf, empty, a.backend, env)[0])
            for key, _, db, e in kinds:
                c, up = once(squirreld, conf, db, a.backend, e)
                if up != n:
                    sys.exit(f"checkcost: kind {key}: {up} of {n} sites up; the figures would lie")
                cpu[key].append(c)
        b = statistics.median(base)
        per = {k: max(0.0, statistics.median(v) - b) / n * 1000 for k, v in cpu.items()}
        print(f"squirreld --once, backend {a.backend}, {n} sites per pass, median of {a.rounds} rounds;"
              f" a pass over no site: {b * 1000:.1f} ms CPU (subtracted)")
        print(f"{'kind':<4} {'check':<36} {'CPU ms/check':>12} {'vs a':>6}")
        for key, words, _, _ in kinds:
            print(f"{key:<4} {words:<36} {per[key]:>12.3f} {per[key] / per['a']:>6.2f}")
        if per["d"] > 0:
            print(f"c/d = {per['c'] / per['d']:.3f}: reading the certificate costs "
                  f"{(per['c'] / per['d'] - 1) * 100:+.1f} % CPU per https check")
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
