#!/usr/bin/env python3
"""The layering of src/, checked from the code's own imports.

Reads every `crate::`, `super::`, `self::` and child-module path in src/
(comments and strings left out), maps each to the file that defines it,
and fails when

  1. a top-level module imports one on its own layer or above (so a role
     -- cc, dea, router, hm, broker -- never imports another role: what two
     roles share lives below them, in `protocol`, `lifecycle`, `bus`...);
  2. inside a role with layers of its own (the Cloud Controller: models,
     the v2 presenter, services, HTTP handlers), a file imports a layer
     above its own;
  3. files import each other in a circle. A file reaching its own
     ancestors' module files (`super::Thing` from a child) is a module
     using its face, not an edge of a circle;
  4. a file of the CC outside its models runs SQL (`sqlx::query…`): the
     CCDB is read and changed through the models alone (and the two files
     below them that decide who asks and what they may do — see
     SQL_OUTSIDE_MODELS);
  5. a file of the CC outside its models and presenters reads a row's
     columns by name (`try_get`, `text_column`, `bool_column`): services
     and handlers read a model's typed record (`Record::from_row`).

    scripts/check-layers.py          check, print what is wrong
    scripts/check-layers.py --graph  also print every file's imports
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Lowest first. A module may import only modules of lower layers.
LAYERS = [
    ["metrics", "tls"],  # what every process serves: its metrics, its TLS listeners
    ["write_aside", "file_cache", "ccdb", "protocol", "bus", "blobstore"],
    ["runtime", "lifecycle"],
    ["config"],
    ["cc", "dea", "router", "hm", "broker"],  # the roles
    ["server"],
    ["deployment", "bench", "cli"],
    ["main"],
]


# Layers inside a top-level module, lowest first, by path under src/ (a
# folder ends in /); its files named nowhere are `None`'s layer.
INNER_LAYERS = {
    "cc": [
        ["cc/error.rs", "cc/auth.rs", "cc/model/sql.rs"],  # what all of the CC says and who asks
        ["cc/permissions.rs"],  # who may see and change what
        ["cc/model/"],  # what the CC stores: a file per resource
        ["cc/v2/", "cc/v3/"],  # the v2 and v3 presenters of any model
        [None],  # services: runner, stager, rollout, brokers, seeding...
        ["cc/api/"],  # the HTTP handlers, which nothing below imports
    ],
}


# Files of the CC that run SQL outside `cc/model/`, and why: they sit below
# the models (which use them), so they cannot call a model.
SQL_OUTSIDE_MODELS = {
    "cc/auth.rs": "UAA's users: who asks, read before any model is",
    "cc/permissions.rs": "the roles that decide what a user may see, which every model's visibility uses",
}

RUNS_SQL = re.compile(r"\bsqlx::query(?:_scalar|_as)?\b")
READS_COLUMNS = re.compile(r"\b(?:try_get|text_column|bool_column)\b")


def outside(path, allowed):
    """Whether `path` is a file of the CC outside the folders `allowed` and SQL_OUTSIDE_MODELS."""
    relative = os.path.relpath(path, SRC).replace(os.sep, "/")
    if not relative.startswith("cc/") or relative in SQL_OUTSIDE_MODELS:
        return False
    return not any(relative.startswith(folder) for folder in allowed)


def runs_sql_outside_models(path, text):
    """Whether `path` is a file of the CC outside its models that runs SQL."""
    return outside(path, ["cc/model/"]) and bool(RUNS_SQL.search(text))


def reads_columns_outside_models(path, text):
    """Whether `path` is a file of the CC outside its models and presenters
    that reads a row's columns by name."""
    return outside(path, ["cc/model/", "cc/v2/", "cc/v3/"]) and bool(READS_COLUMNS.search(text))


def inner_layer(path):
    """(module, layer) of a file of a module with inner layers, else None."""
    relative = os.path.relpath(path, SRC).replace(os.sep, "/")
    top = relative.split("/")[0]
    if top not in INNER_LAYERS or "/" not in relative:
        return None
    layers = INNER_LAYERS[top]
    for index, group in enumerate(layers):
        if any(p and (relative == p or (p.endswith("/") and relative.startswith(p))) for p in group):
            return top, index
    return top, next(i for i, group in enumerate(layers) if None in group)


def strip(text):
    """The text with comments, strings and char literals blanked."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 260]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'":
            if text.startswith("\\", i + 1):
                end = text.find("'", i + 3)
                i = end + 1
            elif i + 2 < n and text[i + 2] == "'":
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(path):
    """`src/cc/api/apps.rs` -> ['cc', 'api', 'apps']; mod.rs names its folder."""
    parts = os.path.relpath(path, SRC)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1] if parts[-1] != "main" else ["main"]
    return parts


def file_of(module):
    """The file defining the longest prefix of `module`, and that prefix."""
    for k in range(len(module), 0, -1):
        base = os.path.join(SRC, *module[:k])
        for candidate in (base + ".rs", os.path.join(base, "mod.rs")):
            if os.path.isfile(candidate):
                return candidate, module[:k]
    return None, []


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    depth, top = 0, None
    for i, c in enumerate(tree):
        if c == "{":
            if depth == 0:
                top = i
            depth += 1
        elif c == "}":
            depth -= 1
    if top is None:
        return [tree]
    prefix, inner = tree[:top], tree[top + 1:tree.rfind("}")]
    parts, depth, start = [], 0, 0
    for i, c in enumerate(inner + ","):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            if inner[start:i]:
                parts.append(inner[start:i])
            start = i + 1
    return [p for part in parts for p in expand_use(prefix + part)]


PATH = re.compile(r"(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::(?:[A-Za-z_][A-Za-z0-9_]*|\*))+)")


def imports(path, text):
    """The files `path` imports."""
    here = module_of(path)
    children = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", text, re.M))
    found = set()
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", text):
        paths.extend(expand_use(tree))
    paths.extend(m.group(1) for m in PATH.finditer(re.sub(r"\buse\s+[^;]+;", "", text)))
    for p in paths:
        segments = [s.split(" as ")[0] for s in p.split("::")]
        first = segments[0]
        if first == "crate":
            target = segments[1:]
        elif first in ("super", "self"):
            target = list(here)
            while segments and segments[0] in ("super", "self"):
                if segments.pop(0) == "super":
                    target = target[:-1]
            target += segments
        elif first in children:
            target = here + segments
        else:
            continue
        target = [s for s in target if s != "*"]
        file, _ = file_of(target)
        if file and os.path.abspath(file) != os.path.abspath(path):
            found.add(os.path.abspath(file))
    return found


def ancestors_files(path):
    module = module_of(path)
    out = set()
    for k in range(0, len(module)):
        f, prefix = file_of(module[:k]) if k else (os.path.join(SRC, "lib.rs"), [])
        if f and prefix == module[:k]:
            out.add(os.path.abspath(f))
    return out


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    files = []
    for root, _, names in os.walk(SRC):
        files += [os.path.abspath(os.path.join(root, n)) for n in names if n.endswith(".rs")]
    layer_of = {m: i for i, group in enumerate(LAYERS) for m in group}
    rel = lambda f: os.path.relpath(f, os.path.join(SRC, ".."))
    graph, problems = {}, []
    for f in sorted(files):
        with open(f, encoding="utf-8") as handle:
            text = strip(handle.read())
        targets = imports(f, text)
        if runs_sql_outside_models(f, text):
            problems.append(f"{rel(f)}: runs SQL outside the CC's models (move the query into src/cc/model/)")
        if reads_columns_outside_models(f, text):
            problems.append(f"{rel(f)}: reads a row's columns by name outside the CC's models and presenters (read a Record)")
        faces = ancestors_files(f)
        graph[f] = sorted(t for t in targets if t not in faces)
        top = module_of(f)[0] if module_of(f) else None
        inner = inner_layer(f)
        for t in graph[f]:
            other_inner = inner_layer(t)
            if inner and other_inner and inner[0] == other_inner[0] and other_inner[1] > inner[1]:
                problems.append(f"{rel(f)} -> {rel(t)}: imports a layer of {inner[0]} above its own")
        for t in sorted(targets):
            other = module_of(t)[0] if module_of(t) else None
            if top is None or other is None or top == other:
                continue
            if top not in layer_of or other not in layer_of:
                problems.append(f"{rel(f)} -> {rel(t)}: a top-level module missing from LAYERS")
            elif layer_of[other] >= layer_of[top]:
                why = "a role imports another role" if layer_of[top] == layer_of[other] == 3 else "imports a layer not below it"
                problems.append(f"{rel(f)} -> {rel(t)}: {why} ({top} -> {other})")
    for circle in sccs(graph):
        names = {rel(f) for f in circle}
        ties = [f"    {rel(a)} -> {rel(b)}" for a in circle for b in graph[a] if b in circle]
        problems.append(f"files import each other in a circle: {', '.join(sorted(names))}\n" + "\n".join(ties))
    if "--graph" in sys.argv:
        for f, ts in graph.items():
            print(rel(f), "->", " ".join(rel(t) for t in ts))
    if problems:
        print("\n".join(problems))
        print(f"layering: {len(problems)} problem(s)")
        return 1
    print(f"layering: {len(files)} files, {sum(map(len, graph.values()))} imports, no role imports another, "
          "the CC's layers hold, no circles, the CC's SQL and column reads are in its models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
