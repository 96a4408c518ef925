"""Take over config entries written by Home Assistant core's OpenAI integration.

Version 1 was one entry per agent (options held the agent's settings). Version 2 holds
one entry per API key with a subentry per agent; core's minor versions 1 to 8 add or
repair subentries, options and registry links. Every step here is idempotent, so an entry
of any 2.x minor version migrates without losing or duplicating an agent, entity or device.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .client import provider
from .compat import SINGLE_OWNER_DEVICES, find_device, move_device
from .const import (
    CONF_CHAT_MODEL,
    CONF_PROMPT,
    CONF_REASONING_SUMMARY,
    DEFAULT_AI_TASK_NAME,
    DEFAULT_ENTRY_TITLE,
    DEFAULT_EVALUATION_NAME,
    DEFAULT_STT_NAME,
    DEFAULT_TTS_NAME,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    LOGGER,
    OTHER_SERVER_MINOR_VERSION,
    OTHER_SERVER_VERSION,
    PROVIDER_OPENAI,
    RECOMMENDED_AI_TASK_OPTIONS,
    RECOMMENDED_EVALUATION_OPTIONS,
    RECOMMENDED_REASONING_SUMMARY,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    SUBENTRY_EVALUATION,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from .speech_models import (
    CORE_TTS_MODEL,
    LEGACY_SPEECH_KEYS,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_TTS_OPTIONS,
)

# The subentries a new entry starts with besides its agent (config_flow picks per provider).
DEFAULT_SUBENTRIES: tuple[tuple[str, str, Mapping[str, Any]], ...] = (
    (SUBENTRY_AI_TASK, DEFAULT_AI_TASK_NAME, RECOMMENDED_AI_TASK_OPTIONS),
    (SUBENTRY_EVALUATION, DEFAULT_EVALUATION_NAME, RECOMMENDED_EVALUATION_OPTIONS),
    (SUBENTRY_STT, DEFAULT_STT_NAME, RECOMMENDED_STT_OPTIONS),
    (SUBENTRY_TTS, DEFAULT_TTS_NAME, RECOMMENDED_TTS_OPTIONS),
)
# The subentries core's steps add, by the minor version each step writes, with the data
# core gives them (this integration's entities fill in the rest). Speech and evaluation
# need OpenAI's own servers, so other providers' entries don't get them.
CORE_SUBENTRY_STEPS: tuple[tuple[int, str, str, Mapping[str, Any]], ...] = (
    (3, SUBENTRY_AI_TASK, DEFAULT_AI_TASK_NAME, RECOMMENDED_AI_TASK_OPTIONS),
    (5, SUBENTRY_TTS, DEFAULT_TTS_NAME, {CONF_PROMPT: "", CONF_CHAT_MODEL: CORE_TTS_MODEL}),
    (6, SUBENTRY_STT, DEFAULT_STT_NAME, {}),
    (8, SUBENTRY_EVALUATION, DEFAULT_EVALUATION_NAME, RECOMMENDED_EVALUATION_OPTIONS),
)
OPENAI_ONLY_SUBENTRIES = frozenset({SUBENTRY_STT, SUBENTRY_TTS, SUBENTRY_EVALUATION})


def entry_version(data: Mapping[str, Any]) -> tuple[int, int]:
    """Return the version an entry of this server is stored with (see const)."""
    if provider(data) == PROVIDER_OPENAI:
        return ENTRY_VERSION, ENTRY_MINOR_VERSION
    return OTHER_SERVER_VERSION, OTHER_SERVER_MINOR_VERSION


def _ensure_subentry(
    hass: HomeAssistant, entry: ConfigEntry, subentry_type: str, title: str, data: Mapping[str, Any]
) -> None:
    """Add a subentry of a type the entry lacks."""
    if any(sub.subentry_type == subentry_type for sub in entry.subentries.values()):
        return
    if subentry_type in OPENAI_ONLY_SUBENTRIES and provider(entry.data) != PROVIDER_OPENAI:
        return
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(dict(data)),
            subentry_type=subentry_type,
            title=title,
            unique_id=None,
        ),
    )


async def async_migrate_integration(hass: HomeAssistant) -> None:
    """Merge version 1 entries into one entry per API key, one subentry per agent."""
    # Enabled entries first, so an enabled entry becomes the parent where there is one.
    entries = sorted(
        hass.config_entries.async_entries(DOMAIN), key=lambda e: e.disabled_by is not None
    )
    if not any(entry.version == 1 for entry in entries):
        return
    parents: dict[str, ConfigEntry] = {}
    for entry in entries:
        if entry.version != 1:
            continue
        key = entry.data[CONF_API_KEY]
        parent = parents.setdefault(key, entry)
        all_disabled = all(
            e.disabled_by is not None for e in entries if e.data.get(CONF_API_KEY) == key
        )
        subentry = ConfigSubentry(
            data=entry.options,
            subentry_type=SUBENTRY_CONVERSATION,
            title=entry.title,
            unique_id=None,
        )
        hass.config_entries.async_add_subentry(parent, subentry)
        _move_agent(hass, entry, parent, subentry, all_disabled)
        if parent is entry:
            _ensure_subentry(hass, entry, *CORE_SUBENTRY_STEPS[0][1:])
            hass.config_entries.async_update_entry(
                entry, title=DEFAULT_ENTRY_TITLE, options={}, version=2, minor_version=4
            )
        else:
            await hass.config_entries.async_remove(entry.entry_id)


def _move_agent(
    hass: HomeAssistant,
    old: ConfigEntry,
    parent: ConfigEntry,
    subentry: ConfigSubentry,
    all_disabled: bool,
) -> None:
    """Move a version 1 agent's entity and device onto its new subentry."""
    entity_registry = er.async_get(hass)
    device_registry = dr.async_get(hass)
    device = find_device(device_registry, (DOMAIN, old.entry_id), old.entry_id)
    entity_id = entity_registry.async_get_entity_id("conversation", DOMAIN, old.entry_id)
    if entity_id is not None:
        disabled_by = entity_registry.entities[entity_id].disabled_by
        # Moving to an enabled entry would clear a CONFIG_ENTRY flag; keep it disabled.
        if disabled_by is er.RegistryEntryDisabler.CONFIG_ENTRY and not all_disabled:
            disabled_by = (
                er.RegistryEntryDisabler.DEVICE if device else er.RegistryEntryDisabler.USER
            )
        entity_registry.async_update_entity(
            entity_id,
            config_entry_id=parent.entry_id,
            config_subentry_id=subentry.subentry_id,
            disabled_by=disabled_by,
            new_unique_id=subentry.subentry_id,
        )
    if device is None:
        return
    device_disabled_by = device.disabled_by
    if device_disabled_by is dr.DeviceEntryDisabler.CONFIG_ENTRY and not all_disabled:
        device_disabled_by = dr.DeviceEntryDisabler.USER
    move_device(
        device_registry,
        device,
        old.entry_id,
        parent.entry_id,
        subentry.subentry_id,
        disabled_by=device_disabled_by,
        new_identifiers={(DOMAIN, subentry.subentry_id)},
    )


def _unlink_entry_level_devices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove device links to the entry itself; devices belong to subentries (2.1)."""
    device_registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        if None in device.config_entries_subentries.get(entry.entry_id, set()):
            device_registry.async_update_device(
                device.id, remove_config_entry_id=entry.entry_id, remove_config_subentry_id=None
            )


def _repair_disabled_flags(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Devices and entities of an enabled entry must not stay CONFIG_ENTRY-disabled (2.3)."""
    if entry.disabled_by is not None:
        return
    device_registry = dr.async_get(hass)
    entity_registry = er.async_get(hass)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        if device.disabled_by is dr.DeviceEntryDisabler.CONFIG_ENTRY:
            device_registry.async_update_device(device.id, disabled_by=dr.DeviceEntryDisabler.USER)
    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        if entity.disabled_by is er.RegistryEntryDisabler.CONFIG_ENTRY:
            entity_registry.async_update_entity(
                entity.entity_id, disabled_by=er.RegistryEntryDisabler.DEVICE
            )


def _rename_reasoning_summaries(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Core's 2.7: "short" became "concise", which only the GPT-5 family takes."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type not in (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK):
            continue
        summary = subentry.data.get(CONF_REASONING_SUMMARY)
        if summary == "short":
            summary = "concise"
        if summary == "concise" and not subentry.data.get(CONF_CHAT_MODEL, "").startswith("gpt-5"):
            summary = RECOMMENDED_REASONING_SUMMARY
        if summary != subentry.data.get(CONF_REASONING_SUMMARY):
            data = {**subentry.data, CONF_REASONING_SUMMARY: summary}
            hass.config_entries.async_update_subentry(entry, subentry, data=data)


def _adopt_legacy_speech_keys(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Rename the speech keys earlier releases of this integration stored to core's."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type not in (SUBENTRY_STT, SUBENTRY_TTS):
            continue
        data = {LEGACY_SPEECH_KEYS.get(key, key): value for key, value in subentry.data.items()}
        if subentry.subentry_type == SUBENTRY_TTS:
            # Core's TTS reads both keys unconditionally.
            data.setdefault(CONF_CHAT_MODEL, CORE_TTS_MODEL)
            data.setdefault(CONF_PROMPT, "")
        if data != subentry.data:
            hass.config_entries.async_update_subentry(entry, subentry, data=data)


async def async_migrate_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Bring an entry up to the version its server's entries carry.

    A version 2 entry of any minor version gets core's steps, each made idempotent. An
    OpenAI entry of a later minor (a newer core's, or 2.9 from earlier releases of this
    integration) keeps its number: lowering it would make a newer core skip its own steps.
    Another server's entry then moves to a version core refuses (see const).
    """
    if entry.version == OTHER_SERVER_VERSION:
        return True
    if entry.version > ENTRY_VERSION:
        LOGGER.error("Entry %s comes from a newer version; downgrade refused", entry.title)
        return False
    if entry.version == 1:
        # Only async_setup can merge version 1 entries (it sees all of them at once).
        return False
    minor = entry.minor_version
    LOGGER.debug("Migrating %s from 2.%s", entry.entry_id, minor)
    # With single-owner devices (HA >= 2026.10) HA's own registry migration did this.
    if minor < 2 and not SINGLE_OWNER_DEVICES:
        _unlink_entry_level_devices(hass, entry)
    if minor < 4:
        _repair_disabled_flags(hass, entry)
    if minor < 7:
        _rename_reasoning_summaries(hass, entry)
    for step, subentry_type, title, data in CORE_SUBENTRY_STEPS:
        if minor < step:
            _ensure_subentry(hass, entry, subentry_type, title, data)
    _adopt_legacy_speech_keys(hass, entry)
    version, minor_version = entry_version(entry.data)
    if version != ENTRY_VERSION:
        hass.config_entries.async_update_entry(entry, version=version, minor_version=minor_version)
    elif minor < ENTRY_MINOR_VERSION:
        hass.config_entries.async_update_entry(entry, minor_version=ENTRY_MINOR_VERSION)
    return True
