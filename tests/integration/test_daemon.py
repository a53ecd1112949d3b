"""squirreld as a service: cadence, live edits with the sqlite3 shell,
SIGHUP, SIGTERM and systemd notifications through a real NOTIFY_SOCKET.
Intervals of one second; every wait bounded; everything stopped by PID."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     run, stop_pid, tmpdir, wait_for)


def requests(log, needle):
    try:
        with open(log) as f:
            return sum(1 for line in f if needle in line)
    except FileNotFoundError:
        return 0


def write_conf(path, interval, extra=""):
    with open(path, "w") as f:
        f.write(f"[check]\ninterval = {interval}\nretry_interval = {interval}\n{extra}")
        f.write("[smtp]\nhost = 127.0.0.1\nport = 1\n")


class Daemon:
    def __init__(self, conf, db, env=None, backend="libev"):
        e = dict(os.environ)
        e.update(env or {})
        self.err_path = db + ".stderr"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", backend],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=e)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        rc = stop_pid(self.proc, sig, timeout=20)
        self.err.close()
        return rc


def test_cadence_and_edits(tmp):
    log = os.path.join(tmp, "requests.log")
    conf = os.path.join(tmp, "daemon.conf")
    write_conf(conf, 1)
    db = new_db(tmp, "daemon.db")
    with Httpd(tmp, "--log", log) as srv:
        add_sites(db, [(srv.url(f"/site{i}"), "ops@example.org", {}) for i in range(3)])
        d = Daemon(conf, db)
        try:
            time.sleep(5)
            counts = [requests(log, f"/site{i}") for i in range(3)]
            check(all(3 <= c <= 7 for c in counts), "each site checked about once a second over 5 s",
                  counts)

            # an INSERT with the sqlite3 shell is checked within 3 s
            t0 = time.monotonic()
            rc, out, err = run(["sqlite3", db, ".timeout 5000",
                                f"INSERT INTO sites(url, owner_email) VALUES ('{srv.url('/new')}', 'a@example.org');"])
            equal(rc, 0, "INSERT with the sqlite3 shell beside the daemon")
            seen = wait_for(lambda: requests(log, "/new") > 0, 3)
            check(seen, f"the inserted site is checked within 3 s ({time.monotonic() - t0:.2f} s)")

            # a DELETE stops its checks
            rc, out, err = run(["sqlite3", db, ".timeout 5000", "DELETE FROM sites WHERE url LIKE '%/site0';"])
            equal(rc, 0, "DELETE with the sqlite3 shell")
            time.sleep(1.5)
            before = requests(log, "/site0")
            time.sleep(3)
            equal(requests(log, "/site0"), before, "a deleted site is not checked again")

            # a disabled site neither
            run(["sqlite3", db, ".timeout 5000", "UPDATE sites SET enabled = 0 WHERE url LIKE '%/site1';"])
            time.sleep(1.5)
            before = requests(log, "/site1")
            time.sleep(3)
            equal(requests(log, "/site1"), before, "a disabled site is not checked again")

            # SIGHUP with a longer interval: site2 slows down
            write_conf(conf, 3)
            os.kill(d.proc.pid, signal.SIGHUP)
            check(wait_for(lambda: "configuration reloaded" in d.stderr(), 5), "SIGHUP reloads", d.stderr())
            time.sleep(1)
            before = requests(log, "/site2")
            time.sleep(6)
            slowed = requests(log, "/site2") - before
            check(1 <= slowed <= 3, f"the new interval applies: {slowed} checks in 6 s at 3 s", slowed)

            # a broken file is refused; the old configuration keeps running
            with open(conf, "w") as f:
                f.write("[check]\ninterval = soon\n")
            os.kill(d.proc.pid, signal.SIGHUP)
            check(wait_for(lambda: "the new configuration is refused" in d.stderr(), 5),
                  "a broken configuration is refused", d.stderr())
            check("interval: 'soon' is not a whole number" in d.stderr(), "the refusal names the key")
            before = requests(log, "/site2")
            time.sleep(4)
            check(d.proc.poll() is None and requests(log, "/site2") > before,
                  "the daemon survives and keeps checking")
        finally:
            t0 = time.monotonic()
            rc = d.stop()
            took = time.monotonic() - t0
        equal(rc, 0, "SIGTERM: exit 0")
        check(took < 5, f"SIGTERM: prompt ({took:.2f} s)")
    con = sqlite3.connect(db)
    stored = con.execute("SELECT count(*) FROM checks c JOIN sites s ON s.id = c.site_id"
                         " WHERE s.url LIKE '%/site2'").fetchone()[0]
    con.close()
    equal(stored, requests(log, "/site2"), "every check of site2 the server saw is stored")


def test_sigterm_waits_for_checks(tmp):
    log = os.path.join(tmp, "slow.log")
    conf = os.path.join(tmp, "slow.conf")
    write_conf(conf, 1)
    db = new_db(tmp, "slow.db")
    with Httpd(tmp, "--log", log) as srv:
        add_sites(db, [(srv.url("/slow?delay=1500"), "ops@example.org", {})])
        con = sqlite3.connect(db)
        con.execute("PRAGMA ignore_check_constraints = 1")
        junk = con.execute("INSERT INTO sites(url, owner_email) VALUES ('http://exa mple.org/', 'x@example.org')").lastrowid
        con.commit()
        con.close()
        d = Daemon(conf, db)
        try:
            check(wait_for(lambda: requests(log, "/slow") >= 1, 5), "the slow check started")
            check(f"site {junk}: skipped: bad url: url contains a space" in d.stderr(),
                  "the daemon skips a junk row with a line naming it", d.stderr())
            time.sleep(0.3)
        finally:
            rc = d.stop()
        equal(rc, 0, "SIGTERM during a check: exit 0")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT ok, ms FROM checks").fetchall()
    con.close()
    equal(len(rows), requests(log, "/slow"), "the check in flight finished and was stored")
    check(rows and rows[-1][0] == 1 and rows[-1][1] >= 1400, "it ran to its end", rows)


def test_notify(tmp):
    path = os.path.join(tmp, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    conf = os.path.join(tmp, "notify.conf")
    write_conf(conf, 1)
    db = new_db(tmp, "notify.db")
    msgs = []
    with Httpd(tmp) as srv:
        add_sites(db, [(srv.url("/up"), "ops@example.org", {}), (srv.url("/down?status=503"), "ops@example.org", {})])
        d = Daemon(conf, db, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
        try:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                try:
                    msgs.append(sock.recv(4096).decode())
                except socket.timeout:
                    pass
                if any("WATCHDOG=1" in m for m in msgs) and any("1 down" in m for m in msgs):
                    break
        finally:
            rc = d.stop()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                msgs.append(sock.recv(4096).decode())
            except socket.timeout:
                break
    sock.close()
    equal(rc, 0, "notify: exit 0")
    check("READY=1" in msgs, "READY=1 received", msgs)
    check(any(m.startswith("STATUS=") and "sites" in m for m in msgs), "STATUS= received", msgs)
    check(any(m == "STATUS=2 sites: 1 up, 1 down" for m in msgs), "STATUS= counts up and down", msgs)
    check("WATCHDOG=1" in msgs, "WATCHDOG=1 received", msgs)
    check("STOPPING=1" in msgs, "STOPPING=1 received", msgs)
    check(msgs.index("READY=1") < msgs.index("STOPPING=1") if "STOPPING=1" in msgs and "READY=1" in msgs else False,
          "READY before STOPPING")


def test_bad_database_at_run_time(tmp):
    """A writer holding the database, the file replaced, the file deleted:
    clear log lines, no crash, checking goes on, nothing finished is lost."""
    log = os.path.join(tmp, "bad.log")
    conf = os.path.join(tmp, "bad.conf")
    write_conf(conf, 1)
    db = new_db(tmp, "bad.db")
    with Httpd(tmp, "--log", log) as srv:
        add_sites(db, [(srv.url("/a"), "ops@example.org", {})])
        d = Daemon(conf, db)
        try:
            check(wait_for(lambda: requests(log, "/a") >= 2, 6), "checking started")
            # someone holds a write transaction longer than the busy timeout
            hold = sqlite3.connect(db, isolation_level=None, timeout=5)
            hold.execute("BEGIN EXCLUSIVE")
            check(wait_for(lambda: "results not written; kept in memory" in d.stderr(), 20),
                  "a refused write is said clearly", d.stderr()[-500:])
            during = requests(log, "/a")
            time.sleep(2)
            check(requests(log, "/a") > during, "checking goes on while the database is held")
            hold.execute("COMMIT")
            hold.close()
            check(wait_for(lambda: "results kept meanwhile are recorded" in d.stderr(), 15),
                  "the kept results are written once the database is free", d.stderr()[-500:])

            # the file replaced by another database with another site
            other = new_db(tmp, "other.db")
            add_sites(other, [(srv.url("/b"), "ops@example.org", {})])
            os.rename(other, db)
            check(wait_for(lambda: "was replaced by another file; opening it" in d.stderr(), 10),
                  "a replaced file is noticed")
            check(wait_for(lambda: requests(log, "/b") >= 1, 10), "the new file's sites are checked")

            # the file deleted
            os.unlink(db)
            check(wait_for(lambda: "was deleted; checking goes on" in d.stderr(), 10),
                  "a deleted file is said clearly", d.stderr()[-500:])
            before = requests(log, "/b")
            time.sleep(2)
            check(d.proc.poll() is None and requests(log, "/b") > before, "no crash; checking goes on")
        finally:
            rc = d.stop()
        equal(rc, 0, "exit 0 after all that")


def test_page_metrics_prune(tmp):
    """status_page and metrics_file rewritten by the daemon; old history pruned."""
    conf = os.path.join(tmp, "files.conf")
    page = os.path.join(tmp, "status.html")
    prom = os.path.join(tmp, "squirrel.prom")
    write_conf(conf, 1)
    with open(conf, "a") as f:
        f.write(f"[squirreld]\nstatus_page = {page}\nmetrics_file = {prom}\nhistory_days = 1\n")
    db = new_db(tmp, "files.db")
    with Httpd(tmp) as srv:
        ids = add_sites(db, [(srv.url("/up"), "ops@example.org", {"name": "<b>Shop</b>"}),
                             (srv.url("/down?status=503"), "ops@example.org", {})])
        con = sqlite3.connect(db)
        old = int(time.time()) - 3 * 86400
        con.executemany("INSERT INTO checks(site_id, checked_at, ok, http_status, ms) VALUES (?, ?, 1, 200, 5)",
                        [(ids[0], old + i) for i in range(50)])
        # a row the daemon skips: not a site it watches, on the page or in the metrics
        con.execute("PRAGMA ignore_check_constraints = 1")
        con.execute("INSERT INTO sites(url, owner_email) VALUES ('http://exa mple.org/', 'x@example.org')")
        con.commit()
        con.close()
        started = int(time.time())
        d = Daemon(conf, db)
        try:
            check(wait_for(lambda: os.path.exists(page) and os.path.exists(prom), 10),
                  "the status page and the metrics file appear")
            time.sleep(2.5)
        finally:
            rc = d.stop()
        stopped = int(time.time())
        equal(rc, 0, "exit 0")
    html = open(page).read() if os.path.exists(page) else ""
    check("&lt;b&gt;Shop&lt;/b&gt;" in html and "<b>Shop</b>" not in html, "the page escapes the name")
    metrics = open(prom).read() if os.path.exists(prom) else ""
    up = {}
    for line in metrics.splitlines():
        if line.startswith("squirrel_site_up{"):
            up[line.split('id="')[1].split('"')[0]] = line.rsplit(" ", 1)[1]
    equal(up, {str(ids[0]): "1", str(ids[1]): "0"}, "squirrel_site_up per site")
    check(any(l.startswith("squirrel_checks_total ") and int(float(l.split()[1])) >= 2
              for l in metrics.splitlines()), "the daemon's own counters are in the file", metrics[-400:])
    # values exactly as the text format has them: integers for counts and times, no exponent
    start = [l for l in metrics.splitlines() if l.startswith("squirrel_start_time_seconds ")]
    check(len(start) == 1 and re.fullmatch(r"squirrel_start_time_seconds [0-9]+", start[0])
          and started <= int(start[0].split()[1]) <= stopped,
          f"squirrel_start_time_seconds: the unix second it started, in [{started}, {stopped}]", start)
    typed, bad = {}, []
    for line in metrics.splitlines():
        if line.startswith("# TYPE "):
            typed[line.split()[2]] = line.split()[3]
        elif not line.startswith("#"):
            name = re.match(r"[a-z_]+", line).group(0)
            value = line.rsplit(" ", 1)[1]
            integer = typed.get(name) == "counter" or name in (
                "squirrel_sites", "squirrel_sites_skipped", "squirrel_alerts_pending",
                "squirrel_alerts_undeliverable", "squirrel_start_time_seconds", "squirrel_site_up",
                "squirrel_site_degraded",
                "squirrel_site_http_status", "squirrel_site_last_check_timestamp_seconds")
            if not re.fullmatch(r"[0-9]+" if integer else r"[0-9]+(\.[0-9]+)?", value):
                bad.append(line)
    equal(bad, [], "every value a plain decimal; counts, counters and times whole numbers")
    # a round: as many checks as sites watched (2, every second): about the interval
    rounds = [float(l.split()[1]) for l in metrics.splitlines()
              if l.startswith("squirrel_pass_duration_seconds ")]
    check(len(rounds) == 1 and 0.5 <= rounds[0] <= 5,
          "squirrel_pass_duration_seconds: the daemon's last round of checks, about its 1 s interval",
          rounds)
    equal(sorted(l for l in metrics.splitlines() if l.startswith("squirrel_sites")),
          ['squirrel_sites_skipped 1', 'squirrel_sites{state="degraded"} 0', 'squirrel_sites{state="down"} 1',
           'squirrel_sites{state="unknown"} 0', 'squirrel_sites{state="up"} 1'], "the skipped row is counted apart, not as a site watched")
    check("1 of 2 sites down" in html and "Not counted: 1 site whose entry cannot be checked" in html,
          "the page counts the skipped row apart", html[html.find("<h1>"):html.find("<section")])
    con = sqlite3.connect(db)
    # the site's latest check of then may stay until the daemon's first: its hold was open
    equal(con.execute("SELECT count(*) FROM checks WHERE checked_at < ?", (old + 49,)).fetchone()[0], 0,
          "history older than raw_hours is pruned")
    con.close()


def main():
    with tmpdir() as tmp:
        test_page_metrics_prune(tmp)
        test_bad_database_at_run_time(tmp)
        test_cadence_and_edits(tmp)
        test_sigterm_waits_for_checks(tmp)
        test_notify(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
