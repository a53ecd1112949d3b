#!/usr/bin/env python3
"""What a year of history costs in the tiers of schema 19: bytes on disk per
check, the time of `squirrelctl status --json` and `report --html` on many
sites, and how close the percentiles read from the hourly histograms are to
the exact ones.

A year is not waited for: the tiers are generated as the daemon leaves them
after a year of checks at one interval (60 s), with `raw_hours` (48) and
the hourly tier's 35 days:

  - the raw checks of the last raw_hours (from the first whole hour in
    them), every check, time-major as the daemon writes them: response
    times lognormal around each site's own median (about 150 ms), about
    0.5 % failures (half of them single blips, half in outages of some
    30 checks, which are incidents);
  - `dbtool tiers` on that window, so that its hours (and its edge marks)
    are the real code's;
  - older than that and up to 35 days: the failures and the edges (a check
    whose verdict differs from the one before) raw, and one row per site
    and hour;
  - one row per site and day for the whole year (the daily roll-up);
  - the incidents of the year, the sites' state and counters, and the
    settings the upkeep leaves (raw_below, hours_below, days_below, ...).

The hourly and daily histograms older than the raw window are encoded here
with the bucket function of src/core/hist.c, and checked against the blobs
`dbtool tiers` wrote for the same checks. To keep generating quick, each
site's older hours and days take their histograms from a pool of real
samples drawn for its median (the failed checks of the hour or day taken
out), and the sites past --distinct are copies of the first ones' history
under their own ids.

See bench/README.md ("History benchmark").

usage: bench/history_bench.py [--sites 1000] [--timing-sites 10000] [--runs 3] ...
"""

import argparse
import bisect
import json
import math
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
HOUR = 3600
DAY = 86400
HOURLY_DAYS = 35          # include/squirrel/store/retention.h: STORE_HOURLY_DAYS
FAIL_THRESHOLD = 2        # the default: a run of this many failures is an incident

# the figures before schema 19 (bench/README.md, issue 17)
BEFORE_BYTES = "about 66 B (a row and three indexes per check)"
BEFORE_TIMES = ("not measured at 10,000 sites; 1,000 sites x 35 d at 1/min: status 0.75 s, "
                "report 1.2 s (report_bench)")
BEFORE_PCT = "0 % (exact, from the raw checks of 24 h)"

# failure kinds: (class code as src/core/classes.h, http status, ms or None for a normal time)
FAILS = [(8, 0, 10000), (1, 503, None), (7, 0, 1), (10, 0, 30000), (1, 502, None)]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- the histogram, as src/core/hist.c ----

def hist_bucket(ms):
    """sq_hist_bucket(): 0..31 exact, then sixteen buckets per power of two."""
    if ms < 32:
        return ms if ms > 0 else 0
    e = ms.bit_length() - 1
    b = 32 + (e - 5) * 16 + ((ms >> (e - 4)) & 15)
    return b if b < 256 else 255


def hist_low(b):
    if b < 32:
        return b
    e, m = (b - 32) // 16 + 5, (b - 32) % 16
    return (16 + m) << (e - 4)


def hist_value(b):
    """sq_hist_value(): the middle of the bucket."""
    if b < 32:
        return b
    e = (b - 32) // 16 + 5
    lo = hist_low(b)
    hi = lo + (1 << (e - 4)) - 1
    return lo + (hi - lo) // 2


def hist_encode(counts):
    """sq_hist_encode(): (bucket byte, LEB128 count) in increasing bucket order."""
    out = bytearray()
    for b in sorted(counts):
        c = counts[b]
        if c == 0:
            continue
        out.append(b)
        while c >= 0x80:
            out.append((c & 0x7f) | 0x80)
            c >>= 7
        out.append(c)
    return bytes(out)


def hist_decode(blob):
    counts, i = {}, 0
    while i < len(blob):
        b = blob[i]
        i += 1
        c, shift = 0, 0
        while True:
            byte = blob[i]
            i += 1
            c |= (byte & 0x7f) << shift
            shift += 7
            if not byte & 0x80:
                break
        counts[b] = c
    return counts


def hist_percentile(counts, pct):
    """sq_hist_percentile(): nearest rank, the value of the bucket it falls in."""
    total = sum(counts.values())
    if total == 0:
        return -1
    rank = max(1, (total * pct + 99) // 100)
    seen = 0
    for b in sorted(counts):
        seen += counts[b]
        if seen >= rank:
            return hist_value(b)
    return hist_value(max(counts))


def exact_percentile(sorted_ms, pct):
    """The nearest-rank percentile of the raw values (src/store/uptime.c: percentile)."""
    n = len(sorted_ms)
    rank = max(1, (n * pct + 99) // 100)
    return sorted_ms[rank - 1]


# ---- a pool of real histograms per response-time profile ----

class Pool:
    """Histograms of `n` real samples (an hour) and of a day of them, for
    one median; an hour or day with f failures takes f counts out."""

    def __init__(self, rng, median, sigma, per_hour, hours=48, days=16):
        mu = math.log(median)
        self.hours = []
        for _ in range(hours):
            v = [max(1, int(rng.lognormvariate(mu, sigma))) for _ in range(per_hour)]
            c = {}
            for x in v:
                b = hist_bucket(x)
                c[b] = c.get(b, 0) + 1
            self.hours.append((c, sum(v), min(v), max(v)))
        self.days = []
        for _ in range(days):
            c, s, lo, hi = {}, 0, None, None
            for _ in range(24):
                hc, hs, hlo, hhi = self.hours[rng.randrange(hours)]
                for b, k in hc.items():
                    c[b] = c.get(b, 0) + k
                s += hs
                lo = hlo if lo is None else min(lo, hlo)
                hi = hhi if hi is None else max(hhi, hi)
            self.days.append((c, s, lo, hi))
        self.cache = {}

    def row(self, day, idx, failures):
        """(ms_n, ms_sum, ms_min, ms_max, blob) with `failures` samples fewer."""
        key = (day, idx, failures)
        r = self.cache.get(key)
        if r is not None:
            return r
        c, s, lo, hi = (self.days if day else self.hours)[idx]
        c = dict(c)
        n = sum(c.values())
        take = min(failures, n)
        for b in sorted(c, key=lambda b: -c[b]):
            if take == 0:
                break
            k = min(take, c[b])
            c[b] -= k
            s -= k * hist_value(b)
            take -= k
        c = {b: k for b, k in c.items() if k}
        left = n - min(failures, n)
        if left == 0:
            r = (0, 0, None, None, None)
        else:
            r = (left, max(s, left), lo, hi, hist_encode(c))
        self.cache[key] = r
        return r


# ---- the generator ----

class Site:
    __slots__ = ("id", "offset", "median", "pool", "events", "fail_t")


def failure_events(rng, last_k, blip_rate, outage_rate, outage_len):
    """Failed checks as runs (first check index, length), none touching:
    single blips, and outages of about outage_len checks (at least two)."""
    ev = []
    for rate, mean in ((blip_rate, 1), (outage_rate, outage_len)):
        if rate <= 0:
            continue
        k = int(rng.expovariate(rate))
        while k < last_k:
            n = 1 if mean == 1 else max(2, round(rng.expovariate(1 / mean)))
            ev.append((k, min(n, last_k - k)))
            k += n + int(rng.expovariate(rate))
    ev.sort()
    out = []
    for k, n in ev:
        if out and k <= out[-1][0] + out[-1][1]:
            continue
        out.append((k, n))
    return out


def ctl(args, *cmd, timeout=3600, exe=None):
    t0 = time.monotonic()
    p = subprocess.run([exe or args.squirrelctl, "--config", args.conf, "--db", args.db, *cmd],
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"squirrelctl {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return dt, p.stdout


def run_tool(argv):
    p = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()}")


def connect(db):
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA cache_size = -2000000")
    con.execute("PRAGMA synchronous = OFF")
    return con


def generate(args, now):
    """The 1,000-site (--sites) database; returns what was generated."""
    rng = random.Random(args.seed)
    iv = args.interval
    per_hour = HOUR // iv
    year_start = now - args.days * DAY
    raw_from = (now - args.raw_hours * HOUR + HOUR - 1) // HOUR * HOUR   # whole hours raw
    keep = max(HOURLY_DAYS * DAY, args.raw_hours * HOUR)
    keep_from = now - keep                                  # failures and edges raw from here
    hours_below = keep_from // DAY * DAY                     # the hourly tier from here
    days_below = now // DAY * DAY - DAY                      # days rolled up: ended > a day ago
    first_day = year_start // DAY * DAY
    info = {"now": now, "raw_from": raw_from, "hours_below": hours_below,
            "days_below": days_below}

    run_tool([args.squirrelctl, "--config", args.conf, "--db", args.db, "init"])
    con = connect(args.db)
    con.execute("PRAGMA journal_mode = OFF")

    # sites: a median each, about 150 ms; profiles on a grid share a pool
    pools = {}
    sites = []
    n = min(args.sites, args.distinct)
    fail = args.fail_pct / 100
    blip_rate = fail * args.blip_share / 100                   # per check
    outage_rate = fail * (1 - args.blip_share / 100) / args.outage_checks
    last_k = (now - year_start) // iv
    for i in range(1, n + 1):
        s = Site()
        s.id = i
        s.offset = rng.randrange(iv)
        grid = round(math.log(150) * 8 + rng.gauss(0, 0.6) * 8)
        grid = min(max(grid, 24), 64)                # 20 ms .. 3 s
        s.median = math.exp(grid / 8)
        if grid not in pools:
            pools[grid] = Pool(rng, s.median, args.sigma, per_hour)
        s.pool = pools[grid]
        s.events = failure_events(rng, last_k, blip_rate, outage_rate, args.outage_checks)
        sites.append(s)

    con.execute("BEGIN")
    con.executemany("INSERT INTO sites (id, url, owner_email, name, created_at) VALUES (?, ?, ?, ?, ?)",
                    [(s.id, f"https://site-{s.id}.example.com/", f"ops{s.id % 50}@example.com",
                      f"Site {s.id}" if s.id % 3 else None, year_start) for s in sites])
    con.execute("COMMIT")

    def t_of(s, k):
        return year_start - year_start % iv + s.offset + k * iv

    def fail_row(s, k, mu):
        cls, status, ms = FAILS[k % len(FAILS)]
        if ms is None:
            ms = max(1, int(rng.lognormvariate(mu, args.sigma)))
        return cls, status, ms

    # the raw window: every check, time-major
    t0 = time.monotonic()
    raw = []
    before = {}          # site -> verdict of the check before the window (1 ok, 0 failed)
    for s in sites:
        mu = math.log(s.median)
        k0 = -(-(raw_from - t_of(s, 0)) // iv)
        k1 = -(-(now - t_of(s, 0)) // iv)        # checks before now
        failed = set()
        for k, ln in s.events:
            if k + ln > k0 - 1 and k < k1:
                failed.update(range(max(k, k0 - 1), min(k + ln, k1)))
        before[s.id] = 0 if (k0 - 1) in failed else 1
        lv = rng.lognormvariate
        for k in range(k0, k1):
            t = t_of(s, k)
            if k in failed:
                cls, status, ms = fail_row(s, k, mu)
                raw.append((t, s.id, 0, status, ms, cls))
            else:
                ms = int(lv(mu, args.sigma))
                raw.append((t, s.id, 1, 200, ms if ms > 0 else 1, 0))
    raw.sort()
    con.execute("BEGIN")
    con.executemany("INSERT INTO checks (checked_at, site_id, ok, http_status, ms, class)"
                    " VALUES (?, ?, ?, ?, ?, ?)", raw)
    con.execute("COMMIT")
    info["raw"] = len(raw)
    log(f"  raw window: {len(raw):,} checks in {time.monotonic() - t0:.1f} s")
    del raw

    # the window's hours and edges by the real code
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    t0 = time.monotonic()
    run_tool([args.dbtool, "tiers", args.db])
    info["tiers_s"] = time.monotonic() - t0
    log(f"  dbtool tiers: {info['tiers_s']:.1f} s")
    con = connect(args.db)
    con.execute("PRAGMA journal_mode = OFF")

    # the window's first check is an edge only if it differs from the one before;
    # the hold of the one before reaches into the first hour
    con.execute("BEGIN")
    fix_edge, fix_hold = [], []
    for s in sites:
        k0 = -(-(raw_from - t_of(s, 0)) // iv)
        t = t_of(s, k0)
        ok = con.execute("SELECT ok FROM checks WHERE site_id = ? AND checked_at = ?",
                         (s.id, t)).fetchone()[0]
        if ok == before[s.id]:
            fix_edge.append((s.id, t))
        if t > raw_from:
            col = (t - raw_from, 0) if before[s.id] else (0, t - raw_from)
            fix_hold.append((*col, s.id, raw_from))
    con.executemany("UPDATE checks SET edge = NULL WHERE site_id = ? AND checked_at = ?", fix_edge)
    con.executemany("UPDATE uptime_hours SET up_s = up_s + ?, down_s = down_s + ?"
                    " WHERE site_id = ? AND hour = ?", fix_hold)
    con.execute("COMMIT")

    # older: failures and edges raw, hours, days, incidents
    t0 = time.monotonic()
    old_raw, hours, days, incidents, state, counters = [], [], [], [], [], []
    for s in sites:
        mu = math.log(s.median)
        fail_h, fail_d = {}, {}
        total_fail = 0
        last_fail_end = None
        for k, ln in s.events:
            ta = t_of(s, k)
            total_fail += ln
            for j in range(k, k + ln):
                t = t_of(s, j)
                if t >= now:
                    break
                h = t // HOUR * HOUR
                fail_h[h] = fail_h.get(h, 0) + 1
                d = t // DAY * DAY
                fail_d[d] = fail_d.get(d, 0) + 1
                if keep_from <= t < raw_from:
                    cls, status, ms = fail_row(s, j, mu)
                    old_raw.append((t, s.id, 0, status, ms, cls, 1 if j == k else None))
            tb = t_of(s, k + ln)                 # the check that recovers: an edge
            if keep_from <= tb < raw_from:
                old_raw.append((tb, s.id, 1, 200, max(1, int(rng.lognormvariate(mu, args.sigma))),
                                0, 1))
            if ln >= FAIL_THRESHOLD and ta < now:
                end = tb if tb < now else None
                incidents.append((s.id, t_of(s, k + FAIL_THRESHOLD - 1), end,
                                  "connect timeout" if FAILS[k % len(FAILS)][0] == 8 else "http 503"))
            last_fail_end = tb
        for h in range(hours_below, raw_from, HOUR):
            f = fail_h.get(h, 0)
            ms_n, ms_sum, lo, hi, blob = s.pool.row(False, rng.randrange(len(s.pool.hours)), f)
            hours.append((s.id, h, HOUR - f * iv, f * iv, per_hour, f, ms_n, ms_sum, lo, hi, blob))
        for d in range(first_day, days_below, DAY):
            f = fail_d.get(d, 0)
            ms_n, ms_sum, lo, hi, blob = s.pool.row(True, rng.randrange(len(s.pool.days)), f)
            days.append((s.id, d, DAY - f * iv, f * iv, per_hour * 24, f, ms_n, ms_sum, lo, hi,
                         blob))
        k_last = -(-(now - t_of(s, 0)) // iv) - 1
        t_last = t_of(s, k_last)
        down_now = bool(s.events) and s.events[-1][0] + s.events[-1][1] > k_last
        state.append((s.id, "down" if down_now else "up",
                      t_of(s, s.events[-1][0]) if down_now else (last_fail_end or year_start),
                      t_last, t_last if not down_now else t_of(s, s.events[-1][0] - 1),
                      0 if down_now else 200, int(s.median), ""))
        counters.append((s.id, k_last + 1, total_fail))
    log(f"  older tiers made in {time.monotonic() - t0:.1f} s: {len(old_raw):,} raw, "
        f"{len(hours):,} hours, {len(days):,} days, {len(incidents):,} incidents")
    t0 = time.monotonic()
    old_raw.sort()
    con.execute("BEGIN")
    con.executemany("INSERT INTO checks (checked_at, site_id, ok, http_status, ms, class, edge)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", old_raw)
    con.executemany("INSERT INTO uptime_hours (site_id, hour, up_s, down_s, checks, failures,"
                    " ms_n, ms_sum, ms_min, ms_max, ms_hist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    hours)
    con.executemany("INSERT INTO uptime_days (site_id, day, up_s, down_s, checks, failures,"
                    " ms_n, ms_sum, ms_min, ms_max, ms_hist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    days)
    con.executemany("INSERT INTO incidents (site_id, started_at, ended_at, cause) VALUES (?, ?, ?, ?)",
                    incidents)
    con.executemany("INSERT OR REPLACE INTO site_state (site_id, state, since, last_check, last_ok,"
                    " last_status, last_ms, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", state)
    con.executemany("INSERT OR REPLACE INTO site_counters (site_id, checks, failures)"
                    " VALUES (?, ?, ?)", counters)
    con.execute("UPDATE settings SET raw_below = ?, hours_below = ?, days_below = ?, prune_at = ?,"
                " keep_at = ?, backfill_below = 0 WHERE id = 1",
                (now - args.raw_hours * HOUR, hours_below, days_below,
                 now - args.raw_hours * HOUR, keep_from))
    con.execute("COMMIT")
    log(f"  older tiers written in {time.monotonic() - t0:.1f} s")
    info.update(old_raw=len(old_raw), hours=len(hours), days=len(days), incidents=len(incidents))
    del old_raw, hours, days, incidents
    finish(con)
    return info


def clone(args, db_from, db_to, n_to):
    """db_to: db_from with its sites copied under new ids up to n_to sites."""
    shutil.copyfile(db_from, db_to)
    con = connect(db_to)
    con.execute("PRAGMA journal_mode = OFF")
    n = con.execute("SELECT max(id) FROM sites").fetchone()[0]
    t0 = time.monotonic()
    # the secondary indexes of the big tables made again after the copy: a sort, not 10 M inserts
    aside = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                        " AND tbl_name IN ('checks', 'uptime_hours', 'uptime_days', 'incidents')"
                        " AND sql NOT LIKE '%WHERE%'").fetchall()
    for name, _ in aside:
        con.execute(f'DROP INDEX "{name}"')
    for base in range(n, n_to, n):
        m = min(n, n_to - base)
        con.execute("BEGIN")
        con.execute("INSERT INTO sites (id, url, owner_email, name, created_at)"
                    " SELECT id + ?1, 'https://site-' || (id + ?1) || '.example.com/', owner_email,"
                    "  CASE WHEN name IS NULL THEN NULL ELSE 'Site ' || (id + ?1) END, created_at"
                    " FROM sites WHERE id <= ?2", (base, m))
        con.execute("INSERT INTO site_state (site_id, state, since, last_check, last_ok, last_status,"
                    " last_ms, last_error) SELECT site_id + ?1, state, since, last_check, last_ok,"
                    " last_status, last_ms, last_error FROM site_state WHERE site_id <= ?2", (base, m))
        con.execute("INSERT INTO site_counters SELECT site_id + ?1, checks, failures"
                    " FROM site_counters WHERE site_id <= ?2", (base, m))
        con.execute("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, detail, class,"
                    " maintenance, slow, edge) SELECT site_id + ?1, checked_at, ok, http_status, ms,"
                    " detail, class, maintenance, slow, edge FROM checks WHERE site_id <= ?2"
                    " ORDER BY id", (base, m))
        for table in ("uptime_hours", "uptime_days"):
            con.execute(f"INSERT INTO {table} SELECT site_id + ?1, {'hour' if 'hours' in table else 'day'},"
                        " up_s, down_s, slow_s, maint_s, checks, failures, ms_n, ms_sum, ms_min, ms_max,"
                        f" ms_hist FROM {table} WHERE site_id <= ?2", (base, m))
        con.execute("INSERT INTO incidents (site_id, started_at, ended_at, cause)"
                    " SELECT site_id + ?1, started_at, ended_at, cause FROM incidents"
                    " WHERE site_id <= ?2", (base, m))
        con.execute("COMMIT")
        log(f"  {base + m:,} sites, {time.monotonic() - t0:.0f} s")
    for name, sql in aside:
        con.execute(sql)
        log(f"  index {name} made again, {time.monotonic() - t0:.0f} s")
    finish(con)


def finish(con):
    """Back to the daemon's journal mode, everything in the main file."""
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


# ---- the figures ----

def check_encoder(db, raw_from, sample=300, seed=2):
    """The blobs dbtool tiers wrote for whole hours of the raw window against
    this encoder's for the same checks: the same bytes, or stop."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT site_id, hour, ms_n, ms_sum, ms_min, ms_max, ms_hist"
                       " FROM uptime_hours WHERE hour >= ? AND hour + 3600 <= ? AND ms_n > 0",
                       (raw_from, int(time.time()) - 2 * HOUR)).fetchall()
    rng = random.Random(seed)
    rows = rng.sample(rows, min(sample, len(rows)))
    bad = 0
    for site, hour, n, s, lo, hi, blob in rows:
        ms = [r[0] for r in con.execute("SELECT ms FROM checks WHERE site_id = ? AND ok = 1"
                                        " AND checked_at >= ? AND checked_at < ?",
                                        (site, hour, hour + HOUR))]
        c = {}
        for x in ms:
            b = hist_bucket(x)
            c[b] = c.get(b, 0) + 1
        mine = (len(ms), sum(ms), min(ms), max(ms), hist_encode(c))
        if mine != (n, s, lo, hi, bytes(blob)):
            bad += 1
            if bad <= 3:
                log(f"  site {site} hour {hour}: dbtool {(n, s, lo, hi, bytes(blob).hex())}"
                    f" here {(mine[0], mine[1], mine[2], mine[3], mine[4].hex())}")
    con.close()
    if not rows:
        sys.exit("no whole hour of the raw window to compare the histogram encoder with")
    if bad:
        sys.exit(f"the encoder differs from src/core/hist.c on {bad} of {len(rows)} hours")
    return len(rows)


def sizes(db):
    con = sqlite3.connect(db)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    free = con.execute("PRAGMA freelist_count").fetchone()[0]
    per = []
    try:
        per = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
                          " ORDER BY 2 DESC").fetchall()
    except sqlite3.OperationalError:
        pass
    counts = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    owner = dict(con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN"
                             " ('table', 'index')").fetchall())
    con.close()
    return page * pages, free * page, per, counts, owner


def percentiles(args, db, conf):
    """status --json's p50/p95 against the exact ones of the same hours."""
    for _ in range(3):
        t_before = int(time.time())
        _, out = ctl(args, "status", "--json")
        t_after = int(time.time())
        # status reads the hours h with h > now - 24 h - 1 h and h <= now
        lo_b, lo_a = (t_before - DAY - HOUR) // HOUR, (t_after - DAY - HOUR) // HOUR
        if lo_b == lo_a and t_before // HOUR == t_after // HOUR:
            break
    else:
        sys.exit("status --json kept running across an hour's edge")
    rows = {r["id"]: r for r in json.loads(out)}
    first = (t_before - DAY) // HOUR * HOUR
    con = sqlite3.connect(db)
    ms = {}
    for site, m in con.execute("SELECT site_id, ms FROM checks WHERE ok = 1 AND checked_at >= ?"
                               " AND checked_at < ?", (first, t_before // HOUR * HOUR + HOUR)):
        ms.setdefault(site, []).append(m)
    con.close()
    errs = {50: [], 95: []}
    worst = {50: (0, None), 95: (0, None)}
    for site, v in ms.items():
        v.sort()
        r = rows.get(site)
        if r is None:
            sys.exit(f"status --json has no site {site}")
        for p in (50, 95):
            exact = exact_percentile(v, p)
            got = r[f"p{p}_ms"]
            e = abs(got - exact) / exact
            errs[p].append(e)
            if e >= worst[p][0]:
                worst[p] = (e, (site, exact, got))
    return errs, worst, len(ms)


def timed(args, runs, *cmd, exe=None):
    ctl(args, *cmd, exe=exe)          # warms the cache
    return [ctl(args, *cmd, exe=exe)[0] for _ in range(runs)]


def mb(x):
    return f"{x / 1e6:,.1f} MB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=1000, help="sites of the bytes and percentile figures")
    ap.add_argument("--timing-sites", type=int, default=10000,
                    help="sites of the status/report timing (0: skip it)")
    ap.add_argument("--distinct", type=int, default=1000,
                    help="sites with a history of their own; the others copy one")
    ap.add_argument("--days", type=int, default=365, help="days of history")
    ap.add_argument("--interval", type=int, default=60, help="seconds between checks (divides 3600)")
    ap.add_argument("--raw-hours", type=int, default=48, help="[squirreld] raw_hours")
    ap.add_argument("--fail-pct", type=float, default=0.5, help="share of failed checks, %%")
    ap.add_argument("--blip-share", type=float, default=50,
                    help="%% of the failed checks that are single blips (the others: outages)")
    ap.add_argument("--outage-checks", type=float, default=30, help="mean length of an outage, checks")
    ap.add_argument("--sigma", type=float, default=0.3, help="spread of a site's response times (log)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each command (median)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--before-ctl", help="another squirrelctl (an older build) timed on the same"
                    " database, shown as the figure before")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if args.interval <= 0 or HOUR % args.interval:
        sys.exit(f"--interval {args.interval}: must divide 3600")
    if args.sites < 1 or args.distinct < 1 or args.days < HOURLY_DAYS + 1 or args.runs < 1:
        sys.exit("--sites, --distinct and --runs must be at least 1, --days more than 35")
    if not 1 <= args.raw_hours <= HOURLY_DAYS * 24 or not 0 <= args.fail_pct < 50 or \
            not 0 <= args.blip_share <= 100 or args.outage_checks < 2:
        sys.exit("--raw-hours 1..840, --fail-pct 0..50, --blip-share 0..100 and --outage-checks"
                 " >= 2, please")
    args.squirrelctl = os.path.join(args.build, "squirrelctl")
    args.dbtool = os.path.join(args.build, "tests", "dbtool")
    for exe in (args.squirrelctl, args.dbtool) + ((args.before_ctl,) if args.before_ctl else ()):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} not found: build first (meson compile -C {args.build})")

    work = tempfile.mkdtemp(prefix="squirrel-hist-")
    try:
        args.conf = os.path.join(work, "squirrel.conf")
        with open(args.conf, "w") as f:
            f.write(f"[check]\ninterval = {args.interval}\n[squirreld]\n"
                    f"raw_hours = {args.raw_hours}\nhistory_days = 400\n")
        small = os.path.join(work, "year.db")
        args.db = small
        checks = args.sites * args.days * DAY // args.interval
        log(f"generating {args.sites:,} sites x {args.days} d at {args.interval} s in {work}")
        t0 = time.monotonic()
        info = generate(args, int(time.time()))
        gen_s = time.monotonic() - t0
        n = check_encoder(small, info["raw_from"])
        total, free, per, counts, owner = sizes(small)

        print(f"history: {args.sites:,} sites x {args.days} d, one check / {args.interval} s:"
              f" {checks:,} checks; generated in {gen_s:.0f} s")
        print(f"  raw {info['raw']:,} (the last {args.raw_hours} h) + {info['old_raw']:,} failures"
              f" and edges (35 d); {info['hours']:,} + {counts.get('uptime_hours', 0) - info['hours']:,}"
              f" hours (dbtool tiers: {info['tiers_s']:.1f} s); {info['days']:,} days;"
              f" {info['incidents']:,} incidents")
        print(f"  histogram encoder = src/core/hist.c on {n} hours of the raw window (blob, n, sum, min, max)")
        print("\n1. bytes on disk per check")
        if per:
            print(f"  {'table / index':28} {'MB':>9} {'rows':>12} {'B/row':>7} {'B/check':>8}")
            rest = 0
            for name, b in per:
                rows = counts.get(owner.get(name, name))
                if b / checks < 0.005:
                    rest += b
                    continue
                print(f"  {name:28} {b / 1e6:9.1f} {f'{rows:,}' if rows is not None else '':>12}"
                      f" {(b / rows if rows else 0):7.1f} {b / checks:8.3f}")
            print(f"  {'the other ' + str(sum(1 for _, b in per if b / checks < 0.005)):28}"
                  f" {rest / 1e6:9.1f} {'':>12} {'':>7} {rest / checks:8.3f}")
        print(f"  file {mb(total)} (page_count x page_size after a checkpoint; {mb(free)} free)")
        print(f"  bytes per check: {total / checks:.2f} B   target <= 3 B   before: {BEFORE_BYTES}")

        print("\n3. p50/p95 from the histograms vs exact (nearest rank, good checks of the hours"
              " that overlap the last 24 h)")
        errs, worst, nsites = percentiles(args, small, args.conf)
        for p in (50, 95):
            e, (site, exact, got) = worst[p]
            print(f"  p{p}: {nsites} sites, median error {statistics.median(errs[p]) * 100:.2f} %,"
                  f" worst {e * 100:.2f} % (site {site}: exact {exact} ms, histogram {got} ms)"
                  f"   target <= 5 %   before: {BEFORE_PCT}")

        if args.timing_sites > 0:
            print(f"\n2. squirrelctl on {args.timing_sites:,} sites with {args.days} d of history"
                  f" (warm cache; {args.runs} runs after one to warm it)")
            big = small
            if args.timing_sites != args.sites:
                big = os.path.join(work, "big.db")
                if args.timing_sites > args.sites:
                    log(f"copying the history to {args.timing_sites:,} sites")
                    t0 = time.monotonic()
                    clone(args, small, big, args.timing_sites)
                    print(f"  {args.timing_sites:,} sites copied from the {args.sites:,} in"
                          f" {time.monotonic() - t0:.0f} s; file {mb(os.path.getsize(big))}")
                else:
                    args.sites, args.distinct = args.timing_sites, min(args.distinct, args.timing_sites)
                    args.db = big
                    generate(args, int(time.time()))
            args.db = big
            page = os.path.join(work, "status.html")
            res = {}
            for exe in [args.squirrelctl] + ([args.before_ctl] if args.before_ctl else []):
                res[exe] = (timed(args, args.runs, "status", "--json", exe=exe),
                            timed(args, args.runs, "report", "--html", page, exe=exe))

            def fmt(ts):
                return f"median {statistics.median(ts):.2f} s ({', '.join(f'{t:.2f}' for t in ts)})"
            for i, what in enumerate(("status --json", f"report --html ({mb(os.path.getsize(page))})")):
                before = (f"{fmt(res[args.before_ctl][i])} by {args.before_ctl}" if args.before_ctl
                          else BEFORE_TIMES)
                print(f"  {what}: {fmt(res[args.squirrelctl][i])}   target <= 1 s   before: {before}")
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
