"""Config flow: one entry per API key and server (OpenAI, Azure OpenAI, or compatible)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import openai

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .agent_flows import AITaskFlowHandler, ConversationFlowHandler
from .backends.seam import Seam
from .client import async_create_seam, default_model, normalize_azure, provider
from .compat import EVALUATION, TRANSPORT_ERRORS, vol
from .const import (
    API_MODE_AUTO,
    API_MODE_CHAT,
    API_MODE_RESPONSES,
    CONF_API_MODE,
    CONF_API_VERSION,
    CONF_BASE_URL,
    CONF_DEFAULT_MODEL,
    CONF_ENDPOINT,
    CONF_ORGANIZATION,
    CONF_PROJECT,
    CONF_PROVIDER,
    DEFAULT_AZURE_API_VERSION,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_ENTRY_TITLE,
    DOMAIN,
    LOGGER,
    OTHER_SERVER_MINOR_VERSION,
    OTHER_SERVER_VERSION,
    PROVIDER_AZURE,
    PROVIDER_COMPATIBLE,
    PROVIDER_OPENAI,
    RECOMMENDED_CONVERSATION_OPTIONS,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    SUBENTRY_EVALUATION,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from .errors import ResponseFailedError, async_log_reason
from .migration import DEFAULT_SUBENTRIES, OPENAI_ONLY_SUBENTRIES, entry_version
from .speech_flows import STTFlowHandler, TTSFlowHandler
from .subentry_flows import EvaluationFlowHandler

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
KEY_SCHEMA = vol.Schema({vol.Required(CONF_API_KEY): _PASSWORD})
SCHEMAS = {
    PROVIDER_OPENAI: vol.Schema(
        {
            vol.Required(CONF_API_KEY): _PASSWORD,
            vol.Optional(CONF_ORGANIZATION): str,
            vol.Optional(CONF_PROJECT): str,
        }
    ),
    PROVIDER_AZURE: vol.Schema(
        {
            vol.Required(CONF_ENDPOINT): _URL,
            vol.Required(CONF_API_KEY): _PASSWORD,
            vol.Optional(CONF_API_VERSION, default=DEFAULT_AZURE_API_VERSION): str,
            vol.Optional(CONF_DEFAULT_MODEL): str,
        }
    ),
    PROVIDER_COMPATIBLE: vol.Schema(
        {
            vol.Required(CONF_BASE_URL): _URL,
            vol.Optional(CONF_API_KEY): _PASSWORD,
            vol.Required(CONF_API_MODE, default=API_MODE_AUTO): SelectSelector(
                SelectSelectorConfig(
                    options=[API_MODE_AUTO, API_MODE_RESPONSES, API_MODE_CHAT],
                    mode=SelectSelectorMode.LIST,
                    translation_key=CONF_API_MODE,
                )
            ),
        }
    ),
}


class ValidationError(Exception):
    """A user's settings failed the live check; args[0] is the error key."""


def _server_url(url: str) -> str:
    """Return a server's address without spaces or trailing slashes.

    Anything but an http(s) URL with a host is the form's error: the SDK fails on it
    before asking the server anything.
    """
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # an unclosed IPv6 bracket
        usable = False
    if not usable:
        raise ValidationError("invalid_url")
    return url


def _normalize(kind: str, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return entry data from a form: provider added, URLs normalized."""
    data = {k: v for k, v in user_input.items() if v not in (None, "")}
    data[CONF_PROVIDER] = kind
    if kind != PROVIDER_COMPATIBLE and not data.get(CONF_API_KEY):
        raise ValidationError("invalid_auth")  # a blank key sent past the form's check
    if kind == PROVIDER_AZURE:
        root, deployment, version = normalize_azure(data.get(CONF_ENDPOINT, ""))
        data[CONF_ENDPOINT] = _server_url(root)
        if version and data.get(CONF_API_VERSION) in (None, DEFAULT_AZURE_API_VERSION):
            data[CONF_API_VERSION] = version
        if deployment and not data.get(CONF_DEFAULT_MODEL):
            data[CONF_DEFAULT_MODEL] = deployment
        if not data.get(CONF_DEFAULT_MODEL):
            raise ValidationError("deployment_required")
    elif kind == PROVIDER_COMPATIBLE:
        data[CONF_BASE_URL] = _server_url(data.get(CONF_BASE_URL, ""))
    return data


async def _resolve_api_mode(seam: Seam, data: dict[str, Any]) -> None:
    """Resolve "Automatic" with the model agents will use (support varies per model)."""
    if data.get(CONF_API_MODE, API_MODE_AUTO) == API_MODE_AUTO:
        speaks = await seam.speaks_responses(data[CONF_DEFAULT_MODEL])
        data[CONF_API_MODE] = API_MODE_RESPONSES if speaks else API_MODE_CHAT


async def _check_turn(hass: HomeAssistant, data: dict[str, Any]) -> None:
    """Probe with the request agents will send: a refused shape fails the flow, not turns.

    Its own seam: the API mode was resolved after the first one was built.
    """
    seam = await async_create_seam(hass, data, check=True)
    try:
        await seam.probe_turn(default_model(data))
    except openai.NotFoundError as err:
        raise ValidationError(
            "deployment_not_found" if provider(data) == PROVIDER_AZURE else "model_not_found"
        ) from err
    except (openai.BadRequestError, ResponseFailedError) as err:
        LOGGER.warning(
            "The server refused the request agents send: %s", await async_log_reason(hass, err)
        )
        raise ValidationError("request_refused") from err
    except HomeAssistantError as err:  # the stream ended before the response did
        LOGGER.warning(
            "The server's reply to the request agents send broke off: %s",
            await async_log_reason(hass, err),
        )
        raise ValidationError("cannot_connect") from err
    except TRANSPORT_ERRORS as err:
        LOGGER.warning("The connection broke off during the request agents send: %s", err)
        raise ValidationError("cannot_connect") from err


@contextmanager
def _server_errors() -> Iterator[None]:
    """Turn the server's answers to a check into the form's error keys."""
    try:
        yield
    except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
        raise ValidationError("invalid_auth") from err
    except (openai.APIConnectionError, openai.InternalServerError) as err:
        raise ValidationError("cannot_connect") from err
    except openai.OpenAIError as err:
        LOGGER.warning("Unexpected answer while checking the settings: %s", err)
        raise ValidationError("unknown") from err


async def async_validate(hass: HomeAssistant, data: dict[str, Any]) -> list[str]:
    """Check the settings live; return the server's model ids. Sets the API mode."""
    kind = provider(data)
    seam = await async_create_seam(hass, data, check=True)
    with _server_errors():
        try:
            models = [model.id for model in await seam.list_models()]
        except openai.NotFoundError as err:
            if kind == PROVIDER_AZURE:
                raise ValidationError("azure_not_found") from err
            models = []  # some compatible servers have no model list
        if kind == PROVIDER_AZURE:
            await _resolve_api_mode(seam, data)
            await _check_turn(hass, data)
    return models


async def async_validate_model(hass: HomeAssistant, data: dict[str, Any]) -> None:
    """Check a compatible server's model with the request agents send. Sets the API mode."""
    seam = await async_create_seam(hass, data, check=True)
    with _server_errors():
        await _resolve_api_mode(seam, data)
        await _check_turn(hass, data)


def _title(data: Mapping[str, Any]) -> str:
    kind = provider(data)
    if kind == PROVIDER_AZURE:
        return f"Azure OpenAI ({urlsplit(data[CONF_ENDPOINT]).hostname})"
    if kind == PROVIDER_COMPATIBLE:
        return f"OpenAI-compatible ({urlsplit(data[CONF_BASE_URL]).netloc})"
    return DEFAULT_ENTRY_TITLE


def default_subentries(data: Mapping[str, Any]) -> list[ConfigSubentryData]:
    """Return the subentries a new entry starts with (speech and evaluation: OpenAI only)."""
    chat_only = provider(data) != PROVIDER_OPENAI
    subentries = [
        ConfigSubentryData(
            subentry_type=SUBENTRY_CONVERSATION,
            data=RECOMMENDED_CONVERSATION_OPTIONS,
            title=DEFAULT_CONVERSATION_NAME,
            unique_id=None,
        )
    ]
    for kind, title, options in DEFAULT_SUBENTRIES:
        if chat_only and kind in OPENAI_ONLY_SUBENTRIES:
            continue
        if kind == SUBENTRY_EVALUATION and not EVALUATION:
            continue  # Home Assistant before 2026.11 cannot evaluate
        subentries.append(
            ConfigSubentryData(subentry_type=kind, data=options, title=title, unique_id=None)
        )
    return subentries


def _key_optional(schema: vol.Schema) -> vol.Schema:
    """Return a server form whose key may be left empty (reconfigure keeps the stored one)."""
    return vol.Schema(
        {
            vol.Optional(CONF_API_KEY) if str(key) == CONF_API_KEY else key: value
            for key, value in schema.schema.items()
        }
    )


def _identity(data: Mapping[str, Any]) -> tuple[str, str, str]:
    """What makes two entries the same: provider, server and key."""
    server = data.get(CONF_ENDPOINT) or data.get(CONF_BASE_URL) or ""
    return provider(data), server, data.get(CONF_API_KEY, "")


class OpenAIConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add an OpenAI, Azure OpenAI or OpenAI-compatible server."""

    # The highest version this integration writes; OpenAI entries keep core's (see const).
    VERSION = OTHER_SERVER_VERSION
    MINOR_VERSION = OTHER_SERVER_MINOR_VERSION

    def __init__(self) -> None:
        """Initialize the flow."""
        self._data: dict[str, Any] = {}
        self._models: list[str] = []

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the kind of server."""
        return self.async_show_menu(
            step_id="user", menu_options=[PROVIDER_OPENAI, PROVIDER_AZURE, PROVIDER_COMPATIBLE]
        )

    async def async_step_openai(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """OpenAI: API key, optional organization and project."""
        return await self._async_server_step(PROVIDER_OPENAI, user_input)

    async def async_step_azure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Azure OpenAI: endpoint (or a pasted deployment URL), key, API version, deployment."""
        return await self._async_server_step(PROVIDER_AZURE, user_input)

    async def async_step_compatible(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An OpenAI-compatible server: base URL, optional key, API mode."""
        return await self._async_server_step(PROVIDER_COMPATIBLE, user_input)

    async def _async_server_step(
        self, kind: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        reconfiguring = self.source == SOURCE_RECONFIGURE
        if user_input is not None:
            if reconfiguring and not user_input.get(CONF_API_KEY):
                # Left empty: the stored key stays (the form never shows it).
                stored = self._get_reconfigure_entry().data.get(CONF_API_KEY)
                user_input = {**user_input, CONF_API_KEY: stored} if stored else user_input
            try:
                data = _normalize(kind, user_input)
                if self._is_duplicate(data):
                    return self.async_abort(reason="already_configured")
                self._models = await async_validate(self.hass, data)
            except ValidationError as err:
                errors["base"] = err.args[0]
            else:
                self._data = data
                if kind == PROVIDER_COMPATIBLE:
                    return await self.async_step_model()
                return self._async_finish()
        suggested = user_input if user_input is not None else self._current_data()
        schema = _key_optional(SCHEMAS[kind]) if reconfiguring else SCHEMAS[kind]
        if reconfiguring:
            suggested = {k: v for k, v in suggested.items() if k != CONF_API_KEY}
        return self.async_show_form(
            step_id=kind,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_model(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The model agents of a compatible server use unless they name one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**self._data, CONF_DEFAULT_MODEL: user_input[CONF_DEFAULT_MODEL]}
            try:
                await async_validate_model(self.hass, data)
            except ValidationError as err:
                errors["base"] = err.args[0]
            else:
                self._data = data
                return self._async_finish()
        schema = vol.Schema(
            {
                vol.Required(CONF_DEFAULT_MODEL): SelectSelector(
                    SelectSelectorConfig(
                        options=self._models, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                    )
                )
            }
        )
        suggested = user_input or {CONF_DEFAULT_MODEL: self._current_data().get(CONF_DEFAULT_MODEL)}
        return self.async_show_form(
            step_id="model",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    def _current_data(self) -> Mapping[str, Any]:
        """Return the values to show: the entry's own when reconfiguring (same provider)."""
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry().data
        return {}

    def _is_duplicate(self, data: Mapping[str, Any]) -> bool:
        own = self._get_reconfigure_entry().entry_id if self.source == SOURCE_RECONFIGURE else None
        return any(
            _identity(entry.data) == _identity(data) and entry.entry_id != own
            for entry in self._async_current_entries(include_ignore=False)
        )

    @callback
    def async_create_entry(self, **kwargs: Any) -> ConfigFlowResult:
        """Create the entry with the version its provider's entries carry."""
        result = super().async_create_entry(**kwargs)
        result["version"], result["minor_version"] = entry_version(result["data"])
        return result

    @callback
    def _async_finish(self) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            # A title the user chose stays; the one this flow gave follows the server.
            title = _title(self._data) if entry.title == _title(entry.data) else entry.title
            return self._async_save_and_abort(entry, self._data, title)
        return self.async_create_entry(
            title=_title(self._data), data=self._data, subentries=default_subentries(self._data)
        )

    @callback
    def _async_save_and_abort(
        self, entry: ConfigEntry, data: dict[str, Any], title: str
    ) -> ConfigFlowResult:
        """Store reauth's or reconfigure's settings; the entry reloads once, if at all.

        A loaded entry reloads only through its update listener, which also serves the
        subentry flows; it runs when something changed. An entry that failed to set up
        has no listener, so only then does the flow reload it. Reloading from the flow
        as well would reload twice, and HA 2026.12 refuses it.
        """
        if entry.update_listeners:
            return self.async_update_and_abort(entry, data=data, title=title)
        return self.async_update_reload_and_abort(entry, data=data, title=title)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change an entry's server settings or key (its provider stays)."""
        kind = provider(self._get_reconfigure_entry().data)
        return await self._async_server_step(kind, None)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauth after the key was refused."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new key for the refused entry."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            try:
                await async_validate(self.hass, data)
            except ValidationError as err:
                errors["base"] = err.args[0]
            else:
                return self._async_save_and_abort(entry, data, entry.title)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=KEY_SCHEMA,
            errors=errors,
            description_placeholders={"title": entry.title},
        )

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry types an entry can hold."""
        types: dict[str, type[ConfigSubentryFlow]] = {
            SUBENTRY_CONVERSATION: ConversationFlowHandler,
            SUBENTRY_AI_TASK: AITaskFlowHandler,
            SUBENTRY_STT: STTFlowHandler,
            SUBENTRY_TTS: TTSFlowHandler,
        }
        # Home Assistant 2026.11+; the decisions API is OpenAI's own.
        if EVALUATION and provider(config_entry.data) == PROVIDER_OPENAI:
            types[SUBENTRY_EVALUATION] = EvaluationFlowHandler
        return types
