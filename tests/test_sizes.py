"""Modules and functions stay small enough to read in one sitting.

The project's style: modules under ~500 lines and functions under ~50, in the integration, the
emulator and the tools. Nothing is exempt. Plain source
reading, no Home Assistant.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
TREES = ("custom_components", "emulator", "tools")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 50


def sources() -> Iterator[Path]:
    """Yield every Python source of the measured trees."""
    for tree in TREES:
        yield from sorted((ROOT / tree).rglob("*.py"))


def function_spans(source: str) -> Iterator[tuple[str, int, int]]:
    """Yield each function's name, first line and length (def to last line, nested too)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield node.name, first, (node.end_lineno or node.lineno) - first + 1


def test_modules_are_short() -> None:
    """No module is over the limit."""
    long = {
        path.relative_to(ROOT).as_posix(): lines
        for path in sources()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_functions_are_short() -> None:
    """No function or method is over the limit (decorators and docstring included)."""
    long = [
        f"{path.relative_to(ROOT).as_posix()}:{line} {name} ({length} lines)"
        for path in sources()
        for name, line, length in function_spans(path.read_text())
        if length > MAX_FUNCTION_LINES
    ]
    assert long == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    return 1\n", [("f", 1, 2)]),
        ("@dec\nasync def g():\n    pass\n\n\n", [("g", 1, 3)]),
        (
            "class C:\n    def m(self):\n        def inner():\n            pass\n",
            [("inner", 3, 2), ("m", 2, 3)],
        ),
    ],
)
def test_function_spans(source: str, expected: list[tuple[str, int, int]]) -> None:
    """Spans count decorators and the body, not trailing blank lines; methods and nested
    functions are measured on their own."""
    assert sorted(function_spans(source)) == expected
