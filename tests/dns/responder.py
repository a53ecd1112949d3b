#!/usr/bin/python3
"""A small UDP DNS server for the resolver tests, standard library only.

    responder.py --port-file FILE [--port N] [--mode MODE] [--delay MS]
                 [--drop-first PCT] [--service MS --queue N] [--stats FILE]

Modes:
  answer          A: one address per name, 127.x.y.z from the name's CRC-32
                  (see address()); AAAA: no data (NOERROR, no record)
  servfail        SERVFAIL to everything
  refused         REFUSED to everything
  silent          never answers
  wrong-question  answers, but for another name than the one asked

--delay MS holds every answer MS milliseconds; the largest number of
queries received and not yet answered (dropped ones aside) is recorded as
max_outstanding, and the largest number of distinct names among them as
max_outstanding_names (a lookup's A and AAAA, or a retry, are one name). --drop-first PCT picks the names whose CRC-32 % 100 is
below PCT and drops the first query of each type for them: a lookup that
tries twice never loses every try, and PCT=25 drops 20 % of the queries.

--service MS makes it a server that is slow under load: one query at a
time, MS milliseconds each (on top of --delay), in the order received; at
most --queue N wait, and a query that finds N waiting is dropped, as a
full socket buffer drops it (counted in dropped and in overflow). With a
tiny --service (0.01) and a --delay, it answers each in --delay but holds
at most --queue at once: a loss with no queue to see before it.

On SIGTERM or SIGINT it writes the counts as JSON to --stats FILE and
exits 0: queries, by_type, by_name, dropped, overflow, answered,
max_outstanding, max_outstanding_names.
"""

import argparse
import heapq
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
import zlib

TYPES = {1: "A", 28: "AAAA"}


def address(name):
    """The A record the answer mode gives name: 127.x.y.z, never .0 or .255."""
    h = zlib.crc32(name.lower().encode())
    return f"127.{(h >> 16) & 0xff}.{(h >> 8) & 0xff}.{(h & 0x7f) + 1}"


def unlucky(name, pct):
    return zlib.crc32(name.lower().encode()) % 100 < pct


def parse_query(data):
    """(id, flags, name, qtype, end of question) or None."""
    if len(data) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", data[:6])
    if flags & 0x8000 or qd != 1:
        return None
    labels, i = [], 12
    while True:
        if i >= len(data):
            return None
        n = data[i]
        i += 1
        if n == 0:
            break
        if n & 0xc0 or i + n > len(data):
            return None
        labels.append(data[i:i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(data):
        return None
    qtype, _ = struct.unpack(">HH", data[i:i + 4])
    return qid, flags, ".".join(labels), qtype, i + 4


def encode_name(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def reply(data, q, mode):
    qid, flags, name, qtype, qend = q
    rd = flags & 0x0100
    question = data[12:qend]
    rcode, answers = 0, b""
    if mode == "servfail":
        rcode = 2
    elif mode == "refused":
        rcode = 5
    elif mode == "wrong-question":
        question = encode_name("other-" + name) + data[qend - 4:qend]
    if mode in ("answer", "wrong-question") and qtype == 1:
        rdata = socket.inet_aton(address(name))
        answers = struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + rdata
    header = struct.pack(">HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode,
                         1, 1 if answers else 0, 0, 0)
    return header + question + answers


class Stop(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--mode", default="answer",
                    choices=["answer", "servfail", "refused", "silent", "wrong-question"])
    ap.add_argument("--delay", type=int, default=0)
    ap.add_argument("--drop-first", type=int, default=0)
    ap.add_argument("--service", type=float, default=0)
    ap.add_argument("--queue", type=int, default=64)
    ap.add_argument("--stats")
    a = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", a.port))
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)

    stats = {"queries": 0, "by_type": {}, "by_name": {}, "dropped": 0, "overflow": 0,
             "answered": 0, "max_outstanding": 0, "max_outstanding_names": 0}
    busy_until = 0.0  # --service: when the last query waiting is done
    seen = set()      # (name, qtype) asked before
    due = []          # heap of (time, seq, packet, peer, name)
    waiting = {}      # name: answers due
    seq = 0

    def stop(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{sock.getsockname()[1]}\n")
    os.rename(tmp, a.port_file)

    try:
        while True:
            timeout = None
            if due:
                timeout = max(0.0, due[0][0] - time.monotonic())
            for _ in sel.select(timeout):
                while True:
                    try:
                        data, peer = sock.recvfrom(4096)
                    except BlockingIOError:
                        break
                    q = parse_query(data)
                    if q is None:
                        continue
                    name, qtype = q[2].lower(), q[3]
                    stats["queries"] += 1
                    t = TYPES.get(qtype, str(qtype))
                    stats["by_type"][t] = stats["by_type"].get(t, 0) + 1
                    stats["by_name"][name] = stats["by_name"].get(name, 0) + 1
                    first = (name, qtype) not in seen
                    seen.add((name, qtype))
                    if a.mode == "silent" or (first and unlucky(name, a.drop_first)):
                        stats["dropped"] += 1
                        continue
                    at = time.monotonic()
                    if a.service > 0:
                        if len(due) >= a.queue:
                            stats["dropped"] += 1
                            stats["overflow"] += 1
                            continue
                        busy_until = max(at, busy_until) + a.service / 1000.0
                        at = busy_until
                    seq += 1
                    heapq.heappush(due, (at + a.delay / 1000.0, seq,
                                         reply(data, q, a.mode), peer, name))
                    waiting[name] = waiting.get(name, 0) + 1
                    stats["max_outstanding"] = max(stats["max_outstanding"], len(due))
                    stats["max_outstanding_names"] = max(stats["max_outstanding_names"],
                                                         len(waiting))
            now = time.monotonic()
            while due and due[0][0] <= now:
                _, _, pkt, peer, name = heapq.heappop(due)
                waiting[name] -= 1
                if waiting[name] == 0:
                    del waiting[name]
                try:
                    sock.sendto(pkt, peer)
                    stats["answered"] += 1
                except OSError:
                    pass
    except Stop:
        pass
    if a.stats:
        tmp = a.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.rename(tmp, a.stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
