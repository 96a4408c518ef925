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
from pathlib import Path
import statistics
import struct
import tempfile
import time
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator.replies import Text
from homeassistant import config_entries
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from tools.bench_home import flow_handler, home_assistant, subentry
from tools.bench_stats import interleave, median_interval
from tools.llama import ALIAS, free_port, serve, server_command

SPEECH = 1.0  # seconds of speech, streamed in real time as a satellite captures it
CHUNK = 0.1
RATE = 16000
WAV_HEADER = 44
TOOL_ARGUMENTS = {"name": "Kitchen light"}
# An agent on a 135M-parameter model on two cores: short replies, time to read the prompt.
LOCAL_AGENT = {
    "recommended": False,
    "chat_model": ALIAS,
    "max_tokens": 48,
    "timeout": 120,
    "llm_hass_api": ["assist"],
}
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
    # From the commit of a Realtime session, which has had the audio all along, to the
    # transcript: an assumption, stated in the table (no measurement of OpenAI's here).
    live_transcription: float = 0.15
    first_token: float = 0.4
    tokens_per_second: float = 40.0
    speech_first_byte: float = 0.15
    speech_per_kb: float = 0.002
    # From a Realtime session's connect to its accepted upgrade (TLS, the upgrade, the
    # server's setup), for voice and transcription sessions alike: an assumption, stated in
    # the table. Not part of the physical limit: a client can open the session earlier.
    realtime_handshake: float = 0.25

    def emulator_args(self) -> list[str]:
        """Return the emulator's command-line options for these times."""
        return [
            "--transcription-latency",
            str(self.transcription),
            "--live-transcription-latency",
            str(self.live_transcription),
            "--first-token",
            str(self.first_token),
            "--tokens-per-second",
            str(self.tokens_per_second),
            "--speech-latency",
            str(self.speech_first_byte),
            "--speech-chunk-delay",
            str(self.speech_per_kb),
            "--realtime-handshake",
            str(self.realtime_handshake),
            "--after-tool",
            REPLY,
        ]

    def physical_limit(self) -> float:
        """Return the seconds no implementation can save after the end of speech.

        The transcript (the faster way), the model's tool call (first token, then its arguments), the second
        round trip up to the first sentence (the server streams text in chunks: the chunk
        holding the space after the first full stop), and the speech server's first byte.
        A Realtime session's handshake is not in it: a client can open the session before
        the reply needs it.
        """
        chunk = Text("").chunk_size
        sentence = REPLY.index(". ") + 2
        sentence_chars = math.ceil(sentence / chunk) * chunk
        arguments = len(json.dumps(TOOL_ARGUMENTS))
        tokens = (arguments + sentence_chars) / 4
        return (
            min(self.transcription, self.live_transcription)
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


# A player that takes WAV at any rate, as the Realtime API's PCM comes. Home Assistant
# converts every other request with ffmpeg, whose output pipe holds a short reply's audio
# until its end (HA's default, MP3, included); a speech endpoint makes MP3 itself.
WAV_PLAYER: dict[str, Any] = {"preferred_format": "wav"}
# The speech endpoint's model (the built-in's only kind) and the Realtime voice model.
SPEECH_ENDPOINT = "gpt-4o-mini-tts"
REALTIME_TTS = "gpt-realtime-2.1-mini"


def _subentries(custom: bool, live: bool, tts_model: str = SPEECH_ENDPOINT) -> list[dict[str, Any]]:
    agent = {"recommended": True, "llm_hass_api": ["assist"], "prompt": "Be brief."}
    tts: dict[str, Any] = {"chat_model": tts_model, "prompt": ""}
    if custom:
        tts |= {"voice": "marin", "tts_speed": 1.0}
        if tts_model == SPEECH_ENDPOINT:
            tts["audio_format"] = "mp3"
    return [
        subentry("conversation", "OpenAI Conversation", agent),
        subentry("stt", "OpenAI STT", {"live_transcription": live} if custom else {}),
        subentry("tts", "OpenAI TTS", tts),
    ]


@contextlib.asynccontextmanager
async def voice_home(
    custom: bool,
    live: bool = True,
    tts_model: str = SPEECH_ENDPOINT,
    player: dict[str, Any] | None = None,
) -> AsyncGenerator[VoiceHome]:
    """A Home Assistant with a kitchen light and one Assist pipeline of OpenAI's three parts.

    The player asks for no format (Home Assistant's default, MP3) or for this one.
    """
    subentries = _subentries(custom, live, tts_model)
    async with home_assistant(custom, subentries, domains=("assist_pipeline",)) as (hass, entry):
        home = await VoiceHome.create(hass, entry)
        home.player = player
        yield home


@dataclass
class VoiceHome:
    """One Home Assistant and the id of its OpenAI pipeline."""

    hass: HomeAssistant
    pipeline_id: str
    stages: list[dict[str, float]] = field(default_factory=list)
    player: dict[str, Any] | None = None  # what the player asks for; None: HA's default

    @classmethod
    async def create(
        cls, hass: HomeAssistant, entry: MockConfigEntry, agent: str | None = None
    ) -> VoiceHome:
        """Add the pipeline made of the entry's STT, agent (or this one) and TTS."""
        from homeassistant.components.assist_pipeline.pipeline import (  # noqa: PLC0415
            KEY_ASSIST_PIPELINE,
        )

        entities = _entities(hass, entry.entry_id)
        pipeline = await hass.data[KEY_ASSIST_PIPELINE].pipeline_store.async_create_item(
            {
                "conversation_engine": agent or entities["conversation"],
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

    async def with_local_agent(self, entry: MockConfigEntry, base_url: str) -> VoiceHome:
        """Return this home with a pipeline whose agent runs on a local server.

        The server is added as a user adds it (compatible, Chat Completions, its model); the
        agent gets short replies, as a small model on two cores needs.
        """
        # Both integrations ran in this process, and the flow registry keeps the handler
        # imported last: make it ours again.
        config_entries.HANDLERS["openai_conversation"] = flow_handler(custom=True)
        flow = self.hass.config_entries.flow
        result = await flow.async_init("openai_conversation", context={"source": "user"})
        result = await flow.async_configure(result["flow_id"], {"next_step_id": "compatible"})
        result = await flow.async_configure(
            result["flow_id"], {"base_url": base_url, "api_mode": "chat_completions"}
        )
        result = await flow.async_configure(result["flow_id"], {"default_model": ALIAS})
        local = result["result"]
        agent = next(s for s in local.subentries.values() if s.subentry_type == "conversation")
        self.hass.config_entries.async_update_subentry(
            local, agent, data={**agent.data, **LOCAL_AGENT}
        )
        await self.hass.async_block_till_done()
        return await VoiceHome.create(
            self.hass, entry, _entities(self.hass, local.entry_id)["conversation"]
        )

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
                tts_audio_output=self.player,
            )
        )
        await asyncio.wait_for(asyncio.shield(turn.heard), 30)
        await run
        await turn.played()
        self.stages.append(turn.stages())
        return turn.stages()["total"]


def _entities(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Return an entry's entity ids by platform."""
    return {
        e.domain: e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry_id)
    }


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
        # A streamed WAV starts with its header, before any audio: the first audio is the
        # first byte after it.
        header, received = 0, 0
        async for chunk in stream.async_stream_result():
            if received == 0 and chunk.startswith(b"RIFF"):
                header = WAV_HEADER
            received += len(chunk)
            if received > header and not self.heard.done():
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
    async with (
        voice_home(True) as ours,
        voice_home(True, tts_model=REALTIME_TTS, player=WAV_PLAYER) as realtime,
        voice_home(True, live=False) as uploading,
        voice_home(False) as builtin,
    ):
        homes = {
            "ours": ours,
            "ours, Realtime TTS": realtime,
            "ours, upload": uploading,
            "builtin": builtin,
        }
        run = await interleave(
            {name: home.first_audio for name, home in homes.items()},
            [("ours", "builtin"), ("ours, Realtime TTS", "builtin")],
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
        "first_audio_ms": {name: run.median_ms("wall", name) for name in homes},
        "first_audio_interval_ms": {
            name: [t * 1000 for t in median_interval(run.walls[name])] for name in homes
        },
        "ratios": {
            f"{a}/builtin": asdict(run.ratio("wall", a, "builtin"))
            for a in ("ours", "ours, Realtime TTS", "ours, upload")
        },
        "stages_ms": {name: median_stages(home.stages) for name, home in homes.items()},
    }


async def local_voice_turns(turns: int) -> dict[str, Any]:
    """Ours with the agent on a real llama.cpp server (STT and TTS still emulated)."""
    port = free_port()
    if (command := server_command(port, 8192)) is None:
        return {"skipped": "llama-server and its model are not installed"}
    with tempfile.TemporaryDirectory() as folder, serve(command, port, Path(folder) / "log") as url:
        async with home_assistant(True, _subentries(True, True), domains=("assist_pipeline",)) as (
            hass,
            entry,
        ):
            home = await (await VoiceHome.create(hass, entry)).with_local_agent(entry, url)
            firsts = [await home.first_audio() for _ in range(turns)]
    return {
        "turns": turns,
        "first_audio_ms": statistics.median(firsts) * 1000,
        "stages_ms": median_stages(home.stages),
        "tool_calls": sum("tool call" in t for t in home.stages),
    }


def median_stages(turns: list[dict[str, float]]) -> dict[str, float]:
    """Return each stage's median over the turns, in ms."""
    return {
        stage: statistics.median(t[stage] for t in turns if stage in t) * 1000
        for stage in (*MARKS, "total")
        if any(stage in t for t in turns)
    }
