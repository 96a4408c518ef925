"""The OpenAI integration: conversation agents and more on one API key."""

from __future__ import annotations

import openai

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .client import OpenAIConfigEntry, OpenAIRuntimeData, async_create_client, create_backend
from .const import DOMAIN, VALIDATION_TIMEOUT
from .errors import api_error_message, error_key
from .images import async_register_image_path
from .migration import async_migrate_entry, async_migrate_integration
from .services import async_setup_services

__all__ = ["async_migrate_entry"]

PLATFORMS = (
    Platform.AI_TASK,
    Platform.CONVERSATION,
    Platform.SENSOR,
    Platform.STT,
    Platform.TTS,
)
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration: merge core's first-version entries, register actions."""
    await async_migrate_integration(hass)
    async_setup_services(hass)
    await async_register_image_path(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OpenAIConfigEntry) -> bool:
    """Set up an entry: build its client and check the key."""
    client = await async_create_client(hass, entry.data)
    try:
        await client.with_options(timeout=VALIDATION_TIMEOUT, max_retries=0).models.list()
    except openai.OpenAIError as err:
        key = error_key(err)
        placeholders = {"message": api_error_message(err)}
        if key == "invalid_auth":
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    entry.runtime_data = OpenAIRuntimeData(client, create_backend(hass, client, entry.data))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: OpenAIConfigEntry) -> bool:
    """Unload an entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def _async_update_listener(hass: HomeAssistant, entry: OpenAIConfigEntry) -> None:
    """Reload when the entry or its subentries change."""
    await hass.config_entries.async_reload(entry.entry_id)
