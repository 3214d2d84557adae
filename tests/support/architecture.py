"""The import rules of the package, as data, and a checker that finds every import that breaks them.

Modules are read as source (nothing is imported): every `import` and `from ... import` counts, at module level or
inside a function, under `if TYPE_CHECKING:` or not. Importing `a.b.c` runs `a/__init__` and `a/b/__init__` too, so
an import is an edge to the module and to each package above it. `docs/architecture.md` shows the same rules; a
test holds the two together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "modelops"

#: The wings from the bottom up. A wing may import its own modules and those of the wings below it; wings on
#: one line are beside each other and import neither.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("base",),
    ("config",),
    ("state",),
    ("core",),
    ("validate",),
    ("sources", "notify", "registries"),
    ("workspace",),
    ("ops",),
    ("export", "report"),
    ("drivers",),
    ("run",),
    ("services",),
    ("cli",),
)

#: Wings that must never reach the state store (they are pure, or the configuration): only its values.
STORE = ("state.store", "state.journal", "state.lock", "state.recorded")
PURE = ("config", "core", "validate")

RANK = {wing: rank for rank, wings in enumerate(LAYERS) for wing in wings}


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported}: {self.why}"


def read_package(root: Path) -> dict[str, str]:
    """Every module of the package under `root` (the folder holding `modelops/`), by dotted name, with its source."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path.read_text(encoding="utf-8")
    return found


def imports(sources: Mapping[str, str]) -> dict[str, set[str]]:
    """Each module's imports of the package's own modules, as edges to modules (see the module docstring)."""
    return {name: set(_edges(name, source, sources)) for name, source in sources.items()}


def _edges(name: str, source: str, known: Mapping[str, str]) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        for target in _targets(name, node, known):
            yield from _with_parents(target, known)


def _targets(name: str, node: ast.AST, known: Mapping[str, str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if _ours(alias.name))
    elif isinstance(node, ast.ImportFrom):
        module = _absolute(name, node, known)
        if module is not None and _ours(module):
            yield module
            yield from (f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known)


def _absolute(name: str, node: ast.ImportFrom, known: Mapping[str, str]) -> str | None:
    if node.level == 0:
        return node.module
    package = name if name in known and _is_package(name, known) else name.rpartition(".")[0]
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def _is_package(name: str, known: Mapping[str, str]) -> bool:
    return any(other.startswith(name + ".") for other in known)


def _ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _with_parents(module: str, known: Mapping[str, str]) -> Iterator[str]:
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        prefix = ".".join(parts[:end])
        if prefix in known:
            yield prefix


def wing(module: str) -> str:
    """`modelops.core.diff` -> `core`; the package root and `__main__` are their own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def violations(edges: Mapping[str, Iterable[str]]) -> list[Violation]:
    """Every import that points up or sideways, reaches the store from a pure wing, or reaches the CLI."""
    found = []
    for importer, targets in sorted(edges.items()):
        for imported in sorted(targets):
            why = _rule(importer, imported)
            if why is not None:
                found.append(Violation(importer, imported, why))
    return found


def _rule(importer: str, imported: str) -> str | None:
    source, target = wing(importer), wing(imported)
    if target in (PACKAGE, source) or source in (PACKAGE, "__main__"):
        return None  # every module may read the version; the entry points are above everything
    if target == "cli":
        return "nothing imports the CLI"
    if source not in RANK or target not in RANK:
        return f"a wing not in the layers ({source if source not in RANK else target})"
    if source in PURE and imported.removeprefix(PACKAGE + ".").startswith(STORE):
        return f"{source} is pure: it may read state values, never the store"
    if RANK[target] > RANK[source]:
        return f"{target} is above {source}"
    if RANK[target] == RANK[source]:
        return f"{target} is beside {source}"
    return None


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's strongly connected
    components; a module importing itself counts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
