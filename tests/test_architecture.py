"""The house rules of the code base, checked: no import cycles, small modules, and imports inside
functions only for optional extras. The layers themselves are import-linter's job (pyproject)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "custseg"
MAX_LINES = 500
# Imported inside functions on purpose: optional extras (and fcntl, which exists only on POSIX).
LAZY_OK = (
    "pyspark",
    "streamlit",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "psycopg",
    "duckdb",
    "skops",
    "fcntl",
    "pymc_marketing",  # extra 'clv'
    "pymc_extras",  # extra 'clv' (comes with pymc-marketing)
    "custseg.api.app",  # needs fastapi (extra 'api')
)


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the package's import graph: every cycle, as a set of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.find_modules_directly_imported_by(node):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    graph = grimp.build_graph("custseg", exclude_type_checking_imports=True)
    assert _strongly_connected(graph) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_modules_are_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_imports_inside_functions_are_only_for_optional_extras():
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    if not name.startswith(LAZY_OK):
                        found.append(f"{path.relative_to(SRC)}:{node.lineno} imports {name}")
    assert found == []
