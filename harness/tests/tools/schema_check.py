#!/usr/bin/env python3
"""Validate a report.json against reports/schema.json with the `jsonschema` package.

Usage: schema_check.py <schema.json> <report.json>
Exits 0 when valid, 1 with the errors when not, 77 when `jsonschema` is not installed
(install with: pip install jsonschema, or apt-get install -y python3-jsonschema).
"""

import json
import sys

try:
    import jsonschema
except ImportError:
    print("the jsonschema Python package is not installed "
          "(pip install jsonschema, or apt-get install -y python3-jsonschema)", file=sys.stderr)
    sys.exit(77)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        report = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(report), key=lambda e: list(e.path))
    for e in errors:
        print(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
