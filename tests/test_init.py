"""Setup, unload, and setup failures."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.const import DOMAIN, RECOMMENDED_CHAT_MODEL
from emulator import Error, OpenAIEmulator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr


async def test_setup_and_unload(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    assert setup_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("conversation.openai_conversation") is not None
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    await hass.async_block_till_done()
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("conversation.openai_conversation").state == "unavailable"


async def test_the_agents_device_names_its_model(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """Settings → Devices shows each agent as an OpenAI service with the model it uses."""
    subentry_id = next(iter(setup_entry.subentries))
    (device,) = [
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), setup_entry.entry_id)
        if (DOMAIN, subentry_id) in device.identifiers
    ]
    assert (device.manufacturer, device.model, device.entry_type) == (
        "OpenAI",
        RECOMMENDED_CHAT_MODEL,
        dr.DeviceEntryType.SERVICE,
    )


async def test_bad_key_at_setup_starts_reauth(
    hass: HomeAssistant, config_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.api_keys.clear()
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler("openai_conversation")
    assert [f["context"]["source"] for f in flows] == ["reauth"]


@pytest.mark.parametrize("failure", ["offline", Error(503, "Overloaded", type="server_error")])
async def test_unreachable_at_setup_retries(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    failure: object,
) -> None:
    if failure == "offline":
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    else:
        emulator.fail_next("/v1/models", failure)  # type: ignore[arg-type]
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_subentry_change_reloads(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    subentry = next(iter(setup_entry.subentries.values()))
    hass.config_entries.async_update_subentry(setup_entry, subentry, title="Renamed")
    await hass.async_block_till_done()
    assert setup_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("conversation.openai_conversation") is not None
