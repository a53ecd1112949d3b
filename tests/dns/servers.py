"""DNS servers for the tests, on free loopback ports: dnsmasq with a
generated hosts file, and responder.py. Each is stopped by its PID; every
wait is bounded. Never the machine's own resolver."""

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESPONDER = os.path.join(HERE, "responder.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def _wait(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def _stop(proc, timeout=10):
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    return proc.returncode


def free_udp_tcp_port():
    """A loopback port free for both UDP and TCP (dnsmasq takes both)."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free loopback port for UDP and TCP")


def query(port, name, qtype=1, timeout=0.5):
    """One UDP query to 127.0.0.1:port; the rcode, or None without an answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
        s.sendto(struct.pack(">HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0) + qname +
                 struct.pack(">HH", qtype, 1), ("127.0.0.1", port))
        data, _ = s.recvfrom(4096)
        return struct.unpack(">H", data[2:4])[0] & 0xf
    except OSError:
        return None
    finally:
        s.close()


class Dnsmasq:
    """dnsmasq serving hosts (a list of (address, name)) and CNAMEs
    (alias, target) on 127.0.0.1:port, no upstream. Names under
    local_domain that it does not know are NXDOMAIN; names elsewhere are
    REFUSED (nothing to forward to)."""

    def __init__(self, tmpdir, hosts, cnames=(), local_domain="test"):
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        if not os.path.exists(exe):
            raise RuntimeError("dnsmasq is not installed (Debian: dnsmasq-base)")
        self.hosts_file = os.path.join(tmpdir, f"dnsmasq-{time.monotonic_ns()}.hosts")
        with open(self.hosts_file, "w") as f:
            for addr, name in hosts:
                f.write(f"{addr} {name}\n")
        os.chmod(self.hosts_file, 0o644)
        self.log = os.path.join(tmpdir, f"dnsmasq-{time.monotonic_ns()}.log")
        self.port = free_udp_tcp_port()
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        args = [exe, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", f"--addn-hosts={self.hosts_file}", f"--port={self.port}",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
                f"--user={user}", f"--group={group}", f"--local=/{local_domain}/",
                "--log-facility=-"]
        args += [f"--cname={alias},{target}" for alias, target in cnames]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        probe = hosts[0][1] if hosts else "probe." + local_domain
        if not _wait(lambda: self.proc.poll() is not None or query(self.port, probe, timeout=0.2) is not None, 10) \
                or self.proc.poll() is not None:
            self.stop()
            with open(self.log) as f:
                raise RuntimeError(f"dnsmasq did not start: {f.read()}")

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        _stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Responder:
    """tests/dns/responder.py on a free loopback port. stats() stops it and
    returns what it counted."""

    def __init__(self, tmpdir, mode="answer", delay=0, drop_first=0, service=0, queue=64):
        tag = time.monotonic_ns()
        self.port_file = os.path.join(tmpdir, f"responder-{tag}.port")
        self.stats_file = os.path.join(tmpdir, f"responder-{tag}.json")
        self.proc = subprocess.Popen(
            [PYTHON, RESPONDER, "--port-file", self.port_file, "--mode", mode,
             "--delay", str(delay), "--drop-first", str(drop_first), "--service", str(service),
             "--queue", str(queue), "--stats", self.stats_file],
            stdin=subprocess.DEVNULL)
        if not _wait(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None, 10) \
                or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("responder.py did not start")
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self._stats = None

    @property
    def server(self):
        return f"127.0.0.1:{self.port}"

    def stats(self):
        if self._stats is None:
            _stop(self.proc)
            if _wait(lambda: os.path.exists(self.stats_file), 5):
                with open(self.stats_file) as f:
                    self._stats = json.load(f)
            else:
                self._stats = {}
        return self._stats

    def stop(self):
        _stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
