#!/usr/bin/env python3
"""The tests' HTTP sink: receives alerts on loopback and records each request
(time, method, path, headers, body) as one JSON line of its log.

What it answers is in the path: /s/CODES/NAME, CODES a comma list the n-th
request to that path follows (the last one repeats): a status (200, 500,
400, ...), "hang" (holds the request 30 s, then closes it), or "slowNNN"
(waits 3 s, then answers NNN). ?ra=N adds "Retry-After: N" to an answer
that is not 2xx. The answer's body is "answer NNN" and a second line.

Started by the tests, stopped by its PID (SIGTERM)."""

import argparse
import base64
import json
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_S = 30
SLOW_S = 3


class Sink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, log):
        super().__init__(addr, Handler)
        self.log = log
        self.lock = threading.Lock()
        self.seen = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 20)) if n > 0 else b""
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        with self.server.lock:
            i = self.server.seen.get(url.path, 0)
            self.server.seen[url.path] = i + 1
            rec = {"t": time.time(), "method": self.command, "path": url.path, "n": i,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": base64.b64encode(body).decode()}
            with open(self.server.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        parts = url.path.split("/")
        codes = parts[2].split(",") if len(parts) > 2 and parts[1] == "s" else ["200"]
        code = codes[min(i, len(codes) - 1)]
        if code == "hang":
            time.sleep(HANG_S)
            self.close_connection = True
            return
        if code.startswith("slow"):
            time.sleep(SLOW_S)
            code = code[4:]
        status = int(code)
        answer = f"answer {status}\nsecond line\n".encode()
        self.send_response(status)
        if "ra" in query and not 200 <= status <= 299:
            self.send_header("Retry-After", query["ra"][0])
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_PUT = do_POST


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = Sink(("127.0.0.1", 0), a.log)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
