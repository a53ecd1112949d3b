#!/usr/bin/env python3
"""embed.py IN OUT: the status page's script as a C header: the text as a
string (PAGE_SCRIPT) and its hash for the Content-Security-Policy
(PAGE_SCRIPT_HASH, "sha256-..."), so the two can never drift apart."""
import base64
import hashlib
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        text = f.read()
    text.decode("ascii")  # plain ASCII: what the page says is what was hashed
    digest = base64.b64encode(hashlib.sha256(text).digest()).decode("ascii")
    lines = []
    for line in text.decode("ascii").splitlines(keepends=True):
        lit = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        lines.append('\t"' + lit + '"')
    with open(dst, "w") as f:
        f.write("/* made by src/report/embed.py from src/report/page.js: do not edit */\n")
        f.write("#define PAGE_SCRIPT \\\n" + " \\\n".join(lines) + "\n")
        f.write('#define PAGE_SCRIPT_HASH "sha256-%s"\n' % digest)


if __name__ == "__main__":
    main()
