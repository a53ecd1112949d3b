"""squirrelctl end to end on real SQLite files: every command, every error
path with its exit status (and nothing written when it fails), uptime
figures on a history built here with known down periods, the migration's
roll-up of older history, the status page's escaping, and the tool used
beside a running squirreld."""

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CtlEnv, Httpd, check, done, equal, free_port, old_db, run, stop_pid, tiers,  # noqa: E402
                     tmpdir, undo_v20, wait_for)

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
SQUIRRELD = os.environ.get("SQUIRRELD", "build/squirreld")
# the schema version this squirrel migrates to (src/store/schema.c, migrations[])
SCHEMA = 20
DAY = 86400

LIST_KEYS = {"id", "enabled", "state", "interval_s", "timeout_ms", "owner_email", "group_name", "public", "name",
             "url", "skipped"}
STATUS_KEYS = {"id", "name", "url", "enabled", "skipped", "state", "since", "last_check", "last_status",
               "last_ms", "uptime_24h", "uptime_7d", "uptime_30d", "p50_ms", "p95_ms",
               "incidents_30d", "cert_days", "cert_expires",
               "slow_30d_s", "maintenance_30d_s", "maintenance_start", "maintenance_end", "last_error"}


class Env(CtlEnv):
    def __init__(self, tmp):
        super().__init__(tmp, "ctl.db")


def snapshot(db):
    """Everything a failed command must leave as it was."""
    con = sqlite3.connect(db)
    try:
        return [con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("sites", "checks", "incidents", "outbox", "sites_version")]
    finally:
        con.close()


def test_missing_and_init(e):
    rc, out, err = e.ctl("list")
    equal(rc, 1, "list on a missing database: exit 1")
    check("no such database" in err and "squirrelctl init" in err, "the message says what to do", err)
    check(not os.path.exists(e.db), "nothing created by a reading command")
    rc, out, err = e.ctl("add", "https://example.org/", "ops@example.org")
    equal(rc, 1, "add on a missing database: exit 1")
    check(not os.path.exists(e.db), "add does not create the database either")
    rc, out, err = e.ctl("init")
    equal(rc, 0, "init creates it")
    check(f"schema version {SCHEMA}" in out, "init says the schema version", out)
    con = sqlite3.connect(e.db)
    equal(con.execute("PRAGMA user_version").fetchone()[0], SCHEMA, f"schema version {SCHEMA}")
    equal(con.execute("PRAGMA journal_mode").fetchone()[0], "wal", "WAL mode")
    equal(con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                      " AND name = 'coordinator_runs'").fetchone()[0], 1,
          "the redis coordinator's runs table is in the schema")
    con.close()
    rc, out, err = e.ctl("init")
    equal(rc, 0, "init again is harmless")
    equal(e.json("init"), [{"database": e.db, "schema_version": SCHEMA}], "init --json")


def test_usage_errors(e):
    e.ctl("add", "https://taken.example/", "ops@example.org")
    before = snapshot(e.db)
    cases = [
        ([], "no command"),
        (["frobnicate"], "an unknown command"),
        (["list", "--bogus"], "an unknown option"),
        (["list", "extra"], "an argument list does not take"),
        (["add", "https://example.org/"], "add without an address"),
        (["add", "ftp://example.org/", "ops@example.org"], "add: a scheme other than http(s)"),
        (["add", "not a url", "ops@example.org"], "add: not a URL"),
        (["add", "http:///nohost", "ops@example.org"], "add: a URL without a host"),
        (["add", "https://example.org/a b", "ops@example.org"], "add: a URL with a space"),
        (["add", "https://example.org/", "nobody"], "add: an address without @"),
        (["add", "https://example.org/", "a@b@c.org"], "add: two @"),
        (["add", "https://example.org/", "a@b.org,c@d.org"], "add: two addresses"),
        (["add", "https://example.org/", "ops@example.org", "--interval", "0"], "add: interval 0"),
        (["add", "https://example.org/", "ops@example.org", "--interval", "ten"], "add: interval not a number"),
        (["add", "https://example.org/", "ops@example.org", "--interval", "99999999"], "add: interval too long"),
        (["add", "https://example.org/", "ops@example.org", "--timeout", "-5"], "add: a negative timeout"),
        (["add", "https://example.org/", "ops@example.org", "--name", "two\nlines"], "add: a name with a newline"),
        (["add", "https://example.org/", "ops@example.org", "--name", ""], "add: an empty name"),
        (["add", "https://example.org/", "ops@example.org", "--since", "1d"], "add: an option it does not take"),
        (["rm"], "rm without a site"),
        (["rm", "1", "2"], "rm with two sites"),
        (["enable"], "enable without a site"),
        (["history"], "history without a site"),
        (["history", "1", "--since", "yesterday"], "history: a time it cannot read"),
        (["history", "1", "--since", "2023-02-30"], "history: a date that does not exist"),
        (["history", "1", "--limit", "-1"], "history: a negative limit"),
        (["report"], "report without --html"),
        (["report", "--html"], "an option without its value"),
        (["status", "1", "2"], "status with two sites"),
        (["list", "--html", "x.html"], "list: an option it does not take"),
    ]
    for args, what in cases:
        rc, out, err = e.ctl(*args)
        check(rc == 2 and err.strip() != "" and out == "", f"{what}: exit 2 with a reason",
              f"rc={rc} out={out!r} err={err!r}")
    equal(snapshot(e.db), before, "nothing written by any usage error")
    rc, out, err = run([CTL])
    equal(rc, 2, "no arguments at all: exit 2")
    rc, out, err = run([CTL, "--help"])
    check(rc == 0 and "history ID|URL" in out, "--help: exit 0, the commands")
    rc, out, err = run([CTL, "--version"])
    check(rc == 0 and out.startswith("squirrelctl "), "--version")
    rc, out, err = e.ctl("list", conf=os.path.join(e.tmp, "missing.conf"))
    check(rc == 1 and "missing.conf" in err, "a --config file that does not exist: exit 1, named", err)
    bad = os.path.join(e.tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[check]\nintervall = 5\n")
    rc, out, err = e.ctl("list", conf=bad)
    check(rc == 1 and "bad.conf:2" in err and "intervall" in err,
          "a bad configuration: exit 1, file, line and key named", err)
    notdb = os.path.join(e.tmp, "notdb")
    with open(notdb, "w") as f:
        f.write("this is not a database\n" * 100)
    rc, out, err = e.ctl("list", db=notdb)
    check(rc == 1 and "notdb" in err, "a file that is not a database: exit 1, named", err)


def test_sites(e):
    rows = e.json("add", "https://shop.example.com/", "ops@example.com", "--name", "Shop",
                  "--interval", "30", "--timeout", "5000")
    check(len(rows) == 1 and set(rows[0]) == LIST_KEYS, "add --json: one object keyed by the columns", rows)
    shop = rows[0]
    equal((shop["url"], shop["owner_email"], shop["name"], shop["interval_s"], shop["timeout_ms"],
           shop["enabled"], shop["state"]),
          ("https://shop.example.com/", "ops@example.com", "Shop", 30, 5000, True, "unknown"),
          "add stores what was given")
    # options before the command, --json anywhere
    rc, out, err = run([CTL, "--db", e.db, "--config", e.conf, "--json", "add", "http://127.0.0.1:9/",
                        "dev@example.com"], timeout=60)
    check(rc == 0 and json.loads(out)[0]["interval_s"] is None, "options before the command; defaults are null")
    rc, out, err = e.ctl("add", "https://shop.example.com/", "ops@example.com")
    check(rc == 1 and f"site {shop['id']} already watches" in err, "the same URL for the same owner: exit 1", err)
    rc, out, err = e.ctl("add", "https://shop.example.com/", "other@example.com")
    equal(rc, 0, "the same URL for another owner is another site")
    rows = e.json("add", "HTTPS://Upper.Example.com/", "ops@example.com")
    equal(rows[0]["url"], "https://Upper.Example.com/", "the scheme is stored in lower case")
    e.ctl("rm", str(rows[0]["id"]))
    listed = e.json("list")
    check(all(set(r) == LIST_KEYS for r in listed), "list --json: the columns as keys")
    ids = [r["id"] for r in listed]
    equal(ids, sorted(ids), "list is ordered by id")
    rc, out, err = e.ctl("list")
    lines = out.splitlines()
    check(lines[0].split() == ["ID", "ENABLED", "STATE", "INTERVAL", "TIMEOUT", "OWNER", "GROUP", "PUBLIC", "NAME",
                               "URL", "SKIPPED"],
          "list: a header", lines[:1])
    shop_line = [ln for ln in lines if "Shop" in ln]
    check(shop_line and "30 s" in shop_line[0] and "5000 ms" in shop_line[0], "list: the row reads well", shop_line)
    col = lines[0].index("URL")
    check(all(ln[col:].startswith("http") for ln in lines[1:]), "list: columns aligned", "\n".join(lines))

    rc, out, err = e.ctl("disable", "https://shop.example.com/")
    check(rc == 1 and "several sites watch" in err, "a URL two sites watch: exit 1, name it by id", err)
    rows = e.json("disable", str(shop["id"]))
    check(rows[0]["enabled"] is False, "disable by id")
    con = sqlite3.connect(e.db)
    equal(con.execute("SELECT enabled FROM sites WHERE id = ?", (shop["id"],)).fetchone()[0], 0,
          "disabled in the database")
    con.close()
    rows = e.json("enable", str(shop["id"]))
    check(rows[0]["enabled"] is True, "enable by id")
    rows = e.json("disable", "http://127.0.0.1:9/")
    check(rows[0]["enabled"] is False and rows[0]["url"] == "http://127.0.0.1:9/", "disable by URL")
    for cmd in ("enable", "disable", "rm", "status", "history"):
        before = snapshot(e.db)
        rc, out, err = e.ctl(cmd, "99999")
        check(rc == 1 and "no site '99999'" in err, f"{cmd} of an unknown id: exit 1", err)
        rc, out, err = e.ctl(cmd, "https://nowhere.example/")
        check(rc == 1 and "no site 'https://nowhere.example/'" in err, f"{cmd} of an unknown URL: exit 1", err)
        equal(snapshot(e.db), before, f"{cmd}: nothing written")
    rows = e.json("rm", "http://127.0.0.1:9/")
    check(rows and rows[0]["url"] == "http://127.0.0.1:9/", "rm by URL shows what went")
    check(all(r["url"] != "http://127.0.0.1:9/" for r in e.json("list")), "gone from the list")
    rc, out, err = e.ctl("rm", "http://127.0.0.1:9/")
    equal(rc, 1, "rm again: exit 1")


def test_skipped(e):
    """Rows squirreld skips (made with the constraints off) say so in list and
    status, in the very words of the daemon's log line; usable rows have
    skipped null."""
    db = os.path.join(e.tmp, "skipped.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    with Httpd(e.tmp) as httpd:
        good = e.json("add", httpd.url("/"), "ops@example.com", db=db)[0]["id"]
        con = sqlite3.connect(db)
        con.execute("PRAGMA ignore_check_constraints = 1")
        junk, disabled = {}, None
        for url, email, extra, why in [
            ("http://exa mple.org/", "ops@example.com", {"group_name": "Shop", "public": 1},
             "bad url: url contains a space at byte 11"),
            ("http:///path", "ops@example.com", {}, "bad url: url has no host"),
            ("https://ok.example/", "nobody", {},
             "bad owner_email: not one address of the form local@domain"),
            (sqlite3.Binary(b"http://blob.example/"), "ops@example.com", {}, "url is not text"),
            ("https://ok.example/", "ops@example.com", {"interval_s": "often"},
             "interval_s is not a positive whole number"),
            ("ftp://example.org/", "ops@example.com", {"enabled": 0},
             "bad url: only http and https urls are checked"),
            ("https://ok.example/", "ops@example.com", {"method": "POST"}, "method is not HEAD or GET"),
            ("https://ok.example/", "ops@example.com", {"expect_status": "200-199"},
             "bad expect_status: 200-199: a range must not end before it starts"),
            ("https://ok.example/", "ops@example.com", {"expect_status": "2xx"},
             "bad expect_status: '2xx' is not a status code (100 to 599) or a range of them such as 200-299"),
            ("https://ok.example/", "ops@example.com", {"expect_status": sqlite3.Binary(b"200")},
             "expect_status is not text"),
            ("https://ok.example/", "ops@example.com", {"keyword": ""},
             "keyword is empty or over 256 bytes"),
            ("https://ok.example/", "ops@example.com", {"keyword": "k" * 257},
             "keyword is empty or over 256 bytes"),
            ("https://ok.example/", "ops@example.com", {"keyword_mode": "maybe"},
             "keyword_mode is not present or absent"),
            ("https://ok.example/", "ops@example.com", {"keyword_nocase": 2}, "keyword_nocase is not 0 or 1"),
        ]:
            cols = ["url", "owner_email", *extra]
            sid = con.execute(f"INSERT INTO sites ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                              [url, email, *extra.values()]).lastrowid
            junk[sid] = why
            if extra.get("enabled") == 0:
                disabled = sid
        con.commit()
        con.close()

        want = {good: None, **junk}
        listed = e.json("list", db=db)
        equal({r["id"]: r["skipped"] for r in listed}, want, "list --json: skipped, the reason or null")
        check(all(set(r) == LIST_KEYS for r in listed), "list --json: skipped is a key of every row")
        equal({r["state"] for r in listed}, {"unknown"}, "list --json: the state as stored")
        grouped = [r for r in listed if r["group_name"] is not None]
        check(len(grouped) == 1 and grouped[0]["public"] is True and grouped[0]["skipped"] is not None,
              "list --json: a skipped row keeps its group and public flag beside its reason", grouped)
        rc, out, err = e.ctl("list", db=db)
        lines = {int(ln.split()[0]): ln for ln in out.splitlines()[1:]}
        equal(out.splitlines()[0].split()[-1], "SKIPPED", "list: a SKIPPED column")
        for sid, why in junk.items():
            check(lines[sid].split()[2] == "skipped" and lines[sid].rstrip().endswith("  " + why),
                  f"list: row {sid} reads skipped, with its reason", lines[sid])
        check(lines[good].split()[2] == "unknown" and lines[good].rstrip().endswith(" -"),
              "list: a usable row is not skipped", lines[good])

        rows = e.json("status", db=db)
        equal({r["id"]: r["skipped"] for r in rows}, want, "status --json: the same skipped")
        check(all(set(r) == STATUS_KEYS for r in rows), "status --json: skipped is a key of every row")
        equal(e.json("status", str(disabled), db=db)[0]["skipped"], junk[disabled],
              "status ID --json: a disabled row's reason too (enabling it would not help)")
        rc, out, err = e.ctl("status", db=db)
        lines = {int(ln.split()[0]): ln for ln in out.splitlines()[1:]}
        for sid, why in junk.items():
            state = "disabled" if sid == disabled else "skipped"
            check(rc == 0 and lines[sid].split()[1] == state
                  and lines[sid].rstrip().endswith("  skipped: " + why),
                  f"status: row {sid} reads {state}, with 'skipped: {why}' for its error", lines[sid])
        check("skipped" not in lines[good], "status: a usable row is not skipped", lines[good])

        # the daemon's log says the same, word for word
        rc, out, err = run([SQUIRRELD, "--once", "--config", e.conf, "--db", db, "--backend", "serial"],
                           timeout=60)
        equal(rc, 0, "squirreld --once checks the good site")
        said = sorted(ln.split("squirreld: ", 1)[-1] for ln in err.splitlines() if ": skipped: " in ln)
        equal(said, sorted(f"site {sid}: skipped: {why}" for sid, why in junk.items() if sid != disabled),
              "squirreld skips those rows (the enabled ones) with the same reasons")


def test_expect_constraints(e):
    """Schema 10: the CHECK constraints of method, expect_status, keyword,
    keyword_mode and keyword_nocase refuse what SQLite can tell is wrong,
    and take what is right."""
    db = os.path.join(e.tmp, "expect.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    con = sqlite3.connect(db)
    base = "INSERT INTO sites (url, owner_email, {0}) VALUES ('http://127.0.0.1:9/', 'o@example.com', ?)"
    for col, value in [("method", "HEAD"), ("method", "GET"), ("expect_status", "200-299,301,401"),
                       ("expect_status", "404"), ("expect_status", 204), ("keyword", "Welcome"), ("keyword", "k" * 256),
                       ("keyword_mode", "present"), ("keyword_mode", "absent"),
                       ("keyword_nocase", 0), ("keyword_nocase", 1)]:
        con.execute(base.format(col), [value])
    for col, value in [("method", "get"), ("method", "POST"), ("expect_status", "2xx"),
                       ("expect_status", "200-"), ("expect_status", ",200"), ("expect_status", "200,,301"),
                       ("expect_status", "20"), ("expect_status", sqlite3.Binary(b"200")),
                       ("expect_status", "200 - 299"),
                       ("keyword", ""), ("keyword", "k" * 257), ("keyword", "é" * 129),
                       ("keyword_mode", "maybe"), ("keyword_nocase", 2), ("keyword_nocase", "yes")]:
        try:
            con.execute(base.format(col), [value])
            check(False, f"{col} = {value!r} is refused")
        except sqlite3.IntegrityError as ex:
            check("CHECK constraint failed" in str(ex), f"{col} = {value!r}: a CHECK refuses it", str(ex))
    con.commit()
    con.close()


def test_slow(e):
    """Schema 11: slow_ms and alert_degraded, their CHECKs, the state
    'degraded' and the alert kinds 'degraded' and 'recovered'; squirrelctl
    add and edit set them, 'default' sets them back to NULL, and a value out
    of range is a usage error that writes nothing."""
    db = os.path.join(e.tmp, "slow.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    con = sqlite3.connect(db)
    base = "INSERT INTO sites (url, owner_email, {0}) VALUES ('http://127.0.0.1:9/', 'o@example.com', ?)"
    for col, value in [("slow_ms", 0), ("slow_ms", 800), ("slow_ms", 600000),
                       ("alert_degraded", 0), ("alert_degraded", 1)]:
        con.execute(base.format(col), [value])
    for col, value in [("slow_ms", -1), ("slow_ms", 600001), ("slow_ms", "fast"), ("slow_ms", 1.5),
                       ("alert_degraded", 2), ("alert_degraded", "yes")]:
        try:
            con.execute(base.format(col), [value])
            check(False, f"{col} = {value!r} is refused")
        except sqlite3.IntegrityError as ex:
            check("CHECK constraint failed" in str(ex), f"{col} = {value!r}: a CHECK refuses it", str(ex))
    sid = con.execute("SELECT min(id) FROM sites").fetchone()[0]
    con.execute("INSERT INTO site_state (site_id, state) VALUES (?, 'degraded')", (sid,))
    for kind in ("degraded", "recovered"):
        con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url)"
                    " VALUES (?, 'o@example.com', ?, 1, 'http://127.0.0.1:9/')", (sid, kind))
    try:
        con.execute("UPDATE site_state SET state = 'slow'")
        check(False, "state 'slow' is refused")
    except sqlite3.IntegrityError as ex:
        check("CHECK constraint failed" in str(ex), "state 'slow': a CHECK refuses it", str(ex))
    con.commit()
    con.close()

    listed = {r["id"]: r for r in e.json("list", db=db)}
    equal(listed[sid]["state"], "degraded", "list --json: the degraded site's state")
    shown = {r["id"]: r for r in e.json("status", db=db)}
    equal(shown[sid]["state"], "degraded", "status --json: the degraded site's state")
    rc, out, err = e.ctl("list", db=db)
    check(rc == 0 and "degraded" in out, "list shows degraded", out + err)
    rc, out, err = e.ctl("add", "http://127.0.0.1:9/slow", "o@example.com", "--slow-ms", "1500",
                         "--alert-degraded", "0", db=db)
    check(rc == 0, "add --slow-ms --alert-degraded", err)
    con = sqlite3.connect(db)
    new = con.execute("SELECT id, slow_ms, alert_degraded FROM sites WHERE url LIKE '%/slow'").fetchone()
    con.close()
    equal(new[1:], (1500, 0), "add stored slow_ms and alert_degraded")
    rows = e.json("edit", str(new[0]), "--slow-ms", "0", db=db)
    equal((rows[0]["slow_ms"], rows[0]["alert_degraded"]), (0, 0), "edit --slow-ms 0: never slow")
    rows = e.json("edit", str(new[0]), "--slow-ms", "default", "--alert-degraded", "default", db=db)
    equal((rows[0]["slow_ms"], rows[0]["alert_degraded"]), (None, None), "'default': back to NULL")
    rc, out, err = e.ctl("edit", str(new[0]), "--slow-ms", "1500", db=db)
    check(rc == 0 and "1500 ms" in out, "edit shows slow_ms in ms", out + err)
    for flag, value in [("--slow-ms", "600001"), ("--slow-ms", "-1"), ("--slow-ms", "fast"),
                        ("--alert-degraded", "2")]:
        rc, out, err = e.ctl("edit", str(new[0]), flag, value, db=db)
        check(rc == 2 and flag in err, f"edit {flag} {value}: a usage error naming the flag", err)
    con = sqlite3.connect(db)
    equal(con.execute("SELECT slow_ms, alert_degraded FROM sites WHERE id = ?", (new[0],)).fetchone(),
          (1500, None), "a refused edit wrote nothing")
    con.close()


def reference(events, cap, frm, to, now):
    """Up and down seconds over [frm, to): each check holds until the next,
    at most cap; the last until now, at most cap."""
    up = down = 0
    for i, (t, ok) in enumerate(events):
        end = t + min(events[i + 1][0] - t, cap) if i + 1 < len(events) else min(t + cap, now)
        piece = min(end, to) - max(t, frm)
        if piece > 0:
            if ok:
                up += piece
            else:
                down += piece
    return up, down


def build_history(db, site, now0, step=60, start_days=29, downs=(), gaps=(), ms_of=None, last_ago=600,
                  old=False):
    """Checks every step seconds from now0 - start_days until now0 - last_ago,
    failing inside the downs ("http 503"), absent inside the gaps; stored
    as the daemon stores them, or with old, in the error column of schema
    versions up to 8. Returns [(t, ok)]."""
    events = []
    t = now0 - start_days * DAY
    while t <= now0 - last_ago:
        if not any(a <= t < b for a, b in gaps):
            ok = not any(a <= t < b for a, b in downs)
            events.append((t, ok))
        t += step
    con = sqlite3.connect(db)
    columns = "error" if old else "class, detail"
    values = "?" if old else "?, ''"
    con.executemany(f"INSERT INTO checks (site_id, checked_at, ok, http_status, ms, {columns})"
                    f" VALUES (?, ?, ?, ?, ?, {values})",
                    [(site, t, int(ok), 200 if ok else 503, ms_of(t) if ms_of else 100,
                      ("" if ok else "http 503") if old else int(not ok)) for t, ok in events])
    last_t, last_ok = events[-1]
    con.execute("INSERT OR REPLACE INTO site_state (site_id, state, since, last_check, last_ok,"
                " last_status, last_ms, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (site, "up" if last_ok else "down", now0 - 5 * 3600 + 600, last_t, last_t, 200, 100, ""))
    con.commit()
    con.close()
    if not old:
        tiers(db)
    return events


def test_figures(e):
    """Known down periods, and the windows' starts put in silences, so the
    figures do not depend on the second the command runs in."""
    db = os.path.join(e.tmp, "figures.db")
    equal(e.ctl("init", db=db)[0], 0, "a database for figures")
    site_a = e.json("add", "https://a.example/", "ops@example.com", "--interval", "60", db=db)[0]["id"]
    site_b = e.json("add", "https://b.example/", "ops@example.com", db=db)[0]["id"]
    now0 = int(time.time())
    quiet = [(now0 - w - 300, now0 - w + 300) for w in (DAY, 7 * DAY)]
    downs = [
        (now0 - 20 * DAY, now0 - 20 * DAY + 3600),     # an hour, 20 days ago: 30 d only
        (now0 - 3 * DAY, now0 - 3 * DAY + 1800),       # half an hour, 3 days ago: 7 d and 30 d
        (now0 - 5 * 3600, now0 - 5 * 3600 + 600),      # ten minutes, 5 hours ago: all three
    ]
    gaps = quiet + [(now0 - 10 * DAY, now0 - 10 * DAY + 7200)]   # the daemon stopped two hours

    def ms_of(t):
        return 100 + (t // 60) % 10 * 10

    ev_a = build_history(db, site_a, now0, downs=downs, gaps=gaps, ms_of=ms_of)
    ev_b = build_history(db, site_b, now0, step=30, start_days=2, downs=[(now0 - 3600, now0 - 1800)],
                         gaps=quiet)
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO incidents (site_id, started_at, ended_at, cause) VALUES (?, ?, ?, ?)", [
        (site_a, now0 - 40 * DAY, now0 - 40 * DAY + 600, "old"),
        (site_a, now0 - 20 * DAY, now0 - 20 * DAY + 3600, "http 503"),
        (site_a, now0 - 3 * DAY, now0 - 3 * DAY + 1800, "timeout"),
        (site_b, now0 - 3600, None, "connect refused"),
    ])
    con.commit()
    con.close()

    t_before = int(time.time())
    rows = {r["id"]: r for r in e.json("status", db=db)}
    t_after = int(time.time())
    check(t_after - now0 < 170, "the figures ran soon enough for the silences to hold")
    check(all(set(r) == STATUS_KEYS for r in rows.values()), "status --json: the columns as keys",
          [sorted(r) for r in rows.values()])
    a = rows[site_a]
    # By hand for 24 h: watched from the end of the silence (now0 - 86400 + 300)
    # to the last check's end (now0 - 600 + 120): 85620 s, of which 600 s down.
    equal(a["uptime_24h"], round(100 * 85020 / 85620, 4), "24 h uptime, by hand: 99.2992 %")
    for key, w in (("uptime_24h", DAY), ("uptime_7d", 7 * DAY), ("uptime_30d", 30 * DAY)):
        ok_ = True
        for now in (t_before, t_after):
            up, down = reference(ev_a, 120, now - w, now, now)
            ok_ &= a[key] == round(100 * up / (up + down), 4)
        up, down = reference(ev_a, 120, t_after - w, t_after, t_after)
        check(ok_, f"site a {key} = {100 * up / (up + down):.4f} %: {down} s down of {up + down} s watched",
              f"got {a[key]}")
    # 7 d by hand: 7 d less the silence's second half, less the end, and the 2-hour stop
    # does not count; 1800 + 600 s down.
    up, down = reference(ev_a, 120, t_after - 7 * DAY, t_after, t_after)
    equal(down, 2400, "7 d: the half hour and the ten minutes down")
    up, down = reference(ev_a, 120, t_after - 30 * DAY, t_after, t_after)
    equal(down, 3600 + 1800 + 600, "30 d: all three down periods")
    check(up + down < 29 * DAY - 7000, "the two hours with no check are not counted")
    recent = sorted(ms_of(t) for t, ok in ev_a if ok and t >= t_after - DAY)
    p50 = recent[(len(recent) * 50 + 99) // 100 - 1]
    p95 = recent[(len(recent) * 95 + 99) // 100 - 1]
    # from the hourly histograms (the hours that overlap the 24 h): within 1/32 of the exact figure
    recent = sorted(ms_of(t) for t, ok in ev_a if ok and t >= (t_after - DAY) // 3600 * 3600)
    p50 = recent[(len(recent) * 50 + 99) // 100 - 1]
    p95 = recent[(len(recent) * 95 + 99) // 100 - 1]
    check(abs(a["p50_ms"] - p50) <= p50 / 32 and abs(a["p95_ms"] - p95) <= p95 / 32,
          f"response time p50 {p50} ms, p95 {p95} ms (good checks, 24 h), within 1/32",
          (a["p50_ms"], a["p95_ms"]))
    equal(a["incidents_30d"], 2, "incidents within 30 days: the old one left out")
    b = rows[site_b]
    equal(b["incidents_30d"], 1, "an open incident counts")
    # site b has no interval of its own: the configured 60 s (saved by init) caps it at 120 s
    ok_b = True
    for now in (t_before, t_after):
        up, down = reference(ev_b, 120, now - DAY, now, now)
        ok_b &= b["uptime_24h"] == round(100 * up / (up + down), 4)
    check(ok_b, "site b 24 h: its 30-minute outage in a day of 30-second checks", b)
    rc, out, err = run([CTL, "--config", e.conf, "--db", db, "status"], timeout=60)
    line = [ln for ln in out.splitlines() if "https://a.example/" in ln]
    check(rc == 0 and line and "99.29%" in line[0] and "100.00%" not in line[0],
          "the text shows the figure cut, not rounded", out)
    check(out.splitlines()[0].split()[:4] == ["ID", "STATE", "SINCE", "CHECKED"], "status: a header", out)
    one = e.json("status", str(site_a), db=db)
    equal([r["id"] for r in one], [site_a], "status ID: that site only")
    one = e.json("status", "https://b.example/", db=db)
    equal([r["id"] for r in one], [site_b], "status URL: that site only")

    # history
    h = e.json("history", str(site_a), "--limit", "3", db=db)
    equal([r["checked_at"] for r in h], [t for t, _ in ev_a[-3:]][::-1], "history --limit 3: newest first")
    check(set(h[0]) == {"id", "checked_at", "ok", "state", "http_status", "ms", "error"}, "history keys", h[0])
    h = e.json("history", str(site_a), db=db)
    equal(len(h), 100, "history without options: the last 100")
    h = e.json("history", str(site_a), "--since", str(now0 - 5 * 3600), db=db)
    equal(len(h), sum(1 for t, _ in ev_a if t >= now0 - 5 * 3600), "--since unix seconds: all since")
    equal(sum(1 for r in h if r["state"] == "down"), 10, "the ten failed checks among them")
    # "6h" is read against the clock when the command runs: between these two
    h0 = int(time.time())
    h = e.json("history", str(site_a), "--since", "6h", "--limit", "0", db=db)
    h1 = int(time.time()) + 1
    check(sum(1 for t, _ in ev_a if t >= h1 - 6 * 3600) <= len(h) <=
          sum(1 for t, _ in ev_a if t >= h0 - 6 * 3600), "--since 6h", len(h))
    day = time.strftime("%Y-%m-%d", time.gmtime(now0 - DAY))
    h = e.json("history", str(site_a), "--since", day, "--limit", "0", db=db)
    midnight = (now0 - DAY) // DAY * DAY
    equal(len(h), sum(1 for t, _ in ev_a if t >= midnight), "--since YYYY-MM-DD: from its midnight UTC")
    stamp = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now0 - 3600))
    h = e.json("history", str(site_a), "--since", stamp, "--limit", "0", db=db)
    equal(len(h), sum(1 for t, _ in ev_a if t >= (now0 - 3600) // 60 * 60), "--since YYYY-MM-DDTHH:MM")
    rc, out, err = run([CTL, "history", str(site_a), "--limit", "2", "--config", e.conf, "--db", db], timeout=60)
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["TIME", "(UTC)", "STATE", "HTTP", "MS", "ERROR"] and len(lines) == 3,
          "history: a table, options after the arguments", out)
    return db


def test_migration(e):
    """A database from before schema 3: migrating rolls its history up as
    the trigger would have, and a site that is down gets an open incident."""
    db = os.path.join(e.tmp, "migrate.db")
    conf = os.path.join(e.tmp, "interval300.conf")
    with open(conf, "w") as f:
        f.write("[check]\ninterval = 300\n")
    equal(e.ctl("init", db=db, conf=conf)[0], 0, "a database")
    sid = e.json("add", "https://m.example/", "ops@example.com", db=db)[0]["id"]
    now0 = int(time.time())
    build_history(db, sid, now0, step=300, start_days=3, downs=[(now0 - DAY, now0 - DAY + 4000)],
                  gaps=[(now0 - 2 * DAY, now0 - 2 * DAY + 5000)])
    con = sqlite3.connect(db)
    con.execute("UPDATE site_state SET state = 'down', since = ?, last_error = 'timeout'", (now0 - 100,))
    con.commit()
    rolled = con.execute("SELECT site_id, hour, up_s, down_s, slow_s, maint_s FROM uptime_hours"
                         " ORDER BY 1, 2").fetchall()
    counters = con.execute("SELECT * FROM site_counters").fetchall()
    check(len(rolled) > 60 and any(r[3] > 0 for r in rolled), "the history summed into hours")
    con.close()
    # the same site and history in a database of version 2 (tests/dbtool), as it wrote them
    db = old_db(e.tmp, "migrate-v2.db", 2)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO sites (id, url, owner_email) VALUES (?, 'https://m.example/', 'ops@example.com')",
                (sid,))
    con.commit()
    con.close()
    build_history(db, sid, now0, step=300, start_days=3, downs=[(now0 - DAY, now0 - DAY + 4000)],
                  gaps=[(now0 - 2 * DAY, now0 - 2 * DAY + 5000)], old=True)
    con = sqlite3.connect(db)
    con.execute("UPDATE site_state SET state = 'down', since = ?, last_error = 'timeout'", (now0 - 100,))
    con.commit()
    con.close()
    rc, out, err = e.ctl("list", db=db)
    check(rc == 1 and "migrat" in err, "a reading command does not migrate: it says so", err)
    rc, out, err = e.ctl("init", db=db, conf=conf)
    check(rc == 0, "init migrates it", err)
    con = sqlite3.connect(db)
    equal(con.execute("PRAGMA user_version").fetchone()[0], SCHEMA, f"now version {SCHEMA}")
    equal(con.execute("SELECT site_id, hour, up_s, down_s, slow_s, maint_s FROM uptime_hours"
                      " ORDER BY 1, 2").fetchall(), rolled,
          "the migration's roll-up equals the daemon's, hour by hour")
    equal(con.execute("SELECT * FROM site_counters").fetchall(), counters, "the counters too")
    equal(con.execute("SELECT site_id, started_at, ended_at, cause FROM incidents").fetchall(),
          [(sid, now0 - 100, None, "timeout")], "the site down at the migration has an open incident")
    # schema 11 widened two CHECKs in place: the rows stay, the new words are taken
    equal(con.execute("SELECT state FROM site_state WHERE site_id = ?", (sid,)).fetchone()[0], "down",
          "the state survives the widening of its CHECK")
    con.execute("UPDATE site_state SET state = 'degraded' WHERE site_id = ?", (sid,))
    con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url)"
                " VALUES (?, 'ops@example.com', 'recovered', 1, 'https://m.example/')", (sid,))
    # schema 12 widened the outbox's kinds and statuses the same way
    con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, status)"
                " VALUES (?, 'ops@example.com', 'cert', 1, 'https://m.example/', 'held')", (sid,))
    con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, status)"
                " VALUES (?, 'admin@example.com', 'outage', 1, 'https://m.example/', 'cancelled')", (sid,))
    try:
        con.execute("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, status)"
                    " VALUES (?, 'ops@example.com', 'down', 1, 'https://m.example/', 'lost')", (sid,))
        check(False, "a status no version knows is refused")
    except sqlite3.IntegrityError:
        pass
    con.rollback()
    equal(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "the migrated file is sound")
    con.close()


def test_migration_v20(e):
    """Schema 20 (groups, public sites, incident notes, owners' pages) from a
    database of version 19 (one of today's with version 20 undone, as
    harness.back_to_v8 begins): every site and incident kept as it was, the
    new columns NULL (no group, not public)."""
    db = os.path.join(e.tmp, "migrate-v19.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    con = sqlite3.connect(db)
    undo_v20(con)
    con.execute("PRAGMA user_version = 19")
    con.commit()
    equal([r[1] for r in con.execute("PRAGMA table_info(sites)")][-1], "cert_warn_days", "at version 19")
    for i in range(1, 6):
        con.execute("INSERT INTO sites (url, owner_email, name, interval_s) VALUES (?, ?, ?, ?)",
                    (f"https://v19-{i}.example/", f"o{i % 2}@example.com", f"Site {i}" if i % 2 else None,
                     30 * i))
    con.execute("INSERT INTO incidents (site_id, started_at, ended_at, cause) VALUES (2, 1000, 2000, 'timeout')")
    con.commit()
    sites = con.execute("SELECT * FROM sites ORDER BY id").fetchall()
    incidents = con.execute("SELECT * FROM incidents ORDER BY id").fetchall()
    con.close()
    rc, out, err = e.ctl("init", db=db)
    check(rc == 0 and f"schema version {SCHEMA}" in out, "init migrates version 19", err)
    con = sqlite3.connect(db)
    equal(con.execute("PRAGMA user_version").fetchone()[0], SCHEMA, f"now version {SCHEMA}")
    cols = [r[1] for r in con.execute("PRAGMA table_info(sites)")]
    equal(cols[-2:], ["group_name", "public"], "sites gained group_name and public")
    equal(con.execute(f"SELECT {', '.join(cols[:-2])} FROM sites ORDER BY id").fetchall(), sites,
          "every site kept as it was")
    equal(con.execute("SELECT group_name, public FROM sites").fetchall(), [(None, None)] * 5,
          "no group, not public")
    equal(con.execute("SELECT * FROM incidents ORDER BY id").fetchall(), incidents, "the incidents kept")
    equal(sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE name IN"
                                            " ('incident_notes', 'owner_pages', 'incident_notes_incident')")),
          ["incident_notes", "incident_notes_incident", "owner_pages"], "the new tables and index")
    equal(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "the migrated file is sound")
    con.close()
    listed = e.json("list", db=db)
    equal([(r["id"], r["group_name"], r["public"]) for r in listed], [(i, None, False) for i in range(1, 6)],
          "list --json after the migration: no group, not public")


def test_outbox(e):
    con = sqlite3.connect(e.db)
    sid = con.execute("SELECT min(id) FROM sites").fetchone()[0]
    con.executemany("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, status, attempts,"
                    " next_attempt, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                        (sid, "a@example.com", "down", 1700000000, "https://a/", "pending", 2, 1700000600,
                         "cannot connect"),
                        (sid, "b@example.com", "up", 1700000100, "https://b/", "failed", 9, 0, "550 no such user"),
                        (sid, "c@example.com", "down", 1700000200, "https://c/", "sent", 1, 0, ""),
                        (sid, "d@example.com", "down", 1700000300, "https://d/", "held", 0, 1700000300, ""),
                        (sid, "e@example.com", "down", 1700000400, "https://e/", "cancelled", 0, 0, ""),
                    ])
    con.commit()
    con.close()
    rows = e.json("outbox")
    equal([(r["owner_email"], r["status"], r["kind"], r["attempts"]) for r in rows],
          [("a@example.com", "pending", "down", 2), ("b@example.com", "failed", "up", 9),
           ("d@example.com", "held", "down", 0)],
          "outbox: pending, failed and held; not sent, not cancelled")
    check(set(rows[0]) == {"id", "site_id", "kind", "status", "owner_email", "name", "url", "created_at",
                           "attempts", "next_attempt", "last_error"}, "outbox keys", rows[0])
    equal((rows[0]["next_attempt"], rows[1]["next_attempt"]), (1700000600, None),
          "the next try of a pending alert; none for a failed one")
    equal(rows[2]["next_attempt"], None, "none for a held one: it waits for the outage's end")
    rc, out, err = e.ctl("outbox")
    check(rc == 0 and "550 no such user" in out and "c@example.com" not in out, "outbox as a table", out)


def test_report(e, figures_db):
    con = sqlite3.connect(figures_db)
    con.execute("INSERT INTO sites (url, owner_email, name) VALUES (?, ?, ?)",
                ("https://x.example/?q=<b>&r=\"s\"", "ops@example.com", "<script>alert(1)</script> & 'co'"))
    con.commit()
    con.close()
    page = os.path.join(e.tmp, "out", "status.html")
    rc, out, err = e.ctl("report", "--html", page, db=figures_db)
    check(rc == 1 and "out/status.html" in err, "report into a missing directory: exit 1, named", err)
    os.mkdir(os.path.dirname(page))
    with open(page, "w") as f:
        f.write("old page")
    rc, out, err = e.ctl("report", "--html", page, db=figures_db)
    equal((rc, out), (0, ""), "report --html: exit 0, quiet")
    html = open(page, encoding="utf-8").read()
    check(html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>"), "a whole page replaced the old")
    check(html.count("<script") == 1 and "<script>alert" not in html,
          "no <script> element but the page's own")
    check("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;co&#39;" in html, "the name shows as text")
    check("https://x.example/?q=&lt;b&gt;&amp;r=&quot;s&quot;" in html, "the URL escaped")
    check('name="viewport"' in html and "Content-Security-Policy" in html, "viewport and CSP")
    for attr in ("src=", "<link", "@import", "url("):
        check(attr not in html, f"no external asset ({attr})")
    check(html.count("<i class=bar") >= 3, "a 90-day bar per site")
    check("<ul class=inc>" in html and "http 503" in html, "incidents listed")
    equal(sorted(os.listdir(os.path.dirname(page))), ["status.html", "status.json"],
          "the page and its JSON, no temporary file left")
    equal(stat.S_IMODE(os.stat(page).st_mode), 0o644, "readable by a web server (0644)")
    equal(e.json("report", "--html", page, db=figures_db), [{"file": page}], "report --json")


def test_beside_daemon(e):
    """squirrelctl while squirreld checks and writes every second."""
    db = os.path.join(e.tmp, "live.db")
    conf = os.path.join(e.tmp, "live.conf")
    with open(conf, "w") as f:
        f.write(f"[squirreld]\nbackend = serial\n[check]\ninterval = 1\nretry_interval = 1\n"
                f"[smtp]\nhost = 127.0.0.1\nport = {free_port()}\n")
    with Httpd(e.tmp) as httpd:
        equal(e.ctl("init", db=db, conf=conf)[0], 0, "a database for the daemon")
        for i in range(5):
            e.ctl("add", httpd.url(f"/s{i}"), "ops@example.com", "--interval", "1", db=db, conf=conf)
        e.ctl("add", f"http://127.0.0.1:{free_port()}/", "ops@example.com", "--interval", "1", db=db, conf=conf)
        log = open(os.path.join(e.tmp, "daemon.log"), "w")
        d = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        try:
            def checked():
                con = sqlite3.connect(db, timeout=5)
                try:
                    return con.execute("SELECT count(*) FROM checks").fetchone()[0] >= 6
                finally:
                    con.close()
            check(wait_for(checked, 20), "the daemon checks")
            failures = []
            deadline = time.monotonic() + 20
            for i in range(15):
                if time.monotonic() > deadline:
                    break
                for args in (("status", "--json"), ("list",), ("history", "1", "--limit", "5"),
                             ("disable", "2"), ("enable", "2")):
                    rc, out, err = e.ctl(*args, db=db, conf=conf)
                    if rc != 0:
                        failures.append((args, rc, err))
            equal(failures, [], "every command works while the daemon writes")
            check(d.poll() is None, "the daemon runs on")
            # The refused site goes DOWN at its second failure (retry 1 s, on
            # the daemon's half-second grid): maybe only after the commands.
            def verdicts():
                rows = e.json("status", db=db)
                return any(r["state"] == "down" for r in rows) and any(r["state"] == "up" for r in rows)
            check(wait_for(verdicts, 10, step=0.2), "status shows the daemon's verdicts")
            con = sqlite3.connect(db, timeout=5)
            n = con.execute("SELECT count(*) FROM incidents WHERE ended_at IS NULL").fetchone()[0]
            con.close()
            check(n >= 1, "the DOWN transition opened an incident")
        finally:
            equal(stop_pid(d, signal.SIGTERM), 0, "squirreld stops cleanly")
            log.close()


def main():
    with tmpdir() as tmp:
        e = Env(tmp)
        test_missing_and_init(e)
        test_usage_errors(e)
        test_sites(e)
        test_skipped(e)
        test_expect_constraints(e)
        test_slow(e)
        figures_db = test_figures(e)
        test_migration(e)
        test_migration_v20(e)
        test_outbox(e)
        test_report(e, figures_db)
        test_beside_daemon(e)
    return done()


if __name__ == "__main__":
    sys.exit(main())
