#!/usr/bin/env python3
"""bench.py - how fast squirreld checks many sites, and at what cost.

Starts the test HTTP server (sq-httpd) on N loopback addresses with a fixed
answer latency, builds a sites database of N sites (a known share of them
answering 503), runs `squirreld --once` once per backend, and measures wall
time, CPU time and memory. The same URLs are then checked by two references
at the same concurrency: minloop (bench/minloop.c, the least a libcurl multi
loop can do) and curl --parallel. Prints a table and the ratios.

Standard library only. See bench/README.md for the columns and the presets.
"""

import argparse
import http.client
import math
import os
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BACKENDS = ("serial", "threads", "prefork", "libev")
DEFAULT_BACKENDS = "threads,prefork,libev"
LISTEN = "127.1.0.1"
CURL_PER_PROCESS = 250       # curl's --parallel-max stops at 300
PROBE_TIMEOUT_MS = 10000     # the references' per-transfer timeout

# name: (sites, latency ms, {backend: concurrency}); all runs them in order.
PRESETS = {
    "big": (10000, 100, {"libev": 1000}),
    "libev-small": (2000, 100, {"libev": 256}),
    "threads": (2000, 100, {"threads": 128}),
    "prefork": (2000, 100, {"prefork": 64}),
    "serial": (100, 100, {"serial": 1}),
}
PRESET_ORDER = ("big", "libev-small", "threads", "prefork", "serial")

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Skip(Exception):
    """A run that cannot happen here; the row says why."""


# ---------------------------------------------------------------- processes

def child_env():
    """The environment for every child: no proxy may sit between client and server."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


class Proc:
    """A child in a process group of its own, reaped by a thread with wait4
    so that its end time and resource usage are exact."""

    def __init__(self, argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        self.argv = [str(a) for a in argv]
        self.t0 = time.monotonic()
        try:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=stdout,
                                          stderr=stderr, env=child_env(), start_new_session=True)
        except OSError as e:
            raise RuntimeError("cannot start %s: %s" % (self.argv[0], e.strerror or e))
        self.pid = self.popen.pid
        self.t1 = None
        self.exitcode = None
        self.rusage = None
        self.hwm_kb = None
        self._reaper = threading.Thread(target=self._reap, daemon=True)
        self._reaper.start()

    def _reap(self):
        _, status, ru = os.wait4(self.pid, 0)
        self.t1 = time.monotonic()
        self.rusage = ru
        self.exitcode = os.waitstatus_to_exitcode(status)
        self.popen.returncode = self.exitcode  # so Popen never waits on it again

    def sample_hwm(self):
        """Notes the process's peak RSS so far (VmHWM). The ru_maxrss that
        wait4 returns cannot serve: a child inherits, across exec, the peak
        RSS of the process that forked it, here the benchmark itself."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        kb = int(line.split()[1])
                        self.hwm_kb = max(self.hwm_kb or 0, kb)
                        break
        except (OSError, ValueError):
            pass

    def done(self):
        return self.t1 is not None

    def join(self, timeout):
        self._reaper.join(max(0.0, timeout))
        return self.done()

    @property
    def wall(self):
        return self.t1 - self.t0

    @property
    def cpu(self):
        """User + system seconds of the process and the children it waited for."""
        return self.rusage.ru_utime + self.rusage.ru_stime

    def stop(self, grace=5.0):
        """Ends the process (SIGTERM, then SIGKILL) and whatever is left in its group."""
        if not self.done():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if not self.join(grace):
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.join(grace)
        try:  # workers that outlived their parent are still in its group
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_quick(argv, timeout, stdin=None, what=None):
    """Runs a short helper command with a bound; raises RuntimeError on failure."""
    try:
        r = subprocess.run([str(a) for a in argv], stdin=stdin or subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout, env=child_env())
    except subprocess.TimeoutExpired:
        raise RuntimeError("%s: no end after %d s" % (what or argv[0], timeout))
    except OSError as e:
        raise RuntimeError("%s: cannot start %s: %s" % (what or argv[0], argv[0], e.strerror or e))
    if r.returncode != 0:
        raise RuntimeError("%s: %s: %s" % (what or argv[0], exit_text(r.returncode),
                                           first_line(r.stderr) or first_line(r.stdout)))
    return r


def exit_text(code):
    """'exit 3', or 'killed by SIGSEGV' for a negative (signal) exit code."""
    if code >= 0:
        return "exit %d" % code
    try:
        return "killed by %s" % signal.Signals(-code).name
    except ValueError:
        return "killed by signal %d" % -code


def first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def proc_children():
    """{ppid: [pid, ...]} for every process, from /proc/*/stat."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(name))
    return children


def tree_pss_kb(root):
    """Summed PSS (kB) of root and all its descendants, from smaps_rollup."""
    children = proc_children()
    pids, i = [root], 0
    while i < len(pids):
        pids.extend(children.get(pids[i], ()))
        i += 1
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            pass
    return total


def proc_cpu(pid):
    """User + system seconds used so far by a live process (not yet waited for)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return float("nan")
    fields = data[data.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_all(procs, timeout, pss_of=None):
    """Waits for every proc, at most timeout seconds, reading each one's peak
    RSS every 100 ms (more often in the first 100 ms), and the summed PSS of
    pss_of's process tree when given.
    Returns the peak PSS (kB) or None. On timeout stops them all and raises."""
    deadline = time.monotonic() + timeout
    peak_pss = None
    step = 0.005
    while True:
        running = [p for p in procs if not p.done()]
        for p in running:
            p.sample_hwm()
        if pss_of is not None and not pss_of.done():
            peak_pss = max(peak_pss or 0, tree_pss_kb(pss_of.pid))
        if not running:
            return peak_pss
        left = deadline - time.monotonic()
        if left <= 0:
            for p in procs:
                p.stop()
            raise RuntimeError("no end after %d s" % timeout)
        # Short runs would otherwise end before the first sample after start.
        step = min(0.1, step * 2)
        running[0].join(min(step, left))


# ---------------------------------------------------------------- the sites

def addresses(first, n):
    """n IPv4 addresses from first upwards, skipping .0 and .255 (as sq-httpd does)."""
    a = 0
    for part in first.split("."):
        a = (a << 8) | int(part)
    out = []
    while len(out) < n:
        if a & 0xFF not in (0, 0xFF):
            out.append("%d.%d.%d.%d" % (a >> 24, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFF))
        a += 1
    return out


def is_down(i, pct):
    """Site i answers 503: exactly pct % of the sites, evenly spread (for 10: i = 9, 19, ...)."""
    return (i + 1) * pct // 100 > i * pct // 100


def make_urls(n, port, down_pct, hosts=None):
    """The n site URLs (on the server's addresses, or on the given host
    names) and the set of those that answer 503."""
    urls, down = [], set()
    for i, addr in enumerate(hosts if hosts is not None else addresses(LISTEN, n)):
        status = 503 if is_down(i, down_pct) else 200
        url = "http://%s:%d/?status=%d" % (addr, port, status)
        urls.append(url)
        if status != 200:
            down.add(url)
    return urls, down


def sql_quote(s):
    return "'" + s.replace("'", "''") + "'"


def build_db(ctx, path, urls):
    """Creates the schema with squirrelctl init (or squirreld --once on the
    empty file), then inserts the sites with the sqlite3 command line."""
    if not os.path.exists(ctx.squirreld):
        raise Skip("%s not found" % ctx.squirreld)
    if shutil.which("sqlite3") is None:
        raise Skip("the sqlite3 command line is not installed")
    open(path, "wb").close()
    if os.path.exists(ctx.squirrelctl):
        run_quick([ctx.squirrelctl, "init", "--db", path], 60, what="squirrelctl init")
    else:
        # The default backend may be one this build leaves out: then any built one will do.
        first_error = None
        for extra in [[]] + [["--backend", b] for b in BACKENDS]:
            try:
                run_quick([ctx.squirreld, "--once", "--db", path] + extra + ctx.extra_args, 60,
                          what="squirreld --once on an empty database")
                break
            except RuntimeError as e:
                first_error = first_error or e
        else:
            raise first_error
    script = path + ".sql"
    with open(script, "w") as f:
        f.write("BEGIN;\n")
        for url in urls:
            f.write("INSERT INTO sites(url, owner_email) VALUES (%s, 'bench@example.org');\n"
                    % sql_quote(url))
        f.write("COMMIT;\n")
    with open(script) as f:
        run_quick(["sqlite3", "-bail", path], 120, stdin=f, what="sqlite3 (inserting sites)")
    got = run_quick(["sqlite3", path, "SELECT count(*) FROM sites;"], 60, what="sqlite3").stdout.strip()
    if got != str(len(urls)):
        raise RuntimeError("the database holds %s sites, not %d" % (got, len(urls)))


# ---------------------------------------------------------------- the server

class Server:
    def __init__(self, ctx, n, latency, tmp, extra=()):
        self.port_file = os.path.join(tmp, "httpd.port")
        self.log = os.path.join(tmp, "httpd.stderr")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        argv = [ctx.httpd, "--count", n, "--listen", LISTEN, "--latency", latency,
                "--port", 0, "--port-file", self.port_file] + list(extra)
        with open(self.log, "w") as err:
            self.proc = Proc(argv, stderr=err)
        self.port = None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.done():
                raise RuntimeError("sq-httpd exited (%s): %s"
                                   % (self.proc.exitcode, first_line(open(self.log).read())))
            try:
                with open(self.port_file) as f:
                    text = f.read()
                port = int(text.split()[0])
                if 0 < port < 65536:
                    self.port = port
                    return port
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.05)
        raise RuntimeError("sq-httpd wrote no port file within %d s" % timeout)

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def stop(self):
        self.proc.stop()


def head_status(url, timeout):
    """The status of one HEAD request, with the standard library (no proxy)."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("HEAD", "/" + path)
        return conn.getresponse().status
    finally:
        conn.close()


def check_server(urls, down, latency):
    """Asks the first and last site of each kind, so that a server listening
    elsewhere than the URLs say fails here and not as thousands of errors."""
    wanted = [urls[0], urls[-1]] + sorted(down)[:1]
    for url in wanted:
        try:
            got = head_status(url, 5 + latency / 1000.0)
        except OSError as e:
            raise RuntimeError("sq-httpd does not answer %s: %s" % (url, e))
        want = 503 if url in down else 200
        if got != want:
            raise RuntimeError("sq-httpd answered %d, not %d, to %s" % (got, want, url))


# ---------------------------------------------------------------- the runs

class Result:
    """One measured run. Numbers are None when not measured."""

    def __init__(self, name, c, n, ideal):
        self.name, self.c, self.n, self.ideal = name, c, n, ideal
        self.wall = self.cpu = self.rss_kb = self.pss_kb = self.srv_cpu = None
        self.verdict = ""
        self.exited_ok = False   # the process ran to its end with exit 0
        self.ok = False          # ... and reported exactly the expected sites


def squirreld_argv(ctx, db, backend, c, binary=None):
    argv = [binary or ctx.squirreld, "--once", "--db", db, "--backend", backend]
    if backend in ("threads", "prefork"):
        argv += ["--workers", c]
    elif backend == "libev":
        argv += ["--max-concurrent", c]
    return argv + ctx.extra_args


def verify_lines(lines, urls, down):
    """Compares what a run reported, as (url, is_down, note) triples, with the
    sites built. Returns (ok, text)."""
    wanted = set(urls)
    seen, dups, strangers = {}, 0, 0
    for url, is_dn, note in lines:
        if url not in wanted:
            strangers += 1
        elif url in seen:
            dups += 1
        else:
            seen[url] = (is_dn, note)
    missing = len(wanted) - len(seen)
    false_down = [(u, seen[u][1]) for u in urls if u in seen and seen[u][0] and u not in down]
    false_up = [u for u in urls if u in seen and not seen[u][0] and u in down]
    problems = []
    if missing:
        problems.append("%d sites not reported" % missing)
    if dups:
        problems.append("%d reported twice" % dups)
    if strangers:
        problems.append("%d unknown urls" % strangers)
    if false_down:
        u, note = false_down[0]
        problems.append("%d down that should be up (e.g. %s%s)"
                        % (len(false_down), u, ": " + note if note else ""))
    if false_up:
        problems.append("%d up that should be down (e.g. %s)" % (len(false_up), false_up[0]))
    return (not problems, "OK" if not problems else "; ".join(problems))


def verify_squirreld(out_path, urls, down):
    lines, bad = [], 0
    with open(out_path, errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5 or parts[1] not in ("up", "down"):
                bad += 1
                continue
            note = (parts[5] if len(parts) > 5 else "") or ("HTTP " + parts[2])
            lines.append((parts[4], parts[1] == "down", note))
    ok, text = verify_lines(lines, urls, down)
    if bad:
        ok, text = False, "%d lines unreadable; %s" % (bad, text)
    return ok, text


def run_squirreld(ctx, sc, backend, c, rep, binary=None, label=None):
    db = os.path.join(ctx.tmp, "run.db")
    for suffix in ("", "-wal", "-shm"):  # every run starts from the same database
        if os.path.exists(sc.db + suffix):
            shutil.copyfile(sc.db + suffix, db + suffix)
        elif os.path.exists(db + suffix):
            os.unlink(db + suffix)
    tag = backend if binary is None else backend + "-baseline"
    out = os.path.join(ctx.tmp, "%s-%d.out" % (tag, rep))
    err = os.path.join(ctx.tmp, "%s-%d.err" % (tag, rep))
    r = Result(label or backend, c, sc.n, sc.ideal(c))
    srv0 = sc.server.cpu()
    with open(out, "w") as fo, open(err, "w") as fe:
        p = Proc(squirreld_argv(ctx, db, backend, c, binary), stdout=fo, stderr=fe)
    try:
        r.pss_kb = wait_all([p], ctx.timeout_for(r.ideal), pss_of=p if backend == "prefork" else None)
    finally:
        p.stop()
    r.srv_cpu = sc.server.cpu() - srv0
    with open(err, errors="replace") as f:
        why = first_line(f.read())
    if p.exitcode == 2:
        raise Skip(why or "squirreld exit 2")
    r.wall, r.cpu, r.rss_kb = p.wall, p.cpu, p.hwm_kb
    if p.exitcode != 0:
        r.verdict = "FAILED: %s%s" % (exit_text(p.exitcode), ": " + why if why else "")
        return r
    r.exited_ok = True
    r.ok, r.verdict = verify_squirreld(out, urls=sc.urls, down=sc.down)
    return r


def run_minloop(ctx, sc, c, rep):
    if ctx.minloop is None:
        raise Skip(ctx.minloop_why)
    out = os.path.join(ctx.tmp, "minloop-%d-%d.out" % (c, rep))
    err = os.path.join(ctx.tmp, "minloop-%d-%d.err" % (c, rep))
    r = Result("minloop", c, sc.n, sc.ideal(c))
    srv0 = sc.server.cpu()
    with open(out, "w") as fo, open(err, "w") as fe:
        p = Proc(list(ctx.ref_wrapper) + [ctx.minloop, "-c", c, "-t", PROBE_TIMEOUT_MS, sc.url_file],
                 stdout=fo, stderr=fe)
    try:
        wait_all([p], ctx.timeout_for(r.ideal))
    finally:
        p.stop()
    r.srv_cpu = sc.server.cpu() - srv0
    r.wall, r.cpu, r.rss_kb = p.wall, p.cpu, p.hwm_kb
    counts = {}
    with open(out) as f:
        for word in f.read().split():
            k, _, v = word.partition("=")
            if v.isdigit():
                counts[k] = int(v)
    if p.exitcode != 0 or "transfers" not in counts:
        with open(err, errors="replace") as f:
            r.verdict = "FAILED: %s: %s" % (exit_text(p.exitcode), first_line(f.read()))
        return r
    r.exited_ok = True
    want = (sc.n, len(sc.down), 0)
    got = (counts["transfers"], counts.get("http_errors", -1), counts.get("failed", -1))
    r.ok = got == want
    r.verdict = "OK" if r.ok else ("%d transfers, %d answered >= 400 (want %d), %d failed"
                                   % (got[0], got[1], want[1], got[2]))
    return r


def run_curl(ctx, sc, c, rep):
    curl = shutil.which("curl")
    if curl is None:
        raise Skip("curl is not installed")
    procs_n = max(1, math.ceil(c / CURL_PER_PROCESS))
    per = math.ceil(c / procs_n)
    name = "curl" if procs_n == 1 else "curl %dx%d" % (procs_n, per)
    r = Result(name, c, sc.n, sc.ideal(c))
    procs, outs, errs = [], [], []
    chunk = math.ceil(sc.n / procs_n)
    srv0 = sc.server.cpu()
    try:
        configs = []
        for k in range(procs_n):
            cfg = os.path.join(ctx.tmp, "curl-%d-%d.conf" % (c, k))
            with open(cfg, "w") as f:
                for url in sc.urls[k * chunk:(k + 1) * chunk]:
                    f.write('url = "%s"\noutput = "/dev/null"\n' % url)
            configs.append(cfg)
        for k, cfg in enumerate(configs):
            outs.append(os.path.join(ctx.tmp, "curl-%d-%d-%d.out" % (c, rep, k)))
            errs.append(os.path.join(ctx.tmp, "curl-%d-%d-%d.err" % (c, rep, k)))
            argv = list(ctx.ref_wrapper) + [
                curl, "-q", "--config", cfg, "--parallel", "--parallel-max", per,
                "-s", "-I", "-g", "--connect-timeout", PROBE_TIMEOUT_MS / 1000,
                "--max-time", PROBE_TIMEOUT_MS / 1000,
                "-w", "%{http_code} %{url_effective}\\n"]
            with open(outs[-1], "w") as fo, open(errs[-1], "w") as fe:
                procs.append(Proc(argv, stdout=fo, stderr=fe))
        wait_all(procs, ctx.timeout_for(r.ideal))
    finally:
        for p in procs:
            p.stop()
    r.srv_cpu = sc.server.cpu() - srv0
    r.wall = max(p.t1 for p in procs) - min(p.t0 for p in procs)
    r.cpu = sum(p.cpu for p in procs)
    r.rss_kb = max((p.hwm_kb or 0 for p in procs), default=None) or None
    lines = []
    for out in outs:
        with open(out, errors="replace") as f:
            for line in f:
                code, _, url = line.strip().partition(" ")
                if code.isdigit():
                    n = int(code)
                    lines.append((url, n == 0 or n >= 400, "failed" if n == 0 else "HTTP %d" % n))
    r.ok, r.verdict = verify_lines(lines, sc.urls, sc.down)
    # curl exits non-zero when a transfer failed; that is judged by the lines.
    r.exited_ok = all(p.exitcode >= 0 for p in procs)
    bad_exit = [p.exitcode for p in procs if p.exitcode != 0]
    if bad_exit and not r.ok:
        r.verdict = "%s; %s" % (exit_text(bad_exit[0]), r.verdict)
    return r


def median_result(results):
    """One row from K runs: each column is the median of that column over the runs."""
    if len(results) == 1:
        return results[0]
    r0 = results[0]
    m = Result(r0.name, r0.c, r0.n, r0.ideal)

    def med(attr):
        vals = [getattr(r, attr) for r in results if getattr(r, attr) is not None]
        return statistics.median(vals) if vals else None
    for attr in ("wall", "cpu", "rss_kb", "pss_kb", "srv_cpu"):
        setattr(m, attr, med(attr))
    m.ok = all(r.ok for r in results)
    m.exited_ok = all(r.exited_ok for r in results)
    m.verdict = "OK" if m.ok else next(r.verdict for r in results if not r.ok)
    return m


def measure_rounds(jobs, repeat):
    """Runs every job once per round, round after round (A B C A B C ...),
    so that a change in the machine's speed touches every row alike.
    jobs: [(label, fn)]; returns {label: the median row, or the Skip}."""
    results = {label: [] for label, _ in jobs}
    final = {}
    for rep in range(repeat):
        for label, fn in jobs:
            if label in final:
                continue
            try:
                results[label].append(fn(rep))
            except Skip as e:
                final[label] = e
                continue
            except RuntimeError as e:  # a run that hung or broke: the row says so
                failed = Result(label, None, None, None)
                failed.verdict = "FAILED: %s" % e
                print("  %-20s run %d/%d: %s" % (label, rep + 1, repeat, failed.verdict), flush=True)
                final[label] = failed
                continue
            print("  %-20s run %d/%d: %s" % (label, rep + 1, repeat, describe(results[label][-1])),
                  flush=True)
    for label, _ in jobs:
        if label not in final:
            final[label] = median_result(results[label])
    return final


def describe(r):
    cpu = "%.2f s CPU" % r.cpu if r.cpu is not None else "-"
    wall = "%.3f s" % r.wall if r.wall is not None else "-"
    return "%s wall, %s, %s" % (wall, cpu, r.verdict)


# ---------------------------------------------------------------- one scenario

class Scenario:
    def __init__(self, name, n, latency, runs):
        self.name, self.n, self.latency, self.runs = name, n, latency, runs
        self.rows = []            # (label, c, Result, or the Skip that says why not)
        self.comparisons = []     # text lines

    def ideal(self, c):
        return math.ceil(self.n / c) * self.latency / 1000.0


def run_scenario(ctx, sc):
    n_down = sum(1 for i in range(sc.n) if is_down(i, ctx.down_pct))
    print("\n== %s: %d sites (%d answer 503), latency %d ms, %s"
          % (sc.name, sc.n, n_down, sc.latency,
             ", ".join("%s C=%d" % (b, c) for b, c in sc.runs.items())), flush=True)
    need = sc.n + max(sc.runs.values()) + 64
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        print("  warning: open files limit %d is below the %d the server needs" % (soft, need))

    sc.server = Server(ctx, sc.n, sc.latency, ctx.tmp)
    try:
        port = sc.server.wait_ready(60)
        sc.urls, sc.down = make_urls(sc.n, port, ctx.down_pct)
        print("  sq-httpd pid %d, port %d, addresses %s .. %s"
              % (sc.server.proc.pid, port, LISTEN, addresses(LISTEN, sc.n)[-1]), flush=True)
        check_server(sc.urls, sc.down, sc.latency)
        sc.url_file = os.path.join(ctx.tmp, "urls-%s.txt" % sc.name)
        with open(sc.url_file, "w") as f:
            f.write("\n".join(sc.urls) + "\n")

        sc.db = os.path.join(ctx.tmp, "sites-%s.db" % sc.name)
        db_error = None
        try:
            build_db(ctx, sc.db, sc.urls)
        except Skip as e:             # no squirreld, no sqlite3: nothing to measure
            db_error = e
        except RuntimeError as e:     # they are there but the database could not be made
            db_error = Result("squirreld", None, sc.n, None)
            db_error.verdict = "FAILED: %s" % e

        jobs, rows = [], []
        for backend, c in sc.runs.items():
            rows.append((backend, backend, c))
            if not db_error:
                jobs.append((backend, lambda rep, b=backend, cc=c: run_squirreld(ctx, sc, b, cc, rep)))
            if ctx.baseline:
                label = "%s (baseline)" % backend
                rows.append((label, label, c))
                if not db_error:
                    jobs.append((label, lambda rep, b=backend, cc=c, lb=label:
                                 run_squirreld(ctx, sc, b, cc, rep, binary=ctx.baseline, label=lb)))
        refs = {}
        for c in sorted(set(sc.runs.values())):
            for ref, fn in (("minloop", run_minloop), ("curl", run_curl)):
                if ref not in ctx.refs:
                    continue
                label = "%s C=%d" % (ref, c)
                rows.append((label, ref, c))
                jobs.append((label, lambda rep, f=fn, cc=c: f(ctx, sc, cc, rep)))
        got = measure_rounds(jobs, ctx.repeat)
        for label, kind, c in rows:
            row = got[label] if label in got else db_error
            if kind in ("minloop", "curl"):
                refs[(kind, c)] = row
                kind = row.name if isinstance(row, Result) else kind
            sc.rows.append((kind, c, row))
    finally:
        sc.server.stop()
        print("  sq-httpd stopped (exit %s)" % sc.server.proc.exitcode, flush=True)

    mine = {backend: row for backend, c, row in sc.rows}
    for backend, c, row in sc.rows:
        if (backend not in sc.runs and not backend.endswith("(baseline)")) or not measured(row):
            continue
        others = [refs[(ref, c)] for ref in ("minloop", "curl") if measured(refs.get((ref, c)))]
        base = mine.get("%s (baseline)" % backend)
        if measured(base):
            others.append(base)
        if others:
            sc.comparisons.append("%s (C=%d): CPU per check %s; wall %s" % (
                backend, c,
                ", ".join("%s %s" % (ratio(row.cpu, o.cpu), o.name) for o in others),
                ", ".join("%s %s" % (ratio(row.wall, o.wall), o.name) for o in others)))


def measured(row):
    """A row whose figures mean something: the run went to its end."""
    return isinstance(row, Result) and row.exited_ok and row.wall is not None and row.cpu is not None


def ratio(a, b):
    # Same N on both sides, so a ratio of totals is the ratio per check.
    if not b:
        return "n/a"
    return "%.2fx" % (a / b)


# ---------------------------------------------------------------- the report

COLUMNS = ("run", "C", "N", "wall s", "ideal s", "wall/ideal", "checks/s", "CPU s",
           "CPU ms/check", "peakRSS MB", "PSS(all) MB", "srv CPU s", "result")


def row_cells(label, c, n, row, ideal):
    if not isinstance(row, Result):
        return [label, str(c), str(n)] + ["-"] * (len(COLUMNS) - 4) + ["skipped: %s" % row]
    f = lambda v, fmt: fmt % v if v is not None else "-"
    return [label, str(c), str(n), f(row.wall, "%.3f"), f(ideal, "%.3f"),
            f(row.wall / ideal if row.wall is not None and ideal else None, "%.2f"),
            f(n / row.wall if row.wall else None, "%.0f"),
            f(row.cpu, "%.2f"), f(row.cpu * 1000.0 / n if row.cpu is not None else None, "%.3f"),
            f(row.rss_kb / 1024.0 if row.rss_kb is not None else None, "%.1f"),
            f(row.pss_kb / 1024.0 if row.pss_kb is not None else None, "%.1f"),
            f(row.srv_cpu, "%.2f"), row.verdict]


def print_table(scenarios, repeat):
    table = [list(COLUMNS)]
    for sc in scenarios:
        for label, c, row in sc.rows:
            table.append(row_cells(("%s: " % sc.name if len(scenarios) > 1 else "") + label,
                                   c, sc.n, row, sc.ideal(c) if isinstance(c, int) else None))
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS) - 1)]
    print()
    for r in table:
        cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(widths))]
        print("  ".join(cells + [r[-1]]).rstrip())
    if repeat > 1:
        print("(each column: the median of %d runs)" % repeat)
    lines = [line for sc in scenarios for line in
             (("%s: " % sc.name if len(scenarios) > 1 else "") + c for c in sc.comparisons)]
    if lines:
        print("\nsquirrel against the references (same URLs, same concurrency; "
              "above 1 means squirrel used more):")
        for line in lines:
            print("  " + line)
    sys.stdout.flush()


# ---------------------------------------------------------------- setup

class Context:
    ref_wrapper = ()   # argv put before a reference's own, e.g. to run it in a namespace
    baseline = None    # a second squirreld measured beside the first


def compile_minloop(ctx):
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minloop.c")
    out = os.path.join(ctx.tmp, "minloop")
    cc = os.environ.get("CC", "cc")
    try:
        flags = run_quick(["pkg-config", "--cflags", "--libs", "libcurl"], 30, what="pkg-config libcurl").stdout
        run_quick([cc, "-O2", src, "-o", out] + shlex.split(flags), 120, what="compiling minloop.c")
    except (RuntimeError, OSError) as e:
        return None, str(e)
    return out, None


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Measures squirreld --once per backend against minloop and curl --parallel.",
        epilog="presets: " + "; ".join(
            "%s: N=%d L=%d %s" % (k, v[0], v[1], " ".join("%s=%d" % bc for bc in v[2].items()))
            for k, v in PRESETS.items()) + "; all: each in turn. "
        "Options given with a preset override its values.")
    p.add_argument("--preset", choices=list(PRESETS) + ["all"])
    p.add_argument("--n", type=int, help="sites (default 10000)")
    p.add_argument("--latency", type=int, help="server answer delay, ms (default 100)")
    p.add_argument("--down-pct", type=int, default=10,
                   help="share of sites answering 503, evenly spread by index (default 10)")
    p.add_argument("--backends", help="comma-separated, from %s (default %s)"
                   % (",".join(BACKENDS), DEFAULT_BACKENDS))
    p.add_argument("--concurrency", type=int, help="libev --max-concurrent (default 1000)")
    p.add_argument("--workers", type=int, help="threads and prefork --workers (default 128)")
    p.add_argument("--set", action="append", default=[], metavar="BACKEND=C",
                   help="concurrency of one backend, e.g. --set prefork=64 (repeatable)")
    p.add_argument("--refs", default="minloop,curl",
                   help="references to run at each concurrency: minloop,curl or none")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs of each row; the table shows the median of each column (default 1)")
    p.add_argument("--timeout", type=float,
                   help="seconds one run may take (default 10 x ideal + 60)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--httpd", help="path of sq-httpd (default BUILD/tests/sq-httpd)")
    p.add_argument("--squirreld-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for every squirreld run (repeatable)")
    p.add_argument("--baseline", metavar="PATH",
                   help="a second squirreld (e.g. a build of the previous tree): every backend "
                        "row runs with it too, in the same rounds")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    a = p.parse_args(argv)
    if a.repeat < 1:
        p.error("--repeat must be at least 1")
    if not 0 <= a.down_pct <= 100:
        p.error("--down-pct must be 0..100")
    for opt in ("n", "latency", "concurrency", "workers"):
        v = getattr(a, opt)
        if v is not None and v < (0 if opt == "latency" else 1):
            p.error("--%s is out of range" % opt)
    a.set_c = {}
    for item in a.set:
        b, _, v = item.partition("=")
        if b not in BACKENDS or not v.isdigit() or int(v) < 1:
            p.error("--set wants BACKEND=C with BACKEND one of %s, not %r" % (", ".join(BACKENDS), item))
        a.set_c[b] = int(v)
    if a.backends is not None:
        a.backend_list = [b.strip() for b in a.backends.split(",") if b.strip()]
        for b in a.backend_list:
            if b not in BACKENDS:
                p.error("unknown backend %r (known: %s)" % (b, ", ".join(BACKENDS)))
    a.refs = set() if a.refs == "none" else {r.strip() for r in a.refs.split(",") if r.strip()}
    if not a.refs <= {"minloop", "curl"}:
        p.error("--refs takes minloop, curl or none")
    return a


def concurrency(a, backend, preset_runs):
    if backend == "serial":
        return 1
    if backend in a.set_c:
        return a.set_c[backend]
    explicit = a.concurrency if backend == "libev" else a.workers
    if explicit is not None:
        return explicit
    if backend in preset_runs:
        return preset_runs[backend]
    return 1000 if backend == "libev" else 128


def scenarios_from(a):
    names = PRESET_ORDER if a.preset == "all" else [a.preset] if a.preset else [None]
    out = []
    for name in names:
        n, latency, runs = PRESETS[name] if name else (10000, 100, {})
        backends = a.backend_list if a.backends is not None else \
            list(runs) if name else DEFAULT_BACKENDS.split(",")
        out.append(Scenario(name or "custom", a.n if a.n is not None else n,
                            a.latency if a.latency is not None else latency,
                            {b: concurrency(a, b, runs) for b in backends}))
    return out


def main(argv):
    a = parse_args(argv)
    ctx = Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.httpd = a.httpd or os.path.join(a.build, "tests", "sq-httpd")
    ctx.extra_args = a.squirreld_arg
    ctx.baseline = a.baseline
    if ctx.baseline and not os.access(ctx.baseline, os.X_OK):
        print("bench: the baseline %s is not there" % ctx.baseline, file=sys.stderr)
        return 1
    ctx.down_pct = a.down_pct
    ctx.repeat = a.repeat
    ctx.refs = a.refs
    ctx.timeout_for = (lambda ideal: a.timeout) if a.timeout else (lambda ideal: 10 * ideal + 60)
    if not os.access(ctx.httpd, os.X_OK):
        print("bench: the test server %s is not there: build it first (ninja -C %s)"
              % (ctx.httpd, a.build), file=sys.stderr)
        return 1

    # Many sites means many sockets, in the server and in the client.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # A SIGTERM to the benchmark still runs the finally blocks that stop its children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    scenarios = scenarios_from(a)
    ctx.tmp = tempfile.mkdtemp(prefix="squirrel-bench-")
    done = []
    try:
        ctx.minloop, ctx.minloop_why = compile_minloop(ctx) if "minloop" in ctx.refs else (None, "not asked")
        if ctx.minloop is None and "minloop" in ctx.refs:
            print("bench: minloop not built: %s" % ctx.minloop_why, file=sys.stderr)
        print("squirrel benchmark: squirreld %s, sq-httpd %s, open files limit %d, %d CPUs"
              % (ctx.squirreld, ctx.httpd, resource.getrlimit(resource.RLIMIT_NOFILE)[0],
                 os.cpu_count() or 0), flush=True)
        for sc in scenarios:
            try:
                run_scenario(ctx, sc)
            except RuntimeError as e:
                print("  %s: %s" % (sc.name, e), flush=True)
                failed = Result("(all)", None, sc.n, None)
                failed.verdict = "FAILED: %s" % e
                sc.rows.append(("(all)", "-", failed))
            done.append(sc)
            print_table([sc], ctx.repeat)
        if len(done) > 1:
            print("\n== summary")
            print_table(done, ctx.repeat)
    finally:
        if a.keep:
            print("temporary files kept in %s" % ctx.tmp)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    all_ok = all(not isinstance(row, Result) or row.ok for sc in done for _, _, row in sc.rows)
    return 0 if all_ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # the finally blocks have stopped every child
        sys.exit(130)
