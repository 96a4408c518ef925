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


# OpenAI refuses the whole request when a function's parameters have one of these at the top
# level (core #160462), strict or not; so do xAI and OpenRouter. Home Assistant's converter
# writes them for slot schemas such as HassStartTimer's "one of hours, minutes, seconds".
TOP_LEVEL_REFUSED = ("anyOf", "oneOf", "allOf", "enum", "not")
_CHOICE_RULES = (("anyOf", "at least one"), ("oneOf", "exactly one"))


def plain_parameters(schema: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Return tool parameters as a plain object at the top level, and the rule they lost.

    Branches are folded into the object (their properties become optional ones, allOf's
    required ones stay required); what a branch demanded is returned as a sentence for the
    tool's description, so the model still knows it.
    """
    if schema.get("type") == "object" and not any(key in schema for key in TOP_LEVEL_REFUSED):
        return schema, ""
    plain = {key: value for key, value in schema.items() if key not in TOP_LEVEL_REFUSED}
    properties: dict[str, Any] = dict(plain.get("properties") or {})
    required: list[str] = list(plain.get("required") or [])
    for branch in _branches(schema, "allOf"):
        properties.update(branch.get("properties") or {})
        required += [name for name in branch.get("required") or () if name not in required]
    rules: list[str] = []
    for key, rule in _CHOICE_RULES:
        choices: list[str] = []
        for branch in _branches(schema, key):
            for name, prop in (branch.get("properties") or {}).items():
                properties.setdefault(name, prop)
            if names := branch.get("required"):
                choices.append(" and ".join(names))
        if choices:
            rules.append(f"Give {rule} of: {', '.join(choices)}.")
    if isinstance(excluded := schema.get("not"), dict) and (names := excluded.get("required")):
        rules.append(f"Do not give all of: {', '.join(names)}.")
    plain.update(type="object", properties=properties)
    if required:
        plain["required"] = required
    return plain, " ".join(rules)


def _branches(schema: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Return the object branches of a combining keyword."""
    return [branch for branch in schema.get(key) or () if isinstance(branch, dict)]
