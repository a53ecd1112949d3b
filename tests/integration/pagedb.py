"""A database of many sites with 90 days of history, for the status page's
tests and benchmark: written straight into the tiers the daemon keeps (a
row per site and day, a row per site and hour for the last day, the
histograms encoded as core/hist.c does), so 2,000 sites take seconds, not
the hours their raw checks would.

    make(db, n, now, seed=1, groups=("Shop", ...), public_share=0.5)

The database must exist (squirrelctl init). Returns a dict of what was
made: the ids of the sites that are down, degraded, unknown; their names.
"""

import random
import sqlite3

DAY = 86400
HOUR = 3600


def bucket(ms):
    """core/hist.c sq_hist_bucket: exact below 32, sixteen per power of two above."""
    ms = max(0, int(ms))
    if ms < 32:
        return ms
    e = ms.bit_length() - 1
    b = 32 + (e - 5) * 16 + ((ms >> (e - 4)) & 15)
    return min(b, 255)


def leb128(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def hist_blob(values):
    counts = {}
    for v in values:
        b = bucket(v)
        counts[b] = counts.get(b, 0) + 1
    return b"".join(bytes([b]) + leb128(c) for b, c in sorted(counts.items()))


def columns(con, table):
    return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def make(db, n, now, seed=1, groups=("Shop", "API", "Marketing", "Internal tools", "Partners"),
         public_share=0.5, samples=12):
    """n sites, in groups (a tenth in none), about public_share of them public."""
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    has_groups = "group_name" in columns(con, "sites")
    today = now // DAY * DAY
    hour_now = now // HOUR * HOUR
    made = {"down": [], "degraded": [], "unknown": [], "names": {}, "public": [], "ids": []}
    day_rows, hour_rows, states, incidents = [], [], [], []
    for i in range(n):
        name = f"site-{i:05d} {rng.choice(['web', 'api', 'cdn', 'db', 'auth'])}"
        url = f"https://s{i}.example.com/health?token=secret{i}"
        group = None if i % 10 == 9 else groups[i % len(groups)]
        public = 1 if rng.random() < public_share else 0
        if has_groups:
            sid = con.execute("INSERT INTO sites (url, owner_email, name, interval_s, group_name, public)"
                              " VALUES (?, ?, ?, 60, ?, ?)",
                              (url, f"owner{i % 37}@example.com", name, group, public)).lastrowid
        else:
            sid = con.execute("INSERT INTO sites (url, owner_email, name, interval_s) VALUES (?, ?, ?, 60)",
                              (url, f"owner{i % 37}@example.com", name)).lastrowid
        made["ids"].append(sid)
        made["names"][sid] = name
        if public:
            made["public"].append(sid)
        base = rng.choice([40, 80, 120, 250, 600])
        bad_days = set(rng.sample(range(89), rng.choice([0, 0, 0, 1, 2, 4])))
        for d in range(89):
            day = today - (89 - d) * DAY
            down = rng.randint(60, 7200) if d in bad_days else 0
            checks = 1440
            fails = down // 60
            vals = [base * (0.7 + rng.random() * 0.8) for _ in range(samples)]
            n_ok = checks - fails
            day_rows.append((sid, day, DAY - down, down, 0, 0, checks, fails, n_ok,
                             int(sum(vals) / len(vals) * n_ok), int(min(vals)), int(max(vals)),
                             hist_blob(vals)))
        for h in range(25):
            hour = hour_now - (24 - h) * HOUR
            vals = [base * (0.7 + rng.random() * 0.8) for _ in range(samples)]
            secs = min(HOUR, now - hour)
            hour_rows.append((sid, hour, secs, 0, 0, 0, 60, 0, 60, int(sum(vals) / len(vals) * 60),
                              int(min(vals)), int(max(vals)), hist_blob(vals)))
        r = rng.random()
        if r < 0.01:
            state, err, status = "down", "connect refused", 0
            made["down"].append(sid)
            incidents.append((sid, now - rng.randint(300, 7200), None, "connect refused"))
        elif r < 0.02:
            state, err, status = "degraded", "", 200
            made["degraded"].append(sid)
        elif r < 0.025:
            state, err, status = "unknown", "", 0
            made["unknown"].append(sid)
        else:
            state, err, status = "up", "", 200
        if bad_days:
            d = min(bad_days)
            start = today - (89 - d) * DAY + 3600
            incidents.append((sid, start, start + 1800, "http 503"))
        if state != "unknown":
            states.append((sid, state, now - rng.randint(3600, 30 * DAY), now - rng.randint(1, 59),
                           status, int(base), err))
    con.executemany("INSERT INTO uptime_days (site_id, day, up_s, down_s, slow_s, maint_s, checks, failures,"
                    " ms_n, ms_sum, ms_min, ms_max, ms_hist) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", day_rows)
    con.executemany("INSERT INTO uptime_hours (site_id, hour, up_s, down_s, slow_s, maint_s, checks, failures,"
                    " ms_n, ms_sum, ms_min, ms_max, ms_hist) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", hour_rows)
    con.executemany("INSERT INTO site_state (site_id, state, since, last_check, last_status, last_ms, last_error)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", states)
    con.executemany("INSERT INTO incidents (site_id, started_at, ended_at, cause) VALUES (?, ?, ?, ?)",
                    incidents)
    # the days before today are rolled up; today is read from its hours
    con.execute("UPDATE settings SET days_below = ?, raw_below = ?", (today, now - 2 * DAY))
    con.commit()
    con.close()
    return made
