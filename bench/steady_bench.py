#!/usr/bin/env python3
"""steady_bench.py - the daemon's steady state at scale: 100,000 sites at
60 s (1,667 checks a second) against a local test server.

Starts sq-httpd on a few hundred loopback addresses (the sites spread over
them, each its own url), builds a database of N sites, runs squirreld as a
daemon with the built-in settings but for the interval, and reads while it
runs: the daemon's CPU and memory from /proc, the database's size by table
(the dbstat virtual table, a read-only connection). After SIGTERM it reads
the checks table: every site checked on cadence? Prints each figure beside
its target.

Reuses bench.py (same directory). Standard library only (sqlite3 module
included). See bench/README.md.
"""

import argparse
import os
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402

CPU_TARGET = 40.0          # % of one core
RSS_TARGET_MB = 200.0
BYTES_TARGET = 3.0         # bytes on disk per check, once past raw_hours


def read_status(pid):
    """{'VmRSS': kB, 'VmHWM': kB, 'Threads': n} from /proc/PID/status."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    out[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


class Cadence:
    """The server's request log, read as it grows: each request is timed
    when its line is read (every --poll-ms) and kept as the gap since the
    site's previous request; only the largest gaps and the last times are
    kept, not every line."""

    def __init__(self, path, nsites):
        self.f = open(path, "rb")
        self.f.seek(0, os.SEEK_END)   # the script's own probes are not counted
        self.rest = b""
        self.last = [None] * nsites
        self.first_after = [None] * nsites   # first request at or after `since`
        self.since = None
        self.max_gap = (0.0, None, None)     # (gap, site, at)
        self.over = 0
        self.limit = None
        self.requests = 0

    def poll(self):
        data = self.f.read()
        if not data:
            return
        t = time.monotonic()
        *complete, self.rest = (self.rest + data).split(b"\n")
        for line in complete:
            i = line.rfind(b"site=")
            if i < 0:
                continue
            try:
                site = int(line[i + 5:].split(b"&")[0])
            except ValueError:
                continue
            if not 0 <= site < len(self.last):
                continue
            self.requests += 1
            prev = self.last[site]
            self.last[site] = t
            if self.since is None or t < self.since:
                continue
            if self.first_after[site] is None:
                self.first_after[site] = t
            if prev is not None and prev >= self.since:
                gap = t - prev
                if gap > self.max_gap[0]:
                    self.max_gap = (gap, site, prev - self.since)
                if gap > self.limit:
                    self.over += 1

    def close(self):
        self.f.close()


def read_io(pid):
    """{'rchar', 'wchar', 'syscr', 'syscw', ...} from /proc/PID/io: bytes and
    calls of read and write (pread, pwrite), page cache or not; a socket's
    send and recv go another way and are not in them."""
    out = {}
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                out[key] = int(rest)
    except (OSError, ValueError):
        pass
    return out


def db_sizes(path):
    """(bytes of the database as a reader sees it, {table: bytes}) with each
    index counted in its table's figure; None when it cannot be read."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    except sqlite3.Error:
        return None
    try:
        page = con.execute("PRAGMA page_size").fetchone()[0]
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        owner = {name: tbl for name, tbl in
                 con.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')")}
        per = {}
        for name, size in con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            tbl = owner.get(name, name)
            per[tbl] = per.get(tbl, 0) + size
        return page * pages, per
    except sqlite3.Error as e:
        print("  (database sizes not read: %s)" % e, flush=True)
        return None
    finally:
        con.close()


def check_gaps(path, since, until):
    """From the checks table, in whole seconds: the checks in [since, until),
    the largest gap between two checks of a site from since on and its
    site, the sites checked, the oldest last check and the latest first
    check of a site, and the sites in the table."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        n = con.execute("SELECT count(*) FROM checks WHERE checked_at >= ? AND checked_at < ?",
                        (since, until)).fetchone()[0]
        row = con.execute(
            "SELECT max(gap), site_id FROM (SELECT site_id, checked_at - lag(checked_at) OVER "
            "(PARTITION BY site_id ORDER BY checked_at) AS gap FROM checks WHERE checked_at >= ?)",
            (since,)).fetchone()
        last = con.execute(
            "SELECT count(*), min(last), max(first) FROM (SELECT site_id, max(checked_at) AS last, "
            "min(checked_at) AS first FROM checks WHERE checked_at >= ? GROUP BY site_id)",
            (since,)).fetchone()
        sites = con.execute("SELECT count(*) FROM sites").fetchone()[0]
        return n, row[0], row[1], last[0], last[1], last[2], sites
    finally:
        con.close()


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Runs squirreld as a daemon over many loopback sites and reports cadence, "
                    "CPU, memory and database growth beside their targets.")
    p.add_argument("--sites", type=int, default=100000, help="sites (default 100000)")
    p.add_argument("--interval", type=int, default=60, help="[check] interval, seconds (default 60)")
    p.add_argument("--seconds", type=float, default=600,
                   help="how long squirreld runs, seconds (default 600)")
    p.add_argument("--addresses", type=int, default=500,
                   help="loopback addresses the server listens on; the sites are spread over "
                        "them (default 500)")
    p.add_argument("--latency", type=int, default=20, help="server answer delay, ms (default 20)")
    p.add_argument("--poll-ms", type=int, default=50,
                   help="how often the server's log is read, ms: the resolution of the server's times "
                        "(default 50)")
    p.add_argument("--stop-timeout", type=float, default=60,
                   help="seconds squirreld may take to exit after SIGTERM (default 60)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--httpd", help="path of sq-httpd (default BUILD/tests/sq-httpd)")
    p.add_argument("--squirreld-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for squirreld (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    a = p.parse_args(argv)
    if a.sites < 1 or a.interval < 1 or a.addresses < 1 or a.latency < 0 or a.poll_ms < 1:
        p.error("--sites, --interval, --addresses and --poll-ms must be at least 1, --latency at least 0")
    if a.seconds <= 2 * a.interval:
        p.error("--seconds must be more than twice the interval: the first interval is the "
                "start, and a gap needs two checks after it")
    a.addresses = min(a.addresses, a.sites)
    return a


def write_config(path, a):
    with open(path, "w") as f:
        # Alerts (none expected: every site answers 200) go to a port where nothing listens.
        f.write("[check]\ninterval = %d\n[smtp]\nhost = 127.0.0.1\nport = 1\n" % a.interval)


def mb(kb):
    return kb / 1024.0


def verdict(ok):
    if ok is None:
        return "not judged: the run is shorter than raw_hours"
    return "met" if ok else "MISSED"


def main(argv):
    a = parse_args(argv)
    ctx = bench.Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.httpd = a.httpd or os.path.join(a.build, "tests", "sq-httpd")
    ctx.extra_args = []
    for path, what in ((ctx.httpd, "the test server"), (ctx.squirreld, "squirreld")):
        if not os.access(path, os.X_OK):
            print("steady_bench: %s %s is not there: build it first (meson compile -C %s)"
                  % (what, path, a.build), file=sys.stderr)
            return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    ctx.tmp = tempfile.mkdtemp(prefix="squirrel-steady-bench-")
    server = daemon = cad = None
    ok = False
    try:
        snapshot = os.path.join(ctx.tmp, "squirreld")   # the binary as it was at the start
        shutil.copy2(ctx.squirreld, snapshot)
        ctx.squirreld = snapshot
        rate = a.sites / a.interval
        print("squirrel steady-state benchmark: %d sites at %d s (%.0f checks/s), %d addresses, "
              "latency %d ms, %.0f s, %d CPUs"
              % (a.sites, a.interval, rate, a.addresses, a.latency, a.seconds, os.cpu_count() or 0),
              flush=True)
        reqlog = os.path.join(ctx.tmp, "requests.log")
        server = bench.Server(ctx, a.addresses, a.latency, ctx.tmp, extra=["--log", reqlog])
        port = server.wait_ready(60)
        addrs = bench.addresses(bench.LISTEN, a.addresses)
        urls = ["http://%s:%d/?status=200&site=%d" % (addrs[i % a.addresses], port, i)
                for i in range(a.sites)]
        bench.check_server(urls[:1] + urls[-1:], set(), a.latency)
        db = os.path.join(ctx.tmp, "sites.db")
        t = time.monotonic()
        bench.build_db(ctx, db, urls)
        print("  database of %d sites built in %.1f s" % (a.sites, time.monotonic() - t), flush=True)
        conf = os.path.join(ctx.tmp, "squirrel.conf")
        write_config(conf, a)
        out, err = os.path.join(ctx.tmp, "squirreld.out"), os.path.join(ctx.tmp, "squirreld.err")

        wall0 = time.time()
        with open(out, "w") as fo, open(err, "w") as fe:
            daemon = bench.Proc([ctx.squirreld, "--config", conf, "--db", db] + a.squirreld_arg,
                                stdout=fo, stderr=fe)
        cad = Cadence(reqlog, a.sites)
        cad.limit = a.interval + 1
        print("  sq-httpd pid %d on %s .. %s port %d; squirreld pid %d"
              % (server.proc.pid, addrs[0], addrs[-1], port, daemon.pid), flush=True)

        end = daemon.t0 + a.seconds
        steady_at = daemon.t0 + a.interval
        cpu0 = size0 = io0 = steady_t0 = steady_wall0 = None
        rss_max, next_note, next_rss, died = 0, daemon.t0 + 30, daemon.t0, None
        while True:
            now = time.monotonic()
            if now >= end:
                break
            cad.poll()
            if daemon.done():
                died = bench.exit_text(daemon.exitcode)
                break
            if cpu0 is None and now >= steady_at:
                cpu0, steady_t0, steady_wall0 = bench.proc_cpu(daemon.pid), now, time.time()
                cad.since = now
                io0 = read_io(daemon.pid)
                size0 = db_sizes(db)
            if now >= next_rss:
                rss_max = max(rss_max, read_status(daemon.pid).get("VmRSS", 0))
                next_rss += 1
            if now >= next_note:
                print("  %4.0f s: CPU %.1f s, VmRSS %.1f MB, %d requests at the server"
                      % (now - daemon.t0, bench.proc_cpu(daemon.pid),
                         mb(read_status(daemon.pid).get("VmRSS", 0)), cad.requests), flush=True)
                next_note += 30
            time.sleep(max(0.0, min(a.poll_ms / 1000.0, end - time.monotonic())))
        cad.poll()
        t_end = time.monotonic()
        wall_end = time.time()
        report = []
        if died is None:
            cpu1 = bench.proc_cpu(daemon.pid)
            io1 = read_io(daemon.pid)
            status = read_status(daemon.pid)
            size1 = db_sizes(db)
            t_term = time.monotonic()
            os.kill(daemon.pid, signal.SIGTERM)
            daemon.join(a.stop_timeout)
            if daemon.done():
                stopped_ok = daemon.exitcode == 0
                report.append("stop: SIGTERM, %s after %.2f s%s" % (
                    bench.exit_text(daemon.exitcode), daemon.t1 - t_term,
                    "" if stopped_ok else " (want exit 0)"))
            else:
                stopped_ok = False
                report.append("stop: SIGTERM, NO EXIT within %.0f s (killed)" % a.stop_timeout)
        else:
            stopped_ok = False
            report.append("squirreld ENDED by itself after %.1f s: %s" % (time.monotonic() - daemon.t0, died))

        print("\n== results (the steady part: from %d s, one interval after the start, to %.0f s)"
              % (a.interval, t_end - daemon.t0))
        targets = []
        if died is None and cpu0 is not None:
            # Cadence, from the checks table (whole seconds), over the steady part.
            since = int(steady_wall0)
            n, gap, gap_site, nsites, oldest_last, latest_first, sites = check_gaps(db, since, int(wall_end))
            limit = a.interval + 1
            stale = int(wall_end) - (oldest_last or 0)
            cad_ok = gap is not None and gap <= limit and nsites == sites and stale <= limit
            print("checks in the steady part: %d (%d sites at %d s over %.0f s: about %.0f)"
                  % (n, a.sites, a.interval, wall_end - steady_wall0,
                     a.sites * (wall_end - steady_wall0) / a.interval))
            print("sites checked in the steady part: %d of %d" % (nsites, sites))
            print("largest gap between two checks of a site (checks table, whole seconds): %s s%s; "
                  "oldest last check at the end: %d s before it"
                  % (gap, "" if gap_site is None else " (site %d)" % gap_site, stale))
            targets.append(("largest gap (checks table)", "%s s" % gap, "<= %d s (interval + 1)" % limit,
                            cad_ok))
            g, gsite, gat = cad.max_gap
            unseen = sum(1 for x in cad.first_after if x is None)
            stale_srv = max((t_end - x for x in cad.last if x is not None), default=float("inf"))
            srv_ok = g <= limit and unseen == 0 and stale_srv <= limit and cad.over == 0
            print("the same timed by the server's log (read every %d ms): largest gap %.3f s%s; gaps "
                  "over %d s: %d; sites not asked in the steady part: %d; oldest last request at "
                  "the end: %.2f s before it"
                  % (a.poll_ms, g, "" if gsite is None else " (site index %d, after its request at "
                     "%.1f s into the steady part)" % (gsite, gat), limit, cad.over, unseen, stale_srv))
            targets.append(("largest gap (server)", "%.2f s" % g, "<= %d s (interval + 1)" % limit,
                            srv_ok))
            span = t_end - steady_t0
            cpu_pct = 100.0 * (cpu1 - cpu0) / span
            print("CPU of squirreld: %.1f s over the steady %.0f s: %.1f %% of one core, %.3f ms per check"
                  % (cpu1 - cpu0, span, cpu_pct, 1000.0 * (cpu1 - cpu0) / max(1, n)))
            targets.append(("CPU", "%.1f %%" % cpu_pct, "<= %.0f %% of one core" % CPU_TARGET,
                            cpu_pct <= CPU_TARGET))
            rss = max(rss_max, status.get("VmHWM", 0))
            print("memory of squirreld: VmRSS %.1f MB at the end, largest sampled %.1f MB, VmHWM %.1f MB, "
                  "%s threads" % (mb(status.get("VmRSS", 0)), mb(rss_max), mb(status.get("VmHWM", 0)),
                                 status.get("Threads", "?")))
            if io0 and io1:
                d = {k: io1.get(k, 0) - io0.get(k, 0) for k in ("rchar", "wchar", "syscr", "syscw")}
                print("file I/O of squirreld (/proc/PID/io: read, pread, write, pwrite; the sockets' "
                      "send and recv are not counted): read %.1f MB in %d calls, "
                      "written %.1f MB in %d calls; per check %.0f B read, %.0f B written"
                      % (d["rchar"] / 1e6, d["syscr"], d["wchar"] / 1e6, d["syscw"],
                         d["rchar"] / max(1, n), d["wchar"] / max(1, n)))
            targets.append(("RSS max", "%.1f MB" % mb(rss), "<= %.0f MB" % RSS_TARGET_MB,
                            mb(rss) <= RSS_TARGET_MB))
            if size0 is not None and size1 is not None:
                grow = size1[0] - size0[0]
                hours = (wall_end - steady_wall0) / 3600.0
                print("database: %.1f MB at the start of the steady part, %.1f MB at the end: "
                      "%.1f MB more, %.1f MB per hour, %.1f bytes per check"
                      % (size0[0] / 1e6, size1[0] / 1e6, grow / 1e6, grow / 1e6 / hours,
                         grow / max(1, n)))
                tables = sorted(set(size0[1]) | set(size1[1]))
                for tbl in tables:
                    d = size1[1].get(tbl, 0) - size0[1].get(tbl, 0)
                    if d:
                        print("  %-22s %+10.1f kB (%.2f bytes per check)%s"
                              % (tbl, d / 1e3, d / max(1, n),
                                 "  <- hourly tier" if "hour" in tbl else ""))
                hourly = sum(size1[1].get(t, 0) - size0[1].get(t, 0) for t in tables if "hour" in t)
                print("  raw checks are kept for raw_hours (48 by default), so over a shorter run the "
                      "file grows by the raw rows; the hourly tier grew %.2f bytes per check (a row "
                      "per site and hour: over less than an hour, the rows of the hour begun)"
                      % (hourly / max(1, n)))
                targets.append(("bytes per check (file)", "%.1f B" % (grow / max(1, n)),
                                "<= %.0f B once past raw_hours" % BYTES_TARGET, None))
                targets.append(("bytes per check (hourly)", "%.2f B" % (hourly / max(1, n)),
                                "<= %.0f B once past raw_hours" % BYTES_TARGET, None))
        for line in report:
            print(line)
        with open(err, errors="replace") as f:
            errlines = [x.rstrip("\n") for x in f if x.strip()]
        print("squirreld's log: %d lines%s" % (len(errlines), ":" if errlines else ""))
        for x in errlines[:10]:
            print("  " + x)
        if len(errlines) > 10:
            print("  ... (%d more)" % (len(errlines) - 10))
        if targets:
            print("\n%-30s %-12s %-34s %s" % ("figure", "measured", "target", ""))
            for name, got, want, met in targets:
                print("%-30s %-12s %-34s %s" % (name, got, want, verdict(met)))
        ok = bool(targets) and all(t[3] is not False for t in targets) and stopped_ok
        print("\n%s" % ("OK: every target judged was met, squirreld exited 0 on SIGTERM"
                        if ok else "FAILED"))
        sys.stdout.flush()
    except (RuntimeError, bench.Skip, OSError, sqlite3.Error) as e:
        print("steady_bench: %s" % e, file=sys.stderr)
        ok = False
    finally:
        if cad is not None:
            cad.close()
        for p in (daemon, server and server.proc):
            if p is not None:
                p.stop()
        if a.keep:
            print("temporary files kept in %s" % ctx.tmp)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # the finally blocks have stopped every child
        sys.exit(130)
