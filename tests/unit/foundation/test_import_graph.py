"""No import cycles in `pipelines`: none between modules (function-level imports included, imports under
`if TYPE_CHECKING:` left out since they never run), none between the packages below pipelines.lib, and none
between pipelines.lib.config and the stage packages whose config models it gathers (issue #18). Each formerly cyclic module also imports first in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "pipelines"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every import node that runs (at module level or inside functions), skipping `if TYPE_CHECKING:` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (i for n in node.orelse for i in _imports(ast.Module(body=[n], type_ignores=[])))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the project modules it imports (a package is its __init__)."""
    modules: dict[str, Path] = {}
    for path in (root / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names if a.name.split(".")[0] == PACKAGE]
            else:
                base = node.module or ""
                if node.level:
                    here = module.split(".") if is_package else module.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join([*here, base] if base else here)
                if base.split(".")[0] != PACKAGE:
                    continue
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else resolve(base) for a in node.names
                ]
            graph[module].update(t for t in targets if t and t != module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between the packages below pipelines.lib (pipelines.lib.config, pipelines.lib.identity...)."""

    def package(module: str) -> str:
        parts = module.split(".")
        return ".".join(parts[:3]) if parts[:2] == [PACKAGE, "lib"] and len(parts) > 2 else module

    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(package(module), set()).update(
            package(t) for t in targets if package(t) != package(module)
        )
    return out


def test_no_import_cycle_between_modules():
    assert cycles(import_graph(ROOT)) == []


def test_config_package_is_not_in_a_cycle_with_the_stage_config_modules():
    graph = package_graph(import_graph(ROOT))
    # what pipelines.lib.config gathers: identity, insight, measurement, delivery, ingest, planning config modules
    assert {"pipelines.lib.identity", "pipelines.lib.insight", "pipelines.lib.ingest"} <= graph[
        "pipelines.lib.config"
    ]
    config_cycles = [c for c in cycles(graph) if "pipelines.lib.config" in c]
    assert config_cycles == []


def lib_package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """package_graph restricted to pipelines.lib: its packages (and top-level modules such as pipelines.lib.sql)."""
    lib = "pipelines.lib."
    return {
        pkg: {t for t in targets if t.startswith(lib)}
        for pkg, targets in package_graph(graph).items()
        if pkg.startswith(lib)
    }


def test_no_import_cycle_between_lib_packages():
    """Not only modules: no package below pipelines.lib imports, through any of its modules, a package that
    imports it back (delivery <-> receiver was one: delivery.config -> receiver.settings, receiver.app ->
    delivery.unsubscribe, a cycle of packages made of modules that are not one)."""
    assert cycles(lib_package_graph(import_graph(ROOT))) == []


def test_package_cycle_finder_sees_a_cycle_that_no_module_cycle_shows():
    modules = {
        "pipelines.lib.delivery.config": {"pipelines.lib.receiver.settings"},
        "pipelines.lib.receiver.settings": set(),
        "pipelines.lib.receiver.app": {"pipelines.lib.delivery.unsubscribe"},
        "pipelines.lib.delivery.unsubscribe": set(),
    }
    assert cycles(modules) == []
    assert cycles(lib_package_graph(modules)) == [["pipelines.lib.delivery", "pipelines.lib.receiver"]]


SAMPLE_DATA = "touchplan_sample_data"


def imported_top_levels(package_dir: Path) -> dict[str, set[str]]:
    """file (relative to the project) -> the top-level names it imports (absolute imports only; relative ones stay
    inside the package)."""
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        names = found.setdefault(str(path.relative_to(ROOT)), set())
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif not node.level and node.module:
                names.add(node.module.split(".")[0])
    return found


def test_sample_data_is_a_package_of_its_own():
    """The demo-export generator imports nothing from pipelines (issue #18): it is installed beside it."""
    imports = imported_top_levels(ROOT / SAMPLE_DATA)
    assert len(imports) >= 10  # every module of the generator was read
    assert {f: sorted(n) for f, n in imports.items() if PACKAGE in n} == {}
    assert not (ROOT / PACKAGE / "lib" / "sample_data").exists()


def test_cycle_finder_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "module",
    [
        "pipelines.lib.ingest.sources",
        "pipelines.lib.ingest.formats",
        "pipelines.lib.ingest.sendgrid_sql",
        "pipelines.lib.identity.config",
        "pipelines.lib.insight.config",
        "pipelines.lib.config.dbt_vars",
        "pipelines.lib.config.validate",
    ],
)
def test_module_imports_first_in_a_fresh_interpreter(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
