"""Run the emulator as a process: python -m emulator [--port N] [--api-key KEY]."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from functools import partial

from .demo import demo_reply
from .server import OpenAIEmulator


async def _serve(args: argparse.Namespace) -> None:
    emulator = OpenAIEmulator(
        api_keys={args.api_key, *args.extra_key},
        port=args.port,
        speech_latency=args.speech_latency,
        speech_chunk_delay=args.speech_chunk_delay,
        first_token=args.first_token,
        tokens_per_second=args.tokens_per_second,
        transcription_latency=args.transcription_latency,
        live_transcription_latency=args.live_transcription_latency,
        realtime_handshake=args.realtime_handshake,
    )
    if args.demo:
        emulator.responder = partial(demo_reply, after_tool=args.after_tool)
    await emulator.start()
    print(f"OpenAI emulator listening on {emulator.base_url}", flush=True)  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="sk-emulator")
    parser.add_argument(
        "--extra-key", action="append", default=[], help="another API key it accepts"
    )
    parser.add_argument("--demo", action="store_true", help="answer like a small model")
    parser.add_argument("--speech-latency", type=float, default=0.0, help="s to first audio byte")
    parser.add_argument("--speech-chunk-delay", type=float, default=0.0, help="s per 1 kB chunk")
    parser.add_argument("--first-token", type=float, default=0.0, help="s to a model's first token")
    parser.add_argument("--tokens-per-second", type=float, default=0.0, help="a model's pace")
    parser.add_argument(
        "--transcription-latency", type=float, default=0.0, help="s from upload to transcript"
    )
    parser.add_argument(
        "--live-transcription-latency",
        type=float,
        default=0.0,
        help="s from a realtime session's commit to its transcript",
    )
    parser.add_argument(
        "--realtime-handshake",
        type=float,
        default=0.0,
        help="s before a Realtime session (voice or transcription) accepts its upgrade",
    )
    parser.add_argument(
        "--after-tool", default="Done: {done}.", help="demo answer once a tool ran ({done})"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
