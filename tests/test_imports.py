"""The import graphs of the integration and the emulator have no circles.

A circle means no module of it can be read, tested or replaced alone, and works only by the
order Python happens to load it in. Every import counts: at the top, in a function, and
under TYPE_CHECKING (a type shared across layers belongs where both layers can import it).
Plain source reading, no Home Assistant.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = {
    "integration": ROOT / "custom_components" / "openai_conversation",
    "emulator": ROOT / "emulator",
}

type Graph = dict[str, set[str]]


def _module_name(package: Path, source: Path) -> str:
    """Return a source file's dotted name, relative to the package's parent."""
    parts = list(source.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, is_package: bool, node: ast.AST) -> Iterator[str]:
    """Yield the dotted names an import statement reaches (module or module.attribute)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        target = node.module or ""
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            target = ".".join([*base, *([node.module] if node.module else [])])
        for alias in node.names:
            yield f"{target}.{alias.name}"  # a submodule, or a name in the module


def import_graph(package: Path) -> Graph:
    """Return each module of the package and the package's modules it imports."""
    sources = {_module_name(package, path): path for path in package.rglob("*.py")}
    graph: Graph = {}
    for module, path in sources.items():
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            for name in _imported(module, path.name == "__init__.py", node):
                while name and name not in sources:  # `from .x import y`: y is in x
                    name = name.rpartition(".")[0]
                if name and name != module:
                    graph[module].add(name)
    return graph


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Return the graph's strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            part = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(part) > 1:
                found.append(sorted(part))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _describe(graph: Graph, part: list[str]) -> str:
    """Return a circle's arrows, one module a line."""
    return "\n".join(
        f"{module} -> {', '.join(sorted(graph[module] & set(part)))}" for module in part
    )


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_circles(package: str) -> None:
    """No module imports, however indirectly and however lazily, one that imports it."""
    graph = import_graph(PACKAGES[package])
    found = circles(graph)
    assert not found, "\n\n".join(_describe(graph, part) for part in found)


def test_the_emulator_imports_nothing_of_the_integration() -> None:
    """The emulator stands for the server: its tables and rules are its own, so a mistake
    in the integration's cannot be mirrored by the emulator and pass the tests."""
    imported = {
        name
        for path in PACKAGES["emulator"].rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        for name in _imported("emulator", False, node)
    }
    assert {name for name in imported if name.startswith("custom_components")} == set()


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Lazy, TYPE_CHECKING, relative and absolute imports all count: no circle can hide."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .top import Thing\n"
    )
    (package / "top.py").write_text("def lazy():\n    from .sub import leaf\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "leaf.py").write_text("from ..other import x\nimport pkg.sub\n")
    (package / "other.py").write_text("import json\n")
    graph = import_graph(package)
    assert graph == {
        "pkg": set(),
        "pkg.base": {"pkg.top"},
        "pkg.top": {"pkg.sub.leaf"},
        "pkg.sub": set(),
        "pkg.sub.leaf": {"pkg.other", "pkg.sub"},
        "pkg.other": set(),
    }
    assert circles(graph) == []
    (package / "other.py").write_text("def late():\n    import pkg.base\n")
    assert circles(import_graph(package)) == [["pkg.base", "pkg.other", "pkg.sub.leaf", "pkg.top"]]
