#!/usr/bin/python3
"""A real SMTP server for the tests, on 127.0.0.1 only.

    smtpd.py --port-file F --store DIR [--log FILE]
             [--starttls CERT KEY [--require-starttls]] [--no-starttls]
             [--auth USER:PASS] [--fail-rcpt ADDR]... [--tempfail N]
             [--data-delay SECONDS]

It listens on a free loopback port and writes that port to F (atomically:
a temporary file renamed into place) once it accepts connections. Every
accepted message is saved in DIR as NNNN.eml (the bytes received after
DATA, dot-unstuffed, exactly as the client sent them) and then NNNN.json
(mail_from, rcpt_tos, tls, auth); the .json appears last, so a test that
sees it can read both. --log writes one line per SMTP event (EHLO, the TLS
server name asked for and the version agreed, AUTH, MAIL, RCPT, DATA, with
tls= and auth=), so
a test can tell what the client did, for example that no MAIL command was
sent before TLS was up. --data-delay stores a message as it comes in
(logged as "DATA in") and holds its final answer that long: a slow
server, one that hangs after DATA with a long delay, or, with the client
killed meanwhile, a mail delivered that its sender never heard of. SIGTERM and
SIGINT stop it cleanly.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


def write_atomic(path, data):
    # The rename is what makes it atomic for a reader; no fsync: nothing
    # here must outlive a power cut, and on a busy CI disk an fsync can
    # take seconds, long enough to break a test's timing.
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Handler:
    def __init__(self, args):
        self.store = args.store
        self.fail_rcpt = {a.lower() for a in args.fail_rcpt}
        self.tempfail_left = args.tempfail
        self.data_delay = args.data_delay
        self.seq = 0
        self.log_file = open(args.log, "a", buffering=1) if args.log else None

    def log(self, line):
        if self.log_file is not None:
            self.log_file.write(line + "\n")

    @staticmethod
    def state(server, session):
        tls = 1 if getattr(server, "_tls_protocol", None) is not None else 0
        auth = 1 if session.authenticated else 0
        return f"tls={tls} auth={auth}"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.log(f"EHLO {hostname} {self.state(server, session)}")
        sslobj = server.transport.get_extra_info("ssl_object") if server.transport else None
        if sslobj is not None:
            self.log(f"TLS {sslobj.version()}")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.log(" ".join([f"MAIL <{address}>", *mail_options, self.state(server, session)]))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.fail_rcpt:
            self.log(f"RCPT <{address}> 550")
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        self.log(f"RCPT <{address}> 250")
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.tempfail_left > 0:
            self.tempfail_left -= 1
            self.log("DATA 451")
            return "451 4.3.0 Temporary failure, please try again later"
        self.seq += 1
        base = os.path.join(self.store, f"{self.seq:04d}")
        write_atomic(base + ".eml", envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": getattr(server, "_tls_protocol", None) is not None,
            "auth": bool(session.authenticated),
        }
        write_atomic(base + ".json", json.dumps(meta).encode())
        if self.data_delay > 0:
            self.log("DATA in")
            await asyncio.sleep(self.data_delay)
        self.log(f"DATA 250 {base}.eml")
        return f"250 2.0.0 OK queued as {self.seq:04d}"


def make_authenticator(handler, user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode("utf-8", "replace")
        good = auth_data.login == user.encode() and auth_data.password == password.encode()
        handler.log(f"AUTH {mechanism} {login} {'ok' if good else 'refused'}")
        return AuthResult(success=good, handled=False)
    return authenticator


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP server for the squirrel tests")
    p.add_argument("--port-file", required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--log")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--no-starttls", action="store_true")
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--fail-rcpt", action="append", default=[], metavar="ADDR")
    p.add_argument("--tempfail", type=int, default=0, metavar="N")
    p.add_argument("--data-delay", type=float, default=0, metavar="SECONDS")
    args = p.parse_args(argv)
    if args.no_starttls and args.starttls:
        p.error("--no-starttls and --starttls exclude each other")
    if args.require_starttls and not args.starttls:
        p.error("--require-starttls needs --starttls CERT KEY")
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth takes USER:PASS")
    if args.tempfail < 0:
        p.error("--tempfail takes a count >= 0")
    if args.data_delay < 0:
        p.error("--data-delay takes seconds >= 0")
    return args


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Handler(args)
    tls_context = None
    if args.starttls:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.starttls[0], args.starttls[1])

        def sni(sslobj, name, ctx):
            handler.log(f"TLS SNI {name}")
        tls_context.sni_callback = sni

    kw = {
        "hostname": "localhost",
        "ident": "squirrel-test-smtpd",
        "tls_context": tls_context,
        "require_starttls": args.require_starttls,
        "timeout": 30,
        "data_size_limit": 10 * 1024 * 1024,
    }
    if args.auth is not None:
        user, password = args.auth.split(":", 1)
        kw["authenticator"] = make_authenticator(handler, user, password)
        kw["auth_required"] = True
        # Over STARTTLS, AUTH is offered only inside TLS; on a plain
        # loopback server it is offered at once (what the tests need).
        kw["auth_require_tls"] = tls_context is not None

    def factory():
        return SMTP(handler, loop=loop, **kw)

    server = await loop.create_server(factory, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    write_atomic(args.port_file, f"{port}\n".encode())

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
    await server.wait_closed()


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.store, exist_ok=True)
    # aiosmtpd warns when AUTH is allowed without TLS (intended here, on
    # loopback) and about its own deprecations: keep stderr for real errors.
    import warnings
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
