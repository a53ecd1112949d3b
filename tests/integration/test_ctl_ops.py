"""squirrelctl as an operator uses it in the first hour, on real SQLite
files: edit (every per-site column, back to the default, the same
refusals as add, one UPDATE that a running squirreld picks up by itself),
incidents (per site, since, ongoing ones), the outbox with the site's name
and URL, and --help that lists every option."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import CtlEnv, Httpd, check, done, equal, free_port, run, stop_pid, tmpdir, wait_for  # noqa: E402

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
SQUIRRELD = os.environ.get("SQUIRRELD", "build/squirreld")

EDIT_KEYS = ["id", "enabled", "interval_s", "timeout_ms", "fail_threshold", "recover_threshold",
             "retry_interval_s", "remind_every_s", "slow_ms", "alert_degraded", "depends_on", "public", "method", "expect_status",
             "keyword", "keyword_mode", "cert_warn_days", "group_name", "keyword_nocase", "owner_email", "name", "url"]
EXPECT = ["method", "expect_status", "keyword", "keyword_mode", "keyword_nocase"]
SETTINGS = ["interval_s", "timeout_ms", "fail_threshold", "recover_threshold", "retry_interval_s",
            "remind_every_s"]
INCIDENT_KEYS = ["id", "site_id", "name", "url", "started_at", "ended_at", "duration_s", "ongoing", "notes",
                 "cause"]


class Env(CtlEnv):
    def __init__(self, tmp):
        super().__init__(tmp, "ops.db")

    def sql(self, query, params=()):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def row(self, site):
        con = sqlite3.connect(self.db)
        con.row_factory = sqlite3.Row
        try:
            r = con.execute("SELECT * FROM sites WHERE id = ?", (site,)).fetchone()
            return dict(r) if r else None
        finally:
            con.close()

    def snapshot(self):
        return [self.sql(f"SELECT * FROM {t} ORDER BY 1") for t in ("sites", "sites_version")]


def test_help():
    rc, out, err = run([CTL, "--help"])
    opts = [ln.split()[0] for ln in out.splitlines() if ln.startswith("  --")]
    check(rc == 0 and "--help" in opts and "--version" in opts, "squirrelctl --help lists --help and --version", out)
    check("edit ID|URL" in out and "incidents [ID|URL]" in out, "squirrelctl --help lists edit and incidents", out)
    rc, out, err = run([SQUIRRELD, "--help"])
    opts = [ln.split()[0] for ln in out.splitlines() if ln.startswith("  --")]
    check(rc == 0 and "--help" in opts and "--version" in opts, "squirreld --help lists --help and --version", out)


def test_edit(e):
    equal(e.ctl("init")[0], 0, "a database")
    a = e.json("add", "https://a.example/", "ops@example.com", "--name", "A", "--interval", "30")[0]["id"]
    b = e.json("add", "https://b.example/", "dev@example.com")[0]["id"]
    b_row = e.row(b)
    version = e.sql("SELECT version FROM sites_version")[0][0]

    rows = e.json("edit", str(a), "--name", "Shop", "--owner", "shop@example.com", "--url",
                  "HTTPS://Shop.Example/x", "--interval", "45", "--timeout", "3000", "--disable",
                  "--fail-threshold", "3", "--recover-threshold", "2", "--retry-interval", "10",
                  "--remind-every", "3600")
    check(len(rows) == 1 and list(rows[0]) == EDIT_KEYS, "edit --json: one object, every per-site column", rows)
    equal(rows[0], {"id": a, "enabled": False, "interval_s": 45, "timeout_ms": 3000, "fail_threshold": 3,
                    "recover_threshold": 2, "retry_interval_s": 10, "remind_every_s": 3600,
                    "slow_ms": None, "alert_degraded": None, "depends_on": None, "public": None, **{k: None for k in EXPECT}, "cert_warn_days": None, "group_name": None, "owner_email": "shop@example.com", "name": "Shop", "url": "https://Shop.Example/x"},
          "edit shows what it stored")
    r = e.row(a)
    equal((r["url"], r["owner_email"], r["name"], r["enabled"], r["interval_s"], r["timeout_ms"],
           r["fail_threshold"], r["recover_threshold"], r["retry_interval_s"], r["remind_every_s"]),
          ("https://Shop.Example/x", "shop@example.com", "Shop", 0, 45, 3000, 3, 2, 10, 3600),
          "every column in the database, the scheme in lower case")
    equal(e.sql("SELECT version FROM sites_version")[0][0], version + 1,
          "one UPDATE: the version counter the daemon polls moved once")
    equal(e.row(b), b_row, "the other site untouched")

    rows = e.json("edit", "https://Shop.Example/x", "--enable")
    check(rows[0]["id"] == a and rows[0]["enabled"] is True and rows[0]["interval_s"] == 45,
          "edit by URL; only what was asked changes", rows)
    rows = e.json("edit", str(a), *[x for k in ("--interval", "--timeout", "--fail-threshold",
                                                "--recover-threshold", "--retry-interval", "--remind-every")
                                    for x in (k, "default")])
    equal([rows[0][k] for k in SETTINGS], [None] * 6, "'default': every setting back to the configuration's")
    equal([e.row(a)[k] for k in SETTINGS], [None] * 6, "NULL in the database")
    rows = e.json("edit", str(a), "--remind-every", "0", "--name", "")
    equal((rows[0]["remind_every_s"], rows[0]["name"], e.row(a)["remind_every_s"], e.row(a)["name"]),
          (0, None, 0, None), "--remind-every 0: no reminders for this site; --name '': no name")

    rc, out, err = e.ctl("edit", str(b), "--interval", "90", "--fail-threshold", "5")
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["ID", "ENABLED", "INTERVAL", "TIMEOUT", "FAIL", "RECOVER", "RETRY",
                                           "REMIND", "SLOW", "DEGRADED", "PARENT", "PUBLIC", "METHOD", "EXPECT", "KEYWORD", "MODE", "CERTWARN", "GROUP", "NOCASE", "OWNER",
                                           "NAME", "URL"], "edit: a table with a header", out)
    check(len(lines) == 2 and "90 s" in lines[1] and "default" in lines[1] and "https://b.example/" in lines[1],
          "edit: the row reads well", out)

    before = e.snapshot()
    cases = [
        (["edit"], "edit without a site"),
        (["edit", str(a)], "edit without a change"),
        (["edit", str(a), str(b), "--enable"], "edit of two sites"),
        (["edit", str(a), "--url", "ftp://a.example/"], "--url: a scheme other than http(s)"),
        (["edit", str(a), "--url", "not a url"], "--url: not a URL"),
        (["edit", str(a), "--url", "http:///nohost"], "--url: no host"),
        (["edit", str(a), "--owner", "nobody"], "--owner: no @"),
        (["edit", str(a), "--owner", "a@b.org,c@d.org"], "--owner: two addresses"),
        (["edit", str(a), "--name", "two\nlines"], "--name: a newline"),
        (["edit", str(a), "--interval", "0"], "--interval 0"),
        (["edit", str(a), "--interval", "ten"], "--interval: not a number"),
        (["edit", str(a), "--timeout", "600001"], "--timeout too long"),
        (["edit", str(a), "--fail-threshold", "0"], "--fail-threshold 0"),
        (["edit", str(a), "--recover-threshold", "1001"], "--recover-threshold too large"),
        (["edit", str(a), "--retry-interval", "-1"], "--retry-interval negative"),
        (["edit", str(a), "--remind-every", "soon"], "--remind-every: not a number"),
        (["edit", str(a), "--enable", "--disable"], "--enable and --disable"),
        (["edit", str(a), "--since", "1d"], "edit: an option it does not take"),
        (["add", "https://c.example/", "ops@example.com", "--owner", "x@example.com"], "add does not take --owner"),
        (["add", "https://c.example/", "ops@example.com", "--interval", "default"], "add: no default to go back to"),
        (["list", "--enable"], "list does not take --enable"),
    ]
    for args, what in cases:
        rc, out, err = e.ctl(*args)
        check(rc == 2 and err.strip() != "" and out == "", f"{what}: exit 2 with a reason",
              f"rc={rc} out={out!r} err={err!r}")
    rc, out, err = e.ctl("edit", str(a), "--fail-threshold", "0")
    check("--fail-threshold '0'" in err and "1 to 1000" in err, "the reason names the option and its range", err)
    rc, out, err = e.ctl("edit", "99999", "--disable")
    check(rc == 1 and "no site '99999'" in err, "edit of an unknown id: exit 1", err)
    rc, out, err = e.ctl("edit", "https://nowhere.example/", "--disable")
    check(rc == 1 and "no site 'https://nowhere.example/'" in err, "edit of an unknown URL: exit 1", err)
    rc, out, err = e.ctl("edit", str(b), "--url", "https://Shop.Example/x", "--owner", "shop@example.com")
    check(rc == 1 and f"site {a} already watches https://Shop.Example/x for shop@example.com" in err,
          "edit into a URL and owner another site has: exit 1", err)
    equal(e.snapshot(), before, "nothing written by any refused edit")


def test_cert_flags(e):
    """--cert-warn-days: add and edit store the list largest first, 'default'
    sets it back to NULL, a bad list names the flag and what is wrong and
    writes nothing."""
    db = os.path.join(e.tmp, "certflags.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    rows = e.json("add", "https://c.example/", "ops@example.com", "--cert-warn-days", "7,30,1", db=db)
    site = rows[0]["id"]
    con = sqlite3.connect(db)
    equal(con.execute("SELECT cert_warn_days FROM sites WHERE id = ?", (site,)).fetchone()[0], "30,7,1",
          "add stores the list, largest first")
    con.close()
    rows = e.json("edit", str(site), "--cert-warn-days", "14", db=db)
    equal(rows[0]["cert_warn_days"], "14", "edit sets it")
    rows = e.json("edit", str(site), "--cert-warn-days", "default", db=db)
    equal(rows[0]["cert_warn_days"], None, "'default': back to NULL ([check] cert_warn_days)")
    con = sqlite3.connect(db)
    before = con.execute("SELECT * FROM sites ORDER BY id").fetchall()
    con.close()
    for args, flag, words in [
        (["edit", str(site), "--cert-warn-days", "400"], "--cert-warn-days '400'",
         "400: a day must be from 1 to 365; or 'default'"),
        (["edit", str(site), "--cert-warn-days", "30,,7"], "--cert-warn-days '30,,7'", "a day is missing"),
        (["edit", str(site), "--cert-warn-days", "0"], "--cert-warn-days '0'", "from 1 to 365"),
        (["add", "https://d.example/", "ops@example.com", "--cert-warn-days", "default"],
         "--cert-warn-days 'default'", "'default' is not a whole number of days"),
    ]:
        rc, out, err = e.ctl(*args, db=db)
        check(rc == 2 and out == "" and err.startswith(f"squirrelctl: {flag}: ") and words in err,
              f"{' '.join(args[2:])[:40]}: exit 2 naming the flag", f"rc={rc} out={out!r} err={err!r}")
    con = sqlite3.connect(db)
    equal(con.execute("SELECT * FROM sites ORDER BY id").fetchall(), before, "nothing written by a bad list")
    con.close()


def test_expect_flags(e):
    """add and edit set every per-site column, the thresholds and what the
    answer must be; 'default' (and --keyword '') sets one back to NULL; bad
    input names its flag and writes nothing."""
    db = os.path.join(e.tmp, "expect.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    rows = e.json("add", "https://k.example/", "ops@example.com", "--interval", "30", "--timeout", "2000",
                  "--fail-threshold", "4", "--recover-threshold", "3", "--retry-interval", "7",
                  "--remind-every", "0", "--method", "get", "--expect-status", "200-299,301,401",
                  "--keyword", "Welcome home", "--keyword-mode", "ABSENT", "--keyword-nocase", "1", db=db)
    check(len(rows) == 1, "add with every setting", rows)
    site = rows[0]["id"]
    con = sqlite3.connect(db)
    got = con.execute("SELECT interval_s, timeout_ms, fail_threshold, recover_threshold, retry_interval_s,"
                      " remind_every_s, method, expect_status, keyword, keyword_mode, keyword_nocase"
                      " FROM sites WHERE id = ?", (site,)).fetchone()
    con.close()
    equal(got, (30, 2000, 4, 3, 7, 0, "GET", "200-299,301,401", "Welcome home", "absent", 1),
          "add stored every column (method and mode as the schema spells them)")

    rows = e.json("edit", str(site), "--method", "HEAD", "--expect-status", "204", "--keyword", "Bienvenue",
                  "--keyword-mode", "present", "--keyword-nocase", "0", db=db)
    equal([rows[0][k] for k in EXPECT], ["HEAD", "204", "Bienvenue", "present", 0], "edit sets each")
    rows = e.json("edit", str(site), "--method", "default", "--expect-status", "default", "--keyword", "",
                  "--keyword-mode", "default", "--keyword-nocase", "default", db=db)
    equal([rows[0][k] for k in EXPECT], [None] * 5, "'default' and --keyword '': back to NULL")
    rc, out, err = e.ctl("edit", str(site), "--keyword", "default", db=db)
    check(rc == 0 and " default " in out.splitlines()[1], "--keyword default is the word 'default'", out)
    rows = e.json("edit", str(site), "--keyword", "", db=db)
    equal(rows[0]["keyword"], None, "removed again")

    con = sqlite3.connect(db)
    before = [con.execute("SELECT * FROM sites ORDER BY id").fetchall(),
              con.execute("SELECT version FROM sites_version").fetchall()]
    con.close()
    long_kw = "k" * 257
    for args, flag, words in [
        (["edit", str(site), "--method", "POST"], "--method 'POST'", "expected HEAD or GET, or 'default'"),
        (["edit", str(site), "--expect-status", "2xx"], "--expect-status '2xx'",
         "'2xx' is not a status code (100 to 599)"),
        (["edit", str(site), "--expect-status", "299-200"], "--expect-status '299-200'",
         "299-200: a range must not end before it starts"),
        (["edit", str(site), "--expect-status", "200,,301"], "--expect-status '200,,301'", "is not a status code"),
        (["edit", str(site), "--expect-status", ""], "--expect-status ''", "a list of status codes"),
        (["edit", str(site), "--keyword", long_kw], "--keyword", "257 bytes; expected 1 to 256"),
        (["edit", str(site), "--keyword-mode", "maybe"], "--keyword-mode 'maybe'", "expected present or absent"),
        (["edit", str(site), "--keyword-nocase", "yes"], "--keyword-nocase 'yes'", "expected 0 or 1"),
        (["edit", str(site), "--keyword", "ok", "--method", "PUT"], "--method 'PUT'", "expected HEAD or GET"),
        (["add", "https://n.example/", "ops@example.com", "--method", "default"], "--method 'default'",
         "expected HEAD or GET"),
        (["add", "https://n.example/", "ops@example.com", "--keyword", ""], "--keyword",
         "0 bytes; expected 1 to 256"),
        (["add", "https://n.example/", "ops@example.com", "--keyword-nocase", "default"],
         "--keyword-nocase 'default'", "expected 0 or 1"),
        (["add", "https://n.example/", "ops@example.com", "--fail-threshold", "0"], "--fail-threshold '0'",
         "from 1 to 1000"),
        (["add", "https://n.example/", "ops@example.com", "--remind-every", "-1"], "--remind-every '-1'",
         "from 0 to"),
    ]:
        rc, out, err = e.ctl(*args, db=db)
        check(rc == 2 and out == "" and err.startswith(f"squirrelctl: {flag}: ") and words in err,
              f"{' '.join(args[2:])[:40]}: exit 2 naming the flag", f"rc={rc} out={out!r} err={err!r}")
    con = sqlite3.connect(db)
    after = [con.execute("SELECT * FROM sites ORDER BY id").fetchall(),
             con.execute("SELECT version FROM sites_version").fetchall()]
    con.close()
    equal(after, before, "nothing written by any refused add or edit")


def test_edit_live(e):
    """squirreld notices an edit by itself: a site moved from a refused port
    to a server that answers is checked there without a restart."""
    db = os.path.join(e.tmp, "live.db")
    conf = os.path.join(e.tmp, "live.conf")
    with open(conf, "w") as f:
        f.write(f"[squirreld]\nbackend = serial\n[check]\ninterval = 1\nretry_interval = 1\n"
                f"[smtp]\nhost = 127.0.0.1\nport = {free_port()}\n")
    with Httpd(e.tmp) as httpd:
        equal(e.ctl("init", db=db, conf=conf)[0], 0, "a database for the daemon")
        rc, out, err = e.ctl("add", f"http://127.0.0.1:{free_port()}/", "ops@example.com", db=db, conf=conf)
        log = open(os.path.join(e.tmp, "daemon.log"), "w")
        d = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log)
        try:
            def count(sql):
                con = sqlite3.connect(db, timeout=5)
                try:
                    return con.execute(sql).fetchone()[0]
                finally:
                    con.close()
            check(wait_for(lambda: count("SELECT count(*) FROM checks WHERE ok = 0") >= 1, 20),
                  "the daemon checks the refused port")
            rc, out, err = e.ctl("edit", "1", "--url", httpd.url("/ok"), db=db, conf=conf)
            equal(rc, 0, "edit while the daemon runs")
            check(wait_for(lambda: count("SELECT count(*) FROM checks WHERE ok = 1") >= 1, 20),
                  "the daemon checks the new URL without a restart")
            check(d.poll() is None, "the daemon runs on")
        finally:
            equal(stop_pid(d, signal.SIGTERM), 0, "squirreld stops cleanly")
            log.close()


def test_incidents(e):
    db = os.path.join(e.tmp, "incidents.db")
    equal(e.ctl("init", db=db)[0], 0, "a database for incidents")
    a = e.json("add", "https://a.example/", "ops@example.com", "--name", "Shop", db=db)[0]["id"]
    b = e.json("add", "https://b.example/", "ops@example.com", db=db)[0]["id"]
    gone = e.json("add", "https://gone.example/", "ops@example.com", db=db)[0]["id"]
    now0 = int(time.time())
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO incidents (site_id, started_at, ended_at, cause) VALUES (?, ?, ?, ?)", [
        (b, 1600000000, 1600000100, "connect refused"),
        (a, 1700000000, 1700000600, "http 503"),
        (gone, 1700001000, 1700004700, "dns nxdomain"),
        (a, now0 - 3600, None, "timeout"),
    ])
    con.commit()
    con.close()
    e.ctl("rm", str(gone), db=db)

    t0 = int(time.time())
    rows = e.json("incidents", db=db)
    t1 = int(time.time())
    check(rows and all(list(r) == INCIDENT_KEYS for r in rows), "incidents --json: the columns as keys", rows)
    equal([(r["site_id"], r["started_at"], r["ended_at"], r["ongoing"], r["cause"]) for r in rows],
          [(a, now0 - 3600, None, True, "timeout"), (gone, 1700001000, 1700004700, False, "dns nxdomain"),
           (a, 1700000000, 1700000600, False, "http 503"), (b, 1600000000, 1600000100, False, "connect refused")],
          "every incident, newest first; the open one ongoing")
    check(t0 - now0 + 3600 <= rows[0]["duration_s"] <= t1 - now0 + 3600, "an ongoing incident's duration: so far",
          rows[0])
    equal([r["duration_s"] for r in rows[1:]], [3700, 600, 100], "an ended incident's duration")
    equal([(r["name"], r["url"]) for r in rows],
          [("Shop", "https://a.example/"), (None, None), ("Shop", "https://a.example/"), (None, "https://b.example/")],
          "the site's name and URL; none for a removed site")

    equal([r["cause"] for r in e.json("incidents", str(a), db=db)], ["timeout", "http 503"], "incidents ID")
    equal([r["cause"] for r in e.json("incidents", "https://b.example/", db=db)], ["connect refused"],
          "incidents URL")
    equal([r["cause"] for r in e.json("incidents", "--since", "1700000300", db=db)],
          ["timeout", "dns nxdomain", "http 503"], "--since: open then, or ended since")
    equal([r["cause"] for r in e.json("incidents", "--since", "1d", db=db)], ["timeout"],
          "--since 1d: the ongoing one")
    equal([r["cause"] for r in e.json("incidents", str(a), "--since", "2023-11-15", db=db)], ["timeout"],
          "--since a day, for one site")
    equal([r["cause"] for r in e.json("incidents", "--limit", "2", db=db)], ["timeout", "dns nxdomain"],
          "--limit")

    rc, out, err = e.ctl("incidents", db=db)
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["ID", "SITE", "NAME", "URL", "STARTED", "(UTC)", "ENDED", "(UTC)",
                                           "DURATION", "NOTES", "CAUSE"], "incidents: a table with a header", out)
    check(len(lines) == 5 and "ongoing" in lines[1] and "1h 0m" in lines[1] and "timeout" in lines[1],
          "an open incident reads ongoing, with its duration so far", out)
    check("2023-11-14 22:13:20" in lines[3] and "2023-11-14 22:23:20" in lines[3] and "10m 0s" in lines[3],
          "an ended one: its start, end and duration", out)
    check("(removed)" in lines[2], "a removed site reads so", out)

    rc, out, err = e.ctl("incidents", "99999", db=db)
    check(rc == 1 and "no site '99999'" in err, "incidents of an unknown site: exit 1", err)
    rc, out, err = e.ctl("incidents", "--since", "yesterday", db=db)
    check(rc == 2 and "--since" in err and out == "", "a time it cannot read: exit 2", err)
    rc, out, err = e.ctl("incidents", "1", "2", db=db)
    equal(rc, 2, "two sites: exit 2")
    equal(e.json("incidents", str(b), "--since", "1d", db=db), [], "none: an empty array")


def test_group_public(e):
    """Schema 20's per-site columns: add and edit --group and --public, list
    and edit show them, 'default' (and --group '') goes back to NULL (no
    group, not public); bad values are refused by the command line with the
    reason, nothing written; report --public is a flag, on add and edit a
    value."""
    db = os.path.join(e.tmp, "groups.db")
    equal(e.ctl("init", db=db)[0], 0, "a database")
    rows = e.json("add", "https://g.example/", "ops@example.com", "--group", "Shop", "--public", "yes", db=db)
    check(len(rows) == 1 and rows[0]["group_name"] == "Shop" and rows[0]["public"] is True,
          "add --group --public: shown as list shows it", rows)
    site = rows[0]["id"]
    plain = e.json("add", "https://p.example/", "ops@example.com", db=db)[0]
    equal((plain["group_name"], plain["public"]), (None, False), "add without them: no group, not public")
    con = sqlite3.connect(db)
    equal(con.execute("SELECT group_name, public FROM sites ORDER BY id").fetchall(),
          [("Shop", 1), (None, None)], "the columns in the database (NULL: not public)")
    con.close()
    equal([(r["id"], r["group_name"], r["public"]) for r in e.json("list", db=db)],
          [(site, "Shop", True), (plain["id"], None, False)], "list --json: group_name and public")
    rc, out, err = e.ctl("list", db=db)
    lines = out.splitlines()
    equal(lines[0].split(), ["ID", "ENABLED", "STATE", "INTERVAL", "TIMEOUT", "OWNER", "GROUP", "PUBLIC", "NAME",
                             "URL", "SKIPPED"], "list: GROUP and PUBLIC columns")
    equal(lines[1].split()[5:8], ["ops@example.com", "Shop", "yes"], "list: the group and yes")
    equal(lines[2].split()[5:8], ["ops@example.com", "-", "no"], "list: none and no")

    rows = e.json("edit", str(site), "--group", "Caf\u00e9 \u2615", "--public", "no", db=db)
    equal((rows[0]["group_name"], rows[0]["public"]), ("Caf\u00e9 \u2615", 0), "edit sets both (UTF-8 taken)")
    equal([(r["group_name"], r["public"]) for r in e.json("list", db=db)][0], ("Caf\u00e9 \u2615", False),
          "list after edit")
    rows = e.json("edit", str(site), "--group", "default", "--public", "default", db=db)
    equal((rows[0]["group_name"], rows[0]["public"]), (None, None), "'default': both back to NULL")
    equal([(r["group_name"], r["public"]) for r in e.json("list", db=db)][0], (None, False),
          "list: null and false")
    e.json("edit", str(site), "--group", "Blog", db=db)
    rows = e.json("edit", str(site), "--group", "", db=db)
    equal(rows[0]["group_name"], None, "--group '': no group")
    rows = e.json("edit", str(site), "--group", "g" * 100, "--public", "yes", db=db)
    equal((rows[0]["group_name"], rows[0]["public"]), ("g" * 100, 1), "a group of 100 bytes")

    con = sqlite3.connect(db)
    before = [con.execute("SELECT * FROM sites ORDER BY id").fetchall(),
              con.execute("SELECT version FROM sites_version").fetchall()]
    con.close()
    for args, words in [
        (["edit", str(site), "--group", "g" * 101], "--group '" + "g" * 100 + "': expected 1 to 100 bytes"),
        (["edit", str(site), "--group", "two\nlines"], "--group 'two?lines': a control character"),
        (["edit", str(site), "--group", "a\x01b"], "--group 'a?b': a control character"),
        (["edit", str(site), "--group", "del\x7f"], "--group 'del?': a control character"),
        (["edit", str(site), "--public", "maybe"], "--public 'maybe': expected yes or no, or 'default' for no"),
        (["edit", str(site), "--public", "1"], "--public '1': expected yes or no"),
        (["edit", str(site), "--public"], "option '--public' needs a value"),
        (["add", "https://n.example/", "ops@example.com", "--group", ""], "--group '': expected 1 to 100 bytes"),
        (["add", "https://n.example/", "ops@example.com", "--group", "default"],
         "--group 'default': 'default' is the word edit takes to remove a group"),
        (["add", "https://n.example/", "ops@example.com", "--public", "default"],
         "--public 'default': expected yes or no"),
        (["report", "--html", os.path.join(e.tmp, "x.html"), "--public", "yes"], "usage: squirrelctl report"),
        (["list", "--public"], "list does not take --public"),
        (["list", "--group", "Shop"], "list does not take --group"),
    ]:
        rc, out, err = e.ctl(*args, db=db)
        check(rc == 2 and out == "" and err.startswith("squirrelctl: ") and words in err,
              f"{' '.join(args[2:])[:40]!r}: exit 2 with the reason", f"rc={rc} out={out!r} err={err!r}")
    con = sqlite3.connect(db)
    after = [con.execute("SELECT * FROM sites ORDER BY id").fetchall(),
             con.execute("SELECT version FROM sites_version").fetchall()]
    con.close()
    equal(after, before, "nothing written by any refused add or edit")
    check(not os.path.exists(os.path.join(e.tmp, "x.html")), "no page written by a refused report")


def test_notes(e):
    """incident note on a real incident (a server answering 503, squirreld
    --once): shown under it in incidents, oldest first; an unknown incident,
    an empty text, 1001 bytes and control characters refused with the
    reason, nothing written."""
    db = os.path.join(e.tmp, "notes.db")
    conf = os.path.join(e.tmp, "notes.conf")
    with open(conf, "w") as f:
        f.write(f"[check]\nfail_threshold = 1\n[smtp]\nhost = 127.0.0.1\nport = {free_port()}\n")
    equal(e.ctl("init", db=db, conf=conf)[0], 0, "a database")
    with Httpd(e.tmp) as httpd:
        site = e.json("add", httpd.url("/down?status=503"), "ops@example.com", db=db)[0]["id"]
        rc, out, err = run([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "serial"], timeout=60)
        equal(rc, 0, "squirreld --once checks the site")
    rows = e.json("incidents", db=db)
    check(len(rows) == 1 and rows[0]["site_id"] == site and rows[0]["ongoing"] and rows[0]["notes"] == [],
          "one incident, ongoing, no notes yet", rows)
    incident = rows[0]["id"]

    t0 = int(time.time())
    rows = e.json("incident", "note", str(incident), "Database failover under way.\nNext update at 14:00.", db=db)
    t1 = int(time.time())
    check(len(rows) == 1 and rows[0]["incident_id"] == incident and t0 <= rows[0]["at"] <= t1
          and rows[0]["text"] == "Database failover under way.\nNext update at 14:00.",
          "incident note --json: what it added", rows)
    first_at = rows[0]["at"]
    rc, out, err = e.ctl("incident", "note", str(incident), "Fixed;\tmonitoring.", db=db)
    lines = out.splitlines()
    check(rc == 0 and lines[0].split() == ["INCIDENT", "AT", "(UTC)", "TEXT"] and lines[1].split()[0] == str(incident)
          and lines[1].endswith("Fixed;?monitoring."), "incident note: a table of what it added", out)
    long_text = "\u00e9" * 500        # 1000 bytes, 500 characters
    equal(e.ctl("incident", "note", str(incident), long_text, db=db)[0], 0, "1000 bytes taken")

    rows = e.json("incidents", db=db)
    notes = rows[0]["notes"]
    equal([n["text"] for n in notes], ["Database failover under way.\nNext update at 14:00.", "Fixed;\tmonitoring.",
                                       long_text], "incidents --json: the notes, oldest first, as written")
    check(notes[0]["at"] == first_at and all(isinstance(n["at"], int) for n in notes)
          and notes[0]["at"] <= notes[1]["at"] <= notes[2]["at"], "each with its time", notes)
    rc, out, err = e.ctl("incidents", db=db)
    lines = out.splitlines()
    col = lines[0].index("NOTES")
    equal(lines[1][col:col + 5].strip(), "3", "incidents: the NOTES column counts them")

    con = sqlite3.connect(db)
    before = con.execute("SELECT * FROM incident_notes ORDER BY id").fetchall()
    con.close()
    rc, out, err = e.ctl("incident", "note", str(incident + 100), "Nowhere", db=db)
    check(rc == 1 and out == "" and f"no incident {incident + 100} in {db}" in err,
          "an unknown incident: exit 1 with the reason", f"rc={rc} err={err!r}")
    for args, words in [
        ([str(incident), "x" * 1001], "the text is 1001 bytes; expected 1 to 1000"),
        ([str(incident), "\u00e9" * 500 + "x"], "the text is 1001 bytes; expected 1 to 1000"),
        ([str(incident), ""], "the text is 0 bytes; expected 1 to 1000"),
        ([str(incident), "bell\x07"], "a control character (U+0007) at byte 5; only newline and tab are taken"),
        ([str(incident), "cr\rlf"], "a control character (U+000D) at byte 3"),
        ([str(incident), "esc\x1b[31m"], "a control character (U+001B) at byte 4"),
        (["abc", "text"], "'abc' is not an incident's id"),
        (["0", "text"], "'0' is not an incident's id"),
    ]:
        rc, out, err = e.ctl("incident", "note", *args, db=db)
        check(rc == 2 and out == "" and f"squirrelctl: incident note: {words}" in err,
              f"incident note {args[0]} {args[1][:12]!r}: exit 2 with the reason", f"rc={rc} err={err!r}")
    for args in (["note", str(incident)], ["note", str(incident), "a", "b"], ["add", str(incident), "text"]):
        rc, out, err = e.ctl("incident", *args, db=db)
        check(rc == 2 and "incident note ID TEXT" in err, f"incident {' '.join(args)}: exit 2, the usage", err)
    con = sqlite3.connect(db)
    equal(con.execute("SELECT * FROM incident_notes ORDER BY id").fetchall(), before,
          "nothing written by a refused note")
    con.close()


def test_outbox(e):
    site = e.sql("SELECT min(id) FROM sites")[0][0]
    con = sqlite3.connect(e.db)
    con.executemany("INSERT INTO outbox (site_id, owner_email, kind, created_at, url, name, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", [
                        (site, "a@example.com", "down", 1700000000, "https://shop.example/x", "Shop", "pending"),
                        (site, "b@example.com", "up", 1700000100, "https://noname.example/", None, "failed"),
                    ])
    con.commit()
    con.close()
    rows = e.json("outbox")
    equal([(r["site_id"], r["name"], r["url"]) for r in rows],
          [(site, "Shop", "https://shop.example/x"), (site, None, "https://noname.example/")],
          "outbox --json: the site's name and URL")
    rc, out, err = e.ctl("outbox")
    lines = out.splitlines()
    check(rc == 0 and "NAME" in lines[0].split() and "URL" in lines[0].split(), "outbox: NAME and URL columns", out)
    check(len(lines) == 3 and "Shop" in lines[1] and "https://shop.example/x" in lines[1]
          and "https://noname.example/" in lines[2], "outbox: each alert's site by name and URL", out)


def section(fn, *args):
    """One part of the test; an exception in it fails it, and the rest still run."""
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        check(False, f"{fn.__name__} ran to its end", repr(exc))


def main():
    with tmpdir() as tmp:
        e = Env(tmp)
        section(test_help)
        section(test_edit, e)
        section(test_expect_flags, e)
        section(test_cert_flags, e)
        section(test_edit_live, e)
        section(test_incidents, e)
        section(test_group_public, e)
        section(test_notes, e)
        section(test_outbox, e)
    return done()


if __name__ == "__main__":
    sys.exit(main())
