#!/usr/bin/env python3
"""dns_bench.py - what looking names up costs squirreld, and whether a lossy
resolver turns into false outages.

A local dnsmasq serves N names (s00000.bench.test, ...), each mapped to its
own loopback address of the test HTTP server, and the same sites are checked
by name and by literal IP with `squirreld --once` (libev): wall, CPU per
check and the name/IP ratios. The references (minloop, curl --parallel) run
by name too, inside a private mount namespace whose /etc/resolv.conf points
at the dnsmasq. Then several passes by name through a proxy that drops a
share of the DNS queries (never every try of one lookup) count the sites
reported down; passes by name against a second setting, a slow server
with a small receive buffer (the same proxy, dropping nothing on purpose,
its socket's buffer small), count the queries its socket dropped and the
sites reported down; and a smaller N by name shows whether CPU per check
grows with N. squirreld runs with its default DNS settings unless
--dns-max-inflight says otherwise.

Reuses bench.py (same directory). Standard library only; needs root for
port 53 and the mount namespace of the references. See bench/README.md.
"""

import argparse
import copy
import grp
import json
import os
import pwd
import resource
import selectors
import shutil
import signal
import socket
import statistics
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "dns"))

import bench  # noqa: E402
import responder  # noqa: E402  (parse_query, unlucky: the tests' DNS helpers)

DOMAIN = "bench.test"
DNS_ADDR = "127.53.0.1"     # the references' resolv.conf takes no port: 53 on this address
CONTROL = b"\0drop-proxy-reset"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def site_names(n):
    width = max(4, len(str(n - 1)))
    return ["s%0*d.%s" % (width, i, DOMAIN) for i in range(n)]


# ---------------------------------------------------------------- DNS helpers

def dns_query(addr, port, name, qtype=1, timeout=1.0):
    """(rcode, [IPv4 addresses]) of one UDP query, or None without an answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        qid = os.getpid() & 0xffff
        s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + responder.encode_name(name)
                 + struct.pack(">HH", qtype, 1), (addr, port))
        data, _ = s.recvfrom(4096)
    except OSError:
        return None
    finally:
        s.close()
    rcode = struct.unpack(">H", data[2:4])[0] & 0xf
    an = struct.unpack(">H", data[6:8])[0]
    i = 12
    while data[i]:                   # the question's name (no compression there)
        i += data[i] + 1
    i += 5
    out = []
    for _ in range(an):
        if data[i] & 0xc0:
            i += 2
        else:
            while data[i]:
                i += data[i] + 1
            i += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(data[i:i + 4]))
        i += rdlen
    return rcode, out


def port_free(addr, port):
    """True when both UDP and TCP addr:port can be bound."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


class Dnsmasq:
    """dnsmasq serving (address, name) pairs on addr:port, no upstream: names
    under DOMAIN it does not know are NXDOMAIN. The flags are those of
    tests/dns/servers.py's Dnsmasq, which listens on 127.0.0.1 at a free
    port; the references' resolv.conf needs port 53, so the address is ours."""

    def __init__(self, tmp, hosts, addr, port):
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.path.exists(exe):
            raise RuntimeError("dnsmasq is not installed (Debian: dnsmasq-base)")
        self.addr, self.port = addr, port
        self.hosts_file = os.path.join(tmp, "dns.hosts")
        with open(self.hosts_file, "w") as f:
            for a, name in hosts:
                f.write("%s %s\n" % (a, name))
        os.chmod(self.hosts_file, 0o644)
        self.log = os.path.join(tmp, "dnsmasq.log")
        argv = [exe, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--addn-hosts=%s" % self.hosts_file, "--port=%d" % port,
                "--listen-address=%s" % addr, "--bind-interfaces", "--pid-file=",
                "--user=%s" % pwd.getpwuid(os.getuid()).pw_name,
                "--group=%s" % grp.getgrgid(os.getgid()).gr_name,
                "--local=/%s/" % DOMAIN, "--log-facility=-"]
        with open(self.log, "w") as log:
            self.proc = bench.Proc(argv, stdout=log, stderr=log)

    def wait_ready(self, probes, timeout=10):
        """Waits until every (address, name) of probes resolves to its address."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.done():
                with open(self.log, errors="replace") as f:
                    raise RuntimeError("dnsmasq exited (%s): %s" % (self.proc.exitcode, f.read().strip()))
            if all((dns_query(self.addr, self.port, name, timeout=0.2) or (None, []))[1] == [a]
                   for a, name in probes):
                return
            time.sleep(0.05)
        raise RuntimeError("dnsmasq on %s:%d does not answer for %s within %d s"
                           % (self.addr, self.port, DOMAIN, timeout))

    def cpu(self):
        return bench.proc_cpu(self.proc.pid)

    def stop(self):
        self.proc.stop()


# ---------------------------------------------------------------- the dropping proxy

def udp_drops_at(addr, port):
    """The kernel's drop count of the UDP sockets bound to addr:port (all of
    this network namespace, from /proc/net/udp)."""
    a = socket.inet_aton(addr)
    want = "%08X:%04X" % (struct.unpack("<I", a)[0], port)
    total = 0
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[1] == want:
                    total += int(cols[-1])
    except (OSError, ValueError, StopIteration):
        pass
    return total


def proxy_main(argv):
    """A UDP proxy in front of a DNS server that drops, in every period
    between two resets, the first query of each (name, type) for the names
    that responder.unlucky() picks: every later try of a lookup gets
    through, so no lookup loses all its tries. Query ids are rewritten on
    the way up and back, so clients' ids never collide at the server.
    A CONTROL datagram resets the period and is answered with its counts."""
    ap = argparse.ArgumentParser(prog="dns_bench.py --drop-proxy")
    ap.add_argument("--upstream", required=True, help="ADDR:PORT of the DNS server")
    ap.add_argument("--drop-names", type=int, required=True, help="percent of names picked")
    ap.add_argument("--rcvbuf", type=int, default=0,
                    help="receive buffer of the socket the clients send to, bytes (0: 16 MiB)")
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args(argv)
    up_addr, _, up_port = a.upstream.rpartition(":")
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (front, back):
        size = a.rcvbuf if s is front and a.rcvbuf > 0 else 16 << 20
        for opt in (33, socket.SO_RCVBUF):   # 33: SO_RCVBUFFORCE, past rmem_max (root)
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, size)
                break
            except OSError:
                continue
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    front.bind(("127.0.0.1", 0))
    back.bind(("127.0.0.1", 0))
    back.connect((up_addr, int(up_port)))
    front.setblocking(False)
    back.setblocking(False)
    ports = (front.getsockname()[1], back.getsockname()[1])
    sel = selectors.DefaultSelector()
    sel.register(front, selectors.EVENT_READ, "front")
    sel.register(back, selectors.EVENT_READ, "back")

    def fresh():
        return {"queries": 0, "dropped": 0, "forwarded": 0, "answered": 0, "unmatched": 0,
                "names": 0, "names_hit": 0}
    stats, seen, names = fresh(), set(), set()
    kernel_drops = 0             # the sockets' count at the last reset: theirs only grows
    pending = {}                 # our id: (client's id bytes, client address)
    next_id = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ports[0])
    os.rename(tmp, a.port_file)
    while not stop:
        try:
            events = sel.select(0.5)
        except InterruptedError:
            continue
        for key, _ in events:
            sock = key.fileobj
            while True:
                try:
                    data, peer = sock.recvfrom(4096)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                if key.data == "back":
                    if len(data) < 12:
                        continue
                    entry = pending.pop(struct.unpack(">H", data[:2])[0], None)
                    if entry is None:
                        stats["unmatched"] += 1
                        continue
                    try:
                        front.sendto(entry[0] + data[2:], entry[1])
                        stats["answered"] += 1
                    except OSError:
                        pass
                    continue
                if data == CONTROL:
                    now_drops = sum(udp_drops_at("127.0.0.1", p) for p in ports)
                    stats["kernel_drops"] = now_drops - kernel_drops
                    kernel_drops = now_drops
                    stats["names"] = len(names)
                    front.sendto(json.dumps(stats).encode(), peer)
                    stats, seen, names = fresh(), set(), set()
                    continue
                q = responder.parse_query(data)
                if q is None:
                    continue
                name, qtype = q[2].lower(), q[3]
                stats["queries"] += 1
                names.add(name)
                if responder.unlucky(name, a.drop_names) and (name, qtype) not in seen:
                    if not any((name, t) in seen for t in (1, 28)):
                        stats["names_hit"] += 1
                    seen.add((name, qtype))
                    stats["dropped"] += 1
                    continue
                next_id = (next_id + 1) & 0xffff
                pending[next_id] = (data[:2], peer)
                try:
                    back.send(struct.pack(">H", next_id) + data[2:])
                    stats["forwarded"] += 1
                except OSError:
                    pending.pop(next_id, None)
    return 0


class DropProxy:
    def __init__(self, tmp, upstream, drop_names, rcvbuf=0):
        tag = "proxy-%d" % rcvbuf if rcvbuf else "proxy"
        self.port_file = os.path.join(tmp, tag + ".port")
        self.log = os.path.join(tmp, tag + ".stderr")
        argv = [PYTHON, os.path.abspath(__file__), "--drop-proxy", "--upstream", upstream,
                "--drop-names", str(drop_names), "--rcvbuf", str(rcvbuf),
                "--port-file", self.port_file]
        with open(self.log, "w") as err:
            self.proc = bench.Proc(argv, stderr=err)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.port_file):
            if self.proc.done() or time.monotonic() > deadline:
                with open(self.log, errors="replace") as f:
                    raise RuntimeError("the dropping proxy did not start: %s" % bench.first_line(f.read()))
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port

    def reset(self):
        """Ends a period: returns its counts and starts a new one."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        try:
            s.sendto(CONTROL, ("127.0.0.1", self.port))
            data, _ = s.recvfrom(65536)
            return json.loads(data)
        except (OSError, ValueError) as e:
            raise RuntimeError("the dropping proxy does not answer: %s" % e)
        finally:
            s.close()

    def cpu(self):
        return bench.proc_cpu(self.proc.pid)

    def stop(self):
        self.proc.stop()


# ---------------------------------------------------------------- the runs

def write_config(path, dns_server, max_inflight):
    with open(path, "w") as f:
        f.write("[check]\ndns_servers = %s\n" % dns_server)
        if max_inflight:
            f.write("dns_max_inflight = %d\n" % max_inflight)


def namespace_wrapper(resolv_conf):
    """argv that runs the rest in a private mount namespace whose
    /etc/resolv.conf is resolv_conf. The machine's own is never touched."""
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
            'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv_conf]


def check_namespace(wrapper, name, want):
    """getent inside the namespace must find name at want: the references
    really ask the benchmark's dnsmasq."""
    r = bench.run_quick(wrapper + ["getent", "ahostsv4", name], 20,
                        what="getent in the private namespace")
    got = r.stdout.split()[0] if r.stdout.split() else ""
    if got != want:
        raise RuntimeError("inside the private namespace %s is %r, not %s" % (name, got, want))


def make_scenario(ctx, label, n, latency, c, server, hosts):
    sc = bench.Scenario(label, n, latency, {"libev": c})
    sc.server = server
    sc.urls, sc.down = bench.make_urls(n, server.port, ctx.down_pct, hosts=hosts)
    sc.url_file = os.path.join(ctx.tmp, "urls-%s.txt" % label)
    with open(sc.url_file, "w") as f:
        f.write("\n".join(sc.urls) + "\n")
    sc.db = os.path.join(ctx.tmp, "sites-%s.db" % label)
    bench.build_db(ctx, sc.db, sc.urls)
    return sc


def jobs_for(ctx, sc, c, refs, wrapper):
    """(scenario, label, run(rep)) for libev and the references at concurrency c."""
    rctx = copy.copy(ctx)
    rctx.ref_wrapper = wrapper
    jobs = [(sc, "libev", lambda rep: bench.run_squirreld(ctx, sc, "libev", c, rep))]
    for ref, fn in (("minloop", bench.run_minloop), ("curl", bench.run_curl)):
        if ref in refs:
            jobs.append((sc, ref, lambda rep, f=fn: f(rctx, sc, c, rep)))
    return jobs


def measure_interleaved(ctx, jobs, dns):
    """Runs every job once per round, ctx.repeat rounds, so that a change of
    the machine's load meets every row alike (by-IP and by-name runs
    alternate). Adds each row, the median of its runs, to its scenario;
    returns {(scenario name, label): Result or the Skip}. Notes for each run
    the queries the kernel dropped at the dnsmasq's socket."""
    results, final = {}, {}
    for rep in range(ctx.repeat):
        for sc, label, fn in jobs:
            key = (sc.name, label)
            if key in final:       # skipped or failed: not again
                continue
            d0 = udp_drops_at(dns.addr, dns.port)
            try:
                r = fn(rep)
            except bench.Skip as e:
                final[key] = e
                continue
            except RuntimeError as e:
                r = bench.Result(label, None, None, None)
                r.verdict = "FAILED: %s" % e
                final[key] = r
                print("  %-14s run %d/%d: %s" % ("%s %s" % key, rep + 1, ctx.repeat, r.verdict), flush=True)
                continue
            r.dns_drops = udp_drops_at(dns.addr, dns.port) - d0
            results.setdefault(key, []).append(r)
            print("  %-14s run %d/%d: %s; %d queries dropped at the dnsmasq's socket"
                  % ("%s %s" % key, rep + 1, ctx.repeat, bench.describe(r), r.dns_drops), flush=True)
    for sc, label, _ in jobs:
        key = (sc.name, label)
        if key not in final:
            final[key] = bench.median_result(results[key])
            final[key].dns_drops = sorted(r.dns_drops for r in results[key])
            final[key].runs = results[key]
        row = final[key]
        sc.rows.append((row.name if isinstance(row, bench.Result) else label, sc.runs["libev"], row))
    return final


def paired(by_name, by_ip, attr):
    """The per-round ratios by name / by IP of attr, sorted (runs of the same
    round ran one after the other, under the same load)."""
    a, b = getattr(by_name, "runs", []), getattr(by_ip, "runs", [])
    if len(a) != len(b) or len(a) < 2:
        return []
    return sorted(getattr(x, attr) / getattr(y, attr) for x, y in zip(a, b) if getattr(y, attr))


def ratio_line(label, by_name, by_ip, wall_target=None, cpu_target=None):
    """by name / by IP: the ratio of the medians, then the median (and range)
    of the per-round ratios; the target is judged on the ratio of the medians."""
    if not (bench.measured(by_name) and bench.measured(by_ip)) or not by_ip.wall or not by_ip.cpu:
        return "  %-8s n/a (a run did not finish)" % label

    def part(what, v, attr, t):
        text = "%s %.2fx" % (what, v)
        rs = paired(by_name, by_ip, attr)
        if rs:
            text += " (per round: median %.2fx, %.2f..%.2f)" % (statistics.median(rs), rs[0], rs[-1])
        if t is not None:
            text += " target <= %.1f: %s" % (t, "met" if v <= t else "MISSED")
        return text
    return "  %-8s %s;\n  %-8s %s" % (label, part("wall", by_name.wall / by_ip.wall, "wall", wall_target),
                                     "", part("CPU per check", by_name.cpu / by_ip.cpu, "cpu", cpu_target))


def false_downs(out_path, urls, down):
    """From one squirreld --once output: (sites reported down that should be
    up, {error: count} among them)."""
    wanted = set(urls)
    bad, why = 0, {}
    with open(out_path, errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 5 and parts[1] == "down" and parts[4] in wanted and parts[4] not in down:
                bad += 1
                note = (parts[5] if len(parts) > 5 else "") or ("HTTP " + parts[2])
                why[note] = why.get(note, 0) + 1
    return bad, why


def run_drop_passes(ctx, sc, c, proxy, passes, dns, tag="drop"):
    """passes runs by name through the proxy. Returns (lines, total false
    downs, all OK, datagrams the kernel dropped at the proxy's sockets)."""
    dctx = copy.copy(ctx)
    dctx.tmp = os.path.join(ctx.tmp, tag)
    os.makedirs(dctx.tmp, exist_ok=True)
    conf = os.path.join(dctx.tmp, "drop.conf")
    write_config(conf, proxy.server, ctx.max_inflight)
    dctx.extra_args = ["--config", conf] + ctx.user_args
    header = "%-5s %8s %8s %13s %8s %8s %7s %10s %7s %7s  %s" % (
        "pass", "wall s", "CPU s", "CPU ms/check", "queries", "dropped", "share",
        "names hit", "k.drop", "d.drop", "result")
    lines, total, all_ok, kdrops = [header], 0, True, 0
    proxy.reset()
    for k in range(passes):
        d0 = udp_drops_at(dns.addr, dns.port)
        try:
            r = bench.run_squirreld(dctx, sc, "libev", c, k)
        except (RuntimeError, bench.Skip) as e:
            lines.append("%-5d FAILED: %s" % (k + 1, e))
            all_ok = False
            continue
        st = proxy.reset()
        st["dnsmasq_drops"] = udp_drops_at(dns.addr, dns.port) - d0
        out = os.path.join(dctx.tmp, "libev-%d.out" % k)
        bad, why = false_downs(out, sc.urls, sc.down) if os.path.exists(out) else (sc.n, {})
        total += bad
        kdrops += st.get("kernel_drops", 0)
        all_ok = all_ok and r.ok
        verdict = r.verdict
        if bad:
            verdict += " [%s]" % ", ".join("%d %s" % (v, k2) for k2, v in sorted(why.items()))
        f = lambda v, fmt: fmt % v if v is not None else "-"
        lines.append("%-5d %8s %8s %13s %8d %8d %6.1f%% %10d %7d %7d  %s" % (
            k + 1, f(r.wall, "%.3f"), f(r.cpu, "%.2f"),
            f(r.cpu * 1000.0 / sc.n if r.cpu is not None else None, "%.3f"),
            st["queries"], st["dropped"], 100.0 * st["dropped"] / max(1, st["queries"]),
            st["names_hit"], st.get("kernel_drops", 0), st["dnsmasq_drops"], verdict))
        print("  %s pass %d/%d: %s wall, %d of %d queries dropped, %d by the kernel, "
              "%d reported down that should be up"
              % (tag, k + 1, passes, f(r.wall, "%.3f s"), st["dropped"], st["queries"],
                 st.get("kernel_drops", 0), bad), flush=True)
    return lines, total, all_ok, kdrops


# ---------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="squirreld --once by name against by IP (libev), the references by name, "
                    "passes with DNS queries dropped, and CPU per check at two N.")
    p.add_argument("--n", type=int, default=10000, help="sites (default 10000)")
    p.add_argument("--latency", type=int, default=100, help="server answer delay, ms (default 100)")
    p.add_argument("--concurrency", type=int, default=1000,
                   help="libev --max-concurrent, and the references' (default 1000)")
    p.add_argument("--dns-max-inflight", type=int, default=0,
                   help="squirreld's dns_max_inflight (default 0: not set, squirreld's own default)")
    p.add_argument("--down-pct", type=int, default=10, help="share of sites answering 503 (default 10)")
    p.add_argument("--repeat", type=int, default=5,
                   help="rounds of the by-IP and by-name runs; each column shows the median (default 5)")
    p.add_argument("--refs", default="minloop,curl", help="minloop,curl (default), one of them, or none")
    p.add_argument("--passes", type=int, default=10,
                   help="passes by name with DNS queries dropped (default 10; 0: none)")
    p.add_argument("--drop-names", type=int, default=25,
                   help="percent of names whose first query of each type is dropped in every pass "
                        "(default 25, which drops about 20%% of the queries)")
    p.add_argument("--small-buffer", type=int, default=16384,
                   help="the second setting: receive buffer of the slow server's socket, bytes "
                        "(default 16384, which the kernel doubles)")
    p.add_argument("--small-buffer-passes", type=int, default=3,
                   help="passes by name against the slow server with a small buffer (default 3; 0: none)")
    p.add_argument("--small-n", type=int, default=2000,
                   help="the smaller N for CPU per check against N (default 2000; 0: skip)")
    p.add_argument("--dns-addr", default=DNS_ADDR,
                   help="loopback address of the dnsmasq; it listens on port 53 (default %s)" % DNS_ADDR)
    p.add_argument("--timeout", type=float, help="seconds one run may take (default 10 x ideal + 60)")
    p.add_argument("--build", default="build", help="build directory (default build)")
    p.add_argument("--squirreld", help="path of squirreld (default BUILD/squirreld)")
    p.add_argument("--squirrelctl", help="path of squirrelctl (default BUILD/squirrelctl)")
    p.add_argument("--httpd", help="path of sq-httpd (default BUILD/tests/sq-httpd)")
    p.add_argument("--squirreld-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for every squirreld run (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    a = p.parse_args(argv)
    if a.n < 1 or a.concurrency < 1 or a.repeat < 1 or a.latency < 0 or a.passes < 0 \
            or a.small_buffer_passes < 0 or a.dns_max_inflight < 0:
        p.error("--n, --concurrency and --repeat must be at least 1, --latency, --passes, "
                "--small-buffer-passes and --dns-max-inflight at least 0")
    if a.small_buffer < 1024:
        p.error("--small-buffer must be at least 1024 bytes")
    if not 0 <= a.down_pct <= 100 or not 0 <= a.drop_names <= 100:
        p.error("--down-pct and --drop-names must be 0..100")
    if a.small_n < 0 or a.small_n >= a.n:
        p.error("--small-n must be 0 (none) or below --n")
    a.refs = set() if a.refs == "none" else {r.strip() for r in a.refs.split(",") if r.strip()}
    if not a.refs <= {"minloop", "curl"}:
        p.error("--refs takes minloop, curl or none")
    if not a.dns_addr.startswith("127."):
        p.error("--dns-addr must be a loopback address (127.x.y.z)")
    return a


def main(argv):
    if argv[:1] == ["--drop-proxy"]:
        return proxy_main(argv[1:])
    a = parse_args(argv)
    ctx = bench.Context()
    ctx.squirreld = a.squirreld or os.path.join(a.build, "squirreld")
    ctx.squirrelctl = a.squirrelctl or os.path.join(a.build, "squirrelctl")
    ctx.httpd = a.httpd or os.path.join(a.build, "tests", "sq-httpd")
    ctx.user_args = a.squirreld_arg
    ctx.down_pct = a.down_pct
    ctx.repeat = a.repeat
    ctx.max_inflight = a.dns_max_inflight
    ctx.timeout_for = (lambda ideal: a.timeout) if a.timeout else (lambda ideal: 10 * ideal + 60)
    for path, what in ((ctx.httpd, "the test server"), (ctx.squirreld, "squirreld")):
        if not os.access(path, os.X_OK):
            print("dns_bench: %s %s is not there: build it first (ninja -C %s)" % (what, path, a.build),
                  file=sys.stderr)
            return 1
    if a.refs and os.geteuid() != 0:
        print("dns_bench: the references by name need root (a mount namespace); "
              "run as root or with --refs none", file=sys.stderr)
        return 1
    if not port_free(a.dns_addr, 53):
        print("dns_bench: cannot bind %s:53 (UDP and TCP): in use, or not root; "
              "pick another address with --dns-addr" % a.dns_addr, file=sys.stderr)
        return 1

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    c = a.concurrency
    ctx.tmp = tempfile.mkdtemp(prefix="squirrel-dns-bench-")
    server = dns = proxy = slow = None
    ok = True
    try:
        # Every run uses the binary as it was at the start, even if it is rebuilt meanwhile.
        snapshot = os.path.join(ctx.tmp, "squirreld")
        shutil.copy2(ctx.squirreld, snapshot)
        ctx.squirreld = snapshot
        ctx.minloop, ctx.minloop_why = bench.compile_minloop(ctx) if "minloop" in a.refs \
            else (None, "not asked")
        if ctx.minloop is None and "minloop" in a.refs:
            print("dns_bench: minloop not built: %s" % ctx.minloop_why, file=sys.stderr)
        print("squirrel DNS benchmark: %d sites, latency %d ms, libev max_concurrent %d, "
              "dns_max_inflight %s, %d CPUs"
              % (a.n, a.latency, c, a.dns_max_inflight or "default", os.cpu_count() or 0), flush=True)

        server = bench.Server(ctx, a.n, a.latency, ctx.tmp)
        server.wait_ready(60)
        addrs = bench.addresses(bench.LISTEN, a.n)
        names = site_names(a.n)
        hosts = list(zip(addrs, names))
        dns = Dnsmasq(ctx.tmp, hosts, a.dns_addr, 53)
        dns.wait_ready([hosts[0], hosts[-1]])
        print("  sq-httpd pid %d, port %d, %s .. %s; dnsmasq pid %d on %s:53, %s .. %s"
              % (server.proc.pid, server.port, addrs[0], addrs[-1], dns.proc.pid, a.dns_addr,
                 names[0], names[-1]), flush=True)

        resolv = os.path.join(ctx.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\n" % a.dns_addr)
        os.chmod(resolv, 0o644)
        wrapper = namespace_wrapper(resolv) if a.refs else []
        if wrapper:
            check_namespace(wrapper, names[-1], addrs[-1])

        conf = os.path.join(ctx.tmp, "squirrel.conf")
        write_config(conf, "%s:53" % a.dns_addr, a.dns_max_inflight)
        ctx.extra_args = ["--config", conf] + a.squirreld_arg

        # 1. the same sites by IP and by name
        sc_ip = make_scenario(ctx, "ip", a.n, a.latency, c, server, None)
        bench.check_server(sc_ip.urls, sc_ip.down, a.latency)
        sc_name = make_scenario(ctx, "name", a.n, a.latency, c, server, names)
        print("\n== %d sites by IP and by name, %d rounds" % (a.n, a.repeat), flush=True)
        got = measure_interleaved(ctx, jobs_for(ctx, sc_ip, c, a.refs, []) +
                                  jobs_for(ctx, sc_name, c, a.refs, wrapper), dns)
        got_all = dict(got)
        ip_rows = {label: r for (scn, label), r in got.items() if scn == sc_ip.name}
        name_rows = {label: r for (scn, label), r in got.items() if scn == sc_name.name}

        # 2. CPU per check against N
        small = []
        if a.small_n:
            print("\n== %d sites by IP and by name, %d rounds" % (a.small_n, a.repeat), flush=True)
            sc_ip_s = make_scenario(ctx, "ip-%d" % a.small_n, a.small_n, a.latency, c, server, None)
            sc_name_s = make_scenario(ctx, "name-%d" % a.small_n, a.small_n, a.latency, c, server,
                                      names[:a.small_n])
            got = measure_interleaved(ctx, jobs_for(ctx, sc_ip_s, c, (), []) +
                                      jobs_for(ctx, sc_name_s, c, (), []), dns)
            got_all.update(got)
            small_ip, small_name = got[(sc_ip_s.name, "libev")], got[(sc_name_s.name, "libev")]
            small = [sc_ip_s, sc_name_s]

        scenarios = [sc_ip, sc_name] + small
        bench.print_table(scenarios, ctx.repeat)
        drops = ["%s %s: %s" % (scn, label, "/".join(map(str, r.dns_drops)))
                 for (scn, label), r in sorted(got_all.items())
                 if scn.startswith("name") and isinstance(r, bench.Result) and hasattr(r, "dns_drops")]
        if drops:
            print("queries dropped at the dnsmasq's socket, per run (sorted): " + "; ".join(drops))

        name_drops = getattr(name_rows["libev"], "dns_drops", None)
        if name_drops is not None:
            print("\nqueries dropped at the dnsmasq's socket by libev by name: %d in %d runs, "
                  "most in one run %d; target 0: %s" % (
                      sum(name_drops), len(name_drops), max(name_drops),
                      "met" if sum(name_drops) == 0 else "MISSED"))
        print("\nby name against by IP (same sites, same run; above 1 means by name used more):")
        print(ratio_line("libev", name_rows["libev"], ip_rows["libev"], 1.1, 1.4))
        for ref in ("minloop", "curl"):
            if ref in name_rows and ref in ip_rows:
                print(ratio_line(ref, name_rows[ref], ip_rows[ref]))
        others = [name_rows[r] for r in ("minloop", "curl") if bench.measured(name_rows.get(r))]
        if bench.measured(name_rows["libev"]) and others:
            print("\nsquirrel by name against the references by name (above 1 means squirrel used more):")
            lv = name_rows["libev"]
            print("  libev: CPU per check %s; wall %s" % (
                ", ".join("%s %s" % (bench.ratio(lv.cpu, o.cpu), o.name) for o in others),
                ", ".join("%s %s" % (bench.ratio(lv.wall, o.wall), o.name) for o in others)))
        if small:
            print("\nCPU per check against N (libev, C=%d):" % c)
            for label, big_r, small_r in (("by IP", ip_rows["libev"], small_ip),
                                          ("by name", name_rows["libev"], small_name)):
                if bench.measured(big_r) and bench.measured(small_r):
                    print("  %-8s N=%d: %.4f ms; N=%d: %.4f ms; N=%d / N=%d: %.2fx" % (
                        label, a.small_n, small_r.cpu * 1000 / a.small_n, a.n, big_r.cpu * 1000 / a.n,
                        a.n, a.small_n, (big_r.cpu / a.n) / (small_r.cpu / a.small_n)))
            if all(bench.measured(r) for r in (small_ip, small_name, ip_rows["libev"], name_rows["libev"])):
                print("  name/IP CPU per check: N=%d %.2fx, N=%d %.2fx" % (
                    a.small_n, small_name.cpu / small_ip.cpu, a.n,
                    name_rows["libev"].cpu / ip_rows["libev"].cpu))
        # The references' own failures by name are figures, not the benchmark's failure.
        ok = all(not isinstance(row, bench.Result) or row.ok
                 for sc in scenarios for label, _, row in sc.rows if label == "libev")

        # 3. passes with DNS queries dropped
        if a.passes:
            print("\n== %d passes by name, %d%% of the names lose the first query of each type"
                  % (a.passes, a.drop_names), flush=True)
            proxy = DropProxy(ctx.tmp, "%s:53" % a.dns_addr, a.drop_names)
            p0 = proxy.cpu()
            lines, total, drop_ok, _ = run_drop_passes(ctx, sc_name, c, proxy, a.passes, dns)
            proxy_cpu = proxy.cpu() - p0
            print()
            for line in lines:
                print("  " + line)
            print("  (the proxy used %.2f s CPU; k.drop, d.drop: datagrams the kernel dropped at the "
                  "proxy's sockets, at the dnsmasq's)" % proxy_cpu)
            print("sites reported down that should be up, over %d passes: %d (target 0)"
                  % (a.passes, total))
            ok = ok and drop_ok and total == 0

        # 4. the second setting: a slow server with a small receive buffer
        if a.small_buffer_passes:
            print("\n== %d passes by name against a slow server with a small receive buffer "
                  "(the proxy in front of the dnsmasq, %d bytes asked)"
                  % (a.small_buffer_passes, a.small_buffer), flush=True)
            slow = DropProxy(ctx.tmp, "%s:53" % a.dns_addr, 0, a.small_buffer)
            lines, total, slow_ok, kdrops = run_drop_passes(ctx, sc_name, c, slow,
                                                            a.small_buffer_passes, dns, "slow")
            print()
            for line in lines:
                print("  " + line)
            print("second setting, over %d passes: %d queries dropped at the slow server's socket "
                  "(k.drop); sites reported down that should be up: %d (target 0)"
                  % (a.small_buffer_passes, kdrops, total))
            ok = ok and slow_ok and total == 0
        sys.stdout.flush()
    except (RuntimeError, bench.Skip) as e:
        print("dns_bench: %s" % e, file=sys.stderr)
        ok = False
    finally:
        for p in (slow, proxy, dns, server):
            if p is not None:
                p.stop()
        if a.keep:
            print("temporary files kept in %s" % ctx.tmp)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # the finally blocks have stopped every child
        sys.exit(130)
