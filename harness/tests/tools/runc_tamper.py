#!/usr/bin/env python3
"""A runc that is wrong on purpose: it rewrites the bundle's config.json
before calling the real runc. A config with a hostname keeps its UTS
namespace and gets another hostname (so that the host's can never change);
one without loses its UTS namespace; the first uid mapping is shifted by one
host id. The runtime-door test expects exactly the cases that observe these
to fail through `--door oci:<this file>`."""
import json
import os
import sys

args = sys.argv[1:]
if "--bundle" in args:
    path = os.path.join(args[args.index("--bundle") + 1], "config.json")
    with open(path) as f:
        config = json.load(f)
    linux = config.setdefault("linux", {})
    if "hostname" in config:
        config["hostname"] = "nsconform-tampered"
    else:
        spaces = linux.get("namespaces", [])
        linux["namespaces"] = [n for n in spaces if n.get("type") != "uts"]
    for mapping in linux.get("uidMappings", [])[:1]:
        mapping["hostID"] += 1
    with open(path, "w") as f:
        json.dump(config, f)
os.execvp("runc", ["runc"] + args)
