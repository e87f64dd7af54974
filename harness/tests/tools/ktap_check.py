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

import glob
import inspect
import json
import os
import re
import sys
import tarfile


def version_key(path):
    return [int(n) for n in re.findall(r"\d+", os.path.basename(path))]


def unpack(tarball, cache):
    name = os.path.basename(tarball).split(".tar")[0]
    dest = os.path.join(cache, name)
    kunit = os.path.join(dest, "tools", "testing", "kunit")
    if os.path.exists(os.path.join(kunit, "kunit_parser.py")):
        return kunit
    os.makedirs(kunit, exist_ok=True)
    wanted = re.compile(r"^[^/]+/tools/testing/kunit/[^/]+\.py$")
    with tarfile.open(tarball) as tar:
        for member in tar:
            if member.isfile() and wanted.match(member.name):
                data = tar.extractfile(member).read()
                tmp = os.path.join(kunit, os.path.basename(member.name) + ".tmp")
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, os.path.join(kunit, os.path.basename(member.name)))
    return kunit


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
