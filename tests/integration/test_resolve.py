"""The resolver (src/check/resolve.c) against real DNS servers on loopback:
dnsmasq with a generated hosts file, and tests/dns/responder.py for what
dnsmasq will not do (SERVFAIL, silence, lost queries, slow answers). Every
case runs on both paths: the event loop (resolver_lookup) and the blocking
one (resolver_lookup_wait), through tests/resolvetool."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "dns"))
from harness import check, done, equal, run, squirreld, tmpdir  # noqa: E402
from servers import Dnsmasq, Responder  # noqa: E402
from responder import address  # noqa: E402

RESOLVETOOL = os.environ.get("RESOLVETOOL", "build/tests/resolvetool")
PATHS = [("async", []), ("blocking", ["--blocking"])]

HOSTS = [
    ("127.0.0.10", "v4.test"),
    ("fd00::10", "v6.test"),
    ("127.0.0.11", "dual.test"),
    ("fd00::11", "dual.test"),
] + [(f"127.0.1.{i}", "many.test") for i in range(1, 13)]
CNAMES = [("alias.test", "v4.test")]


def resolve(server, names, *opts, timeout=120):
    """Runs resolvetool; returns ({name: (class, [addrs], ms)}, seconds, rc, stderr)."""
    t = time.monotonic()
    rc, out, err = run([RESOLVETOOL, "--servers", server, "--ms", *opts, *names], timeout=timeout)
    took = time.monotonic() - t
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) == 4:
            res[f[0]] = (f[1], f[2].split(",") if f[2] else [], int(f[3]))
    return res, took, rc, err


def test_dnsmasq(tmp):
    with Dnsmasq(tmp, HOSTS, CNAMES) as dm:
        names = ["v4.test", "v6.test", "dual.test", "alias.test", "nx.test", "other.example",
                 "many.test", "V4.Test."]
        for path, opt in PATHS:
            res, _, rc, err = resolve(dm.server, names, *opt)
            equal(rc, 0, f"{path}: resolvetool exits 0 (callbacks once, never inside lookup)")
            if not check(len(res) == len(names), f"{path}: one line per name", err):
                continue
            equal(res["v4.test"][:2], ("", ["127.0.0.10"]), f"{path}: a name with an A record")
            equal(res["v6.test"][:2], ("", ["fd00::10"]), f"{path}: a name with an AAAA record")
            equal(res["dual.test"][:2], ("", ["127.0.0.11", "fd00::11"]),
                  f"{path}: both families, IPv4 first")
            equal(res["alias.test"][:2], ("", ["127.0.0.10"]), f"{path}: a CNAME is followed")
            equal(res["V4.Test."][:2], ("", ["127.0.0.10"]),
                  f"{path}: case and a trailing dot do not matter")
            equal(res["nx.test"][:2], ("dns nxdomain", []), f"{path}: NXDOMAIN is 'dns nxdomain'")
            equal(res["other.example"][:2], ("dns", []), f"{path}: REFUSED is plain 'dns'")
            many = res["many.test"]
            check(many[0] == "" and len(many[1]) == 8 and len(set(many[1])) == 8 and
                  set(many[1]) <= {f"127.0.1.{i}" for i in range(1, 13)},
                  f"{path}: twelve A records give eight distinct addresses", many)

            res, _, rc, _ = resolve(dm.server, ["v4.test", "v6.test", "dual.test", "nx.test"],
                                    "--ip", "4", *opt)
            equal(res.get("v4.test", ())[:2], ("", ["127.0.0.10"]), f"{path}: ip 4: the A record")
            equal(res.get("v6.test", ())[:2], ("dns no address", []),
                  f"{path}: ip 4: a name with only an AAAA is 'dns no address'")
            equal(res.get("dual.test", ())[:2], ("", ["127.0.0.11"]), f"{path}: ip 4: no IPv6 address")
            equal(res.get("nx.test", ())[:2], ("dns nxdomain", []), f"{path}: ip 4: NXDOMAIN")

            res, _, rc, _ = resolve(dm.server, ["v4.test", "v6.test", "dual.test", "alias.test"],
                                    "--ip", "6", *opt)
            equal(res.get("v4.test", ())[:2], ("dns no address", []),
                  f"{path}: ip 6: a name with only an A is 'dns no address'")
            equal(res.get("v6.test", ())[:2], ("", ["fd00::10"]), f"{path}: ip 6: the AAAA record")
            equal(res.get("dual.test", ())[:2], ("", ["fd00::11"]), f"{path}: ip 6: no IPv4 address")
            equal(res.get("alias.test", ())[:2], ("dns no address", []),
                  f"{path}: ip 6: a CNAME to a name without AAAA is 'dns no address'")

        # failover: the first server SERVFAILs, the second one knows
        with Responder(tmp, mode="servfail") as sf:
            for path, opt in PATHS:
                res, _, _, _ = resolve(f"{sf.server},{dm.server}", ["v4.test", "nx.test"], *opt)
                equal(res.get("v4.test", ())[:2], ("", ["127.0.0.10"]),
                      f"{path}: a SERVFAIL from the first server hands over to the next")
                equal(res.get("nx.test", ())[:2], ("dns nxdomain", []),
                      f"{path}: the next server's NXDOMAIN is the verdict")


def test_servfail(tmp):
    for path, opt in PATHS:
        with Responder(tmp, mode="servfail") as r:
            res, took, rc, err = resolve(r.server, ["a.example"], "--tries", "3", "--ip", "4", *opt)
            st = r.stats()
        equal(res.get("a.example", ())[:2], ("dns servfail", []), f"{path}: SERVFAIL is 'dns servfail'")
        equal(st.get("by_type"), {"A": 3}, f"{path}: a SERVFAIL is asked again, tries times")
        check(took < 5, f"{path}: and at once ({took:.2f} s)")
        with Responder(tmp, mode="servfail") as r:
            res, _, _, _ = resolve(r.server, ["b.example"], "--tries", "2", *opt)
            st = r.stats()
        equal(res.get("b.example", ())[:2], ("dns servfail", []), f"{path}: ip any: 'dns servfail'")
        equal(st.get("by_type"), {"A": 2, "AAAA": 2}, f"{path}: ip any: A and AAAA, each tries times")


def test_timeout(tmp):
    for path, opt in PATHS:
        # tries * timeout, well inside the deadline
        with Responder(tmp, mode="silent") as r:
            res, took, rc, err = resolve(r.server, ["a.example"], "--tries", "3", "--timeout", "200",
                                         "--ip", "4", "--deadline", "5000", *opt)
            st = r.stats()
        cls, _, ms = res.get("a.example", ("?", [], -1))
        equal(cls, "dns timeout", f"{path}: a server that never answers: 'dns timeout'")
        equal(st.get("by_type"), {"A": 3}, f"{path}: the server saw every try (3)")
        check(550 <= ms < 1500, f"{path}: each try waits the timeout, no doubling ({ms} ms for 3 x 200)")

        with Responder(tmp, mode="silent") as r:
            res, took, rc, err = resolve(r.server, ["b.example"], "--tries", "2", "--timeout", "200", *opt)
            st = r.stats()
        equal(res.get("b.example", ("?",))[0], "dns timeout", f"{path}: ip any: 'dns timeout'")
        equal(st.get("by_type"), {"A": 2, "AAAA": 2}, f"{path}: ip any: every try of both families")

        # the deadline cuts the tries short: the check's own timeout holds
        with Responder(tmp, mode="silent") as r:
            res, took, rc, err = resolve(r.server, ["c.example"], "--tries", "5", "--timeout", "300",
                                         "--ip", "4", "--deadline", "700", *opt)
            st = r.stats()
        cls, _, ms = res.get("c.example", ("?", [], -1))
        equal(cls, "dns timeout", f"{path}: deadline: 'dns timeout'")
        check(650 <= ms < 1200, f"{path}: answered at the deadline ({ms} ms for 700)")
        equal(st.get("queries"), 3, f"{path}: tries sent before the deadline (0, 300, 600 ms)")

        # a silent first server: the next one answers within the same try
        with Responder(tmp, mode="silent") as bad, Responder(tmp) as good:
            res, _, _, _ = resolve(f"{bad.server},{good.server}", ["d.example"], "--timeout", "200",
                                   "--ip", "4", *opt)
            bs, gs = bad.stats(), good.stats()
        equal(res.get("d.example", ())[:2], ("", [address("d.example")]),
              f"{path}: a silent first server hands over to the next")
        equal((bs.get("queries"), gs.get("queries")), (1, 1), f"{path}: one query each")


def test_no_query(tmp):
    """Literals, the hosts file and localhost answer without asking."""
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("# a comment\n10.1.2.3 pinned.test pinned-alias.test\n"
                "fd00::99 pinned.test\n10.9.9.9 localhost.test # trailing comment\n")
    for path, opt in PATHS:
        with Responder(tmp) as r:
            names = ["192.0.2.7", "[2001:db8::1]", "2001:db8::2", "pinned.test", "PINNED-alias.test",
                     "localhost", "www.localhost", "bad name", "bad\\name", "x" * 254]
            res, _, rc, err = resolve(r.server, names, "--hosts", hosts, *opt)
            res4, _, _, _ = resolve(r.server, ["2001:db8::2", "pinned.test", "localhost"],
                                    "--ip", "4", "--hosts", hosts, *opt)
            res6, _, _, _ = resolve(r.server, ["192.0.2.7", "localhost"], "--ip", "6",
                                    "--hosts", "", *opt)
            st = r.stats()
        equal(rc, 0, f"{path}: resolvetool exits 0")
        equal(res.get("192.0.2.7", ())[:2], ("", ["192.0.2.7"]), f"{path}: an IPv4 literal")
        equal(res.get("[2001:db8::1]", ())[:2], ("", ["2001:db8::1"]), f"{path}: a bracketed IPv6 literal")
        equal(res.get("2001:db8::2", ())[:2], ("", ["2001:db8::2"]), f"{path}: an IPv6 literal")
        equal(res.get("pinned.test", ())[:2], ("", ["10.1.2.3", "fd00::99"]),
              f"{path}: the hosts file, both families")
        equal(res.get("PINNED-alias.test", ())[:2], ("", ["10.1.2.3"]),
              f"{path}: the hosts file's aliases, in any case")
        equal(res.get("localhost", ())[:2], ("", ["127.0.0.1", "::1"]),
              f"{path}: localhost is the loopback (RFC 6761)")
        equal(res.get("www.localhost", ())[:2], ("", ["127.0.0.1", "::1"]),
              f"{path}: so is a name under localhost")
        for bad in ("bad name", "bad\\name", "x" * 254):
            equal(res.get(bad, ("?",))[0], "dns", f"{path}: not a DNS name: 'dns' ({bad[:12]!r})")
        equal(res4.get("2001:db8::2", ())[:2], ("dns no address", []),
              f"{path}: ip 4: an IPv6 literal is 'dns no address'")
        equal(res4.get("pinned.test", ())[:2], ("", ["10.1.2.3"]), f"{path}: ip 4: the hosts file's IPv4")
        equal(res4.get("localhost", ())[:2], ("", ["127.0.0.1"]), f"{path}: ip 4: localhost")
        equal(res6.get("192.0.2.7", ())[:2], ("dns no address", []),
              f"{path}: ip 6: an IPv4 literal is 'dns no address'")
        equal(res6.get("localhost", ())[:2], ("", ["::1"]), f"{path}: ip 6: localhost")
        equal(st.get("queries"), 0, f"{path}: none of these asked the server")


def test_max_inflight(tmp):
    """The server answers after 50 ms and counts the names it holds."""
    names = [f"n{i}.example" for i in range(300)]
    for ip in ("4", "any"):
        with Responder(tmp, delay=50) as r:
            res, took, rc, err = resolve(r.server, names, "--max-inflight", "50", "--ip", ip)
            st = r.stats()
        ok = [n for n in names if res.get(n, ("?", []))[:2] == ("", [address(n)])]
        equal(len(ok), len(names), f"ip {ip}: 300 names through max_inflight 50, all resolved")
        mo = st.get("max_outstanding_names", -1)
        check(25 <= mo <= 50,
              f"ip {ip}: at most 50 lookups at the server at once, and the room used (saw {mo})")
        check(took < 10, f"ip {ip}: in turns, not one by one ({took:.2f} s; 6 turns of 50 ms)")


def test_loss(tmp):
    """A quarter of the names lose their first query of each type: 20 % of
    all queries, never every try of a lookup. Nothing may fail, and a lost
    query is asked again after the server's RTO (tens of ms here), not
    after the whole dns_timeout (2 s)."""
    names = [f"site{i}.example" for i in range(500)]
    for path, opt, limit in (("async", [], 1.5), ("blocking", ["--blocking"], 40)):
        with Responder(tmp, drop_first=25) as r:
            res, took, rc, err = resolve(r.server, names, "--tries", "2", "--timeout", "2000", *opt)
            st = r.stats()
        bad = [(n, res.get(n)) for n in names if res.get(n, ("?", []))[:2] != ("", [address(n)])]
        equal(bad, [], f"{path}: 500 names, 20 % of queries dropped: every one resolved")
        share = st.get("dropped", 0) / max(1, st.get("queries", 1))
        check(0.12 <= share <= 0.25, f"{path}: the share dropped was about 20 % ({share:.1%})")
        slow = [n for n in names if res.get(n, ("?", [], 0))[2] >= 1900]
        check(took < limit and len(slow) <= 1,
              f"{path}: lost queries hedged, not waited out ({took:.1f} s; {len(slow)} took 2 s)")


def test_overload(tmp):
    """A server that is slow under load: one query at a time, 1 ms each,
    at most 48 waiting; a query that finds 48 waiting is lost, as a full
    socket buffer loses it (a stock dnsmasq loses queries past about 200).
    400 names at once, dns_max_inflight 200 (the default) as the ceiling:
    the lookups in flight start low and grow only while no queue builds
    up, so no query is lost and every name resolves: no false down."""
    names = [f"load{i}.example" for i in range(400)]
    with Responder(tmp, service=1, queue=48) as r:
        res, took, rc, err = resolve(r.server, names, "--max-inflight", "200")
        st = r.stats()
    equal(rc, 0, "overload: resolvetool exits 0")
    bad = [(n, res.get(n)) for n in names if res.get(n, ("?", []))[:2] != ("", [address(n)])]
    equal(bad, [], "overload: 400 names at a server that holds 48 queries: every one resolved")
    equal(st.get("overflow"), 0, "overload: no query lost at the server")
    equal(st.get("queries"), 800, "overload: one query per name and type, none asked again")
    check(st.get("max_outstanding", 99) <= 48 and took < 5,
          f"overload: within what the server holds ({st.get('max_outstanding')} waiting at most), "
          f"in {took:.2f} s")


def test_overflow(tmp):
    """A server that answers every query in 20 ms but holds at most 60 at
    once, and loses what comes beyond: no queue shows before the loss, so
    only the loss can tell. The window grows past what it holds, a query
    is lost, its hedge finds the server answering later ones, and the
    window halves. 1,000 names, dns_max_inflight 200: every one resolves.
    (Before: 52 to 61 'dns timeout' and over 1,000 queries lost; with the
    window but without the halving: 42 to 60, over 2,200.)"""
    names = [f"cap{i}.example" for i in range(1000)]
    with Responder(tmp, delay=20, service=0.01, queue=60) as r:
        res, took, rc, err = resolve(r.server, names, "--max-inflight", "200", timeout=60)
        st = r.stats()
    equal(rc, 0, "overflow: resolvetool exits 0")
    bad = [(n, res.get(n)) for n in names if res.get(n, ("?", []))[:2] != ("", [address(n)])]
    equal(bad, [], "overflow: 1,000 names at a server that holds 60 queries: every one resolved")
    lost = st.get("overflow", -1)
    check(0 <= lost <= 500 and took < 20,
          f"overflow: the window backs off: {lost} of {st.get('queries')} queries lost "
          f"(at most 500), in {took:.2f} s")


def test_abandon(tmp):
    """resolver_free() with lookups pending drops them: no callback, no leak
    (the sanitizer build checks the leak)."""
    with Responder(tmp, mode="silent") as r:
        names = [f"n{i}.example" for i in range(20)]
        rc, out, err = run([RESOLVETOOL, "--servers", r.server, "--max-inflight", "5",
                            "--abandon", "200", *names], timeout=60)
    equal(rc, 0, "freeing a resolver with lookups pending")
    equal(out.strip(), "abandoned 20", "every pending lookup dropped, none answered")


def test_servers_value(tmp):
    """dns_servers as config.c accepts it; an IP literal sends no query, so
    none of this leaves the machine."""
    for value in ("", "127.0.0.1", "127.0.0.1:5353, [::1]:53 , ::1", "[::1]", "127.0.0.1:53,"):
        rc, out, err = run([RESOLVETOOL, "--servers", value, "192.0.2.1"], timeout=30)
        equal((rc, out), (0, "192.0.2.1\t\t192.0.2.1\n"),
              f"dns_servers {value!r} accepted" + (" (/etc/resolv.conf)" if value == "" else ""))
    for value in ("1.2.3", "127.0.0.1:70000", "127.0.0.1:0", "127.0.0.1:", "[::1", "[::1]x",
                  "example.org", "127.0.0.1:53:53"):
        rc, out, err = run([RESOLVETOOL, "--servers", value, "192.0.2.1"], timeout=30)
        check(rc == 1 and f"dns_servers: '{value}' is not an address" in err,
              f"dns_servers {value!r} refused, naming the key and the value", err)


def test_bad_servers(tmp):
    """squirreld refuses a malformed dns_servers itself, naming the key."""
    conf = os.path.join(tmp, "dns.conf")
    with open(conf, "w") as f:
        f.write("[check]\ndns_servers = 1.2.3\n")
    db = os.path.join(tmp, "dns.db")
    rc, out, err = squirreld("--once", "--config", conf, "--db", db, "--backend", "serial", timeout=30)
    equal(rc, 1, "squirreld refuses dns_servers = 1.2.3")
    check(f"{conf}:2:" in err and "dns_servers" in err, "naming the file, the line and the key", err)


def main():
    with tmpdir() as tmp:
        test_dnsmasq(tmp)
        test_servfail(tmp)
        test_timeout(tmp)
        test_no_query(tmp)
        test_max_inflight(tmp)
        test_loss(tmp)
        test_overload(tmp)
        test_overflow(tmp)
        test_abandon(tmp)
        test_servers_value(tmp)
        test_bad_servers(tmp)
    return done()


if __name__ == "__main__":
    sys.exit(main())
