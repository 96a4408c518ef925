"""Usage sensors: tokens and cost per agent, summed across turns and restarts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.openai_conversation.backends import TokenUsage
from custom_components.openai_conversation.usage import UsageReport, cost_usd
from emulator import Error, OpenAIEmulator, Reply, Text, ToolCall
from homeassistant.components import conversation
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Context, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

PREFIX = "sensor.openai_conversation"


async def ask(hass: HomeAssistant, text: str) -> None:
    await hass.async_create_task(
        conversation.async_converse(
            hass, text, None, Context(), agent_id="conversation.openai_conversation"
        )
    )


async def test_usage_adds_up(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    assert hass.states.get(f"{PREFIX}_input_tokens").state == "0"
    emulator.queue(
        Reply([Text("One")], usage=(1200, 30, 1000)), Reply([Text("Two")], usage=(800, 20, 0))
    )
    await ask(hass, "first")
    await ask(hass, "second")
    assert hass.states.get(f"{PREFIX}_input_tokens").state == "2000"
    assert hass.states.get(f"{PREFIX}_output_tokens").state == "50"
    cost = float(hass.states.get(f"{PREFIX}_estimated_cost").state)
    # gpt-6-luna: $0.10 input, $0.01 cached, $0.50 output per million tokens.
    expected = (200 * 0.10 + 1000 * 0.01 + 30 * 0.50 + 800 * 0.10 + 20 * 0.50) / 1_000_000
    assert cost == pytest.approx(expected)
    assert hass.states.get(f"{PREFIX}_estimated_cost").attributes["unit_of_measurement"] == "USD"
    # Cached tokens are counted, but the sensor is disabled by default.
    assert er.async_get(hass).async_get(f"{PREFIX}_cached_input_tokens").disabled_by is not None


async def test_usage_sensors_are_not_polled(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """A total changes only when a response reports usage: nothing rewrites it on a timer."""
    rewritten: list[str] = []

    @callback
    def ours(data: Mapping[str, Any]) -> bool:
        return str(data["entity_id"]).startswith(PREFIX)

    hass.bus.async_listen(
        EVENT_STATE_REPORTED,
        lambda event: rewritten.append(event.data["entity_id"]),
        event_filter=ours,
    )
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done()
    assert rewritten == []


async def test_usage_without_token_details(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A server that sends no input token details served nothing from cache."""
    emulator.queue(Reply([Text("One")], usage=(10, 0, 0), sparse=True))
    await ask(hass, "first")
    assert hass.states.get(f"{PREFIX}_input_tokens").state == "10"
    # gpt-6-luna: $0.10 per million input tokens, none of them cached ($0.01).
    assert float(hass.states.get(f"{PREFIX}_estimated_cost").state) == pytest.approx(1e-6)


async def test_a_turn_writes_each_sensor_once(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    """A tool turn has two responses but is one state change per sensor (one recorder row)."""
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    emulator.queue(
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})], usage=(100, 10, 0)),
        Reply([Text("Done.")], usage=(120, 5, 0)),
    )
    await ask(hass, "Turn on the kitchen light")
    await hass.async_block_till_done()
    assert hass.states.get(kitchen_light).state == "on"
    written = [e.data["new_state"].state for e in changes if e.data["entity_id"].startswith(PREFIX)]
    assert sorted(written) == sorted(
        ["220", "15", str(cost_usd("gpt-6-luna", TokenUsage(220, 15)))]
    )


async def test_usage_of_a_failed_turn_is_counted(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    """The tokens of the responses before a failure were billed: they are counted."""
    emulator.queue(
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})], usage=(100, 10, 0)),
        Error(400, "Bad request"),
    )
    await ask(hass, "Turn on the kitchen light")
    await hass.async_block_till_done()
    assert hass.states.get(f"{PREFIX}_input_tokens").state == "100"


async def test_totals_survive_a_restart(
    hass: HomeAssistant, config_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(f"{PREFIX}_input_tokens", "100"),
                {"native_value": 100, "native_unit_of_measurement": "tokens"},
            ),
            (
                State(f"{PREFIX}_estimated_cost", "0.5"),
                {"native_value": 0.5, "native_unit_of_measurement": "USD"},
            ),
        ],
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(f"{PREFIX}_input_tokens").state == "100"
    emulator.queue(Reply([Text("Hi")], usage=(10, 5, 0)))
    await ask(hass, "hi")
    assert hass.states.get(f"{PREFIX}_input_tokens").state == "110"
    assert float(hass.states.get(f"{PREFIX}_estimated_cost").state) > 0.5


def test_prices() -> None:
    usage = TokenUsage(1_000_000, 1_000_000, 0)
    assert cost_usd("gpt-4o-mini-2024-07-18", usage) == pytest.approx(0.75)
    assert cost_usd("gpt-4o", usage) == pytest.approx(12.5)
    assert cost_usd("llama3.2", usage) is None


def test_reports_of_one_turn_add_up() -> None:
    """A fallback to an unpriced (local) model adds its tokens but no cost."""
    priced = UsageReport(TokenUsage(10, 2, 4), 0.5)
    local = UsageReport(TokenUsage(7, 1, 0), None, fallbacks=1)
    assert priced + local == UsageReport(TokenUsage(17, 3, 4), 0.5, fallbacks=1)
    assert (local + local).cost is None
