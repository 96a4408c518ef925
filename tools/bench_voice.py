"""The whole voice turn: end of speech to the first audio byte at the player.

A real Assist pipeline (STT, then the agent with a tool call, then TTS) runs for ours and for
the built-in integration, each in its own Home Assistant, against the emulator with service
times like OpenAI's. The player reads the TTS stream as a satellite does: as soon as the
pipeline says the reply is streaming, else when TTS has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from dataclasses import asdict, dataclass, field
from importlib import import_module
import json
import math
import statistics
import struct
import time
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator.replies import Text
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from tools.bench_home import home_assistant, subentry
from tools.bench_stats import interleave

SPEECH = 1.0  # seconds of speech, streamed in real time as a satellite captures it
CHUNK = 0.1
RATE = 16000
TOOL_ARGUMENTS = {"name": "Kitchen light"}
# The first sentence is longer than the 60 characters after which Home Assistant's pipeline
# starts streaming a reply to TTS, so the sentence, not that rule, decides when speech starts.
REPLY = (
    "The kitchen light is on now, and the rest of the house stays as it was. "
    "Tell me if you want it dimmed or turned off again."
)


@dataclass(frozen=True)
class ServiceTimes:
    """What the emulated servers take: the figures the physical limit is made of."""

    transcription: float = 0.3  # from the end of the upload to the transcript
    first_token: float = 0.4
    tokens_per_second: float = 40.0
    speech_first_byte: float = 0.15
    speech_per_kb: float = 0.002

    def emulator_args(self) -> list[str]:
        """Return the emulator's command-line options for these times."""
        return [
            "--transcription-latency",
            str(self.transcription),
            "--first-token",
            str(self.first_token),
            "--tokens-per-second",
            str(self.tokens_per_second),
            "--speech-latency",
            str(self.speech_first_byte),
            "--speech-chunk-delay",
            str(self.speech_per_kb),
            "--after-tool",
            REPLY,
        ]

    def physical_limit(self) -> float:
        """Return the seconds no implementation can save after the end of speech.

        The transcript, the model's tool call (first token, then its arguments), the second
        round trip up to the first sentence (the server streams text in chunks: the chunk
        holding the space after the first full stop), and the speech server's first byte.
        """
        chunk = Text("").chunk_size
        sentence = REPLY.index(". ") + 2
        sentence_chars = math.ceil(sentence / chunk) * chunk
        arguments = len(json.dumps(TOOL_ARGUMENTS))
        tokens = (arguments + sentence_chars) / 4
        return (
            self.transcription
            + 2 * self.first_token
            + tokens / self.tokens_per_second
            + self.speech_first_byte
        )


def has_builtin_voice() -> bool:
    """Return whether the built-in integration has STT and TTS (HA 2026.10 and newer)."""
    try:
        import_module("homeassistant.components.openai_conversation.stt")
    except ImportError:
        return False
    return True


def _subentries(custom: bool) -> list[dict[str, Any]]:
    agent = {"recommended": True, "llm_hass_api": ["assist"], "prompt": "Be brief."}
    tts: dict[str, Any] = {"chat_model": "gpt-4o-mini-tts", "prompt": ""}
    if custom:
        tts |= {"voice": "marin", "tts_speed": 1.0, "audio_format": "mp3"}
    return [
        subentry("conversation", "OpenAI Conversation", agent),
        subentry("stt", "OpenAI STT", {}),
        subentry("tts", "OpenAI TTS", tts),
    ]


@contextlib.asynccontextmanager
async def voice_home(custom: bool) -> AsyncGenerator[VoiceHome]:
    """A Home Assistant with a kitchen light and one Assist pipeline of OpenAI's three parts."""
    async with home_assistant(custom, _subentries(custom), domains=("assist_pipeline",)) as (
        hass,
        entry,
    ):
        yield await VoiceHome.create(hass, entry)


@dataclass
class VoiceHome:
    """One Home Assistant and the id of its OpenAI pipeline."""

    hass: HomeAssistant
    pipeline_id: str
    stages: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    async def create(cls, hass: HomeAssistant, entry: MockConfigEntry) -> VoiceHome:
        """Add the pipeline made of the entry's STT, agent and TTS."""
        from homeassistant.components.assist_pipeline.pipeline import (  # noqa: PLC0415
            KEY_ASSIST_PIPELINE,
        )

        entities = {
            e.domain: e.entity_id
            for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        }
        pipeline = await hass.data[KEY_ASSIST_PIPELINE].pipeline_store.async_create_item(
            {
                "conversation_engine": entities["conversation"],
                "conversation_language": "en",
                "language": "en",
                "name": "OpenAI",
                "stt_engine": entities["stt"],
                "stt_language": "en-US",  # the built-in takes locales only
                "tts_engine": entities["tts"],
                "tts_language": "en-US",
                "tts_voice": None,
                "wake_word_entity": None,
                "wake_word_id": None,
                "prefer_local_intents": False,
            }
        )
        return cls(hass, pipeline.id)

    async def first_audio(self) -> float:
        """Run one voice turn; return seconds from the end of speech to the first audio."""
        from homeassistant.components import assist_pipeline, stt  # noqa: PLC0415
        from homeassistant.components.tts.const import DATA_TTS_MANAGER  # noqa: PLC0415

        # The same words every turn would be spoken from Home Assistant's TTS cache (for a
        # TTS that is not streamed); a real reply is new, so each turn starts uncached.
        manager = self.hass.data[DATA_TTS_MANAGER]
        manager.use_file_cache = False
        manager.mem_cache.clear()
        turn = VoiceTurn(self.hass)
        run = self.hass.async_create_task(
            assist_pipeline.async_pipeline_from_audio_stream(
                self.hass,
                context=Context(),
                event_callback=turn.on_event,
                stt_metadata=stt.SpeechMetadata(
                    language="en-US",
                    format=stt.AudioFormats.WAV,
                    codec=stt.AudioCodecs.PCM,
                    bit_rate=stt.AudioBitRates.BITRATE_16,
                    sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
                    channel=stt.AudioChannels.CHANNEL_MONO,
                ),
                stt_stream=turn.speech(),
                pipeline_id=self.pipeline_id,
            )
        )
        await asyncio.wait_for(asyncio.shield(turn.heard), 30)
        await run
        await turn.played()
        self.stages.append(turn.stages())
        return turn.stages()["total"]


# The moments of a voice turn, in order; each stage ends at one.
MARKS = ("transcript", "tool call", "tool result", "speech requested", "first audio")


class VoiceTurn:
    """One voice turn as a satellite sees it: the pipeline's events, then the TTS stream."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with no marks; the end of speech is the origin."""
        self.hass = hass
        self.marks: dict[str, float] = {}
        self.heard: asyncio.Future[None] = hass.loop.create_future()
        self._token: str | None = None
        self._player: asyncio.Task[None] | None = None

    def _mark(self, name: str) -> None:
        self.marks.setdefault(name, time.perf_counter())

    def on_event(self, event: Any) -> None:
        """Follow the pipeline; start playing when a satellite would."""
        data, kind = event.data or {}, str(event.type)
        delta = data.get("chat_log_delta") or {}
        if kind == "run-start" and "tts_output" in data:
            self._token = data["tts_output"]["token"]
        elif kind == "stt-end":
            self._mark("transcript")
        elif delta.get("tool_calls"):
            self._mark("tool call")
        elif delta.get("role") == "tool_result":
            self._mark("tool result")
        elif (data.get("tts_start_streaming") or kind == "tts-end") and self._player is None:
            self._mark("speech requested")
            self._player = self.hass.async_create_task(self._play())
        elif kind == "error" and not self.heard.done():
            self.heard.set_exception(RuntimeError(f"the pipeline failed: {data}"))

    async def _play(self) -> None:
        from homeassistant.components import tts  # noqa: PLC0415

        stream = tts.async_get_stream(self.hass, str(self._token))
        assert stream is not None
        async for chunk in stream.async_stream_result():
            if chunk and not self.heard.done():
                self._mark("first audio")
                self.heard.set_result(None)

    async def played(self) -> None:
        """Wait until the player has read the whole reply."""
        if self._player is not None:
            await self._player

    async def speech(self) -> AsyncGenerator[bytes]:
        """Yield a second of audio in real time, as a satellite captures it."""
        samples = int(RATE * CHUNK)
        audio = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / RATE)))
            for i in range(samples)
        )
        for _ in range(int(SPEECH / CHUNK)):
            yield audio
            await asyncio.sleep(CHUNK)
        self.marks["end of speech"] = time.perf_counter()

    def stages(self) -> dict[str, float]:
        """Return each stage's seconds (from the mark before it), and the total."""
        stages, previous = {}, self.marks["end of speech"]
        for mark in MARKS:
            if mark in self.marks:
                stages[mark] = self.marks[mark] - previous
                previous = self.marks[mark]
        stages["total"] = self.marks["first audio"] - self.marks["end of speech"]
        return stages


async def voice_turns(
    times: ServiceTimes, block: int, budget: float, rounds: int
) -> dict[str, Any]:
    """Ours and the built-in, voice turn against voice turn, in interleaved blocks."""
    async with voice_home(True) as ours, voice_home(False) as builtin:
        run = await interleave(
            {"ours": ours.first_audio, "builtin": builtin.first_audio},
            [("ours", "builtin")],
            block=block,
            budget=budget,
            min_rounds=rounds,
        )
    return {
        "service_times": asdict(times),
        "physical_limit_ms": times.physical_limit() * 1000,
        "block": block,
        "rounds": len(run.walls["ours"]),
        "seconds": run.seconds,
        "converged": run.converged,
        "first_audio_ms": {name: run.median_ms("wall", name) for name in ("ours", "builtin")},
        "ratio": asdict(run.ratio("wall", "ours", "builtin")),
        "stages_ms": {"ours": median_stages(ours.stages), "builtin": median_stages(builtin.stages)},
    }


def median_stages(turns: list[dict[str, float]]) -> dict[str, float]:
    """Return each stage's median over the turns, in ms."""
    return {
        stage: statistics.median(t[stage] for t in turns if stage in t) * 1000
        for stage in (*MARKS, "total")
        if any(stage in t for t in turns)
    }
