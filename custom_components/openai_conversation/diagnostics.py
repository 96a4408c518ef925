"""Diagnostics: the entry and its subentries with secrets removed, models and usage."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .client import OpenAIConfigEntry, api_mode, provider, resolve_model
from .const import (
    CONF_BASE_URL,
    CONF_ENDPOINT,
    CONF_ORGANIZATION,
    CONF_PROJECT,
    CONF_PROMPT,
    CONF_WEB_SEARCH_CITY,
    CONF_WEB_SEARCH_COUNTRY,
    CONF_WEB_SEARCH_REGION,
    CONF_WEB_SEARCH_TIMEZONE,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
)

# Secrets, where the home is, the servers' addresses (a user name in a URL, a private host)
# and the agents' instructions (they may describe the household).
TO_REDACT = {
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_ENDPOINT,
    CONF_ORGANIZATION,
    CONF_PROJECT,
    CONF_PROMPT,
    CONF_WEB_SEARCH_CITY,
    CONF_WEB_SEARCH_REGION,
    CONF_WEB_SEARCH_COUNTRY,
    CONF_WEB_SEARCH_TIMEZONE,
}


def _usage(hass: HomeAssistant, entry: OpenAIConfigEntry) -> dict[str, dict[str, str]]:
    """Return the usage sensors' current values, per subentry title."""
    titles = {sid: sub.title for sid, sub in entry.subentries.items()}
    usage: dict[str, dict[str, str]] = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if entity.domain != "sensor" or (state := hass.states.get(entity.entity_id)) is None:
            continue
        title = titles.get(entity.config_subentry_id or "", "?")
        usage.setdefault(title, {})[entity.translation_key or entity.entity_id] = state.state
    return usage


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OpenAIConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for an entry."""
    chat_kinds = (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK)
    return {
        "entry": {
            "title": entry.title,
            "version": f"{entry.version}.{entry.minor_version}",
            "provider": provider(entry.data),
            "api_mode": api_mode(entry.data),
            "data": async_redact_data(dict(entry.data), TO_REDACT),
        },
        "subentries": [
            {
                "type": sub.subentry_type,
                "title": sub.title,
                "data": async_redact_data(dict(sub.data), TO_REDACT),
            }
            for sub in entry.subentries.values()
        ],
        "models": sorted(
            {
                resolve_model(entry.data, sub.data)
                for sub in entry.subentries.values()
                if sub.subentry_type in chat_kinds
            }
        ),
        "usage": _usage(hass, entry),
        # Realtime voices may reword a sentence: how often they read one differently.
        "speech": dict((getattr(entry, "runtime_data", None) and entry.runtime_data.speech) or {}),
    }
