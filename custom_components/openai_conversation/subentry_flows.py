"""Subentry flows: what every kind shares, the model dropdown, and the evaluation form.

Each kind's forms live with its kind: agent_flows.py (conversation agents, AI Task) and
speech_flows.py (STT, TTS).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import openai

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .capabilities import model_kind
from .client import OpenAIConfigEntry, default_model, provider
from .compat import vol
from .const import (
    CONF_CHAT_MODEL,
    DECISION_MODELS,
    DEFAULT_EVALUATION_NAME,
    LOGGER,
    PROVIDER_AZURE,
    PROVIDER_OPENAI,
    RECOMMENDED_EVALUATION_OPTIONS,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
)
from .lifecycle import shutdown_dates

# Offered in the model dropdown when the server's list cannot be read.
SUGGESTED_MODELS = (
    "gpt-6-luna",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-6-sol",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
)


async def async_chat_models(entry: OpenAIConfigEntry) -> list[SelectOptionDict]:
    """Return the chat models the entry's server lists (suggestions when it cannot).

    A model with a published shutdown date shows it next to its name.
    """
    if entry.state is not ConfigEntryState.LOADED:
        return _model_options(SUGGESTED_MODELS, {})
    if provider(entry.data) == PROVIDER_AZURE:
        return _model_options(azure_deployments(entry), {})
    try:
        listed = await entry.runtime_data.seam.list_models()
    except openai.OpenAIError as err:
        LOGGER.debug("Cannot list models, offering suggestions: %s", err)
        return _model_options(SUGGESTED_MODELS, {})
    models = sorted(model.id for model in listed)
    if provider(entry.data) == PROVIDER_OPENAI:
        models = [m for m in models if model_kind(m) == "chat"]
    return _model_options(models or SUGGESTED_MODELS, shutdown_dates(listed))


def azure_deployments(entry: OpenAIConfigEntry) -> list[str]:
    """Return the deployments an Azure entry's agents and tasks use.

    Azure's /models lists the resource's base models, which requests cannot name; only
    the management API lists deployments. So the dropdown offers the ones in use, and
    another deployment is typed in.
    """
    used = {default_model(entry.data)} | {
        subentry.data[CONF_CHAT_MODEL]
        for subentry in entry.subentries.values()
        if subentry.subentry_type in (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK)
        and subentry.data.get(CONF_CHAT_MODEL)
    }
    return sorted(used)


def _model_options(models: Iterable[str], shutdowns: Mapping[str, date]) -> list[SelectOptionDict]:
    return [
        SelectOptionDict(
            value=model,
            label=f"{model} (shuts down {shutdowns[model].isoformat()})"
            if model in shutdowns
            else model,
        )
        for model in models
    ]


def dropdown(
    options: tuple[str, ...], translation_key: str | None = None, *, custom: bool = False
) -> SelectSelector:
    """Return a dropdown of these options (translated by key; custom: any value typed)."""
    config = SelectSelectorConfig(
        options=list(options), mode=SelectSelectorMode.DROPDOWN, custom_value=custom
    )
    if translation_key:
        config["translation_key"] = translation_key
    return SelectSelector(config)


class BaseSubentryFlow(ConfigSubentryFlow):
    """Starts from the recommended options (adding) or the subentry's own (reconfiguring)."""

    default_name: str
    recommended: Mapping[str, Any]
    options: dict[str, Any]

    @property
    def _is_new(self) -> bool:
        return self.source == "user"

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a subentry."""
        if self._get_entry().state is not ConfigEntryState.LOADED:
            # The forms ask the entry's loaded client for the server's models.
            return self.async_abort(reason="entry_not_loaded")
        self.options = dict(self.recommended)
        return await self.async_step_init()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Reconfigure a subentry."""
        if self._get_entry().state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        self.options = self._stored_options(dict(self._get_reconfigure_subentry().data))
        return await self.async_step_init()

    def _stored_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Return a subentry's stored options as this type's forms take them."""
        return options

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Show the first step."""
        raise NotImplementedError

    @callback
    def _save(self, options: dict[str, Any]) -> SubentryFlowResult:
        """Create the subentry (titled by its name field) or update the one reconfigured."""
        title = options.pop(CONF_NAME, None)
        if self._is_new:
            return self.async_create_entry(title=title or self.default_name, data=options)
        return self.async_update_and_abort(
            self._get_entry(), self._get_reconfigure_subentry(), data=options
        )


class EvaluationFlowHandler(BaseSubentryFlow):
    """Evaluation (HA 2026.11+): a name and the decision model, in one step."""

    default_name = DEFAULT_EVALUATION_NAME
    recommended = RECOMMENDED_EVALUATION_OPTIONS

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Name and model."""
        if user_input is not None:
            options = {**self.options, **user_input}
            return self._save(options)
        schema: dict[Any, Any] = {}
        if self._is_new:
            schema[vol.Required(CONF_NAME, default=self.default_name)] = str
        schema[vol.Required(CONF_CHAT_MODEL)] = dropdown(DECISION_MODELS, custom=True)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), self.options),
        )
