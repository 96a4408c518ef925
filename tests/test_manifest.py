"""The manifest declares every integration the code relies on; the quality scale says why."""

from __future__ import annotations

import json
from pathlib import Path
import re

from homeassistant.util.yaml import load_yaml_dict

PACKAGE = Path(__file__).parent.parent / "custom_components" / "openai_conversation"
# Integrations this one provides platforms for: Home Assistant sets them up on demand.
PLATFORMS = {"ai_task", "conversation", "sensor", "stt", "tts", "diagnostics", "repairs"}
IMPORTED = re.compile(r"homeassistant\.components(?:\.([a-z_]+)| import ([a-z_, ]+))")


def test_every_imported_integration_is_declared() -> None:
    """An integration imported but not declared may not be set up when this one is
    (HA's hassfest refuses it): the generated images' view needs http."""
    manifest = json.loads((PACKAGE / "manifest.json").read_text())
    declared = set(manifest["dependencies"]) | set(manifest.get("after_dependencies", ()))
    imported: set[str] = set()
    for source in PACKAGE.rglob("*.py"):
        for module, names in IMPORTED.findall(source.read_text()):
            imported |= {module} if module else {n.strip() for n in names.split(",")}
    assert imported - PLATFORMS - declared == set()


def test_every_quality_scale_exemption_says_why() -> None:
    """An exempt rule carries its reason (HA's hassfest asks the same of core)."""
    rules = load_yaml_dict(str(PACKAGE / "quality_scale.yaml"))["rules"]
    unexplained = [
        name
        for name, rule in rules.items()
        if isinstance(rule, dict) and rule["status"] == "exempt" and not rule.get("comment")
    ]
    assert unexplained == []
