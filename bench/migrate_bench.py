#!/usr/bin/env python3
"""How long a big history takes to reach the tiers of schema 19, while the
daemon keeps checking.

Takes a database of an older schema (for example the 52.6 M-check one that
`bench/report_bench.py --keep` leaves, made by an earlier squirrel), copies
it, points its sites at a test HTTP server on loopback (the history stays as
it is), migrates it with `squirrelctl init` (timed: DDL only, no row
rewritten), then runs squirreld on it and follows the reporter's upkeep in
the database once a second: the response times of the older history summed
into its hours (settings.backfill_below), the old successes pruned, days
rolled up. It prints when each part ended, the daemon's CPU, its largest gap
between two checks of one site while the upkeep ran (against the interval),
and the file before and after (the pages freed are reused by new rows; the
file shrinks only with VACUUM).

usage: bench/migrate_bench.py --db OLD.db [--dir DIR] [--interval S]
                              [--max-seconds S] [--kill-at S]
--kill-at S kills the daemon with SIGKILL S seconds in and starts it again:
the upkeep resumes where its last transaction ended.
"""

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SQ_BUILD_ROOT", os.path.join(HERE, "..", "build"))
SQUIRRELD = os.path.join(BUILD, "squirreld")
CTL = os.path.join(BUILD, "squirrelctl")
HTTPD = os.path.join(BUILD, "tests", "sq-httpd")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def progress(db, start):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        below, site, raw_below, days_below, prune_at = con.execute(
            "SELECT backfill_below, backfill_site, raw_below, days_below, prune_at"
            " FROM settings").fetchone()
        return {"backfill_below": below, "backfill_site": site, "raw_below": raw_below,
                "days_below": days_below, "prune_at": prune_at}
    finally:
        con.close()


def largest_gap(db, since):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute(
            "SELECT max(gap) FROM (SELECT checked_at - lag(checked_at) OVER"
            " (PARTITION BY site_id ORDER BY checked_at) AS gap FROM checks WHERE checked_at >= ?)",
            (since,)).fetchone()
        return row[0]
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="a database of an older schema (copied, not changed)")
    ap.add_argument("--dir", help="where to work (default: a temporary directory)")
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--max-seconds", type=int, default=3600)
    ap.add_argument("--kill-at", type=int, default=0)
    args = ap.parse_args()
    for tool in (SQUIRRELD, CTL, HTTPD):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} not found: build first (meson compile -C build)")
    work = args.dir or tempfile.mkdtemp(prefix="squirrel-migrate-")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "m.db")
    conf = os.path.join(work, "m.conf")
    port_file = os.path.join(work, "httpd.port")
    httpd = subprocess.Popen([HTTPD, "--port", "0", "--port-file", port_file],
                             stdin=subprocess.DEVNULL)
    daemon = None
    try:
        t0 = time.monotonic()
        shutil.copy(args.db, db)
        print(f"copied {os.path.getsize(db) / 1e9:.2f} GB in {time.monotonic() - t0:.0f} s",
              file=sys.stderr)
        for _ in range(100):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        port = int(open(port_file).read().strip())
        con = sqlite3.connect(db)
        version = con.execute("PRAGMA user_version").fetchone()[0]
        checks = con.execute("SELECT max(id) FROM checks").fetchone()[0] or 0
        sites = con.execute("SELECT count(*) FROM sites").fetchone()[0]
        con.execute("UPDATE sites SET url = ? || id", (f"http://127.0.0.1:{port}/s",))
        con.commit()
        con.close()
        with open(conf, "w") as f:
            f.write(f"[squirreld]\ndatabase = {db}\nbackend = libev\n"
                    f"[check]\ninterval = {args.interval}\n[smtp]\nhost = 127.0.0.1\nport = 9\n")
        t0 = time.monotonic()
        p = subprocess.run([CTL, "--config", conf, "init"], capture_output=True, text=True)
        init_s = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"squirrelctl init failed: {p.stderr}")
        con = sqlite3.connect(db)
        now_version = con.execute("PRAGMA user_version").fetchone()[0]
        con.close()
        print(f"schema {version} -> {now_version} (squirrelctl init): {init_s:.2f} s; {checks:,} checks of "
              f"{sites} sites")
        size0 = os.path.getsize(db)
        log = open(os.path.join(work, "squirreld.log"), "w")
        start_wall = int(time.time())
        t0 = time.monotonic()
        daemon = subprocess.Popen([SQUIRRELD, "--config", conf], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=log)
        cpu_before = 0.0
        marks = {}
        killed = False
        while time.monotonic() - t0 < args.max_seconds:
            time.sleep(1)
            el = time.monotonic() - t0
            if args.kill_at and not killed and el >= args.kill_at:
                cpu_before += cpu_s(daemon.pid)
                daemon.send_signal(signal.SIGKILL)
                daemon.wait()
                daemon = subprocess.Popen([SQUIRRELD, "--config", conf], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=log)
                killed = True
                print(f"  {el:6.0f} s  SIGKILL, started again", flush=True)
                continue
            pr = progress(db, start_wall)
            if pr["backfill_below"] == 0 and "backfill" not in marks:
                marks["backfill"] = el
                print(f"  {el:6.0f} s  response times of the old history summed", flush=True)
            if "backfill" in marks and pr["prune_at"] >= pr["raw_below"] > 0 and "pruned" not in marks:
                marks["pruned"] = el
                print(f"  {el:6.0f} s  old successes pruned to raw_hours", flush=True)
            if int(el) % 30 == 0:
                print(f"  {el:6.0f} s  backfill at site {pr['backfill_site'] if pr['backfill_below'] else 'done'}"
                      f"  days_below "
                      f"{time.strftime('%Y-%m-%d', time.gmtime(pr['days_below'])) if pr['days_below'] else '-'}"
                      f"  prune_at {time.strftime('%Y-%m-%d %H:%M', time.gmtime(pr['prune_at'])) if pr['prune_at'] else '-'}",
                      flush=True)
            if "pruned" in marks and pr["days_below"] >= (int(time.time()) // 86400 - 2) * 86400:
                marks["days"] = el
                print(f"  {el:6.0f} s  days rolled up", flush=True)
                break
        cpu = cpu_before + cpu_s(daemon.pid)
        wall = time.monotonic() - t0
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        daemon = None
        gap = largest_gap(db, start_wall + 5)
        con = sqlite3.connect(db)
        pages, free, psize = (con.execute(f"PRAGMA {p}").fetchone()[0]
                              for p in ("page_count", "freelist_count", "page_size"))
        left = con.execute("SELECT count(*) FROM checks").fetchone()[0]
        con.close()
        print(f"upkeep while checking: {wall:.0f} s wall, daemon CPU {cpu:.0f} s "
              f"({100 * cpu / wall:.0f} % of a core), {left:,} checks left raw")
        print(f"largest gap between two checks of a site meanwhile: {gap} s "
              f"(interval {args.interval} s{', the kill included' if killed else ''})")
        print(f"file: {size0 / 1e9:.2f} GB before, {pages * psize / 1e9:.2f} GB after, of which "
              f"{free * psize / 1e9:.2f} GB free pages (reused; VACUUM gives them back)")
        for k, v in marks.items():
            print(f"  {k}: {v:.0f} s")
    finally:
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
        httpd.send_signal(signal.SIGTERM)
        httpd.wait(timeout=10)
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
