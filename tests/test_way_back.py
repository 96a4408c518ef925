"""The way back: core's built-in integration must never load another server's entry."""

from __future__ import annotations

import importlib
from pathlib import Path
import re

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.const import DOMAIN
from emulator import OpenAIEmulator
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant

from .conftest import API_KEY
from .test_providers import _add_azure, _add_entry


def _cores_flow_version() -> int:
    """Return the entry version core's own flow writes (read: importing would register it)."""
    core = importlib.import_module("homeassistant.components.openai_conversation")
    source = (Path(core.__file__).parent / "config_flow.py").read_text()
    return int(re.findall(r"^    VERSION = (\d+)", source, re.MULTILINE)[0])


async def test_other_servers_entries_carry_a_version_core_refuses(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Added through the flow, an OpenAI entry keeps core's version; Azure and compatible
    entries (a keyless one too) carry one above core's, which core refuses to set up."""
    emulator.api_keys.add("no-key")  # what a keyless entry sends
    openai_entry = await _add_entry(hass, "openai", {"api_key": API_KEY}, emulator=emulator)
    azure = await _add_azure(hass, emulator)
    keyless = await _add_entry(
        hass,
        "compatible",
        {"base_url": f"http://127.0.0.1:{emulator.port}/v1"},
        "gpt-4o-mini",
        emulator=emulator,
    )
    assert (openai_entry.version, openai_entry.minor_version) == (2, 8)
    core = _cores_flow_version()
    assert openai_entry.version == core
    for entry in (azure, keyless):
        assert entry.version > core
        assert entry.state is ConfigEntryState.LOADED


async def test_stored_entries_of_other_servers_move_to_that_version(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A compatible entry earlier releases stored as core's 2.8 moves on its next start,
    agents and all, and loads."""
    agent = ConfigSubentryData(
        data={"chat_model": "gpt-4o-mini"},
        subentry_type="conversation",
        title="Local",
        unique_id=None,
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            "provider": "compatible",
            "base_url": f"http://127.0.0.1:{emulator.port}/v1",
            "api_key": API_KEY,
            "default_model": "gpt-4o-mini",
        },
        version=2,
        minor_version=8,
        subentries_data=[agent],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.version > _cores_flow_version()
    assert [s.title for s in entry.subentries.values()] == ["Local"]
