"""Helpers the tests share across the supported Home Assistant versions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from custom_components.openai_conversation.compat import SINGLE_OWNER_DEVICES, TOOL_RESULT_OBJECTS
from emulator import OpenAIEmulator
from emulator.realtime_speech_api import SpeechSession
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import chat_session, device_registry as dr, llm
from homeassistant.setup import async_setup_component
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


async def expose_script_with_selectors(hass: HomeAssistant) -> None:
    """Expose a script whose fields are described by selectors (a number, a choice)."""
    fields = {
        "level": {
            "description": "Brightness in percent",
            "required": True,
            "selector": {"number": {"min": 0, "max": 100}},
        },
        "mode": {"selector": {"select": {"options": ["soft", "hard"]}}},
    }
    script = {"description": "Dim the living room", "fields": fields, "sequence": []}
    assert await async_setup_component(hass, "script", {"script": {"dim_lights": script}})
    async_expose_entity(hass, "conversation", "script.dim_lights", True)


def assert_selectors_read(parameters: dict[str, Any]) -> None:
    """Assert the script's parameters were read with the Assist API's selector serializer."""
    assert parameters["properties"] == {
        "level": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "Brightness in percent",
        },
        "mode": {"type": "string", "enum": ["soft", "hard"]},
    }
    assert parameters["required"] == ["level"]


async def turn_deltas(hass: HomeAssistant, agent_id: str, text: str) -> list[dict[str, Any]]:
    """Run one turn through the agent; return the deltas the ChatLog's listener saw."""
    deltas: list[dict[str, Any]] = []
    with (
        chat_session.async_get_chat_session(hass) as session,
        conversation.async_get_chat_log(
            hass, session, None, chat_log_delta_listener=lambda _log, d: deltas.append(d)
        ) as chat_log,
    ):
        chat_log.async_add_user_content(conversation.UserContent(text))
        entity = hass.data[conversation.DATA_COMPONENT].get_entity(agent_id)
        await entity._async_handle_chat_log(chat_log)
    return deltas


def spoken_sessions(emulator: OpenAIEmulator) -> list[SpeechSession]:
    """Return the Realtime voice sessions that read something (a TTS keeps spares open)."""
    return [session for session in emulator.speech_sessions if session.spoken]


def unused_sessions(emulator: OpenAIEmulator) -> list[SpeechSession]:
    """Return the connected voice sessions that were configured and have read nothing."""
    return [s for s in emulator.speech_sessions if s.events and not s.spoken]


async def idle_spares(emulator: OpenAIEmulator, count: int = 1) -> list[SpeechSession]:
    """Wait until this many spare voice sessions are ready; return them."""
    async with asyncio.timeout(5):
        while len(unused_sessions(emulator)) < count:  # noqa: ASYNC110 - the emulator has no event
            await asyncio.sleep(0.01)
    return unused_sessions(emulator)
