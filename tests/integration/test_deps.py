"""Dependencies end to end: squirreld against a real HTTP server and a real
SMTP server on loopback. A site behind a parent that is down (or failed in
the same pass) is `parent down`, sends nothing and opens no incident; the
parent's DOWN mail lists it, its UP mail says whether it came back; a site
still failing after its parent is UP alerts on its own. Cycles: refused by
squirrelctl, said once per load when typed with sqlite3."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SQUIRRELD, CtlEnv, Httpd, add_sites, check, done, equal,  # noqa: E402
                     new_db, parse_once, squirreld, stop_pid, tmpdir, wait_for)
from test_mail import FROM, Smtpd, parse  # noqa: E402

OWNER = "ops@example.org"
CHILD_OWNER = "team@example.org"


def config(tmp, name, port, **check_keys):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = {FROM}\ntimeout = 3000\n")
        f.write("[check]\n")
        for k, v in check_keys.items():
            f.write(f"{k} = {v}\n")
    return path


def once(conf, db, backend="serial"):
    return squirreld("--once", "--config", conf, "--db", db, "--backend", backend, timeout=300)


def sql(db, statement, args=()):
    con = sqlite3.connect(db)
    rows = con.execute(statement, args).fetchall()
    con.commit()
    con.close()
    return rows


def mails(srv):
    """[(subject, recipients, body)] in the order received."""
    out = []
    for raw, meta in srv.messages():
        m = parse(raw)
        out.append((str(m["Subject"]), meta["rcpt_tos"], m.get_body().get_content()))
    return out


def test_chain(tmp, httpd):
    """a -> b -> c, the child made first (lower ids: results of a batch come
    in any order); a down makes b and c parent down, whatever the order."""
    with Smtpd(tmp, "smtp-chain") as smtp:
        conf = config(tmp, "chain.conf", smtp.port)
        db = new_db(tmp, "chain.db")
        c, b, a = add_sites(db, [(httpd.url("/c?status=503"), CHILD_OWNER, {"name": "c"}),
                                 (httpd.url("/b?status=503"), CHILD_OWNER, {"name": "b"}),
                                 (httpd.url("/a?status=503"), OWNER, {"name": "a"})])
        sql(db, "UPDATE sites SET depends_on = ? WHERE id = ?", (b, c))
        sql(db, "UPDATE sites SET depends_on = ? WHERE id = ?", (a, b))
        rc, out, err = once(conf, db)
        equal(rc, 0, "chain: exit 0")
        res = parse_once(out)
        equal(res[a][0::4], ("down", "http 503"), "chain: a fails on its own")
        equal(res[b][0::4], ("down", f"parent down: site {a}: http 503"),
              "chain: b is parent down, with its parent's id and error")
        equal(res[c][0::4], ("down", f"parent down: site {b}, behind site {a}: http 503"),
              "chain: c is parent down, behind a through b")
        rc, out, err = once(conf, db)
        got = mails(smtp)
        equal([(s, r) for s, r, _ in got], [("[squirrel] DOWN a (http 503)", [OWNER])],
              "chain: one mail, a's DOWN, none for b or c")
        body = got[0][2] if got else ""
        check("2 are failing too (parent down)" in body and f"b (site {b})" in body
              and f"c (site {c})" in body, "chain: a's DOWN lists b and c", body)
        equal(sql(db, "SELECT class, detail FROM checks WHERE site_id = ? ORDER BY id", (b,)),
              [(30, f"parent down: site {a}: http 503")] * 2, "chain: b's history says parent down")
        equal(sql(db, "SELECT site_id FROM incidents ORDER BY site_id"), [(a,)],
              "chain: one incident, a's")
        equal(sql(db, "SELECT site_id, state FROM site_state WHERE site_id IN (?, ?) ORDER BY site_id",
                  (c, b)), [(c, "unknown"), (b, "unknown")],
              "chain: the children's state machine never saw the failures")
        # a is back; b still fails: its own failures count from now
        sql(db, "UPDATE sites SET url = ? WHERE id = ?", (httpd.url("/a?status=200"), a))
        rc, out, err = once(conf, db)
        res = parse_once(out)
        equal((res[a][0], res[b][4], res[c][4]),
              ("up", "http 503", f"parent down: site {b}: http 503"),
              "chain: a up, b fails on its own, c behind b now")
        got = mails(smtp)
        equal(len(got), 2, "chain: a's UP mail, nothing else")
        up = got[1][2] if len(got) == 2 else ""
        check(got[1][0].startswith("[squirrel] UP a after") if len(got) == 2 else False,
              "chain: the UP subject", got)
        check("0 back up, 2 still failing" in up and f"b (site {b})" in up,
              "chain: a's UP mail says which are still failing", up)
        rc, out, err = once(conf, db)
        got = mails(smtp)
        equal([(s, r) for s, r, _ in got[2:]], [("[squirrel] DOWN b (http 503)", [CHILD_OWNER])],
              "chain: b still failing after a is UP: its own DOWN after fail_threshold (2)")
        body = got[2][2] if len(got) > 2 else ""
        check(f"c (site {c})" in body and "1 is failing too" in body, "chain: b's DOWN lists c", body)
        # all back: b's UP says c came back
        for sid, path in ((b, "/b"), (c, "/c")):
            sql(db, "UPDATE sites SET url = ? WHERE id = ?", (httpd.url(path + "?status=200"), sid))
        rc, out, err = once(conf, db)
        got = mails(smtp)
        equal(len(got), 4, "chain: b's UP, and no mail for c")
        up = got[3][2] if len(got) == 4 else ""
        check("1 back up, 0 still failing" in up and f"c (site {c})" in up,
              "chain: b's UP says c came back", up)
        equal(sql(db, "SELECT count(*) FROM site_state WHERE behind IS NOT NULL OR parent_down"),
              [(0,)], "chain: nobody is behind anybody any more")


def test_many(tmp, httpd):
    """1000 sites behind one parent: one DOWN mail, the children counted
    and ten of them named; the pass stays linear (timed for the report)."""
    n = 1000
    with Smtpd(tmp, "smtp-many") as smtp:
        conf = config(tmp, "many.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "many.db")
        parent = add_sites(db, [(httpd.url("/p?status=503"), OWNER, {"name": "lb"})])[0]
        kids = add_sites(db, [(httpd.url(f"/k{i}?status=503"), CHILD_OWNER, {"depends_on": parent})
                              for i in range(n)])
        t0 = time.monotonic()
        rc, out, err = once(conf, db, "threads")
        wall = time.monotonic() - t0
        equal(rc, 0, "many: exit 0")
        res = parse_once(out)
        behind = sum(1 for k in kids if res.get(k, ("",) * 5)[4] == f"parent down: site {parent}: http 503")
        equal(behind, n, "many: every child is parent down")
        got = mails(smtp)
        equal([(s, r) for s, r, _ in got], [("[squirrel] DOWN lb (http 503)", [OWNER])],
              "many: one mail, the parent's DOWN")
        body = got[0][2] if got else ""
        named = re.findall(r"^ {6}\S.* \(site (\d+)\)\s*$", body, re.M)
        equal(len(named), 10, "many: ten children named")
        check(f"{n} are failing too" in body and f"and {n - 10} more" in body,
              "many: the rest counted", body)
        check(len(body) < 3000, "many: the mail stays small", len(body))
        equal(sql(db, "SELECT children, children_back, (SELECT count(*) FROM outbox_children)"
                      " FROM outbox"), [(n, 0, 10)], "many: the outbox keeps the count and ten")
        equal(sql(db, "SELECT count(*) FROM incidents"), [(1,)], "many: one incident")
        print(f"# many: a pass of {n} children with their parent down: {wall:.2f} s")
        sql(db, "UPDATE sites SET url = ? WHERE id = ?", (httpd.url("/p?status=200"), parent))
        rc, out, err = once(conf, db, "threads")
        got = mails(smtp)
        equal(len(got), 7, "many: the parent's UP, and the children's own DOWN (fail_threshold 1)")
        ups = [b for s, r, b in got[1:] if s.startswith("[squirrel] UP lb after") and r == [OWNER]]
        equal(len(ups), 1, "many: one UP mail for the parent")
        up = ups[0] if ups else ""
        check(f"0 back up, {n} still failing" in up and f"and {n - 10} more" in up,
              "many: the UP mail counts the children still failing", up)
        # the children now fail on their own: digests of 200 to their owner
        equal(sorted((s, r) for s, r, _ in got[1:] if r == [CHILD_OWNER]),
              [("[squirrel] 200 sites DOWN", [CHILD_OWNER])] * (n // 200),
              "many: the children alert on their own once the parent is up")


def test_ctl_cycle(tmp):
    env = CtlEnv(tmp, "ctl-deps.db")
    equal(env.ctl("init")[0], 0, "ctl: init")
    ids = []
    for i in range(3):
        rc, out, err = env.ctl("--json", "add", f"http://127.0.0.1:9/{i}", OWNER)
        equal(rc, 0, f"ctl: add {i}")
        ids.append(sql(env.db, "SELECT max(id) FROM sites")[0][0])
    a, b, c = ids
    rc, out, err = env.ctl("edit", str(b), "--depends-on", str(a))
    equal(rc, 0, "ctl: b depends on a")
    rc, out, err = env.ctl("--json", "edit", str(c), "--depends-on", str(b))
    equal(rc, 0, "ctl: c depends on b")
    check('"depends_on":' + str(b) in out.replace(" ", ""), "ctl: edit shows depends_on", out)
    rc, out, err = env.ctl("edit", str(a), "--depends-on", str(c))
    equal(rc, 1, "ctl: a cycle is refused")
    equal(err.strip(), f"squirrelctl: site {a} cannot depend on site {c}: that makes a cycle: "
          f"site {a} -> site {c} -> site {b} -> site {a}", "ctl: the message names the chain")
    rc, out, err = env.ctl("edit", str(a), "--depends-on", str(a))
    equal((rc, err.strip()), (1, f"squirrelctl: site {a} cannot depend on site {a}: site {a} would "
          "depend on itself"), "ctl: a site on itself is refused")
    rc, out, err = env.ctl("edit", str(a), "--depends-on", "99")
    equal((rc, err.strip()), (1, f"squirrelctl: site {a} cannot depend on site 99: there is no site 99"),
          "ctl: a missing parent is refused")
    rc, out, err = env.ctl("add", "http://127.0.0.1:9/new", OWNER, "--depends-on", "99")
    equal((rc, err.strip()), (1, "squirrelctl: the new site cannot depend on site 99: there is no "
          "site 99"), "ctl: add refuses a missing parent")
    equal(sql(env.db, "SELECT count(*) FROM sites"), [(3,)], "ctl: nothing added")
    equal(sql(env.db, "SELECT id, depends_on FROM sites ORDER BY id"), [(a, None), (b, a), (c, b)],
          "ctl: nothing changed by the refusals")
    rc, out, err = env.ctl("edit", str(a), "--depends-on", "x")
    equal(rc, 2, "ctl: a bad value is a usage error")
    check("--depends-on 'x': expected a site id, or 'none' for no parent" in err, "ctl: its words", err)
    rc, out, err = env.ctl("add", "http://127.0.0.1:9/d", OWNER, "--depends-on", str(c))
    equal(rc, 0, "ctl: add with a parent")
    equal(sql(env.db, "SELECT depends_on FROM sites WHERE url = 'http://127.0.0.1:9/d'"), [(c,)],
          "ctl: add wrote it")
    rc, out, err = env.ctl("edit", str(c), "--depends-on", "none")
    equal(rc, 0, "ctl: --depends-on none")
    equal(sql(env.db, "SELECT depends_on FROM sites WHERE id = ?", (c,)), [(None,)], "ctl: none is NULL")


def test_sql_cycle(tmp, httpd):
    """A cycle typed with sqlite3: said once per load (not per pass), and
    its sites alert on their own."""
    with Smtpd(tmp, "smtp-cycle") as smtp:
        conf = config(tmp, "cycle.conf", smtp.port, fail_threshold=1)
        db = new_db(tmp, "cycle.db")
        x, y, z = add_sites(db, [(httpd.url("/x?status=503"), OWNER, {"interval_s": 1}),
                                 (httpd.url("/y?status=503"), OWNER, {"interval_s": 1}),
                                 (httpd.url("/z?status=503"), OWNER, {"interval_s": 1})])
        sql(db, "UPDATE sites SET depends_on = ? WHERE id = ?", (y, x))
        sql(db, "UPDATE sites SET depends_on = ? WHERE id = ?", (x, y))
        sql(db, "UPDATE sites SET depends_on = ? WHERE id = ?", (x, z))
        rc, out, err = once(conf, db)
        res = parse_once(out)
        equal((res[x][4], res[y][4]), ("http 503", "http 503"), "sql cycle: x and y fail on their own")
        equal(res[z][4], f"parent down: site {x}: http 503", "sql cycle: z, behind x, is parent down")
        line = f"sites depend on each other in a cycle (site {x} -> site {y} -> site {x})"
        equal(err.count(line), 1, "sql cycle: said once, by its chain")
        equal(sorted(r for _, r, _ in mails(smtp)), [[OWNER]], "sql cycle: one digest for x and y")
        # the daemon: many passes, one load, one line
        logf = open(os.path.join(tmp, "cycle-daemon.err"), "w")
        proc = subprocess.Popen([SQUIRRELD, "--config", conf, "--db", db, "--backend", "serial"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=logf)
        try:
            wait_for(lambda: sql(db, "SELECT count(*) FROM checks WHERE site_id = ?", (x,))[0][0] >= 4, 15,
                     step=0.2)
        finally:
            stop_pid(proc, signal.SIGTERM)
            logf.close()
        with open(logf.name) as f:
            log = f.read()
        check(sql(db, "SELECT count(*) FROM checks WHERE site_id = ?", (x,))[0][0] >= 4,
              "sql cycle: the daemon checked x again and again")
        check(log.count("depend on each other in a cycle") == 1, "sql cycle: the daemon says it once", log)
        # the daemon's batches: z stays behind x, never alerts, never opens an incident
        equal(sql(db, "SELECT DISTINCT class, detail FROM checks WHERE site_id = ?", (z,)),
              [(30, f"parent down: site {x}: http 503")], "sql cycle: the daemon records z as parent down")
        equal(sql(db, "SELECT count(*) FROM outbox WHERE site_id = ?", (z,)), [(0,)],
              "sql cycle: no alert for z")
        equal(sql(db, "SELECT site_id FROM incidents ORDER BY site_id"), [(x,), (y,)],
              "sql cycle: incidents for x and y only")


def main():
    with tmpdir() as tmp:
        with Httpd(tmp) as httpd:
            test_chain(tmp, httpd)
            test_ctl_cycle(tmp)
            test_sql_cycle(tmp, httpd)
            test_many(tmp, httpd)
    return done()


if __name__ == "__main__":
    sys.exit(main())
