"""The prefork backend's promises about its worker processes.

- A worker killed with SIGKILL in the middle of a pass: the pass still ends
  (exit 0), every site has exactly one line, the site that worker was
  checking reads `down` / `worker died`, every other site its own result,
  and the pool is back to its size while the pass runs.
- A worker that stops answering is killed once its check is well past its
  timeout, and the pass ends all the same.
- squirreld killed with SIGKILL: its workers do not outlive it.
- squirreld stopped with SIGTERM in the middle of a pass: it exits 0 and
  leaves no worker behind.

Workers are found as the children of squirreld in /proc; a worker is busy
when it holds a TCP connection to the test server. Every wait is bounded;
everything started is stopped by its PID.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, Httpd, add_sites, check, done, empty_config,  # noqa: E402
                     equal, new_db, parse_once, stop_pid, tmpdir, wait_for)

WORKERS = 6
DELAY_MS = 1500


def children(ppid):
    """{pid: state} of the processes whose parent is ppid, zombies included."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: split after its end
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid:
            kids[int(name)] = fields[0]
    return kids


def live_workers(ppid):
    return sorted(pid for pid, state in children(ppid).items() if state != "Z")


def alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def exists(pid):
    return os.path.exists(f"/proc/{pid}")


def tcp_peers(port):
    """Socket inodes of the established TCP connections to 127.0.0.1:port."""
    inodes = set()
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fl = line.split()
                if fl[2] == want and fl[3] == "01":
                    inodes.add(fl[9])
    except OSError:
        pass
    return inodes


def busy_worker(ppid, port):
    """A worker of ppid with a connection open to the test server, or None."""
    peers = tcp_peers(port)
    for pid in live_workers(ppid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            m = re.fullmatch(r"socket:\[(\d+)\]", link)
            if m and m.group(1) in peers:
                return pid
    return None


class Daemon:
    """squirreld in the background, its output in files."""

    def __init__(self, tmp, tag, *args):
        self.out_path = os.path.join(tmp, f"{tag}.out")
        self.err_path = os.path.join(tmp, f"{tag}.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([SQUIRRELD, *args], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        self.pid = self.proc.pid

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self):
        with open(self.out_path) as f:
            out = f.read()
        with open(self.err_path) as f:
            err = f.read()
        return out, err

    def stop(self):
        stop_pid(self.proc)


def slow_sites(srv, n):
    """(url, expected (state, status, error)): most sites answer after
    DELAY_MS, every 5th of them with a 503; the last few at once (last, so
    that a worker seen busy early in the pass is busy with a slow one)."""
    rows = []
    for i in range(n):
        if i >= n - 3:
            rows.append((srv.url(f"/fast{i}?status=200"), ("up", 200, "")))
        elif i % 5 == 2:
            rows.append((srv.url(f"/slow{i}?status=503&delay={DELAY_MS}"), ("down", 503, "http 503")))
        else:
            rows.append((srv.url(f"/slow{i}?delay={DELAY_MS}"), ("up", 200, "")))
    return rows


def test_worker_killed(tmp):
    db = new_db(tmp, "killed.db")
    with Httpd(tmp) as srv:
        rows = slow_sites(srv, 40)
        ids = add_sites(db, [(url, "ops@example.org", {}) for url, _ in rows])
        d = Daemon(tmp, "killed", "--once", "--config", empty_config(tmp), "--db", db,
                   "--backend", "prefork", "--workers", str(WORKERS))
        try:
            first = wait_for(lambda: len(live_workers(d.pid)) == WORKERS and live_workers(d.pid), 10)
            equal(len(first or []), WORKERS, f"{WORKERS} workers forked")
            victim = wait_for(lambda: busy_worker(d.pid, srv.port), 10)
            check(victim is not None, "a worker is seen checking a site")
            if victim is not None:
                os.kill(victim, signal.SIGKILL)
                check(wait_for(lambda: not exists(victim), 10),
                      f"the killed worker {victim} is reaped")
                back = wait_for(lambda: len(live_workers(d.pid)) == WORKERS and
                                victim not in live_workers(d.pid), 10)
                check(back, f"the pool is back to {WORKERS} workers during the pass",
                      f"workers now: {live_workers(d.pid)}")
                check(d.proc.poll() is None, "the pass was still running when the pool was whole")
            rc = d.wait(60)
        finally:
            d.stop()
        out, err = d.output()
    equal(rc, 0, "the pass ends with exit 0 after a worker was killed")
    res = parse_once(out)
    equal(len(out.splitlines()), len(rows), "one line per site")
    equal(sorted(res), sorted(ids), "every site has its line")
    m = re.search(rf"worker \d+ \(pid {victim}\): its socket closed; site (\d+) reported as "
                  r'"worker died"', err)
    check(m is not None, "the killed worker and its site are named in the log", err)
    killed_site = int(m.group(1)) if m else None
    check(killed_site in res, "the killed worker's site is one of the pass's sites", killed_site)
    died = [site for site, r in res.items() if r[4] == "worker died"]
    equal(died, [killed_site], "only the killed worker's site reads 'worker died'")
    if killed_site in res:
        equal((res[killed_site][0], res[killed_site][1]), ("down", 0), "that site is down, no status")
    wrong = []
    for site_id, (url, want) in zip(ids, rows):
        got = res.get(site_id)
        if site_id != killed_site and (got is None or (got[0], got[1], got[4]) != want):
            wrong.append((site_id, url, got, want))
    check(not wrong, "every other site has its own result", "\n".join(map(str, wrong)))
    check(re.search(r"worker \d+ restarted as pid \d+", err), "the replacement is logged", err)
    check(wait_for(lambda: not any(exists(p) for p in first or []), 10),
          "no worker outlives the pass")


def test_worker_stuck(tmp):
    """A worker that stops answering (SIGSTOP) is killed once its check is
    well past its timeout: the pass still ends."""
    db = new_db(tmp, "stuck.db")
    with Httpd(tmp) as srv:
        rows = [(srv.url(f"/stuck{i}?delay=800"), ("up", 200, "")) for i in range(8)]
        ids = add_sites(db, [(url, "ops@example.org", {"timeout_ms": 1000}) for url, _ in rows])
        d = Daemon(tmp, "stuck", "--once", "--config", empty_config(tmp), "--db", db,
                   "--backend", "prefork", "--workers", "2")
        victim = None
        try:
            victim = wait_for(lambda: busy_worker(d.pid, srv.port), 10)
            check(victim is not None, "stuck: a worker is seen checking a site")
            if victim is not None:
                os.kill(victim, signal.SIGSTOP)
            rc = d.wait(60)
        finally:
            d.stop()
            if victim is not None and exists(victim):
                os.kill(victim, signal.SIGKILL)
        out, err = d.output()
    equal(rc, 0, "stuck: the pass ends with exit 0")
    res = parse_once(out)
    equal(sorted(res), sorted(ids), "stuck: every site has its line")
    died = [site for site, r in res.items() if r[4] == "worker died"]
    equal(len(died), 1, "stuck: the stopped worker's site reads 'worker died'")
    check(f"(pid {victim}): still busy long past the check's timeout" in err,
          "stuck: the stuck worker is named in the log", err)
    check(all(r[0] == "up" for site, r in res.items() if site not in died),
          "stuck: every other site is up", out)


def test_parent_killed(tmp):
    db = new_db(tmp, "orphans.db")
    with Httpd(tmp) as srv:
        add_sites(db, [(url, "ops@example.org", {}) for url, _ in slow_sites(srv, 20)])
        d = Daemon(tmp, "orphans", "--once", "--config", empty_config(tmp), "--db", db,
                   "--backend", "prefork", "--workers", "4")
        workers = []
        try:
            workers = wait_for(lambda: len(live_workers(d.pid)) == 4 and live_workers(d.pid), 10) or []
            equal(len(workers), 4, "4 workers forked")
            check(wait_for(lambda: busy_worker(d.pid, srv.port), 10), "the pass is under way")
            os.kill(d.pid, signal.SIGKILL)
            d.wait(10)
            gone = wait_for(lambda: not any(alive(p) for p in workers), 5)
            check(gone, "the workers die with squirreld", [p for p in workers if alive(p)])
        finally:
            d.stop()
            for pid in workers:  # never leave one behind, even when the test failed
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_sigterm(tmp):
    db = new_db(tmp, "sigterm.db")
    conf = os.path.join(tmp, "sigterm.conf")
    with open(conf, "w") as f:
        f.write("[check]\ninterval = 60\n")
    with Httpd(tmp) as srv:
        rows = slow_sites(srv, 12)
        add_sites(db, [(url, "ops@example.org", {}) for url, _ in rows])
        d = Daemon(tmp, "sigterm", "--config", conf, "--db", db, "--backend", "prefork",
                   "--workers", "4")
        workers = []
        try:
            workers = wait_for(lambda: len(live_workers(d.pid)) == 4 and live_workers(d.pid), 10) or []
            equal(len(workers), 4, "daemon: 4 workers forked")
            check(wait_for(lambda: busy_worker(d.pid, srv.port), 10), "daemon: the pass is under way")
            os.kill(d.pid, signal.SIGTERM)
            rc = d.wait(20)
            equal(rc, 0, "daemon: SIGTERM in the middle of a pass, exit 0")
            check(wait_for(lambda: not any(exists(p) for p in workers), 5),
                  "daemon: no worker left after SIGTERM")
        finally:
            d.stop()
        out, err = d.output()
    check("worker died" not in err and "killed by signal" not in err,
          "daemon: the checks in flight finished, no worker was killed", err)


def main():
    with tmpdir() as tmp:
        test_worker_killed(tmp)
        test_worker_stuck(tmp)
        test_parent_killed(tmp)
        test_sigterm(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
