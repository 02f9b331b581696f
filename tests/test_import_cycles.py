"""No import cycle inside ``ess_diag``: every module imports on its own in a fresh process, and
the graph of intra-package imports (read from the source, function-level imports included)
has no cycle. A cycle hidden behind a lazy import is still a cycle: the two modules cannot be
understood, tested or moved apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ess_diag

PACKAGE_DIR = Path(ess_diag.__file__).resolve().parent


def package_modules(package_dir: Path) -> dict[str, tuple[Path, bool]]:
    """``{dotted module name: (path, is_package)}`` for every ``.py`` file under the package."""
    modules: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:`` (never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _longest_known(name: str, modules: dict) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``."""
    modules = package_modules(package_dir)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        deps: set[str] = set()
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [_longest_known(alias.name, modules) for alias in node.names]
            else:
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one.
                targets = [
                    f"{base}.{alias.name}"
                    if f"{base}.{alias.name}" in modules
                    else _longest_known(base, modules)
                    for alias in node.names
                ]
            deps.update(t for t in targets if t is not None and t != name)
        graph[name] = deps
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path ``[a, b, …, a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_ess_diag_has_no_import_cycle():
    graph = import_graph(PACKAGE_DIR)
    assert "ess_diag.ingest.run" in graph  # the walk sees the package
    assert "ess_diag.ingest.registry" in graph["ess_diag.ingest.run"]
    cycle = find_cycle(graph)
    assert cycle is None, "cycle d'imports : " + " → ".join(cycle or [])


def test_every_module_imports_alone_in_a_fresh_process():
    names = sorted(package_modules(PACKAGE_DIR))
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    for loaded in [m for m in sys.modules if m.startswith('ess_diag')]:\n"
        "        del sys.modules[loaded]\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PACKAGE_DIR.parent,
        env={"PYTHONPATH": str(PACKAGE_DIR.parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"


def _write_package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        # the shape ingest had: core imports mapping lazily, mapping imports core
        (
            {
                "__init__.py": "",
                "sub/__init__.py": "",
                "sub/core.py": "def f():\n    from . import mapping\n",
                "sub/mapping.py": "from . import core\n",
            },
            ["pkg.sub.core", "pkg.sub.mapping", "pkg.sub.core"],
        ),
        (
            {
                "__init__.py": "",
                "a.py": "from .b import x\n",
                "b.py": "import pkg.c\nx = 1\n",
                "c.py": "from pkg.a import y\n",
            },
            ["pkg.a", "pkg.b", "pkg.c", "pkg.a"],
        ),
        (
            {
                "__init__.py": "from . import a\n",
                "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n",
                "b.py": "from .a import z\n",
            },
            None,
        ),
    ],
)
def test_cycle_detection_finds_lazy_and_absolute_cycles(tmp_path, files, cycle):
    pkg = _write_package(tmp_path, files)
    assert find_cycle(import_graph(pkg)) == cycle
