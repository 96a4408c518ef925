"""One seam for every server call: what goes around it, and what each provider resolves."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.backends.handshake import RealtimeRoute
from custom_components.openai_conversation.client import _make_client, realtime_route
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from emulator import OpenAIEmulator
from homeassistant.components import tts
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .conftest import API_KEY, add_entry
from .test_speech import chunks, metadata, stt_entity, tone

PACKAGE = Path(__file__).parents[1] / "custom_components" / "openai_conversation"
# The seam, and the chat backends it reaches (a chat turn's request is theirs to post).
SEAM = {"backends/seam.py", "backends/handshake.py"}
CHAT_BACKENDS = {"backends/__init__.py", "backends/responses.py", "backends/chat_completions.py"}
# The SDK client's resources, and its per-call copies.
SDK_RESOURCES = {
    "audio",
    "beta",
    "chat",
    "decisions",
    "embeddings",
    "files",
    "images",
    "models",
    "realtime",
    "responses",
}
# What opens a connection of its own: HA's shared sessions, new sessions, a WebSocket.
CONNECTIONS = {
    "async_create_clientsession",
    "async_get_clientsession",
    "create_async_httpx_client",
    "get_async_client",
    "ws_connect",
    "with_options",
}
CLIENTS = {"AsyncOpenAI", "AsyncAzureOpenAI", "ClientSession", "AsyncClient"}


def server_calls(path: Path) -> set[str]:
    """Return what a module does that only the seam may do.

    An SDK resource used as one (client.images.generate: a resource with an attribute
    read from it), a connection helper named, or a client constructed.
    """
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Attribute) and node.value.attr in SDK_RESOURCES:
                found.add(node.value.attr)
            if node.attr in CONNECTIONS:
                found.add(node.attr)
        elif isinstance(node, ast.Name) and node.id in CONNECTIONS:
            found.add(node.id)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CLIENTS:
                found.add(name)
    return found


def test_no_server_call_goes_around_the_seam() -> None:
    """Outside the seam (and the chat backends it reaches), no module calls the SDK's
    resources, opens a connection or builds a client; client.py only builds the one
    client the seam holds, on Home Assistant's shared HTTP client."""
    modules = {str(path.relative_to(PACKAGE)): path for path in PACKAGE.rglob("*.py")}
    around = {
        name: calls
        for name, path in modules.items()
        if name not in SEAM | CHAT_BACKENDS and (calls := server_calls(path))
    }
    builds = {"AsyncOpenAI", "AsyncAzureOpenAI", "get_async_client", "with_options"}
    assert around == {"client.py": builds}


def test_the_check_sees_the_calls_the_seam_makes() -> None:
    """Not vacuous: the same check finds each kind of call where the seam makes it."""
    seam = server_calls(PACKAGE / "backends" / "seam.py")
    assert seam >= {"models", "responses", "images", "audio", "embeddings", "decisions"}
    assert seam >= {"with_options", "get_async_client", "async_get_clientsession"}
    assert server_calls(PACKAGE / "backends" / "handshake.py") == {"ws_connect"}


@pytest.mark.parametrize(
    ("data", "route"),
    [
        (
            {"api_key": "sk-x", "organization": "org-home", "project": "proj_home"},
            RealtimeRoute(
                "wss://api.openai.com/v1/realtime",
                {
                    "Authorization": "Bearer sk-x",
                    "OpenAI-Organization": "org-home",
                    "OpenAI-Project": "proj_home",
                },
            ),
        ),
        (
            {
                "provider": "azure",
                "api_key": "az-key",
                "endpoint": "https://res.openai.azure.com",
                "api_version": "v1",
            },
            RealtimeRoute("wss://res.openai.azure.com/openai/v1/realtime", {"api-key": "az-key"}),
        ),
        (
            {
                "provider": "azure",
                "api_key": "az-key",
                "endpoint": "https://res.openai.azure.com",
                "api_version": "2025-04-01-preview",
            },
            RealtimeRoute(
                "wss://res.openai.azure.com/openai/realtime",
                {"api-key": "az-key"},
                {"api-version": "2025-04-01-preview"},
                model_param="deployment",
            ),
        ),
        (
            {"provider": "compatible", "base_url": "http://127.0.0.1:8080/v1"},
            RealtimeRoute("ws://127.0.0.1:8080/v1/realtime", {"Authorization": "Bearer no-key"}),
        ),
    ],
    ids=["openai", "azure v1", "azure versioned", "compatible"],
)
def test_realtime_route_per_provider(
    monkeypatch: pytest.MonkeyPatch, data: dict[str, Any], route: RealtimeRoute
) -> None:
    """Resolved from the same settings as the SDK client: Azure's key in api-key, and its
    versioned route naming a deployment (the SDK's own Azure realtime URL form)."""
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert realtime_route(data, _make_client(data, None)) == route


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry with the default STT (live) and TTS (a Realtime voice) subentries."""
    return add_entry(hass, {kind: dict(data) for kind, _title, data in DEFAULT_SUBENTRIES})


async def test_realtime_handshakes_carry_organization_and_project(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Set through the reconfigure form, the organization and project reach both Realtime
    uses' handshakes, as they reach every SDK request (they did not before the seam)."""
    result = await setup_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"organization": "org-home", "project": "proj_home"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    emulator.requests.clear()
    transcript = await stt_entity(hass).async_process_audio_stream(metadata(), chunks(tone()))
    assert transcript.text == "turn on the kitchen light"
    speaker = hass.data[tts.DATA_COMPONENT].get_entity("tts.openai_tts")
    await speaker.async_get_tts_audio("Hi.", "en", dict(speaker.default_options))
    handshakes = emulator.requests_to("/v1/realtime")
    kinds = {r.query.get("intent") or r.query["model"] for r in handshakes}
    assert kinds == {"transcription", "gpt-realtime-2.1-mini"}
    for request in handshakes:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert request.headers["OpenAI-Organization"] == "org-home"
        assert request.headers["OpenAI-Project"] == "proj_home"
    assert not emulator.requests_to("/v1/audio/transcriptions")  # the live session answered


async def test_the_model_list_is_read_as_core_reads_it(hass: HomeAssistant) -> None:
    """Core's own tests stand in for the SDK's model list with an awaitable (see
    scripts/core-suite); awaiting the list as core does lets the entry load under them."""
    entry = add_entry(hass, {"conversation": {}})
    with patch("openai.resources.models.AsyncModels.list", new_callable=AsyncMock):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
