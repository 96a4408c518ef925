"""The harness that runs core's own tests (scripts/core-suite): staging and the table.

Plain file checks on a made-up checkout; the harness's run itself needs core's tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import core_suite

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.components.openai_conversation.test_init" name="test_a"
 file="tests/components/openai_conversation/test_init.py"/>
<testcase classname="tests.components.openai_conversation.test_init" name="test_b"
 file="tests/components/openai_conversation/test_init.py"><failure message="x"/></testcase>
<testcase classname="tests.components.openai_conversation.test_tts" name="test_c"
 file="tests/components/openai_conversation/test_tts.py"><error message="y"/></testcase>
<testcase classname="tests.components.openai_conversation.test_tts" name="test_d"
 file="tests/components/openai_conversation/test_tts.py"><skipped message="z"/></testcase>
</testsuite></testsuites>
"""


def _checkout(root: Path) -> Path:
    """Write a checkout with core's layout: the suite, a helper package, an unrelated one."""
    components = root / "tests" / "components"
    suite = components / "openai_conversation"
    (suite / "snapshots").mkdir(parents=True)
    (suite / "__init__.py").write_text("")
    (suite / "snapshots" / "test_init.ambr").write_text("# snapshot\n")
    (suite / "test_init.py").write_text(
        "from tests.components.conversation import helper\n"
        "from tests.common import MockConfigEntry\n"
        "from .conftest import fixture\n"
    )
    (components / "conftest.py").write_text("from .tts.common import cache\n")
    for name in ("conversation", "tts", "light"):
        (components / name).mkdir()
        (components / name / "__init__.py").write_text("")
    (components / "conversation" / "__init__.py").write_text(
        "from ..intent import thing\nfrom .common import helper\n"
    )
    (components / "conversation" / "common.py").write_text("")
    (components / "tts" / "common.py").write_text("")
    (components / "light" / "common.py").write_text("")
    (components / "intent").mkdir()
    (components / "intent" / "__init__.py").write_text("")
    return root


def test_stage_copies_the_suite_and_only_the_helpers_it_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "work" / "tree"
    monkeypatch.setattr(core_suite, "TREE", tree)
    core_suite.stage(_checkout(tmp_path / "core"))
    staged = {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()}
    components = "tests/components/"
    assert {
        f"{components}openai_conversation/test_init.py",
        f"{components}openai_conversation/snapshots/test_init.ambr",
        f"{components}conftest.py",
        f"{components}conversation/__init__.py",
        f"{components}intent/__init__.py",  # imported by a copied helper
        f"{components}conversation/common.py",  # relative to that helper's package
        f"{components}tts/common.py",  # imported by core's component conftest
        "conftest.py",
        "pytest.ini",
    } <= staged
    assert not any("light" in path for path in staged)
    assert (tree / "custom_components").resolve() == core_suite.ROOT / "custom_components"


def test_staged_run_reads_core_snapshots_from_their_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Core keeps its syrupy snapshots in snapshots/; syrupy 6 ignores the plugin's own
    # folder choice, so without the option every snapshot test reads as "does not exist".
    tree = tmp_path / "work" / "tree"
    monkeypatch.setattr(core_suite, "TREE", tree)
    core_suite.stage(_checkout(tmp_path / "core"))
    options = (tree / "pytest.ini").read_text().split()
    assert "--snapshot-dirname=snapshots" in options


def test_stage_refuses_a_folder_without_core_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_suite, "TREE", tmp_path / "tree")
    with pytest.raises(SystemExit, match="checkout of Home Assistant core"):
        core_suite.stage(tmp_path)


def test_table_counts_per_file_and_lists_what_fails_only_on_ours(tmp_path: Path) -> None:
    report = tmp_path / "ours.xml"
    report.write_text(JUNIT)
    ours = core_suite.outcomes(report)
    assert sorted(ours.values()) == ["error", "failed", "passed", "skipped"]
    builtin = dict.fromkeys(ours, "passed")
    text = core_suite.table({"builtin": builtin, "ours": ours})
    assert "| test_init.py | 2 / 0 | 1 / 1 |" in text
    assert "| test_tts.py | 2 / 0 | 0 / 1 |" in text
    assert "Passing on the built-in, failing on ours (2):" in text
    assert "test_init.py::test_b" in text
    assert "test_tts.py::test_c" in text
