"""The scripts and the README that describes them stay in step: the package
lists the README gives for building by hand are scripts/deps.sh's, the
demo prints the field names of the README's --once section, and
scripts/deps.sh refuses an unknown argument. Cheap checks: nothing is
installed or built here."""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, done, equal, run  # noqa: E402

ROOT = os.environ.get("SQ_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def shell_list(text, name):
    """The words of NAME="..." in a shell script."""
    m = re.search(r'^%s="([^"]*)"' % re.escape(name), text, re.M)
    return m.group(1).split() if m else None


def readme_section(readme, title):
    m = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(title), readme, re.M | re.S)
    return m.group(1) if m else ""


def apt_lines(section):
    """The package lists of the section's apt-get install commands."""
    text = section.replace("\\\n", " ")
    return [line.split("--no-install-recommends", 1)[1].split()
            for line in text.splitlines() if "apt-get install" in line and "--no-install-recommends" in line]


def main():
    deps = read("scripts/deps.sh")
    readme = read("README.md")
    build_pkgs = shell_list(deps, "build_pkgs")
    test_pkgs = shell_list(deps, "test_pkgs")
    check(build_pkgs and test_pkgs, "deps.sh: build_pkgs and test_pkgs found")

    by_hand = readme_section(readme, "Building by hand")
    lists = apt_lines(by_hand)
    equal(lists, [build_pkgs, test_pkgs],
          "README, Building by hand: deps.sh's build and test packages, in order")

    # The demo's header is the README's --once fields.
    once = readme_section(readme, "One pass: `squirreld --once`")
    m = re.search(r"```text\n(id .*)\n```", once)
    readme_fields = m.group(1).split() if m else None
    demo = read("scripts/demo.sh")
    m = re.search(r"^printf '(id\\t.*)\\n'$", demo, re.M)
    demo_fields = m.group(1).split("\\t") if m else None
    equal(demo_fields, readme_fields, "demo.sh prints the README's --once field names")
    equal(readme_fields, ["id", "state", "http_status", "milliseconds", "url", "error"],
          "the README's --once fields")

    rc, out, err = run(["sh", os.path.join(ROOT, "scripts/deps.sh"), "nonsense"], timeout=30)
    equal((rc, out, err), (2, "", "usage: scripts/deps.sh build|demo|test\n"),
          "deps.sh: an unknown argument is refused with the usage")

    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        print("# shellcheck not installed: the scripts' lint skipped")
    else:
        scripts = sorted(os.path.join(ROOT, "scripts", n) for n in os.listdir(os.path.join(ROOT, "scripts"))
                         if n.endswith(".sh"))
        rc, out, err = run([shellcheck, *scripts], timeout=60)
        equal((rc, out + err), (0, ""), "shellcheck scripts/*.sh is clean")
    return done()


if __name__ == "__main__":
    sys.exit(main())
