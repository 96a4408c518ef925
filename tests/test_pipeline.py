"""A whole Assist pipeline on real HA: this STT, this agent, this TTS."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from emulator import OpenAIEmulator, Reply, Text, ToolCall
from homeassistant.components import assist_pipeline, stt
from homeassistant.components.assist_pipeline.pipeline import KEY_ASSIST_PIPELINE
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component

from .common import chunks, metadata, spoken_sessions, tone
from .conftest import add_entry, all_subentries


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry as the config flow creates it: agent, AI Task, STT and TTS."""
    return add_entry(hass, all_subentries())


async def test_voice_pipeline_turns_light_on(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"kitchen_light": {"name": "Kitchen light"}}}
    )
    async_expose_entity(hass, "conversation", "input_boolean.kitchen_light", True)
    assert await async_setup_component(hass, "assist_pipeline", {})
    pipeline = await hass.data[KEY_ASSIST_PIPELINE].pipeline_store.async_create_item(
        {
            "conversation_engine": "conversation.openai_conversation",
            "conversation_language": "en",
            "language": "en",
            "name": "OpenAI",
            "stt_engine": "stt.openai_stt",
            "stt_language": "en",
            "tts_engine": "tts.openai_tts",
            "tts_language": "en",
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
            "prefer_local_intents": False,
        }
    )
    emulator.queue(
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})]),
        Reply([Text("The kitchen light is on.")]),
    )
    events: list[Any] = []
    await assist_pipeline.async_pipeline_from_audio_stream(
        hass,
        context=Context(),
        event_callback=events.append,
        stt_metadata=metadata(stt.AudioFormats.WAV, "en"),
        stt_stream=chunks(tone(1.0)),
        pipeline_id=pipeline.id,
    )
    by_type = {e.type: e.data for e in events}
    assert "error" not in by_type, by_type.get("error")
    assert by_type["stt-end"]["stt_output"]["text"] == "turn on the kitchen light"
    assert (
        by_type["intent-end"]["intent_output"]["response"]["speech"]["plain"]["speech"]
        == "The kitchen light is on."
    )
    assert hass.states.get("input_boolean.kitchen_light").state == "on"
    # The speech went up while it was captured, to a Realtime transcription session.
    assert emulator.live_sessions[0].transcription["language"] == "en"
    assert emulator.requests_to("/v1/audio/transcriptions") == []
    # The spoken reply: fetch it as a media player would.
    url = by_type["tts-end"]["tts_output"]["url"]
    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    audio = await response.read()
    assert audio
    # Read by a Realtime voice session (the default since the speech endpoint's shutdown).
    (session,) = spoken_sessions(emulator)
    assert (session.model, session.spoken) == (
        "gpt-realtime-2.1-mini",
        ["The kitchen light is on."],
    )
    assert session.events[0]["session"]["audio"]["output"]["voice"] == "marin"
