#!/usr/bin/env python3
"""crash_bench.py - does kill -9 of squirreld lose alerts or send them twice?

Starts a small HTTP server of its own on 127.0.0.1 whose sites /flapN turn
from 200 to 503 and back every few seconds (plus one site always up and one
always down), the test SMTP server (tests/smtpd/smtpd.py) with a delay
before its answer to DATA, and squirreld (libev) over a database of those
sites with short intervals. squirreld is killed with SIGKILL after a random
3 to 8 s, K times over, and restarted each time. Then the sites stop
flapping, squirreld runs once more until its outbox holds no pending alert,
and is stopped with SIGTERM.

Every stored mail names its alerts in X-Squirrel-Alerts. The benchmark
counts the alert ids received more than once (duplicates) and the ids the
outbox marks sent that never arrived (lost), and tells which duplicates
fit the documented at-least-once case: a mail the server took just before
a kill, before squirreld could mark its rows sent.

Reuses bench.py (same directory). Standard library only. See bench/README.md.
"""

import argparse
import email
import email.policy
import http.server
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402

OWNER = "ops@example.org"


# ---------------------------------------------------------------- the sites

class Flapper:
    """The sites' answers: /flapN alternates 200 and 503 every 3 + N % 3
    seconds, /up is always 200, /down always 503. freeze() holds every
    flapping site at 200 from then on, so that the outbox can settle."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.frozen = False
        self.requests = 0

    @staticmethod
    def period(n):
        return 3 + n % 3

    def status(self, path):
        path = path.split("?", 1)[0]
        if path == "/up":
            return 200
        if path == "/down":
            return 503
        if path.startswith("/flap") and path[5:].isdigit():
            if self.frozen:
                return 200
            n = int(path[5:])
            return 200 if int((time.monotonic() - self.t0) / self.period(n)) % 2 == 0 else 503
        return 404


def make_handler(flapper):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, body):
            code = flapper.status(self.path)
            flapper.requests += 1
            data = ("%d\n" % code).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self):
            self.answer(True)

        def do_HEAD(self):
            self.answer(False)

        def log_message(self, *args):
            pass

    return Handler


# ---------------------------------------------------------------- the mail

class Smtpd:
    """tests/smtpd/smtpd.py on a free loopback port, storing every mail."""

    def __init__(self, tmp, delay):
        self.store = os.path.join(tmp, "mail")
        os.mkdir(self.store)
        self.port_file = os.path.join(tmp, "smtpd.port")
        self.log = os.path.join(tmp, "smtpd.log")
        self.err = os.path.join(tmp, "smtpd.stderr")
        script = os.path.join(os.path.dirname(HERE), "tests", "smtpd", "smtpd.py")
        argv = ["/usr/bin/python3", script, "--port-file", self.port_file, "--store", self.store,
                "--log", self.log, "--data-delay", delay]
        with open(self.err, "w") as err:
            self.proc = bench.Proc(argv, stderr=err)
        self.port = None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.done():
                raise RuntimeError("smtpd.py exited (%s): %s" % (bench.exit_text(self.proc.exitcode),
                                   bench.first_line(open(self.err).read())))
            try:
                with open(self.port_file) as f:
                    self.port = int(f.read().split()[0])
                return self.port
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
        raise RuntimeError("smtpd.py wrote no port file within %d s" % timeout)

    def mails(self):
        """[(number, arrival time (unix), [alert id, ...], Message-ID)], in order.
        A mail counts once its .json is there (smtpd.py writes it last)."""
        out = []
        for name in sorted(os.listdir(self.store)):
            if not name.endswith(".json"):
                continue
            stem = name[:-5]
            eml = os.path.join(self.store, stem + ".eml")
            with open(eml, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.compat32)
            ids = []
            for value in msg.get_all("X-Squirrel-Alerts") or []:
                ids.extend(int(t) for t in " ".join(value.split()).split() if t.isdigit())
            out.append((int(stem), os.stat(eml).st_mtime, ids, msg.get("Message-ID", "")))
        return out


# ---------------------------------------------------------------- squirreld

def outbox(db):
    """{id: (kind, status)} of every outbox row."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, kind, status FROM outbox")}
    finally:
        con.close()


def pending(ctx, db):
    """Pending alerts, as squirrelctl outbox --json lists them."""
    r = bench.run_quick([ctx.squirrelctl, "outbox", "--json", "--db", db], 30, what="squirrelctl outbox")
    return [row for row in json.loads(r.stdout or "[]") if row.get("status") == "pending"]


def start_daemon(ctx, cfg, db, tmp, run):
    err = open(os.path.join(tmp, "squirreld.%02d.stderr" % run), "w")
    try:
        return bench.Proc([ctx.squirreld, "--config", cfg, "--db", db, "--backend", "libev"]
                          + ctx.extra_args, stderr=err)
    finally:
        err.close()


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Kills squirreld with SIGKILL K times under flapping sites and a slow SMTP "
                    "server, then counts the alerts mailed twice and the ones lost.")
    p.add_argument("--kills", type=int, default=20, help="kill -9 rounds (default 20)")
    p.add_argument("--seed", type=int, help="seed of the run lengths (default: from the clock)")
    p.add_argument("--min-run", type=float, default=3, help="shortest run before a kill, s (default 3)")
    p.add_argument("--max-run", type=float, default=8, help="longest run before a kill, s (default 8)")
    p.add_argument("--flapping", type=int, default=6, help="flapping sites (default 6)")
    p.add_argument("--data-delay", type=float, default=1,
                   help="the SMTP server's delay after DATA, s (default 1)")
    p.add_argument("--fail-threshold", type=int, default=1, help="[check] fail_threshold (default 1)")
    p.add_argument("--drain", type=float, default=60,
                   help="most seconds the last run may take to empty the outbox (default 60)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--squirreld-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for squirreld (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    a = p.parse_args(argv)
    if a.kills < 0 or a.flapping < 1 or a.min_run <= 0 or a.max_run < a.min_run \
            or a.data_delay < 0 or a.fail_threshold < 1 or a.drain <= 0:
        p.error("--kills must be at least 0, --flapping and --fail-threshold at least 1, "
                "--min-run above 0 and at most --max-run, --data-delay at least 0, --drain above 0")
    if a.seed is None:
        a.seed = int(time.time() * 1000) % 1000000
    return a


def write_config(path, a, smtp_port):
    with open(path, "w") as f:
        f.write("[squirreld]\nbackend = libev\n"
                "[check]\ninterval = 2\nretry_interval = 1\nfail_threshold = %d\n"
                "recover_threshold = 1\ntimeout = 3000\n"
                "[smtp]\nhost = 127.0.0.1\nport = %d\ntimeout = 10000\n" % (a.fail_threshold, smtp_port))


def settle_mail(smtpd, seconds):
    """Waits until the store stops growing for a second (bounded)."""
    deadline = time.monotonic() + seconds
    last = -1
    while time.monotonic() < deadline:
        n = len(os.listdir(smtpd.store))
        if n == last:
            return
        last = n
        time.sleep(1)


def main(argv):
    a = parse_args(argv)
    ctx = bench.Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.extra_args = a.squirreld_arg
    for path in (ctx.squirreld, ctx.squirrelctl):
        if not os.access(path, os.X_OK):
            print("crash_bench: %s not found or not executable (--build)" % path, file=sys.stderr)
            return 2
    rng = random.Random(a.seed)
    print("seed %d (rerun with --seed %d)" % (a.seed, a.seed))
    tmp = tempfile.mkdtemp(prefix="sq-crash-")
    ctx.tmp = tmp
    httpd = smtpd = daemon = None
    kills = []          # (unix time of the kill, run length)
    early = []          # runs that ended before their kill
    ok = True
    try:
        # A copy, so that a rebuild meanwhile does not change the binary under test.
        shutil.copy2(ctx.squirreld, os.path.join(tmp, "squirreld"))
        ctx.squirreld = os.path.join(tmp, "squirreld")

        flapper = Flapper()
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(flapper))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        port = httpd.server_address[1]

        smtpd = Smtpd(tmp, a.data_delay)
        smtp_port = smtpd.wait_ready(15)

        db = os.path.join(tmp, "squirrel.db")
        cfg = os.path.join(tmp, "squirrel.conf")
        write_config(cfg, a, smtp_port)
        bench.run_quick([ctx.squirrelctl, "init", "--db", db], 60, what="squirrelctl init")
        paths = ["/flap%d" % n for n in range(a.flapping)] + ["/up", "/down"]
        for path in paths:
            bench.run_quick([ctx.squirrelctl, "add", "http://127.0.0.1:%d%s" % (port, path), OWNER,
                             "--db", db], 30, what="squirrelctl add")
        for path in ("/flap0", "/up", "/down"):
            got = bench.head_status("http://127.0.0.1:%d%s" % (port, path), 5)
            if path != "/flap0" and got != flapper.status(path):
                raise RuntimeError("the HTTP server answered %d to %s" % (got, path))
        print("sites: %d flapping (periods %s s), /up, /down on 127.0.0.1:%d; SMTP on 127.0.0.1:%d "
              "with --data-delay %g; fail_threshold %d, interval 2 s, retry 1 s"
              % (a.flapping, ",".join(str(Flapper.period(n)) for n in range(a.flapping)), port,
                 smtp_port, a.data_delay, a.fail_threshold))

        for k in range(a.kills):
            run = rng.uniform(a.min_run, a.max_run)
            daemon = start_daemon(ctx, cfg, db, tmp, k)
            if daemon.join(run):
                early.append((k + 1, bench.exit_text(daemon.exitcode)))
                print("run %2d: squirreld ended by itself after %.1f s (%s)"
                      % (k + 1, daemon.wall, bench.exit_text(daemon.exitcode)))
                ok = False
                daemon = None
                continue
            t_kill = time.time()
            os.kill(daemon.pid, signal.SIGKILL)
            if not daemon.join(10):
                raise RuntimeError("squirreld (pid %d) still there 10 s after SIGKILL" % daemon.pid)
            kills.append((t_kill, run))
            daemon = None
            box = outbox(db)
            print("kill %2d after %.1f s: outbox %d rows, %d pending; mails stored %d"
                  % (k + 1, run, len(box), sum(1 for v in box.values() if v[1] == "pending"),
                     len(smtpd.mails())))

        # The sites stop flapping, so that no new alert keeps the outbox busy.
        flapper.frozen = True
        daemon = start_daemon(ctx, cfg, db, tmp, a.kills)
        t_start = time.monotonic()
        drained = None
        quiet_since = None
        while time.monotonic() - t_start < a.drain:
            if daemon.done():
                break
            time.sleep(1)
            # Empty for 3 s in a row, and no site still to come back up.
            if not pending(ctx, db):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 3 + a.data_delay:
                    drained = time.monotonic() - t_start
                    break
            else:
                quiet_since = None
        if daemon.done():
            print("last run: squirreld ended by itself (%s)" % bench.exit_text(daemon.exitcode))
            ok = False
        else:
            os.kill(daemon.pid, signal.SIGTERM)
            daemon.join(30)
            print("last run: outbox %s after %.1f s; SIGTERM: %s"
                  % ("empty" if drained is not None else "NOT empty",
                     drained if drained is not None else time.monotonic() - t_start,
                     bench.exit_text(daemon.exitcode) if daemon.done() else "no exit within 30 s"))
            ok = ok and daemon.done() and daemon.exitcode == 0
        daemon = None
        settle_mail(smtpd, 5 + a.data_delay)

        ok = report(a, db, smtpd, kills, early) and ok
    except (RuntimeError, OSError) as e:
        print("crash_bench: %s" % e, file=sys.stderr)
        ok = False
    finally:
        if daemon is not None:
            daemon.stop()
        if smtpd is not None:
            smtpd.proc.stop()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if a.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def report(a, db, smtpd, kills, early):
    box = outbox(db)
    mails = smtpd.mails()
    first_seen = {}     # alert id -> (mail number, arrival)
    copies = {}         # alert id -> mails carrying it
    msgids = {}         # alert id -> Message-IDs of those mails
    for num, at, ids, mid in mails:
        for i in ids:
            copies.setdefault(i, []).append((num, at))
            msgids.setdefault(i, []).append(mid)
            first_seen.setdefault(i, (num, at))
    dups = sorted(i for i, c in copies.items() if len(c) > 1)
    sent_lost = sorted(i for i, v in box.items() if v[1] == "sent" and i not in copies)
    left = sorted(i for i, v in box.items() if v[1] != "sent" and i not in copies)
    strangers = sorted(i for i in copies if i not in box)
    kinds = {}
    for kind, _ in box.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    statuses = {}
    for _, status in box.values():
        statuses[status] = statuses.get(status, 0) + 1
    no_header = sum(1 for m in mails if not m[2])

    # The at-least-once window: the first copy reached the server at most
    # data_delay + 1 s before a kill, so squirreld died before it could
    # hear the answer or mark the rows sent.
    window = a.data_delay + 1.0
    in_window = []
    for i in dups:
        at = first_seen[i][1]
        if any(0 <= t - at <= window for t, _ in kills):
            in_window.append(i)
    dup_mails = len({c[0] for i in dups for c in copies[i][1:]})

    print()
    print("kills                %d (runs of %s s)" % (len(kills), " ".join("%.1f" % r for _, r in kills)))
    if early:
        print("runs that ended early %s" % ", ".join("%d (%s)" % e for e in early))
    print("mails stored         %d (%d without X-Squirrel-Alerts)" % (len(mails), no_header))
    print("state changes        %d outbox rows: %s" % (len(box), ", ".join(
        "%s %d" % kv for kv in sorted(kinds.items()))))
    print("alerts queued        %d (%s)" % (len(box), ", ".join("%s %d" % kv for kv in sorted(statuses.items()))))
    print("alerts received      %d distinct ids, %d in all" % (len(copies), sum(len(c) for c in copies.values())))
    print("duplicates           %d ids%s, in %d extra mails" % (len(dups), (": " + " ".join(map(str, dups))) if dups else "", dup_mails))
    print("  first copy <= %.1f s before a kill (at-least-once window): %d of %d"
          % (window, len(in_window), len(dups)))
    same = sum(1 for i in dups if len(set(msgids[i])) == 1)
    print("  resent as the same mail (same Message-ID): %d; in a new mail beside newer alerts: %d"
          % (same, len(dups) - same))
    others = [i for i in dups if i not in in_window]
    if others:
        print("  outside any kill window: %s" % " ".join(map(str, others)))
    print("lost                 %d (marked sent, never received)%s"
          % (len(sent_lost), (": " + " ".join(map(str, sent_lost))) if sent_lost else ""))
    print("not received         %d still pending or given up%s"
          % (len(left), (": " + " ".join("%d(%s)" % (i, box[i][1]) for i in left)) if left else ""))
    if strangers:
        print("received, not in outbox %d: %s" % (len(strangers), " ".join(map(str, strangers))))
    return not sent_lost and not strangers and not others and not left


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
