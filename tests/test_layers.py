"""The rooms and the rules between them (docs/architecture.md), read from every module's imports.

Every `import` and `from … import` counts, at module level or inside a function: a lazy import is
still a dependency. Only imports under `if TYPE_CHECKING:` (never run) are left out. Run by the suite and by `make lint`.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("data_layer", "appdb", "components", "shell", "pages")
QUERYING = ("data_layer.queries", "data_layer.warehouse", "data_layer.engine")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for room in ROOMS for p in sorted((ROOT / room).rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """What `name` imports, resolved to full dotted names: `from a import b` counts `a.b`, and `a`
    too unless `b` is a module of ours."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found.update(names)  # a module of ours, or a name in one (the graph keeps only modules)
            if any(n not in _modules() for n in names):
                found.add(target)
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node of `tree` except the bodies of `if TYPE_CHECKING:`."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


@cache
def graph() -> dict[str, frozenset[str]]:
    """Our modules and the modules of ours each one imports."""
    ours = _modules()
    return {name: frozenset(i for i in _imports(name, path) if i.split(".")[0] in ROOMS and i in ours)
            for name, path in ours.items()}


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _breaches(source: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{m} imports {i}" for m, deps in graph().items() if _in(m, source)
                  for i in deps if _in(i, forbidden))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1 or v in edges.get(v, ()):
                found.append(sorted(part))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_sees_every_room() -> None:
    g = graph()
    assert {m.split(".")[0] for m in g} == set(ROOMS)
    assert "data_layer.queries.kpis" in g["data_layer.cli"]  # a function-level import counts


def test_the_data_layer_imports_no_room_above_it() -> None:
    assert _breaches(("data_layer",), ("appdb", "shell", "pages", "components")) == []


def test_components_neither_query_nor_reach_the_app() -> None:
    assert _breaches(("components",), ("appdb", "shell", "pages") + QUERYING) == []


def _calls(prefixes: tuple[str, ...], names: set[str]) -> list[str]:
    """Where modules under `prefixes` call (or decorate with) a function or method named in `names`."""
    found = []
    for m, path in _modules().items():
        if not _in(m, prefixes):
            continue
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if name in names:
                    found.append(f"{m}:{node.lineno} {name}")
    return sorted(found)


def test_components_register_no_callbacks() -> None:
    """A component builds what is shown; the page or the shell that shows it registers its callbacks."""
    assert _calls(("components",), {"callback", "clientside_callback"}) == []


def test_no_private_dash_api() -> None:
    """Dash's underscored modules (dash._callback and its GLOBAL_* lists) may change in any release."""
    private = sorted(f"{m} imports {i}" for m, path in _modules().items() for i in _imports(m, path)
                     if i.startswith("dash._"))
    assert private == []


@pytest.mark.parametrize("within", ["rooms", "data_layer"])
def test_no_import_cycles(within: str) -> None:
    if within == "rooms":  # between the top-level packages
        edges: dict[str, set[str]] = {}
        for m, deps in graph().items():
            edges.setdefault(m.split(".")[0], set()).update(d.split(".")[0] for d in deps if d.split(".")[0] != m.split(".")[0])
    else:  # between the modules of the data layer (a package and its own modules aside)
        edges = {m: {d for d in deps if d.startswith("data_layer") and not m.startswith(d + ".")}
                 for m, deps in graph().items() if m.startswith("data_layer")}
    assert _cycles(edges) == []
