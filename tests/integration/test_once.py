"""squirreld --once end to end: the command line, the database contract
(constraints, junk rows), the output format and the history it records."""

import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "dns"))
from servers import Dnsmasq  # noqa: E402
from tls import Tlsd  # noqa: E402
from harness import (Httpd, add_sites, check, done, equal, new_db, parse_once,  # noqa: E402
                     squirreld, tmpdir, run, empty_config)


def test_cli(tmp):
    rc, out, err = squirreld("--help")
    equal(rc, 0, "--help exits 0")
    check("usage: squirreld" in out and "--once" in out, "--help prints usage on stdout")
    rc, out, err = squirreld("--version")
    equal(rc, 0, "--version exits 0")
    check(out.startswith("squirreld "), "--version prints the version", out)
    rc, out, err = squirreld("--bogus")
    equal(rc, 2, "unknown option exits 2")
    check("unknown option '--bogus'" in err and "usage:" in err, "unknown option named, usage on stderr", err)
    rc, out, err = squirreld("--once", "extra")
    equal(rc, 2, "stray argument exits 2")
    check("unexpected argument 'extra'" in err, "stray argument named", err)
    rc, out, err = squirreld("--once", "--db")
    equal(rc, 2, "option without value exits 2")
    check("option '--db' needs a value" in err, "missing value named", err)
    db = os.path.join(tmp, "cli.db")
    conf = empty_config(tmp)
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "epoll")
    equal(rc, 2, "unknown backend exits 2")
    check("'epoll' is not one of: serial, threads, prefork, libev, redis" in err,
          "unknown backend lists the valid ones", err)
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--workers", "many")
    equal(rc, 2, "bad --workers exits 2")
    check("--workers: workers: 'many' is not a whole number" in err, "bad --workers explained", err)
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--max-concurrent", "0")
    equal(rc, 2, "--max-concurrent 0 exits 2")
    check("0 is out of range (1 to 100000)" in err, "range given", err)
    rc, out, err = squirreld("--once", "--config", os.path.join(tmp, "nope.conf"), "--db", db)
    equal(rc, 1, "missing --config file exits 1")
    check("nope.conf: No such file or directory" in err, "missing config named", err)
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[check]\ninterval = 60\ntimout = 5\n")
    rc, out, err = squirreld("--once", "--config", bad, "--db", db)
    equal(rc, 1, "bad config exits 1")
    check(f"{bad}:3: unknown key 'timout' in [check]" in err, "bad config: file, line and key", err)
    rc, out, err = squirreld("--once", "--config", conf, "--db", os.path.join(tmp, "no/such/dir.db"),
                             "--backend", "serial")
    equal(rc, 1, "database in a missing directory exits 1")
    check("no/such/dir.db" in err, "the database path is named", err)
    notdb = os.path.join(tmp, "notdb.db")
    with open(notdb, "w") as f:
        f.write("this is not a database\n" * 100)
    rc, out, err = squirreld("--once", "--config", conf, "--db", notdb, "--backend", "serial")
    equal(rc, 1, "a file that is not a database exits 1")
    check("notdb.db: not a usable SQLite database" in err, "not a database: said so", err)


def test_schema(tmp):
    db = new_db(tmp, "schema.db")
    con = sqlite3.connect(db)
    check(con.execute("PRAGMA user_version").fetchone()[0] >= 2, "a versioned schema")
    equal(con.execute("PRAGMA journal_mode").fetchone()[0], "wal", "WAL mode")
    con.close()
    # A person adds a site with nothing more than url and owner_email,
    # with the sqlite3 shell; bad rows are refused at once.
    ok = "INSERT INTO sites(url, owner_email) VALUES ('https://example.org/', 'ops@example.org');"
    rc, out, err = run(["sqlite3", db, ok])
    equal(rc, 0, "minimal INSERT accepted")
    rc, out, err = run(["sqlite3", db, "SELECT enabled, interval_s IS NULL, timeout_ms IS NULL, "
                        "name IS NULL, created_at > 1700000000 FROM sites"])
    equal(out.strip(), "1|1|1|1|1", "defaults of the other columns")
    refused = [
        ("ftp://example.org/", "ops@example.org"),
        ("example.org", "ops@example.org"),
        ("file:///etc/passwd", "ops@example.org"),
        ("https://example.org/", "nobody"),
        ("https://example.org/", "@example.org"),
        ("https://example.org/", "ops@"),
    ]
    for url, email in refused:
        rc, out, err = run(["sqlite3", db, f"INSERT INTO sites(url, owner_email) VALUES ('{url}', '{email}');"])
        check(rc != 0 and "CHECK constraint failed" in err, f"refused at edit time: {url} {email}", err)
    for col, val in [("interval_s", "0"), ("interval_s", "'abc'"), ("timeout_ms", "-5"), ("enabled", "2")]:
        rc, out, err = run(["sqlite3", db, f"INSERT INTO sites(url, owner_email, {col}) "
                            f"VALUES ('http://x.example/', 'a@b.example', {val});"])
        check(rc != 0 and "CHECK constraint failed" in err, f"refused at edit time: {col} = {val}", err)
    rc, out, err = run(["sqlite3", db, "SELECT count(*) FROM sites"])
    equal(out.strip(), "1", "nothing refused was written")
    # a timeout every backend and worker runs: 10 minutes at most
    for val in ("600001", "2147483647"):
        rc, out, err = run(["sqlite3", db, "INSERT INTO sites(url, owner_email, timeout_ms) "
                            f"VALUES ('http://x.example/', 'a@b.example', {val});"])
        check(rc != 0 and "timeout_ms is over the maximum of 600000 (10 minutes)" in err,
              f"refused at edit time: timeout_ms = {val}", err)
    rc, out, err = run(["sqlite3", db, "UPDATE sites SET timeout_ms = 700000;"])
    check(rc != 0 and "timeout_ms is over the maximum" in err, "an UPDATE over it refused too", err)
    rc, out, err = run(["sqlite3", db, "UPDATE sites SET timeout_ms = 600000;"])
    equal(rc, 0, "the maximum itself is accepted")


SCHEMA_V1 = """
CREATE TABLE sites (id INTEGER PRIMARY KEY AUTOINCREMENT,
 url TEXT NOT NULL CHECK (typeof(url) = 'text' AND (substr(url, 1, 7) = 'http://' OR substr(url, 1, 8) = 'https://')),
 owner_email TEXT NOT NULL CHECK (typeof(owner_email) = 'text' AND instr(owner_email, '@') > 1 AND instr(owner_email, '@') < length(owner_email)),
 name TEXT CHECK (name IS NULL OR typeof(name) = 'text'),
 enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
 interval_s INTEGER CHECK (interval_s IS NULL OR (typeof(interval_s) = 'integer' AND interval_s > 0)),
 timeout_ms INTEGER CHECK (timeout_ms IS NULL OR (typeof(timeout_ms) = 'integer' AND timeout_ms > 0)),
 created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)));
CREATE TABLE site_state (site_id INTEGER PRIMARY KEY,
 state TEXT NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),
 since INTEGER, last_check INTEGER, last_ok INTEGER, last_status INTEGER, last_ms INTEGER,
 last_error TEXT, fail_count INTEGER NOT NULL DEFAULT 0, ok_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE checks (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL, checked_at INTEGER NOT NULL,
 ok INTEGER NOT NULL CHECK (ok IN (0, 1)), http_status INTEGER NOT NULL, ms INTEGER NOT NULL,
 error TEXT NOT NULL DEFAULT '');
CREATE INDEX checks_site_time ON checks (site_id, checked_at);
CREATE TRIGGER sites_delete_state AFTER DELETE ON sites BEGIN DELETE FROM site_state WHERE site_id = old.id; END;
PRAGMA user_version = 1;
"""


def test_migration(tmp):
    """A database of schema version 1 is migrated in place, its rows kept."""
    db = os.path.join(tmp, "v1.db")
    con = sqlite3.connect(db)
    con.executescript(SCHEMA_V1)
    con.execute("INSERT INTO sites(url, owner_email) VALUES ('http://127.0.0.1:1/', 'ops@example.org')")
    # an hour old: within raw_hours, so that the pass's upkeep keeps it raw
    con.execute("INSERT INTO checks(site_id, checked_at, ok, http_status, ms) VALUES (1, ?, 1, 200, 5)",
                (int(time.time()) - 3600,))
    con.commit()
    con.close()
    rc, out, err = squirreld("--once", "--config", empty_config(tmp), "--db", db, "--backend", "serial")
    equal(rc, 0, "v1 database: --once exits 0")
    latest = sqlite3.connect(new_db(tmp, "latest.db")).execute("PRAGMA user_version").fetchone()[0]
    check(f"schema migrated from version 1 to {latest}" in err, "the migration is logged", err)
    equal(parse_once(out)[1][4], "connect refused", "the old site is checked")
    con = sqlite3.connect(db)
    equal(con.execute("PRAGMA user_version").fetchone()[0], latest, "migrated to the latest version")
    equal(con.execute("SELECT count(*) FROM checks").fetchone()[0], 2, "old history kept")
    cols = [r[1] for r in con.execute("PRAGMA table_info(sites)")]
    check("fail_threshold" in cols and "remind_every_s" in cols, "new per-site columns", cols)
    con.close()
    # a database newer than this build is refused, untouched
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.close()
    rc, out, err = squirreld("--once", "--config", empty_config(tmp), "--db", db, "--backend", "serial")
    equal(rc, 1, "newer schema: exit 1")
    check(f"schema version 99 is newer than this squirrel knows ({latest})" in err,
          "newer schema explained", err)


# the names cases() looks up; bücher.squirrel.invalid only in its ASCII form
DNS_HOSTS = [("127.0.0.1", "web.squirrel.invalid"), ("127.0.0.1", "xn--bcher-kva.squirrel.invalid")]


def cases(srv, refused_port):
    """(url, extra columns, expected (state, status, error))."""
    u = srv.url
    return [
        (u("/?status=200"), {}, ("up", 200, "")),
        (u("/?status=204"), {}, ("up", 204, "")),
        (u("/a?status=301&location=/b%3Fstatus%3D200"), {}, ("up", 200, "")),
        (u("/?status=302&location=/final"), {}, ("up", 200, "")),
        (u("/?status=404"), {}, ("down", 404, "http 404")),
        (u("/?status=500"), {}, ("down", 500, "http 500")),
        (u("/?status=503"), {}, ("down", 503, "http 503")),
        (u("/?head=405&status=200"), {}, ("up", 200, "")),
        (u("/?head=501&status=200"), {}, ("up", 200, "")),
        (u("/?head=405&status=200&body=1000000"), {}, ("up", 200, "")),
        (u("/?head=405&status=503"), {}, ("down", 503, "http 503")),
        (f"http://127.0.0.1:{refused_port}/", {}, ("down", 0, "connect refused")),
        (u("/?hang=1"), {"timeout_ms": 1000}, ("down", 0, "timeout")),
        (u("/?close=1"), {}, ("down", 0, "empty reply")),
        (u("/loop"), {}, ("down", 302, "too many redirects")),
        (u("/?status=302&location=file:///etc/passwd"), {}, ("down", 302, "protocol refused")),
        (u("/?status=302&location=gopher://127.0.0.1/"), {}, ("down", 302, "protocol refused")),
        (u("/?status=302&location=dict://127.0.0.1/"), {}, ("down", 302, "protocol refused")),
        # a handshake that stalls (sq-httpd waits for a request line): "tls"
        (u("/", scheme="https"), {"timeout_ms": 1500}, ("down", 0, "tls")),
        # answers that are not HTTP/1.x, or too large to read: their own class
        (u("/?raw=http09"), {}, ("down", 0, "bad reply")),
        (u("/?raw=garbage"), {}, ("down", 0, "bad reply")),
        (u("/?raw=h2"), {}, ("down", 0, "bad reply")),
        (u("/?status=000"), {}, ("down", 0, "bad reply")),
        (u("/?status=99"), {}, ("down", 0, "bad reply")),
        (u("/?status=1000"), {}, ("down", 0, "bad reply")),
        (u("/?status=302&location=/b%3Fraw%3Dhttp09"), {}, ("down", 302, "bad reply")),
        (u("/?huge=status"), {}, ("down", 0, "reply too large")),
        (u("/?huge=header"), {}, ("down", 200, "reply too large")),
        (u("/?huge=location"), {}, ("down", 302, "reply too large")),
        # names, from the test's own DNS server (dnsmasq) on loopback
        (f"http://squirrel-test.invalid:{refused_port}/", {}, ("down", 0, "dns nxdomain")),
        (srv.url("/?status=200", host="web.squirrel.invalid"), {}, ("up", 200, "")),
        # an internationalised name is looked up in its ASCII form, shown as written
        (srv.url("/?status=200", host="b\u00fccher.squirrel.invalid"), {}, ("up", 200, "")),
        (srv.url("/?status=503", host="web.squirrel.invalid"), {}, ("down", 503, "http 503")),
        (srv.url("/?status=302&location=http://web.squirrel.invalid:%d/ok" % srv.port,
                 host="web.squirrel.invalid"), {}, ("up", 200, "")),
        (f"http://web.squirrel.invalid:{refused_port}/", {}, ("down", 0, "connect refused")),
    ] + expect_cases(u) + slow_cases(u)


def slow_cases(u):
    """Slow is degraded, not down: a success over the site's slow_ms prints
    slow (its ms in the ms column); a failure is down however long it took;
    slow_ms 0 is never slow, whatever [check] slow_ms says."""
    return [
        (u("/?status=200&delay=400&s1"), {"slow_ms": 100}, ("slow", 200, "")),
        (u("/?status=200&s2"), {"slow_ms": 5000}, ("up", 200, "")),
        (u("/?status=503&delay=400&s3"), {"slow_ms": 100}, ("down", 503, "http 503")),
        (u("/?status=200&delay=400&s4"), {"slow_ms": 0}, ("up", 200, "")),
        # [check] slow_ms of test_pass's configuration, for a site without its own
        (u(f"/?status=200&delay={CONFIG_SLOW_MS + 400}&s5"), {}, ("slow", 200, "")),
    ]


# [check] slow_ms of test_pass's configuration: longer than any other case answers
CONFIG_SLOW_MS = 3000


# [check] body_max of test_pass's configuration
BODY_MAX = 65536


def expect_cases(u):
    """What the answer must be: the method, the statuses expected, a keyword
    present or absent, in either case, within body_max, across the pieces the
    body arrives in."""
    kw = {"keyword": "Welcome"}
    absent = {"keyword": "ERROR", "keyword_mode": "absent"}
    return [
        # expect_status: codes and ranges; any other final status is http NNN
        (u("/?status=404&e1"), {"expect_status": "404"}, ("up", 404, "")),
        (u("/?status=503&e2"), {"expect_status": "200-299,500-599"}, ("up", 503, "")),
        (u("/?status=204&e3"), {"expect_status": "200,301"}, ("down", 204, "http 204")),
        (u("/?status=302&location=/final&e4"), {"expect_status": "201-299"}, ("down", 200, "http 200")),
        (u("/?status=401&e5"), {"expect_status": "200-299,401"}, ("up", 401, "")),
        # method: GET asks what a HEAD would not
        (u("/?head=200&status=500&m1"), {"method": "GET"}, ("down", 500, "http 500")),
        (u("/?head=200&status=500&m2"), {"method": "HEAD"}, ("up", 200, "")),
        (u("/?status=200&body=300000&m3"), {"method": "GET"}, ("up", 200, "")),
        # keyword present
        (u("/?status=200&text=%3Ch1%3EWelcome%20home%3C%2Fh1%3E"), kw, ("up", 200, "")),
        (u("/?status=200&text=Goodbye&k2"), kw, ("down", 200, "keyword missing")),
        (u("/?status=200&k3"), kw, ("down", 200, "keyword missing")),
        (u("/?status=500&text=Welcome&k4"), kw, ("down", 500, "http 500")),
        # a keyword makes it a GET, whatever the method says
        (u("/?head=405&status=200&text=Welcome&k5"), {**kw, "method": "HEAD"}, ("up", 200, "")),
        # case: exact unless keyword_nocase
        (u("/?status=200&text=WELCOME&c1"), kw, ("down", 200, "keyword missing")),
        (u("/?status=200&text=wElCoMe&c2"), {**kw, "keyword_nocase": 1}, ("up", 200, "")),
        (u("/?status=200&text=WELCOME&c3"), {**kw, "keyword_nocase": 0}, ("down", 200, "keyword missing")),
        # absent
        (u("/?status=200&text=all%20fine&a1"), absent, ("up", 200, "")),
        (u("/?status=200&text=ERROR%3A%20db%20down&a2"), absent, ("down", 200, "keyword present")),
        (u("/?status=200&text=error&a3"), {**absent, "keyword_nocase": 1}, ("down", 200, "keyword present")),
        # within body_max, wherever the pieces of the body end
        (u(f"/?status=200&body={16384 - 3}&text=Welcome&b1"), kw, ("up", 200, "")),
        (u(f"/?status=200&body={16384 - 7}&text=Welcome&b2"), kw, ("up", 200, "")),
        (u(f"/?status=200&body={32768 - 1}&text=Welcome&b3"), kw, ("up", 200, "")),
        (u(f"/?status=200&body={BODY_MAX - 7}&text=Welcome&b4"), kw, ("up", 200, "")),
        # past body_max: not read, so not found (or not seen to be there)
        (u(f"/?status=200&body={BODY_MAX - 6}&text=Welcome&b5"), kw, ("down", 200, "keyword missing")),
        (u("/?status=200&body=5000000&text=Welcome&b6"), kw, ("down", 200, "keyword missing")),
        (u("/?status=200&body=5000000&text=ERROR&b7"), absent, ("up", 200, "")),
        # a keyword of bytes beyond ASCII, matched as bytes
        (u("/?status=200&text=Bienvenue%20%C3%A0%20bord&u1"), {"keyword": "\u00e0 bord"}, ("up", 200, "")),
        (u("/?status=200&text=%C3%80%20BORD&u2"), {"keyword": "\u00e0 bord", "keyword_nocase": 1},
         ("down", 200, "keyword missing")),
    ]


def test_pass(tmp, backend, extra_args, dns, tls=None):
    """tls: a tls.Tlsd whose certificates join the cases, its CA in ca_file."""
    db = new_db(tmp, f"pass-{backend}.db")
    conf = os.path.join(tmp, "dns.conf")
    with open(conf, "w") as f:
        f.write(f"[check]\ndns_servers = {dns.server}\nbody_max = {BODY_MAX}\n"
                f"slow_ms = {CONFIG_SLOW_MS}\n")
        if tls is not None:
            f.write(f"ca_file = {tls.ca_file}\n")
    refused_port = __import__("harness").free_port()
    with Httpd(tmp) as srv:
        cs = cases(srv, refused_port) + (tls.cases() if tls is not None else [])
        # every kind, repeated in order up to 50 sites
        nsites = max(50, len(cs))
        rows = [cs[i % len(cs)] for i in range(nsites)]
        # a site behind another, both failing in the same pass: parent down, in any order
        rows += [(srv.url("/?status=503&parent"), {}, ("down", 503, "http 503")),
                 (srv.url("/?status=503&child"), {}, ("down", 503, "parent down: site {parent}: http 503"))]
        nsites = len(rows)
        ids = add_sites(db, [(url, "owner@example.org", extra) for url, extra, _ in rows])
        con = sqlite3.connect(db)
        con.execute("UPDATE sites SET depends_on = ? WHERE id = ?", (ids[-2], ids[-1]))
        con.commit()
        con.close()
        url, extra, want = rows[-1]
        rows[-1] = (url, extra, (want[0], want[1], want[2].format(parent=ids[-2])))
        # a disabled site is never checked
        add_sites(db, [(srv.url("/?status=200&disabled"), "owner@example.org", {"enabled": 0})])
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", backend,
                                 *extra_args, timeout=240)
    equal(rc, 0, f"{backend}: --once exits 0")
    lines = out.splitlines()
    equal(len(lines), nsites, f"{backend}: one line per enabled site")
    equal([int(l.split("\t")[0]) for l in lines], sorted(ids), f"{backend}: lines ordered by id")
    res = parse_once(out)
    for site_id, (url, extra, want) in zip(ids, rows):
        got = res.get(site_id)
        if got is None:
            check(False, f"{backend}: site {site_id} {url} has a line")
            continue
        state, status, ms, gurl, error = got
        equal((state, status, error), want, f"{backend}: {url}")
        equal(gurl, url, f"{backend}: url column of site {site_id}")
        if want[0] == "slow":
            check(ms > (extra.get("slow_ms") or CONFIG_SLOW_MS),
                  f"{backend}: a slow site's ms is over its slow_ms ({ms} ms)")
        if "hang=1" in url:
            check(950 <= ms <= 2500, f"{backend}: hung site gave up at its timeout ({ms} ms)")
    con = sqlite3.connect(db)
    equal(con.execute("SELECT count(*) FROM checks").fetchone()[0], nsites,
          f"{backend}: {nsites} history rows")
    equal(con.execute("SELECT count(*) FROM checks WHERE ok = 0").fetchone()[0],
          sum(1 for r in rows if r[2][0] == "down"), f"{backend}: failed checks recorded")
    hist = dict(((r[0], (r[1], r[2], r[3], r[4]))) for r in con.execute(
        "SELECT site_id, ok, http_status, class, detail FROM checks"))
    equal(hist[ids[4]], (0, 404, 1, ""), f"{backend}: history row of a 404: its class (http), no detail")
    equal(con.execute("SELECT count(*) FROM site_state").fetchone()[0], nsites, f"{backend}: state per site")
    keyword = {r[0]: r[1:] for r in con.execute("SELECT site_id, class, detail FROM checks WHERE class IN (28, 29)")}
    equal(sorted(keyword.values()), sorted((28 if want[2] == "keyword missing" else 29, "")
                                           for _, _, want in rows if want[2].startswith("keyword ")),
          f"{backend}: the keyword classes stored by their codes, no detail")
    con.close()


def test_junk_rows(tmp):
    db = new_db(tmp, "junk.db")
    conf = empty_config(tmp)
    with Httpd(tmp) as srv:
        good = add_sites(db, [(srv.url("/?status=200"), "ops@example.org", {})])[0]
        con = sqlite3.connect(db)
        # rows that slip past the constraints: made with them switched off
        con.execute("PRAGMA ignore_check_constraints = 1")
        # as in a database from before schema version 8
        con.execute("DROP TRIGGER IF EXISTS sites_timeout_max_insert")
        junk = {}
        for url, email, extra, why in [
            ("http://", "ops@example.org", {}, "bad url: url not understood"),
            ("http://exa mple.org/", "ops@example.org", {}, "bad url: url contains a space"),
            ("http:///path", "ops@example.org", {}, "bad url: url has no host"),
            ("ftp://example.org/", "ops@example.org", {}, "bad url: only http and https"),
            (srv.url("/?status=200"), "nobody", {}, "bad owner_email"),
            (srv.url("/?status=200"), "a@b.example\r\nBcc: x@evil.example", {}, "bad owner_email"),
            (12345, "ops@example.org", {}, "bad url: url not understood"),
            (sqlite3.Binary(b"http://x.example/"), "ops@example.org", {}, "url is not text"),
            (srv.url("/?status=200"), "ops@example.org", {"interval_s": "often"},
             "interval_s is not a positive whole number"),
            (srv.url("/?status=200"), "ops@example.org", {"timeout_ms": -1},
             "timeout_ms is not a positive whole number"),
            # never answers: checked, --once would wait 24 days
            (srv.url("/?hang=1"), "ops@example.org", {"timeout_ms": 2147483647},
             "timeout_ms 2147483647 is over the maximum of 600000"),
        ]:
            cols = ["url", "owner_email", *extra.keys()]
            cur = con.execute(f"INSERT INTO sites ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                              [url, email, *extra.values()])
            junk[cur.lastrowid] = why
        con.commit()
        con.close()
        rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial")
    equal(rc, 0, "junk rows: --once still exits 0")
    res = parse_once(out)
    equal(sorted(res), [good], "junk rows: only the good site is checked")
    equal(res[good][0], "up", "junk rows: the good site is up")
    for site_id, why in junk.items():
        check(f"site {site_id}: skipped: {why}" in err, f"junk row {site_id} named with its reason", err)
    check(f"{len(junk)} site(s) skipped" in err, "junk rows counted", err)

    # under systemd (JOURNAL_STREAM set) every line carries its priority for journald
    p = subprocess.run([__import__("harness").SQUIRRELD, "--once", "--config", conf, "--db", db,
                        "--backend", "serial"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, JOURNAL_STREAM="8:12345"), stdin=subprocess.DEVNULL)
    lines = p.stderr.splitlines()
    check(lines and all(l[:3] in ("<3>", "<4>", "<6>", "<7>") for l in lines),
          "journald priority prefixes on every line", p.stderr)
    check(any(l.startswith("<4>site ") and "skipped" in l for l in lines),
          "a skipped row is a warning (<4>), without the program name", p.stderr)


def main():
    backends = sys.argv[1:] or ["serial"]
    with tmpdir() as tmp:
        test_cli(tmp)
        test_schema(tmp)
        test_junk_rows(tmp)
        test_migration(tmp)
        with Dnsmasq(tmp, DNS_HOSTS, local_domain="invalid") as dns, Tlsd(tmp) as tls:
            for spec in backends:
                name, *args = spec.split(":")
                test_pass(tmp, name, [a for a in args if a], dns, tls)
    return done()


if __name__ == "__main__":
    sys.exit(main())
