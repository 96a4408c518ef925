"""Helpers the tests share across the supported Home Assistant versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custom_components.openai_conversation.compat import SINGLE_OWNER_DEVICES, TOOL_RESULT_OBJECTS
from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
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


async def ask_about_pdf(hass: HomeAssistant, entry: ConfigEntry, folder: Path) -> Any:
    """Ask generate_content about a PDF placed in an allowed folder."""
    hass.config.allowlist_external_dirs = {str(folder)}
    pdf = folder / "manual.pdf"
    pdf.write_bytes(b"%PDF-1.4 a manual")
    return await hass.services.async_call(
        "openai_conversation",
        "generate_content",
        {"config_entry": entry.entry_id, "prompt": "Summarize", "filenames": [str(pdf)]},
        blocking=True,
        return_response=True,
    )


async def pdf_refusal(hass: HomeAssistant, entry: ConfigEntry, folder: Path) -> HomeAssistantError:
    """Return the error generate_content raises for a PDF."""
    with pytest.raises(HomeAssistantError) as err:
        await ask_about_pdf(hass, entry, folder)
    return err.value
