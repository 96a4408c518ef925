"""STT audio as Home Assistant may send it, empty transcripts, and a stalled live session."""

from __future__ import annotations

from array import array
import io
from itertools import pairwise
import logging
import math
import sys
from typing import Any
import wave

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.openai_conversation.backends import realtime
from custom_components.openai_conversation.backends.realtime import LIVE_RATE
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from custom_components.openai_conversation.pcm import Pcm16
from emulator import OpenAIEmulator
from homeassistant.components import stt
from homeassistant.core import HomeAssistant

from .common import STT_ENTITY, chunks, metadata, post_to_stt_api, stt_entity, tone
from .conftest import add_entry

UPLOAD = {"live_transcription": False}


@pytest.fixture
def stt_options() -> dict[str, Any]:
    """The STT subentry's options (a test may override them)."""
    return {}


@pytest.fixture
def config_entry(hass: HomeAssistant, stt_options: dict[str, Any]) -> MockConfigEntry:
    """An entry with the default STT subentry, updated with stt_options."""
    defaults = {kind: dict(data) for kind, _title, data in DEFAULT_SUBENTRIES}
    return add_entry(hass, {"stt": defaults["stt"] | stt_options})


def sine(width: int, channels: int, rate: int, seconds: float = 0.5) -> bytes:
    """A 440 Hz tone at 3/8 of full scale as WAV PCM of this layout (8-bit: unsigned)."""
    out = bytearray()
    for i in range(int(seconds * rate)):
        value = 0.375 * math.sin(2 * math.pi * 440 * i / rate)
        if width == 1:
            sample = bytes([128 + round(value * 127)])
        else:
            full = (1 << (8 * width - 1)) - 1
            sample = round(value * full).to_bytes(width, "little", signed=True)
        out += sample * channels
    return bytes(out)


def heard(pcm16: bytes, rate: int) -> tuple[float, float]:
    """Return the frequency (from zero crossings) and the peak of 16-bit mono PCM."""
    samples = array("h", pcm16)
    if sys.byteorder == "big":
        samples.byteswap()
    crossings = sum(1 for a, b in pairwise(samples) if (a < 0) != (b < 0))
    return crossings / 2 / (len(samples) / rate), max(abs(s) for s in samples) / 32767


def layout(width: int, channels: int, rate: int) -> stt.SpeechMetadata:
    return stt.SpeechMetadata(
        language="en-US",
        format=stt.AudioFormats.WAV,
        codec=stt.AudioCodecs.PCM,
        bit_rate=stt.AudioBitRates(width * 8),
        sample_rate=stt.AudioSampleRates(rate),
        channel=stt.AudioChannels(channels),
    )


WIDTHS = pytest.mark.parametrize("width", [1, 2, 3, 4], ids=["8bit", "16bit", "24bit", "32bit"])
CHANNELS = pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])


async def test_declares_every_layout_home_assistant_offers(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    entity = stt_entity(hass)
    assert entity.supported_bit_rates == list(stt.AudioBitRates)
    assert entity.supported_sample_rates == list(stt.AudioSampleRates)
    assert entity.supported_channels == list(stt.AudioChannels)


@WIDTHS
@CHANNELS
async def test_live_audio_of_any_layout_is_sent_as_pcm16(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    width: int,
    channels: int,
) -> None:
    """The session gets 16-bit mono at 24 kHz that still is the 440 Hz tone at its level."""
    audio = sine(width, channels, 44100)
    result = await stt_entity(hass).async_process_audio_stream(
        layout(width, channels, 44100), chunks(audio, 999)
    )
    assert result.text == "turn on the kitchen light"
    (session,) = emulator.live_sessions
    assert emulator.requests_to("/v1/audio/transcriptions") == []
    assert abs(len(session.audio) // 2 - 12000) <= 2  # half a second at 24 kHz
    frequency, peak = heard(bytes(session.audio), LIVE_RATE)
    assert frequency == pytest.approx(440, rel=0.01)
    assert peak == pytest.approx(0.375, abs=0.01)


@WIDTHS
@CHANNELS
@pytest.mark.parametrize("stt_options", [UPLOAD], ids=["upload"])
async def test_upload_is_a_wav_file_of_the_given_layout(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    width: int,
    channels: int,
) -> None:
    """The recording goes up unchanged behind a header that describes it (the emulator
    decodes it, as OpenAI does)."""
    audio = sine(width, channels, 8000)
    result = await stt_entity(hass).async_process_audio_stream(
        layout(width, channels, 8000), chunks(audio, 1001)
    )
    assert result.text == "turn on the kitchen light"
    sent = emulator.requests_to("/v1/audio/transcriptions")[0].body["file"]["data"]
    with wave.open(io.BytesIO(sent)) as wav:
        assert (wav.getsampwidth(), wav.getnchannels(), wav.getframerate()) == (
            width,
            channels,
            8000,
        )
        assert wav.readframes(wav.getnframes()) == audio


async def test_stt_api_takes_24_bit_stereo(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """Through Home Assistant's STT API (whose header values may arrive as strings)."""
    header = "format=wav; codec=pcm; sample_rate=48000; bit_rate=24; channel=2; language=en"
    response = await post_to_stt_api(hass, hass_client, header, sine(3, 2, 48000))
    assert response.status == 200, await response.text()
    assert (await response.json())["text"] == "turn on the kitchen light"
    frequency, _peak = heard(bytes(emulator.live_sessions[0].audio), LIVE_RATE)
    assert frequency == pytest.approx(440, rel=0.01)


def test_pcm16_keeps_partial_frames_for_the_next_chunk() -> None:
    """A chunk may end inside a frame: the rest waits for the next chunk."""
    audio = sine(3, 2, 16000, 0.05)
    whole = Pcm16(3, 2).convert(audio)
    convert = Pcm16(3, 2).convert
    assert b"".join(convert(audio[i : i + 7]) for i in range(0, len(audio), 7)) == whole


@pytest.mark.parametrize("stt_options", [UPLOAD, {}], ids=["upload", "live"])
async def test_empty_transcript_is_an_error(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    stt_options: dict[str, Any],
) -> None:
    """No words heard is no command: a failed result (logged at debug), not success."""
    caplog.set_level(logging.DEBUG, "custom_components.openai_conversation")
    emulator.transcripts.append("")
    result = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(tone()))
    assert (result.result, result.text) == (stt.SpeechResultState.ERROR, None)
    assert f"{STT_ENTITY}: the transcript is empty" in caplog.messages
    # Live: the session's empty answer is final, nothing is uploaded after it.
    assert len(emulator.requests_to("/v1/audio/transcriptions")) == (1 if stt_options else 0)


async def test_stalled_handshake_uploads_instead(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server that takes the connection but never answers the upgrade does not hang the
    turn: the recording is uploaded, and the next turn tries a session again."""
    monkeypatch.setattr(realtime, "HANDSHAKE_TIMEOUT", 0.2)
    emulator.live_handshake_stalls = True
    pcm = tone()
    result = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert result.text == "turn on the kitchen light"
    reason = "no answer to the handshake within 0.2 s"
    assert f"Live transcription failed ({reason}); uploading the recording" in caplog.messages
    sent = emulator.requests_to("/v1/audio/transcriptions")[0].body["file"]["data"]
    with wave.open(io.BytesIO(sent)) as wav:
        assert wav.readframes(wav.getnframes()) == pcm
    emulator.live_handshake_stalls = False
    await stt_entity(hass).async_process_audio_stream(metadata(), chunks(pcm))
    assert len(emulator.live_sessions) == 1
