#!/usr/bin/env python3
"""Parse a KTAP file with the kernel's own KTAP parser (tools/testing/kunit/kunit_parser.py).

Usage: ktap_check.py <file.ktap> <result.json> <cache-dir>

The parser is taken from, in order:
  1. $NSCONFORM_KUNIT_DIR (a directory holding kunit_parser.py);
  2. /usr/src/linux-source-*/tools/testing/kunit (an unpacked kernel source);
  3. /usr/src/linux-source-*.tar.xz from Debian's linux-source-* package: its
     tools/testing/kunit/*.py are unpacked once into <cache-dir>.
Install with: apt-get install -y linux-source-6.12 (any version with KTAP support works).

Writes <result.json>: {"status", "counts": {...}, "suites": [{"name", "status", "counts",
"tests": [{"name", "status", "log"}]}]}. Exits 77 when no parser can be found.
"""

import fcntl
import glob
import inspect
import json
import os
import re
import sys
import shutil
import subprocess
import tarfile
import tempfile


def version_key(path):
    return [int(n) for n in re.findall(r"\d+", os.path.basename(path))]


def unpack(tarball, cache):
    """Unpacks tools/testing/kunit/*.py once into cache/<name>; safe against races."""
    name = os.path.basename(tarball).split(".tar")[0]
    dest = os.path.join(cache, name)
    if os.path.exists(os.path.join(dest, "kunit_parser.py")):
        return dest
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one unpacker at a time; the others wait
        if not os.path.exists(os.path.join(dest, "kunit_parser.py")):
            tmp = tempfile.mkdtemp(prefix=name + ".", dir=cache)
            extract(tarball, tmp)
            os.rename(tmp, dest)
    return dest


def extract(tarball, into):
    """Copies the tarball's tools/testing/kunit/*.py into the directory `into`."""
    pattern = "*/tools/testing/kunit/*.py"
    if shutil.which("tar"):
        staging = tempfile.mkdtemp(dir=into)
        subprocess.run(["tar", "-xf", tarball, "-C", staging, "--wildcards",
                        "--no-wildcards-match-slash", pattern], check=True)
        for path in glob.glob(os.path.join(staging, pattern)):
            shutil.move(path, into)
        shutil.rmtree(staging)
        return
    wanted = re.compile(r"^[^/]+/tools/testing/kunit/[^/]+\.py$")
    with tarfile.open(tarball) as tar:
        for member in tar:
            if member.isfile() and wanted.match(member.name):
                with open(os.path.join(into, os.path.basename(member.name)), "wb") as f:
                    f.write(tar.extractfile(member).read())


def find_kunit(cache):
    env = os.environ.get("NSCONFORM_KUNIT_DIR")
    if env and os.path.exists(os.path.join(env, "kunit_parser.py")):
        return env
    trees = glob.glob("/usr/src/linux-source-*/tools/testing/kunit/kunit_parser.py")
    if trees:
        return os.path.dirname(max(trees, key=version_key))
    tarballs = glob.glob("/usr/src/linux-source-*.tar.xz") + glob.glob(
        "/usr/src/linux-source-*.tar.bz2"
    )
    if tarballs:
        return unpack(max(tarballs, key=version_key), cache)
    return None


def describe(test):
    return {
        "name": test.name,
        "status": test.status.name,
        "counts": vars(test.counts),
        "log": list(test.log),
        "tests": [describe(t) for t in test.subtests],
    }


def main():
    ktap, out, cache = sys.argv[1:4]
    kunit = find_kunit(cache)
    if kunit is None:
        print("no KTAP parser: install Debian's linux-source-6.12 package "
              "(apt-get install -y linux-source-6.12) or set NSCONFORM_KUNIT_DIR",
              file=sys.stderr)
        return 77
    sys.path.insert(0, kunit)
    import kunit_parser  # noqa: E402  (found at run time)

    with open(ktap, encoding="utf-8") as f:
        lines = f.readlines()
    # Newer kernels take the printer as a second argument.
    if len(inspect.signature(kunit_parser.parse_run_tests).parameters) > 1:
        import kunit_printer  # noqa: E402

        main_test = kunit_parser.parse_run_tests(lines, kunit_printer.stdout)
    else:
        main_test = kunit_parser.parse_run_tests(lines)
    result = describe(main_test)
    result["parser"] = os.path.join(kunit, "kunit_parser.py")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
