"""scripts/develop: a real Home Assistant with this integration, offline demo included."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import signal

import aiohttp

from tools.hass import (
    PASSWORD,
    ROOT,
    USERNAME,
    HassClient,
    Process,
    emulator_process,
    hass_process,
    prepare_config,
    wait_until_up,
)

HASS_PORT = 8123
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "8765"))
EMULATOR_KEY = "sk-emulator"


async def main() -> None:
    """Start everything, add the entry, and run until Ctrl-C."""
    config = ROOT / "config"
    env = prepare_config(config, HASS_PORT)
    api_key = os.environ.get("OPENAI_API_KEY")
    processes: list[Process] = []
    if not api_key:
        api_key = EMULATOR_KEY
        env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{EMULATOR_PORT}/v1"
        processes.append(
            emulator_process(EMULATOR_PORT, EMULATOR_KEY, Path(config, "emulator.log"))
        )
    processes.append(hass_process(config, env))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for process in processes:
            await process.start()
        base = f"http://127.0.0.1:{HASS_PORT}"
        async with aiohttp.ClientSession() as session:
            await wait_until_up(session, f"{base}/api/onboarding", 300)
            client = HassClient(session, base)
            await client.onboard_or_login()
            await client.ensure_openai_entry(api_key)
        mode = "OpenAI" if "OPENAI_BASE_URL" not in env else "the offline emulator (demo mode)"
        print(f"\nHome Assistant is running at http://localhost:{HASS_PORT}")  # noqa: T201
        print(f"Log in as {USERNAME} / {PASSWORD}. The OpenAI entry talks to {mode}.")  # noqa: T201
        print('Try Assist: "turn on the kitchen light". Ctrl-C stops everything.\n')  # noqa: T201
        waiters = [asyncio.create_task(p.proc.wait()) for p in processes if p.proc]
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([stopper, *waiters], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for process in reversed(processes):
            await process.stop()


if __name__ == "__main__":
    asyncio.run(main())
