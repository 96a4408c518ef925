"""Build translations/en.json from strings.json, resolving HA's common keys.

Run with --check to fail when en.json is out of date.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Any

COMPONENT = Path(__file__).parent.parent / "custom_components" / "openai_conversation"
# The subset of Home Assistant's common strings that strings.json references.
COMMON = {
    "common::config_flow::data::api_key": "API key",
    "common::config_flow::data::name": "Name",
    "common::config_flow::data::llm_hass_api": "Control Home Assistant",
    "common::config_flow::title::reauth": "Authentication expired for {name}",
    "common::config_flow::error::cannot_connect": "Failed to connect",
    "common::config_flow::error::invalid_auth": "Invalid authentication",
    "common::config_flow::error::unknown": "Unexpected error",
    "common::config_flow::abort::already_configured_service": "Service is already configured",
    "common::config_flow::abort::reauth_successful": "Re-authentication was successful",
    "common::config_flow::abort::reconfigure_successful": "Re-configuration was successful",
    "common::generic::model": "Model",
}
REFERENCE = re.compile(r"\[%key:([^%]+)%\]")


def resolve(node: Any, root: dict[str, Any]) -> Any:
    """Replace [%key:...%] references with their text."""
    if isinstance(node, dict):
        return {key: resolve(value, root) for key, value in node.items()}
    if not isinstance(node, str):
        return node

    def lookup(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in COMMON:
            return COMMON[key]
        value: Any = root
        for part in key.split("::")[2:]:  # component::<domain>::...
            value = value[part]
        return str(resolve(value, root))

    return REFERENCE.sub(lookup, node)


def main() -> int:
    """Write or check en.json."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    text = json.dumps(resolve(strings, strings), indent=2, ensure_ascii=False) + "\n"
    target = COMPONENT / "translations" / "en.json"
    if "--check" in sys.argv:
        if target.read_text() != text:
            print("translations/en.json is out of date: run scripts/translations.py")
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
