"""What differs between the supported Home Assistant versions, detected by feature.

Home Assistant 2026.10 replaced voluptuous with probatio (and stopped installing
voluptuous-openapi), moved a device to exactly one config entry and subentry, and made a
tool result an `llm.ToolResult`. Everything version-dependent lives here; the rest of the
integration calls these helpers and never checks a version number.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType
from typing import Any, cast, get_type_hints

import openai
from openai.types.shared_params import Reasoning

from homeassistant.components import ai_task, conversation, repairs
from homeassistant.helpers import device_registry as dr, llm
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.util.json import JsonObjectType

# mypy runs once per end of the support window with --always-true/--always-false PROBATIO,
# so each run checks the branch its Home Assistant takes.
PROBATIO = find_spec("probatio") is not None

if PROBATIO:
    import probatio as vol
    from probatio import to_openapi
else:
    import voluptuous as vol
    from voluptuous_openapi import convert

# A device belongs to one config entry and subentry (HA >= 2026.10) or to several (older).
SINGLE_OWNER_DEVICES = hasattr(dr.DeviceEntry, "config_entry_id")

# A tool result carries an llm.ToolResult (HA >= 2026.10) or a bare dict (older).
TOOL_RESULT_OBJECTS = hasattr(llm, "ToolResult")

# AI Task can evaluate questions (ai_task.evaluate, HA >= 2026.11).
EVALUATION = hasattr(ai_task.AITaskEntityFeature, "EVALUATE")

# Repair flows have a result type of their own (HA 2026.10) or share FlowResult (older).
REPAIRS_FLOW_RESULT = hasattr(repairs, "RepairsFlowResult")
if REPAIRS_FLOW_RESULT:
    from homeassistant.components.repairs import RepairsFlowResult as FixFlowResult
else:
    from homeassistant.data_entry_flow import FlowResult as FixFlowResult


def _http_errors(name: str) -> tuple[type[Exception], ...]:
    """Return an error class of each HTTP library installed, for one except clause.

    The SDK uses httpx (openai 2.x) or httpx2 (3.x); Home Assistant's shared client is
    httpx up to 2026.10 and httpx2 from 2026.11 on (which aliases `import httpx` to it).
    """
    libraries = [import_module(name) for name in ("httpx", "httpx2") if find_spec(name)]
    return tuple({getattr(library, name) for library in libraries})


# A dropped connection or a failed download, whichever library raised it.
TRANSPORT_ERRORS = _http_errors("TransportError")
# A server silent beyond the timeout, or not connecting within it (transport errors too).
TIMEOUT_ERRORS = _http_errors("TimeoutException")
HTTP_ERRORS = _http_errors("HTTPError")


def _sdk_http() -> ModuleType:
    """Return the HTTP library whose requests and responses the SDK's errors carry."""
    hints = get_type_hints(openai.APIStatusError.__init__)
    return import_module(hints["response"].__module__.split(".")[0])


# For SDK errors made from answers the SDK did not read (a Realtime WebSocket's).
SDK_HTTP = _sdk_http()

# The SDK's request types know reasoning modes (openai >= 3.x; older SDKs send them untyped).
REASONING_MODES = "mode" in Reasoning.__optional_keys__ | Reasoning.__required_keys__

__all__ = [
    "EVALUATION",
    "HTTP_ERRORS",
    "PROBATIO",
    "SDK_HTTP",
    "SINGLE_OWNER_DEVICES",
    "TIMEOUT_ERRORS",
    "TRANSPORT_ERRORS",
    "FixFlowResult",
    "find_device",
    "move_device",
    "pro_mode",
    "schema_to_json",
    "tool_result_data",
    "tool_result_delta",
    "vol",
]


def schema_to_json(schema: vol.Schema, serializer: Callable[[Any], Any] | None) -> dict[str, Any]:
    """Convert a Home Assistant schema (tool parameters, AI Task structure) to JSON schema."""
    result: dict[str, Any]
    if PROBATIO:
        result = to_openapi(schema, custom_serializer=serializer, openapi_version="3.1.0")
    else:
        result = convert(schema, custom_serializer=serializer)
    return result


def pro_mode(reasoning: Reasoning) -> Reasoning:
    """Return reasoning settings that ask for pro mode."""
    if REASONING_MODES:
        reasoning["mode"] = "pro"
    else:
        reasoning = cast(Reasoning, {**reasoning, "mode": "pro"})
    return reasoning


def tool_result_delta(
    call_id: str, name: str, data: JsonObjectType, *, error: bool
) -> conversation.ToolResultContentDeltaDict:
    """Return the ChatLog delta that records a tool's result."""
    delta: conversation.ToolResultContentDeltaDict
    if TOOL_RESULT_OBJECTS:
        result = llm.ToolResult(data=data, error=error)
        delta = {
            "role": "tool_result",
            "tool_call_id": call_id,
            "tool_name": name,
            "result": result,
        }
    else:
        delta = {
            "role": "tool_result",
            "tool_call_id": call_id,
            "tool_name": name,
            "tool_result": data,
        }
    return delta


def tool_result_data(content: conversation.ToolResultContent) -> JsonObjectType:
    """Return what a recorded tool call returned, as sent back to the model."""
    data: JsonObjectType
    if TOOL_RESULT_OBJECTS:  # noqa: SIM108 - mypy skips only a whole branch per HA version
        data = content.result.data
    else:
        data = content.tool_result
    return data


def find_device(
    device_registry: dr.DeviceRegistry, identifier: tuple[str, str], entry_id: str
) -> dr.DeviceEntry | None:
    """Return the entry's device with this identifier."""
    device: dr.DeviceEntry | None
    if SINGLE_OWNER_DEVICES:
        # Identifiers are unique per entry only; the entry-less lookup is deprecated.
        device = device_registry.async_get_device_by_identifier(identifier, entry_id)
    else:
        device = device_registry.async_get_device(identifiers={identifier})
    return device


def move_device(
    device_registry: dr.DeviceRegistry,
    device: dr.DeviceEntry,
    old_entry_id: str,
    entry_id: str,
    subentry_id: str,
    **changes: Any,
) -> None:
    """Move a device onto a subentry of an entry, applying further changes on the way."""
    if SINGLE_OWNER_DEVICES:
        # One owner per device: the move is a single update.
        device_registry.async_update_device(
            device.id, new_config_entry_id=entry_id, new_config_subentry_id=subentry_id, **changes
        )
    else:
        device_registry.async_update_device(
            device.id, add_config_entry_id=entry_id, add_config_subentry_id=subentry_id, **changes
        )
        # Drop the link to the old entry (for the parent itself: its subentry-less link).
        device_registry.async_update_device(
            device.id,
            remove_config_entry_id=old_entry_id,
            remove_config_subentry_id=None if old_entry_id == entry_id else UNDEFINED,
        )
