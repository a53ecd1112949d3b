"""The pages squirreld publishes, and the status page at 5 and 2,000 sites.

1. squirreld with a real HTTP server on loopback writes the operators'
   page, the public page (public sites only, no address, no owner, no
   token), one page per owner under a name that is not guessable, the
   JSON beside each page and a badge per public site; the owner pages keep
   their names across restarts.
2. The stale banner: the page's script shows it on a page not rewritten
   for three periods, and not on a fresh one (a real headless Chromium).
3. 2,000 sites (tests/integration/pagedb.py): the full and the public page
   each within 1.5 MB, load in Chromium at desktop and phone widths with no
   console message (nothing blocked, nothing fetched), every site a row,
   groups with their summary line.
4. 5 sites: an opened site's charts are drawn (the script ran under the
   policy), an incident note and hostile names are text.

SQ_SCREENSHOTS=DIR keeps the screenshots (docs/status-*.png are made so).
"""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import xml.dom.minidom

sys.path.insert(0, os.path.dirname(__file__))
import pagedb  # noqa: E402
from browser import CHROMIUM, chromium  # noqa: E402
from harness import (Httpd, check, done, equal, new_db, run, stop_pid, tmpdir,  # noqa: E402
                     wait_for, SQUIRRELD)

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")
DESKTOP, PHONE = (1280, 900), (412, 915)
LIMIT = 1_500_000
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">'
        '<circle cx="20" cy="20" r="18" fill="#b5651d"/></svg>')


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def screenshot(tmp, page, name, size):
    """A screenshot at size; kept in SQ_SCREENSHOTS when set. Returns the console lines."""
    shot = os.path.join(tmp, name)
    rc, out, console, err = chromium(tmp, "file://" + page, f"--screenshot={shot}", size=size)
    check(rc == 0 and os.path.exists(shot) and os.path.getsize(shot) > 10000,
          f"{name}: a screenshot at {size[0]}x{size[1]}", err[-1500:])
    keep = os.environ.get("SQ_SCREENSHOTS")
    if keep and os.path.exists(shot):
        shutil.copyfile(shot, os.path.join(keep, name))
    return console


def with_open(page, out, site_id):
    """A copy of the page with one site's details open (as a visitor's click leaves it)."""
    html = read(page)
    tag = f"<details id=s{site_id} "
    check(tag in html, f"site {site_id} is on the page")
    with open(out, "w", encoding="utf-8") as f:
        f.write(html.replace(tag, f"<details open id=s{site_id} ", 1))
    return out


def daemon_pages(tmp):
    """Part 1 and 2: what squirreld publishes."""
    with Httpd(tmp) as httpd:
        db = new_db(tmp)
        con = sqlite3.connect(db)
        rows = [
            (httpd.url("/shop"), "a@owner.test", "Shop <front>", "Shop & co", 1),
            (httpd.url("/admin?token=SECRET123"), "a@owner.test", "Admin", "Internal", 0),
            (httpd.url("/plain"), "b@other.test", None, None, 1),
        ]
        ids = [con.execute("INSERT INTO sites (url, owner_email, name, group_name, public, interval_s)"
                           " VALUES (?, ?, ?, ?, ?, 5)", r).lastrowid for r in rows]
        con.commit()
        con.close()
        for d in ("full", "pub", "badges"):
            os.mkdir(os.path.join(tmp, d))
        with open(os.path.join(tmp, "logo.svg"), "w") as f:
            f.write(LOGO)
        conf = os.path.join(tmp, "pages.conf")
        full, pub = os.path.join(tmp, "full", "status.html"), os.path.join(tmp, "pub", "index.html")
        with open(conf, "w") as f:
            f.write(f"[squirreld]\ndatabase = {db}\nstatus_page = {full}\nbackend = serial\n"
                    f"[status_page]\ntitle = ACME <status>\ndescription = Our sites & services\n"
                    f"logo = {tmp}/logo.svg\npublic_page = {pub}\nrefresh = 30\nowner_pages = yes\n"
                    f"badges_dir = {tmp}/badges\n")

        def run_daemon():
            before = os.stat(full).st_mtime_ns if os.path.exists(full) else 0
            p = subprocess.Popen([SQUIRRELD, "--config", conf], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                def checked():
                    c = sqlite3.connect(db)
                    try:
                        return c.execute("SELECT count(*) FROM site_state WHERE state = 'up'").fetchone()[0] == 3
                    finally:
                        c.close()
                check(wait_for(checked, 30), "squirreld checked the three sites")
                # the reporter's first pages: the daemon is up, its signals handled
                check(wait_for(lambda: os.path.exists(full) and os.stat(full).st_mtime_ns != before, 30),
                      "squirreld wrote its pages")
            finally:
                stop_pid(p)
                err = p.stderr.read()
            equal(p.returncode, 0, "squirreld stopped cleanly")
            return err

        err = run_daemon()
        check(os.path.exists(full) and os.path.exists(pub), "both pages written", err[-2000:])
        f_html, p_html = read(full), read(pub)
        equal(len(re.findall(r"<details id=s\d+ ", f_html)), 3, "the full page: every site")
        equal(len(re.findall(r"<details id=s\d+ ", p_html)), 2, "the public page: the public sites")
        check('<meta http-equiv="refresh" content="30">' in p_html, "the page reloads itself every 30 s")
        check("<h1>ACME &lt;status&gt;</h1>" in p_html and "Our sites &amp; services" in p_html,
              "title and description, escaped")
        check('<img src="data:image/svg+xml;base64,' in p_html, "the logo inlined")
        for secret in ("SECRET123", "token=", "a@owner.test", "b@other.test", "/shop", "/plain", "Admin"):
            check(secret not in p_html, f"the public page does not hold {secret!r}")
        check("Shop &lt;front&gt;" in p_html and "Shop &amp; co" in p_html, "names and groups escaped")
        check("SECRET123" in f_html and "Admin" in f_html, "the operators' page has every site and URL")

        doc = json.loads(read(os.path.join(tmp, "pub", "index.json")))
        equal((doc["version"], doc["page"], len(doc["sites"])), (1, "public", 2), "index.json beside it")
        check(all("url" not in s for s in doc["sites"]), "no url in the public JSON")
        check(all(s["state"] == "up" for s in doc["sites"]), "the sites up in the JSON")
        fdoc = json.loads(read(os.path.join(tmp, "full", "status.json")))
        equal((fdoc["page"], len(fdoc["sites"])), ("full", 3), "status.json beside the full page")

        badges = sorted(os.listdir(os.path.join(tmp, "badges")))
        equal(badges, sorted(f"site-{i}.svg" for i in (ids[0], ids[2])), "a badge per public site")
        for b in badges:
            svg = read(os.path.join(tmp, "badges", b))
            xml.dom.minidom.parseString(svg)
            check(re.search(r">up( \d+(\.\d+)?%)?</text>", svg) is not None, f"{b} says up", svg[:600])

        owners = sorted(n for n in os.listdir(os.path.join(tmp, "pub")) if n.startswith("owner-"))
        html_owners = [n for n in owners if n.endswith(".html")]
        equal(len(html_owners), 2, "a page per owner")
        check(all(re.fullmatch(r"owner-[0-9a-f]{32}\.html", n) for n in html_owners),
              "owner pages named by a 128-bit token", owners)
        counts = sorted(len(re.findall(r"<details id=s\d+ ", read(os.path.join(tmp, "pub", n))))
                        for n in html_owners)
        equal(counts, [1, 2], "each owner's page has that owner's sites")
        check(any("SECRET123" in read(os.path.join(tmp, "pub", n)) for n in html_owners),
              "an owner's page shows the owner's URLs")
        check(all(n in f_html for n in html_owners), "the operators' page lists the owner pages")

        run_daemon()
        again = sorted(n for n in os.listdir(os.path.join(tmp, "pub")) if n.startswith("owner-"))
        equal(again, owners, "the owner pages keep their names across a restart")

        # badges into a directory that is not there, and no public page: said once a pass, no crash
        with open(conf, "w") as f:
            f.write(f"[squirreld]\ndatabase = {db}\nstatus_page = {full}\nbackend = serial\n"
                    f"[status_page]\nbadges_dir = {tmp}/no-such-dir\n")
        err = run_daemon()
        lines = [ln for ln in err.splitlines() if "badges_dir" in ln]
        check(1 <= len(lines) <= 3 and all(f"{tmp}/no-such-dir: not a directory; no badges written" in ln
                                           for ln in lines), "a missing badges_dir: one line a pass", err[-1500:])
        return pub


def stale_banner(tmp, pub):
    html = read(pub)
    m = re.search(r'data-written="(\d+)" data-stale="(\d+)"', html)
    check(m is not None and int(m.group(2)) == 180, "the page says when it is stale: 3 x 60 s")
    if m is None:
        return
    rc, dom, console, err = chromium(tmp, "file://" + pub, "--dump-dom")
    equal(console, [], "the fresh page: no console message")
    check(re.search(r'<p id="stale" class="stale" hidden=""></p>', dom) is not None,
          "the fresh page: no banner", dom[:3000])
    old = os.path.join(tmp, "pub", "old.html")
    with open(old, "w", encoding="utf-8") as f:
        f.write(html.replace(f'data-written="{m.group(1)}"', f'data-written="{int(m.group(1)) - 3600}"'))
    rc, dom, console, err = chromium(tmp, "file://" + old, "--dump-dom")
    equal(console, [], "the old page: no console message (the script ran under the policy)")
    check(re.search(r'<p id="stale" class="stale">This page was last updated 6\d minutes ago', dom)
          is not None, "the old page shows the banner", dom[:3000])


def big_pages(tmp):
    db = os.path.join(tmp, "big.db")
    equal(run([CTL, "--db", db, "init"])[0], 0, "a database for 2,000 sites")
    made = pagedb.make(db, 2000, int(time.time()))
    # one group all up: on a page this long it is folded
    con = sqlite3.connect(db)
    con.execute("UPDATE site_state SET state = 'up' WHERE site_id IN "
                "(SELECT id FROM sites WHERE group_name = 'Partners')")
    con.commit()
    made["down"] = [r[0] for r in con.execute("SELECT site_id FROM site_state WHERE state = 'down'")]
    con.close()
    full, pub = os.path.join(tmp, "big.html"), os.path.join(tmp, "big-public.html")
    equal(run([CTL, "--db", db, "report", "--html", full])[0], 0, "report --html, 2,000 sites")
    equal(run([CTL, "--db", db, "report", "--html", pub, "--public"])[0], 0, "report --html --public")
    for page, n, what in ((full, 2000, "full"), (pub, len(made["public"]), "public")):
        size = os.path.getsize(page)
        print(f"# the {what} page of {n} sites: {size} bytes ({size / n:.0f} a site)")
        check(size <= LIMIT, f"the {what} page of {n} sites is within 1.5 MB ({size} bytes)")
        html = read(page)
        equal(len(re.findall(r"<details id=s\d+ ", html)), n, f"the {what} page: a row per site")
    html = read(full)
    down = len(made["down"])
    check(f"{down} of 2,000 sites down" in html, "the overall line counts 2,000 sites", html[:200])
    check(re.search(r"<h2>Shop <small class=\"bad\">\d+ of \d+ down</small></h2>", html) is not None
          or re.search(r"<h2>Shop <small>all \d+ up", html) is not None, "a group with its summary line")
    check(re.search(r'<details class="g"><summary><h2>Partners <small>all \d+ up</small></h2></summary>',
                    html) is not None, "the group all up is folded")
    check(re.search(r'<section><h2>Shop ', html) is not None, "a group with a site down is not")
    for page, name in ((full, "big"), (pub, "big-public")):
        for size, tag in ((DESKTOP, "desktop"), (PHONE, "phone")):
            t = time.monotonic()
            console = screenshot(tmp, page, f"status-2000-{name}-{tag}.png", size)
            # a figure, not a limit: bench/page_bench.py measures the render time
            print(f"# {name} at {tag} width: Chromium's run took {time.monotonic() - t:.2f} s")
            equal(console, [], f"{name} at {tag} width: no console message")
    rc, dom, console, err = chromium(tmp, "file://" + pub, "--dump-dom", size=DESKTOP)
    check(rc == 0 and dom.count('<details id="s') == len(made["public"]),
          "the public page's DOM: every public site")
    check("token=" not in read(pub) and "@example.com" not in read(pub), "no token, no owner")


def small_page(tmp):
    """Five sites as an operator has them (the screenshots in docs/), then
    hostile names, a hostile group and a hostile note, which stay text."""
    db = os.path.join(tmp, "small.db")
    equal(run([CTL, "--db", db, "init"])[0], 0, "a database for 5 sites")
    now = int(time.time())
    made = pagedb.make(db, 5, now, seed=3, groups=("Shop", "Blog"), public_share=1.0)
    ids = made["ids"]
    con = sqlite3.connect(db)
    for sid, name, group, state in zip(ids, ("Shop front", "Checkout API", "Blog", "Docs", "Partner feed"),
                                       ("Shop", "Shop", "Content", "Content", None),
                                       ("up", "down", "up", "degraded", "up")):
        con.execute("UPDATE sites SET name = ?, group_name = ? WHERE id = ?", (name, group, sid))
        con.execute("UPDATE site_state SET state = ?, since = ?, last_error = ?, last_status = ? "
                    "WHERE site_id = ?", (state, now - (1500 if state == "down" else 9 * 86400),
                                          "http 503" if state == "down" else "",
                                          503 if state == "down" else 200, sid))
    con.execute("DELETE FROM incidents WHERE ended_at IS NULL")
    inc = con.execute("INSERT INTO incidents (site_id, started_at, cause) VALUES (?, ?, 'http 503')",
                      (ids[1], now - 1500)).lastrowid
    # the outage in the figures too: its last 25 minutes down
    con.execute("UPDATE uptime_hours SET up_s = max(up_s - 1500, 0), down_s = 1500, failures = 25 "
                "WHERE site_id = ? AND hour = (SELECT max(hour) FROM uptime_hours WHERE site_id = ?)",
                (ids[1], ids[1]))
    # a day Docs spent in a maintenance window: its own colour on the bar, neither up nor down
    maint_day = now // 86400 * 86400 - 10 * 86400
    con.execute("UPDATE uptime_days SET up_s = 0, down_s = 0, maint_s = 86400 WHERE site_id = ? AND day = ?",
                (ids[3], maint_day))
    # and its raw checks of this hour, as the daemon keeps them: good, then failing
    hour = now // 3600 * 3600
    con.executemany("INSERT INTO checks (site_id, checked_at, ok, http_status, ms, class, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?, '')",
                    [(ids[1], t, int(t < now - 1500), 200 if t < now - 1500 else 503, 80,
                      0 if t < now - 1500 else 1) for t in range(hour, now, 60)])
    con.commit()
    con.close()
    conf = os.path.join(tmp, "small.conf")
    with open(os.path.join(tmp, "logo.svg"), "w") as f:
        f.write(LOGO)
    with open(conf, "w") as f:
        f.write(f"[status_page]\ntitle = Example Co. status\n"
                f"description = Our shop, our blog, and the feed our partners read.\nlogo = {tmp}/logo.svg\n")
    rc, out, err = run([CTL, "--db", db, "incident", "note", str(inc),
                        "The payment provider is failing; we are switching to the backup."])
    check(rc == 0, "incident note", err)
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now + 2 * 86400))
    until = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now + 2 * 86400 + 3600))
    rc, out, err = run([CTL, "--db", db, "maintenance", "add", "--site", str(ids[2]), "--from", start,
                        "--until", until, "--reason", "moving to a new server"])
    check(rc == 0, "a maintenance window planned", err)
    page = os.path.join(tmp, "small.html")
    equal(run([CTL, "--config", conf, "--db", db, "report", "--html", page, "--public"])[0], 0,
          "report --html, 5 sites")
    html = read(page)
    check("1 of 5 sites down" in html, "the overall line")
    check("<h2>Shop <small class=\"bad\">1 of 2 down</small></h2>" in html, "the Shop group's summary line")
    check("we are switching to the backup." in html, "the note under its incident")
    check("Maintenance</h2>" in html and "moving to a new server" in html, "the planned maintenance")
    docs = re.search(r"<details id=s%d .*?</summary>" % ids[3], html)
    day = time.strftime("%-d %b", time.gmtime(maint_day))
    check(docs is not None and f"{day}: maintenance" in docs.group(0) and "var(--c6) 0 " in docs.group(0),
          "a day in maintenance: its own colour and word on the bar", docs.group(0) if docs else html[:300])
    opened = with_open(page, os.path.join(tmp, "small-open.html"), ids[1])
    rc, dom, console, err = chromium(tmp, "file://" + opened, "--dump-dom", size=DESKTOP)
    equal(console, [], "the opened page: no console message")
    check(dom.count('<figure class="chart">') == 2, "the opened site's two charts were drawn", dom[-3000:])
    check("Response time, last 24 hours" in dom and "Response time, last 30 days" in dom,
          "the charts' captions")
    check(re.search(r'<div class="ya"[^>]*><span>\d+(\.\d+)? m?s</span>', dom) is not None,
          "the y axis is labelled")
    check(re.search(r'<div class="xa"[^>]*><span>\d\d:00</span>', dom) is not None, "the x axis is labelled")
    for size, tag in ((DESKTOP, "desktop"), (PHONE, "phone")):
        equal(screenshot(tmp, opened, f"status-5-{tag}.png", size), [], f"5 sites at {tag} width")

    # a site with no history yet: its charts say so, and draw nothing
    con = sqlite3.connect(db)
    fresh = con.execute("INSERT INTO sites (url, owner_email, name, public) VALUES "
                        "('https://new.example/', 'o@example.com', 'New site', 1)").lastrowid
    con.commit()
    con.close()
    equal(run([CTL, "--db", db, "report", "--html", page])[0], 0, "report --html, a new site")
    opened = with_open(page, os.path.join(tmp, "fresh-open.html"), fresh)
    rc, dom, console, err = chromium(tmp, "file://" + opened, "--dump-dom", size=DESKTOP)
    equal(console, [], "the new site opened: no console message")
    box = dom[dom.find(f'id="s{fresh}"'):]
    box = box[:box.find("</details>")]
    check('<p class="empty">No successful check in the last 24 hours.</p>' in box and
          '<p class="empty">No successful check in the last 30 days.</p>' in box and "<svg" not in box,
          "the charts' empty state", box[-1500:])

    # hostile: a name, a group, a note
    con = sqlite3.connect(db)
    con.execute("UPDATE sites SET name = ?, group_name = ? WHERE id = ?",
                ("<script>alert(1)</script>", "<b>Group</b>", ids[0]))
    con.commit()
    con.close()
    rc, out, err = run([CTL, "--db", db, "incident", "note", str(inc), "<img src=x onerror=alert(2)>"])
    check(rc == 0, "a hostile note", err)
    equal(run([CTL, "--db", db, "report", "--html", page])[0], 0, "report --html, hostile")
    html = read(page)
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;Group&lt;/b&gt;" in html and
          "&lt;img src=x onerror=alert(2)&gt;" in html, "a hostile name, group and note are text")
    opened = with_open(page, os.path.join(tmp, "hostile-open.html"), ids[1])
    rc, dom, console, err = chromium(tmp, "file://" + opened, "--dump-dom", size=DESKTOP)
    equal(console, [], "the hostile page: no console message")
    check("<script>alert" not in dom and "<img src=\"x\"" not in dom and dom.count("<script") == 1,
          "nothing of the names' runs or loads")


def main():
    if CHROMIUM is None:
        check(False, "chromium is installed (scripts/deps.sh test installs Debian's chromium)")
        return done()
    with tmpdir() as tmp:
        pub = daemon_pages(tmp)
        if pub is not None:
            stale_banner(tmp, pub)
        big_pages(tmp)
        small_page(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
