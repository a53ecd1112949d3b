#!/usr/bin/python3
"""The layers of squirrel, checked over the #include lines.

    layers.py [ROOT]              checks the tree at ROOT (default: the source root)
    layers.py --self-test ROOT    plants violations in a copy and checks they are caught

docs/ARCHITECTURE.md draws the order. A file under src/F/ (or a header under
include/squirrel/F/) may include its own folder's headers and those of a
folder on a lower floor, never one on its own floor or above; the programs
(src/*.c, include/squirrel/*.h) stand on the top floor. A library's header
is included only by the files that own that library. Every file of src/
has its row in docs/ARCHITECTURE.md. Prints one line per violation,
"FILE:LINE: ...", and exits 1 when there is any.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# The floors, from the ground up. Folders on one floor do not include each other.
FLOORS = [
    ["base"],                      # no squirrel header below it
    ["core"],                      # configuration, classes and kinds, sites, state machine
    ["store", "check", "scaleout"],  # SQL; one check and when it is due; the Redis link, wire, quorum
    ["backend", "alert", "report"],
    [""],                          # the programs: squirreld, squirrelctl, daemon, pass, worker
]
RANK = {folder: i for i, names in enumerate(FLOORS) for folder in names}

# Allowed by the floors, and still never: a backend knows nothing of SQL or mail.
NEVER = [("backend", "store"), ("backend", "alert")]

# A library's headers and the only files (or folders, ending in /) that include them.
OWNERS = [
    (re.compile(r"sqlite3\.h$"), ["src/store/"]),
    (re.compile(r"curl/"), ["src/base/validate.c", "src/check/probe.c", "src/backend/libev.c",
                           "src/alert/channels.c"]),
    (re.compile(r"ev\.h$"), ["src/backend/libev.c", "src/check/resolve.c"]),
    (re.compile(r"ares\.h$"), ["src/check/resolve.c"]),
    (re.compile(r"libesmtp\.h$"), ["src/alert/mailer.c"]),
    (re.compile(r"openssl/"), ["src/alert/mailer.c", "src/check/probe.c", "src/alert/channels.c"]),
    (re.compile(r"hiredis/"), ["src/scaleout/", "src/backend/redis.c", "src/worker.c"]),
    (re.compile(r"idn2\.h$"), ["src/base/util.c"]),
    (re.compile(r"systemd/"), ["src/base/notify.c"]),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def folder_of(path):
    """The layer folder of a file of src/ or include/squirrel/, or None."""
    for top in ("src/", "include/squirrel/"):
        if path.startswith(top):
            rest = path[len(top):]
            return rest.split("/")[0] if "/" in rest else ""
    return None


def header_path(root, src, name):
    """Where a quoted include lands, relative to root, or None for a system one."""
    if name.startswith("squirrel/"):
        return "include/" + name
    local = os.path.normpath(os.path.join(os.path.dirname(src), name))
    if os.path.exists(os.path.join(root, local)):
        return local
    return None


def owned(path, owners):
    return any(path == o or (o.endswith("/") and path.startswith(o)) for o in owners)


def check_tree(root):
    problems = []
    files = []
    for top in ("src", "include"):
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(d, n), root))
    for path in sorted(files):
        me = folder_of(path)
        if me not in RANK:
            problems.append(f"{path}:1: in no layer: the folder {me!r} is not in tests/layers.py FLOORS")
            continue
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m is None:
                    continue
                quote, name = m.groups()
                for pattern, owners in OWNERS:
                    if quote == "<" and pattern.search(name) and not owned(path, owners):
                        problems.append(f"{path}:{lineno}: includes <{name}>, a library owned by "
                                        f"{', '.join(owners)}")
                if quote != '"':
                    continue
                target = header_path(root, path, name)
                if target is None:
                    continue
                them = folder_of(target)
                if them is None or them not in RANK or them == me:
                    continue
                if (me, them) in NEVER:
                    problems.append(f"{path}:{lineno}: includes {name}: {me} never includes {them}")
                    continue
                if RANK[them] >= RANK[me]:
                    where = "on the same floor" if RANK[them] == RANK[me] else "on a higher floor"
                    problems.append(f"{path}:{lineno}: includes {name}, {where} "
                                    f"({them or 'programs'} is floor {RANK[them] + 1}, "
                                    f"{me or 'programs'} is floor {RANK[me] + 1})")
    return problems


def check_doc(root, doc="docs/ARCHITECTURE.md"):
    """Every source file of src/ has its row in the table of doc, and every
    src/ path the doc names exists."""
    problems = []
    with open(os.path.join(root, doc), encoding="utf-8") as f:
        text = f.read()
    named = set(re.findall(r"`(src/[A-Za-z0-9_./-]+\.c)`", text))
    for d, _, names in os.walk(os.path.join(root, "src")):
        for n in names:
            path = os.path.relpath(os.path.join(d, n), root)
            if n.endswith(".c") and path not in named:
                problems.append(f"{doc}: {path} has no row")
    for path in sorted(named):
        if not os.path.exists(os.path.join(root, path)):
            problems.append(f"{doc}: names {path}, which is not in the tree")
    return problems


def self_test(root):
    """Copies src/ and include/ and plants one violation of each kind."""
    plants = [
        ("src/base/log.c", '#include "squirrel/report/metrics.h"\n', "log.c", "on a higher floor"),
        ("src/alert/record.c", '#include "squirrel/report/reporter.h"\n', "record.c", "on the same floor"),
        ("src/check/probe.c", "#include <sqlite3.h>\n", "probe.c", "a library owned by src/store/"),
        ("src/report/metrics.c", "#include <curl/curl.h>\n", "metrics.c", "a library owned by"),
        ("src/backend/serial.c", '#include "squirrel/store/store.h"\n', "serial.c", "never includes store"),
    ]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="squirrel-layers-") as tmp:
        for top in ("src", "include"):
            shutil.copytree(os.path.join(root, top), os.path.join(tmp, top))
        os.makedirs(os.path.join(tmp, "docs"))
        shutil.copy(os.path.join(root, "docs", "ARCHITECTURE.md"), os.path.join(tmp, "docs"))
        clean = check_tree(tmp)
        print(("ok" if not clean else "not ok") + " 1 - the tree as it stands has no violation")
        for p in clean:
            print(f"#   {p}")
        failures += bool(clean)
        for i, (path, line, short, words) in enumerate(plants, 2):
            target = os.path.join(tmp, path)
            with open(target) as f:
                saved = f.read()
            with open(target, "w") as f:
                f.write(line + saved)
            out = subprocess.run([sys.executable, __file__, tmp], capture_output=True, text=True)
            caught = out.returncode == 1 and any(
                l.startswith(f"{path}:1: ") and words in l for l in out.stdout.splitlines())
            print(("ok" if caught else "not ok") + f" {i} - a planted {line.strip()} in {short} is caught")
            if not caught:
                print(f"#   exit {out.returncode}: {out.stdout.strip()}")
            failures += not caught
            with open(target, "w") as f:
                f.write(saved)
        doc = check_doc(tmp)
        print(("ok" if not doc else "not ok") + f" {len(plants) + 2} - docs/ARCHITECTURE.md has a row"
              " for every file of src/, and names no file that is gone")
        for p in doc:
            print(f"#   {p}")
        failures += bool(doc)
        with open(os.path.join(tmp, "src", "base", "planted.c"), "w") as f:
            f.write("/* planted.c - a file the table does not know */\n")
        missing = [p for p in check_doc(tmp) if "src/base/planted.c has no row" in p]
        print(("ok" if missing else "not ok") + f" {len(plants) + 3} - a planted src/base/planted.c"
              " without a row is caught")
        failures += not missing
        os.remove(os.path.join(tmp, "src", "base", "planted.c"))
        print(f"1..{len(plants) + 3}")
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "--self-test":
        return self_test(argv[2] if len(argv) > 2 else os.environ.get("SQ_SOURCE_ROOT", "."))
    root = argv[1] if len(argv) > 1 else os.environ.get("SQ_SOURCE_ROOT", ".")
    problems = check_tree(root) + check_doc(root)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
