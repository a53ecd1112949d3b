"""Conformance, at scale: a pass of a few hundred sites with mixed
latencies and answers, hung servers among them. Every backend must give
every site its exact result, and a hung site may not hold the others up
past its own timeout."""

import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Httpd, add_sites, check, done, empty_config, equal,  # noqa: E402
                     new_db, parse_once, squirreld, tmpdir)

HUNG_TIMEOUT_MS = 1500
PARENT = "the first site"


def build_sites(srv, n):
    """Deterministic mix: latencies 0-290 ms, every 7th 503, every 11th
    refusing HEAD, every 50th hung; keywords found, missing and present
    where they must be absent, and an expected 404, among the rest. The
    first site fails, and every 23rd fails behind it: `parent down`, in
    the same pass, whatever the order the results come in."""
    rows = []
    for i in range(n):
        delay = (i * 37) % 300
        if i == 0:
            rows.append((srv.url(f"/{i}?status=503&delay={delay}"), {}, ("down", 503, "http 503"), delay))
        elif i % 23 == 12:
            rows.append((srv.url(f"/{i}?status=503&delay={delay}"), {"depends_on": PARENT},
                         ("down", 503, "parent down: site {parent}: http 503"), delay))
        elif i % 50 == 25:
            rows.append((srv.url(f"/{i}?hang=1"), {"timeout_ms": HUNG_TIMEOUT_MS},
                         ("down", 0, "timeout"), None))
        elif i % 7 == 3:
            rows.append((srv.url(f"/{i}?status=503&delay={delay}"), {}, ("down", 503, "http 503"), delay))
        elif i % 11 == 5:
            rows.append((srv.url(f"/{i}?head=405&status=200&delay={delay}"), {}, ("up", 200, ""), delay))
        elif i % 13 == 6:
            rows.append((srv.url(f"/{i}?delay={delay}&body={i * 101}&text=Welcome"), {"keyword": "Welcome"},
                         ("up", 200, ""), delay))
        elif i % 13 == 8:
            rows.append((srv.url(f"/{i}?delay={delay}&body={i * 101}&text=Oops"), {"keyword": "Welcome"},
                         ("down", 200, "keyword missing"), delay))
        elif i % 17 == 9:
            rows.append((srv.url(f"/{i}?status=404&delay={delay}"), {"expect_status": "200,404"},
                         ("up", 404, ""), delay))
        elif i % 19 == 4:
            rows.append((srv.url(f"/{i}?delay={delay}&text=ERROR"), {"keyword": "ERROR", "keyword_mode": "absent"},
                         ("down", 200, "keyword present"), delay))
        else:
            rows.append((srv.url(f"/{i}?delay={delay}"), {}, ("up", 200, ""), delay))
    return rows


def main():
    specs = sys.argv[1:] or ["serial"]
    with tmpdir() as tmp:
        for spec in specs:
            name, *args = spec.split(":")
            args = [a for a in args if a]
            n = 40 if name == "serial" else 300
            db = new_db(tmp, f"mixed-{name}.db")
            with Httpd(tmp) as srv:
                rows = build_sites(srv, n)
                ids = add_sites(db, [(u, "ops@example.org", {k: v for k, v in extra.items() if v != PARENT})
                                     for u, extra, _, _ in rows])
                behind = [i for i, (_, extra, _, _) in zip(ids, rows) if extra.get("depends_on") == PARENT]
                con = sqlite3.connect(db)
                con.executemany("UPDATE sites SET depends_on = ? WHERE id = ?", [(ids[0], i) for i in behind])
                con.commit()
                con.close()
                rows = [(u, extra, (w[0], w[1], w[2].format(parent=ids[0])), d) for u, extra, w, d in rows]
                t0 = time.monotonic()
                rc, out, err = squirreld("--once", "--config", empty_config(tmp), "--db", db,
                                         "--backend", name, *args, timeout=300)
                wall = time.monotonic() - t0
            equal(rc, 0, f"{name}: exit 0")
            res = parse_once(out)
            equal(len(res), n, f"{name}: {n} results")
            wrong = []
            slow = []
            for site_id, (url, _, want, delay) in zip(ids, rows):
                got = res.get(site_id)
                if got is None or (got[0], got[1], got[4]) != want:
                    wrong.append((url, got, want))
                    continue
                ms = got[2]
                # a site's own time: its latency (twice when HEAD is refused)
                # plus slack, never a hung neighbour's timeout
                limit = HUNG_TIMEOUT_MS + 1000 if delay is None else 2 * delay + 1000
                if ms > limit or (delay is None and ms < HUNG_TIMEOUT_MS - 50):
                    slow.append((url, ms, limit))
            check(not wrong, f"{name}: every site has its exact result", "\n".join(map(str, wrong[:10])))
            check(not slow, f"{name}: no site took longer than its own latency or timeout",
                  "\n".join(map(str, slow[:10])))
            print(f"# {name}: {n} sites in {wall:.2f} s")
    return done()


if __name__ == "__main__":
    sys.exit(main())
