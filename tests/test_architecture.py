"""The rules of docs/architecture.md that a program can check: no import cycles among
infopack's modules, no first-party import inside a function, no module over 600 lines,
click and rich only in `infopack/cli/`.

Imports are read with `ast` (nothing is imported), wherever they are: at the top, inside
functions, under `if`. An edge goes from a module to every module its imports execute:
`import a.b.c` and `from a.b import c` run `a.b.c` and, when the importing module lives
outside them, the packages `a` and `a.b` (their `__init__` runs first). A package's
`__init__` importing its own submodules, and a submodule importing its parent package, are
edges like any other: a registry whose `__init__` imports the kind modules stays acyclic
only if the kind modules never import the package itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "infopack"
MAX_LINES = 600
UI_LIBRARIES = ("click", "rich")

# Modules other helpers are changing while these rules arrive; the integrator removes each
# entry once its area follows the rule (a stale entry fails its test).
KNOWN_CYCLE_MODULES: set[str] = set()
KNOWN_LONG_MODULES: set[str] = set()
KNOWN_UI_IMPORTS: set[str] = set()
KNOWN_IMPORTS_IN_FUNCTIONS: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_names(path: Path, here: str | None = None) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement: names are those of `from module import names`.

    `here`: the module's dotted name (for relative imports), by default from its path.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = here or module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """module -> the first-party modules its imports execute."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for module, names in imported_names(path):
            if not module.startswith("infopack"):
                continue
            direct = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
            if len(direct) < len(names) or not names:
                direct.append(module)          # names defined in the module (or package) itself
            for target in direct:
                while target not in known:
                    target = target.rpartition(".")[0]
                targets.add(target)
                mine = set(ancestors(name)) | {name}
                targets.update(p for p in ancestors(target) if p not in mine)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    found = [c for c in cycles(import_graph()) if not set(c) <= KNOWN_CYCLE_MODULES]
    assert not found, "import cycles (break them by moving code, not by importing inside functions):\n" + \
        "\n".join(" <-> ".join(c) for c in found)


def test_known_cycle_exceptions_are_still_needed():
    still = {m for c in cycles(import_graph()) for m in c}
    assert KNOWN_CYCLE_MODULES <= still, f"no longer in a cycle: {sorted(KNOWN_CYCLE_MODULES - still)}"


# (modules, what they must not import): the arrows of docs/architecture.md that point down.
FORBIDDEN = [
    ("infopack.kinds", ("infopack.plan", "infopack.build", "infopack.manifest", "infopack.profiles",
                        "infopack.review", "infopack.cli")),
    ("infopack.build", ("infopack.review", "infopack.cli")),
    ("infopack.build.cache", ("infopack.kinds",)),
    ("infopack.release", ("infopack.build", "infopack.review")),
]


def test_arrows_point_down_the_pipeline():
    graph = import_graph()
    wrong = sorted(f"{module} imports {target}" for prefix, banned in FORBIDDEN
                   for module, targets in graph.items() if module == prefix or module.startswith(prefix + ".")
                   for target in targets if any(target == b or target.startswith(b + ".") for b in banned))
    assert not wrong
    reviewers = {m for m, targets in graph.items() if any(t.startswith("infopack.review") for t in targets)}
    assert {m for m in reviewers if not m.startswith(("infopack.review", "infopack.cli"))} == set()


def test_no_module_is_longer_than_600_lines():
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    long = {name for name, count in lines.items() if count > MAX_LINES}
    assert long <= KNOWN_LONG_MODULES, {name: lines[name] for name in long - KNOWN_LONG_MODULES}
    assert KNOWN_LONG_MODULES <= long, "remove the exceptions that are no longer too long"


def imports_in_functions(path: Path) -> list[str]:
    """First-party imports inside a function body (`module:line`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                    [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if any(name.split(".")[0] == "infopack" or (isinstance(node, ast.ImportFrom) and node.level)
                       for name in names):
                    found.append(f"{module_name(path)}:{node.lineno}")
    return found


def test_no_first_party_import_inside_a_function():
    """An import inside a function hides a dependency (and often a cycle): imports go at the top."""
    found = {name: imports_in_functions(path) for name, path in modules().items()}
    found = {name: where for name, where in found.items() if where}
    assert set(found) <= KNOWN_IMPORTS_IN_FUNCTIONS, [w for n, where in found.items()
                                                      if n not in KNOWN_IMPORTS_IN_FUNCTIONS for w in where]
    assert KNOWN_IMPORTS_IN_FUNCTIONS <= set(found), "remove the exceptions that no longer import in functions"


def ui_importers() -> set[str]:
    return {name for name, path in modules().items() if not name.startswith("infopack.cli")
            and any(module.split(".")[0] in UI_LIBRARIES for module, _ in imported_names(path))}


def test_only_the_cli_imports_click_or_rich():
    assert ui_importers() <= KNOWN_UI_IMPORTS
    assert KNOWN_UI_IMPORTS <= ui_importers(), "remove the exceptions that no longer import click or rich"


def test_the_checker_sees_cycles_through_functions_and_package_inits(tmp_path):
    """The rules above are only as good as the graph: a cycle hidden in a function, and one
    through a package's __init__, are both found."""
    graph = {"infopack.a": {"infopack.b"}, "infopack.b": {"infopack.a"}, "infopack.c": set()}
    assert cycles(graph) == [["infopack.a", "infopack.b"]]
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from infopack.kinds import base\n    from . import video\n", encoding="utf-8")
    assert imported_names(module, "infopack.kinds.m") == [("infopack.kinds", ["base"]), ("infopack.kinds", ["video"])]
