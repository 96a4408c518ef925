"""Run Home Assistant core's own tests for openai_conversation against this integration.

Core's tests are read from a checkout of Home Assistant core at run time and staged under
artifacts/core-suite/ (ignored by git); nothing of them enters this repository. They run
with pytest-homeassistant-custom-component, which provides what core's tests/conftest.py
and tests/common.py provide in core. With ``--against ours`` this repository's
custom_components/openai_conversation overrides the built-in integration of the same
domain; with ``--against builtin`` the built-in one runs, for the baseline.

    python -m tools.core_suite stage --core CHECKOUT       (any Python 3: copies files only)
    python -m tools.core_suite run [--against ours|builtin|both] [PYTEST_ARG...]

scripts/core-suite does both, the run on the newest end.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "artifacts" / "core-suite"
TREE = WORK / "tree"
COMPONENTS = Path("tests") / "components"
SUITE = COMPONENTS / "openai_conversation"
# `from tests.x.y import` and `from .y import` / `from ..x import`: the modules a file imports.
IMPORT = re.compile(r"^\s*from\s+(tests(?:\.\w+)*|\.+(?:\w+(?:\.\w+)*)?)\s+import", re.M)

# The staged tree's root conftest: core's tests/conftest.py is the plugin that
# pytest-homeassistant-custom-component installs; tests.common, tests.typing and the other
# modules it ships are served from it under core's names.
ROOT_CONFTEST = '''"""Glue between core's test files and pytest-homeassistant-custom-component."""

import asyncio
import gc
import importlib
import importlib.abc
import importlib.util
import os
from pathlib import Path
import sys

import pytest

HERE = Path(__file__).parent
OURS = os.environ.get("CORE_SUITE_AGAINST") == "ours"
if OURS:
    # Imported before the hass fixture runs, so HA finds this repository's package.
    import custom_components  # noqa: F401


class _PluginAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve tests.X from pytest_homeassistant_custom_component.X when core's file is absent."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith("tests.") or (HERE / name.replace(".", "/")).exists():
            return None
        if (HERE / (name.replace(".", "/") + ".py")).exists():
            return None
        real = "pytest_homeassistant_custom_component" + name[len("tests"):]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=True)

    def create_module(self, spec):
        return importlib.import_module(
            "pytest_homeassistant_custom_component" + spec.name[len("tests"):]
        )

    def exec_module(self, module):
        """The module is the plugin's own, already executed."""


sys.meta_path.insert(0, _PluginAlias())


@pytest.fixture(autouse=True)
def _custom_integration(request: pytest.FixtureRequest) -> None:
    """Let HA load this repository's integration instead of the built-in one."""
    if OURS:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def verify_cleanup(verify_cleanup: None):
    """Finish the SDK's abandoned stream readers before HA's lingering-task check."""
    yield
    loop = asyncio.get_event_loop()
    gc.collect()
    for _ in range(3):
        loop.run_until_complete(asyncio.sleep(0))
'''

# Core keeps syrupy snapshots in snapshots/ next to the tests; syrupy 6 takes the folder
# from this option only, not from the plugin's snapshot extension.
PYTEST_INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
addopts = -p no:cacheprovider --snapshot-dirname=snapshots
"""


def imported_files(file: Path, root: Path) -> set[Path]:
    """Return the files under root/tests that a staged file imports, relative to root.

    A package's __init__.py comes along with each module of it. Modules that are not in
    core's checkout (tests.common and the like) are left to the plugin package.
    """
    package = file.relative_to(root).parent.parts
    found: set[Path] = set()
    for name in IMPORT.findall(file.read_text(encoding="utf-8")):
        if name.startswith("."):
            dots = len(name) - len(name.lstrip("."))
            parts = [*package[: len(package) - dots + 1], *filter(None, name[dots:].split("."))]
        else:
            parts = name.split(".")
        for depth in range(2, len(parts) + 1):
            found.add(Path(*parts[:depth], "__init__.py"))
        found.add(Path(*parts).with_suffix(".py"))
    return found


def stage(core: Path) -> None:
    """Copy core's suite and the helper modules it needs into a fresh tree."""
    suite = core / SUITE
    if not suite.is_dir():
        sys.exit(f"no {SUITE} under {core}: pass a checkout of Home Assistant core")
    shutil.rmtree(TREE, ignore_errors=True)
    shutil.copytree(suite, TREE / SUITE, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("__init__.py", "conftest.py"):
        if (core / COMPONENTS / name).is_file():
            shutil.copy2(core / COMPONENTS / name, TREE / COMPONENTS / name)
    (TREE / "tests" / "__init__.py").write_text('"""Core\'s tests, staged."""\n')
    pending = list((TREE / "tests").rglob("*.py"))
    while pending:
        for rel in imported_files(pending.pop(), TREE):
            src, dst = core / rel, TREE / rel
            if src.is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                pending.append(dst)
    (TREE / "conftest.py").write_text(ROOT_CONFTEST)
    (TREE / "pytest.ini").write_text(PYTEST_INI)
    (TREE / "custom_components").symlink_to(ROOT / "custom_components")
    count = sum(1 for _ in (TREE / SUITE).rglob("test_*.py"))
    sys.stdout.write(f"staged {count} test files in {TREE}\n")


def run(against: str, pytest_args: list[str]) -> Path:
    """Run the staged suite against one integration; return its JUnit report."""
    report = WORK / f"{against}.xml"
    cmd = [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:xdist"]
    cmd += ["--junitxml", str(report), "-o", "junit_family=xunit1", *pytest_args]
    env = {**os.environ, "CORE_SUITE_AGAINST": against}
    subprocess.run(cmd, cwd=TREE, env=env, check=False)  # noqa: S603 - this interpreter
    return report


def outcomes(report: Path) -> dict[str, str]:
    """Return {test id: passed|failed|error|skipped} from a JUnit report."""
    result: dict[str, str] = {}
    # The report is the one pytest just wrote here.
    for case in ET.parse(report).iter("testcase"):  # noqa: S314
        name = f"{case.get('file') or case.get('classname', '')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        state = next((k for k in ("failure", "error", "skipped") if k in kinds), "passed")
        result[name] = {"failure": "failed"}.get(state, state)
    return result


def table(results: dict[str, dict[str, str]]) -> str:
    """Return passed / failed per file and target, then the tests failing on ours."""
    per_file: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for target, cases in results.items():
        for name, state in cases.items():
            per_file[Path(name.split("::")[0]).name][target][state] += 1
    lines = ["| file | " + " | ".join(f"{t} passed / failed" for t in results) + " |"]
    lines.append("|---" * (len(results) + 1) + "|")
    for file in sorted(per_file):
        cells = [
            f"{c['passed']} / {c['failed'] + c['error']}"
            for c in (per_file[file][t] for t in results)
        ]
        lines.append(f"| {file} | " + " | ".join(cells) + " |")
    ours, builtin = results.get("ours", {}), results.get("builtin", {})
    failing = sorted(n for n, s in ours.items() if s in ("failed", "error"))
    if builtin:
        failing = [n for n in failing if builtin.get(n) == "passed"]
        lines.append(f"\nPassing on the built-in, failing on ours ({len(failing)}):")
    else:
        lines.append(f"\nFailing on ours ({len(failing)}):")
    lines += [f"  {name}" for name in failing]
    return "\n".join(lines)


def main() -> None:
    """Stage or run core's suite."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("stage").add_argument("--core", type=Path, required=True)
    runner = sub.add_parser("run")
    runner.add_argument("--against", choices=("ours", "builtin", "both"), default="both")
    args, pytest_args = parser.parse_known_args()
    if args.command == "stage":
        stage(args.core.resolve())
        return
    if not (TREE / SUITE).is_dir():
        sys.exit("nothing staged: run `python -m tools.core_suite stage --core CHECKOUT` first")
    targets = ("builtin", "ours") if args.against == "both" else (args.against,)
    results = {t: outcomes(run(t, pytest_args)) for t in targets}
    sys.stdout.write(table(results) + "\n")


if __name__ == "__main__":
    main()
