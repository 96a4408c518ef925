"""Subentry flows of the model subentries: conversation agents and AI Task."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SubentryFlowResult
from homeassistant.const import CONF_LLM_HASS_API, CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers import llm
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TemplateSelector,
)

from .capabilities import (
    ModelCapabilities,
    capability_name,
    model_capabilities,
    reasoning_summaries,
    service_tiers,
)
from .client import default_model, history_tokens, provider
from .compat import vol
from .const import (
    CONF_CHAT_MODEL,
    CONF_CODE_INTERPRETER,
    CONF_FALLBACK_ENTRY,
    CONF_FALLBACK_MODEL,
    CONF_HISTORY_TOKENS,
    CONF_IMAGE_MODEL,
    CONF_MAX_TOKENS,
    CONF_MODEL_FAMILY,
    CONF_PRO_MODE,
    CONF_PROMPT,
    CONF_REASONING_EFFORT,
    CONF_REASONING_SUMMARY,
    CONF_RECOMMENDED,
    CONF_SERVICE_TIER,
    CONF_STORE_RESPONSES,
    CONF_TEMPERATURE,
    CONF_TIMEOUT,
    CONF_TOP_P,
    CONF_VERBOSITY,
    CONF_WEB_SEARCH,
    CONF_WEB_SEARCH_CONTEXT_SIZE,
    CONF_WEB_SEARCH_COUNTRY,
    CONF_WEB_SEARCH_INLINE_CITATIONS,
    CONF_WEB_SEARCH_TIMEZONE,
    CONF_WEB_SEARCH_USER_LOCATION,
    DEFAULT_AI_TASK_NAME,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_REQUEST_TIMEOUT,
    DOMAIN,
    IMAGE_MODELS,
    MODEL_FAMILIES,
    MODEL_FAMILY_AUTO,
    PROVIDER_OPENAI,
    RECOMMENDED_AI_TASK_OPTIONS,
    RECOMMENDED_CONVERSATION_OPTIONS,
    RECOMMENDED_IMAGE_MODEL,
    RECOMMENDED_MAX_TOKENS,
    RECOMMENDED_REASONING_EFFORT,
    RECOMMENDED_REASONING_SUMMARY,
    RECOMMENDED_SERVICE_TIER,
    RECOMMENDED_VERBOSITY,
    RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE,
    VERBOSITY_LEVELS,
    WEB_SEARCH_CONTEXT_SIZES,
    with_integers,
)
from .subentry_flows import BaseSubentryFlow, async_chat_models, dropdown

# Sampling options: stored only when the user sets them.
SAMPLING_KEYS = frozenset({CONF_TEMPERATURE, CONF_TOP_P})


class ModelFlowHandler(BaseSubentryFlow):
    """Add or reconfigure a model subentry in up to three steps.

    init: name and what the subentry type asks first, plus "recommended"; additional: model
    and token budget; model: only the options the chosen model can use. The step names are
    core's, so flows written for the built-in integration walk this one.
    """

    def _init_fields(self) -> dict[Any, Any]:
        """Return the fields of the first step besides name and recommended."""
        return {}

    def _advanced_fields(self, models: list[SelectOptionDict]) -> dict[Any, Any]:
        return {
            vol.Optional(CONF_CHAT_MODEL, default=default_model(self._get_entry().data)): (
                SelectSelector(
                    SelectSelectorConfig(
                        options=models, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                    )
                )
            ),
            vol.Optional(CONF_MAX_TOKENS, default=RECOMMENDED_MAX_TOKENS): NumberSelector(
                NumberSelectorConfig(min=1, max=128000, step=1, mode=NumberSelectorMode.BOX)
            ),
            # Per agent: a voice agent should give up sooner than a nightly report.
            vol.Optional(CONF_TIMEOUT, default=DEFAULT_REQUEST_TIMEOUT): NumberSelector(
                NumberSelectorConfig(min=1, max=600, step=1, unit_of_measurement="s")
            ),
            **self._family_field(),
            # Optional: asked once, instead, when the model is rate limited or failing.
            **self._fallback_entry_field(),
            vol.Optional(CONF_FALLBACK_MODEL): SelectSelector(
                SelectSelectorConfig(
                    options=models, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
        }

    def _fallback_entry_field(self) -> dict[Any, Any]:
        """Offer this integration's other entries (servers) to serve the fallback model."""
        own = self._get_entry().entry_id
        others = [
            SelectOptionDict(value=entry.entry_id, label=entry.title)
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.entry_id != own
        ]
        if not others:
            return {}
        return {
            vol.Optional(CONF_FALLBACK_ENTRY): SelectSelector(
                SelectSelectorConfig(options=others, mode=SelectSelectorMode.DROPDOWN)
            )
        }

    def _family_field(self) -> dict[Any, Any]:
        """Offer the model family where names are the user's own (deployments, proxies)."""
        if provider(self._get_entry().data) == PROVIDER_OPENAI:
            return {}
        return {
            vol.Optional(CONF_MODEL_FAMILY, default=MODEL_FAMILY_AUTO): dropdown(
                MODEL_FAMILIES, CONF_MODEL_FAMILY
            )
        }

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Name, the type's own fields, and whether to use recommended settings."""
        if user_input is not None:
            if not user_input.get(CONF_LLM_HASS_API):
                user_input.pop(CONF_LLM_HASS_API, None)
                self.options.pop(CONF_LLM_HASS_API, None)
            self.options.update(user_input)
            if user_input[CONF_RECOMMENDED]:
                return self._async_finish()
            return await self.async_step_additional()
        schema: dict[Any, Any] = {}
        if self._is_new:
            schema[vol.Required(CONF_NAME, default=self.default_name)] = str
        schema.update(self._init_fields())
        schema[vol.Required(CONF_RECOMMENDED, default=False)] = BooleanSelector()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), self.options),
        )

    async def async_step_additional(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Model and token budget."""
        errors: dict[str, str] = {}
        if user_input is not None:
            # The schema's default fills the model in; the fallback is optional.
            model = capability_name(user_input, user_input[CONF_CHAT_MODEL])
            fallback = user_input.get(CONF_FALLBACK_MODEL)
            if not model_capabilities(model).supported:
                errors[CONF_CHAT_MODEL] = "model_not_supported"
            elif fallback and not model_capabilities(capability_name({}, fallback)).supported:
                errors[CONF_FALLBACK_MODEL] = "model_not_supported"
            else:
                for key in (CONF_FALLBACK_ENTRY, CONF_FALLBACK_MODEL):
                    if not user_input.get(key):  # a cleared field is left out, not emptied
                        user_input.pop(key, None)
                        self.options.pop(key, None)
                self.options.update(user_input)
                return await self.async_step_model()
        models = await async_chat_models(self._get_entry())
        return self.async_show_form(
            step_id="additional",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(self._advanced_fields(models)), user_input or self.options
            ),
            errors=errors,
        )

    async def async_step_model(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Options the chosen model takes; the others are not offered."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_REASONING_EFFORT) == "minimal":
                # OpenAI refuses these tools with minimal reasoning.
                errors = {
                    tool: f"{tool}_minimal_reasoning"
                    for tool in (CONF_WEB_SEARCH, CONF_CODE_INTERPRETER)
                    if user_input.get(tool)
                }
            if not errors:
                for key in SAMPLING_KEYS - user_input.keys():  # cleared: not sent
                    self.options.pop(key, None)
                self.options.update(user_input)
                if self.options.get(CONF_WEB_SEARCH_USER_LOCATION):
                    self.options.update(self._home_location())
                return self._async_finish()
        schema = vol.Schema(
            self._model_schema(capability_name(self.options, self.options[CONF_CHAT_MODEL]))
        )
        return self.async_show_form(
            step_id="model",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or self.options),
            errors=errors,
        )

    def _model_schema(self, model: str) -> dict[Any, Any]:
        caps = model_capabilities(model)
        schema: dict[Any, Any] = {}
        if not caps.reasoning:
            # No defaults: left empty, they are not sent (backends.sampling_params).
            schema[vol.Optional(CONF_TEMPERATURE)] = NumberSelector(
                NumberSelectorConfig(min=0, max=2, step=0.05)
            )
            schema[vol.Optional(CONF_TOP_P)] = NumberSelector(
                NumberSelectorConfig(min=0, max=1, step=0.05)
            )
        if len(caps.reasoning_efforts) > 1:  # GPT-5 pro reasons at high only: no choice
            default = (
                RECOMMENDED_REASONING_EFFORT
                if RECOMMENDED_REASONING_EFFORT in caps.reasoning_efforts
                else caps.reasoning_efforts[0]
            )
            schema[vol.Optional(CONF_REASONING_EFFORT, default=default)] = dropdown(
                caps.reasoning_efforts, CONF_REASONING_EFFORT
            )
        if caps.verbosity:
            schema[vol.Optional(CONF_VERBOSITY, default=RECOMMENDED_VERBOSITY)] = dropdown(
                VERBOSITY_LEVELS, CONF_VERBOSITY
            )
        openai_server = provider(self._get_entry().data) == PROVIDER_OPENAI
        if caps.reasoning:
            schema[vol.Optional(CONF_REASONING_SUMMARY, default=RECOMMENDED_REASONING_SUMMARY)] = (
                dropdown(reasoning_summaries(model), CONF_REASONING_SUMMARY)
            )
        if openai_server:
            schema.update(self._openai_fields(model, caps))
        if caps.web_search and openai_server:
            schema[vol.Optional(CONF_WEB_SEARCH, default=False)] = BooleanSelector()
            schema[
                vol.Optional(
                    CONF_WEB_SEARCH_CONTEXT_SIZE, default=RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE
                )
            ] = dropdown(WEB_SEARCH_CONTEXT_SIZES, CONF_WEB_SEARCH_CONTEXT_SIZE)
            schema[vol.Optional(CONF_WEB_SEARCH_USER_LOCATION, default=False)] = BooleanSelector()
            schema[vol.Optional(CONF_WEB_SEARCH_INLINE_CITATIONS, default=False)] = (
                BooleanSelector()
            )
        if caps.code_interpreter and openai_server:
            schema[vol.Optional(CONF_CODE_INTERPRETER, default=False)] = BooleanSelector()
        return schema

    def _openai_fields(self, model: str, caps: ModelCapabilities) -> dict[Any, Any]:
        """Return what only OpenAI's own servers take: tier, storage and pro mode."""
        fields: dict[Any, Any] = {}
        if {"flex", "priority"} & set(tiers := service_tiers(model)):
            # Without Flex or Priority, "auto" and "default" are the same: nothing to choose.
            fields[vol.Optional(CONF_SERVICE_TIER, default=RECOMMENDED_SERVICE_TIER)] = dropdown(
                tiers, CONF_SERVICE_TIER
            )
        fields[vol.Optional(CONF_STORE_RESPONSES, default=False)] = BooleanSelector()
        if caps.pro_mode:
            fields[vol.Optional(CONF_PRO_MODE, default=False)] = BooleanSelector()
        return fields

    def _home_location(self) -> dict[str, str]:
        """Approximate location for web search, from Home Assistant's own settings."""
        return {
            CONF_WEB_SEARCH_COUNTRY: self.hass.config.country or "",
            CONF_WEB_SEARCH_TIMEZONE: self.hass.config.time_zone,
        }

    @callback
    def _async_finish(self) -> SubentryFlowResult:
        """Create or update the subentry; recommended mode drops the advanced options."""
        options = with_integers(self.options)
        if options[CONF_RECOMMENDED]:
            options = {
                k: v
                for k, v in options.items()
                if k in (CONF_RECOMMENDED, CONF_PROMPT, CONF_LLM_HASS_API, CONF_NAME)
            }
        return self._save(options)


class ConversationFlowHandler(ModelFlowHandler):
    """Conversation agents: instructions and the LLM APIs they may use come first."""

    default_name = DEFAULT_CONVERSATION_NAME
    recommended = RECOMMENDED_CONVERSATION_OPTIONS

    def _llm_api_options(self) -> list[SelectOptionDict]:
        return [
            SelectOptionDict(label=api.name, value=api.id) for api in llm.async_get_apis(self.hass)
        ]

    def _stored_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Return the LLM APIs as a list of the APIs that still exist.

        Core once stored a single API as a string; an API whose integration is gone can
        be neither offered nor used.
        """
        if stored := options.get(CONF_LLM_HASS_API):
            known = {api.id for api in llm.async_get_apis(self.hass)}
            chosen = [stored] if isinstance(stored, str) else stored
            options[CONF_LLM_HASS_API] = [api for api in chosen if api in known]
        return options

    def _init_fields(self) -> dict[Any, Any]:
        return {
            vol.Optional(CONF_PROMPT): TemplateSelector(),
            vol.Optional(CONF_LLM_HASS_API): SelectSelector(
                SelectSelectorConfig(options=self._llm_api_options(), multiple=True)
            ),
        }

    def _advanced_fields(self, models: list[SelectOptionDict]) -> dict[Any, Any]:
        fields = super()._advanced_fields(models)
        # A conversation grows turn by turn; a small local model's context does not.
        default = history_tokens(self._get_entry().data, {})
        fields[vol.Optional(CONF_HISTORY_TOKENS, default=default)] = NumberSelector(
            NumberSelectorConfig(min=0, max=1_000_000, step=100, mode=NumberSelectorMode.BOX)
        )
        return fields


class AITaskFlowHandler(ModelFlowHandler):
    """AI Task: the model options, plus the image model."""

    default_name = DEFAULT_AI_TASK_NAME
    recommended = RECOMMENDED_AI_TASK_OPTIONS

    def _advanced_fields(self, models: list[SelectOptionDict]) -> dict[Any, Any]:
        fields = super()._advanced_fields(models)
        fields[vol.Optional(CONF_IMAGE_MODEL, default=RECOMMENDED_IMAGE_MODEL)] = SelectSelector(
            SelectSelectorConfig(
                options=list(IMAGE_MODELS), custom_value=True, mode=SelectSelectorMode.DROPDOWN
            )
        )
        return fields
