"""The benchmark's report: its figures as Markdown tables (what scripts/bench prints)."""

from __future__ import annotations

import os
import statistics
from typing import Any

from tools.bench_stats import Ratio
from tools.bench_workload import (
    CACHE_ENTITIES,
    CACHE_TURNS,
    SPEECH_CHUNK_DELAY,
    SPEECH_LATENCY,
    TTS_TEXT,
)


def _ratio_cell(data: dict[str, Any]) -> str:
    return str(Ratio(**data))


def per_turn_table(r: dict[str, Any]) -> list[str]:
    """The interleaved per-turn figures: medians, then ratios with their intervals."""
    run = r["interleaved"]
    medians = run["median_ms"]
    verdict = (
        "every wall ratio's 95% interval within ±5%"
        if run["converged"]
        else "TIME BUDGET SPENT before every interval was within ±5%"
    )
    lines = [
        f"Per turn (tool call + answer), 10 exposed entities, emulator latency 0: "
        f"{run['rounds']} interleaved rounds of {run['block']} turns each in "
        f"{run['seconds']:.0f} s, {os.cpu_count()} cores ({verdict})",
        "| figure | raw SDK | ours | built-in |",
        "|---|---|---|---|",
        "| wall, median of rounds (ms) | "
        + " | ".join(f"{medians[n]['wall']:.2f}" for n in ("raw", "ours", "builtin"))
        + " |",
        "| CPU per turn, median of rounds (ms) | "
        + " | ".join(f"{medians[n]['cpu']:.2f}" for n in ("raw", "ours", "builtin"))
        + " |",
        "| first text delta into ChatLog (ms, median of 20) | "
        + " | ".join(f"{r['first_delta_ms'][n]:.2f}" for n in ("raw", "ours", "builtin"))
        + " |",
        "",
        "| ratio, round by round | wall: median [95% interval] (range) | CPU: the same |",
        "|---|---|---|",
    ]
    labels = {
        "ours/raw": "ours / raw",
        "builtin/raw": "built-in / raw",
        "ours/builtin": "ours / built-in",
    }
    for key, label in labels.items():
        ratios = run["ratios"][key]
        lines.append(f"| {label} | {_ratio_cell(ratios['wall'])} | {_ratio_cell(ratios['cpu'])} |")
    return lines


def cache_table(r: dict[str, Any]) -> list[str]:
    """The cached share of input tokens per turn, ours beside the built-in."""
    columns = list(r["cache"])
    lines = [
        f"Prompt cache: cached share of input tokens, a {CACHE_TURNS}-turn conversation with "
        f"{CACHE_ENTITIES} exposed entities whose states change every turn, turns 1 s apart",
        "(counted as OpenAI bills: the prefix shared with earlier requests, from 1,024 tokens",
        "in 128-token steps; Assist: an agent controlling the home, chat only: no LLM API)",
        "| turn | " + " | ".join(c.replace("/", ", ") for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    lines += [
        f"| {n + 1} | " + " | ".join(f"{r['cache'][c][n]:.0%}" for c in columns) + " |"
        for n in range(CACHE_TURNS)
    ]
    lines.append(
        f"| 2-{CACHE_TURNS}, mean | "
        + " | ".join(f"{statistics.mean(r['cache'][c][1:]):.0%}" for c in columns)
        + " |"
    )
    return lines


def voice_table(r: dict[str, Any]) -> list[str]:
    """The whole voice turn: first audio, ours beside the built-in and the physical limit."""
    if "voice" not in r:
        return ["Whole voice turn: needs the built-in's STT and TTS (scripts/bench --ha newest)"]
    v, t = r["voice"], r["voice"]["service_times"]
    verdict = "interval within ±5%" if v["converged"] else "TIME BUDGET SPENT before ±5%"
    limit = float(v["physical_limit_ms"])
    lines = [
        "Whole voice turn, end of speech to the first audio byte at the player: Assist pipeline "
        "STT -> agent (tool call) -> TTS;",
        f"emulated services: transcript {t['transcription'] * 1000:.0f} ms after the upload or "
        f"{t['live_transcription'] * 1000:.0f} ms after a live session's commit (assumed), "
        f"model first token {t['first_token'] * 1000:.0f} ms then "
        f"{t['tokens_per_second']:.0f} tokens/s, speech first byte "
        f"{t['speech_first_byte'] * 1000:.0f} ms, Realtime handshake "
        f"{t.get('realtime_handshake', 0) * 1000:.0f} ms (assumed; outside the limit, as it can "
        f"overlap); {v['rounds']} interleaved rounds of "
        f"{v['block']} turns in {v['seconds']:.0f} s ({verdict})",
        "| pipeline | first audio (ms, median of rounds) | above the physical limit (ms) "
        "[95% interval] | / built-in: median [95% interval] (range) |",
        "|---|---|---|---|",
        f"| physical limit | {limit:.0f} | 0 | |",
    ]
    for name, ms in v["first_audio_ms"].items():
        ratio = v["ratios"].get(f"{name}/builtin")
        cell = str(Ratio(**ratio)) if ratio else ""
        low, high = v.get("first_audio_interval_ms", {}).get(name, (ms, ms))
        above = f"{ms - limit:.0f} [{low - limit:.0f}-{high - limit:.0f}]"
        lines.append(f"| {name} | {ms:.0f} | {above} | {cell} |")
    stages = v["stages_ms"]
    lines += [
        "",
        "Where the time goes (ms, median per turn; each stage ends at the moment named):",
        "| stage | " + " | ".join(stages) + " |",
        "|---" * (len(stages) + 1) + "|",
    ]
    lines += [
        f"| {stage} | " + " | ".join(f"{s.get(stage, 0):.0f}" for s in stages.values()) + " |"
        for stage in stages["ours"]
    ]
    return lines + local_voice_lines(r.get("voice_local"))


def local_voice_lines(local: dict[str, Any] | None) -> list[str]:
    """The voice turn with the agent on the real llama.cpp server, if it ran."""
    if local is None:
        return []
    if "skipped" in local:
        return ["", f"Voice turn with the agent on llama.cpp: not run ({local['skipped']})"]
    stages = local["stages_ms"]
    return [
        "",
        f"Voice turn with the agent on the real llama.cpp server (SmolLM2-135M, 2 threads; "
        f"STT and TTS emulated as above): {local['turns']} turns, "
        f"{local['tool_calls']} with a tool call; first audio {local['first_audio_ms']:.0f} ms "
        "(median)",
        "| stage | ms (median) |",
        "|---|---|",
        *(f"| {stage} | {ms:.0f} |" for stage, ms in stages.items()),
    ]


def table(r: dict[str, Any]) -> str:
    """Format every figure of a run."""
    if "tts" not in r:  # --voice-only
        return "\n".join(voice_table(r))
    tts = r["tts"]
    lines = [*per_turn_table(r), "", *voice_table(r), "", *cache_table(r)]
    lines += [
        "",
        f"TTS, first audio byte of a {len(TTS_TEXT)}-character reply (emulated speech model: "
        f"{SPEECH_LATENCY * 1000:.0f} ms to start, {SPEECH_CHUNK_DELAY * 1000:.0f} ms per kB):",
        "| path | seconds | ratio |",
        "|---|---|---|",
        f"| ours, non-streaming | {tts['non_streaming_s']:.3f} | 1.00 |",
        f"| ours, streaming | {tts['streaming_s']:.3f} | {tts['streaming_s'] / tts['non_streaming_s']:.2f} |",
        "",
        "Scaling (single passes, not interleaved): per-turn overhead = ours - raw SDK (median",
        "wall ms) and CPU per turn (ms); built-in: its median wall ms at the same size",
        "| exposed entities | overhead ms | ours ms | built-in ms | ours CPU ms | raw CPU ms |",
        "|---|---|---|---|---|---|",
    ]
    for count, row in r["scaling_entities"].items():
        lines.append(
            f"| {count} | {row['ours']['median_ms'] - row['raw']['median_ms']:.2f} | "
            f"{row['ours']['median_ms']:.2f} | {row['builtin']['median_ms']:.2f} | "
            f"{row['ours']['cpu_ms_per_turn']:.2f} | {row['raw']['cpu_ms_per_turn']:.2f} |"
        )
    lines += ["| history turns | overhead ms | ours CPU ms | raw CPU ms |", "|---|---|---|---|"]
    for count, row in r["scaling_history"].items():
        lines.append(
            f"| {count} | {row['ours']['median_ms'] - row['raw']['median_ms']:.2f} | "
            f"{row['ours']['cpu_ms_per_turn']:.2f} | {row['raw']['cpu_ms_per_turn']:.2f} |"
        )
    return "\n".join(lines)
