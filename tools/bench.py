"""scripts/bench: what this integration adds per turn, beside the raw SDK and the built-in one.

All three run against the emulator (a separate process) in one run.

Workload of one turn: "turn on the kitchen light" -> the model calls HassTurnOn -> the tool runs
-> the model answers. The raw SDK replays the exact request bodies our integration sent.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncGenerator, Awaitable
import contextlib
from dataclasses import asdict, dataclass
from importlib import import_module
from importlib.util import find_spec
import json
import logging
import os
from pathlib import Path
import statistics
import sys
import time
from typing import Any

import aiohttp
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import custom_components  # noqa: E402, F401 - ours, not the test package's folder of that name
from emulator.prompt_cache import PromptCache  # noqa: E402
from homeassistant.components import conversation  # noqa: E402
from homeassistant.core import Context, HomeAssistant  # noqa: E402
from homeassistant.helpers import chat_session  # noqa: E402
from homeassistant.helpers.entity_component import DATA_INSTANCES  # noqa: E402
from tools import bench_home  # noqa: E402
from tools.bench_home import KEY, subentry  # noqa: E402
from tools.bench_report import table  # noqa: E402
from tools.bench_stats import Turn, interleave  # noqa: E402
from tools.bench_voice import (  # noqa: E402
    ServiceTimes,
    has_builtin_voice,
    local_voice_turns,
    voice_turns,
)
from tools.bench_workload import (  # noqa: E402
    AGENT,
    CACHE_AGENTS,
    CACHE_ENTITIES,
    CACHE_TURNS,
    OPTIONS,
    SPEECH_CHUNK_DELAY,
    SPEECH_LATENCY,
    TTS_OPTIONS,
    TTS_TEXT,
    TURN,
)
from tools.hass import emulator_process, wait_until_up  # noqa: E402
from tools.llama import free_port  # noqa: E402


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


async def measure(turn: Turn, count: int, warmup: int = 3) -> Sample:
    """Run a turn `count` times after a warm-up; time each."""
    for _ in range(warmup):
        await turn()
    walls: list[float] = []
    cpu_start = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        await turn()
        walls.append(time.perf_counter() - start)
    return Sample(walls, time.process_time() - cpu_start)


@contextlib.asynccontextmanager
async def home_assistant(
    custom: bool, base_url: str, entities: int, options: dict[str, Any] = OPTIONS
) -> AsyncGenerator[HomeAssistant]:
    """An in-process HA with our integration (custom) or the built-in one, and a light."""
    os.environ["OPENAI_BASE_URL"] = base_url
    subentries = [subentry("conversation", "OpenAI Conversation", options)]
    if custom:
        subentries.append(subentry("tts", "OpenAI TTS", TTS_OPTIONS))
    async with bench_home.home_assistant(custom, subentries, entities=entities) as (hass, _):
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


def raw_turn(client: openai.AsyncOpenAI, bodies: list[dict[str, Any]]) -> Turn:
    """The raw SDK doing the same HTTP exchanges (same bodies) as one of our turns."""

    async def turn() -> None:
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


@contextlib.asynccontextmanager
async def running_emulator(*options: str) -> AsyncGenerator[str]:
    """Run the emulator as a process with these options; yield its base URL once it answers."""
    port = free_port()
    emulator = emulator_process(port, KEY, None, *options)
    await emulator.start()
    try:
        async with aiohttp.ClientSession() as session:
            await wait_until_up(session, f"http://127.0.0.1:{port}/emulator/requests", 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        await emulator.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the emulator, measure, and stop it."""
    if args.voice_only:
        return {"voice": await voice(args)} if has_builtin_voice() else {}
    speech = ("--speech-latency", str(SPEECH_LATENCY))
    pace = ("--speech-chunk-delay", str(SPEECH_CHUNK_DELAY))
    async with running_emulator(*speech, *pace) as base, aiohttp.ClientSession() as session:
        # A client of the library HA's shared one uses (httpx up to HA 2026.10, httpx2
        # from 2026.11); openai 3.x types it as httpx2's and accepts both at run time.
        http_client: Any = import_module(
            "httpx2" if find_spec("httpx") is None else "httpx"
        ).AsyncClient()
        raw = openai.AsyncOpenAI(api_key=KEY, base_url=f"{base}/v1", http_client=http_client)
        bench = Bench(session, base, raw)
        results = await bench.per_turn(args)
        results["cache"] = {
            f"{agent}/{name}": await bench.cache_shares(custom, agent)
            for agent in CACHE_AGENTS
            for name, custom in (("ours", True), ("builtin", False))
        }
        results |= await bench.scaling(args)
    if has_builtin_voice():
        results["voice"] = await voice(args)
        if args.local_turns:
            try:
                results["voice_local"] = await local_voice(args.local_turns)
            except Exception as err:  # noqa: BLE001 - a real server's failure is a finding
                results["voice_local"] = {"skipped": f"failed: {err!r}"}
    return results


@contextlib.asynccontextmanager
async def service_emulator(times: ServiceTimes) -> AsyncGenerator[None]:
    """Run the emulator with these service times; OPENAI_BASE_URL points at it."""
    async with running_emulator(*times.emulator_args()) as base:
        os.environ["OPENAI_BASE_URL"] = f"{base}/v1"
        yield


async def voice(args: argparse.Namespace) -> dict[str, Any]:
    """The whole voice turn, ours against the built-in, with OpenAI-like service times."""
    times = ServiceTimes()
    async with service_emulator(times):
        return await voice_turns(times, args.voice_block, args.budget, args.rounds)


async def local_voice(turns: int) -> dict[str, Any]:
    """The voice turn with the agent on llama.cpp, STT and TTS on the emulator."""
    async with service_emulator(ServiceTimes()):
        return await local_voice_turns(turns)


PAIRS = (("ours", "raw"), ("builtin", "raw"), ("ours", "builtin"))


@dataclass
class Bench:
    """The emulator's address, a session to read what it received, and a raw SDK client."""

    session: aiohttp.ClientSession
    base: str
    raw: openai.AsyncOpenAI

    async def per_turn(self, args: argparse.Namespace) -> dict[str, Any]:
        """Ours, the built-in and the raw SDK in interleaved blocks, and first deltas."""
        url = f"{self.base}/v1"
        async with (
            home_assistant(True, url, 10) as ours,
            home_assistant(False, url, 10) as builtin,
        ):
            await converse(ours)  # its two requests are what the raw SDK replays
            contenders: dict[str, Turn] = {
                "raw": await self.replay(),
                "ours": lambda: converse(ours),
                "builtin": lambda: converse(builtin),
            }
            run = await interleave(
                contenders, PAIRS, block=args.block, budget=args.budget, min_rounds=args.rounds
            )
            first_delta = {
                "ours": await first_delta_latency(ours, 20),
                "builtin": await first_delta_latency(builtin, 20),
                "raw": await raw_first_delta(
                    self.raw, (await recorded(self.session, self.base, 1))[0], 20
                ),
            }
            tts = await tts_first_audio(ours)
        return {
            "interleaved": {
                "block": args.block,
                "rounds": len(run.walls["raw"]),
                "seconds": run.seconds,
                "converged": run.converged,
                "median_ms": {
                    name: {"wall": run.median_ms("wall", name), "cpu": run.median_ms("cpu", name)}
                    for name in contenders
                },
                "ratios": {
                    f"{a}/{b}": {
                        figure: asdict(run.ratio(figure, a, b)) for figure in ("wall", "cpu")
                    }
                    for a, b in PAIRS
                },
            },
            "first_delta_ms": {k: statistics.median(v) * 1000 for k, v in first_delta.items()},
            "tts": tts,
        }

    async def cache_shares(self, custom: bool, agent: str) -> list[float]:
        """Return the cached share of input tokens of each turn of a conversation.

        Entity states change every turn, and turns are a second apart (the clock in the
        instructions of an agent without tools moves); counted as OpenAI's cache bills it.
        """
        options, requests_per_turn = CACHE_AGENTS[agent]
        conversation_id = None
        turns: list[list[dict[str, Any]]] = []
        url = f"{self.base}/v1"
        async with home_assistant(custom, url, CACHE_ENTITIES, options) as hass:
            for turn in range(CACHE_TURNS):
                for i in range(CACHE_ENTITIES - 1):
                    hass.states.async_set(
                        f"light.bench_{i}",
                        "on" if (i + turn) % 3 == 0 else "off",
                        {"friendly_name": f"Bench light {i}", "brightness": (turn * 37 + i) % 256},
                    )
                result = await converse(hass, conversation_id=conversation_id)
                conversation_id = result.conversation_id
                turns.append(await recorded(self.session, self.base, requests_per_turn))
                await asyncio.sleep(1.0)
        cache = PromptCache()
        shares = []
        for bodies in turns:
            counts = [cache.usage(body, 0) for body in bodies]
            shares.append(sum(c[2] for c in counts) / sum(c[0] for c in counts))
        return shares

    async def scaling(self, args: argparse.Namespace) -> dict[str, Any]:
        """Per-turn cost by exposed entities and by history length (single passes)."""
        results: dict[str, Any] = {"scaling_entities": {}, "scaling_history": {}}
        url = f"{self.base}/v1"
        for count in args.entities:
            async with home_assistant(True, url, count) as hass:
                ours = await measure(lambda: converse(hass), args.scale_turns)
                raw = await measure(await self.replay(), args.scale_turns)
            async with home_assistant(False, url, count) as hass:
                builtin = await measure(lambda: converse(hass), args.scale_turns)
            results["scaling_entities"][count] = {
                "ours": ours.row(),
                "raw": raw.row(),
                "builtin": builtin.row(),
            }
        async with home_assistant(True, url, 10) as hass:
            for history in args.history:
                ids = [await with_history(hass, history) for _ in range(args.scale_turns)]
                ours = await measure(continued(hass, ids), args.scale_turns, warmup=0)
                raw = await measure(await self.replay(), args.scale_turns)
                results["scaling_history"][history] = {"ours": ours.row(), "raw": raw.row()}
        return results

    async def replay(self) -> Turn:
        """Return the raw SDK replaying the last turn's two requests."""
        return raw_turn(self.raw, await recorded(self.session, self.base, 2))


def continued(hass: HomeAssistant, conversation_ids: list[str]) -> Turn:
    """Return a turn that continues the next of the given conversations each time."""
    ids = iter(conversation_ids)
    return lambda: converse(hass, conversation_id=next(ids))


def _counts(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    """Parse arguments, run, print the table and write the JSON."""
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--block", type=int, default=10, help="turns per interleaved block")
    parser.add_argument("--rounds", type=int, default=6, help="fewest interleaved rounds")
    parser.add_argument("--budget", type=float, default=300, help="seconds for more rounds")
    parser.add_argument("--voice-block", type=int, default=3, help="voice turns per block")
    parser.add_argument(
        "--voice-only", action="store_true", help="only the whole voice turn (HA 2026.10 on)"
    )
    parser.add_argument(
        "--local-turns", type=int, default=3, help="voice turns with llama.cpp's agent (0: none)"
    )
    parser.add_argument("--scale-turns", type=int, default=20)
    parser.add_argument("--entities", type=_counts, default=[10, 100, 500])
    parser.add_argument("--history", type=_counts, default=[1, 10, 50])
    parser.add_argument("--json", default=str(ROOT / "artifacts" / "bench.json"))
    args = parser.parse_args()
    results = asyncio.run(run(args))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(table(results))  # noqa: T201


if __name__ == "__main__":
    main()
