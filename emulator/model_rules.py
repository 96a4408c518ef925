"""OpenAI's per-model request rules: what it answers 400 to, in its own words.

Checked after the wire types (wire_types.py): these are the rules a request's types do not
say, such as which models sample, which efforts a model takes, and strict schemas.
"""

from __future__ import annotations

import re
from typing import Any

from .replies import Error

# Reasoning models refuse sampling parameters ("Unsupported parameter").
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")
PRO_MODE_PREFIXES = ("gpt-5.6", "gpt-5.7", "gpt-5.8", "gpt-5.9", "gpt-6")
SERVICE_TIERS = ("auto", "default", "flex", "priority", "scale")
REASONING_SUMMARIES = ("auto", "concise", "detailed")
REASONING_MODES = ("standard", "pro")
SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def invalid_request(body: dict[str, Any]) -> Error | None:
    """Return the 400 OpenAI would answer this model request with, if any."""
    return (
        _unsupported_parameter(body)
        or _unsupported_cache_retention(body)
        or _invalid_option(body)
        or _invalid_format(body)
        or _invalid_function_parameters(body)
        or _invalid_strict_tool(body)
    )


def _invalid_value(name: str, value: Any) -> Error:
    return Error(
        400, f"Invalid value: '{value}'. Unsupported value for '{name}'.", code="invalid_value"
    )


def _invalid_option(body: dict[str, Any]) -> Error | None:
    """Check the tier, storage and reasoning options as OpenAI does."""
    model = str(body.get("model", ""))
    if "service_tier" in body and body["service_tier"] not in SERVICE_TIERS:
        return _invalid_value("service_tier", body["service_tier"])
    if "store" in body and not isinstance(body["store"], bool):
        return _invalid_value("store", body["store"])
    reasoning = body.get("reasoning") or {}
    summary, mode = reasoning.get("summary"), reasoning.get("mode")
    if summary is not None and summary not in REASONING_SUMMARIES:
        return _invalid_value("reasoning.summary", summary)
    # The o-series does not summarize concisely (core's 2.7 migration rewrites it there).
    if summary == "concise" and model.startswith("o"):
        return _invalid_value("reasoning.summary", summary)
    if mode is not None and (
        mode not in REASONING_MODES or (mode == "pro" and not model.startswith(PRO_MODE_PREFIXES))
    ):
        return _invalid_value("reasoning.mode", mode)
    web_search = any(t.get("type") == "web_search" for t in body.get("tools") or [])
    if web_search and reasoning.get("effort") == "minimal":
        return Error(
            400,
            "The following tools cannot be used with reasoning.effort 'minimal': web_search.",
            code="invalid_value",
        )
    return None


# Reasoning efforts per family, first matching prefix (OpenAI's model pages): an effort a
# model does not take is refused, whichever wire format carries it.
EFFORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gpt-5.6", ("none", "low", "medium", "high", "xhigh", "max")),
    ("gpt-6-luna", ("none", "low", "medium", "high", "xhigh", "max")),
    ("gpt-6.1-terra", ("none", "low", "medium", "high", "xhigh", "max")),
    ("gpt-6", ("low", "medium", "high", "xhigh", "max")),
    *((f"gpt-5.{minor}-pro", ("medium", "high", "xhigh")) for minor in (2, 4, 5)),
    # Codex models always reason (no none, no minimal); xhigh from 5.1-codex-max on.
    ("gpt-5.1-codex-max", ("low", "medium", "high", "xhigh")),
    ("gpt-5.1-codex", ("low", "medium", "high")),
    *((f"gpt-5.{minor}-codex", ("low", "medium", "high", "xhigh")) for minor in (2, 3)),
    ("gpt-5-codex", ("low", "medium", "high")),
    ("gpt-5.1", ("none", "low", "medium", "high")),
    ("gpt-5.", ("none", "low", "medium", "high", "xhigh")),
    ("gpt-5", ("minimal", "low", "medium", "high")),
    ("o", ("low", "medium", "high")),
)


def _unsupported_effort(model: str, body: dict[str, Any]) -> Error | None:
    effort = (body.get("reasoning") or {}).get("effort") or body.get("reasoning_effort")
    efforts = next((e for prefix, e in EFFORTS if model.startswith(prefix)), None)
    if effort is None or efforts is None or effort in efforts:
        return None
    return Error(
        400,
        f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this model. "
        f"Supported values are: {', '.join(repr(e) for e in efforts)}.",
        code="unsupported_value",
    )


def _unsupported_parameter(body: dict[str, Any]) -> Error | None:
    model = str(body.get("model", ""))
    if not model.startswith(REASONING_PREFIXES) or "-chat" in model:
        return None
    if refused := _unsupported_effort(model, body):
        return refused
    if (body.get("reasoning") or {}).get("effort") == "none" and model.startswith(
        ("gpt-5.", "gpt-6")  # GPT-5.1 and newer sample again with reasoning off
    ):
        return None
    for name in ("temperature", "top_p"):
        if name in body:
            return Error(
                400,
                f"Unsupported parameter: '{name}' is not supported with this model.",
                code="unsupported_parameter",
            )
    return None


# Models with in-memory prompt caching only, and the GPT-5.6+ generation, which keeps its
# cache 30 minutes (prompt_cache_options) and takes no retention policy. The server's own
# table, kept apart from the integration's (capabilities.py) on purpose: the emulator stands
# for OpenAI, so a mistake in the integration's table fails a test instead of being mirrored.
NO_CACHE_RETENTION = (
    "o1",
    "o3",
    "o4",
    "gpt-3.5",
    "gpt-4-turbo",
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.6",
    "gpt-6",
)


def _unsupported_cache_retention(body: dict[str, Any]) -> Error | None:
    """Refuse an extended cache retention the model does not have, in OpenAI's words."""
    if body.get("prompt_cache_retention") != "24h":
        return None
    if not str(body.get("model", "")).startswith(NO_CACHE_RETENTION):
        return None
    return Error(
        400,
        "prompt_cache_retention is not supported on this model",
        code="invalid_parameter",
    )


def _invalid_format(body: dict[str, Any]) -> Error | None:
    """Check a json_schema output format as OpenAI does (name, and strict-mode rules)."""
    fmt = (body.get("text") or {}).get("format") or {}
    if (body.get("response_format") or {}).get("type") == "json_schema":
        fmt = body["response_format"].get("json_schema") or {}
    elif fmt.get("type") != "json_schema":
        return None
    name = str(fmt.get("name", ""))
    if not SCHEMA_NAME.match(name):
        return Error(
            400,
            f"Invalid 'name': '{name}'. Expected a string that matches the pattern "
            "'^[a-zA-Z0-9_-]+$' with at most 64 characters.",
            code="invalid_value",
        )
    if fmt.get("strict") and (problem := _strict_problem(fmt.get("schema") or {}, ())):
        return Error(400, f"Invalid schema for response_format '{name}': {problem}")
    return None


# OpenAI (and xAI, OpenRouter's OpenAI route) refuse the whole request when any function's
# parameters are not a plain object at the top level, strict or not.
TOP_LEVEL_REFUSED = ("oneOf", "anyOf", "allOf", "enum", "not")


def _invalid_function_parameters(body: dict[str, Any]) -> Error | None:
    """Check every function tool's top level as OpenAI does, in either wire format."""
    for index, tool in enumerate(body.get("tools") or []):
        if tool.get("type") != "function":
            continue
        nested = "function" in tool
        function = tool["function"] if nested else tool
        parameters = function.get("parameters")
        if parameters is None:
            continue  # a function without parameters is allowed
        name = function.get("name", "")
        param = f"tools[{index}].function.parameters" if nested else f"tools[{index}].parameters"
        kind = parameters.get("type") if isinstance(parameters, dict) else None
        if kind != "object":
            shown = "null" if kind is None else f'"{kind}"'
            message = f"schema must be a JSON Schema of 'type: \"object\"', got 'type: {shown}'."
        elif any(key in parameters for key in TOP_LEVEL_REFUSED):
            message = (
                "schema must have type 'object' and not have "
                "'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level."
            )
        else:
            continue
        return Error(
            400,
            f"Invalid schema for function '{name}': {message}",
            code="invalid_function_parameters",
            param=param,
        )
    return None


def _invalid_strict_tool(body: dict[str, Any]) -> Error | None:
    """Check strict function tools (Responses and Chat Completions shapes) as OpenAI does."""
    for tool in body.get("tools") or []:
        function = tool.get("function", tool) if tool.get("type") == "function" else None
        if not function or not function.get("strict"):
            continue
        if problem := _strict_problem(function.get("parameters") or {}, ()):
            name = function.get("name", "")
            return Error(400, f"Invalid schema for function '{name}': {problem}")
    return None


def _strict_problem(node: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """Return why a schema breaks strict mode's rules, or None."""
    where = f"In context={path}, "
    kind = node.get("type")
    kinds: list[Any] = kind if isinstance(kind, list) else [kind]
    if "enum" in node and "null" in kinds and None not in node["enum"]:
        return where + "'enum' must include null when 'type' includes 'null'."
    if "object" in kinds or "properties" in node:
        properties = node.get("properties") or {}
        if node.get("additionalProperties") is not False:
            return where + "'additionalProperties' is required to be supplied and to be false."
        if missing := [key for key in properties if key not in (node.get("required") or [])]:
            return (
                where + f"'required' must include every key in properties. Missing '{missing[0]}'."
            )
        for key, child in properties.items():
            if problem := _strict_problem(child, (*path, "properties", key)):
                return problem
    if isinstance(items := node.get("items"), dict):
        return _strict_problem(items, (*path, "items"))
    for key in ("anyOf", "oneOf", "allOf"):
        for index, child in enumerate(node.get(key) or []):
            if problem := _strict_problem(child, (*path, key, str(index))):
                return problem
    return None
