#!/usr/bin/env python3
"""daemon_bench.py - does the daemon keep every site within its interval,
and at what cost?

Starts the test HTTP server (sq-httpd) on N loopback addresses with a small
answer latency and a request log, builds a database of N sites (one address
each), runs squirreld in the foreground (no --once) with `interval` seconds
between checks for a fixed window, then stops it with SIGTERM and checks that
it exits 0. From the server's log, timed as its lines arrive, it computes for
each site the gaps between consecutive checks and the spread of checks over
the seconds; from /proc it reads the daemon's CPU time and memory.

Reuses bench.py (same directory). Standard library only. See bench/README.md.
"""

import argparse
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402


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


class LogTail:
    """The server's request log, read as it grows; each complete line is
    timed (seconds since t0) when it is read."""

    def __init__(self, path, t0):
        self.f = open(path, "rb")
        self.f.seek(0, os.SEEK_END)   # what came before (the bench's own probes) is not counted
        self.t0 = t0
        self.rest = b""
        self.lines = []               # (time, local address)
        self.bad = 0

    def poll(self):
        data = self.f.read()
        if not data:
            return
        t = time.monotonic() - self.t0
        data = self.rest + data
        *complete, self.rest = data.split(b"\n")
        for line in complete:
            parts = line.split(b" ")
            if len(parts) >= 4:
                self.lines.append((t, parts[0].decode()))
            else:
                self.bad += 1

    def close(self):
        self.f.close()


def pct(values, q):
    """The q-quantile (0..1) of sorted values, nearest rank."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))]


def analyse(a, addrs, lines, window):
    """Every figure of the report from the timed log lines; returns (text lines, ok)."""
    index = {addr: i for i, addr in enumerate(addrs)}
    times = [[] for _ in addrs]
    strangers = 0
    for t, addr in lines:
        i = index.get(addr)
        if i is None:
            strangers += 1
        else:
            times[i].append(t)
    limit = a.interval + a.tolerance
    warmup = a.warmup
    out, ok = [], True

    counts = [len(ts) for ts in times]
    never = [addrs[i] for i, n in enumerate(counts) if n == 0]
    out.append("checks seen: %d in %.0f s (%d sites every %d s: about %d expected); unknown addresses: %d"
               % (len(lines), window, a.n, a.interval, a.n * window / a.interval, strangers))
    out.append("sites checked: %d of %d; checks per site: fewest %d, most %d"
               % (a.n - len(never), a.n, min(counts), max(counts)))
    if never:
        ok = False
        out.append("  NEVER CHECKED: %d sites, e.g. %s" % (len(never), ", ".join(never[:3])))

    # Gaps: start -> first check, between checks, last check -> end of the window.
    first = [ts[0] for ts in times if ts]
    inner = []            # (gap, site, at)
    for i, ts in enumerate(times):
        for x, y in zip(ts, ts[1:]):
            inner.append((y - x, addrs[i], x))
    tail = [(window - ts[-1], addrs[i]) for i, ts in enumerate(times) if ts]
    over = [g for g in inner if g[0] > limit]
    tail_over = [g for g in tail if g[0] > limit]
    first_over = [f for f in first if f > limit]
    gmax = max(inner) if inner else None
    out.append("limit: interval %d s + tolerance %.2f s = %.2f s" % (a.interval, a.tolerance, limit))
    if gmax:
        out.append("largest gap between two checks of a site: %.3f s (%s, after its check at %.1f s): %s"
                   % (gmax[0], gmax[1], gmax[2], "within the limit" if gmax[0] <= limit else "OVER"))
    out.append("gaps over the limit: %d of %d; sites whose last check is older than the limit at the "
               "end: %d; first checks: all within %.2f s of the start (%d later than the limit)"
               % (len(over), len(inner), len(tail_over), max(first) if first else float("nan"),
                  len(first_over)))
    for g in sorted(over, reverse=True)[:5]:
        out.append("  OVER: %s waited %.3f s after its check at %.1f s" % (g[1], g[0], g[2]))
    if over or tail_over or first_over or not inner:
        ok = False

    steady = sorted(g[0] for g in inner if g[2] >= warmup)
    if steady:
        dev = max(abs(g - a.interval) for g in steady)
        out.append("gaps after %.0f s (%d): min %.3f, median %.3f, 99%% %.3f, max %.3f s; "
                   "largest distance from %d s: %.3f s"
                   % (warmup, len(steady), steady[0], statistics.median(steady), pct(steady, 0.99),
                      steady[-1], a.interval, dev))
    early = sorted(g[0] for g in inner if g[2] < warmup)
    if early:
        out.append("gaps before %.0f s (%d, the second check of each site lands at its own place "
                   "in the interval): min %.3f, median %.3f, max %.3f s"
                   % (warmup, len(early), early[0], statistics.median(early), early[-1]))

    # Checks per second, over the whole seconds of the steady part.
    bins = {}
    for t, _ in lines:
        bins[int(t)] = bins.get(int(t), 0) + 1
    secs = range(int(warmup), int(window))
    per = [bins.get(s, 0) for s in secs]
    if per:
        out.append("checks per second from %d s to %d s (%d one-second bins; ideal %.0f): "
                   "min %d, max %d, mean %.1f, stdev %.1f; max/mean %.2f"
                   % (secs[0], secs[-1] + 1, len(per), a.n / a.interval, min(per), max(per),
                      statistics.mean(per), statistics.pstdev(per),
                      max(per) / statistics.mean(per) if statistics.mean(per) else float("nan")))
        out.append("  per second: " + " ".join(str(v) for v in per))
    first_bins = [bins.get(s, 0) for s in range(0, int(min(warmup, window)))]
    if first_bins:
        out.append("  before %.0f s: %s" % (warmup, " ".join(str(v) for v in first_bins)))
    return out, ok


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Runs squirreld as a daemon over N loopback sites for a while and reports "
                    "the gaps between checks of each site, checks per second, CPU and RSS.")
    p.add_argument("--n", type=int, default=5000, help="sites (default 5000)")
    p.add_argument("--interval", type=int, default=10, help="[check] interval, seconds (default 10)")
    p.add_argument("--latency", type=int, default=20, help="server answer delay, ms (default 20)")
    p.add_argument("--seconds", type=float, default=60, help="length of the window, seconds (default 60)")
    p.add_argument("--tolerance", type=float, default=0.5,
                   help="seconds a gap may exceed the interval (default 0.5)")
    p.add_argument("--warmup", type=float,
                   help="start of the steady part, seconds (default 2 x interval)")
    p.add_argument("--backend", default="libev", help="[squirreld] backend (default libev)")
    p.add_argument("--max-concurrent", type=int, help="[squirreld] max_concurrent (default: the built-in)")
    p.add_argument("--workers", type=int, help="[squirreld] workers (default: the built-in)")
    p.add_argument("--poll-ms", type=int, default=20,
                   help="how often the server's log is read, ms: the resolution of the times (default 20)")
    p.add_argument("--stop-timeout", type=float, default=30,
                   help="seconds squirreld may take to exit after SIGTERM (default 30)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--httpd", help="path of sq-httpd (default BUILD/tests/sq-httpd)")
    p.add_argument("--squirreld-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for squirreld (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    a = p.parse_args(argv)
    if a.n < 1 or a.interval < 1 or a.latency < 0 or a.seconds <= 0 or a.tolerance < 0 or a.poll_ms < 1:
        p.error("--n, --interval, --poll-ms must be at least 1, --seconds above 0, "
                "--latency and --tolerance at least 0")
    if a.warmup is None:
        a.warmup = min(2.0 * a.interval, a.seconds / 2)
    return a


def write_config(path, a):
    with open(path, "w") as f:
        f.write("[squirreld]\nbackend = %s\n" % a.backend)
        if a.max_concurrent:
            f.write("max_concurrent = %d\n" % a.max_concurrent)
        if a.workers:
            f.write("workers = %d\n" % a.workers)
        # Alerts (none expected) go to a port where nothing listens.
        f.write("[check]\ninterval = %d\n[smtp]\nhost = 127.0.0.1\nport = 1\n" % a.interval)


def main(argv):
    a = parse_args(argv)
    ctx = bench.Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.httpd = a.httpd or os.path.join(a.build, "tests", "sq-httpd")
    ctx.extra_args = []
    for path, what in ((ctx.httpd, "the test server"), (ctx.squirreld, "squirreld")):
        if not os.access(path, os.X_OK):
            print("daemon_bench: %s %s is not there: build it first (ninja -C %s)" % (what, path, a.build),
                  file=sys.stderr)
            return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    ctx.tmp = tempfile.mkdtemp(prefix="squirrel-daemon-bench-")
    server = daemon = tail = None
    ok = False
    try:
        snapshot = os.path.join(ctx.tmp, "squirreld")   # the binary as it was at the start
        shutil.copy2(ctx.squirreld, snapshot)
        ctx.squirreld = snapshot
        print("squirrel daemon benchmark: %d sites, interval %d s, latency %d ms, backend %s, "
              "%.0f s window, %d CPUs" % (a.n, a.interval, a.latency, a.backend, a.seconds,
                                           os.cpu_count() or 0), flush=True)
        log = os.path.join(ctx.tmp, "requests.log")
        server = bench.Server(ctx, a.n, a.latency, ctx.tmp, extra=["--log", log])
        port = server.wait_ready(60)
        addrs = bench.addresses(bench.LISTEN, a.n)
        urls, _ = bench.make_urls(a.n, port, 0)
        bench.check_server(urls, set(), a.latency)
        db = os.path.join(ctx.tmp, "sites.db")
        bench.build_db(ctx, db, urls)
        conf = os.path.join(ctx.tmp, "squirrel.conf")
        write_config(conf, a)
        out, err = os.path.join(ctx.tmp, "squirreld.out"), os.path.join(ctx.tmp, "squirreld.err")

        with open(out, "w") as fo, open(err, "w") as fe:
            daemon = bench.Proc([ctx.squirreld, "--config", conf, "--db", db] + a.squirreld_arg,
                                stdout=fo, stderr=fe)
        tail = LogTail(log, daemon.t0)
        print("  sq-httpd pid %d on %s .. %s port %d; squirreld pid %d"
              % (server.proc.pid, addrs[0], addrs[-1], port, daemon.pid), flush=True)

        step = a.poll_ms / 1000.0
        end = daemon.t0 + a.seconds
        steady_at = daemon.t0 + a.warmup
        cpu_steady0 = srv_steady0 = None
        srv0 = server.cpu()
        rss_max, next_sample, next_note = 0, daemon.t0, daemon.t0 + 10
        died = None
        while True:
            now = time.monotonic()
            if now >= end:
                break
            tail.poll()
            if daemon.done():
                died = bench.exit_text(daemon.exitcode)
                break
            if cpu_steady0 is None and now >= steady_at:
                cpu_steady0, srv_steady0, steady_t0 = bench.proc_cpu(daemon.pid), server.cpu(), now
            if now >= next_sample:
                rss_max = max(rss_max, read_status(daemon.pid).get("VmRSS", 0))
                next_sample += 1
            if now >= next_note:
                st = read_status(daemon.pid)
                print("  %3.0f s: %d checks so far, CPU %.2f s, VmRSS %.1f MB"
                      % (now - daemon.t0, len(tail.lines), bench.proc_cpu(daemon.pid),
                         st.get("VmRSS", 0) / 1024.0), flush=True)
                next_note += 10
            time.sleep(max(0.0, min(step, end - time.monotonic())))
        tail.poll()
        t_end = time.monotonic()
        window = t_end - daemon.t0
        cpu_end, srv_end = bench.proc_cpu(daemon.pid), server.cpu()
        status = read_status(daemon.pid)

        report = []
        if died is None:
            t_term = time.monotonic()
            os.kill(daemon.pid, signal.SIGTERM)
            daemon.join(a.stop_timeout)
            if daemon.done():
                stopped_ok = daemon.exitcode == 0
                report.append("stop: SIGTERM, %s after %.2f s%s" % (
                    bench.exit_text(daemon.exitcode), daemon.t1 - t_term, "" if stopped_ok else " (want exit 0)"))
            else:
                stopped_ok = False
                report.append("stop: SIGTERM, NO EXIT within %.0f s (killed)" % a.stop_timeout)
        else:
            stopped_ok = False
            report.append("squirreld ENDED by itself after %.1f s: %s" % (time.monotonic() - daemon.t0, died))

        print("\n== results (times from the start of squirreld, read from the server's log every %d ms)"
              % a.poll_ms)
        lines, sched_ok = analyse(a, addrs, tail.lines, window)
        for line in lines:
            print(line)
        if died is None:
            total_cpu = cpu_end
            print("CPU of squirreld: %.2f s over the whole %.1f s (%.1f %% of one core)"
                  % (total_cpu, window, 100.0 * total_cpu / window), end="")
            if cpu_steady0 is not None:
                span = t_end - steady_t0
                print("; %.2f s over the steady %.1f s (%.1f %% of one core, %.3f ms per check)"
                      % (cpu_end - cpu_steady0, span, 100.0 * (cpu_end - cpu_steady0) / span,
                         1000.0 * (cpu_end - cpu_steady0) / max(1, sum(1 for t, _ in tail.lines
                                                                        if t >= steady_t0 - daemon.t0))))
            else:
                print()
            print("memory of squirreld at the end: VmRSS %.1f MB (largest seen, once a second: %.1f MB), "
                  "VmHWM %.1f MB, %s threads"
                  % (status.get("VmRSS", 0) / 1024.0, rss_max / 1024.0, status.get("VmHWM", 0) / 1024.0,
                     status.get("Threads", "?")))
            print("CPU of sq-httpd: %.2f s over the whole window%s"
                  % (srv_end - srv0, "" if srv_steady0 is None else
                     ", %.2f s over the steady part" % (srv_end - srv_steady0)))
        if tail.bad:
            print("unreadable log lines: %d" % tail.bad)
        for line in report:
            print(line)
        with open(err, errors="replace") as f:
            errlines = [x.rstrip("\n") for x in f if x.strip()]
        print("squirreld's log: %d lines%s" % (len(errlines), ":" if errlines else ""))
        for x in errlines[:10]:
            print("  " + x)
        if len(errlines) > 10:
            print("  ... (%d more)" % (len(errlines) - 10))
        ok = sched_ok and stopped_ok and died is None
        print("\n%s" % ("OK: every site checked within %d s + %.2f s, and squirreld exited 0 on SIGTERM"
                        % (a.interval, a.tolerance) if ok else "FAILED"))
        sys.stdout.flush()
    except (RuntimeError, bench.Skip, OSError) as e:
        print("daemon_bench: %s" % e, file=sys.stderr)
        ok = False
    finally:
        if tail is not None:
            tail.close()
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
