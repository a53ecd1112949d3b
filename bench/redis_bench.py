#!/usr/bin/env python3
"""redis_bench.py - what scale-out through Redis costs, against one machine.

In one run, on the same sites (sq-httpd on N loopback addresses, each answer
L ms late, a share of them answering 503) and the same database:

  local   squirreld --once --backend libev --max-concurrent C_local
  redis   squirreld --once --backend redis (the coordinator, checking
          nothing itself) with W workers (`squirreld --worker`, libev,
          --max-concurrent C_worker each) and a redis-server of its own

It measures the wall time of each pass, the coordinator's CPU per check
(all of squirreld --once: dispatch, answers, verdicts, SQLite), the workers'
and Redis's CPU, and Redis's memory after the pass (INFO memory), then
compares them with the targets:

  wall(redis) <= 1.3 x wall(local); coordinator CPU <= 0.05 ms per check;
  Redis used memory after the pass <= 64 MiB

Reuses bench.py (same directory); standard library only. Every process it
starts is stopped by its PID. See bench/README.md and docs/scaling.md.
"""

import argparse
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402

TARGET_WALL_RATIO = 1.3
TARGET_CPU_MS = 0.05
TARGET_MEM_MIB = 64


def redis_call(sock, *args, timeout=10):
    """One command on the unix socket; the reply as text (arrays flattened by lines)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        cmd = [b"*%d\r\n" % len(args)]
        for a in args:
            a = str(a).encode()
            cmd.append(b"$%d\r\n%s\r\n" % (len(a), a))
        s.sendall(b"".join(cmd))
        f = s.makefile("rb")

        def read():
            line = f.readline()
            kind, body = line[:1], line[1:-2].decode(errors="replace")
            if kind in (b"+", b"-", b":"):
                return body
            if kind == b"$":
                n = int(body)
                return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
            if kind == b"*":
                n = int(body)
                return None if n < 0 else [read() for _ in range(n)]
            raise OSError("unexpected reply %r" % line)
        return read()
    finally:
        s.close()


def redis_info(sock, section):
    """INFO section as a dict."""
    text = redis_call(sock, "INFO", section) or ""
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if v:
            out[k.strip()] = v.strip()
    return out


class RedisServer:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "redis.sock")
        self.proc = bench.Proc(["redis-server", "--port", "0", "--unixsocket", self.sock,
                                "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                "--dir", self.dir, "--daemonize", "no",
                                "--logfile", os.path.join(self.dir, "redis.log")])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.done():
                raise RuntimeError("redis-server exited: see %s/redis.log" % self.dir)
            try:
                if redis_call(self.sock, "PING", timeout=2) == "PONG":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer within 20 s")

    @property
    def url(self):
        return "unix:" + self.sock

    def stop(self):
        self.proc.stop()


def start_workers(ctx, redis, n, c, tmp):
    workers = []
    for i in range(n):
        err = open(os.path.join(tmp, "worker-%d.err" % i), "w")
        workers.append(bench.Proc([ctx.squirreld, "--worker", "--redis", redis.url,
                                   "--backend", "libev", "--max-concurrent", c] + ctx.extra_args,
                                  stderr=err))
        err.close()
    deadline = time.monotonic() + 20
    for i, w in enumerate(workers):
        path = os.path.join(tmp, "worker-%d.err" % i)
        while time.monotonic() < deadline:
            if w.done():
                raise RuntimeError("worker %d exited: %s" % (i, bench.first_line(open(path).read())))
            if "taking checks from" in open(path).read():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("worker %d did not start within 20 s" % i)
    return workers


def run_redis(ctx, sc, a, rep):
    """One pass through Redis; returns (Result, extra figures)."""
    redis = RedisServer(ctx.tmp)
    workers = []
    try:
        workers = start_workers(ctx, redis, a.workers, a.worker_concurrency, ctx.tmp)
        db = os.path.join(ctx.tmp, "redis-run.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(sc.db + suffix):
                shutil.copyfile(sc.db + suffix, db + suffix)
            elif os.path.exists(db + suffix):
                os.unlink(db + suffix)
        c_total = a.workers * a.worker_concurrency
        r = bench.Result("redis %dx%d" % (a.workers, a.worker_concurrency), c_total, sc.n, sc.ideal(c_total))
        out = os.path.join(ctx.tmp, "redis-%d.out" % rep)
        err = os.path.join(ctx.tmp, "redis-%d.err" % rep)
        mem0 = int(redis_info(redis.sock, "memory").get("used_memory", "0"))
        wcpu0 = [bench.proc_cpu(w.pid) for w in workers]
        rcpu0 = bench.proc_cpu(redis.proc.pid)
        srv0 = sc.server.cpu()
        argv = shlex.split(a.wrap_coordinator or "") + [
            ctx.squirreld, "--once", "--db", db, "--backend", "redis", "--redis", redis.url,
            "--max-concurrent", a.window] + ctx.extra_args
        with open(out, "w") as fo, open(err, "w") as fe:
            p = bench.Proc(argv, stdout=fo, stderr=fe)
        try:
            bench.wait_all([p], ctx.timeout_for(r.ideal))
        finally:
            p.stop()
        r.srv_cpu = sc.server.cpu() - srv0
        extra = {
            "workers_cpu": sum(bench.proc_cpu(w.pid) - c0 for w, c0 in zip(workers, wcpu0)),
            "redis_cpu": bench.proc_cpu(redis.proc.pid) - rcpu0,
        }
        mem = redis_info(redis.sock, "memory")
        extra["redis_used"] = int(mem.get("used_memory", "0"))
        extra["redis_before"] = mem0
        extra["redis_peak"] = int(mem.get("used_memory_peak", "0"))
        extra["redis_rss"] = int(mem.get("used_memory_rss", "0"))
        extra["xlen_checks"] = int(redis_call(redis.sock, "XLEN", "squirrel:checks") or 0)
        extra["xlen_results"] = int(redis_call(redis.sock, "XLEN", "squirrel:results") or 0)
        r.wall, r.cpu, r.rss_kb = p.wall, p.cpu, p.hwm_kb
        with open(err, errors="replace") as f:
            errtext = f.read()
        if p.exitcode != 0:
            r.verdict = "FAILED: %s: %s" % (bench.exit_text(p.exitcode), bench.first_line(errtext))
            return r, extra
        r.exited_ok = True
        r.ok, r.verdict = bench.verify_squirreld(out, urls=sc.urls, down=sc.down)
        return r, extra
    finally:
        for w in workers:
            w.stop()
        redis.stop()


def parse_args(argv):
    p = argparse.ArgumentParser(description="The redis backend with its workers against local libev.")
    p.add_argument("--n", type=int, default=10000, help="sites (default 10000)")
    p.add_argument("--latency", type=int, default=100, help="server answer delay, ms (default 100)")
    p.add_argument("--down-pct", type=int, default=10, help="share of sites answering 503 (default 10)")
    p.add_argument("--local-concurrency", type=int, default=1000, help="local libev --max-concurrent (1000)")
    p.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    p.add_argument("--worker-concurrency", type=int, default=500, help="each worker's --max-concurrent (500)")
    p.add_argument("--window", type=int, default=2000,
                   help="the coordinator's --max-concurrent: checks queued in Redis at once (2000)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each (the median is shown)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld-arg", action="append", default=[], metavar="ARG")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--wrap-coordinator", metavar="CMD",
                   help="run the coordinator under CMD (e.g. 'perf record -o /tmp/c.data')")
    return p.parse_args(argv)


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    return vals[len(vals) // 2] if vals else None


def main(argv):
    a = parse_args(argv)
    if shutil.which("redis-server") is None:
        print("redis_bench: redis-server is not installed (scripts/deps.sh test)", file=sys.stderr)
        return 1
    ctx = bench.Context()
    ctx.squirreld = os.path.join(a.build, "squirreld")
    ctx.squirrelctl = os.path.join(a.build, "squirrelctl")
    ctx.httpd = os.path.join(a.build, "tests", "sq-httpd")
    ctx.extra_args = a.squirreld_arg
    ctx.down_pct = a.down_pct
    ctx.repeat = a.repeat
    ctx.refs = set()
    ctx.timeout_for = lambda ideal: 10 * ideal + 60
    for path in (ctx.squirreld, ctx.httpd):
        if not os.access(path, os.X_OK):
            print("redis_bench: %s is not there: build first (ninja -C %s)" % (path, a.build), file=sys.stderr)
            return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    ctx.tmp = tempfile.mkdtemp(prefix="squirrel-redis-bench-")
    sc = bench.Scenario("redis", a.n, a.latency, {"libev": a.local_concurrency})
    ok = True
    try:
        print("redis benchmark: %d sites, latency %d ms, %d CPUs; local libev x %d vs %d workers x %d "
              "(coordinator window %d)" % (a.n, a.latency, os.cpu_count() or 0, a.local_concurrency,
                                           a.workers, a.worker_concurrency, a.window), flush=True)
        sc.server = bench.Server(ctx, sc.n, sc.latency, ctx.tmp)
        try:
            port = sc.server.wait_ready(60)
            sc.urls, sc.down = bench.make_urls(sc.n, port, ctx.down_pct)
            bench.check_server(sc.urls, sc.down, sc.latency)
            sc.db = os.path.join(ctx.tmp, "sites.db")
            bench.build_db(ctx, sc.db, sc.urls)
            local_runs, redis_runs, extras = [], [], []
            for rep in range(a.repeat):
                # alternate, so that neither side always runs on a warmer machine
                local_runs.append(bench.run_squirreld(ctx, sc, "libev", a.local_concurrency, rep))
                print("  local  run %d: %s" % (rep + 1, bench.describe(local_runs[-1])), flush=True)
                r, extra = run_redis(ctx, sc, a, rep)
                redis_runs.append(r)
                extras.append(extra)
                print("  redis  run %d: %s; workers %.2f s CPU, redis %.2f s CPU, redis memory %.1f MiB"
                      % (rep + 1, bench.describe(r), extra.get("workers_cpu", float("nan")),
                         extra.get("redis_cpu", float("nan")), extra.get("redis_used", 0) / 1048576.0),
                      flush=True)
        finally:
            sc.server.stop()
        local = bench.median_result(local_runs)
        remote = bench.median_result(redis_runs)
        sc.rows = [("libev", a.local_concurrency, local), (remote.name, remote.c, remote)]
        bench.print_table([sc], a.repeat)
        ex = {k: median([e.get(k) for e in extras]) for k in extras[0]} if extras else {}
        print()
        results = []
        if bench.measured(local) and bench.measured(remote):
            ratio = remote.wall / local.wall
            cpu_ms = remote.cpu * 1000.0 / sc.n
            mem = ex.get("redis_used", 0) / 1048576.0
            results = [
                ("wall, redis / local", "%.2f" % ratio, "<= %.1f" % TARGET_WALL_RATIO, ratio <= TARGET_WALL_RATIO),
                ("coordinator CPU per check", "%.4f ms" % cpu_ms, "<= %.2f ms" % TARGET_CPU_MS, cpu_ms <= TARGET_CPU_MS),
                ("Redis used memory after the pass", "%.1f MiB" % mem, "<= %d MiB" % TARGET_MEM_MIB, mem <= TARGET_MEM_MIB),
            ]
            for name, got, want, met in results:
                print("  %-34s %12s  target %-10s %s" % (name, got, want, "met" if met else "MISSED"))
            print("  %-34s %12s" % ("workers' CPU per check", "%.4f ms" % (ex["workers_cpu"] * 1000.0 / sc.n)))
            print("  %-34s %12s" % ("Redis CPU per check", "%.4f ms" % (ex["redis_cpu"] * 1000.0 / sc.n)))
            print("  %-34s %12s" % ("local libev CPU per check", "%.4f ms" % (local.cpu * 1000.0 / sc.n)))
            print("  %-34s %12s" % ("Redis peak memory", "%.1f MiB" % (ex["redis_peak"] / 1048576.0)))
            entries = ex["xlen_checks"] + ex["xlen_results"]
            print("  %-34s %12s" % ("entries left: checks, answers", "%d, %d" % (ex["xlen_checks"], ex["xlen_results"])))
            if entries:
                print("  %-34s %12s" % ("Redis memory per entry", "%.0f bytes" % (
                    (ex["redis_used"] - ex["redis_before"]) / float(entries))))
        ok = local.ok and remote.ok and all(r[3] for r in results) and bool(results)
    finally:
        if a.keep:
            print("temporary files kept in %s" % ctx.tmp)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
