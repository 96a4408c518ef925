"""The OpenAI integration: conversation agents and more on one API key."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import openai

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from .capabilities import model_capabilities
from .client import OpenAIConfigEntry, OpenAIRuntimeData, async_create_seam, provider, resolve_model
from .const import (
    DOMAIN,
    LOGGER,
    PROVIDER_COMPATIBLE,
    PROVIDER_OPENAI,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
)
from .errors import api_error_message, error_key
from .images import async_setup_images
from .lifecycle import async_check_models, async_note_recommended_move
from .migration import async_migrate_entry, async_migrate_integration
from .repairs import async_drop_stale_issues
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
# How often the model list (and with it, shutdown dates) is read again.
MODEL_LIST_REFRESH = timedelta(days=1)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration: merge core's first-version entries, register actions."""
    await async_migrate_integration(hass)
    async_setup_services(hass)
    await async_setup_images(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OpenAIConfigEntry) -> bool:
    """Set up an entry: build its client and check the key."""
    runtime = OpenAIRuntimeData(await async_create_seam(hass, entry.data))
    try:
        models = await runtime.seam.list_models()
    except openai.NotFoundError as err:
        # A compatible server without a model list answered: it is up. Elsewhere a 404
        # means a wrong endpoint.
        if provider(entry.data) != PROVIDER_COMPATIBLE:
            raise _not_ready(err) from err
    except openai.OpenAIError as err:
        if error_key(err) == "invalid_auth":
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"message": api_error_message(err)},
            ) from err
        raise _not_ready(err) from err
    else:
        runtime.read_model_list(models)
    entry.runtime_data = runtime
    async_drop_stale_issues(hass)
    _async_check_models(hass, entry)
    if provider(entry.data) == PROVIDER_OPENAI:
        _async_check_lifecycle(hass, entry)
        entry.async_on_unload(
            async_track_time_interval(
                hass, partial(_async_refresh_models, hass, entry), MODEL_LIST_REFRESH
            )
        )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


@callback
def _async_check_lifecycle(hass: HomeAssistant, entry: OpenAIConfigEntry) -> None:
    """Raise the shutdown repairs of the entry's models (OpenAI's servers only)."""
    runtime = entry.runtime_data
    async_check_models(
        hass, entry.entry_id, entry.subentries.values(), runtime.models, runtime.shutdowns
    )
    async_note_recommended_move(
        hass, entry.entry_id, entry.created_at.date(), entry.subentries.values()
    )


async def _async_refresh_models(
    hass: HomeAssistant, entry: OpenAIConfigEntry, _now: datetime
) -> None:
    """Read the model list again (OpenAI announces shutdowns at any time)."""
    try:
        models = await entry.runtime_data.seam.list_models(retry=True)
    except openai.OpenAIError as err:
        LOGGER.debug("Cannot refresh the model list: %s", err)
        return
    if entry.state is not ConfigEntryState.LOADED:  # unloaded while the list was read
        return
    entry.runtime_data.read_model_list(models)
    _async_check_lifecycle(hass, entry)


def _not_ready(err: openai.OpenAIError) -> ConfigEntryNotReady:
    """Return the translated "try again later" for a failed check at setup."""
    return ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key=error_key(err),
        translation_placeholders={"message": api_error_message(err)},
    )


async def async_unload_entry(hass: HomeAssistant, entry: OpenAIConfigEntry) -> bool:
    """Unload an entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: OpenAIConfigEntry) -> None:
    """Drop the removed entry's repairs: nothing is left for them to fix."""
    async_drop_stale_issues(hass, removed=entry.entry_id)


async def _async_update_listener(hass: HomeAssistant, entry: OpenAIConfigEntry) -> None:
    """Reload when the entry or its subentries change."""
    await hass.config_entries.async_reload(entry.entry_id)


def _async_check_models(hass: HomeAssistant, entry: OpenAIConfigEntry) -> None:
    """Raise a repair for agents set to a model this integration cannot use."""
    for subentry in entry.subentries.values():
        issue_id = f"unsupported_model_{subentry.subentry_id}"
        if subentry.subentry_type not in (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK):
            continue
        model = resolve_model(entry.data, subentry.data)
        if model_capabilities(model).supported:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="unsupported_model",
            translation_placeholders={"model": model, "name": subentry.title},
        )
