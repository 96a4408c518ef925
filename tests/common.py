"""Helpers the tests share across the supported Home Assistant versions."""

from __future__ import annotations

from custom_components.openai_conversation.compat import SINGLE_OWNER_DEVICES, TOOL_RESULT_OBJECTS
from homeassistant.components import conversation
from homeassistant.helpers import device_registry as dr, llm
from homeassistant.util.json import JsonObjectType


def tool_result(
    agent_id: str, call_id: str, name: str, data: JsonObjectType
) -> conversation.ToolResultContent:
    """Return recorded tool-call content as this Home Assistant version stores it."""
    result = llm.ToolResult(data=data) if TOOL_RESULT_OBJECTS else data
    return conversation.ToolResultContent(agent_id, call_id, name, result)  # type: ignore[arg-type]


def device_owners(device: dr.DeviceEntry) -> dict[str, set[str | None]]:
    """Return the config entries and subentries a device belongs to."""
    if SINGLE_OWNER_DEVICES:
        return {device.config_entry_id: {device.config_subentry_id}}
    return device.config_entries_subentries
