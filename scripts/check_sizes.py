#!/usr/bin/env python3
"""Files and functions of a size a reader can hold: no file under the library's folders
over MAX_FILE_LINES lines, no function body over MAX_FUNCTION_LINES.

Functions are found by a brace scan that is good enough for this code base: a `{` opened at
namespace or class scope whose text since the previous `;`, `{` or `}` has a parameter list
and is not a type, namespace, enum or initializer. A lambda counts toward the function it is
in. Comments, string and character literals are blanked first.

Usage: check_sizes.py <source dir>. Exit 0 when every file and function fits, else 1 with
one line per offender.
"""
import os
import re
import sys

FOLDERS = ["src", "state", "topology", "include"]
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 100
EXTENSIONS = (".cpp", ".hpp", ".h", ".cc")


def blank(text):
    """Comments, strings and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            if m:
                end = text.find(")" + m.group(1) + '"', i)
                end = n if end < 0 else end + len(m.group(1)) + 2
                out.append(re.sub(r"[^\n]", " ", text[i:end]))
                i = end
            else:
                out.append(c)
                i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j, n - 1) - i + 1))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


SCOPE_WORDS = re.compile(r"\b(namespace|class|struct|union|enum)\b")
CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|do|else|try)\b")


def functions(text):
    """(name, first line, line count) of each function body at namespace or class scope."""
    text = blank(text)
    stack = []  # per open brace: "scope" (namespace/class), "function" or "block"
    starts = []
    head_start = 0
    result = []
    line = 1
    for i, c in enumerate(text):
        if c == "\n":
            line += 1
        elif c in ";":
            head_start = i + 1
        elif c == "{":
            head = text[head_start:i]
            inside_function = any(k == "function" for k, _, _ in stack)
            if inside_function:
                kind = "block"
            elif SCOPE_WORDS.search(head) and "(" not in head.split("{")[-1].split(")")[0] \
                    and not re.search(r"\)\s*(const|noexcept|override|final|->|\s)*$", head):
                kind = "scope"
            elif re.search(r"\)\s*[\w:<>&*,\s\-\[\]]*$", head.strip()) and not CONTROL.match(head) \
                    and not re.search(r"=\s*$", head.strip()):
                kind = "function"
            elif "(" in head and re.search(r"\)\s*(const|noexcept|override|final|mutable)?\s*$", head.strip()):
                kind = "function"
            else:
                kind = "scope" if not inside_function else "block"
            name = re.sub(r"\s+", " ", head.strip())[-80:]
            stack.append((kind, line, name))
            head_start = i + 1
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function":
                    result.append((name, start, line - start + 1))
            head_start = i + 1
    return result


def main(source_dir):
    problems = []
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(source_dir, folder)):
            for n in sorted(names):
                if not n.endswith(EXTENSIONS):
                    continue
                path = os.path.join(dirpath, n)
                rel = os.path.relpath(path, source_dir)
                text = open(path, encoding="utf-8", errors="replace").read()
                lines = text.count("\n") + (0 if text.endswith("\n") else 1)
                if lines > MAX_FILE_LINES:
                    problems.append(f"{rel}: {lines} lines (at most {MAX_FILE_LINES}); split it by concern")
                for name, start, count in functions(text):
                    if count > MAX_FUNCTION_LINES:
                        problems.append(
                            f"{rel}:{start}: a function of {count} lines (at most "
                            f"{MAX_FUNCTION_LINES}): {name}")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} oversized file(s) or function(s)")
        return 1
    print("every file and function fits")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
