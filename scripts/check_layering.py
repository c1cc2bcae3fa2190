#!/usr/bin/env python3
"""The import rule, checked: a target includes only headers of targets it links.

Reads the manifest CMake writes at configure time (<build>/rill-layering.json, see
cmake/rill_targets.cmake): for every target its folders, the public headers whose code it
compiles, its layer, its sources, and the Rill targets whose headers it sees through its
links. Then, for every file a target compiles or owns:

- `#include "folder/x.hpp"` must name a header of a folder some target exposes, and that
  target must be the includer itself or one it links;
- `#include <rill/x.hpp>` likewise, for the target that owns the public header (rill_api
  unless a target claims it with rill_public_headers);
- `#include "x.hpp"` relative to the including file is part of the same target and is
  checked as such.

And the layer rule: a target with a layer links only targets of lower layers.

Usage: check_layering.py <source dir> <manifest>. Exit 0 when the rule holds, 1 with one
line per violation otherwise.
"""
import json
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def main(source_dir, manifest_path):
    with open(manifest_path) as f:
        targets = json.load(f)

    folder_owner = {}
    for name, t in targets.items():
        for folder in t["folders"]:
            folder_owner[folder] = name
    header_owner = {}
    for name, t in targets.items():
        for h in t["public_headers"]:
            header_owner[h] = name
    public_root = os.path.join(source_dir, "include")

    def public_owner(rel):
        return header_owner.get(rel, "rill_api")

    def folder_of(rel):
        # The longest exposed folder that `rel` (a path from the source root) lies in.
        best = None
        for folder in folder_owner:
            if rel.startswith(folder + "/") and (best is None or len(folder) > len(best)):
                best = folder
        return best

    problems = []

    def check_file(target, path, seen, queue):
        allowed = {target, *targets[target]["sees"]}
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError as e:
            problems.append(f"{target}: cannot read {path}: {e}")
            return
        rel_path = os.path.relpath(path, source_dir)
        for kind, inc in INCLUDE.findall(text):
            if kind == '"':
                local = os.path.normpath(os.path.join(os.path.dirname(path), inc))
                if os.path.exists(local):
                    if local not in seen:
                        seen.add(local)
                        queue.append(local)
                    continue
                folder = folder_of(inc)
                if folder is None:
                    problems.append(
                        f"{rel_path} ({target}): includes \"{inc}\", which no target exposes")
                    continue
                owner = folder_owner[folder]
            else:
                if not inc.startswith("rill/"):
                    continue  # a system or third-party header
                if not os.path.exists(os.path.join(public_root, inc)):
                    problems.append(f"{rel_path} ({target}): includes <{inc}>, which does not exist")
                    continue
                owner = public_owner(inc)
            if owner not in allowed:
                problems.append(
                    f"{rel_path} ({target}): includes {inc}, a header of {owner}, without "
                    f"linking {owner}; link it (if the layers allow) or move what is shared "
                    f"to a lower target")

    for name, t in targets.items():
        files = [os.path.normpath(s) for s in t["sources"]
                 if s.endswith((".cpp", ".cc", ".hpp", ".h"))]
        for folder in t["folders"]:
            root = os.path.join(source_dir, folder)
            for dirpath, _, names in os.walk(root):
                for n in names:
                    if n.endswith((".hpp", ".h")):
                        files.append(os.path.normpath(os.path.join(dirpath, n)))
        seen = set(files)
        queue = list(files)
        while queue:
            check_file(name, queue.pop(), seen, queue)

    # Public headers belong to their owner and include only what it sees.
    for dirpath, _, names in os.walk(public_root):
        for n in names:
            if not n.endswith(".hpp"):
                continue
            path = os.path.join(dirpath, n)
            owner = public_owner(os.path.relpath(path, public_root))
            if owner not in targets:
                problems.append(f"{path}: owned by {owner}, which is not a target")
                continue
            check_file(owner, path, {path}, [])

    for name, t in targets.items():
        layer = t["layer"]
        for link in t["links"]:
            other = targets.get(link)
            if other is None:
                continue
            if layer is not None and other["layer"] is None:
                problems.append(f"{name} (layer {layer}) links {link}, which has no layer")
            elif layer is not None and other["layer"] >= layer:
                problems.append(
                    f"{name} (layer {layer}) links {link} (layer {other['layer']}): nothing "
                    f"links upward or sideways")

    for p in sorted(set(problems)):
        print(p)
    if problems:
        print(f"{len(set(problems))} layering violation(s)")
        return 1
    print(f"layering holds for {len(targets)} targets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
