"""Helpers the tests share across the supported Home Assistant versions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import math
from pathlib import Path
import struct
from typing import Any

from aiohttp import ClientResponse
import pytest
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MockHAClientWebSocket,
)

from custom_components.openai_conversation.compat import SINGLE_OWNER_DEVICES, TOOL_RESULT_OBJECTS
from emulator import OpenAIEmulator
from emulator.state import SpeechSession
from homeassistant.components import conversation, stt, tts
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


# The speech entities of the default subentries.
STT_ENTITY = "stt.openai_stt"
TTS_ENTITY = "tts.openai_tts"


def stt_entity(hass: HomeAssistant) -> stt.SpeechToTextEntity:
    """Return the default STT entity."""
    return hass.data[stt.DATA_COMPONENT].get_entity(STT_ENTITY)


def tts_entity(hass: HomeAssistant) -> tts.TextToSpeechEntity:
    """Return the default TTS entity."""
    return hass.data[tts.DATA_COMPONENT].get_entity(TTS_ENTITY)


def tone(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """Raw 16-bit mono PCM of a 440 Hz tone, as a satellite streams it."""
    return b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )


async def chunks(data: bytes, size: int = 640) -> AsyncGenerator[bytes]:
    """Yield audio in pieces, as a satellite streams it."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def metadata(
    fmt: stt.AudioFormats = stt.AudioFormats.WAV, language: str = "nl-NL"
) -> stt.SpeechMetadata:
    """Return a satellite's usual stream description (16 kHz 16-bit mono) in this format."""
    return stt.SpeechMetadata(
        language=language,
        format=fmt,
        codec=stt.AudioCodecs.PCM if fmt is stt.AudioFormats.WAV else stt.AudioCodecs.OPUS,
        bit_rate=stt.AudioBitRates.BITRATE_16,
        sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
        channel=stt.AudioChannels.CHANNEL_MONO,
    )


async def post_to_stt_api(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, speech_content: str, audio: bytes
) -> ClientResponse:
    """Post audio to Home Assistant's STT API for the default STT entity, as a client does."""
    assert await async_setup_component(hass, "http", {})
    client = await hass_client()
    return await client.post(
        f"/api/stt/{STT_ENTITY}", headers={"X-Speech-Content": speech_content}, data=audio
    )


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
    """Return the error generate_content raises for a PDF; it names the file."""
    with pytest.raises(HomeAssistantError) as err:
        await ask_about_pdf(hass, entry, folder)
    assert err.value.translation_placeholders == {"file": str(folder / "manual.pdf"), "detail": ""}
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


async def shown_chat_log(ws: MockHAClientWebSocket, conversation_id: str) -> list[dict[str, Any]]:
    """Return a conversation's chat log as the frontend's Assist debug view receives it."""
    await ws.send_json_auto_id(
        {"type": "conversation/chat_log/subscribe", "conversation_id": conversation_id}
    )
    assert (await ws.receive_json())["success"]
    content: list[dict[str, Any]] = (await ws.receive_json())["event"]["data"]["content"]
    return content


def speakers(content: list[dict[str, Any]]) -> set[str | None]:
    """Return the agents a chat log names as the author of its answers and tool results."""
    return {c.get("agent_id") for c in content if c["role"] in ("assistant", "tool_result")}


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


CONFIG_FLOWS = "/api/config/config_entries/flow"
SUBENTRY_FLOWS = "/api/config/config_entries/subentries/flow"


class Frontend:
    """Fills in config and subentry forms over Home Assistant's HTTP API, as the frontend does."""

    def __init__(self, hass: HomeAssistant, hass_client: ClientSessionGenerator) -> None:
        """Talk to this Home Assistant."""
        self.hass = hass
        self.hass_client = hass_client
        self.flows = SUBENTRY_FLOWS
        self.flow_id = ""

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert await async_setup_component(self.hass, "config", {})
        client = await self.hass_client()
        response = await client.post(path, json=body)
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        self.flow_id = result.get("flow_id", self.flow_id)
        return result

    async def _start(self, flows: str, body: dict[str, Any]) -> dict[str, Any]:
        """Open a flow of this kind (config entry or subentry); return its first step."""
        self.flows = flows
        return await self._post(flows, body)

    async def add(self, entry: ConfigEntry, kind: str) -> dict[str, Any]:
        """Open the flow adding a subentry of this kind; return its first form."""
        return await self._start(SUBENTRY_FLOWS, {"handler": [entry.entry_id, kind]})

    async def reconfigure(self, entry: ConfigEntry, title: str) -> dict[str, Any]:
        """Open the flow reconfiguring the subentry of this title; return its first form."""
        (subentry_id,) = [s.subentry_id for s in entry.subentries.values() if s.title == title]
        return await self._start(
            SUBENTRY_FLOWS,
            {"handler": [entry.entry_id, "conversation"], "subentry_id": subentry_id},
        )

    async def reconfigure_server(self, entry: ConfigEntry) -> dict[str, Any]:
        """Open the flow reconfiguring an entry's server; return its first form."""
        return await self._start(
            CONFIG_FLOWS, {"handler": entry.domain, "entry_id": entry.entry_id}
        )

    async def submit(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """Submit the open form; return what comes next."""
        return await self._post(f"{self.flows}/{self.flow_id}", user_input)

    async def advanced(self, entry: ConfigEntry, kind: str = "conversation") -> dict[str, Any]:
        """Return the advanced form of a new subentry (recommended settings turned off)."""
        await self.add(entry, kind)
        return await self.submit({"name": "Form", "recommended": False})

    async def model(
        self, entry: ConfigEntry, model: str, kind: str = "conversation"
    ) -> dict[str, Any]:
        """Return the model form of a new subentry for this model."""
        await self.advanced(entry, kind)
        return await self.submit({"chat_model": model})


def dropdown(options: Any, key: str | None = None, *, custom: bool = False) -> dict[str, Any]:
    """Return a dropdown selector as the frontend receives it (translated by key if given)."""
    config: dict[str, Any] = {
        "options": options,
        "mode": "dropdown",
        "custom_value": custom,
        "multiple": False,
        "sort": False,
    }
    if key:
        config["translation_key"] = key
    return {"select": config}
