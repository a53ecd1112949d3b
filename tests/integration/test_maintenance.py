"""Maintenance windows end to end: squirrelctl maintenance (each bad input
refused with its words, nothing written), then squirreld --once against a
real HTTP server and a real SMTP server on loopback: a site down inside a
window sends no mail and opens no incident, its checks are marked; still
down past the window, exactly one DOWN after fail_threshold checks past
it; a weekly window read in a non-UTC [alerts] timezone."""

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, CtlEnv, Httpd, add_sites, check, done, equal, new_db, tiers,  # noqa: E402
                     squirreld, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, parse  # noqa: E402

OWNER = "ops@example.org"


def config(tmp, name, port, zone=None, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = {FROM}\ntimeout = 3000\n")
        if zone is not None:
            f.write(f"[alerts]\ntimezone = {zone}\n")
        f.write("[check]\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def once(conf, db):
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
    if rc not in (0, 1):
        raise AssertionError(f"squirreld --once: rc={rc} {err}")
    return out


def subjects(srv):
    return [str(parse(raw)["Subject"]) for raw, _ in srv.messages()]


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def snapshot(db):
    return [rows(db, f"SELECT * FROM {t} ORDER BY 1") for t in ("maintenance", "maintenance_version")]


def test_bad_input(tmp, httpd):
    e = CtlEnv(tmp, "bad.db")
    equal(e.ctl("init")[0], 0, "bad: init")
    add_sites(e.db, [(httpd.url("/?status=200"), OWNER, {})])
    before = snapshot(e.db)
    usage = 2
    cases = [
        (["--site", "1", "--from", "2030-01-02", "--until", "2030-01-01"], usage,
         "maintenance add: the window ends before it starts (--from 2030-01-02 00:00:00 UTC, "
         "--until 2030-01-01 00:00:00 UTC)"),
        (["--site", "1", "--from", "2030-01-01", "--until", "2030-01-01"], usage,
         "maintenance add: the window ends before it starts (--from 2030-01-01 00:00:00 UTC, "
         "--until 2030-01-01 00:00:00 UTC)"),
        (["--site", "9", "--for", "2h"], 1, "no site '9' in %DB% (squirrelctl list shows them)"),
        (["--owner", "nobody@example.org", "--for", "2h"], 1,
         "no site belongs to nobody@example.org in %DB%; a window for an owner covers their sites "
         "(squirrelctl list shows them)"),
        (["--all", "--every", "funday", "02:00", "--for", "1h"], usage,
         "--every 'funday': not a day: mon, tue, wed, thu, fri, sat or sun"),
        (["--all", "--every", "mon", "24:00", "--for", "1h"], usage,
         "--every mon '24:00': not a time of day HH:MM (00:00 to 23:59)"),
        (["--all", "--every", "mon", "--for", "1h"], usage,
         "--every mon: the time of day is missing (--every DAY HH:MM)"),
        (["--all", "--every", "mon", "02:00"], usage, "--every mon 02:00: how long? (--for DURATION, like 2h)"),
        (["--all", "--every", "mon", "02:00", "--for", "8d"], usage,
         "--for: '8d' is out of range: more than 0, at most 7d 0h"),
        (["--all", "--every", "mon", "02:00", "--for", "1h", "--from", "2030-01-01"], usage,
         "maintenance add: --every is weekly; it takes --for, not --from or --until"),
        (["--all", "--for", "2 hours"], usage,
         "--for: '2 hours' is not a duration: a whole number and a unit, s, m, h, d or w, like 90m, 2h or 1d"),
        (["--all", "--for", "0m"], usage, "--for: '0m' is out of range: more than 0, at most 366d 0h"),
        (["--all", "--for", "1h", "--until", "2030-01-01"], usage, "maintenance add: --until or --for, not both"),
        (["--all", "--until", "2030-01-01"], usage, "--until needs --from (or --for DURATION, from now)"),
        (["--all", "--from", "2020-01-01", "--until", "2020-01-02"], usage,
         "maintenance add: the window ended already (2020-01-02 00:00:00 UTC)"),
        (["--all", "--from", "yesterday", "--for", "1h"], usage,
         "--from: 'yesterday' is not a time: use unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) "
         "or a span back from now like 24h or 7d"),
        (["--all"], usage, "maintenance add: say when: --from WHEN --until WHEN, --for DURATION, "
         "or --every DAY HH:MM --for DURATION"),
        (["--for", "1h"], usage, "maintenance add: say whom the window covers: one of --site, --owner or --all"),
        (["--site", "1", "--all", "--for", "1h"], usage,
         "maintenance add: say whom the window covers: one of --site, --owner or --all"),
        (["--all", "--for", "1h", "--reason", "a\tb"], usage,
         "--reason: expected at most 200 bytes of UTF-8 text without control characters"),
        (["--all", "--for", "1h", "--reason", "x" * 201], usage,
         "--reason: expected at most 200 bytes of UTF-8 text without control characters"),
        (["--owner", "not-an-address", "--for", "1h"], usage, None),
    ]
    for args, want_rc, want_err in cases:
        rc, out, err = e.ctl("maintenance", "add", *args)
        equal(rc, want_rc, f"bad: {args}: exit status")
        if want_err is not None:
            equal(err.splitlines()[0] if err else "", "squirrelctl: " + want_err.replace("%DB%", e.db),
                  f"bad: {args}: the message")
        equal(out, "", f"bad: {args}: nothing printed")
    for args, want in ((["maintenance", "rm", "7"], "squirrelctl: no maintenance window 7 (squirrelctl "
                        "maintenance list shows them)"),
                       (["maintenance", "rm", "x"], None),
                       (["maintenance", "list", "--all"], "squirrelctl: maintenance list takes no options but --json"),
                       (["maintenance", "stop"], "squirrelctl: maintenance: unknown verb 'stop' (add, list or rm)"),
                       (["maintenance"], None)):
        rc, out, err = e.ctl(*args)
        check(rc in (1, 2), f"bad: {args}: refused", (rc, err))
        if want is not None:
            equal(err.splitlines()[0], want, f"bad: {args}: the message")
    equal(snapshot(e.db), before, "bad: nothing written by any of them")
    # the CHECKs and the trigger hold against SQL too
    con = sqlite3.connect(e.db)
    for sql, what in (("INSERT INTO maintenance (all_sites, starts_at, ends_at) VALUES (1, 10, 5)", "ends before"),
                      ("INSERT INTO maintenance (site_id, all_sites, starts_at, ends_at) VALUES (1, 1, 5, 10)",
                       "two kinds of whom"),
                      ("INSERT INTO maintenance (site_id, starts_at, ends_at) VALUES (42, 5, 10)", "missing site"),
                      ("INSERT INTO maintenance (all_sites, day, minute, duration_s) VALUES (1, 7, 0, 60)", "day 7"),
                      ("INSERT INTO maintenance (all_sites, day, minute, duration_s) VALUES (1, 1, 0, 0)",
                       "duration 0"),
                      ("INSERT INTO maintenance (all_sites, day, minute, duration_s, starts_at) "
                       "VALUES (1, 1, 0, 60, 5)", "weekly and one-off at once")):
        try:
            con.execute(sql)
            check(False, f"sql: {what} refused")
        except sqlite3.IntegrityError as ex:
            check(True, f"sql: {what} refused ({ex})")
    con.close()
    equal(snapshot(e.db), before, "sql: nothing written")


def test_list_rm(tmp, httpd):
    e = CtlEnv(tmp, "list.db")
    e.ctl("init")
    sid = add_sites(e.db, [(httpd.url("/?status=200"), OWNER, {"name": "shop"})])[0]
    a = e.json("maintenance", "add", "--site", str(sid), "--for", "2h", "--reason", "disk swap")
    equal(len(a), 1, "list: add prints the window")
    now = int(time.time())
    check(abs(a[0]["start"] - now) <= 5 and a[0]["end"] - a[0]["start"] == 7200 and a[0]["in_force"],
          "list: --for 2h starts now, in force", a)
    equal((a[0]["site_id"], a[0]["owner"], a[0]["all"], a[0]["schedule"], a[0]["reason"]),
          (sid, None, False, "once", "disk swap"), "list: the site's window")
    b = e.json("maintenance", "add", "--owner", "OPS@example.org", "--from", "2031-01-01T10:00",
               "--until", "2031-01-01T12:00")
    equal((b[0]["start"], b[0]["end"], b[0]["in_force"]), (1925028000, 1925035200, False),
          "list: an upcoming one-off")
    c = e.json("maintenance", "add", "--all", "--every", "sun 03:30", "--for", "90m")
    equal(c[0]["schedule"], "weekly", "list: DAY HH:MM in one word too")
    start = datetime.datetime.fromtimestamp(c[0]["start"], datetime.timezone.utc)
    equal((start.strftime("%a %H:%M"), c[0]["end"] - c[0]["start"]), ("Sun 03:30", 5400),
          "list: the next Sunday 03:30 UTC, 90 minutes")
    con = sqlite3.connect(e.db)
    con.execute("INSERT INTO maintenance (all_sites, starts_at, ends_at) VALUES (1, 100, 200)")
    con.commit()
    con.close()
    rc, out, err = e.ctl("maintenance", "list")
    equal(rc, 0, "list: text")
    lines = out.splitlines()
    equal(len(lines), 4, "list: a header and the three current or upcoming windows (not the ended one)")
    check("every Sun 03:30 for 1h 30m (UTC)" in out and "disk swap" in out, "list: the schedule and reason", out)
    equal([w["id"] for w in e.json("maintenance", "list")], [1, 2, 3], "list: json, by id")
    r = e.json("maintenance", "rm", "2")
    equal([w["id"] for w in r], [2], "rm: prints the window removed")
    equal([w["id"] for w in e.json("maintenance", "list")], [1, 3], "rm: gone")
    e.ctl("rm", str(sid))
    equal([w["id"] for w in e.json("maintenance", "list")], [3], "a removed site's window goes with it")


def set_url(db, site_id, url):
    con = sqlite3.connect(db)
    con.execute("UPDATE sites SET url = ? WHERE id = ?", (url, site_id))
    con.commit()
    con.close()


def test_down_inside_window(tmp, httpd):
    with Smtpd(tmp, "smtp-window") as smtp:
        conf = config(tmp, "window.conf", smtp.port, fail_threshold=2)
        e = CtlEnv(tmp, "window.db")
        db = new_db(tmp, "window.db")
        sid, other = add_sites(db, [(httpd.url("/?status=503&a"), OWNER, {"name": "shop"}),
                                    (httpd.url("/?status=200&b"), "dev@example.org", {"name": "blog"})])
        once(conf, db)
        rc, out, err = e.ctl("maintenance", "add", "--owner", OWNER, "--for", "1h", "--reason", "upgrade",
                             conf=conf)
        equal(rc, 0, f"window: added {err}")
        wid = rows(db, "SELECT id FROM maintenance")[0][0]
        for i in range(4):
            out = once(conf, db)
        equal(subjects(smtp), [], "window: four failed checks inside the window, no mail")
        equal(rows(db, "SELECT count(*) FROM incidents")[0][0], 0, "window: no incident opened")
        equal(rows(db, "SELECT count(*) FROM outbox")[0][0], 0, "window: nothing queued")
        equal(rows(db, f"SELECT maintenance, ok FROM checks WHERE site_id = {sid} ORDER BY id"),
              [(None, 0)] + [(wid, 0)] * 4, "window: the checks inside it are marked with it")
        equal(rows(db, f"SELECT state, fail_count FROM site_state WHERE site_id = {sid}"), [("unknown", 0)],
              "window: the failure before it and those inside it counted for nothing")
        equal(rows(db, f"SELECT count(*) FROM checks WHERE site_id = {other} AND maintenance IS NOT NULL")[0][0],
              0, "window: another owner's site is not in it")
        # the window ends (removed); the site is still down
        equal(e.ctl("maintenance", "rm", str(wid), conf=conf)[0], 0, "window: removed")
        once(conf, db)
        equal(subjects(smtp), [], "window: one failure past the window, no mail yet (fail_threshold 2)")
        once(conf, db)
        subs = subjects(smtp)
        equal(subs, ["[squirrel] DOWN shop (http 503)"], "window: one DOWN after fail_threshold checks past it")
        once(conf, db)
        equal(len(smtp.messages()), 1, "window: and only one")
        last_in = rows(db, f"SELECT max(checked_at) FROM checks WHERE site_id = {sid} AND maintenance = {wid}")[0][0]
        first_out = rows(db, f"SELECT min(checked_at) FROM checks WHERE site_id = {sid} AND maintenance IS NULL"
                             f" AND checked_at >= {last_in} AND id > (SELECT max(id) FROM checks WHERE"
                             f" maintenance = {wid})")[0][0]
        equal(rows(db, f"SELECT started_at FROM incidents WHERE site_id = {sid}"), [(first_out,)],
              "window: the incident begins at the first failure past the window")

        # DOWN, then a window; it comes back inside: no UP mail until the window ends
        rc, out, err = e.ctl("maintenance", "add", "--site", str(sid), "--for", "1h", conf=conf)
        set_url(db, sid, httpd.url("/?status=200&a"))
        once(conf, db)
        once(conf, db)
        equal(len(smtp.messages()), 1, "window: back up inside a window, no UP mail")
        equal(rows(db, f"SELECT count(*) FROM incidents WHERE site_id = {sid} AND ended_at IS NULL")[0][0], 1,
              "window: the incident stays open")
        e.ctl("maintenance", "rm", str(wid + 1), conf=conf)
        once(conf, db)
        subs = subjects(smtp)
        check(len(subs) == 2 and subs[1].startswith("[squirrel] UP shop after "), "window: UP past the window", subs)


def test_weekly_zone(tmp, httpd):
    zone = "Pacific/Kiritimati"      # UTC+14: a day away from UTC most of the time
    with Smtpd(tmp, "smtp-weekly") as smtp:
        conf = config(tmp, "weekly.conf", smtp.port, zone=zone, fail_threshold=1)
        db = new_db(tmp, "weekly.db")
        e = CtlEnv(tmp, "weekly.db")
        add_sites(db, [(httpd.url("/?status=500&w"), OWNER, {"name": "api"})])
        local = datetime.datetime.now(zoneinfo.ZoneInfo(zone)) - datetime.timedelta(minutes=5)
        day = local.strftime("%a").lower()
        rc, out, err = e.ctl("maintenance", "add", "--all", "--every", day, local.strftime("%H:%M"),
                             "--for", "30m", "--json", conf=conf)
        equal(rc, 0, f"weekly: added {err}")
        start = local.replace(second=0, microsecond=0)
        w = json.loads(out)[0]
        equal((w["start"], w["end"], w["in_force"]), (int(start.timestamp()), int(start.timestamp()) + 1800, True),
              f"weekly: {day} {local.strftime('%H:%M')} read in {zone}, in force now")
        check(f"({zone})" in e.ctl("maintenance", "list", conf=conf)[1], "weekly: list names the zone")
        once(conf, db)
        equal(subjects(smtp), [], "weekly: a failure inside it (fail_threshold 1) sends nothing")
        # the same window read as UTC is not in force: the site is DOWN at once
        utc = config(tmp, "weekly-utc.conf", smtp.port, fail_threshold=1)
        once(utc, db)
        equal(subjects(smtp), ["[squirrel] DOWN api (http 500)"], "weekly: read in UTC, it is not in force")


def test_figures(tmp, httpd):
    """Uptime leaves maintenance time out and counts slow time as up, said apart:
    squirrelctl status and the status page, on a history made by SQL."""
    e = CtlEnv(tmp, "figures.db")
    e.ctl("init")
    sid = add_sites(e.db, [(httpd.url("/?status=200&f"), OWNER, {"name": "figs", "interval_s": 60})])[0]
    now = int(time.time())
    t0 = now - 60 * 70 - 500
    con = sqlite3.connect(e.db)
    for i in range(71):
        ok = 0 if 40 <= i < 70 else 1
        con.execute("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, detail, class, maintenance,"
                    " slow) VALUES (?, ?, ?, ?, 10, '', ?, ?, ?)",
                    (sid, t0 + 60 * i, ok, 200 if ok else 503, 0 if ok else 3,
                     1 if 40 <= i < 60 else None, 1 if 20 <= i < 40 else None))
    con.execute("INSERT INTO maintenance (site_id, starts_at, ends_at, reason) VALUES (?, ?, ?, ?)",
                (sid, t0 + 2400, t0 + 3600, "db <upgrade>"))
    con.execute("INSERT INTO maintenance (all_sites, starts_at, ends_at, reason) VALUES (1, ?, ?, 'next <b>')",
                (now + 3600, now + 7200))
    con.commit()
    con.close()
    tiers(e.db)
    st = e.json("status", str(sid))[0]
    # up: 20 fast + 20 slow minutes and the latest check's 2 minutes; down 10; maintenance 20
    equal((st["slow_30d_s"], st["maintenance_30d_s"]), (1200, 1200), "figures: slow and maintenance seconds")
    check(abs(st["uptime_30d"] - 2520 * 100 / 3120) < 0.0001, "figures: 30 d uptime without the maintenance",
          st["uptime_30d"])
    equal((st["maintenance_start"], st["maintenance_end"]), (now + 3600, now + 7200),
          "figures: the next window over the site")
    rc, out, err = e.ctl("status")
    check(rc == 0 and "20m 0s" in out and "from " in out, "figures: status in text", out)
    page = os.path.join(tmp, "figures.html")
    equal(e.ctl("report", "--html", page)[0], 0, "figures: the page written")
    html = open(page).read()
    check("20m 0s in maintenance, left out of the figures; 20m 0s slow, counted as up;" in html,
          "figures: the page says what the figures leave out", html[-2000:])
    start = datetime.datetime.fromtimestamp(now + 3600, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    check(f"Maintenance planned from {start} UTC to " in html and ": next &lt;b&gt;</p>" in html,
          "figures: the page shows the next window")
    con = sqlite3.connect(e.db)
    con.execute("UPDATE maintenance SET starts_at = ? WHERE id = 2", (now - 60,))
    con.commit()
    con.close()
    equal(e.ctl("report", "--html", page)[0], 0, "figures: the page again")
    html = open(page).read()
    check("Under maintenance now, until " in html, "figures: the page shows the window in force")
    check("80.76%" in html, "figures: 80.76% over 30 d, maintenance left out")


def test_daemon(tmp, httpd):
    """The running daemon follows windows added and removed (maintenance_version)."""
    with Smtpd(tmp, "smtp-daemon") as smtp:
        conf = config(tmp, "daemon.conf", smtp.port, interval=1, retry_interval=1, fail_threshold=2)
        db = new_db(tmp, "daemon.db")
        e = CtlEnv(tmp, "daemon.db")
        sid = add_sites(db, [(httpd.url("/?status=503&d"), OWNER, {"name": "cart"})])[0]
        equal(e.ctl("maintenance", "add", "--all", "--for", "1h", conf=conf)[0], 0, "daemon: a window first")
        err = open(os.path.join(tmp, "daemon.err"), "w")
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        try:
            def marked():
                return rows(db, f"SELECT count(*) FROM checks WHERE site_id = {sid} AND maintenance = 1")[0][0]
            check(wait_for(lambda: marked() >= 4, 20), "daemon: four checks inside the window", marked())
            equal(subjects(smtp), [], "daemon: no mail inside the window")
            equal(rows(db, "SELECT count(*) FROM outbox")[0][0], 0, "daemon: nothing queued")
            equal(e.ctl("maintenance", "rm", "1", conf=conf)[0], 0, "daemon: the window removed while it runs")
            check(wait_for(lambda: len(smtp.messages()) >= 1, 20), "daemon: a DOWN mail once it is gone")
            outside = rows(db, f"SELECT count(*) FROM checks WHERE site_id = {sid} AND maintenance IS NULL"
                               f" AND id > (SELECT max(id) FROM checks WHERE maintenance = 1)")[0][0]
            check(outside >= 2, "daemon: after fail_threshold checks past the window", outside)
            time.sleep(1.5)
            equal(subjects(smtp), ["[squirrel] DOWN cart (http 503)"], "daemon: exactly one DOWN")
            # a window added while it runs is followed too
            equal(e.ctl("maintenance", "add", "--site", str(sid), "--for", "1h", conf=conf)[0], 0,
                  "daemon: a second window while it runs")
            check(wait_for(lambda: rows(db, "SELECT count(*) FROM checks WHERE maintenance = 2")[0][0] >= 2, 20),
                  "daemon: its checks are marked with the new window")
        finally:
            equal(stop_pid(proc), 0, "daemon: stops cleanly")
            err.close()


def main():
    with tmpdir() as tmp:
        with Httpd(tmp) as httpd:
            test_bad_input(tmp, httpd)
            test_list_rm(tmp, httpd)
            test_down_inside_window(tmp, httpd)
            test_weekly_zone(tmp, httpd)
            test_figures(tmp, httpd)
            test_daemon(tmp, httpd)
    return done()


if __name__ == "__main__":
    sys.exit(main())
