"""Scale-out end to end: squirreld with the redis backend (the coordinator),
`squirreld --worker` processes, a real redis-server and a real HTTP server,
all on loopback. The conformance cases of test_once.py give the same
results as the serial backend; then workers, Redis and the coordinator are
killed under load, locations vote, hostile entries are fed in by hand,
and ACL passwords are checked."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "dns"))
from servers import Dnsmasq  # noqa: E402
from harness import (SQUIRRELD, Httpd, add_sites, check, done, equal, new_db,  # noqa: E402
                     parse_once, run, squirreld, stop_pid, tmpdir, wait_for)
from redisd import Redis, Worker  # noqa: E402
import test_once  # noqa: E402
from tls import Tlsd  # noqa: E402

OWNER = "ops@example.org"
CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def xlen(redis, key):
    n = redis.call("XLEN", key)
    return n if isinstance(n, int) else -1


def pending(redis, key, group):
    """How many entries of group wait for an acknowledgement (XPENDING summary)."""
    out = redis.call("XPENDING", key, group)
    return out[0] if isinstance(out, list) else -1


def test_conformance(tmp):
    """test_once's 50 sites, coordinator plus two workers: the same lines as serial
    (the TLS reasons cross the wire by name; the workers trust the test's CA by
    their own ca_file)."""
    with Dnsmasq(tmp, test_once.DNS_HOSTS, local_domain="invalid") as dns, \
            Redis(tmp, "redis-conf") as redis, Tlsd(tmp) as tls:
        wconf = write(os.path.join(tmp, "worker-dns.conf"),
                      f"[check]\ndns_servers = {dns.server}\nca_file = {tls.ca_file}\n")
        workers = [Worker(tmp, f"conf{i}", redis.url, "--max-concurrent", "16", conf=wconf)
                   for i in range(2)]
        try:
            check(all(w.wait_started() for w in workers), "conformance: two workers started",
                  "\n".join(w.output() for w in workers))
            test_once.test_pass(tmp, "redis", ["--redis", redis.url, "--max-concurrent", "64"], dns, tls)
        finally:
            rcs = [w.stop() for w in workers]
        equal(rcs, [0, 0], "conformance: workers stop with exit 0 on SIGTERM")
        equal(pending(redis, "squirrel:checks", "default"), 0, "conformance: no check left pending")
        equal(pending(redis, "squirrel:results", "squirreld"), 0, "conformance: every answer acknowledged")


def test_cert(tmp):
    """The certificate a worker's check was answered over crosses the wire
    (a version 2 answer, need naming its fields): the coordinator keeps it
    as the site's and queues the warning it owes, as a local check would."""
    own = os.path.join(tmp, "cert")   # Tlsd's files apart from test_conformance's
    os.makedirs(own)
    with Redis(tmp, "redis-cert") as redis, Tlsd(own) as tls:
        wconf = write(os.path.join(tmp, "worker-cert.conf"), f"[check]\nca_file = {tls.ca_file}\n")
        conf = coordinator_conf(tmp, "cert.conf")
        db = new_db(tmp, "cert.db")
        site, = add_sites(db, [(tls.url("good"), OWNER, {"cert_warn_days": "365"})])
        w = Worker(tmp, "cert", redis.url, conf=wconf)
        try:
            check(w.wait_started(), "cert: a worker started", w.output())
            rc, out, err = once(conf, db, redis.url)
            equal((rc, [v[0] for v in parse_once(out).values()]), (0, ["up"]), "cert: the site is up")
        finally:
            equal(w.stop(), 0, "cert: the worker stops with exit 0")
        con = sqlite3.connect(db)
        equal(con.execute("SELECT site_id, subject, issuer, warned_days, length(fingerprint),"
                          " not_after > strftime('%s', 'now') FROM site_cert").fetchall(),
              [(site, "CN=good", "CN=squirrel test CA", 365, 64, 1)],
              "cert: the worker's certificate kept for the site")
        equal(con.execute("SELECT kind, cert_subject FROM outbox").fetchall(), [("cert", "CN=good")],
              "cert: the warning it owes queued")
        con.close()


def coordinator_conf(tmp, name, locations="default", quorum=1, claim_idle=10000, check=None,
                     smtp_port=None):
    lines = ["[redis]", f"locations = {locations}", f"quorum = {quorum}", f"claim_idle = {claim_idle}",
             "[check]"]
    for k, v in (check or {}).items():
        lines.append(f"{k} = {v}")
    if smtp_port is not None:
        lines += ["[smtp]", "host = 127.0.0.1", f"port = {smtp_port}", "from = squirrel@example.org",
                  "timeout = 3000"]
    return write(os.path.join(tmp, name), "\n".join(lines) + "\n")


def once(conf, db, redis_url, *args, timeout=120):
    return squirreld("--once", "--config", conf, "--db", db, "--backend", "redis",
                     "--redis", redis_url, *args, timeout=timeout)


def start_once(conf, db, redis_url, tmp, name):
    """--once in the background; its output in files."""
    out = open(os.path.join(tmp, name + ".out"), "w")
    err = open(os.path.join(tmp, name + ".err"), "w")
    p = subprocess.Popen([SQUIRRELD, "--once", "--config", conf, "--db", db, "--backend", "redis",
                          "--redis", redis_url], stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    p.files = (out, err)
    return p


def finish(p, timeout=120):
    """Waits for a background --once; (rc, stdout, stderr)."""
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_pid(p, signal.SIGKILL)
    for f in p.files:
        f.close()
    with open(p.files[0].name) as fo, open(p.files[1].name) as fe:
        return p.returncode, fo.read(), fe.read()


def consumer_pending(redis, key, group):
    """{consumer: pending count} from XPENDING's summary."""
    out = redis.call("XPENDING", key, group)
    if not isinstance(out, list) or len(out) < 4 or not out[3]:
        return {}
    return {c: int(n) for c, n in out[3]}


def test_worker_killed(tmp):
    """kill -9 of a worker holding checks: another takes them over after
    claim_idle, and every site still gets exactly one answer per location."""
    with Redis(tmp, "redis-kill") as redis, Httpd(tmp) as srv:
        conf = coordinator_conf(tmp, "kill.conf", locations="a, b", claim_idle=4000,
                                check={"timeout": 3000})
        db = new_db(tmp, "kill.db")
        ids = add_sites(db, [(srv.url(f"/?delay=1500&n={i}"), OWNER, {}) for i in range(30)])
        a1 = Worker(tmp, "a1", redis.url, "--location", "a", "--max-concurrent", "10", conf=conf)
        a2 = Worker(tmp, "a2", redis.url, "--location", "a", "--max-concurrent", "10", conf=conf)
        b1 = Worker(tmp, "b1", redis.url, "--location", "b", "--max-concurrent", "40", conf=conf)
        try:
            check(all(w.wait_started() for w in (a1, a2, b1)), "kill: three workers started")
            p = start_once(conf, db, redis.url, tmp, "kill-once")
            victim = f"-{a1.proc.pid}"
            held = wait_for(lambda: any(c.endswith(victim) and n > 0 for c, n in
                                        consumer_pending(redis, "squirrel:checks", "a").items()), 20)
            check(held, "kill: worker a1 holds checks")
            a1.stop(signal.SIGKILL)
            rc, out, err = finish(p, 90)
        finally:
            rcs = [a2.stop(), b1.stop()]
        equal(rc, 0, "kill: the pass ends, exit 0")
        res = parse_once(out)
        equal(sorted(res), ids, "kill: a line for every site")
        equal(sorted({v[0] for v in res.values()}), ["up"], "kill: every site up (both locations answered)")
        check("took over" in a2.output(), "kill: a2 took over a1's checks", a2.output())
        answers = {}
        for _, f in redis.entries("squirrel:results"):
            answers.setdefault(f.get("check"), []).append(f.get("location"))
        equal(len(answers), 30, "kill: answers for 30 checks")
        equal(sorted({tuple(sorted(v)) for v in answers.values()}), [("a", "b")],
              "kill: exactly one answer per location for every check")
        equal(rcs, [0, 0], "kill: the other workers stop cleanly")
        equal(pending(redis, "squirrel:checks", "a"), 0, "kill: nothing left pending in location a")


def history(db, sql, *args):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_redis_restart(tmp):
    """Redis killed and started again (empty) under a running daemon and its
    workers: nobody crashes, nothing is alerted, checking resumes."""
    redis = Redis(tmp, "redis-restart")
    with Httpd(tmp) as srv:
        conf = coordinator_conf(tmp, "restart.conf", claim_idle=2000,
                                check={"interval": 1, "timeout": 1000, "fail_threshold": 1})
        db = new_db(tmp, "restart.db")
        add_sites(db, [(srv.url(f"/?status=200&n={i}"), OWNER, {}) for i in range(5)])
        workers = [Worker(tmp, f"r{i}", redis.url, conf=conf) for i in range(2)]
        log = open(os.path.join(tmp, "restart-daemon.log"), "w")
        daemon = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "redis",
                                   "--redis", redis.url], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            ok_rows = lambda: history(db, "SELECT count(*) FROM checks WHERE ok = 1")[0][0]
            check(wait_for(lambda: ok_rows() >= 10, 30, step=0.2), "restart: checks flow before")
            redis.kill()
            time.sleep(4)
            check(daemon.poll() is None, "restart: the daemon lives through the outage")
            redis.start()
            t_back = int(time.time())
            resumed = wait_for(lambda: history(db, "SELECT count(*) FROM checks WHERE ok = 1 AND "
                                               "checked_at > ?", t_back)[0][0] >= 10, 30, step=0.2)
            check(resumed, "restart: checks resume once Redis is back")
            check(daemon.poll() is None and all(w.proc.poll() is None for w in workers),
                  "restart: no process died")
        finally:
            rc = stop_pid(daemon, timeout=60)
            log.close()
            rcs = [w.stop() for w in workers]
            redis.stop()
        with open(log.name) as f:
            dlog = f.read()
        equal(rc, 0, "restart: the daemon stops cleanly")
        equal(rcs, [0, 0], "restart: the workers stop cleanly")
        equal(history(db, "SELECT count(*) FROM outbox")[0][0], 0, "restart: no alert queued")
        equal(history(db, "SELECT DISTINCT state FROM site_state"), [("up",)], "restart: every site still up")
        equal(history(db, "SELECT count(*) FROM checks WHERE ok = 0 AND class IS NOT 20")[0][0], 0,
              "restart: no failure recorded, only unknowns (class 20)")
        check(dlog.count("lost the connection to Redis") == 1, "restart: the outage logged once", dlog)
        check("connected to Redis at" in dlog and "again after" in dlog, "restart: the return logged", dlog)
        for w in workers:
            out = w.output()
            check(out.count("lost the connection to Redis") + out.count("cannot reach Redis") == 1 and
                  "again after" in out, "restart: a worker logs the outage once and the return", out)


def test_coordinator_restart(tmp):
    """The coordinator killed with checks out: what the workers answered
    meanwhile is used by the next start (no check sent again), and answers a
    previous run had read (and may have recorded) are never counted twice."""
    with Redis(tmp, "redis-coord") as redis, Httpd(tmp) as srv:
        conf = coordinator_conf(tmp, "coord.conf", claim_idle=10000, check={"timeout": 5000})
        db = new_db(tmp, "coord.db")
        rows = [(srv.url(f"/?status={503 if i % 4 == 0 else 200}&n={i}"), OWNER, {}) for i in range(20)]
        ids = add_sites(db, rows)
        want = {sid: ("down" if i % 4 == 0 else "up") for i, sid in enumerate(ids)}
        p = start_once(conf, db, redis.url, tmp, "coord-1")
        check(wait_for(lambda: xlen(redis, "squirrel:checks") == 20, 20), "coordinator: 20 checks out")
        stop_pid(p, signal.SIGKILL)
        for f in p.files:
            f.close()
        workers = [Worker(tmp, f"c{i}", redis.url, conf=conf) for i in range(2)]
        try:
            check(wait_for(lambda: xlen(redis, "squirrel:results") == 20, 20),
                  "coordinator: the workers answered all 20 meanwhile")
            # A run that read five answers and died before acknowledging them.
            got = redis.call("XREADGROUP", "GROUP", "squirreld", "coordinator", "COUNT", "5",
                             "STREAMS", "squirrel:results", ">")
            equal(len(got[0][1]) if got else 0, 5, "coordinator: five answers read by a dead run")
            # two of them deleted while pending: Redis hands them back with nil fields
            equal(redis.call("XDEL", "squirrel:results", got[0][1][0][0], got[0][1][1][0]), 2,
                  "coordinator: two pending answers deleted")
            rc, out, err = once(conf, db, redis.url)
        finally:
            rcs = [w.stop() for w in workers]
        equal(rc, 0, "coordinator: the next start exits 0")
        res = parse_once(out)
        equal({k: v[0] for k, v in res.items()}, want, "coordinator: every site's verdict")
        check("15 answers of 15 checks dispatched before this start are kept" in err,
              "coordinator: the 15 unread answers are kept", err)
        equal(xlen(redis, "squirrel:checks"), 25, "coordinator: only the 5 read-by-the-dead checks went out again")
        equal(history(db, "SELECT count(*) FROM checks")[0][0], 20, "coordinator: one history row per site")
        equal(pending(redis, "squirrel:results", "squirreld"), 0, "coordinator: every answer acknowledged")
        equal(rcs, [0, 0], "coordinator: workers stop cleanly")


def test_quorum(tmp):
    """Three locations, three source addresses, quorum 2: one location's
    failure stays up; two locations' failure goes down with one alert naming them."""
    from test_mail import Smtpd, body_of, parse
    with Redis(tmp, "redis-quorum") as redis, Httpd(tmp) as srv, Smtpd(tmp, "smtp-quorum") as smtp:
        conf = coordinator_conf(tmp, "quorum.conf", locations="a, b, c", quorum=2,
                                check={"fail_threshold": 1}, smtp_port=smtp.port)
        db = new_db(tmp, "quorum.db")
        one, two, none = add_sites(db, [
            (srv.url("/?failfrom=127.0.0.3"), OWNER, {"name": "one"}),
            (srv.url("/?failfrom=127.0.0.3&failfrom=127.0.0.4"), OWNER, {"name": "two"}),
            (srv.url("/?status=200"), OWNER, {"name": "none"}),
        ])
        workers = [Worker(tmp, f"q{loc}", redis.url, "--location", loc, "--source-address", addr, conf=conf)
                   for loc, addr in (("a", "127.0.0.2"), ("b", "127.0.0.3"), ("c", "127.0.0.4"))]
        try:
            rc, out, err = once(conf, db, redis.url)
        finally:
            rcs = [w.stop() for w in workers]
        equal(rc, 0, "quorum: exit 0")
        res = parse_once(out)
        equal(res[one][:2], ("up", 200), "quorum: failing from one location of three stays up")
        equal((res[two][0], res[two][1], res[two][4]), ("down", 503, "http 503 from b, c"),
              "quorum: failing from two goes down, naming them")
        equal(res[none][:2], ("up", 200), "quorum: a site failing nowhere is up")
        # a verdict is reached once it is certain, so a location may not be in it yet
        seen = {row[0]: row[1:] for row in history(db, "SELECT l.location, l.ok, l.http_status, l.class,"
                                                   " l.detail FROM check_locations l"
                                                   " JOIN checks c ON c.id = l.check_id WHERE c.site_id = ?", two)}
        equal({k: v for k, v in seen.items() if k != "a"}, {"b": (0, 503, 1, ""), "c": (0, 503, 1, "")},
              "quorum: the history keeps what each failing location saw, by its class's code")
        check(seen.get("a", (1, 200, 0, "")) == (1, 200, 0, ""),
              "quorum: and the one that saw it up, if it answered in time", seen)
        equal(history(db, "SELECT class, detail FROM checks WHERE site_id = ? AND ok = 0", two)[-1:],
              [(1, "http 503 from b, c")], "quorum: the verdict's class, and the groups in its detail")
        equal(history(db, "SELECT n, class, http_status, locations FROM outbox_located"),
              [(0, 1, 503, "b, c")], "quorum: the alert keeps the groups as data")
        rows = history(db, "SELECT count(*), count(DISTINCT l.check_id) FROM check_locations l"
                           " JOIN checks c ON c.id = l.check_id WHERE c.site_id IN (?, ?)", one, none)
        check(rows[0][0] >= 4 and rows[0][1] == 2, "quorum: every verdict keeps the answers it rests on", rows)
        mails = smtp.messages()
        equal(len(mails), 1, "quorum: one alert")
        if mails:
            subject = str(parse(mails[0][0])["Subject"])
            check("DOWN two" in subject and "b, c" in subject, "quorum: the alert names the locations", subject)
            # what each location saw; a is in the verdict only if it answered in time
            lines = [l for l in body_of(mails[0][0]).split("\r\n") if l.startswith("  locations:")]
            prefix = "down from 2 of 3 locations: b http 503, c http 503; "
            check(len(lines) == 1 and lines[0].split(":", 1)[1].strip() in
                  (prefix + "a answered 200", prefix + "a did not answer"),
                  "quorum: the mail says what b and c saw", lines)
        where = history(db, "SELECT site_id, locations FROM outbox")
        check(len(where) == 1 and where[0][0] == two and
              where[0][1].startswith("down from 2 of 3 locations: b http 503, c http 503; "),
              "quorum: the outbox keeps what each location saw", where)
        equal(rcs, [0, 0, 0], "quorum: workers stop cleanly")


def test_maintenance(tmp):
    """The coordinator records through the same path: a failing site inside a
    maintenance window is marked and mails nothing; past it, one DOWN."""
    from test_mail import Smtpd, parse
    with Redis(tmp, "redis-maint") as redis, Httpd(tmp) as srv, Smtpd(tmp, "smtp-maint") as smtp:
        conf = coordinator_conf(tmp, "maint.conf", check={"fail_threshold": 1}, smtp_port=smtp.port)
        db = new_db(tmp, "maint.db")
        sid = add_sites(db, [(srv.url("/?status=503"), OWNER, {"name": "api"})])[0]
        con = sqlite3.connect(db)
        con.execute("INSERT INTO maintenance (all_sites, starts_at, ends_at) VALUES (1, ?, ?)",
                    (int(time.time()) - 60, int(time.time()) + 3600))
        con.commit()
        con.close()
        worker = Worker(tmp, "maint", redis.url, conf=conf)
        try:
            rc1, out1, err1 = once(conf, db, redis.url)
            mails_inside = len(smtp.messages())
            marked = history(db, "SELECT maintenance, ok FROM checks WHERE site_id = ?", sid)
            con = sqlite3.connect(db)
            con.execute("DELETE FROM maintenance")
            con.commit()
            con.close()
            rc2, out2, err2 = once(conf, db, redis.url)
        finally:
            rcw = worker.stop()
        equal((rc1, rc2, rcw), (0, 0, 0), "maintenance: both passes and the worker exit 0")
        equal(mails_inside, 0, "maintenance: no mail inside the window")
        equal(marked, [(1, 0)], "maintenance: the coordinator's verdict is marked with the window")
        equal([str(parse(raw)["Subject"]) for raw, _ in smtp.messages()], ["[squirrel] DOWN api (http 503)"],
              "maintenance: one DOWN past it")


def test_hostile(tmp):
    """Entries written by hand with redis-cli (garbage, file://, wrong
    versions, absurd values) change nothing: refused with one line each."""
    with Redis(tmp, "redis-hostile") as redis, Httpd(tmp, "--log", os.path.join(tmp, "hostile-httpd.log")) as srv:
        conf = coordinator_conf(tmp, "hostile.conf")
        db = new_db(tmp, "hostile.db")
        up, down = add_sites(db, [(srv.url("/?status=200"), OWNER, {}), (srv.url("/?status=503"), OWNER, {})])
        worker = Worker(tmp, "hostile", redis.url, conf=conf)
        check(worker.wait_started(), "hostile: worker started")
        future = str(int(time.time() * 1000) + 60000)
        good = ["v", "1", "check", "evil-1", "site", str(up), "timeout", "1000", "connect_timeout", "1000",
                "max_redirects", "0", "deadline", future]
        checks = [
            ["garbage", "yes"],
            good + ["url", "file:///etc/passwd"],
            good + ["url", "gopher://127.0.0.1/"],
            ["v", "2"] + good[2:] + ["url", srv.url("/hostile-v2")],
            ["v", "1", "check", "x;rm -rf", "site", str(up), "url", srv.url("/hostile-id")],
            good[:-2] + ["deadline", "tomorrow", "url", srv.url("/hostile-deadline")],
            good[:6] + ["timeout", "99999999"] + good[8:] + ["url", srv.url("/hostile-timeout")],
            good + ["url", srv.url("/hostile-dup"), "url", srv.url("/hostile-dup2")],
            good[:4] + ["site", "-5"] + good[6:] + ["url", srv.url("/hostile-site")],
        ]
        for fields in checks:
            redis.cli("XADD", "squirrel:checks", "*", *fields)
        for fields in (["garbage", "1"],
                       ["v", "1", "check", "0123456789abcdef-1", "site", str(up), "location", "default",
                        "url", srv.url("/?status=200"), "deadline", future, "started", "1", "ms", "1",
                        "status", "0", "err", "unknown"],
                       ["v", "1", "check", "0123456789abcdef-2", "site", str(up), "location", "mars",
                        "url", srv.url("/?status=200"), "deadline", future, "started", "1", "ms", "1",
                        "status", "503", "err", "http"]):
            redis.cli("XADD", "squirrel:results", "*", *fields)
        check(wait_for(lambda: worker.output().count("acknowledged without a check") >= len(checks), 20),
              "hostile: one line per bad entry", worker.output())
        # An entry whose workers kept dying on it (in location p): delivered 4
        # times, then idle. (Location default runs it once, as it should.)
        redis.call("XGROUP", "CREATE", "squirrel:checks", "p", "$", "MKSTREAM")
        poison = redis.call("XADD", "squirrel:checks", "*", *(good + ["url", srv.url("/poison")]))
        redis.call("XREADGROUP", "GROUP", "p", "ghost", "COUNT", "1", "STREAMS", "squirrel:checks", ">")
        for _ in range(3):
            redis.call("XCLAIM", "squirrel:checks", "p", "ghost", "0", poison)
        time.sleep(1.2)
        pconf = coordinator_conf(tmp, "hostile-p.conf", claim_idle=1000)
        pworker = Worker(tmp, "hostile-p", redis.url, "--location", "p", conf=pconf)
        check(wait_for(lambda: "delivered 5 times" in pworker.output(), 20),
              "hostile: an entry delivered too often is dropped with one line", pworker.output())
        equal(pworker.stop(), 0, "hostile: that worker stops cleanly")
        equal(pending(redis, "squirrel:checks", "p"), 0, "hostile: the poison entry is acknowledged")
        try:
            rc, out, err = once(conf, db, redis.url)
        finally:
            wrc = worker.stop()
        equal(rc, 0, "hostile: the pass exits 0")
        res = parse_once(out)
        equal((res[up][:2], res[down][:2], res[down][4]), (("up", 200), ("down", 503), "http 503"),
              "hostile: the real sites' verdicts are untouched")
        n = worker.output().count("acknowledged without a check")
        check(n == len(checks), f"hostile: exactly one line per bad entry ({n})", worker.output())
        check("file:///etc/passwd' refused" in worker.output(), "hostile: the file:// url is named")
        equal(wrc, 0, "hostile: the worker lived and stops cleanly")
        with open(os.path.join(tmp, "hostile-httpd.log")) as f:
            hits = f.read()
        check("hostile" not in hits, "hostile: no refused url was fetched", hits)
        equal(hits.count("/poison"), 1, "hostile: the entry dropped in p was run once, by location default")
        equal(pending(redis, "squirrel:checks", "default"), 0, "hostile: every entry acknowledged")
        check("answer" in err and "dropped" in err and "'err' is 'unknown'" in err and "'mars'" in err,
              "hostile: bad answers are dropped with their reason", err)


def test_forged(tmp):
    """An answer XADDed by hand with another run's check id, the site's id
    and its very url (a forged 503) is not a verdict: answers count only for
    checks this coordinator sent, or the run before it (recorded in the
    database), and the forged entry is named in the log."""
    with Redis(tmp, "redis-forged") as redis, Httpd(tmp) as srv:
        conf = coordinator_conf(tmp, "forged.conf", check={"fail_threshold": 1})
        db = new_db(tmp, "forged.db")
        url = srv.url("/?status=200&forged=1")
        (site,) = add_sites(db, [(url, OWNER, {})])
        worker = Worker(tmp, "forged", redis.url, conf=conf)
        try:
            check(worker.wait_started(), "forged: worker started")
            # a first pass: its run is the one the next start may adopt answers of
            rc1, out1, err1 = once(conf, db, redis.url)
            future = str(int(time.time() * 1000) + 60000)
            forged = redis.call("XADD", "squirrel:results", "*", "v", "1", "check", "fedcba9876543210-3",
                                "site", str(site), "location", "default", "worker", "evil", "url", url,
                                "deadline", future, "started", str(int(time.time() * 1000)), "ms", "1",
                                "status", "503", "err", "http", "detail", "forged")
            rc, out, err = once(conf, db, redis.url)
        finally:
            wrc = worker.stop()
        equal((rc1, parse_once(out1)[site][:2]), (0, ("up", 200)), "forged: the first pass is up")
        equal(rc, 0, "forged: the pass exits 0")
        res = parse_once(out)
        equal(res[site][:2], ("up", 200), "forged: the healthy site stays up")
        equal(history(db, "SELECT state FROM site_state WHERE site_id = ?", site), [("up",)],
              "forged: recorded up")
        equal(history(db, "SELECT count(*) FROM outbox")[0][0], 0, "forged: no alert queued")
        line = [l for l in err.splitlines() if forged in l]
        check(len(line) == 1 and "fedcba9876543210-3" in line[0] and "not sent by this coordinator" in line[0]
              and "none recorded" not in line[0],
              "forged: one log line names the forged entry and why it is dropped", err)
        check("kept for their sites" not in err, "forged: nothing adopted", err)
        equal(pending(redis, "squirrel:results", "squirreld"), 0, "forged: the forged entry is acknowledged")
        equal(wrc, 0, "forged: the worker stops cleanly")


def test_auth(tmp):
    """Redis ACLs: the right user and password work; a wrong one, or none,
    is a clear error; a password in a file others can read is refused."""
    with Redis(tmp, "redis-auth", tcp=True) as redis, Httpd(tmp) as srv:
        # the rights docs/scaling.md gives squirrel's user, no more
        redis.call("ACL", "SETUSER", "sq", "on", ">s3cret", "~squirrel:*", "+@stream", "+ping",
                   "+select", "+multi", "+exec", "+auth")
        redis.call("ACL", "SETUSER", "admin", "on", ">adm1n", "~*", "&*", "+@all")
        redis.call("ACL", "SETUSER", "default", "off")
        redis.auth = ("admin", "adm1n")
        equal(redis.call("ACL", "WHOAMI"), "admin", "auth: the default user is off")
        conf = coordinator_conf(tmp, "auth.conf")
        db = new_db(tmp, "auth.db")
        sid = add_sites(db, [(srv.url("/?status=200"), OWNER, {})])[0]
        url = f"redis://sq:s3cret@127.0.0.1:{redis.port}/0"
        worker = Worker(tmp, "auth", url, conf=conf)
        try:
            check(worker.wait_started(), "auth: the worker authenticates", worker.output())
            rc, out, err = once(conf, db, url)
        finally:
            wrc = worker.stop()
        equal((rc, parse_once(out).get(sid, ("?",))[0]), (0, "up"), "auth: a pass through an ACL user")
        equal(wrc, 0, "auth: the worker stops cleanly")
        bad = f"redis://sq:wrong@127.0.0.1:{redis.port}/0"
        rc, out, err = once(conf, db, bad)
        equal(rc, 1, "auth: a wrong password exits 1")
        check("AUTH refused (WRONGPASS" in err and "check the user and password" in err,
              "auth: a wrong password is said so", err)
        check("wrong" not in err, "auth: the password is not logged", err)
        w = Worker(tmp, "auth-bad", bad, conf=conf)
        wrc = w.proc.wait(timeout=30)
        w.stop()
        equal(wrc, 1, "auth: a worker with a wrong password exits 1")
        check("AUTH refused (WRONGPASS" in w.output(), "auth: the worker says why", w.output())
        rc, out, err = once(conf, db, f"redis://127.0.0.1:{redis.port}/0")
        check(rc == 1 and "NOAUTH" in err, "auth: no password where one is needed is said so", err)
        # a password in a configuration file others can read
        loose = os.path.join(tmp, "loose.conf")
        with open(loose, "w") as f:
            f.write(f"[redis]\nurl = {url}\n")
        os.chmod(loose, 0o644)
        rc, out, err = squirreld("--once", "--config", loose, "--db", db, "--backend", "redis")
        check(rc == 1 and "holds a password in [redis] url" in err and "chmod 600" in err,
              "auth: a password in a readable file is refused", err)


def test_refusals(tmp):
    """rediss:// refused with advice; Redis out of reach: --once exits 1 saying so;
    command line mistakes named."""
    db = new_db(tmp, "refuse.db")
    conf = coordinator_conf(tmp, "refuse.conf")
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "redis",
                             "--redis", "rediss://127.0.0.1:6380")
    check(rc == 2 and "rediss://" in err and "stunnel" in err, "rediss:// is refused with advice", err)
    rc, out, err = squirreld("--worker", "--config", conf, "--redis", "rediss://127.0.0.1:6380")
    check(rc == 2 and "stunnel" in err, "a worker refuses rediss:// too", err)
    gone = os.path.join(tmp, "no-redis.sock")
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "redis",
                             "--redis", f"unix:{gone}")
    check(rc == 1 and f"cannot use Redis at unix:{gone}" in err, "Redis out of reach: exit 1, said so", err)
    rc, out, err = squirreld("--worker", "--config", conf, "--backend", "redis")
    check(rc == 2 and "runs its checks itself" in err, "a worker cannot use the redis backend", err)
    rc, out, err = squirreld("--worker", "--config", conf, "--location", "a/b")
    check(rc == 2 and "--location 'a/b'" in err, "a bad location name is refused", err)
    rc, out, err = squirreld("--once", "--location", "a")
    check(rc == 2 and "--location is for --worker" in err, "--location without --worker", err)
    bad = coordinator_conf(tmp, "refuse-quorum.conf", locations="a, b", quorum=3)
    with Redis(tmp, "redis-refuse") as redis:
        rc, out, err = once(bad, db, redis.url)
    check(rc == 1 and "quorum is 3 but only 2 location(s)" in err, "a quorum above the locations is refused", err)


def test_worker_sigterm(tmp):
    """SIGTERM: the worker stops reading, finishes its checks, answers, exits 0."""
    with Redis(tmp, "redis-term") as redis, Httpd(tmp) as srv:
        conf = coordinator_conf(tmp, "term.conf")
        db = new_db(tmp, "term.db")
        ids = add_sites(db, [(srv.url(f"/?delay=2000&n={i}"), OWNER, {}) for i in range(5)])
        worker = Worker(tmp, "term", redis.url, conf=conf)
        check(worker.wait_started(), "sigterm: worker started")
        p = start_once(conf, db, redis.url, tmp, "term-once")
        check(wait_for(lambda: pending(redis, "squirrel:checks", "default") == 5, 20),
              "sigterm: the worker holds the five checks")
        t0 = time.monotonic()
        os.kill(worker.proc.pid, signal.SIGTERM)
        wrc = worker.proc.wait(timeout=30)
        took = time.monotonic() - t0
        rc, out, err = finish(p, 60)
        worker.stop()
        equal(wrc, 0, "sigterm: exit 0")
        check(0.5 < took < 10, f"sigterm: it waited for its checks ({took:.1f} s)")
        equal(sorted(parse_once(out)), ids, "sigterm: every check answered")
        equal({v[0] for v in parse_once(out).values()}, {"up"}, "sigterm: all up, none unknown")
        check("stopping: 5 check(s) in flight finish first" in worker.output(), "sigterm: said so", worker.output())


def test_ctl_workers(tmp):
    """squirrelctl workers (text and --json) against two workers of two
    locations holding checks; Redis out of reach or a wrong password: exit 1."""
    with Redis(tmp, "redis-ctl", tcp=True) as redis, Httpd(tmp) as srv:
        conf = coordinator_conf(tmp, "ctl.conf", locations="a, b", check={"timeout": 5000})
        db = new_db(tmp, "ctl.db")
        add_sites(db, [(srv.url(f"/?delay=2500&n={i}"), OWNER, {}) for i in range(6)])
        wa = Worker(tmp, "ctl-a", redis.url, "--location", "a", conf=conf)
        wb = Worker(tmp, "ctl-b", redis.url, "--location", "b", conf=conf)
        ctl = lambda *a: run([CTL, "--config", conf, "--db", db, "workers", "--redis", redis.url, *a],
                             timeout=30)
        try:
            check(wa.wait_started() and wb.wait_started(), "ctl: two workers started")
            p = start_once(conf, db, redis.url, tmp, "ctl-once")
            held = wait_for(lambda: pending(redis, "squirrel:checks", "a") == 6 and
                            pending(redis, "squirrel:checks", "b") == 6, 20)
            check(held, "ctl: each location holds the six checks")
            rc, out, err = ctl("--json")
            rc_text, text, err_text = ctl()
            rc_once, _, _ = finish(p, 60)
            rc2, out2, err2 = ctl("--json")
        finally:
            rcs = [wa.stop(), wb.stop()]
        equal((rc, rc_text, rc_once, rc2), (0, 0, 0, 0), "ctl: workers exits 0 (and the pass too)")
        rows = json.loads(out) if rc == 0 else []
        keys = {"stream", "location", "group", "group_pending", "lag", "consumers", "consumer",
                "consumer_pending", "idle_ms"}
        check(all(set(r) == keys for r in rows), "ctl: --json keys are the columns", out)
        checks = [r for r in rows if r["stream"] == "squirrel:checks"]
        equal(sorted({r["location"] for r in checks}), ["a", "b"], "ctl: exactly the configured locations")
        for loc, w in (("a", wa), ("b", wb)):
            mine = [r for r in checks if r["location"] == loc]
            equal(len(mine), 1, f"ctl: one consumer in {loc}")
            if mine:
                r = mine[0]
                check(r["consumer"] and r["consumer"].endswith(f"-{w.proc.pid}"),
                      f"ctl: {loc}'s consumer is its worker", r)
                equal((r["group"], r["group_pending"], r["consumer_pending"], r["consumers"], r["lag"]),
                      (loc, 6, 6, 1, 0), f"ctl: {loc} holds six checks, none waiting")
                check(isinstance(r["idle_ms"], int) and 0 <= r["idle_ms"] < 20000, f"ctl: {loc} idle ms", r)
        results = [r for r in rows if r["stream"] == "squirrel:results"]
        check(len(results) >= 1 and all(r["group"] == "squirreld" and r["location"] is None for r in results),
              "ctl: the coordinator's group on the results", results)
        lines = text.splitlines()
        check(lines and lines[0].split()[:5] == ["LOCATION", "PENDING", "LAG", "CONSUMERS", "CONSUMER"],
              "ctl: the text table's heading", text)
        check(any(l.split()[:3] == ["a", "6", "0"] for l in lines) and
              any(l.split()[:3] == ["b", "6", "0"] for l in lines) and
              any(l.startswith("(results)") for l in lines), "ctl: a row per location and the results", text)
        after = {r["location"]: r for r in json.loads(out2) if r["stream"] == "squirrel:checks"} if rc2 == 0 else {}
        equal({k: (v["group_pending"], v["consumer_pending"]) for k, v in after.items()},
              {"a": (0, 0), "b": (0, 0)}, "ctl: after the pass nothing is pending")
        res = [r for r in json.loads(out2) if r["stream"] == "squirrel:results"] if rc2 == 0 else []
        equal([r["group_pending"] for r in res], [0], "ctl: every answer acknowledged by the coordinator")
        equal(rcs, [0, 0], "ctl: workers stop cleanly")
        gone = os.path.join(tmp, "ctl-no-redis.sock")
        rc, out, err = run([CTL, "--config", conf, "workers", "--redis", f"unix:{gone}"], timeout=30)
        check(rc == 1 and f"cannot use Redis at unix:{gone}" in err and out == "",
              "ctl: Redis out of reach: exit 1, naming the url", err)
        redis.call("CONFIG", "SET", "requirepass", "right")
        redis.auth = ("default", "right")
        bad = f"redis://:wrongpw@127.0.0.1:{redis.port}/0"
        rc, out, err = run([CTL, "--config", conf, "workers", "--json", "--redis", bad], timeout=30)
        check(rc == 1 and f"127.0.0.1:{redis.port}" in err and "AUTH refused" in err and "wrongpw" not in err,
              "ctl: a wrong password: exit 1, the url without the password", err)
        rc, out, err = run([CTL, "--config", conf, "workers", "--redis",
                            f"redis://:right@127.0.0.1:{redis.port}/0"], timeout=30)
        equal(rc, 0, "ctl: the right password works")


def prom_samples(text):
    """{(name, location): value} of the per-location samples."""
    out = {}
    for line in text.splitlines():
        if line.startswith("squirrel_location_"):
            name, rest = line.split("{", 1)
            label, value = rest.rsplit("} ", 1)
            out[(name, label.split('"')[1])] = float(value)
    return out


def test_metrics_locations(tmp):
    """backend = redis with metrics_file: the file has each location's
    pending, lag, consumers and checks."""
    with Redis(tmp, "redis-metrics") as redis, Httpd(tmp) as srv:
        prom = os.path.join(tmp, "metrics-redis.prom")
        conf = coordinator_conf(tmp, "metrics.conf", locations="a, b",
                                check={"interval": 1, "timeout": 2000})
        with open(conf, "a") as f:
            f.write(f"[squirreld]\nmetrics_file = {prom}\n")
        db = new_db(tmp, "metrics.db")
        add_sites(db, [(srv.url(f"/?status=200&n={i}"), OWNER, {}) for i in range(3)])
        workers = [Worker(tmp, f"m{loc}", redis.url, "--location", loc, conf=conf) for loc in ("a", "b")]
        log = open(os.path.join(tmp, "metrics-daemon.log"), "w")
        daemon = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "redis",
                                   "--redis", redis.url], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            flowed = wait_for(lambda: history(db, "SELECT count(*) FROM checks")[0][0] >= 6, 30, step=0.2)
            check(flowed, "metrics: checks flow")
            early = wait_for(lambda: os.path.exists(prom), 20)
            check(early and "squirrel_location_pending" in open(prom).read(),
                  "metrics: the first file already has the locations")
        finally:
            rc = stop_pid(daemon, timeout=60)
            log.close()
            rcs = [w.stop() for w in workers]
        equal((rc, rcs), (0, [0, 0]), "metrics: everyone stops cleanly")
        text = open(prom).read() if os.path.exists(prom) else ""
        got = prom_samples(text)
        equal(sorted({loc for _, loc in got}), ["a", "b"], "metrics: exactly the two locations")
        for loc in ("a", "b"):
            equal(got.get(("squirrel_location_consumers", loc)), 1.0, f"metrics: one consumer in {loc}")
            p = got.get(("squirrel_location_pending", loc), -1)
            check(0 <= p <= 3, f"metrics: {loc}'s pending is a small count", text)
            lag = got.get(("squirrel_location_lag", loc), -1)
            check(0 <= lag <= 3, f"metrics: {loc}'s lag is there and small", text)
            check(got.get(("squirrel_location_checks_total", loc), 0) >= 6,
                  f"metrics: {loc} was handed the checks", text)
        for fam, typ in (("squirrel_location_pending", "gauge"), ("squirrel_location_lag", "gauge"),
                         ("squirrel_location_consumers", "gauge"),
                         ("squirrel_location_checks_total", "counter")):
            check(f"# TYPE {fam} {typ}\n" in text, f"metrics: {fam} is typed", text)
        with open(log.name) as f:
            dlog = f.read()
        check("left out" not in dlog, "metrics: no Redis error logged", dlog)


def main():
    only = sys.argv[1:]
    tests = [test_conformance, test_refusals, test_hostile, test_worker_sigterm, test_quorum,
             test_forged, test_worker_killed, test_coordinator_restart, test_auth, test_redis_restart,
             test_ctl_workers, test_metrics_locations, test_cert,
             test_maintenance]
    with tmpdir() as tmp:
        for t in tests:
            if not only or t.__name__ in only:
                print(f"# {t.__name__}", flush=True)
                t(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
