#!/usr/bin/python3
"""Counts the calls on a record's path in callgrind profiles (benchmarks/instructions.sh).

    calls.py BINARY RECORDS PROFILE...

prints, per record, three kinds of call made inside the profiled function:

  virtual   calls into a function that some vtable of BINARY points at (read from the
            relocations that fill the vtables of a position-independent executable). A call
            the compiler devirtualized to one of these counts too, so it is an upper bound.
  function  std::function hops: calls into std::_Function_handler<...>::_M_invoke.
  lookup    map lookups that were not inlined: find, count, at, operator[], lower_bound,
            upper_bound and equal_range of std::map, std::set, std::unordered_map and
            std::unordered_set (their _Rb_tree and _Hashtable implementations).

RILL_CALLS_DETAIL=1 also prints the most frequent callees of each kind. Calls that the compiler inlined are not calls and are not counted; the bench preset is what
runs in production (Release -O3), so this is what a user's build pays.
"""
import bisect
import os
import re
import subprocess
import sys
from collections import Counter


def virtual_targets(binary):
    """Demangled names of every function some vtable of `binary` points at."""
    symbols = subprocess.run(["nm", "-C", "-S", "--defined-only", binary], check=True,
                             capture_output=True, text=True).stdout
    tables = []  # (start, end) of each vtable
    functions = {}  # address -> demangled name
    for line in symbols.splitlines():
        parts = line.split(" ", 3)
        if len(parts) < 4:
            continue
        address, size, kind, name = int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]
        if name.startswith("vtable for "):
            tables.append((address, address + size))
        elif kind in "tTwW":
            functions.setdefault(address, name)
    tables.sort()
    relocations = subprocess.run(["readelf", "-rW", binary], check=True, capture_output=True,
                                 text=True).stdout
    targets = set()
    starts = [t[0] for t in tables]
    for line in relocations.splitlines():
        fields = line.split()
        if len(fields) < 4 or "R_X86_64_RELATIVE" not in fields[2]:
            continue
        offset = int(fields[0], 16)
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0 or offset >= tables[i][1]:
            continue
        name = functions.get(int(fields[3], 16))
        if name:
            targets.add(name)
    return targets


def callees(profile):
    """Calls per callee name in one callgrind output file (names compressed or not)."""
    names = {}
    out = Counter()
    callee = None
    reference = re.compile(r"^\((\d+)\)(?: (.*))?$")
    with open(profile, errors="replace") as f:
        for line in f:
            if line.startswith("cfn="):
                m = reference.match(line[4:].rstrip("\n"))
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    callee = names.get(m.group(1))
                else:
                    callee = line[4:].rstrip("\n")
            elif line.startswith("fn="):
                m = reference.match(line[3:].rstrip("\n"))
                if m and m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
            elif line.startswith("calls=") and callee is not None:
                out[callee] += int(line[6:].split()[0])
                callee = None
    return out


LOOKUP = re.compile(
    r"^std::(_Rb_tree|_Hashtable|map|set|unordered_map|unordered_set|__detail::_Map_base)<.*>::"
    r"(find|count|at|operator\[\]|lower_bound|upper_bound|equal_range|_M_lower_bound|"
    r"_M_upper_bound|_M_find_before_node|_M_find_node|_M_get_insert_unique_pos|"
    r"_M_get_insert_hint_unique_pos)\(")


def kind(name, virtuals):
    if name.startswith("std::_Function_handler<") and "::_M_invoke(" in name:
        return "function"
    if LOOKUP.match(name):
        return "lookup"
    if name in virtuals:
        return "virtual"
    return None


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: calls.py BINARY RECORDS PROFILE...")
    binary, records, profiles = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    virtuals = virtual_targets(binary)
    if not virtuals:
        sys.exit(f"no vtable of {binary} could be read: is it position-independent?")
    total = Counter()
    for p in profiles:
        total.update(callees(p))
    per_kind = Counter()
    top = {k: Counter() for k in ("virtual", "function", "lookup")}
    for name, n in total.items():
        k = kind(name, virtuals)
        if k:
            per_kind[k] += n
            top[k][name] += n
    print(" ".join(f"{k}={per_kind[k] / records:.2f}" for k in ("virtual", "function", "lookup")))
    if os.environ.get("RILL_CALLS_DETAIL"):  # the most frequent callees of each kind
        for k, c in top.items():
            for name, n in c.most_common(8):
                print(f"  {k:8} {n / records:8.2f}  {name[:150]}")


if __name__ == "__main__":
    main()
