"""What squirrelctl writes where it is told to: `report --html` replaces
only a regular file or makes a new one (a FIFO, a symbolic link, a device
node or a directory at the path is refused and left as it is), and the
page neutralises direction overrides in names."""

import os
import sqlite3
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, done, equal, run, tmpdir  # noqa: E402

CTL = os.environ.get("SQUIRRELCTL", "build/squirrelctl")


def report(conf, db, path):
    return run([CTL, "--config", conf, "--db", db, "report", "--html", path], timeout=60)


def test_targets(tmp, conf, db):
    # a regular file is replaced, a new path made
    page = os.path.join(tmp, "page.html")
    with open(page, "w") as f:
        f.write("old")
    rc, out, err = report(conf, db, page)
    check(rc == 0 and open(page).read().startswith("<!DOCTYPE html>"), "a regular file is replaced", err)
    new = os.path.join(tmp, "new.html")
    rc, out, err = report(conf, db, new)
    check(rc == 0 and os.path.isfile(new), "a new path is made", err)

    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    target = os.path.join(tmp, "target.html")
    with open(target, "w") as f:
        f.write("untouched")
    link = os.path.join(tmp, "link.html")
    os.symlink(target, link)
    dangling = os.path.join(tmp, "dangling.html")
    os.symlink(os.path.join(tmp, "nowhere.html"), dangling)
    subdir = os.path.join(tmp, "dir.html")
    os.mkdir(subdir)
    cases = [(fifo, "a FIFO", stat.S_ISFIFO), (link, "a symbolic link", stat.S_ISLNK),
             (dangling, "a symbolic link", stat.S_ISLNK), (subdir, "a directory", stat.S_ISDIR)]
    # A device node of our own (never the system's: a regression would replace it).
    dev = os.path.join(tmp, "null")
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        cases.append((dev, "a character device", stat.S_ISCHR))
    except PermissionError:
        print("# no CAP_MKNOD here (not root, or a container): the device case is left out")
    for path, what, kind in cases:
        rc, out, err = report(conf, db, path)
        equal(rc, 1, f"report --html onto {what} ({os.path.basename(path)}): exit 1")
        check(f"{path}: is {what}, not a regular file" in err, f"{what}: said so", err)
        check(kind(os.lstat(path).st_mode), f"{what}: left as it was")
    equal(open(target).read(), "untouched", "the file behind the link is untouched")
    check(not os.path.exists(os.path.join(tmp, "nowhere.html")), "a dangling link is not followed")
    leftovers = [n for n in os.listdir(tmp) if n.startswith(".")]
    equal(leftovers, [], "no temporary file left behind")


def test_bidi(tmp, conf, db):
    con = sqlite3.connect(db)
    con.execute("INSERT INTO sites (url, owner_email, name) VALUES (?, ?, ?)",
                ("https://example.org/", "ops@example.org", "shop\u202egnp.exe\u2066x\u2069"))
    con.commit()
    con.close()
    page = os.path.join(tmp, "bidi.html")
    rc, out, err = report(conf, db, page)
    equal(rc, 0, "report --html with a name holding direction overrides")
    html = open(page, encoding="utf-8").read() if rc == 0 else ""
    check(all(c not in html for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
          "the page holds no direction override, embedding or isolate")
    check("shop\ufffdgnp.exe\ufffdx\ufffd" in html, "each became U+FFFD")


def main():
    with tmpdir() as tmp:
        conf = os.path.join(tmp, "empty.conf")
        open(conf, "w").close()
        db = os.path.join(tmp, "out.db")
        equal(run([CTL, "--config", conf, "--db", db, "init"])[0], 0, "a database")
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        test_targets(work, conf, db)
        test_bidi(tmp, conf, db)
    return done()


if __name__ == "__main__":
    sys.exit(main())
