"""Start a real Home Assistant process, onboard it, and add this integration over REST.

Used by scripts/develop (the offline demo) and by the process-level end-to-end tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import signal
import sys
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
# How Home Assistant words a report of deprecated use: report_usage ("Detected that custom
# integration 'x' ..."), deprecated functions and aliases ("The deprecated function f was
# called from x ..."), deprecated entity members ("x.tts::E provides the deprecated ...").
DEPRECATION_MARKS = ("Detected", "The deprecated ", "provides the deprecated")
USERNAME = "demo"
PASSWORD = "demo-password"  # noqa: S105 - the offline demo's documented login


def reports_deprecated_use(text: str, domain: str = "openai_conversation") -> bool:
    """Return whether a log message is Home Assistant reporting deprecated use by domain."""
    return domain in text and any(mark in text for mark in DEPRECATION_MARKS)


def prepare_config(config_dir: Path, port: int, *, copy: bool = False) -> dict[str, str]:
    """Write the demo configuration and add the integration; return hass's environment.

    The integration is linked (edits show after a restart), or copied as HACS installs it.

    HA 2026.10 keeps the HTTP settings in storage and turns YAML ones into a pending
    change the UI asks to confirm; it takes a first start's port from SETUP_PORT instead.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "config" / "configuration.yaml").read_text()
    env: dict[str, str] = {}
    if _stored_http_config():
        env["SETUP_PORT"] = str(port)
    elif port != 8123:
        text += f"\nhttp:\n  server_port: {port}\n"
    (config_dir / "configuration.yaml").write_text(text)
    _skip_onboarding_defaults(config_dir)
    target = config_dir / "custom_components"
    if copy:
        shutil.copytree(
            ROOT / "custom_components" / "openai_conversation",
            target / "openai_conversation",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    elif not target.exists():
        target.symlink_to(ROOT / "custom_components")
    return env


def _skip_onboarding_defaults(config_dir: Path) -> None:
    """Mark onboarding's location and analytics steps done before the first start.

    Finishing the location step adds weather (which polls a server on the internet), radio
    and Google TTS entries the demo does not use; onboarding then asks only for the user.
    """
    storage = config_dir / ".storage" / "onboarding"
    if storage.exists():
        return
    storage.parent.mkdir(parents=True, exist_ok=True)
    done = {"done": ["core_config", "analytics"]}
    storage.write_text(
        json.dumps({"version": 4, "minor_version": 1, "key": "onboarding", "data": done})
    )


def _stored_http_config() -> bool:
    """Return whether this Home Assistant keeps its HTTP settings in storage."""
    from homeassistant.components.http import const  # noqa: PLC0415 - HA is slow to import

    return hasattr(const, "ENV_SETUP_PORT")


@dataclass
class Process:
    """A child process that is always stopped, even on errors."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process, its output going to the log file."""
        out = self.log.open("wb") if self.log else asyncio.subprocess.DEVNULL
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, env={**os.environ, **self.env}, stdout=out, stderr=asyncio.subprocess.STDOUT
        )

    async def stop(self, grace: float = 30) -> None:
        """Stop it: SIGTERM, then SIGKILL after the grace period."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def hass_process(config_dir: Path, env: dict[str, str], log: Path | None = None) -> Process:
    """Return a `hass -c config_dir` process of this venv."""
    hass = shutil.which("hass", path=str(Path(sys.executable).parent)) or "hass"
    return Process([hass, "-c", str(config_dir), "--skip-pip"], env, log)


def emulator_process(port: int, api_key: str, log: Path | None = None, *extra: str) -> Process:
    """Return the emulator, in demo mode, as a process."""
    args = [sys.executable, "-m", "emulator", "--demo", "--port", str(port), "--api-key", api_key]
    return Process([*args, *extra], {"PYTHONPATH": str(ROOT)}, log)


async def wait_until_up(session: aiohttp.ClientSession, url: str, limit: float) -> None:
    """Wait for an HTTP server to answer."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        with suppress(aiohttp.ClientError):
            async with session.get(url) as response:
                if response.status < 500:
                    return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{url} did not answer within {limit} s")
        await asyncio.sleep(0.5)


class HassClient:
    """Drives a running Home Assistant through its REST API, as the frontend would."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        """Initialize for the instance at base (http://host:port)."""
        self.session = session
        self.base = base
        self.client_id = f"{base}/"
        self.token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Return the authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Make an authorized request and return its JSON."""
        async with self.session.request(
            method, self.base + path, headers=self.headers, **kwargs
        ) as r:
            if r.status >= 400:
                raise RuntimeError(f"{method} {path}: {r.status} {await r.text()}")
            return await r.json() if r.content_type == "application/json" else await r.read()

    async def ws(self, message: dict[str, Any]) -> Any:
        """Send one websocket command and return its result."""
        return (await self.ws_events(message, lambda _event: True))[0]

    async def ws_events(self, message: dict[str, Any], last: Callable[[Any], bool]) -> list[Any]:
        """Send a websocket command; return its result, then its events up to the last one."""
        async with self.session.ws_connect(f"{self.base}/api/websocket") as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token})
            if (await ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError("Websocket authentication failed")
            await ws.send_json({"id": 1, **message})
            reply = await ws.receive_json()
            if not reply.get("success"):
                raise RuntimeError(f"{message['type']}: {reply.get('error')}")
            received = [reply.get("result")]
            while not last(received[-1]):
                received.append((await ws.receive_json())["event"])
        return received

    async def use_agent_for_assist(self, agent: str, tts: str | None = None) -> str:
        """Create an Assist pipeline with an agent (and TTS) and make it the preferred one."""
        pipeline = await self.ws(
            {
                "type": "assist_pipeline/pipeline/create",
                "name": "OpenAI",
                "language": "en",
                "conversation_engine": agent,
                "conversation_language": "en",
                "stt_engine": None,
                "stt_language": None,
                "tts_engine": tts,
                "tts_language": "en" if tts else None,
                "tts_voice": None,
                "wake_word_entity": None,
                "wake_word_id": None,
                "prefer_local_intents": False,
            }
        )
        await self.ws(
            {"type": "assist_pipeline/pipeline/set_preferred", "pipeline_id": pipeline["id"]}
        )
        return str(pipeline["id"])

    async def _token(self, code: str) -> None:
        data = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.base}/auth/token", data=data) as response:
            self.token = (await response.json())["access_token"]

    async def onboard_or_login(self, limit: float = 240) -> None:
        """Onboard or log in, then wait until Home Assistant has started.

        Since 2026.11 the HTTP server answers while integrations are still setting up, so
        entities would read "unknown" for a moment.
        """
        await self._authenticate()
        deadline = asyncio.get_running_loop().time() + limit
        while (await self.call("GET", "/api/config")).get("state", "RUNNING") != "RUNNING":
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Home Assistant did not start within {limit} s")
            await asyncio.sleep(0.2)

    async def _authenticate(self) -> None:
        """Create the owner on a fresh instance; log in as the demo user otherwise."""
        async with self.session.get(f"{self.base}/api/onboarding") as response:
            steps = (
                {s["step"]: s["done"] for s in await response.json()}
                if response.status == 200
                else {}
            )
        if steps and not steps.get("user"):
            body = {
                "client_id": self.client_id,
                "name": "Demo",
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            }
            async with self.session.post(f"{self.base}/api/onboarding/users", json=body) as r:
                await self._token((await r.json())["auth_code"])
            await self.call(
                "POST",
                "/api/onboarding/integration",
                json={"client_id": self.client_id, "redirect_uri": self.client_id},
            )
            return
        flow = {
            "client_id": self.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": self.client_id,
        }
        async with self.session.post(f"{self.base}/auth/login_flow", json=flow) as r:
            flow_id = (await r.json())["flow_id"]
        login = {"username": USERNAME, "password": PASSWORD, "client_id": self.client_id}
        async with self.session.post(f"{self.base}/auth/login_flow/{flow_id}", json=login) as r:
            await self._token((await r.json())["result"])

    async def ensure_openai_entry(self, api_key: str) -> str:
        """Add an OpenAI entry through the config flow unless one exists; return its id."""
        entries = await self.call(
            "GET", "/api/config/config_entries/entry?domain=openai_conversation"
        )
        if entries:
            return str(entries[0]["entry_id"])
        flow = await self.call(
            "POST", "/api/config/config_entries/flow", json={"handler": "openai_conversation"}
        )
        path = f"/api/config/config_entries/flow/{flow['flow_id']}"
        await self.call("POST", path, json={"next_step_id": "openai"})
        result = await self.call("POST", path, json={"api_key": api_key})
        if result.get("type") != "create_entry":
            raise RuntimeError(f"The config flow did not create the entry: {result}")
        return str(result["result"]["entry_id"])
