"""The import layers of DESIGN.md (and README.md, "Layers"), checked on the source with ``ast``.

Every import of every module of ``archgraph`` and ``supernet`` counts, function-level ones
included. A module imports only from its own layer or below, ``archgraph`` never imports
``supernet``, and no import closes a cycle, between modules or between archgraph's packages.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: archgraph's layers, lowest first: a package or top-level module of ``archgraph`` by name
LAYERS = [("utils", "encoding"), ("spaces",), ("graphs", "metrics"), ("nn",),
          ("evaluators", "datasets", "predictors", "lookup"), ("search",), ("plot", "cli")]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
#: ``supernet`` sits above archgraph's spaces layer: it may use archgraph up to ``graphs`` and
#: ``metrics`` (measured similarities), archgraph's ``nn`` and above never see it
SUPERNET_RANK = RANK["graphs"] + 0.5
#: examples (``examples/``) sit on top of everything: nothing in the packages imports them
TOP_RANK = len(LAYERS)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for top in ("archgraph", "supernet")
           for p in sorted((ROOT / top).rglob("*.py"))}


def _imports(name: str) -> list[tuple[int, str, bool]]:
    """``(line, imported module, at function level)`` of every import of module ``name`` that
    reaches ``archgraph`` or ``supernet``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []

    def visit(node, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((child.lineno, a.name, nested) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for a in child.names:
                    sub = f"{base}.{a.name}"
                    out.append((child.lineno, sub if sub in MODULES else base, nested))
            visit(child, inner)

    visit(tree, False)
    return [(line, target, nested) for line, target, nested in out
            if target.split(".")[0] in ("archgraph", "supernet")]


IMPORTS = {name: _imports(name) for name in MODULES}


def _unit(name: str) -> str:
    """The package (archgraph) or module (supernet) a module belongs to, for the layers."""
    parts = name.split(".")
    return ".".join(parts[:2])


def _rank(name: str) -> float:
    top, _, rest = name.partition(".")
    if top == "supernet":
        return SUPERNET_RANK
    return RANK[rest.split(".")[0]] if rest else TOP_RANK


def _executed(importer: str, target: str) -> list[str]:
    """Modules an import runs: the target and those of its packages the importer is not in."""
    parts = target.split(".")
    chain = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return [m for m in chain if m in MODULES and not (importer == m or
                                                       importer.startswith(m + "."))]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def _describe(component: list[str], edges: dict[str, set[str]], where) -> str:
    """One shortest cycle through the first node of ``component``, hop by hop with the
    import's place."""
    inside, start = set(component), component[0]
    parent, queue = {}, [start]
    while queue and start not in parent:
        v = queue.pop(0)
        for w in sorted(edges.get(v, ())):
            if w in inside and w not in parent:
                parent[w] = v
                queue.append(w)
    path = [start]
    while len(path) == 1 or path[-1] != start:
        path.append(parent[path[-1]])
    path.reverse()
    hops = [f"{a} imports {b} ({', '.join(sorted(set(where[a, b])))})"
            for a, b in zip(path, path[1:])]
    return (f"import cycle {' -> '.join(path)} ({len(component)} in its strongly connected "
            f"component): " + "; ".join(hops))


def _module_cycles(prefix: str) -> list[str]:
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], list[str]] = {}
    for name, imports in IMPORTS.items():
        if not name.startswith(prefix):
            continue
        for line, target, _ in imports:
            for m in _executed(name, target):
                if m.startswith(prefix) and m != name:
                    edges.setdefault(name, set()).add(m)
                    place = f"{MODULES[name].relative_to(ROOT)}:{line}"
                    where.setdefault((name, m), []).append(place)
    return [_describe(c, edges, where) for c in _cycles(edges)]


def test_every_module_is_placed_in_a_layer():
    unplaced = [n for n in MODULES if n.startswith("archgraph.")
                and n.split(".")[1] not in RANK]
    assert not unplaced, f"modules outside every layer (add them to LAYERS and README): {unplaced}"


def test_no_upward_import():
    bad = []
    for name, imports in IMPORTS.items():
        for line, target, _ in imports:
            if name.startswith("archgraph") and target.startswith("supernet"):
                bad.append(f"{MODULES[name].relative_to(ROOT)}:{line}: {name} imports {target} "
                           f"(archgraph never imports supernet)")
            elif _rank(target) > _rank(name):
                bad.append(f"{MODULES[name].relative_to(ROOT)}:{line}: {name} (layer "
                           f"{_rank(name)}) imports {target} (layer {_rank(target)}), above it")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycle_between_archgraph_packages():
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], list[str]] = {}
    for name, imports in IMPORTS.items():
        if not name.startswith("archgraph."):
            continue
        for line, target, _ in imports:
            a, b = _unit(name), _unit(target)
            if a != b and b.startswith("archgraph."):
                edges.setdefault(a, set()).add(b)
                where.setdefault((a, b), []).append(f"{MODULES[name].relative_to(ROOT)}:{line}")
    cycles = [_describe(c, edges, where) for c in _cycles(edges)]
    assert not cycles, "\n".join(cycles)


def test_no_import_cycle_between_archgraph_modules():
    cycles = _module_cycles("archgraph")
    assert not cycles, "\n".join(cycles)


def test_no_import_cycle_between_supernet_modules():
    cycles = _module_cycles("supernet")
    assert not cycles, "\n".join(cycles)


def test_no_lazy_import_works_around_a_cycle():
    """A function-level import may keep a heavy or optional dependency off the import path,
    never hide a cycle."""
    says = re.compile(r"cycl|circular|imports this module", re.I)
    bad = []
    for name, imports in IMPORTS.items():
        lines = MODULES[name].read_text(encoding="utf-8").splitlines()
        for line, target, nested in imports:
            context = lines[max(0, line - 3):line]
            if nested and any("#" in c and says.search(c.split("#", 1)[1]) for c in context):
                bad.append(f"{MODULES[name].relative_to(ROOT)}:{line}: {target}")
    assert not bad, "lazy imports that say they avoid a cycle:\n" + "\n".join(bad)


def test_the_checks_see_lazy_imports_and_cycles():
    """The parser finds function-level imports, and the cycle finder finds a cycle."""
    nested = [t for _, t, n in IMPORTS["archgraph.cli.dataset"] if n]
    assert "archgraph.evaluators" in nested
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _executed("archgraph.datasets.predictor_dataset", "archgraph.spaces.evaluator") == [
        "archgraph.spaces", "archgraph.spaces.evaluator"]
