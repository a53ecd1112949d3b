#!/usr/bin/env python3
"""idle_bench.py - what the daemon costs when there is little to do.

A benchmark at saturation cannot see a daemon that never sleeps: its cost
per check looks fine because every wake-up has work. This one runs
squirreld as a daemon, per backend, in the two situations most monitors
live in, and compares them with the same backend at saturation:

- idle: 10 sites at a 60 s interval, every one already checked; the CPU
  of the daemon (and of its worker processes, for prefork; of the
  coordinator and one `squirreld --worker`, for redis) over a window, as a
  share of one core. Target: at most 1 %.
- light: 1,000 sites at a 60 s interval; the CPU per check over a window
  after the first checks, counted from the test server's request log.
- saturated: `squirreld --once` over the same 1,000 sites with the same
  backend, CPU per check. Target: light within 1.5x of it.

Standard library only; reuses bench.py (same directory). See bench/README.md.
"""

import argparse
import os
import resource
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402

ALL = ("serial", "threads", "prefork", "libev", "redis")
IDLE_TARGET = 0.01        # share of one core
LIGHT_TARGET = 1.5        # light CPU per check / saturated CPU per check


def tree_cpu(pids):
    """CPU seconds of the given processes and all their live descendants."""
    children = bench.proc_children()
    todo, seen, total = list(pids), set(), 0.0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        cpu = bench.proc_cpu(pid)
        if cpu == cpu:   # not NaN: still alive
            total += cpu
        todo.extend(children.get(pid, ()))
    return total


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError("%s: not within %.0f s" % (what, timeout))


class Setup:
    """One server, one database of N sites, and the processes of one run."""

    def __init__(self, ctx, a, n, tmp, name):
        self.ctx, self.a, self.n = ctx, a, n
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "requests.log")
        self.server = bench.Server(ctx, n, a.latency, self.dir, extra=["--log", self.log])
        port = self.server.wait_ready(60)
        self.urls, _ = bench.make_urls(n, port, 0)
        bench.check_server(self.urls, set(), a.latency)
        self.db = os.path.join(self.dir, "sites.db")
        bench.build_db(ctx, self.db, self.urls)
        self.procs = []

    def config(self, backend, redis_url=None):
        path = os.path.join(self.dir, "squirrel-%s.conf" % backend)
        with open(path, "w") as f:
            f.write("[squirreld]\nbackend = %s\n" % backend)
            f.write("[check]\ninterval = %d\n" % self.a.interval)
            # Alerts (none expected) go to a port where nothing listens.
            f.write("[smtp]\nhost = 127.0.0.1\nport = 1\n")
            if redis_url:
                f.write("[redis]\nurl = %s\n" % redis_url)
        return path

    def start(self, argv, name):
        err = open(os.path.join(self.dir, name + ".err"), "w")
        p = bench.Proc(argv, stderr=err)
        err.close()
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        self.server.stop()


def start_daemon(s, backend, redis):
    """The daemon (and, for redis, one worker); returns the pids to measure."""
    ctx = s.ctx
    conf = s.config(backend, redis.url if redis else None)
    pids = []
    if redis:
        w = s.start([ctx.squirreld, "--worker", "--config", conf, "--backend", "libev"], "worker")
        pids.append(w.pid)
    d = s.start([ctx.squirreld, "--config", conf, "--db", s.db], "squirreld")
    pids.append(d.pid)
    return d, pids


def measure_window(s, pids, seconds, daemon):
    c0, n0, t0 = tree_cpu(pids), count_lines(s.log), time.monotonic()
    end = t0 + seconds
    while time.monotonic() < end:
        if daemon.done():
            raise RuntimeError("squirreld ended: %s" % bench.exit_text(daemon.exitcode))
        time.sleep(min(0.5, max(0.0, end - time.monotonic())))
    return tree_cpu(pids) - c0, count_lines(s.log) - n0, time.monotonic() - t0


def run_idle(ctx, a, tmp, backend, redis):
    s = Setup(ctx, a, a.idle_sites, tmp, "idle-" + backend)
    try:
        d, pids = start_daemon(s, backend, redis)
        # every site's first check (spread over the first 10 s), then quiet
        wait_until(lambda: count_lines(s.log) >= a.idle_sites, 30, "the first checks")
        time.sleep(1.0)
        cpu, checks, wall = measure_window(s, pids, a.idle_seconds, d)
        return {"cpu": cpu, "wall": wall, "checks": checks, "share": cpu / wall}
    finally:
        s.stop()


def run_light(ctx, a, tmp, backend, redis):
    s = Setup(ctx, a, a.light_sites, tmp, "light-" + backend)
    try:
        d, pids = start_daemon(s, backend, redis)
        t_start = time.monotonic()
        time.sleep(max(0.0, a.warmup - (time.monotonic() - t_start)))
        cpu, checks, wall = measure_window(s, pids, a.light_seconds, d)
        sat = run_saturated(s, backend, redis)
        return {"cpu": cpu, "wall": wall, "checks": checks, "share": cpu / wall,
                "per_check": cpu / checks if checks else float("nan"), "sat": sat}
    finally:
        s.stop()


def run_saturated(s, backend, redis):
    """squirreld --once over the same sites (the daemon stopped first)."""
    for p in reversed(s.procs):
        p.stop()
    s.procs = []
    conf = s.config(backend, redis.url if redis else None)
    pids = []
    if redis:
        w = s.start([s.ctx.squirreld, "--worker", "--config", conf, "--backend", "libev"], "worker-once")
        pids.append(w.pid)
        time.sleep(0.5)
    n0 = count_lines(s.log)
    with open(os.path.join(s.dir, "once.out"), "w") as out:
        once = bench.Proc([s.ctx.squirreld, "--once", "--config", conf, "--db", s.db], stdout=out)
    w_cpu0 = tree_cpu(pids)
    once.join(600)
    if not once.done():
        once.stop()
        raise RuntimeError("squirreld --once did not end within 600 s")
    if once.exitcode != 0:
        raise RuntimeError("squirreld --once: %s" % bench.exit_text(once.exitcode))
    cpu = once.cpu + tree_cpu(pids) - w_cpu0
    checks = count_lines(s.log) - n0
    return {"cpu": cpu, "wall": once.wall, "checks": checks,
            "per_check": cpu / checks if checks else float("nan")}


def parse_args(argv):
    p = argparse.ArgumentParser(description="The daemon's CPU when idle and under light load, per "
                                "backend, against the same backend at saturation.")
    p.add_argument("--backends", default=",".join(ALL),
                   help="comma-separated from %s (default: all; redis needs redis-server)" % ",".join(ALL))
    p.add_argument("--interval", type=int, default=60, help="[check] interval, s (default 60)")
    p.add_argument("--latency", type=int, default=20, help="server answer delay, ms (default 20)")
    p.add_argument("--idle-sites", type=int, default=10, help="sites of the idle run (default 10)")
    p.add_argument("--idle-seconds", type=float, default=30, help="idle window, s (default 30)")
    p.add_argument("--light-sites", type=int, default=1000, help="sites of the light run (default 1000)")
    p.add_argument("--light-seconds", type=float, default=60, help="light window, s (default 60)")
    p.add_argument("--warmup", type=float, default=12,
                   help="light run: seconds before the window, past the first checks (default 12)")
    p.add_argument("--only", choices=("idle", "light"), help="run only this part")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--httpd", help="path of sq-httpd (default BUILD/tests/sq-httpd)")
    a = p.parse_args(argv)
    a.backends = [b for b in a.backends.split(",") if b]
    for b in a.backends:
        if b not in ALL:
            p.error("unknown backend %r (from %s)" % (b, ", ".join(ALL)))
    if a.interval < 1 or a.idle_sites < 1 or a.light_sites < 1 or a.idle_seconds <= 0 or \
            a.light_seconds <= 0 or a.latency < 0 or a.warmup < 0:
        p.error("sizes and windows must be positive")
    return a


def built(ctx, backend):
    """None when squirreld can run the backend here, else why not."""
    if backend == "redis" and shutil.which("redis-server") is None:
        return "redis-server is not installed (scripts/deps.sh test)"
    db = os.path.join(ctx.tmp, "probe.db")
    r = bench.subprocess.run([ctx.squirreld, "--once", "--db", db, "--backend", backend,
                              "--config", os.devnull], stdin=bench.subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60)
    if "not in this build" in r.stderr:
        return bench.first_line(r.stderr)
    return None


def main(argv):
    a = parse_args(argv)
    ctx = bench.Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.httpd = a.httpd or os.path.join(a.build, "tests", "sq-httpd")
    ctx.extra_args = []
    for path, what in ((ctx.httpd, "the test server"), (ctx.squirreld, "squirreld")):
        if not os.access(path, os.X_OK):
            print("idle_bench: %s %s is not there: build it first (meson compile -C %s)"
                  % (what, path, a.build), file=sys.stderr)
            return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ctx.tmp = tempfile.mkdtemp(prefix="squirrel-idle-bench-")
    snapshot = os.path.join(ctx.tmp, "squirreld")   # the binary as it was at the start
    shutil.copy2(ctx.squirreld, snapshot)
    ctx.squirreld = snapshot
    print("squirrel idle and light-load benchmark: interval %d s, latency %d ms, %d CPUs; idle: %d "
          "sites over %.0f s; light: %d sites over %.0f s after %.0f s"
          % (a.interval, a.latency, os.cpu_count() or 0, a.idle_sites, a.idle_seconds,
             a.light_sites, a.light_seconds, a.warmup), flush=True)
    rows, ok = [], True
    redis = None
    try:
        for backend in a.backends:
            why = built(ctx, backend)
            if why:
                rows.append((backend, "skipped: " + why))
                print("%s: skipped: %s" % (backend, why), flush=True)
                continue
            if backend == "redis":
                import redis_bench
                redis = redis_bench.RedisServer(ctx.tmp)
            try:
                idle = light = None
                if a.only in (None, "idle"):
                    idle = run_idle(ctx, a, ctx.tmp, backend, redis)
                    print("%s idle: %.3f s CPU over %.1f s = %.2f %% of a core (%d checks in the window)"
                          % (backend, idle["cpu"], idle["wall"], 100 * idle["share"], idle["checks"]),
                          flush=True)
                if a.only in (None, "light"):
                    light = run_light(ctx, a, ctx.tmp, backend, redis)
                    print("%s light: %d checks, %.3f s CPU over %.1f s = %.3f ms/check (%.2f %% of a "
                          "core); saturated --once: %d checks, %.3f ms/check in %.1f s"
                          % (backend, light["checks"], light["cpu"], light["wall"],
                             1000 * light["per_check"], 100 * light["share"], light["sat"]["checks"],
                             1000 * light["sat"]["per_check"], light["sat"]["wall"]), flush=True)
                rows.append((backend, idle, light))
            except (RuntimeError, bench.Skip, OSError) as e:
                ok = False
                rows.append((backend, "FAILED: %s" % e))
                print("%s: FAILED: %s" % (backend, e), flush=True)
            finally:
                if redis:
                    redis.stop()
                    redis = None
    finally:
        if redis:
            redis.stop()
        shutil.rmtree(ctx.tmp, ignore_errors=True)

    print("\n| backend | idle: %% of a core (target <= %.0f %%) | light: ms CPU/check | saturated: "
          "ms CPU/check | light / saturated (target <= %.1f) |" % (100 * IDLE_TARGET, LIGHT_TARGET))
    print("|---|---|---|---|---|")
    for row in rows:
        if len(row) == 2:
            print("| %s | %s | | | |" % row)
            continue
        backend, idle, light = row
        cells = [backend]
        if idle:
            met = idle["share"] <= IDLE_TARGET
            ok = ok and met
            cells.append("%.2f %% %s" % (100 * idle["share"], "met" if met else "MISSED"))
        else:
            cells.append("-")
        if light:
            r = light["per_check"] / light["sat"]["per_check"]
            met = r <= LIGHT_TARGET
            ok = ok and met
            cells += ["%.3f" % (1000 * light["per_check"]), "%.3f" % (1000 * light["sat"]["per_check"]),
                      "%.2f %s" % (r, "met" if met else "MISSED")]
        else:
            cells += ["-", "-", "-"]
        print("| " + " | ".join(cells) + " |")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
