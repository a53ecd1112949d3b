#!/usr/bin/env python3
"""How fast squirrelctl's figures and the status page are on a big history.

Builds a database of SITES sites with one check per STEP seconds over DAYS
days up to now (each site with random outages, response times and an
incident per outage), then times `squirrelctl status --json` and
`squirrelctl report --html` on it.

The schema is always the product's own: `squirrelctl init` creates it,
whatever its version. The history is then bulk-loaded raw (the indexes on
checks set aside during the load and put back as they were, every trigger
left as it is) and summed into the hourly tier the way squirrel sums a
history it did not see arrive (`tests/dbtool tiers`, the daemon's own code,
timed). With --upkeep the history is then brought to what the daemon keeps
(`tests/dbtool upkeep`: days rolled up, raw checks past raw_hours and hours
past the hourly tier pruned, as the reporter does in its bounded steps) and
timed again: the figures on the tiers as a year of running leaves them.

The default, 1000 sites x 365 days x one check per 10 minutes, is 52.6
million checks (3.4 GB with its indexes); `--days 35 --step 60` is
the same number of rows at the default one-minute interval, which is the
harder case for the last 24 hours (1440 raw checks per site). See
bench/README.md for figures measured on the development machine.

usage: bench/report_bench.py [--sites N] [--days D] [--step S] [--dir DIR]
                             [--keep] [--runs R] [--upkeep]
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SQ_BUILD_ROOT", os.path.join(HERE, "..", "build"))
CTL = os.environ.get("SQUIRRELCTL", os.path.join(BUILD, "squirrelctl"))
DBTOOL = os.environ.get("DBTOOL", os.path.join(BUILD, "tests", "dbtool"))

CAUSES = ["connect timeout", "http 503", "connect refused", "tls", "dns servfail", "http 502"]
# their classes' codes, as the daemon stores them (src/core/classes.c)
CLASS = {"connect timeout": 8, "http 503": 1, "connect refused": 7, "tls": 11, "dns servfail": 4,
         "http 502": 1, "": 0}


def ctl(db, conf, *args, timeout=3600):
    t0 = time.monotonic()
    p = subprocess.run([CTL, "--config", conf, "--db", db, *args], capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"squirrelctl {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return dt, p.stdout


def outages_for(rng, start, now, step):
    """Random down periods: about one every 20 days, 30 minutes on average."""
    out = []
    t = start + rng.expovariate(1 / (20 * 86400))
    while t < now - 3600:
        dur = max(step, int(rng.expovariate(1 / 1800)))
        out.append((int(t), int(t) + dur))
        t += dur + rng.expovariate(1 / (20 * 86400))
    return out


def set_aside(con):
    """Drops the indexes on checks (the schema's own, read back from
    sqlite_master); returns their SQL to put them back."""
    objs = con.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'checks'"
                       " AND sql IS NOT NULL AND type = 'index' ORDER BY name").fetchall()
    for kind, name, _ in objs:
        con.execute(f'DROP {kind.upper()} "{name}"')
    return objs


def put_back(con, objs):
    """The indexes as the schema had them."""
    t0 = time.monotonic()
    for _, _, sql in objs:
        con.execute(sql)
    return time.monotonic() - t0


def dbtool(*args):
    t0 = time.monotonic()
    p = subprocess.run([DBTOOL, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"dbtool {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return time.monotonic() - t0


def build(db, conf, args, now):
    rng = random.Random(1)
    start = now - args.days * 86400
    start -= start % args.step
    ctl(db, conf, "init")      # the product's schema, whatever its version
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA cache_size = -1000000")
    con.execute("PRAGMA synchronous = OFF")
    aside = set_aside(con)
    con.execute("BEGIN")
    sites = []
    for i in range(1, args.sites + 1):
        con.execute("INSERT INTO sites (url, owner_email, name) VALUES (?, ?, ?)",
                    (f"https://site-{i}.example.com/", f"ops{i % 50}@example.com",
                     f"Site {i}" if i % 3 else None))
        base = rng.randint(20, 400)
        sites.append((i, base, outages_for(rng, start, now, args.step)))
    con.execute("COMMIT")

    total = 0
    t0 = time.monotonic()
    steps = range(start, now, args.step)
    # time-major like the daemon writes, so a site's rows are spread out on disk
    chunk = max(1, 200000 // args.sites)
    idx = {s[0]: 0 for s in sites}
    for c0 in range(0, len(steps), chunk):
        rows = []
        for t in steps[c0:c0 + chunk]:
            for sid, base, outs in sites:
                k = idx[sid]
                while k < len(outs) and outs[k][1] <= t:
                    k += 1
                idx[sid] = k
                down = k < len(outs) and outs[k][0] <= t
                jitter = rng.randint(0, args.step // 4) if args.step >= 8 else 0
                if down:
                    rows.append((sid, t + jitter, 0, 503 if k % 2 else 0, 10000 if k % 2 == 0 else 80,
                                 CAUSES[k % len(CAUSES)]))
                else:
                    rows.append((sid, t + jitter, 1, 200, int(base * (0.6 + rng.random() * 0.8)), ""))
        con.execute("BEGIN")
        con.executemany("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, class, detail)"
                        " VALUES (?, ?, ?, ?, ?, ?, '')", [(*r[:5], CLASS[r[5]]) for r in rows])
        con.execute("COMMIT")
        total += len(rows)
        if c0 // chunk % 50 == 0:
            el = time.monotonic() - t0
            print(f"  {total / 1e6:.1f} M checks, {el:.0f} s", file=sys.stderr, flush=True)
    load_s = time.monotonic() - t0
    index_s = put_back(con, aside) if aside else 0.0
    con.execute("BEGIN")
    for sid, base, outs in sites:
        last = outs[-1] if outs else None
        down_now = last is not None and last[1] > now
        con.execute("INSERT INTO site_state (site_id, state, since, last_check, last_ok, last_status,"
                    " last_ms, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (sid, "down" if down_now else "up",
                     last[0] if down_now else (last[1] if last else start), now - 30,
                     now - 30, 200, base, ""))
    con.execute("COMMIT")
    con.close()
    tiers_s = dbtool("tiers", db)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN")
    for sid, base, outs in sites:
        for k, (a, b) in enumerate(outs):
            if b <= now:
                con.execute("INSERT INTO incidents (site_id, started_at, ended_at, cause)"
                            " VALUES (?, ?, ?, ?)", (sid, a, b, CAUSES[k % len(CAUSES)]))
    con.execute("COMMIT")
    incidents = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    upkeep_s = dbtool("upkeep", db, "48", "400") if args.upkeep else 0.0
    return {"checks": total, "load_s": load_s, "index_s": index_s, "tiers_s": tiers_s,
            "incidents": incidents, "upkeep_s": upkeep_s}


def timed(db, conf, runs, *args):
    times = []
    out = ""
    for _ in range(runs):
        dt, out = ctl(db, conf, *args)
        times.append(dt)
    return times, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--step", type=int, default=600, help="seconds between a site's checks")
    ap.add_argument("--dir", help="where to build the database (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--reuse", action="store_true", help="time an existing database in --dir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--upkeep", action="store_true",
                    help="prune and roll up as the daemon would before timing (raw_hours 48)")
    args = ap.parse_args()

    for tool in (CTL, DBTOOL):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} not found: build first (meson compile -C build)")
    workdir = args.dir or tempfile.mkdtemp(prefix="squirrel-bench-")
    os.makedirs(workdir, exist_ok=True)
    db = os.path.join(workdir, "bench.db")
    conf = os.path.join(workdir, "bench.conf")
    with open(conf, "w") as f:
        # the interval the checks were made at: uptime caps each hold at twice it
        f.write(f"[check]\ninterval = {args.step}\n")
    now = int(time.time())
    info = {}
    try:
        if not (args.reuse and os.path.exists(db)):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            print(f"building {args.sites} sites x {args.days} days x 1 check / {args.step} s "
                  f"in {workdir}", file=sys.stderr)
            info = build(db, conf, args, now)
        size = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
        st, out = timed(db, conf, args.runs, "status", "--json")
        rows = json.loads(out)
        one, _ = timed(db, conf, args.runs, "status", "1", "--json")
        page = os.path.join(workdir, "status.html")
        rep, _ = timed(db, conf, args.runs, "report", "--html", page)
        hist, _ = timed(db, conf, args.runs, "history", "1", "--since", "24h", "--json")
        print(f"history: {args.sites} sites x {args.days} d x 1 check / {args.step} s")
        if info:
            print(f"  {info['checks']:,} checks, {info['incidents']:,} incidents; "
                  f"load {info['load_s']:.0f} s, indexes {info['index_s']:.1f} s, "
                  f"summed into hours (dbtool tiers) {info['tiers_s']:.1f} s "
                  f"({info['tiers_s'] / max(1, info['checks']) * 1e6:.2f} us per check)"
                  + (f", upkeep to the tiers {info['upkeep_s']:.1f} s" if args.upkeep else ""))
        print(f"  database {size / 1e9:.2f} GB")

        def fmt(ts):
            return f"best {min(ts):.2f} s, median {statistics.median(ts):.2f} s"
        print(f"  status --json ({len(rows)} sites): {fmt(st)}")
        print(f"  status 1 --json:              {fmt(one)}")
        print(f"  report --html ({os.path.getsize(page) / 1e6:.1f} MB): {fmt(rep)}")
        print(f"  history 1 --since 24h:        {fmt(hist)}")
        sample = rows[0] if rows else {}
        print("  sample: " + json.dumps({k: sample.get(k) for k in
                                         ("id", "uptime_24h", "uptime_7d", "uptime_30d", "p50_ms",
                                          "p95_ms", "incidents_30d")}))
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
