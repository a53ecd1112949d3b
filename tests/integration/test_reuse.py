"""One handle, one check after another: a probe and its libcurl handle are
kept and reused from check to check, so each check must carry its own
site's options and nothing of the site before. With one check at a time,
every site of the pass goes through the same handle in turn: a GET with a
keyword, then a plain HEAD, a HEAD refused and asked again with GET, a
check by name after checks by address, an expected 404 before a site for
which 404 is down. The server's log says which method each site got."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Httpd, add_sites, check, done, empty_config, equal,  # noqa: E402
                     new_db, parse_once, squirreld, tmpdir)


def sites(srv):
    """(url, extra columns, want (state, status, error), methods the server sees)."""
    return [
        (srv.url("/1?body=300&text=Welcome"), {"keyword": "Welcome"}, ("up", 200, ""), ["GET"]),
        (srv.url("/2?body=300&text=Oops"), {}, ("up", 200, ""), ["HEAD"]),
        (srv.url("/3?text=ERROR"), {"keyword": "ERROR", "keyword_mode": "absent"},
         ("down", 200, "keyword present"), ["GET"]),
        (srv.url("/4?text=ERROR"), {}, ("up", 200, ""), ["HEAD"]),
        (srv.url("/5?status=404"), {"expect_status": "404"}, ("up", 404, ""), ["HEAD"]),
        (srv.url("/6?status=404"), {}, ("down", 404, "http 404"), ["HEAD"]),
        (srv.url("/7?head=405"), {}, ("up", 200, ""), ["HEAD", "GET"]),
        (srv.url("/8"), {}, ("up", 200, ""), ["HEAD"]),
        (srv.url("/9", host="localhost"), {}, ("up", 200, ""), ["HEAD"]),
        (srv.url("/10?body=300&text=welcome"), {"keyword": "WELCOME", "keyword_nocase": 1},
         ("up", 200, ""), ["GET"]),
        (srv.url("/11?body=300&text=welcome"), {"keyword": "WELCOME"},
         ("down", 200, "keyword missing"), ["GET"]),
        (srv.url("/12"), {}, ("up", 200, ""), ["HEAD"]),
    ]


def logged(path):
    """{target's first path segment: [methods in order]} from sq-httpd's log."""
    seen = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                key = parts[3].split("?")[0]
                seen.setdefault(key, []).append(parts[2])
    return seen


def main():
    specs = sys.argv[1:] or ["serial"]
    with tmpdir() as tmp:
        for spec in specs:
            name, *args = spec.split(":")
            args = [a for a in args if a]
            log = os.path.join(tmp, f"requests-{name}.log")
            db = new_db(tmp, f"reuse-{name}.db")
            with Httpd(tmp, "--log", log) as srv:
                rows = sites(srv)
                ids = add_sites(db, [(u, "ops@example.org", extra) for u, extra, _, _ in rows])
                rc, out, err = squirreld("--once", "--config", empty_config(tmp), "--db", db,
                                         "--backend", name, *args, timeout=120)
            equal(rc, 0, f"{name}: exit 0 ({err.strip()})")
            res = parse_once(out)
            seen = logged(log)
            for sid, (url, _, want, methods) in zip(ids, rows):
                got = res.get(sid)
                check(got is not None, f"{name}: site {url} reported")
                if got is None:
                    continue
                equal((got[0], got[1], got[4]), want, f"{name}: {url}: state, status, error")
                path = "/" + url.split("/", 3)[3].split("?")[0]
                equal(seen.get(path), methods, f"{name}: {url}: the methods the server saw")
    return done()


if __name__ == "__main__":
    sys.exit(main())
