"""A real redis-server for the scale-out tests, and squirreld workers beside it.

The server runs from the test's own directory, on a unix socket or a free
loopback port, with no persistence; it is stopped by its PID (never the
system service). Every wait is bounded.
"""

import os
import signal
import socket
import subprocess
import time

from harness import SQUIRRELD, free_port, stop_pid, wait_for

REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")
REDIS_CLI = os.environ.get("REDIS_CLI", "redis-cli")


class ReplyError(Exception):
    """An error reply (-ERR ...)."""


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("connection closed in a reply")
    kind, body = line[:1], line[1:-2].decode(errors="replace")
    if kind == b"+":
        return body
    if kind == b"-":
        return ReplyError(body)
    if kind == b":":
        return int(body)
    if kind == b"$":
        n = int(body)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(body)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise OSError(f"unexpected reply {line!r}")


class Redis:
    """redis-server on a unix socket (default) or on a loopback TCP port."""

    def __init__(self, tmp, name="redis", tcp=False):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "redis.sock")
        self.port = free_port() if tcp else 0
        self.tcp = tcp
        self.auth = None          # (user, password) once ACLs want one
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0" if self.tcp else f"unix:{self.sock}"

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.sock, "--unixsocketperm", "700",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: self.ping() or self.proc.poll() is not None, 20, step=0.05) \
                or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"redis-server did not start (see {self.dir}/redis.log)")

    def ping(self):
        try:
            return self.call("PING", timeout=5) == "PONG"
        except OSError:
            return False

    def cli(self, *args, timeout=20, user=None, password=None):
        """redis-cli on the unix socket (which needs no password unless ACLs say so)."""
        cmd = [REDIS_CLI, "-s", self.sock]
        if user is not None:
            cmd += ["--user", user, "--pass", password, "--no-auth-warning"]
        p = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return p.stdout

    def call(self, *args, timeout=10):
        """One command over the unix socket, its reply parsed (errors as ReplyError values)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            cmds = [("AUTH", *self.auth)] if self.auth else []
            cmds.append(args)
            parts = []
            for cmd in cmds:
                parts.append(b"*%d\r\n" % len(cmd))
                for a in cmd:
                    a = a if isinstance(a, bytes) else str(a).encode()
                    parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
            s.sendall(b"".join(parts))
            with s.makefile("rb") as f:
                replies = [_read_reply(f) for _ in cmds]
            return replies[-1]
        finally:
            s.close()

    def entries(self, key):
        """XRANGE key - +: [(id, {field: value})]."""
        out = []
        for e in self.call("XRANGE", key, "-", "+") or []:
            fields = e[1] or []
            out.append((e[0], dict(zip(fields[0::2], fields[1::2]))))
        return out

    def kill(self):
        """kill -9, as a crash would."""
        stop_pid(self.proc, signal.SIGKILL)

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Worker:
    """squirreld --worker, its stderr in a file."""

    def __init__(self, tmp, name, redis_url, *args, conf=None, env=None):
        self.log_path = os.path.join(tmp, f"worker-{name}-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "w")
        argv = [SQUIRRELD, "--worker", "--redis", redis_url, *args]
        if conf is not None:
            argv += ["--config", conf]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_started(self, timeout=20):
        return wait_for(lambda: "taking checks from" in self.output() or self.proc.poll() is not None,
                        timeout)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        rc = stop_pid(self.proc, sig, timeout=timeout)
        self.log.close()
        return rc
