"""Diagnostics: useful figures, no secrets."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component

from .conftest import API_KEY
from .test_providers import _add_azure, _add_compatible


async def test_diagnostics(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    emulator.queue(Reply([Text("Hi")], usage=(40, 4, 0)))
    await hass.async_create_task(
        conversation.async_converse(
            hass, "hi", None, Context(), agent_id="conversation.openai_conversation"
        )
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup_entry)
    assert API_KEY not in str(diagnostics)
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert diagnostics["entry"]["provider"] == "openai"
    assert diagnostics["models"] == ["gpt-6-luna"]
    assert diagnostics["usage"]["OpenAI Conversation"]["input_tokens"] == "40"
    assert diagnostics["subentries"][0]["type"] == "conversation"


async def test_diagnostics_keep_servers_and_instructions_private(
    hass: HomeAssistant, emulator: OpenAIEmulator, hass_client: ClientSessionGenerator
) -> None:
    """A server's address (it may hold a user name or a private host) and an agent's
    instructions (they may describe the household) are redacted."""
    assert await async_setup_component(hass, "diagnostics", {})
    compatible = await _add_compatible(hass, emulator, "gpt-4o-mini")
    azure = await _add_azure(hass, emulator)
    for entry in (compatible, azure):
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        data = diagnostics["entry"]["data"]
        assert data.get("base_url", data.get("endpoint")) == "**REDACTED**"
        assert f"127.0.0.1:{emulator.port}" not in str(diagnostics["entry"]["data"])
        prompts = [s["data"]["prompt"] for s in diagnostics["subentries"] if "prompt" in s["data"]]
        assert prompts
        assert set(prompts) == {"**REDACTED**"}
