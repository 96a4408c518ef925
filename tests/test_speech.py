"""STT and TTS entities and their subentry flows, through the emulator."""

from __future__ import annotations

from array import array
import asyncio
from collections.abc import AsyncGenerator
import io
from typing import Any
import wave

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.openai_conversation.backends import realtime
from custom_components.openai_conversation.backends.realtime import LIVE_RATE
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from custom_components.openai_conversation.speech_models import (
    SPEECH_LANGUAGE_CODES as DEFAULT_LANGUAGES,
)
from custom_components.openai_conversation.stt import Resampler
from custom_components.openai_conversation.tts import sentences
from emulator import Error, OpenAIEmulator, signature_of
from homeassistant.components import stt, tts
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .common import TTS_ENTITY, chunks, metadata, post_to_stt_api, stt_entity, tone, tts_entity
from .conftest import add_entry

# gpt-4o-mini-tts and the transcription models shut down in 2027: clocks before that.
pytestmark = pytest.mark.usefixtures("before_the_shutdowns")


@pytest.fixture
def subentries() -> dict[str, dict[str, Any]]:
    """Speech subentry data by type (a test may override it); TTS on the speech endpoint
    (test_tts.py covers the Realtime voices)."""
    defaults = {kind: dict(data) for kind, _title, data in DEFAULT_SUBENTRIES}
    return {"stt": defaults["stt"], "tts": {**defaults["tts"], "chat_model": "gpt-4o-mini-tts"}}


@pytest.fixture
def config_entry(hass: HomeAssistant, subentries: dict[str, dict[str, Any]]) -> MockConfigEntry:
    """An entry with the default STT and TTS subentries."""
    return add_entry(hass, subentries)


UPLOAD_ONLY = {"stt": {"live_transcription": False}, "tts": {"chat_model": "gpt-4o-mini-tts"}}


@pytest.mark.parametrize("subentries", [UPLOAD_ONLY], ids=["upload"])
async def test_transcribe_wav(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    pcm = tone()
    result = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert result.result is stt.SpeechResultState.SUCCESS
    assert result.text == "turn on the kitchen light"
    sent = emulator.requests_to("/v1/audio/transcriptions")[0].body
    assert sent["model"] == "gpt-transcribe"
    assert sent["language"] == "nl"
    assert "smart home" in sent["prompt"]
    assert sent["file"]["filename"] == "audio.wav"
    with wave.open(io.BytesIO(sent["file"]["data"])) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.readframes(wav.getnframes()) == pcm


async def test_transcribe_while_speaking(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """PCM goes to a Realtime transcription session as it arrives, at 24 kHz; nothing is
    uploaded."""
    pcm = tone(1.0)
    result = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert result.result is stt.SpeechResultState.SUCCESS
    assert result.text == "turn on the kitchen light"
    assert emulator.requests_to("/v1/audio/transcriptions") == []
    (session,) = emulator.live_sessions
    assert session.transcription["model"] == "gpt-transcribe"
    assert session.transcription["language"] == "nl"
    assert "smart home" in session.transcription["prompt"]
    kinds = [e["type"] for e in session.events]
    assert kinds[0] == "session.update"
    assert kinds[-1] == "input_audio_buffer.commit"
    assert kinds.count("input_audio_buffer.append") == len(pcm) // 640
    # 16 kHz in, 24 kHz out: one and a half times the samples (less the last fraction).
    assert abs(len(session.audio) // 2 - len(pcm) // 2 * 3 // 2) <= 1
    assert session.commits == 1


@pytest.mark.parametrize(
    ("status", "sessions_asked"), [(404, 1), (405, 1), (501, 1), (403, 2), (502, 2)]
)
async def test_live_session_refused_uploads_instead(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    status: int,
    sessions_asked: int,
) -> None:
    """A refused session: the whole recording is uploaded. A server without the Realtime
    API (404) is not asked again; another refusal may pass, so the next turn asks."""
    emulator.fail_next("/v1/realtime", Error(status, "Refused"))
    pcm = await _assert_falls_back(
        hass, emulator, caplog, f"the server refused the session ({status})"
    )
    await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert len(emulator.requests_to("/v1/realtime")) == sessions_asked
    assert len(emulator.requests_to("/v1/audio/transcriptions")) == 3 - sessions_asked


async def test_live_session_failing_uploads_the_whole_recording(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The session failed after the audio was sent: nothing is lost, the recording goes up,
    and the next turn tries a session again."""
    emulator.live_failure = "The server had an error while processing your request."
    # The server's own words, at once (the session stays open after its error event).
    pcm = await _assert_falls_back(hass, emulator, caplog, emulator.live_failure)
    emulator.live_failure = None
    again = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert again.text == "turn on the kitchen light"
    assert len(emulator.live_sessions) == 2
    assert len(emulator.requests_to("/v1/audio/transcriptions")) == 1


async def test_live_transcript_too_slow_uploads_instead(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session that takes the audio but never answers the commit does not hang the turn."""
    monkeypatch.setattr(realtime, "TRANSCRIPT_TIMEOUT", 0.2)
    emulator.live_transcription_latency = 3.0
    await _assert_falls_back(hass, emulator, caplog, "TimeoutError")


async def test_live_session_closed_before_the_transcript(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.live_commit_fault = "close"
    await _assert_falls_back(hass, emulator, caplog, "the session closed before the transcript")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("binary", "the session closed before the transcript"),
        ("not json", "unreadable event: Expecting value: line 1 column 1 (char 0)"),
    ],
)
async def test_live_session_answering_nonsense(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    reason: str,
) -> None:
    """A frame that is no event ends the session; the recording is uploaded instead."""
    emulator.live_commit_fault = fault
    await _assert_falls_back(hass, emulator, caplog, reason)


async def _assert_falls_back(
    hass: HomeAssistant, emulator: OpenAIEmulator, caplog: pytest.LogCaptureFixture, reason: str
) -> bytes:
    """Transcribe half a second whose live session fails: uploaded whole, the reason logged."""
    pcm = tone(0.5)
    result = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert result.text == "turn on the kitchen light"
    _assert_uploaded(emulator, pcm)
    assert f"Live transcription failed ({reason}); uploading the recording" in caplog.messages
    return pcm


def _assert_uploaded(emulator: OpenAIEmulator, pcm: bytes) -> None:
    sent = emulator.requests_to("/v1/audio/transcriptions")[0].body
    with wave.open(io.BytesIO(sent["file"]["data"])) as wav:
        assert wav.readframes(wav.getnframes()) == pcm


@pytest.mark.parametrize(
    ("rate", "chunk"), [(16000, 333), (8000, 160), (24000, 480), (48000, 1000)]
)
def test_resampler_keeps_a_ramp_straight(rate: int, chunk: int) -> None:
    """Linear resampling to 24 kHz across chunk boundaries (odd-sized ones included)."""
    ramp = array("h", range(0, 6000, 3)).tobytes()  # a straight line, 2,000 samples
    resampler = Resampler(rate, LIVE_RATE)
    out = array(
        "h", b"".join(resampler.convert(ramp[i : i + chunk]) for i in range(0, len(ramp), chunk))
    )
    assert abs(len(out) - 2000 * LIVE_RATE // rate) <= 2
    step = 3 * rate / LIVE_RATE
    assert all(abs(out[i] - i * step) <= 1 for i in range(len(out)))


async def test_transcribe_ogg(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    ogg = b"OggS" + bytes(200)
    emulator.transcripts.append("hallo")
    result = await stt_entity(hass).async_process_audio_stream(
        metadata(stt.AudioFormats.OGG, "de-DE"), chunks(ogg)
    )
    assert result.text == "hallo"
    sent = emulator.requests_to("/v1/audio/transcriptions")[0].body
    assert sent["file"] == {"filename": "audio.ogg", "content_type": "audio/ogg", "data": ogg}
    assert sent["language"] == "de"


@pytest.mark.parametrize("subentries", [UPLOAD_ONLY], ids=["upload"])
async def test_transcribe_error_is_a_failed_result(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.fail_next(
        "/v1/audio/transcriptions", Error(400, "Audio file is too short", code="audio_too_short")
    )
    result = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(tone(0.01)))
    assert result.result is stt.SpeechResultState.ERROR
    assert result.text is None


async def test_stt_languages(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    entity = stt_entity(hass)
    assert entity.supported_languages == list(DEFAULT_LANGUAGES)
    assert entity.supported_formats == [stt.AudioFormats.WAV, stt.AudioFormats.OGG]


async def test_tts_non_streaming(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    entity = tts_entity(hass)
    extension, audio = await entity.async_get_tts_audio(
        "Hello there.", "en", dict(entity.default_options)
    )
    assert extension == "mp3"
    assert signature_of(audio).startswith("gpt-4o-mini-tts|marin|")
    body = emulator.requests_to("/v1/audio/speech")[0].body
    assert body == {
        "model": "gpt-4o-mini-tts",
        "voice": "marin",
        "input": "Hello there.",
        "response_format": "mp3",
    }


@pytest.mark.parametrize(
    ("tts_data", "expected", "absent"),
    [
        (
            {"chat_model": "tts-1-hd", "voice": "onyx", "tts_speed": 1.5, "audio_format": "flac"},
            {"speed": 1.5, "response_format": "flac", "voice": "onyx"},
            {"instructions"},
        ),
        (
            {
                "chat_model": "gpt-4o-mini-tts",
                "voice": "ash",
                "tts_speed": 2.0,
                "prompt": "Whisper",
                "audio_format": "opus",
            },
            {"instructions": "Whisper", "response_format": "opus"},
            {"speed"},
        ),
    ],
)
async def test_tts_options_reach_the_request(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    config_entry: MockConfigEntry,
    tts_data: dict[str, Any],
    expected: dict[str, Any],
    absent: set[str],
) -> None:
    subentry = next(s for s in config_entry.subentries.values() if s.subentry_type == "tts")
    hass.config_entries.async_update_subentry(config_entry, subentry, data=tts_data)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    entity = tts_entity(hass)
    await entity.async_get_tts_audio("Hi.", "en", dict(entity.default_options))
    body = emulator.requests_to("/v1/audio/speech")[0].body
    assert body.items() >= expected.items()
    assert not absent & body.keys()


async def test_tts_wav_is_pcm_with_one_header(
    hass: HomeAssistant, emulator: OpenAIEmulator, config_entry: MockConfigEntry
) -> None:
    subentry = next(s for s in config_entry.subentries.values() if s.subentry_type == "tts")
    hass.config_entries.async_update_subentry(
        config_entry, subentry, data={**subentry.data, "audio_format": "wav"}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    entity = tts_entity(hass)
    extension, audio = await entity.async_get_tts_audio(
        "One. Two.", "en", dict(entity.default_options)
    )
    assert extension == "wav"
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (24000, 1)
        assert wav.getnframes() > 0
    assert emulator.requests_to("/v1/audio/speech")[0].body["response_format"] == "pcm"
    # Streaming: one header, then the PCM of each sentence.
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), text_stream("One. ", "Two."))
    )
    streamed = b"".join([chunk async for chunk in response.data_gen])
    assert streamed.count(b"RIFF") == 1
    assert len(emulator.requests_to("/v1/audio/speech")) == 3


async def text_stream(*parts: str, delay: float = 0.0) -> AsyncGenerator[str]:
    for part in parts:
        if delay:
            await asyncio.sleep(delay)
        yield part


async def test_tts_streams_sentence_by_sentence(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The first audio reaches HA while the reply text is still being written."""
    entity = tts_entity(hass)
    assert entity.async_supports_streaming_input()
    emulator.speech_chunk_delay = 0.001
    sent_last = asyncio.Event()

    async def reply() -> AsyncGenerator[str]:
        yield "The kitchen light is on. "
        yield "The living room "
        await asyncio.sleep(0.05)
        sent_last.set()
        yield "is dark."

    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), reply())
    )
    first = await anext(response.data_gen)
    assert first.startswith(b"ID3")
    assert not sent_last.is_set()  # audio arrived before the last words were written
    rest = [chunk async for chunk in response.data_gen]
    assert rest
    inputs = [r.body["input"] for r in emulator.requests_to("/v1/audio/speech")]
    assert inputs == ["The kitchen light is on.", "The living room is dark."]


async def test_tts_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.fail_next("/v1/audio/speech", Error(400, "Invalid voice", code="invalid_voice"))
    entity = tts_entity(hass)
    with pytest.raises(HomeAssistantError, match="Invalid voice"):
        await entity.async_get_tts_audio("Hi.", "en", dict(entity.default_options))


async def test_voice_is_part_of_the_cache_key(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Changing the subentry's voice changes the audio HA serves (not a cached copy)."""
    assert await async_setup_component(hass, "tts", {})
    manager = hass.data[tts.DATA_TTS_MANAGER]

    async def speak() -> bytes:
        stream = manager.async_create_result_stream(TTS_ENTITY, language="en")
        stream.async_set_message("Good morning.")
        return b"".join([chunk async for chunk in stream.async_stream_result()])

    first = await speak()
    assert first == await speak()
    assert len(emulator.requests_to("/v1/audio/speech")) == 1  # second came from the cache
    subentry = next(s for s in setup_entry.subentries.values() if s.subentry_type == "tts")
    hass.config_entries.async_update_subentry(
        setup_entry, subentry, data={**subentry.data, "voice": "onyx"}
    )
    await hass.async_block_till_done()
    second = await speak()
    assert second != first
    assert emulator.requests_to("/v1/audio/speech")[-1].body["voice"] == "onyx"


async def test_sentences() -> None:
    got = [
        s
        async for s in sentences(
            text_stream("Hi there! How", " are you? Fine", ".\nNext line", " 你好。再见")
        )
    ]
    assert got == ["Hi there!", "How are you?", "Fine.", "Next line 你好。", "再见"]


async def test_speech_subentry_flows(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    result = await hass.config_entries.subentries.async_init(
        (setup_entry.entry_id, "tts"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Narrator", "chat_model": "tts-1"}
    )
    fields = {str(k) for k in result["data_schema"].schema}
    assert fields == {"voice", "audio_format", "tts_speed"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"voice": "fable", "audio_format": "wav", "tts_speed": 1.25}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # Core's keys, and the prompt core's TTS reads even for models that ignore it.
    assert result["data"] == {
        "chat_model": "tts-1",
        "prompt": "",
        "voice": "fable",
        "audio_format": "wav",
        "tts_speed": 1.25,
    }
    await hass.async_block_till_done()
    assert hass.states.get("tts.narrator") is not None

    stt_sub = next(s for s in setup_entry.subentries.values() if s.subentry_type == "stt")
    result = await hass.config_entries.subentries.async_init(
        (setup_entry.entry_id, "stt"),
        context={"source": "reconfigure", "subentry_id": stt_sub.subentry_id},
    )
    assert CONF_NAME not in {str(k) for k in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "whisper-1"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"prompt": "Dutch smart home"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert dict(setup_entry.subentries[stt_sub.subentry_id].data) == {
        "chat_model": "whisper-1",
        "prompt": "Dutch smart home",
        "live_transcription": True,
    }


@pytest.mark.parametrize(
    ("language", "sent"), [("en-US", "en"), ("en", "en"), ("pt-PT", "pt"), ("fil-PH", "tl")]
)
async def test_stt_api_takes_the_codes_core_declared(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
    language: str,
    sent: str,
) -> None:
    """Voice pipelines built on core's STT store region codes (en-US); both forms work."""
    header = (
        f"format=wav; codec=pcm; sample_rate=16000; bit_rate=16; channel=1; language={language}"
    )
    response = await post_to_stt_api(hass, hass_client, header, tone())
    assert response.status == 200, await response.text()
    assert (await response.json())["text"] == "turn on the kitchen light"
    # PCM: transcribed while it streams in (the header's strings count as the enum's values).
    assert emulator.live_sessions[0].transcription["language"] == sent


async def test_stt_api_uploads_ogg_as_ogg(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """Home Assistant's STT API hands the header's format over as a plain string on older
    versions: OGG must still go up as OGG, not behind a WAV header."""
    ogg = b"OggS" + bytes(300)
    header = "format=ogg; codec=opus; sample_rate=16000; bit_rate=16; channel=1; language=en"
    response = await post_to_stt_api(hass, hass_client, header, ogg)
    assert response.status == 200, await response.text()
    sent = emulator.requests_to("/v1/audio/transcriptions")[0].body["file"]
    assert (sent["filename"], sent["data"]) == ("audio.ogg", ogg)
