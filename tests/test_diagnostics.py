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
