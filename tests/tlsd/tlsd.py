#!/usr/bin/python3
"""A real HTTPS server for the tests, on 127.0.0.1 only.

    tlsd.py --port-file F NAME:CERT:KEY [NAME:CERT:KEY]... [--plain NAME] [--reread]

Each certificate is served on a port of its own (a free loopback port),
answering 200 with a two-byte body to HEAD and GET. Once every port
accepts connections, F holds one "NAME PORT" line per certificate
(written to a temporary file renamed into place). A client that refuses
the certificate ends its own connection; the server says nothing of it.
The handshake runs in the connection's thread, so a client that stalls
holds up no other. --plain NAME serves a port that answers a ClientHello
at once with a plain-text HTTP error: a handshake that fails (not one that
stalls). --reread reads each certificate's files again for every
connection, so a test can renew one in place (replace the files by
rename). SIGTERM and SIGINT stop it cleanly.
"""

import argparse
import http.server
import os
import signal
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def do_HEAD(self):
        self.answer(False)

    def do_GET(self):
        self.answer(True)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ctx, files=None):
        self.ctx = ctx
        self.files = files    # (cert, key) read again per connection, or None
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            ctx = self.ctx
            if self.files:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(*self.files)
            tls = ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        pass


class Plain(http.server.ThreadingHTTPServer):
    """Answers anything with plain text and closes: not TLS."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            request.recv(4096)
            request.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass

    def handle_error(self, request, client_address):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--plain", action="append", default=[])
    ap.add_argument("--reread", action="store_true")
    ap.add_argument("certs", nargs="+")
    a = ap.parse_args()
    servers = [(name, Plain()) for name in a.plain]
    for spec in a.certs:
        name, cert, key = spec.split(":")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        servers.append((name, Server(ctx, (cert, key) if a.reread else None)))
    for _, s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        for name, s in servers:
            f.write(f"{name} {s.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    for _, s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
