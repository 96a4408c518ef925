"""Config entries as Home Assistant core's OpenAI integration writes them, version by version.

Reproduced field by field from core's migration and config flow (homeassistant 2026.11.0,
components/openai_conversation): which subentries each minor version holds, with the data
core stores, and the devices and entities core registers for them. `test_migration` checks
this reproduction against core's own migration code wherever the test HA ships it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.compat import SINGLE_OWNER_DEVICES
from custom_components.openai_conversation.const import DOMAIN
from homeassistant.config_entries import ConfigEntry, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, llm

from .conftest import API_KEY

# Core's recommended agent (RECOMMENDED_CONVERSATION_OPTIONS).
CORE_RECOMMENDED_AGENT = {
    "recommended": True,
    "llm_hass_api": ["assist"],
    "prompt": llm.DEFAULT_INSTRUCTIONS_PROMPT,
}


def core_advanced_agent(minor: int) -> dict[str, Any]:
    """An agent a user configured in core's advanced form, with every key core stores."""
    return {
        "recommended": False,
        "llm_hass_api": ["assist"],
        "prompt": "You are a terse butler.",
        "chat_model": "gpt-5-mini",
        "max_tokens": 3000,
        "reasoning_effort": "low",
        # Core stored "short" until its 2.7 step renamed it.
        "reasoning_summary": "short" if minor < 7 else "concise",
        "verbosity": "medium",
        "web_search": True,
        "search_context_size": "medium",
        "user_location": True,
        "city": "Amsterdam",
        "region": "North Holland",
        "country": "NL",
        "timezone": "Europe/Amsterdam",
        "inline_citations": False,
        "code_interpreter": False,
        "service_tier": "flex",
        "store_responses": True,
        "pro_mode": False,
    }


# An AI Task a user added for images, with core's image and tier keys.
CORE_IMAGE_TASK = {
    "recommended": False,
    "chat_model": "gpt-4.1",
    "max_tokens": 3000,
    "temperature": 1.0,
    "top_p": 1.0,
    "image_model": "gpt-image-2.5-flare",
    "service_tier": "priority",
    "store_responses": False,
}

# (first minor version holding it, subentry type, title, data, entity platform)
CORE_DEFAULT_SUBENTRIES: tuple[tuple[int, str, str, dict[str, Any], str], ...] = (
    (3, "ai_task_data", "OpenAI AI Task", {"recommended": True}, "ai_task"),
    (5, "tts", "OpenAI TTS", {"prompt": "", "chat_model": "gpt-4o-mini-tts"}, "tts"),
    (6, "stt", "OpenAI STT", {}, "stt"),
    (8, "ai_task_evaluate", "OpenAI Evaluation", {"chat_model": "gpt-6-luna"}, "ai_task"),
)
PLATFORM = {"conversation": "conversation", "ai_task_data": "ai_task"} | {
    kind: platform for _minor, kind, _title, _data, platform in CORE_DEFAULT_SUBENTRIES
}


def core_subentries(minor: int) -> list[ConfigSubentryData]:
    """The subentries a core entry of version 2.<minor> holds."""
    subentries = [
        ConfigSubentryData(
            data=CORE_RECOMMENDED_AGENT,
            subentry_type="conversation",
            title="OpenAI Conversation",
            unique_id=None,
        ),
        ConfigSubentryData(
            data=core_advanced_agent(minor),
            subentry_type="conversation",
            title="Butler",
            unique_id=None,
        ),
    ]
    for first, kind, title, data, _platform in CORE_DEFAULT_SUBENTRIES:
        if minor >= first:
            subentries.append(
                ConfigSubentryData(data=data, subentry_type=kind, title=title, unique_id=None)
            )
    if minor >= 3:
        subentries.append(
            ConfigSubentryData(
                data=CORE_IMAGE_TASK, subentry_type="ai_task_data", title="Images", unique_id=None
            )
        )
    return subentries


@dataclass
class CoreEntry:
    """A core-written entry and what core registered for each of its subentries."""

    entry: MockConfigEntry
    entity_ids: dict[str, str] = field(default_factory=dict)  # subentry id -> entity id
    device_ids: dict[str, str] = field(default_factory=dict)  # subentry id -> device id


def add_core_entry(hass: HomeAssistant, minor: int) -> CoreEntry:
    """Add a core entry of version 2.<minor> with its registry entries, as core left them."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="ChatGPT",
        data={"api_key": API_KEY},
        version=2,
        minor_version=minor,
        subentries_data=core_subentries(minor),
    )
    entry.add_to_hass(hass)
    core = CoreEntry(entry)
    dev_reg, ent_reg = dr.async_get(hass), er.async_get(hass)
    for subentry in entry.subentries.values():
        device = dev_reg.async_get_or_create(
            config_entry_id=entry.entry_id,
            config_subentry_id=subentry.subentry_id,
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="OpenAI",
            entry_type=dr.DeviceEntryType.SERVICE,
        )
        if minor == 1 and not SINGLE_OWNER_DEVICES:
            # Core 2025.7.0b0 also linked each device to the entry itself; HA 2026.10's
            # registry cannot hold that (its own migration collapsed such devices).
            dev_reg.async_update_device(
                device.id, add_config_entry_id=entry.entry_id, add_config_subentry_id=None
            )
        entity = ent_reg.async_get_or_create(
            PLATFORM[subentry.subentry_type],
            DOMAIN,
            subentry.subentry_id,
            config_entry=entry,
            config_subentry_id=subentry.subentry_id,
            device_id=device.id,
            suggested_object_id=subentry.title.lower().replace(" ", "_"),
        )
        # A user's own setting on the entity, which takeover must keep.
        ent_reg.async_update_entity(entity.entity_id, name=f"{subentry.title} (mine)")
        core.entity_ids[subentry.subentry_id] = entity.entity_id
        core.device_ids[subentry.subentry_id] = device.id
    return core


def subentry_shapes(entry: ConfigEntry) -> list[tuple[str, str, dict[str, Any]]]:
    """The entry's subentries without their random ids, in a stable order."""
    return sorted(
        ((s.subentry_type, s.title, dict(s.data)) for s in entry.subentries.values()),
        key=repr,
    )
