"""scripts/bench: what this integration adds per turn, beside the raw SDK and the built-in one.

All three run against the emulator (a separate process) in one run.

Workload of one turn: "turn on the kitchen light" -> the model calls HassTurnOn -> the tool runs
-> the model answers. The raw SDK replays the exact request bodies our integration sent.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
import json
import logging
import os
from pathlib import Path
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

import aiohttp
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

import custom_components  # noqa: E402, F401 - ours, not the test package's folder of that name
from homeassistant import loader  # noqa: E402
from homeassistant.components import conversation  # noqa: E402
from homeassistant.components.homeassistant.exposed_entities import (  # noqa: E402
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant  # noqa: E402
from homeassistant.helpers import chat_session  # noqa: E402
from homeassistant.helpers.entity_component import DATA_INSTANCES  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from tools.hass import emulator_process  # noqa: E402

KEY = "sk-bench"
AGENT = "conversation.openai_conversation"
TURN = "turn on the kitchen light"
SPEECH_LATENCY = 0.1  # emulated time for a speech model to start speaking
SPEECH_CHUNK_DELAY = 0.002  # per kB of audio: about real time for 24 kHz PCM-sized MP3 data
TTS_TEXT = (
    "The kitchen light is on now. The living room lamp is still off, and the hallway is dark. "
    "It is twenty-one degrees inside and it will rain this afternoon, so take an umbrella. "
    "Your next appointment is at four o'clock with the dentist, and the dishwasher has "
    "finished. The garage door is closed and the front door is locked. Tomorrow morning the "
    "alarm is set for seven, and the heating will start half an hour before that. I also "
    "noticed that the washing machine needs descaling. Have a pleasant evening at home. "
    "One more thing: the plants on the balcony have not been watered for three days, "
    "so they could use some water."
)
OPTIONS = {"recommended": True, "llm_hass_api": ["assist"], "prompt": "Be brief."}
TTS_OPTIONS = {
    "chat_model": "gpt-4o-mini-tts",
    "prompt": "",
    "voice": "marin",
    "tts_speed": 1.0,
    "audio_format": "mp3",
}


@dataclass
class Sample:
    """Wall times of each turn and the CPU time of them all."""

    walls: list[float]
    cpu: float

    def row(self) -> dict[str, float]:
        """Return median and p95 wall time and CPU per turn, in ms."""
        walls = sorted(self.walls)
        return {
            "median_ms": statistics.median(walls) * 1000,
            "p95_ms": walls[max(0, int(len(walls) * 0.95) - 1)] * 1000,
            "cpu_ms_per_turn": self.cpu / len(walls) * 1000,
        }


async def measure(turn: Callable[[int], Awaitable[Any]], count: int, warmup: int = 3) -> Sample:
    """Run a turn `count` times after a warm-up; time each."""
    for i in range(warmup):
        await turn(-1 - i)
    walls: list[float] = []
    cpu_start = time.process_time()
    for i in range(count):
        start = time.perf_counter()
        await turn(i)
        walls.append(time.perf_counter() - start)
    return Sample(walls, time.process_time() - cpu_start)


@contextlib.asynccontextmanager
async def home_assistant(
    custom: bool, base_url: str, entities: int
) -> AsyncGenerator[HomeAssistant]:
    """An in-process HA with our integration (custom) or the built-in one, and a light."""
    # HA may still write its storage as it stops; the folder outlives it.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            if custom:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            os.environ["OPENAI_BASE_URL"] = base_url
            for domain in ("homeassistant", "intent"):
                assert await async_setup_component(hass, domain, {})
            assert await async_setup_component(
                hass,
                "input_boolean",
                {"input_boolean": {"kitchen_light": {"name": "Kitchen light"}}},
            )
            async_expose_entity(hass, "conversation", "input_boolean.kitchen_light", True)
            for i in range(entities - 1):  # lights are exposed to Assist by default
                hass.states.async_set(
                    f"light.bench_{i}", "off", {"friendly_name": f"Bench light {i}"}
                )
            entry = MockConfigEntry(
                domain="openai_conversation",
                data={"api_key": KEY},
                version=2,
                minor_version=9 if custom else 4,
                subentries_data=[
                    {
                        "data": OPTIONS,
                        "subentry_type": "conversation",
                        "title": "OpenAI Conversation",
                        "unique_id": None,
                    },
                    *(
                        [
                            {
                                "data": TTS_OPTIONS,
                                "subentry_type": "tts",
                                "title": "OpenAI TTS",
                                "unique_id": None,
                            }
                        ]
                        if custom
                        else []
                    ),
                ],
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            yield hass


def converse(
    hass: HomeAssistant, text: str = TURN, conversation_id: str | None = None
) -> Awaitable[Any]:
    """Start one turn through HA's conversation API, in its own task as HA does."""
    return hass.async_create_task(
        conversation.async_converse(hass, text, conversation_id, Context(), agent_id=AGENT)
    )


def entity_of(hass: HomeAssistant, entity_id: str) -> Any:
    """Return a live entity object."""
    return hass.data[DATA_INSTANCES][entity_id.split(".", maxsplit=1)[0]].get_entity(entity_id)


async def first_delta_latency(hass: HomeAssistant, count: int) -> list[float]:
    """Seconds from the emulator sending the first text delta to it entering the ChatLog."""
    entity = entity_of(hass, AGENT)
    latencies: list[float] = []
    for _ in range(count):
        seen: list[float] = []

        def listener(_log: Any, delta: dict[str, Any], seen: list[float] = seen) -> None:
            if not seen and delta.get("content"):
                seen.append(time.time() - float(delta["content"]))

        with (
            chat_session.async_get_chat_session(hass) as session,
            conversation.async_get_chat_log(
                hass, session, None, chat_log_delta_listener=listener
            ) as log,
        ):
            log.async_add_user_content(conversation.UserContent("timestamp please"))
            await entity._async_handle_chat_log(log)  # noqa: SLF001 - the conversation entity's own path
        latencies.append(seen[0])
    return latencies


async def recorded(session: aiohttp.ClientSession, base: str, last: int) -> list[dict[str, Any]]:
    """Return the bodies of the last requests the emulator received."""
    async with session.get(f"{base}/emulator/requests", params={"last": str(last)}) as response:
        return list(await response.json())


def raw_turn(
    client: openai.AsyncOpenAI, bodies: list[dict[str, Any]]
) -> Callable[[int], Awaitable[None]]:
    """The raw SDK doing the same HTTP exchanges (same bodies) as one of our turns."""

    async def turn(_i: int) -> None:
        for body in bodies:
            async for _event in await client.responses.create(**body):
                pass

    return turn


async def raw_first_delta(
    client: openai.AsyncOpenAI, body: dict[str, Any], count: int
) -> list[float]:
    """Seconds from the emulator sending the first delta to the SDK yielding it."""
    latencies = []
    for _ in range(count):
        first = True
        async for event in await client.responses.create(**body):
            if first and event.type == "response.output_text.delta":
                latencies.append(time.time() - float(event.delta))
                first = False
    return latencies


async def tts_first_audio(hass: HomeAssistant) -> dict[str, float]:
    """Seconds to the first audio byte of a 600-character reply: streaming and not."""
    from homeassistant.components.tts.entity import TTSAudioRequest  # noqa: PLC0415

    entity = entity_of(hass, "tts.openai_tts")
    options = dict(entity.default_options)
    start = time.perf_counter()
    await entity.async_get_tts_audio(TTS_TEXT, "en", options)
    whole = time.perf_counter() - start

    async def reply() -> AsyncGenerator[str]:  # as the agent streams it, a few words at a time
        words = TTS_TEXT.split(" ")
        for i in range(0, len(words), 4):
            yield " ".join(words[i : i + 4]) + " "

    start = time.perf_counter()
    response = await entity.async_stream_tts_audio(TTSAudioRequest("en", options, reply()))
    await anext(response.data_gen)
    first = time.perf_counter() - start
    async for _chunk in response.data_gen:
        pass
    return {"non_streaming_s": whole, "streaming_s": first}


async def with_history(hass: HomeAssistant, turns: int) -> str:
    """Return a conversation that already has `turns` tool-calling turns."""
    conversation_id = None
    for _ in range(turns):
        conversation_id = (await converse(hass, conversation_id=conversation_id)).conversation_id
    return str(conversation_id)


async def run(
    turns: int, entity_counts: list[int], history_counts: list[int], scale_turns: int
) -> dict[str, Any]:
    """Start the emulator, measure all three ways, and stop it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    emulator = emulator_process(
        port,
        KEY,
        None,
        "--speech-latency",
        str(SPEECH_LATENCY),
        "--speech-chunk-delay",
        str(SPEECH_CHUNK_DELAY),
    )
    await emulator.start()
    results: dict[str, Any] = {"turns": turns}
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    await recorded(session, base, 1)
                    break
                await asyncio.sleep(0.1)
            # A client of the library HA's shared one uses (httpx up to HA 2026.10, httpx2
            # from 2026.11); openai 3.x types it as httpx2's and accepts both at run time.
            http_client: Any = import_module(
                "httpx2" if find_spec("httpx") is None else "httpx"
            ).AsyncClient()
            raw = openai.AsyncOpenAI(api_key=KEY, base_url=f"{base}/v1", http_client=http_client)
            results |= await run_ours(
                session, base, raw, turns, entity_counts, history_counts, scale_turns
            )
            results["builtin_entities"] = {}
            for count in entity_counts:
                async with home_assistant(False, f"{base}/v1", count) as hass:
                    sample = await measure(
                        lambda _i: converse(hass), turns if count == 10 else scale_turns
                    )
                    results["builtin_entities"][count] = sample.row()
                    if count == 10:
                        results["builtin"] = sample.row()
                        results["builtin_first_delta_ms"] = (
                            statistics.median(await first_delta_latency(hass, 20)) * 1000
                        )
    finally:
        await emulator.stop()
    return results


async def run_ours(
    session: aiohttp.ClientSession,
    base: str,
    raw: openai.AsyncOpenAI,
    turns: int,
    entity_counts: list[int],
    history_counts: list[int],
    scale_turns: int,
) -> dict[str, Any]:
    """Measure ours (and the raw SDK replaying its requests) at each scale."""
    results: dict[str, Any] = {"scaling_entities": {}, "scaling_history": {}}
    for count in entity_counts:
        async with home_assistant(True, f"{base}/v1", count) as hass:
            ours = await measure(lambda _i: converse(hass), turns if count == 10 else scale_turns)
            bodies = await recorded(session, base, 2)
            baseline = await measure(raw_turn(raw, bodies), turns if count == 10 else scale_turns)
            results["scaling_entities"][count] = {"ours": ours.row(), "raw": baseline.row()}
            if count != 10:
                continue
            results["ours"], results["raw"] = ours.row(), baseline.row()
            results["ours_first_delta_ms"] = (
                statistics.median(await first_delta_latency(hass, 20)) * 1000
            )
            body = (await recorded(session, base, 1))[0]
            results["raw_first_delta_ms"] = (
                statistics.median(await raw_first_delta(raw, body, 20)) * 1000
            )
            results["tts"] = await tts_first_audio(hass)
            for history in history_counts:
                ids = [await with_history(hass, history) for _ in range(scale_turns)]

                def turn(i: int, ids: list[str] = ids) -> Awaitable[Any]:
                    return converse(hass, conversation_id=ids[i])

                ours = await measure(turn, scale_turns, warmup=0)
                bodies = await recorded(session, base, 2)
                baseline = await measure(raw_turn(raw, bodies), scale_turns)
                results["scaling_history"][history] = {"ours": ours.row(), "raw": baseline.row()}
    return results


def table(r: dict[str, Any]) -> str:
    """Format the results: ours and built-in as ratios to the raw SDK, measured in this run."""
    raw, ours, builtin = r["raw"], r["ours"], r["builtin"]
    lines = [
        f"Per turn (tool call + answer), {r['turns']} turns, emulator latency 0, 10 exposed entities",
        "| figure | raw SDK | ours | built-in | ours / raw | built-in / raw | ours / built-in |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in (
        ("median_ms", "wall median (ms)"),
        ("p95_ms", "wall p95 (ms)"),
        ("cpu_ms_per_turn", "CPU per turn (ms)"),
    ):
        lines.append(
            f"| {label} | {raw[key]:.2f} | {ours[key]:.2f} | {builtin[key]:.2f} | "
            f"{ours[key] / raw[key]:.2f}x | {builtin[key] / raw[key]:.2f}x | {ours[key] / builtin[key]:.2f}x |"
        )
    lines.append(
        f"| first text delta into ChatLog (ms, median) | {r['raw_first_delta_ms']:.2f} | "
        f"{r['ours_first_delta_ms']:.2f} | {r['builtin_first_delta_ms']:.2f} | | | |"
    )
    tts = r["tts"]
    lines += [
        "",
        f"TTS, first audio byte of a {len(TTS_TEXT)}-character reply (emulated speech model: "
        f"{SPEECH_LATENCY * 1000:.0f} ms to start, {SPEECH_CHUNK_DELAY * 1000:.0f} ms per kB):",
        "| path | seconds | ratio |",
        "|---|---|---|",
        f"| ours, non-streaming | {tts['non_streaming_s']:.3f} | 1.00 |",
        f"| ours, streaming | {tts['streaming_s']:.3f} | {tts['streaming_s'] / tts['non_streaming_s']:.2f} |",
        "| built-in (HA 2026.2.3) | - | has no TTS platform |",
        "",
        "Scaling: per-turn overhead = ours - raw SDK (median wall ms) and CPU per turn (ms);",
        "built-in: its median wall ms at the same size (HA builds the same Assist prompt for it)",
        "| exposed entities | overhead ms | ours ms | built-in ms | ours CPU ms | raw CPU ms |",
        "|---|---|---|---|---|---|",
    ]
    for count, row in r["scaling_entities"].items():
        builtin_ms = r["builtin_entities"][count]["median_ms"]
        lines.append(
            f"| {count} | {row['ours']['median_ms'] - row['raw']['median_ms']:.2f} | "
            f"{row['ours']['median_ms']:.2f} | {builtin_ms:.2f} | "
            f"{row['ours']['cpu_ms_per_turn']:.2f} | {row['raw']['cpu_ms_per_turn']:.2f} |"
        )
    lines += ["| history turns | overhead ms | ours CPU ms | raw CPU ms |", "|---|---|---|---|"]
    for count, row in r["scaling_history"].items():
        lines.append(
            f"| {count} | {row['ours']['median_ms'] - row['raw']['median_ms']:.2f} | "
            f"{row['ours']['cpu_ms_per_turn']:.2f} | {row['raw']['cpu_ms_per_turn']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run, print the table and write the JSON."""
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--scale-turns", type=int, default=20)
    parser.add_argument("--entities", default="10,100,500")
    parser.add_argument("--history", default="1,10,50")
    parser.add_argument("--json", default=str(ROOT / "artifacts" / "bench.json"))
    args = parser.parse_args()
    results = asyncio.run(
        run(
            args.turns,
            [int(n) for n in args.entities.split(",")],
            [int(n) for n in args.history.split(",")],
            args.scale_turns,
        )
    )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(table(results))  # noqa: T201


if __name__ == "__main__":
    main()
