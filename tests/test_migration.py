"""Taking over entries written by core's integration: version 1 and 2.1 to 2.8."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.compat import SINGLE_OWNER_DEVICES
from custom_components.openai_conversation.const import DOMAIN, ENTRY_MINOR_VERSION
from emulator import OpenAIEmulator
from homeassistant.config_entries import ConfigEntryDisabler, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component

from .common import device_owners
from .conftest import API_KEY

V1_OPTIONS = {
    "recommended": False,
    "chat_model": "gpt-4o",
    "prompt": "Speak like a pirate",
    "llm_hass_api": ["assist"],
}


def _v1_agent(
    hass: HomeAssistant, title: str, key: str = API_KEY, disabled: ConfigEntryDisabler | None = None
) -> tuple[MockConfigEntry, str, str]:
    """Register a version 1 entry with its device and conversation entity, as core did."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={"api_key": key},
        options=V1_OPTIONS | {"name": title},
        version=1,
        disabled_by=disabled,
    )
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name=title,
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    entity = er.async_get(hass).async_get_or_create(
        "conversation",
        DOMAIN,
        entry.entry_id,
        config_entry=entry,
        device_id=device.id,
        suggested_object_id=title.lower().replace(" ", "_"),
    )
    return entry, device.id, entity.entity_id


async def test_v1_entries_merge_per_key(hass: HomeAssistant, emulator: OpenAIEmulator) -> None:
    emulator.api_keys.add("sk-second")
    first, first_device, first_entity = _v1_agent(hass, "Pirate")
    _second, second_device, second_entity = _v1_agent(hass, "Butler")
    other, _, other_entity = _v1_agent(hass, "Other key", key="sk-second")

    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    entries = hass.config_entries.async_entries(DOMAIN)
    assert [e.entry_id for e in entries] == [first.entry_id, other.entry_id]
    assert all((e.version, e.minor_version) == (2, ENTRY_MINOR_VERSION) for e in entries)
    assert all(e.options == {} and e.title == "OpenAI" for e in entries)
    conversations = [s for s in first.subentries.values() if s.subentry_type == "conversation"]
    assert sorted(s.title for s in conversations) == ["Butler", "Pirate"]
    kinds = [s.subentry_type for s in first.subentries.values()]
    assert all(kinds.count(kind) == 1 for kind in ("ai_task_data", "stt", "tts"))
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    for entity_id, device_id, title in (
        (first_entity, first_device, "Pirate"),
        (second_entity, second_device, "Butler"),
    ):
        subentry = next(s for s in conversations if s.title == title)
        assert dict(subentry.data)["prompt"] == "Speak like a pirate"
        entity = ent_reg.async_get(entity_id)
        assert entity.unique_id == subentry.subentry_id
        assert (entity.config_entry_id, entity.config_subentry_id) == (
            first.entry_id,
            subentry.subentry_id,
        )
        device = dev_reg.async_get(device_id)
        assert device.identifiers == {(DOMAIN, subentry.subentry_id)}
        assert device_owners(device) == {first.entry_id: {subentry.subentry_id}}
    assert ent_reg.async_get(other_entity).config_entry_id == other.entry_id
    # The agents answer under their old entity ids.
    assert hass.states.get(first_entity) is not None
    assert hass.states.get(second_entity) is not None


async def test_v1_disabled_agent_stays_disabled(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    first, _, _ = _v1_agent(hass, "Enabled")
    _, device_id, entity_id = _v1_agent(hass, "Disabled", disabled=ConfigEntryDisabler.USER)
    dr.async_get(hass).async_update_device(
        device_id, disabled_by=dr.DeviceEntryDisabler.CONFIG_ENTRY
    )
    er.async_get(hass).async_update_entity(
        entity_id, disabled_by=er.RegistryEntryDisabler.CONFIG_ENTRY
    )
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert [e.entry_id for e in hass.config_entries.async_entries(DOMAIN)] == [first.entry_id]
    assert dr.async_get(hass).async_get(device_id).disabled_by is dr.DeviceEntryDisabler.USER
    assert er.async_get(hass).async_get(entity_id).disabled_by is er.RegistryEntryDisabler.DEVICE


@pytest.mark.parametrize("minor", range(1, 9))
async def test_v2_entries_keep_their_agents(
    hass: HomeAssistant, emulator: OpenAIEmulator, minor: int
) -> None:
    subentries = [
        ConfigSubentryData(
            data=V1_OPTIONS, subentry_type="conversation", title="Pirate", unique_id=None
        ),
    ]
    if minor >= 3:  # core added the AI Task subentry in 2.3
        subentries.append(
            ConfigSubentryData(
                data={"recommended": True},
                subentry_type="ai_task_data",
                title="OpenAI AI Task",
                unique_id=None,
            )
        )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="OpenAI",
        data={"api_key": API_KEY},
        version=2,
        minor_version=minor,
        subentries_data=subentries,
    )
    entry.add_to_hass(hass)
    conversation = next(s for s in entry.subentries.values() if s.subentry_type == "conversation")
    dev_reg, ent_reg = dr.async_get(hass), er.async_get(hass)
    device = dev_reg.async_get_or_create(
        config_entry_id=entry.entry_id,
        config_subentry_id=conversation.subentry_id,
        identifiers={(DOMAIN, conversation.subentry_id)},
        name="Pirate",
        disabled_by=dr.DeviceEntryDisabler.CONFIG_ENTRY if minor == 3 else None,
    )
    broken_flag = device.disabled_by is dr.DeviceEntryDisabler.CONFIG_ENTRY
    if minor == 1 and not SINGLE_OWNER_DEVICES:
        # The broken 2025.7 beta also linked devices to the entry itself; HA 2026.10's
        # registry cannot hold such a device (its own migration collapsed them).
        dev_reg.async_update_device(
            device.id, add_config_entry_id=entry.entry_id, add_config_subentry_id=None
        )
    entity = ent_reg.async_get_or_create(
        "conversation",
        DOMAIN,
        conversation.subentry_id,
        config_entry=entry,
        config_subentry_id=conversation.subentry_id,
        device_id=device.id,
        suggested_object_id="pirate",
    )

    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    assert (entry.version, entry.minor_version) == (2, ENTRY_MINOR_VERSION)
    types = sorted(s.subentry_type for s in entry.subentries.values())
    assert types == ["ai_task_data", "conversation", "stt", "tts"]
    assert dict(entry.subentries[conversation.subentry_id].data) == V1_OPTIONS
    device = dev_reg.async_get(device.id)
    assert device_owners(device) == {entry.entry_id: {conversation.subentry_id}}
    # HA 2026.10's registry refuses an enabled entry's device disabled by CONFIG_ENTRY, so
    # there the broken 2.3 state cannot arise and nothing is repaired.
    assert device.disabled_by is (dr.DeviceEntryDisabler.USER if broken_flag else None)
    assert ent_reg.async_get(entity.entity_id).unique_id == conversation.subentry_id


async def test_newer_version_is_refused(hass: HomeAssistant, emulator: OpenAIEmulator) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={"api_key": API_KEY}, version=3, minor_version=1)
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state.name == "MIGRATION_ERROR"
