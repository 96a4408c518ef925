"""TTS as Home Assistant asks for it: its preferred format, through the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import io
from typing import Any
import wave

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.backends import realtime_speech
from custom_components.openai_conversation.backends.realtime_speech import (
    RealtimeSpeechError,
    session_update,
)
from custom_components.openai_conversation.const import DOMAIN
from custom_components.openai_conversation.diagnostics import async_get_config_entry_diagnostics
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from emulator import OpenAIEmulator, signature_of
from homeassistant.components import tts
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .common import TTS_ENTITY, spoken_sessions, tts_entity
from .conftest import add_entry

# gpt-4o-mini-tts and the transcription models shut down in 2027: clocks before that.
pytestmark = pytest.mark.usefixtures("before_the_shutdowns")


SPEECH_ENDPOINT = {"chat_model": "gpt-4o-mini-tts"}


@pytest.fixture
def tts_data() -> dict[str, Any]:
    """What the TTS subentry changes from the default (a test may override it)."""
    return SPEECH_ENDPOINT


@pytest.fixture
def config_entry(hass: HomeAssistant, tts_data: dict[str, Any]) -> MockConfigEntry:
    """An entry with the default TTS subentry, changed by tts_data."""
    (default,) = [data for kind, _title, data in DEFAULT_SUBENTRIES if kind == "tts"]
    return add_entry(hass, {"tts": {**default, **tts_data}})


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
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    """A format the server does not make: the subentry's is asked for (HA converts)."""
    entity = tts_entity(hass)
    options = {**entity.default_options, "preferred_format": "webm"}
    extension, _audio = await entity.async_get_tts_audio("Hi.", "en", options)
    assert extension == "mp3"
    assert emulator.requests_to("/v1/audio/speech")[0].body["response_format"] == "mp3"


async def empty() -> AsyncGenerator[str]:
    for part in ("", "  "):
        yield part


async def test_no_text_to_speak_is_a_translated_error(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    entity = tts_entity(hass)
    options = {**entity.default_options, "preferred_format": "flac"}
    response = await entity.async_stream_tts_audio(TTSAudioRequest("en", options, empty()))
    with pytest.raises(HomeAssistantError) as err:
        [chunk async for chunk in response.data_gen]
    assert (err.value.translation_domain, err.value.translation_key) == (
        DOMAIN,
        "no_text_to_speak",
    )
    assert emulator.requests_to("/v1/audio/speech") == []


REALTIME: dict[str, Any] = {}  # the default: gpt-realtime-2.1-mini


async def reply_after(emulator: OpenAIEmulator, *parts: str) -> AsyncGenerator[str]:
    """An agent's reply that starts only once the voice session is open (it would wait
    forever if the session opened on the first sentence), and is still being written while
    the first sentence is spoken."""
    async with asyncio.timeout(5):
        while not emulator.speech_sessions:  # noqa: ASYNC110 - the emulator has no event
            await asyncio.sleep(0.005)
    for part in parts:
        yield part
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("tts_data", [REALTIME], ids=["realtime"])
async def test_realtime_speaks_a_streamed_reply(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    """One session per reply, opened before the first sentence; each sentence an
    out-of-band response read exactly; PCM reaches HA behind one WAV header as it comes."""
    entity = tts_entity(hass)
    assert entity.default_options["model"] == "gpt-realtime-2.1-mini"
    parts = ("The kitchen light is on. ", "The living room ", "is dark.")
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), reply_after(emulator, *parts))
    )
    assert response.extension == "wav"
    audio = b"".join([chunk async for chunk in response.data_gen])
    assert audio.startswith(b"RIFF")
    assert audio.count(b"RIFF") == 1
    assert emulator.requests_to("/v1/audio/speech") == []
    (session,) = spoken_sessions(emulator)
    assert session.model == "gpt-realtime-2.1-mini"
    assert session.spoken == ["The kitchen light is on.", "The living room is dark."]
    setup, *creates = session.events
    assert setup["session"]["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "marin",
        "speed": 1.0,
    }
    assert "exactly as written" in setup["session"]["instructions"]
    assert [c["response"]["conversation"] for c in creates] == ["none", "none"]
    # All the PCM the session sent, in order, after the header.
    assert len(audio) - 44 == sum(400 * len(text) for text in session.spoken)


@pytest.mark.parametrize("tts_data", [REALTIME], ids=["realtime"])
async def test_realtime_first_audio_before_the_reply_ends(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    entity = tts_entity(hass)
    done = asyncio.Event()

    async def reply() -> AsyncGenerator[str]:
        yield "First sentence. "
        await asyncio.sleep(0.1)
        done.set()
        yield "Second one."

    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), reply())
    )
    assert (await anext(response.data_gen)).startswith(b"RIFF")
    assert len(await anext(response.data_gen)) > 0  # the first sentence's PCM
    assert not done.is_set()
    assert [chunk async for chunk in response.data_gen]


@pytest.mark.parametrize(
    ("tts_data", "voice"),
    [({"voice": "fable"}, "ballad"), ({"voice": "onyx"}, "cedar"), ({"voice": "ash"}, "ash")],
)
async def test_realtime_voice_is_one_the_model_has(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
    voice: str,
) -> None:
    """A speech endpoint voice the Realtime API lacks is spoken by the nearest one."""
    extension, audio = await speak(hass, "Hello.", {})
    assert extension == "mp3"  # HA's default format: HA converts the WAV
    assert audio
    (session,) = spoken_sessions(emulator)
    assert session.events[0]["session"]["audio"]["output"]["voice"] == voice


@pytest.mark.parametrize("tts_data", [REALTIME], ids=["realtime"])
async def test_realtime_preferred_wav_is_not_converted(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    extension, audio = await speak(hass, "One. Two.", {"preferred_format": "wav"})
    assert extension == "wav"
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
    # Streamed behind a header of unknown length, all of the PCM of both sentences.
    assert len(audio) - 44 == 400 * len("One.Two.")


@pytest.mark.parametrize("tts_data", [REALTIME], ids=["realtime"])
async def test_realtime_rewording_is_counted_in_diagnostics(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    emulator.speech_transcripts.append("The kitchen lamp is on.")
    entity = tts_entity(hass)
    await entity.async_get_tts_audio(
        "The kitchen light is on. It is late.", "en", dict(entity.default_options)
    )
    diagnostics = await async_get_config_entry_diagnostics(hass, setup_entry)
    assert diagnostics["speech"] == {"OpenAI TTS": {"sentences": 2, "reworded": 1}}


@pytest.mark.parametrize("tts_data", [REALTIME], ids=["realtime"])
async def test_realtime_session_error_is_translated(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    """The emulator refuses what OpenAI refuses (here a voice the model lacks); the error
    reaches HA translated, with OpenAI's words."""
    entity = tts_entity(hass)
    session = setup_entry.runtime_data.seam.realtime_speech(
        "gpt-realtime-2.1-mini", session_update("fable", None, None)
    )
    await session.open()
    with pytest.raises(RealtimeSpeechError, match="Invalid value: 'fable'"):
        [chunk async for chunk in session.speak("Hi.")]
    await session.close()
    options = {**entity.default_options, "model": "gpt-realtime-2.1-nano"}
    with pytest.raises(HomeAssistantError) as err:
        await entity.async_get_tts_audio("Hi.", "en", options)
    assert err.value.translation_key == "not_found"  # as the other endpoints' 404
    assert "refused the session (404)" in str(err.value.translation_placeholders)


async def test_realtime_subentry_flow_offers_what_the_model_takes(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Through the flow: realtime voices only, speed within the session's range, and the
    new TTS speaks with what was chosen."""
    result = await hass.config_entries.subentries.async_init(
        (setup_entry.entry_id, "tts"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Narrator", "chat_model": "gpt-realtime-2.1"}
    )
    schema = {str(key): value for key, value in result["data_schema"].schema.items()}
    assert set(schema) == {"voice", "tts_speed", "prompt"}
    voices = schema["voice"].config["options"]
    assert "fable" not in voices
    assert {"marin", "cedar", "ash"} <= set(voices)
    assert (schema["tts_speed"].config["min"], schema["tts_speed"].config["max"]) == (0.25, 1.5)
    with pytest.raises(InvalidData):
        await hass.config_entries.subentries.async_configure(result["flow_id"], {"voice": "fable"})
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"voice": "cedar", "tts_speed": 1.25, "prompt": "Calm and warm."}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entity = hass.data[tts.DATA_COMPONENT].get_entity("tts.narrator")
    assert [v.voice_id for v in entity.async_get_supported_voices("en")][:2] == ["marin", "cedar"]
    await entity.async_get_tts_audio("Hello.", "en", dict(entity.default_options))
    (session,) = spoken_sessions(emulator)
    assert session.model == "gpt-realtime-2.1"
    config = session.events[0]["session"]
    assert config["audio"]["output"]["voice"] == "cedar"
    assert config["audio"]["output"]["speed"] == 1.25
    assert config["instructions"].endswith("Calm and warm.")


@pytest.mark.parametrize("tts_data", [REALTIME], ids=["realtime"])
async def test_realtime_silence_is_a_translated_error(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A voice session that stops answering mid-sentence ends as a translated error."""
    monkeypatch.setattr(realtime_speech, "SENTENCE_TIMEOUT", 0.2)
    emulator.speech_latency = 2
    entity = tts_entity(hass)
    with pytest.raises(HomeAssistantError) as err:
        await entity.async_get_tts_audio("Hi.", "en", dict(entity.default_options))
    assert err.value.translation_key == "speech_failed"


@pytest.mark.parametrize(
    "tts_data", [{**SPEECH_ENDPOINT, "voice": "fable", "tts_speed": 3.0}], ids=["speech"]
)
async def test_moving_to_a_realtime_model_suggests_what_it_takes(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tts_data: dict[str, Any],
) -> None:
    """Reconfigured onto a realtime model, the form suggests the nearest realtime voice and
    a speed in its range, so submitting it as shown is accepted."""
    subentry = next(s for s in setup_entry.subentries.values() if s.subentry_type == "tts")
    result = await hass.config_entries.subentries.async_init(
        (setup_entry.entry_id, "tts"),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-realtime-2.1-mini"}
    )
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["voice"] == "ballad"
    assert suggested["tts_speed"] == 1.5
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], suggested)
    assert result["reason"] == "reconfigure_successful"
