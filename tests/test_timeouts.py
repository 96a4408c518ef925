"""The agent's timeout: for connecting and a silent server, with room for deep reasoning."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant

from .test_subentry_forms import agent_through_the_form

SILENCE = 2.0  # seconds the server thinks before its first event (the agent waits 1)


async def _ask_after_silence(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    advanced: dict[str, Any],
    model_step: dict[str, Any],
) -> str:
    """Add the agent through the form; return what it says when the server is silent."""
    await agent_through_the_form(hass, entry, model_step, {**advanced, "timeout": 1})
    emulator.first_token = SILENCE
    emulator.queue(Reply([Text("Thought it through.")]))
    result = await conversation.async_converse(
        hass, "Plan my week", None, Context(), agent_id="conversation.sampler"
    )
    return str(result.response.speech["plain"]["speech"])


async def test_deep_reasoning_may_be_silent_longer(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """High effort thinks silently longer than the agent's timeout, and still answers."""
    speech = await _ask_after_silence(
        hass, setup_entry, emulator, {"chat_model": "gpt-5"}, {"reasoning_effort": "high"}
    )
    assert speech == "Thought it through."


@pytest.mark.parametrize(
    ("advanced", "model_step"),
    [({"chat_model": "gpt-4o"}, {}), ({"chat_model": "gpt-5"}, {"reasoning_effort": "low"})],
    ids=["no reasoning", "low effort"],
)
async def test_a_silent_server_is_a_timeout(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    advanced: dict[str, Any],
    model_step: dict[str, Any],
) -> None:
    """Silence beyond the agent's timeout is reported as a timeout, not as a lost server."""
    speech = await _ask_after_silence(hass, setup_entry, emulator, advanced, model_step)
    assert speech.startswith("The server did not answer in time")
