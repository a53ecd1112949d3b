"""Headless Chromium for the status page's tests: one run, its console
lines (a blocked asset, a policy violation, a script error all show up
there), and nothing left behind."""

import os
import re
import shutil
import signal
import subprocess
import time

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CONSOLE = re.compile(r":CONSOLE[:(]")
PHONE = (412, 915)


def chromium(tmp, url, *extra, size=PHONE, timeout=120):
    """Runs headless Chromium once; returns (rc, stdout, console lines, stderr)."""
    profile = os.path.join(tmp, f"profile-{time.monotonic_ns()}")
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            f"--window-size={size[0]},{size[1]}", *extra, url]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # its helpers are in the group we started it in
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate(timeout=30)
        err += "\n(timed out)"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=30)
    shutil.rmtree(profile, ignore_errors=True)
    return p.returncode, out, [ln for ln in err.splitlines() if CONSOLE.search(ln)], err
