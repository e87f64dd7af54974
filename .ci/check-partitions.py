#!/usr/bin/env python3
"""Check nextest partitions: every test listed (and not ignored) ran in exactly
one partition's JUnit, and the merged JUnit holds each test once.

Usage: check-partitions.py LIST.json JUNIT-1.xml JUNIT-2.xml ... [--merged OUT.xml] [--result FILE]
"""
import json
import sys
import xml.etree.ElementTree as ET


def listed(path):
    data = json.load(open(path))
    out = set()
    for suite in data["rust-suites"].values():
        for name, case in suite["testcases"].items():
            if case.get("ignored") or case.get("filter-match", {}).get("status") != "matches":
                continue
            out.add(name)
    return out


def ran(path):
    root = ET.parse(path).getroot()
    return root, [tc.get("name") for tc in root.iter("testcase")]


def main(argv):
    merged_out = None
    result_out = None
    if "--merged" in argv:
        i = argv.index("--merged")
        merged_out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if "--result" in argv:
        i = argv.index("--result")
        result_out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    want = listed(argv[0])
    seen = {}
    merged = ET.Element("testsuites", name="nsconform-partitions")
    for path in argv[1:]:
        root, names = ran(path)
        for n in names:
            seen.setdefault(n, []).append(path)
        for suite in root.iter("testsuite"):
            merged.append(suite)
    twice = {n: p for n, p in seen.items() if len(p) > 1}
    missing = want - set(seen)
    extra = set(seen) - want
    for n, p in sorted(twice.items()):
        print(f"ran more than once: {n} in {p}")
    for n in sorted(missing):
        print(f"ran in no partition: {n}")
    for n in sorted(extra):
        print(f"ran but not listed: {n}")
    if merged_out:
        ET.ElementTree(merged).write(merged_out, encoding="utf-8", xml_declaration=True)
        names = [tc.get("name") for tc in merged.iter("testcase")]
        if len(names) != len(set(names)):
            print("the merged JUnit holds duplicates")
            return 1
    counts = [len(ran(p)[1]) for p in argv[1:]]
    good = not (twice or missing or extra)
    summary = (f"{len(want)} trials listed; partitions ran {counts}; "
               f"twice {len(twice)}, in none {len(missing)}, not listed {len(extra)}")
    print(summary)
    if result_out:
        with open(result_out, "w") as f:
            f.write(("ok: " if good else "failed: ") + summary + "\n")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
