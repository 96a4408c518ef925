"""Run the emulator as a process: python -m emulator [--port N] [--api-key KEY]."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .demo import demo_reply
from .server import OpenAIEmulator


async def _serve(port: int, api_key: str, demo: bool) -> None:
    emulator = OpenAIEmulator(api_keys={api_key}, port=port)
    if demo:
        emulator.responder = demo_reply
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
    parser.add_argument("--demo", action="store_true", help="answer like a small model")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.api_key, args.demo))


if __name__ == "__main__":
    main()
