"""meson install into a DESTDIR holds the expected files, and the systemd
unit passes systemd-analyze verify and an offline security exposure of at
most 1.5."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, done, equal, run, tmpdir  # noqa: E402

BUILD = os.environ.get("SQ_BUILD_ROOT", "build")


def find(root, name):
    for d, _, files in os.walk(root):
        if name in files:
            return os.path.join(d, name)
    return None


def main():
    with tmpdir() as tmp:
        dest = os.path.join(tmp, "dest")
        rc, out, err = run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                            "--destdir", dest], timeout=120)
        equal(rc, 0, "meson install into a DESTDIR")
        if rc != 0:
            print("# " + err.replace("\n", "\n# "))
            return done()
        daemon = find(dest, "squirreld")
        check(daemon is not None and daemon.endswith("/sbin/squirreld") and os.access(daemon, os.X_OK),
              "squirreld in sbindir", daemon)
        conf = os.path.join(dest, "etc/squirrel/squirrel.conf")
        check(os.path.isfile(conf), "the example configuration in /etc/squirrel/")
        unit = find(dest, "squirreld.service")
        check(unit is not None and "/systemd/system/" in unit, "the unit in systemd's system unit directory", unit)
        man8 = find(dest, "squirreld.8")
        man5 = find(dest, "squirrel.conf.5")
        check(man8 is not None and "/man8/" in man8, "squirreld(8) in mandir", man8)
        check(man5 is not None and "/man5/" in man5, "squirrel.conf(5) in mandir", man5)
        ctl = find(dest, "squirrelctl")
        check(ctl is not None and ctl.endswith("/bin/squirrelctl") and os.access(ctl, os.X_OK),
              "squirrelctl in bindir", ctl)
        man1 = find(dest, "squirrelctl.1")
        check(man1 is not None and "/man1/" in man1, "squirrelctl(1) in mandir", man1)
        check_man_versions(daemon, [man8, man5, man1])
        if unit is None or daemon is None:
            return done()
        text = open(unit).read()
        check("Type=notify" in text and "DynamicUser=yes" in text and "StateDirectory=squirrel" in text,
              "Type=notify, DynamicUser, StateDirectory")
        # The installed configuration works as it is (an empty-equivalent file).
        rc, out, err = run([daemon, "--once", "--config", conf, "--db", os.path.join(tmp, "x.db")])
        equal(rc, 0, "the installed example configuration is accepted")

        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            print("# systemd-analyze not found: unit checks skipped")
            return done()
        # verify needs ExecStart to exist and the man pages to be found
        local = os.path.join(tmp, "squirreld.service")
        with open(local, "w") as f:
            f.write(re.sub(r"^ExecStart=\S+", f"ExecStart={daemon}", text, flags=re.M))
        env = dict(os.environ, MANPATH=os.path.dirname(os.path.dirname(man8)))
        p = subprocess.run([analyze, "verify", local], capture_output=True, text=True, env=env, timeout=60)
        equal((p.returncode, p.stdout + p.stderr), (0, ""), "systemd-analyze verify is clean")
        p = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", local],
                           capture_output=True, text=True, env=env, timeout=60)
        m = re.search(r"Overall exposure level for squirreld.service: ([0-9.]+)", p.stdout + p.stderr)
        check(m is not None and float(m.group(1)) <= 1.5,
              f"offline security exposure at most 1.5 ({m.group(1) if m else p.stdout[-300:]})")
        check_worker_unit(dest, daemon, tmp, analyze, env)
    return done()


def check_man_versions(daemon, pages):
    """Each installed page, as man shows it, names the version squirreld
    reports: meson fills in @VERSION@ at install."""
    if daemon is None or shutil.which("man") is None:
        print("# no squirreld or no man: man page versions not checked")
        return
    rc, out, _ = run([daemon, "--version"])
    version = out.split()[-1] if rc == 0 and out.strip() else "?"
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8")
    for page in pages:
        if page is None:
            continue
        name = os.path.basename(page)
        raw = open(page).read()
        check("@VERSION@" not in raw, f"{name}: no @VERSION@ left in the installed file")
        p = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env,
                           timeout=60, stdin=subprocess.DEVNULL)
        footer = p.stdout.rstrip("\n").split("\n")[-1].split()
        equal((p.returncode, footer[:2]), (0, ["squirrel", version]),
              f"man -l {name}: the footer names squirrel {version}")


def check_worker_unit(dest, daemon, tmp, analyze, env):
    """The worker's template unit, when the build has Redis support."""
    unit = find(dest, "squirrel-worker@.service")
    if unit is None:
        print("# no squirrel-worker@.service: a build without Redis support")
        return
    text = open(unit).read()
    check("--worker --location %i" in text and "Type=notify" in text and "WatchdogSec=" in text,
          "worker unit: the instance is the location; notify and watchdog")
    local = os.path.join(tmp, "squirrel-worker@paris.service")
    with open(local, "w") as f:
        f.write(re.sub(r"^ExecStart=\S+", f"ExecStart={daemon}", text, flags=re.M))
    p = subprocess.run([analyze, "verify", local], capture_output=True, text=True, env=env, timeout=60)
    equal((p.returncode, p.stdout + p.stderr), (0, ""), "worker unit: systemd-analyze verify is clean")
    p = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", local],
                       capture_output=True, text=True, env=env, timeout=60)
    m = re.search(r"Overall exposure level for squirrel-worker@paris.service: ([0-9.]+)", p.stdout + p.stderr)
    check(m is not None and float(m.group(1)) <= 1.5,
          f"worker unit: offline security exposure at most 1.5 ({m.group(1) if m else p.stdout[-300:]})")


if __name__ == "__main__":
    sys.exit(main())
