"""The status page in a real headless Chromium, at a phone's size: it loads
with no console message at all (the page has no script, so any message is
a blocked asset, a policy violation or a parse problem), a screenshot is
written, and the DOM shows a site name full of markup as text.

A page known to break the policy is loaded first, to prove that console
messages are seen in this Chromium's log at all.

Set SQ_STATUS_SCREENSHOT=PATH to keep the screenshot of the realistic page
(the screenshots in docs/ are test_publish.py's)."""

import os
import random
import re
import shutil
import sqlite3
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from browser import CHROMIUM, chromium  # noqa: E402
from harness import check, done, equal, run, tmpdir  # noqa: E402

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
DAY = 86400
WIDTH, HEIGHT = 412, 915


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


# the codes of the classes the history below names (src/core/classes.c)
CLASS = {"": 0, "http 502": 1, "http 503": 1, "connect timeout": 8, "tls": 11, "dns nxdomain": 3,
         "connect refused": 7}


def add_checks(con, site, events):
    """events: (site, t, ok, status, ms, the class's name), stored as the daemon does."""
    con.executemany("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, class, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?, '')", [(*e[:5], CLASS[e[5]]) for e in events])


def demo_history(db, now):
    """A few sites with a realistic past: a check every 5 minutes for 90
    days, every minute while a site is down, a few outages and incidents."""
    rng = random.Random(7)
    con = sqlite3.connect(db)
    sites = [
        ("https://shop.example.com/", "Shop", 120, [(now - 2 * DAY - 7200, 1500, "http 502"),
                                                     (now - 41 * DAY, 5 * 3600, "connect timeout")]),
        ("https://api.example.com/health", "API", 60, [(now - 12 * DAY, 600, "http 503"),
                                                        (now - 63 * DAY, 3 * 3600, "tls")]),
        ("https://blog.example.com/", "Blog", 380, [(now - 27 * DAY, 3600 * 14, "dns nxdomain"),
                                                     (now - 2400, 10 ** 6, "connect refused")]),
        ("https://docs.example.com/", "Docs", 90, []),
    ]
    for url, name, base, outages in sites:
        sid = con.execute("INSERT INTO sites (url, owner_email, name, interval_s) VALUES (?, ?, ?, 300)",
                          (url, "ops@example.com", name)).lastrowid
        rows, t = [], now - 90 * DAY
        last_ok = 0
        while t <= now - 20:
            cause = next((c for a, d, c in outages if a <= t < a + d), None)
            slow = 1.0 + 0.6 * (abs(((t // 3600) % 24) - 14) < 3)   # busier afternoons
            ms = int(base * slow * (0.7 + rng.random() * 0.6))
            if cause:
                ms = 10000 if cause == "connect timeout" else rng.randint(1, 40)
            rows.append((sid, t, 0 if cause else 1, 503 if cause and cause.startswith("http") else
                         (0 if cause else 200), ms, cause or ""))
            if not cause:
                last_ok = t
            t += 60 if cause else 300
        add_checks(con, sid, rows)
        for a, d, c in outages:
            con.execute("INSERT INTO incidents (site_id, started_at, ended_at, cause) VALUES (?, ?, ?, ?)",
                        (sid, a + 120, a + d if a + d < now else None, c))
        last = rows[-1]
        down = not last[2]
        since = next((a + 120 for a, d, c in outages if a <= now < a + d), now - 12 * DAY)
        con.execute("INSERT INTO site_state (site_id, state, since, last_check, last_ok, last_status, last_ms,"
                    " last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (sid, "down" if down else "up", since, last[1], last_ok, last[3], last[4], last[5]))
    con.commit()
    con.close()


def main():
    if CHROMIUM is None:
        check(False, "chromium is installed (scripts/deps.sh test installs Debian's chromium)")
        return done()
    with tmpdir() as tmp:
        conf = os.path.join(tmp, "empty.conf")
        open(conf, "w").close()

        # the detector itself: a page that breaks its own policy is noticed
        bad = os.path.join(tmp, "bad.html")
        with open(bad, "w") as f:
            f.write("<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv="
                    "'Content-Security-Policy' content=\"default-src 'none'\"></head>"
                    "<body><img src='https://example.invalid/x.png'></body></html>")
        rc, out, console, err = chromium(tmp, "file://" + bad, "--dump-dom")
        check(rc == 0 and len(console) >= 1, "a policy violation shows up as a console line",
              err[-2000:])

        db = os.path.join(tmp, "demo.db")
        equal(run([CTL, "--config", conf, "--db", db, "init"])[0], 0, "a database")
        now = int(time.time())
        demo_history(db, now)
        # a row squirreld skips: no site watched, counted apart; its reason on the operators' page alone
        con = sqlite3.connect(db)
        con.execute("PRAGMA ignore_check_constraints = 1")
        con.execute("INSERT INTO sites (url, owner_email, name, public) VALUES (?, ?, ?, 1)",
                    ("https://skipped.example/", "owner@secret-domain", "Skipped"))
        con.commit()
        con.close()
        page = os.path.join(tmp, "status.html")
        rc, out, err = run([CTL, "--config", conf, "--db", db, "report", "--html", page])
        equal(rc, 0, "report --html")
        shot = os.path.join(tmp, "status.png")
        rc, out, console, err = chromium(tmp, "file://" + page, f"--screenshot={shot}")
        equal(rc, 0, "Chromium rendered the page")
        equal(console, [], "no console message")
        size = png_size(shot) if os.path.exists(shot) else None
        equal(size, (WIDTH, HEIGHT), f"a {WIDTH}x{HEIGHT} PNG screenshot")
        check(os.path.exists(shot) and os.path.getsize(shot) > 20000, "the screenshot has content")
        keep = os.environ.get("SQ_STATUS_SCREENSHOT")
        if keep and os.path.exists(shot):
            shutil.copyfile(shot, keep)
            print(f"# screenshot kept in {keep}")

        rc, dom, console, err = chromium(tmp, "file://" + page, "--dump-dom")
        check(rc == 0 and "All 4 sites up" not in dom and "1 of 4 sites down" in dom,
              "the DOM: one site of four down", dom[:500])
        equal(console, [], "no console message (DOM dump)")
        check(dom.count('<details id="s') == 4 and dom.count('class="bar"') == 4, "four sites, a bar each")
        check("Not counted: 1 site whose entry cannot be checked, listed at the end with why." in dom
              and re.search(r"<li>#\d+ Skipped: bad owner_email: domain .secret-domain. has no dot</li>", dom) is not None,
              "the skipped row: counted apart, listed with why on the operators' page",
              dom[dom.find("Not counted"):dom.find("Not counted") + 300] + dom[dom.find("Not checked"):][:400])
        pub = os.path.join(tmp, "public.html")
        equal(run([CTL, "--config", conf, "--db", db, "report", "--html", pub, "--public"])[0], 0,
              "report --html --public")
        with open(pub, encoding="utf-8") as f:
            public = f.read()
        check("Not counted: 1 site whose entry cannot be checked." in public and "Skipped" not in public
              and "secret-domain" not in public, "on the public page: counted apart, nothing of why")
        check("ongoing" in dom and "connect refused" in dom, "the ongoing incident is shown")

        # a name full of markup is text in the DOM, not an element
        con = sqlite3.connect(db)
        con.execute("INSERT INTO sites (url, owner_email, name) VALUES (?, ?, ?)",
                    ("https://evil.example/?a=\"><script>alert(2)</script>", "ops@example.com",
                     "<script>alert(1)</script><img src=x onerror=alert(3)>"))
        con.commit()
        con.close()
        rc, out, err = run([CTL, "--config", conf, "--db", db, "report", "--html", page])
        equal(rc, 0, "report --html with a hostile name")
        rc, dom, console, err = chromium(tmp, "file://" + page, "--dump-dom")
        equal(console, [], "no console message: nothing ran, nothing was fetched")
        check(dom.count("<script") == 1 and "alert(" not in dom.split("<script")[1] and "<img" not in dom,
              "the page's own script alone, and no img element in the DOM")
        check("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(3)&gt;" in dom,
              "the name is text in the DOM")
        shot2 = os.path.join(tmp, "hostile.png")
        rc, out, console, err = chromium(tmp, "file://" + page, f"--screenshot={shot2}")
        check(rc == 0 and console == [] and png_size(shot2) == (WIDTH, HEIGHT),
              "the hostile page renders quietly too")
    return done()


if __name__ == "__main__":
    sys.exit(main())
