"""End-to-end fixtures: a real `hass` process and the emulator process, always stopped."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from importlib.util import find_spec
import os
from pathlib import Path
import shutil
import socket
from typing import Any

import aiohttp
import pytest

from tools.hass import (
    HassClient,
    Process,
    emulator_process,
    hass_process,
    prepare_config,
    reports_deprecated_use,
    wait_until_up,
)

API_KEY = "sk-e2e-key"
# Keys of other servers' entries (Azure, compatible; "no-key" is what a keyless one sends).
OTHER_KEYS = ("sk-azure-e2e", "sk-compatible-e2e", "no-key")
# Tests that need a feature of newer Home Assistant are collected only where it exists.
collect_ignore = (
    [] if find_spec("homeassistant.components.ai_task.evaluation") else ["test_evaluation.py"]
)
SATELLITE = Path(__file__).parent / "voice_satellite"
STARTUP_LIMIT = 240  # seconds; a cold CI machine compiles templates and loads the frontend


@pytest.fixture(autouse=True)
def ha_core() -> None:
    """No in-process hass here (overrides the unit tests' autouse fixture)."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Not needed: the hass process loads custom_components from its config folder."""


# This machine has no internet: Home Assistant's own lookups of internet hosts (the
# frontend's brand images of other integrations, through the brands proxy) fail here and
# nowhere a user runs it. Those tracebacks are the sandbox's, not the integration's.
OFFLINE = ("Domain name not found", "Temporary failure in name resolution")


# libfaketime, preloaded into a process to move its clock (Debian's faketime package).
FAKETIME_LIBRARIES = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))


def clock_env(clock: str | None) -> dict[str, str]:
    """Return the environment that starts a process's clock at `clock` ("YYYY-MM-DD hh:mm:ss").

    The wall clock starts there and ticks; the monotonic clock (asyncio's timers) is left
    alone. None: the real clock.
    """
    if clock is None:
        return {}
    if not FAKETIME_LIBRARIES:
        message = "libfaketime is missing (Debian's faketime package; scripts/setup installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {
        "LD_PRELOAD": str(FAKETIME_LIBRARIES[0]),
        "FAKETIME": f"@{clock}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


@pytest.fixture
def hass_clock() -> str | None:
    """The date the hass and emulator processes start at; None: today (a module may override)."""
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveHass:
    """A running Home Assistant with the emulator behind it."""

    base: str
    client: HassClient
    config_dir: Path
    process: Process
    emulator: str
    logs: list[Path] = field(default_factory=list)
    emulator_process: Process | None = None

    def lines(self, logs: list[Path] | None = None) -> list[str]:
        """Return the lines of these logs (all of them by default)."""
        logs = self.logs if logs is None else logs
        return [line for log in logs for line in log.read_text(errors="replace").splitlines()]

    def problems(self, logs: list[Path] | None = None) -> list[str]:
        """Return the logs' tracebacks (whole, so a failure shows them) and HA's reports of
        deprecated use by this integration."""
        found: list[str] = []
        lines = self.lines(logs)
        for number, line in enumerate(lines):
            if "Traceback" in line:
                block = [line]
                for following in lines[number + 1 : number + 40]:
                    block.append(following)
                    if not following.startswith((" ", "\t")):
                        break  # the exception line ends a traceback
                if not any(offline in following for following in block for offline in OFFLINE):
                    found.append("\n".join(block))
            elif reports_deprecated_use(line):
                found.append(line)
        return found

    async def recorded(self, path: str) -> list[Any]:
        """Return the bodies of the requests the emulator received on a path."""
        url = f"{self.emulator}/emulator/requests?path={path}&last=1000"
        async with self.client.session.get(url) as response:
            return list(await response.json())

    async def keys(self) -> list[str]:
        """Return the API key of every API request the emulator received, in order."""
        async with self.client.session.get(f"{self.emulator}/emulator/keys") as response:
            requests = await response.json()
        return [r["key"] for r in requests if not r["path"].startswith("/emulator/")]

    async def restart(
        self, while_stopped: Callable[[], None] = lambda: None, clock: str | None = None
    ) -> None:
        """Stop Home Assistant and start it again on the same configuration, logged anew.

        With a clock, Home Assistant and the emulator (whose today decides which models
        OpenAI still serves) both start again at that date.
        """
        await self.process.stop()
        while_stopped()
        if clock is not None and self.emulator_process is not None:
            await self.emulator_process.stop()
            self.emulator_process.env.update(clock_env(clock))
            self.process.env.update(clock_env(clock))
            await self.emulator_process.start()
            await wait_until_up(self.client.session, f"{self.emulator}/emulator/keys", 60)
        self.process.log = self.logs[0].with_name(f"hass-{len(self.logs) + 1}.log")
        self.logs.append(self.process.log)
        await self.process.start()
        await wait_until_up(self.client.session, f"{self.base}/api/onboarding", STARTUP_LIMIT)
        await self.client.onboard_or_login()


@pytest.fixture
async def live_hass(
    tmp_path: Path, socket_enabled: None, hass_clock: str | None
) -> AsyncGenerator[LiveHass]:
    """Start the emulator and hass, onboard, and stop both afterwards whatever happens."""
    hass_port, emulator_port = _free_port(), _free_port()
    config_dir = tmp_path / "config"
    hass_env = prepare_config(config_dir, hass_port, copy=True)
    # A satellite stand-in, added by a test through its config flow as a user adds one.
    shutil.copytree(SATELLITE, config_dir / "custom_components" / SATELLITE.name)
    extra = [arg for key in OTHER_KEYS for arg in ("--extra-key", key)]
    emulator = emulator_process(emulator_port, API_KEY, tmp_path / "emulator.log", *extra)
    emulator.env.update(clock_env(hass_clock))
    hass_log = tmp_path / "hass.log"
    hass = hass_process(
        config_dir,
        {
            **hass_env,
            "OPENAI_BASE_URL": f"http://127.0.0.1:{emulator_port}/v1",
            **clock_env(hass_clock),
        },
        hass_log,
    )
    try:
        await emulator.start()
        await hass.start()
        base = f"http://127.0.0.1:{hass_port}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            await wait_until_up(session, f"{base}/api/onboarding", STARTUP_LIMIT)
            client = HassClient(session, base)
            await client.onboard_or_login()
            emulator_base = f"http://127.0.0.1:{emulator_port}"
            yield LiveHass(base, client, config_dir, hass, emulator_base, [hass_log], emulator)
    finally:
        await hass.stop()
        await emulator.stop()
