"""Turn a Home Assistant schema into a JSON schema OpenAI's structured output accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.helpers import llm

from .compat import schema_to_json, vol


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """Return the schema of a property that may be null (optional in HA's schema)."""
    if isinstance(enum := node.get("enum"), list) and None not in enum:
        # Strict mode checks values against the enum too: null must be one of them.
        node = {**node, "enum": [*enum, None]}
    if isinstance(kind := node.get("type"), str):
        return {**node, "type": [kind, "null"]}
    if isinstance(kind, list):
        return node if "null" in kind else {**node, "type": [*kind, "null"]}
    return {"anyOf": [node, {"type": "null"}]}


def _make_strict(node: dict[str, Any]) -> dict[str, Any]:
    """Strict mode wants every property required and no additional properties."""
    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties", {})
        required = set(node.get("required", ()))
        node["properties"] = {
            name: _make_strict(prop) if name in required else _nullable(_make_strict(prop))
            for name, prop in properties.items()
        }
        node["required"] = list(properties)
        node["additionalProperties"] = False
    elif node.get("type") == "array" and isinstance(node.get("items"), dict):
        node["items"] = _make_strict(node["items"])
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(node.get(key), list):
            node[key] = [_make_strict(sub) for sub in node[key]]
    return node


def structured_output_schema(
    schema: vol.Schema, serializer: Callable[[Any], Any] | None
) -> dict[str, Any]:
    """Return the strict JSON schema for an AI Task structure."""
    return _make_strict(schema_to_json(schema, serializer or llm.selector_serializer))


def drop_nulls(data: Any) -> Any:
    """Undo the strict schema's nullable optionals: a null property means "absent"."""
    if isinstance(data, dict):
        return {key: drop_nulls(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [drop_nulls(item) for item in data]
    return data
