"""TTS as Home Assistant asks for it: its preferred format, through the emulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import io
from typing import Any
import wave

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.const import DOMAIN
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from emulator import OpenAIEmulator, signature_of
from homeassistant.components import tts
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .conftest import add_entry

TTS_ENTITY = "tts.openai_tts"


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry with the default TTS subentry (speech endpoint, mp3)."""
    return add_entry(
        hass, {kind: data for kind, _title, data in DEFAULT_SUBENTRIES if kind == "tts"}
    )


async def speak(hass: HomeAssistant, text: str, options: dict[str, Any]) -> tuple[str, bytes]:
    """Speak through HA's TTS manager, as a satellite's pipeline does; return what HA serves."""
    assert await async_setup_component(hass, "tts", {})
    manager = hass.data[tts.DATA_TTS_MANAGER]
    stream = manager.async_create_result_stream(TTS_ENTITY, language="en", options=options)
    stream.async_set_message(text)
    return stream.extension, b"".join([chunk async for chunk in stream.async_stream_result()])


@pytest.mark.parametrize(
    ("preferred", "asked"),
    [("flac", "flac"), ("opus", "opus"), ("ogg", "opus"), ("aac", "aac"), ("mp3", "mp3")],
)
async def test_preferred_format_is_asked_for(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    preferred: str,
    asked: str,
) -> None:
    """The server is asked for HA's format, and HA serves its bytes as they are (no
    ffmpeg: the emulator's signature survives, which a transcode would destroy)."""
    extension, audio = await speak(hass, "Good morning.", {"preferred_format": preferred})
    assert extension == preferred
    (request,) = emulator.requests_to("/v1/audio/speech")
    assert request.body["response_format"] == asked
    assert signature_of(audio).endswith(f"|{asked}")


@pytest.mark.parametrize("preferred", ["wav", "pcm"])
async def test_preferred_pcm_formats(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, preferred: str
) -> None:
    """WAV and raw PCM travel as the server's PCM; WAV gets one header."""
    extension, audio = await speak(hass, "One. Two.", {"preferred_format": preferred})
    assert extension == preferred
    assert {r.body["response_format"] for r in emulator.requests_to("/v1/audio/speech")} == {"pcm"}
    if preferred == "wav":
        with wave.open(io.BytesIO(audio)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
    else:
        assert not audio.startswith(b"RIFF")
        assert len(audio) % 2 == 0


async def test_unknown_preferred_format_keeps_the_subentrys(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A format the server does not make: the subentry's is asked for (HA converts)."""
    entity = hass.data[tts.DATA_COMPONENT].get_entity(TTS_ENTITY)
    options = {**entity.default_options, "preferred_format": "webm"}
    extension, _audio = await entity.async_get_tts_audio("Hi.", "en", options)
    assert extension == "mp3"
    assert emulator.requests_to("/v1/audio/speech")[0].body["response_format"] == "mp3"


async def empty() -> AsyncGenerator[str]:
    for part in ("", "  "):
        yield part


async def test_no_text_to_speak_is_a_translated_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    entity = hass.data[tts.DATA_COMPONENT].get_entity(TTS_ENTITY)
    options = {**entity.default_options, "preferred_format": "flac"}
    response = await entity.async_stream_tts_audio(TTSAudioRequest("en", options, empty()))
    with pytest.raises(HomeAssistantError) as err:
        [chunk async for chunk in response.data_gen]
    assert (err.value.translation_domain, err.value.translation_key) == (
        DOMAIN,
        "no_text_to_speak",
    )
    assert emulator.requests_to("/v1/audio/speech") == []
