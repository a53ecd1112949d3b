#!/usr/bin/env python3
"""alert_bench.py - a mass outage: are all the alerts delivered in time, by
mail and by webhook, and do the checks keep their cadence meanwhile?

Starts, on loopback: a sites server of its own (N sites, each on its own
127.1.x.y address, answering 200 after a small latency, and 503 to every
request from the moment it gets SIGUSR1), a webhook sink of its own that
records every POST and answers 200 after --latency ms, and the test SMTP
server (tests/smtpd/smtpd.py). Builds a database with squirrelctl alone:
O owners, each with a webhook contact (`squirrelctl contact add`), and N
sites spread over them, each added with its owner's address (the implicit
email contact) and `--contact` its webhook. Runs squirreld as a daemon
(libev) until every site is up, then turns every site to 503 at once, and
waits until each DOWN alert has reached its owner's mailbox and its
webhook (or a deadline). Then stops squirreld with SIGTERM and reports,
from the sinks, squirreld's log (timed as its lines arrive), the outbox and
the checks table: the time from each DOWN to its delivery, what was
delivered against what was due (lost, duplicates), the largest gap between
two checks of a site, and squirreld's CPU and memory.

The two servers are this script itself, run again in a child process
(--serve-sites, --serve-hooks). Reuses bench.py (same directory).
Standard library only (smtpd.py needs aiosmtpd). See bench/README.md.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402

SMTPD_PYTHON = "/usr/bin/python3"      # the interpreter that has aiosmtpd


# ---------------------------------------------------------------- the servers (child processes)

def serve_sites(first, n, latency_ms, port_file):
    """N listening sockets on one port; 200 to any request after the
    latency, 503 once SIGUSR1 has come. Each request's arrival (unix
    time) and address are kept, and written to PORTFILE.requests at
    SIGTERM: the cadence to the millisecond, beside the checks table's
    whole seconds."""
    state = {"down": False}
    seen = []
    delay = latency_ms / 1000.0

    class Site(asyncio.Protocol):
        def connection_made(self, transport):
            self.t = transport
            self.buf = b""
            self.done = False

        def data_received(self, data):
            if self.t is None or self.done:
                return
            self.buf += data
            if b"\r\n\r\n" not in self.buf:
                if len(self.buf) > 65536:
                    self.t.close()
                return
            self.done = True
            head = self.buf.split(b" ", 1)[0]
            seen.append((time.time(), self.t.get_extra_info("sockname")[0]))
            code = 503 if state["down"] else 200
            asyncio.get_running_loop().call_later(delay, self.answer, code, head != b"HEAD")

        def answer(self, code, body):
            if self.t.is_closing():
                return
            text = b"down\n" if code == 503 else b"ok\n"
            self.t.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s"
                         % (code, b"Service Unavailable" if code == 503 else b"OK", len(text),
                            text if body else b""))
            self.t.close()

        def connection_lost(self, exc):
            self.t = None

    async def main():
        loop = asyncio.get_running_loop()
        addrs = bench.addresses(first, n)
        for attempt in range(20):
            servers = []
            try:
                s = await loop.create_server(Site, addrs[0], 0, backlog=1024)
                servers.append(s)
                port = s.sockets[0].getsockname()[1]
                for addr in addrs[1:]:
                    servers.append(await loop.create_server(Site, addr, port, backlog=1024))
                break
            except OSError:
                for s in servers:
                    s.close()
                if attempt == 19:
                    raise
        loop.add_signal_handler(signal.SIGUSR1, lambda: state.update(down=True))
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(port_file + ".tmp", port_file)
        await stop.wait()
        with open(port_file + ".requests.tmp", "w") as f:
            f.writelines("%.3f %s\n" % x for x in seen)
        os.rename(port_file + ".requests.tmp", port_file + ".requests")

    asyncio.run(main())


def serve_hooks(latency_ms, port_file, log):
    """The webhook sink on 127.0.0.1: every POST is recorded as one JSON
    line (arrival time, path, Idempotency-Key, the alert ids and events of
    its body) when its body is in, and answered 200 after the latency."""
    delay = latency_ms / 1000.0
    out = open(log, "a", buffering=1)

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = (lines[0].split(" ") + ["", ""])[:2]
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                size = int(headers.get("content-length") or 0)
                body = await reader.readexactly(size) if 0 < size <= (1 << 20) else b""
                rec = {"t": time.time(), "method": method, "path": path,
                       "key": headers.get("idempotency-key", ""), "ids": [], "events": []}
                try:
                    doc = json.loads(body)
                    for a in doc.get("alerts") or [doc]:
                        rec["ids"].append(int(a.get("alert_id") or 0))
                        rec["events"].append(str(a.get("event")))
                except (ValueError, AttributeError, TypeError):
                    rec["bad"] = body[:200].decode("latin-1")
                out.write(json.dumps(rec) + "\n")
                await asyncio.sleep(delay)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                             b"\r\nok\n")
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def main():
        loop = asyncio.get_running_loop()
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.sockets[0].getsockname()[1])
        os.rename(port_file + ".tmp", port_file)
        await stop.wait()

    asyncio.run(main())


# ---------------------------------------------------------------- helpers of the run

def wait_port(proc, port_file, err, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.done():
            with open(err, errors="replace") as f:
                raise RuntimeError("%s exited (%s): %s" % (what, bench.exit_text(proc.exitcode),
                                   bench.first_line(f.read()[-2000:])))
        try:
            with open(port_file) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            time.sleep(0.05)
    raise RuntimeError("%s wrote no port file within %d s" % (what, timeout))


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
    """squirreld's stderr, read as it grows; each "site N (...) is DOWN"
    line is timed (unix seconds) when it is read."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.rest = b""
        self.down = {}          # site id -> time of its first DOWN line
        self.lines = 0

    def poll(self):
        data = self.f.read()
        if not data:
            return
        t = time.time()
        *complete, self.rest = (self.rest + data).split(b"\n")
        for line in complete:
            self.lines += 1
            words = line.split(b" ")
            # "squirreld: site 17 (http://...) is DOWN: http 503"
            if len(words) >= 5 and words[1] == b"site" and b"is DOWN" in line \
                    and b"still DOWN" not in line and words[2].isdigit():
                self.down.setdefault(int(words[2]), t)

    def close(self):
        self.f.close()


class HookLog:
    """The sink's log, read as it grows."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.rest = ""
        self.posts = []

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except OSError:
            return
        *complete, self.rest = (self.rest + data).split("\n")
        self.posts.extend(json.loads(x) for x in complete if x.strip())


class MailStore:
    """smtpd.py's store, read as it grows: (number, arrival, recipients, alert ids, Message-ID)."""

    def __init__(self, path):
        self.path = path
        self.mails = []
        self.seen = set()

    def poll(self):
        for name in sorted(os.listdir(self.path)):
            if not name.endswith(".json") or name in self.seen:
                continue
            stem = name[:-5]
            eml = os.path.join(self.path, stem + ".eml")
            with open(os.path.join(self.path, name)) as f:
                meta = json.load(f)
            with open(eml, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.compat32)
            ids = []
            for value in msg.get_all("X-Squirrel-Alerts") or []:
                ids.extend(int(t) for t in " ".join(value.split()).split() if t.isdigit())
            self.mails.append((int(stem), os.stat(eml).st_mtime, [r.lower() for r in meta["rcpt_tos"]],
                               ids, msg.get("Message-ID", "")))
            self.seen.add(name)


def db_query(db, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def pct(values, q):
    """The q-quantile (0..1) of sorted values, nearest rank."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))]


def spread(values):
    v = sorted(values)
    if not v:
        return "none"
    return "p50 %.2f s, p95 %.2f s, max %.2f s" % (pct(v, 0.5), pct(v, 0.95), v[-1])


def owner_of(i, a):
    """Site i's owner: sites are dealt to owners in turn, so each has N/O (+1)."""
    return i % a.owners


def build_db(ctx, a, db, urls, hook_port):
    """The schema, the contacts and the sites, with squirrelctl alone
    (--jobs commands at once: each add is a transaction of its own)."""
    ctl = ctx.squirrelctl
    bench.run_quick([ctl, "init", "--db", db], 60, what="squirrelctl init")
    cmds = [[ctl, "contact", "add", "hook-%d" % k, "webhook",
             "http://127.0.0.1:%d/h/%d" % (hook_port, k), "--db", db] for k in range(a.owners)]
    if a.email_contacts:
        cmds += [[ctl, "contact", "add", "team-%d" % k, "email", "team%d@example.org" % k, "--db", db]
                 for k in range(a.owners)]
    run_all(cmds, a.jobs, "squirrelctl contact add")
    cmds = [[ctl, "add", url, "owner%d@example.org" % owner_of(i, a), "--name", "site%d" % i,
             "--contact", "hook-%d" % owner_of(i, a), "--db", db]
            + (["--contact", "team-%d" % owner_of(i, a)] if a.email_contacts else [])
            for i, url in enumerate(urls)]
    run_all(cmds, a.jobs, "squirrelctl add")
    n = db_query(db, "SELECT count(*) FROM sites")[0][0]
    links = db_query(db, "SELECT count(*) FROM site_contacts")[0][0]
    want = len(urls) * (2 if a.email_contacts else 1)
    if n != len(urls) or links != want:
        raise RuntimeError("the database holds %d sites and %d links to contacts, not %d and %d"
                           % (n, links, len(urls), want))


def run_all(cmds, jobs, what):
    """Runs the commands, at most jobs at once; the first failure stops the rest."""
    running = []
    deadline = time.monotonic() + 30 + len(cmds) * 1.0
    env = bench.child_env()
    while cmds or running:
        while cmds and len(running) < jobs:
            argv = [str(x) for x in cmds.pop(0)]
            running.append((argv, subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.PIPE, env=env)))
        argv, p = running.pop(0)
        try:
            _, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for _, q in running + [(argv, p)]:
                q.kill()
                q.wait()
            raise RuntimeError("%s: no end in time" % what)
        if p.returncode != 0:
            for _, q in running:
                q.wait()
            raise RuntimeError("%s: %s: %s" % (what, bench.exit_text(p.returncode),
                                               bench.first_line(err.decode(errors="replace"))))


def write_config(path, a, smtp_port):
    with open(path, "w") as f:
        f.write("[squirreld]\nbackend = libev\n")
        f.write("[check]\ninterval = %d\nretry_interval = %d\nfail_threshold = %d\n"
                "group_window = %d\ntimeout = 5000\n"
                % (a.interval, a.retry_interval, a.fail_threshold, a.group_window))
        f.write("[smtp]\nhost = 127.0.0.1\nport = %d\nfrom = squirrel@example.org\n" % smtp_port)


# ---------------------------------------------------------------- the report

def analyse(a, db, t_start, t_flip, t_end_storm, tail, hooks, mails, requests):
    """Every figure from the outbox, the checks table and what the sinks
    received; returns (lines, ok)."""
    out, ok = [], True
    contacts = {r[0]: (r[1], r[2]) for r in db_query(db, "SELECT id, name, kind FROM contacts")}
    rows = db_query(db, "SELECT id, site_id, owner_email, kind, created_at, status, contact_id,"
                        " alert_of, sent_at FROM outbox")
    down_rows = [r for r in rows if r[3] == "down"]
    owner_rows = [r for r in down_rows if r[6] is None]
    mail_rows = [r for r in down_rows if r[6] is None or contacts.get(r[6], ("", ""))[1] == "email"]
    hook_rows = [r for r in down_rows if r[6] is not None and contacts.get(r[6], ("", ""))[1] == "webhook"]
    others = [r for r in rows if r[3] != "down"]
    sites_down = {r[1] for r in owner_rows}
    twice = len(owner_rows) - len(sites_down)
    out.append("DOWN alerts queued: %d for the owners (%d sites; %d sites twice), %d for webhook "
               "contacts, %d for email contacts; other alerts: %d%s"
               % (len(owner_rows), len(sites_down), twice, len(hook_rows),
                  len(mail_rows) - len(owner_rows), len(others),
                  "" if not others else " (%s)" % ", ".join(sorted({r[3] for r in others}))))
    if len(sites_down) != a.sites or twice:
        ok = False
        out.append("  WANT exactly one DOWN per site: %d sites" % a.sites)

    # When each site went DOWN: the log line, timed as read; else created_at.
    created = {r[1]: r[4] for r in owner_rows}
    down_at = {}
    from_log = 0
    for site, c in created.items():
        if site in tail.down:
            down_at[site] = tail.down[site]
            from_log += 1
        else:
            down_at[site] = float(c)
    skew = [tail.down[s] - created[s] for s in created if s in tail.down]
    out.append("DOWN times: %d from squirreld's log (read every %d ms), %d from outbox created_at "
               "(whole seconds); log - created_at: %s"
               % (from_log, a.poll_ms, len(created) - from_log,
                  "%.2f .. %.2f s" % (min(skew), max(skew)) if skew else "n/a"))
    if down_at:
        firsts = sorted(down_at.values())
        out.append("DOWN transitions: first %.2f s, last %.2f s after the sites turned 503 "
                   "(fail_threshold %d, interval %d s, retry_interval %d s)"
                   % (firsts[0] - t_flip, firsts[-1] - t_flip, a.fail_threshold, a.interval,
                      a.retry_interval))

    row_by_id = {r[0]: r for r in rows}

    # Mail: each row carried by a mail to its address; its first arrival.
    first_mail, copies = {}, {}
    for num, at, rcpts, ids, mid in mails.mails:
        for i in set(ids):
            r = row_by_id.get(i)
            if r is None or r[2].lower() not in rcpts:
                continue
            copies.setdefault(i, []).append(mid)
            first_mail.setdefault(i, at)
    inmail = sum(1 for _, _, _, ids, _ in mails.mails for i in ids)
    report_channel(out, "mail", mail_rows, first_mail, copies, down_at, t_flip, a, a.group_window,
                   "%d mails, %d alert items in them" % (len(mails.mails), inmail))
    # Webhooks: a POST to /h/K carries alert ids (the owner's row, alert_of).
    by_contact = {}
    for r in hook_rows:
        by_contact[(r[6], r[7] or r[0])] = r[0]
        by_contact[(r[6], r[0])] = r[0]
    name_to_id = {v[0]: k for k, v in contacts.items()}
    first_hook, hcopies, strangers = {}, {}, 0
    for p in hooks.posts:
        cid = name_to_id.get("hook-" + p["path"].rstrip("/").rsplit("/", 1)[-1])
        for i, ev in zip(p["ids"], p["events"]):
            rid = by_contact.get((cid, i))
            if rid is None or ev != "down":
                strangers += 1
                continue
            hcopies.setdefault(rid, []).append(p["key"])
            first_hook.setdefault(rid, p["t"])
    report_channel(out, "webhook", hook_rows, first_hook, hcopies, down_at, t_flip, a,
                   a.group_window + a.latency / 1000.0,
                   "%d POSTs, %d alert items in them, %d not matching a DOWN row of that contact"
                   % (len(hooks.posts), sum(len(p["ids"]) for p in hooks.posts), strangers))
    for rs, first, want in ((mail_rows, first_mail, a.sites * (2 if a.email_contacts else 1)),
                            (hook_rows, first_hook, a.sites)):
        if len(rs) != want or len(first) != len(rs) \
                or any(first[r[0]] - down_at[r[1]] > a.target for r in rs if r[0] in first):
            ok = False
    st = {}
    for r in down_rows:
        st[r[5]] = st.get(r[5], 0) + 1
    out.append("outbox DOWN rows by status at the end: %s"
               % ", ".join("%s %d" % kv for kv in sorted(st.items())))

    # The cadence, from the checks table.
    checks = db_query(db, "SELECT site_id, checked_at FROM checks WHERE checked_at >= ?"
                          " ORDER BY site_id, checked_at, id", (int(t_start),))
    per = {}
    for site, at in checks:
        per.setdefault(site, []).append(at)
    limit = a.interval + 1
    gaps, storm_gaps = [], []
    for site, ts in per.items():
        for x, y in zip(ts, ts[1:]):
            gaps.append((y - x, site, x))
            if y >= t_flip:
                storm_gaps.append((y - x, site, x))
    never = a.sites - len(per)
    out.append("checks: %d rows since the start (%d sites; %d never checked); checks during the "
               "storm (503 to the end of the deliveries, %.0f s): %d, about %d expected"
               % (len(checks), len(per), never, t_end_storm - t_flip,
                  sum(1 for _, at in checks if t_flip <= at <= t_end_storm),
                  a.sites * (t_end_storm - t_flip) / a.interval))
    for what, g in (("whole run", gaps), ("storm", storm_gaps)):
        if not g:
            out.append("largest gap (%s): no gap" % what)
            ok = False
            continue
        top = max(g)
        over = sum(1 for x in g if x[0] > limit)
        out.append("largest gap between two checks of a site (%s): %d s (site %d, after its check "
                   "at %+.0f s from the 503s), %d gaps over %d s of %d: %s"
                   % (what, top[0], top[1], top[2] - t_flip, over, limit, len(g),
                      "met" if over == 0 else "MISSED"))
        if over:
            ok = False
    if requests is not None:
        lines, fine = server_gaps(a, db, [r for r in requests if r[0] >= t_start], t_flip,
                                  t_end_storm)
        out.extend(lines)
        ok = ok and fine
    hist = {}
    for x in storm_gaps:
        hist[x[0]] = hist.get(x[0], 0) + 1
    if hist:
        out.append("  storm gaps by length (whole seconds: count): %s"
                   % ", ".join("%d: %d" % kv for kv in sorted(hist.items())))
    if never:
        ok = False
    return out, ok


def read_requests(sites, path):
    """Stops the sites server (SIGTERM: it writes what it saw); returns its
    CPU seconds and [(unix time, address)], None when it left no record."""
    cpu = bench.proc_cpu(sites.pid)
    sites.stop()
    try:
        with open(path) as f:
            return cpu, [(float(t), addr) for t, addr in (line.split() for line in f)]
    except (OSError, ValueError):
        print("the sites server left no record of its requests (%s)"
              % bench.exit_text(sites.exitcode if sites.exitcode is not None else -9))
        return cpu, None


def server_gaps(a, db, requests, t_flip, t_end_storm):
    """The gaps between two requests to one site's address, as the server
    timed them (to the millisecond), in the storm and in the whole run
    (from squirreld's start: the benchmark's own probes come before)."""
    site_of = {}
    for sid, url in db_query(db, "SELECT id, url FROM sites"):
        site_of[url.split("//", 1)[1].split(":", 1)[0]] = sid
    per = {}
    for t, addr in requests:
        per.setdefault(addr, []).append(t)
    limit = a.interval + 1
    out, ok = [], True
    gaps = []
    for addr, ts in per.items():
        ts.sort()
        for x, y in zip(ts, ts[1:]):
            gaps.append((y - x, site_of.get(addr, 0), x, t_flip <= y <= t_end_storm + 1))
    for what, g in (("whole run", gaps), ("storm", [x for x in gaps if x[3]])):
        if not g:
            continue
        top = max(g)
        over = sum(1 for x in g if x[0] > limit)
        out.append("  the same, timed by the sites server (%s): %.3f s (site %d, after its check at "
                   "%+.1f s), %d gaps over %d s of %d; gaps of about an interval (over %d s): %s"
                   % (what, top[0], top[1], top[2] - t_flip, over, limit, len(g), a.interval - 1,
                      spread([x[0] for x in g if x[0] > a.interval - 1])))
        ok = ok and over == 0
    return out, ok


def report_channel(out, name, rows, first, copies, down_at, t_flip, a, ideal, what):
    lag = [first[r[0]] - down_at[r[1]] for r in rows if r[0] in first]
    lag_flip = [first[r[0]] - t_flip for r in rows if r[0] in first]
    lost = [r for r in rows if r[0] not in first]
    dup = {i: c for i, c in copies.items() if len(c) > 1}
    extra = sum(len(c) - 1 for c in dup.values())
    same = sum(1 for c in dup.values() if len(set(c)) == 1)
    out.append("%s: %s" % (name, what))
    out.append("  delivered %d of %d due (not delivered: %d); duplicates: %d alerts received more "
               "than once (%d extra copies; %d always under the same %s)"
               % (len(lag), len(rows), len(lost), len(dup), extra, same,
                  "Message-ID" if name == "mail" else "Idempotency-Key"))
    if lag:
        over = sum(1 for x in lag if x > a.target)
        out.append("  DOWN -> delivered: %s; over %.0f s: %d (%s)"
                   % (spread(lag), a.target, over, "met" if over == 0 and not lost else "MISSED"))
        if ideal > 0:
            out.append("  ideal: the group window%s, %.2f s; p50/ideal %.2f, max/ideal %.2f"
                       % (" + the sink's answer" if name == "webhook" else "", ideal,
                          pct(sorted(lag), 0.5) / ideal, max(lag) / ideal))
        out.append("  503s -> delivered: %s" % spread(lag_flip))
        past = [first[r[0]] - down_at[r[1]] - a.group_window for r in rows if r[0] in first]
        out.append("  past the group window (DOWN + %d s -> delivered; below 0: sent early beside an "
                   "alert of the same owner due sooner): %s" % (a.group_window, spread(past)))
    for r in lost[:3]:
        out.append("  NOT DELIVERED: outbox row %d (site %d, %s)" % (r[0], r[1], r[5]))


# ---------------------------------------------------------------- the run

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="A mass outage: N sites of O owners turn 503 at once; measures the time "
                    "from each DOWN to its mail and its webhook, what was lost or sent twice, "
                    "the checks' cadence meanwhile, and squirreld's CPU and memory.")
    p.add_argument("--sites", type=int, default=2000, help="sites (default 2000)")
    p.add_argument("--owners", type=int, default=200, help="owners, each with a webhook (default 200)")
    p.add_argument("--latency", type=int, default=200, help="the webhook sink's answer delay, ms (default 200)")
    p.add_argument("--email-contacts", action="store_true",
                   help="give each owner an email contact too (team-K, another address), linked "
                        "to its sites beside the webhook")
    p.add_argument("--site-latency", type=int, default=20, help="the sites' answer delay, ms (default 20)")
    p.add_argument("--interval", type=int, default=10, help="[check] interval, s (default 10)")
    p.add_argument("--retry-interval", type=int, default=5, help="[check] retry_interval, s (default 5)")
    p.add_argument("--fail-threshold", type=int, default=2, help="[check] fail_threshold (default 2)")
    p.add_argument("--group-window", type=int, default=10, help="[check] group_window, s (default 10)")
    p.add_argument("--target", type=float, default=60, help="DOWN to delivery, s at most (default 60)")
    p.add_argument("--deadline", type=float, default=150,
                   help="most seconds after the 503s to wait for every delivery (default 150)")
    p.add_argument("--settle", type=float, default=5,
                   help="seconds to go on after the last delivery, for late duplicates (default 5)")
    p.add_argument("--poll-ms", type=int, default=50, help="how often the log and sinks are read, ms (default 50)")
    p.add_argument("--jobs", type=int, default=4, help="squirrelctl commands at once while building (default 4)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    p.add_argument("--serve-sites", nargs=4, metavar=("FIRST", "N", "MS", "PORTFILE"), help=argparse.SUPPRESS)
    p.add_argument("--serve-hooks", nargs=3, metavar=("MS", "PORTFILE", "LOG"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.serve_sites or a.serve_hooks:
        return a
    if a.sites < 1 or a.owners < 1 or a.owners > a.sites or a.latency < 0 or a.site_latency < 0 \
            or a.interval < 1 or a.retry_interval < 1 or a.fail_threshold < 1 or a.group_window < 0 \
            or a.target <= 0 or a.deadline <= 0 or a.settle < 0 or a.poll_ms < 1 or a.jobs < 1:
        p.error("--sites, --owners (at most --sites), --interval, --retry-interval, --fail-threshold, "
                "--poll-ms and --jobs must be at least 1; --latency, --site-latency, --group-window "
                "and --settle at least 0; --target and --deadline above 0")
    return a


def main(argv):
    a = parse_args(argv)
    if a.serve_sites:
        serve_sites(a.serve_sites[0], int(a.serve_sites[1]), int(a.serve_sites[2]), a.serve_sites[3])
        return 0
    if a.serve_hooks:
        serve_hooks(int(a.serve_hooks[0]), a.serve_hooks[1], a.serve_hooks[2])
        return 0
    ctx = bench.Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.extra_args = []
    for path in (ctx.squirreld, ctx.squirrelctl):
        if not os.access(path, os.X_OK):
            print("alert_bench: %s not found or not executable (build first, or --build)" % path,
                  file=sys.stderr)
            return 2
    if not os.access(SMTPD_PYTHON, os.X_OK):
        print("alert_bench: %s (with aiosmtpd) is needed for tests/smtpd/smtpd.py" % SMTPD_PYTHON,
              file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    tmp = tempfile.mkdtemp(prefix="sq-alert-bench-")
    ctx.tmp = tmp
    sites = hooks_srv = smtpd = daemon = tail = None
    ok = False
    try:
        shutil.copy2(ctx.squirreld, os.path.join(tmp, "squirreld"))   # the binary as it was at the start
        ctx.squirreld = os.path.join(tmp, "squirreld")
        me = os.path.abspath(__file__)
        print("squirrel alert benchmark: %d sites of %d owners (mail%s + webhook each), webhook answers "
              "in %d ms, sites in %d ms; interval %d s, retry %d s, fail_threshold %d, group_window "
              "%d s; libev; %d CPUs"
              % (a.sites, a.owners, " to the owner and a team address" if a.email_contacts else "",
                 a.latency, a.site_latency, a.interval, a.retry_interval,
                 a.fail_threshold, a.group_window, os.cpu_count() or 0), flush=True)

        pf_sites, err = os.path.join(tmp, "sites.port"), os.path.join(tmp, "sites.stderr")
        with open(err, "w") as e:
            sites = bench.Proc([sys.executable, me, "--serve-sites", bench.LISTEN, a.sites,
                                a.site_latency, pf_sites], stderr=e)
        site_port = wait_port(sites, pf_sites, err, "the sites server", 60)
        addrs = bench.addresses(bench.LISTEN, a.sites)
        urls = ["http://%s:%d/" % (addr, site_port) for addr in addrs]
        for url in (urls[0], urls[-1]):
            got = bench.head_status(url, 5)
            if got != 200:
                raise RuntimeError("the sites server answered %d to %s" % (got, url))

        hook_log = os.path.join(tmp, "hooks.log")
        pf, err = os.path.join(tmp, "hooks.port"), os.path.join(tmp, "hooks.stderr")
        with open(err, "w") as e:
            hooks_srv = bench.Proc([sys.executable, me, "--serve-hooks", a.latency, pf, hook_log],
                                   stderr=e)
        hook_port = wait_port(hooks_srv, pf, err, "the webhook sink", 30)

        store = os.path.join(tmp, "mail")
        os.mkdir(store)
        pf, err = os.path.join(tmp, "smtpd.port"), os.path.join(tmp, "smtpd.stderr")
        with open(err, "w") as e:
            smtpd = bench.Proc([SMTPD_PYTHON, os.path.join(os.path.dirname(HERE), "tests", "smtpd",
                                                          "smtpd.py"),
                                "--port-file", pf, "--store", store], stderr=e)
        smtp_port = wait_port(smtpd, pf, err, "smtpd.py", 30)

        db = os.path.join(tmp, "squirrel.db")
        t0 = time.monotonic()
        build_db(ctx, a, db, urls, hook_port)
        print("  sites on %s .. %s port %d (pid %d); webhook sink 127.0.0.1:%d (pid %d); SMTP "
              "127.0.0.1:%d (pid %d); database built with squirrelctl in %.1f s"
              % (addrs[0], addrs[-1], site_port, sites.pid, hook_port, hooks_srv.pid, smtp_port,
                 smtpd.pid, time.monotonic() - t0), flush=True)
        conf = os.path.join(tmp, "squirrel.conf")
        write_config(conf, a, smtp_port)

        derr = os.path.join(tmp, "squirreld.stderr")
        with open(derr, "w") as e:
            daemon = bench.Proc([ctx.squirreld, "--config", conf, "--db", db], stderr=e)
        t_start = time.time()
        tail = LogTail(derr)
        hooks = HookLog(hook_log)
        mails = MailStore(store)
        step = a.poll_ms / 1000.0
        rss_max = 0

        # Until every site is up (a new site found up sends nothing).
        deadline = time.monotonic() + 3 * a.interval + 30
        while True:
            time.sleep(0.5)
            tail.poll()
            if daemon.done():
                raise RuntimeError("squirreld ended by itself (%s)" % bench.exit_text(daemon.exitcode))
            up = db_query(db, "SELECT count(*) FROM site_state WHERE state = 'up'")[0][0]
            if up == a.sites:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("only %d of %d sites up after %.0f s" % (up, a.sites, time.time() - t_start))
        time.sleep(1)
        cpu_flip = bench.proc_cpu(daemon.pid)
        os.kill(sites.pid, signal.SIGUSR1)
        t_flip = time.time()
        print("  every site up %.1f s after squirreld started (CPU so far %.2f s); every site "
              "answers 503 from now" % (t_flip - t_start, cpu_flip), flush=True)

        done_at = None
        next_sample = next_note = time.monotonic()
        end = time.monotonic() + a.deadline
        while time.monotonic() < end:
            tail.poll()
            if daemon.done():
                raise RuntimeError("squirreld ended by itself (%s)" % bench.exit_text(daemon.exitcode))
            now = time.monotonic()
            if now >= next_sample:
                hooks.poll()
                mails.poll()
                rss_max = max(rss_max, read_status(daemon.pid).get("VmRSS", 0))
                next_sample += 1
                nmail = len({i for m in mails.mails for i in m[3]})
                nhook = sum(1 for p in hooks.posts for ev in p["events"] if ev == "down")
                if now >= next_note:
                    print("  %5.1f s: %d DOWN, mail items %d in %d mails, webhook items %d in %d POSTs, "
                          "CPU %.2f s, VmRSS %.1f MB"
                          % (time.time() - t_flip, len(tail.down), nmail, len(mails.mails), nhook,
                             len(hooks.posts), bench.proc_cpu(daemon.pid), rss_max / 1024.0), flush=True)
                    next_note += 10
                if done_at is None and len(tail.down) >= a.sites \
                        and nmail >= a.sites * (2 if a.email_contacts else 1) \
                        and nhook >= a.sites:
                    done_at = time.time()
                    end = min(end, now + a.settle)
            time.sleep(step)
        hooks.poll()
        mails.poll()
        tail.poll()
        t_end = time.time()
        cpu_end = bench.proc_cpu(daemon.pid)
        status = read_status(daemon.pid)

        t_term = time.monotonic()
        os.kill(daemon.pid, signal.SIGTERM)
        daemon.join(30)
        if daemon.done():
            stop_line = "stop: SIGTERM, %s after %.2f s" % (bench.exit_text(daemon.exitcode),
                                                            daemon.t1 - t_term)
            stopped = daemon.exitcode == 0
        else:
            stop_line, stopped = "stop: SIGTERM, NO EXIT within 30 s (killed)", False
            daemon.stop()
        tail.poll()
        # Late arrivals, e.g. what a stop sent at once, still count.
        time.sleep(0.5)
        hooks.poll()
        mails.poll()

        print("\n== results (times from the moment every site answered 503, or from each site's DOWN)")
        print("all delivered: %s" % ("%.1f s after the 503s" % (done_at - t_flip) if done_at else
                                    "NO, deadline of %.0f s reached" % a.deadline))
        sites_cpu, requests = read_requests(sites, pf_sites + ".requests")
        lines, good = analyse(a, db, t_start, t_flip, done_at or t_end, tail, hooks, mails, requests)
        for line in lines:
            print(line)
        storm = t_end - t_flip
        print("CPU of squirreld: %.2f s up to the 503s (%.1f s, start-up and first checks), %.2f s "
              "from the 503s to the end (%.1f s: %.1f %% of one core)"
              % (cpu_flip, t_flip - t_start, cpu_end - cpu_flip, storm,
                 100.0 * (cpu_end - cpu_flip) / storm))
        print("memory of squirreld: VmRSS %.1f MB at the end (largest seen, once a second: %.1f MB), "
              "VmHWM %.1f MB, %s threads"
              % (status.get("VmRSS", 0) / 1024.0, rss_max / 1024.0, status.get("VmHWM", 0) / 1024.0,
                 status.get("Threads", "?")))
        print("CPU of the sinks: sites %.2f s, webhook %.2f s, SMTP %.2f s"
              % (sites_cpu, bench.proc_cpu(hooks_srv.pid),
                 bench.proc_cpu(smtpd.pid)))
        print(stop_line)
        with open(derr, errors="replace") as f:
            warn = [x.rstrip("\n") for x in f if " is DOWN" not in x and "mail sent to" not in x
                    and "sent to contact" not in x and x.strip()]
        print("squirreld's log: %d lines, %d other than DOWN and alerts sent%s"
              % (tail.lines, len(warn), ":" if warn else ""))
        for x in warn[:8]:
            print("  " + x[:200])
        ok = good and stopped and done_at is not None
        print("\n%s" % ("OK: every alert delivered by mail and webhook within %.0f s of its DOWN, none "
                        "lost, checks within interval + 1 s, squirreld exited 0" % a.target
                        if ok else "FAILED"))
        sys.stdout.flush()
    except (RuntimeError, OSError, sqlite3.Error) as e:
        print("alert_bench: %s" % e, file=sys.stderr)
        ok = False
    finally:
        if tail is not None:
            tail.close()
        for p in (daemon, smtpd, hooks_srv, sites):
            if p is not None:
                p.stop()
        if a.keep:
            print("temporary files kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:   # the finally block has stopped every child
        sys.exit(130)
