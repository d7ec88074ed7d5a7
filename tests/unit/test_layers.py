"""The layer contract (ARCHITECTURE.md): lower layers never import higher ones, no module imports
itself round a cycle, the library never imports Streamlit, and the agreement core starts light.

The import graph is read from the source (every `import`, at module level or inside a function),
so a lazy import that goes the wrong way is caught as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "riskshare"

# Lowest first. A subpackage may import its own layer's modules only within itself; siblings on
# one layer do not import each other.
LAYERS = (
    ("core",),
    ("solver", "scenarios"),
    ("agreements", "reconciliation"),
    ("optimisation", "games", "reports", "inyear", "risks", "years"),
    ("workshop",),
    ("cli", "ui"),
)
LEVEL = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:` (annotations only, never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING",
                                                                   "typing.TYPE_CHECKING"):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from runtime_nodes(node)


def imports(path: Path) -> set[str]:
    """Every riskshare module `path` imports (absolute names; relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = set()
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "riskshare"}


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {i for i in imports(p) if i in modules and i != m} for m, p in modules.items()}


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_subpackage_has_a_place_in_the_layers():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages == set(LEVEL), "add the new subpackage to LAYERS and ARCHITECTURE.md"
    stray = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert stray == [], f"modules belong in a subpackage: {stray}"


def test_lower_layers_never_import_higher_ones_and_siblings_stay_apart():
    wrong = []
    for module, targets in graph().items():
        mine = package_of(module)
        if mine is None:
            continue
        for target in targets:
            theirs = package_of(target)
            if theirs is None or theirs == mine:
                continue
            if LEVEL[theirs] >= LEVEL[mine]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_cycles():
    g = graph()
    # a package's __init__ re-exports its modules; importing a module from within the package
    # goes straight to that module, so the edge module -> its own package is not a cycle
    for m in g:
        g[m] = {t for t in g[m] if not m.startswith(t + ".")}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                cycles.append(sorted(part))

    for v in sorted(g):
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(m for m in graph() if not m.startswith("riskshare.ui")))
def test_the_library_never_imports_streamlit(module):
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = PACKAGE.parent / module.replace(".", "/") / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(n.split(".")[0] == "streamlit" for n in names)
