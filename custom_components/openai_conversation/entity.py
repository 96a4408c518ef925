"""Base entity: device and options; and the provider-agnostic tool loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
import json

import openai

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.translation import async_get_translations

from .backends import Delta, TurnRequest
from .client import OpenAIConfigEntry, history_tokens, resolve_model
from .compat import TRANSPORT_ERRORS, vol
from .const import CONF_FALLBACK_MODEL, CONF_MODEL_FAMILY, DOMAIN, LOGGER, MAX_TOOL_ITERATIONS
from .errors import ResponseFailedError, fallback_reason, stream_interrupted, translate_error
from .usage import TurnReporter

# What the SDK lets through from a stream: a dropped connection, or a line of broken JSON.
STREAM_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, json.JSONDecodeError)


class _FallbackError(Exception):
    """The model failed before its first word in a way its fallback may not."""

    def __init__(self, reason: str) -> None:
        """Keep the reason (scrubbed) for the log and the trace."""
        super().__init__(reason)
        self.reason = reason


async def _guarded(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    stream: AsyncIterator[Delta],
    *,
    may_fall_back: bool = False,
) -> AsyncIterator[Delta]:
    """Relay a backend stream, turning SDK and transport errors into translated ones."""
    started = False
    try:
        async for delta in stream:
            started = True
            yield delta
    except (openai.OpenAIError, ResponseFailedError) as err:
        # Only before the first delta: after it, the chat log already holds part of a reply.
        if may_fall_back and not started and (reason := fallback_reason(entry, err)):
            raise _FallbackError(reason) from err
        if isinstance(err, ResponseFailedError):
            raise
        raise translate_error(hass, entry, err) from err
    except STREAM_ERRORS as err:
        raise stream_interrupted(err) from err


def _with_fallback(request: TurnRequest, reporter: TurnReporter) -> list[TurnRequest]:
    """Return the request, then the same request to the agent's fallback model, if any."""
    request.on_usage = reporter.usage(request.model)
    fallback = str(request.options.get(CONF_FALLBACK_MODEL) or "")
    if not fallback or fallback == request.model:
        return [request]
    # The fallback's own name says what it takes, not the family of the agent's model.
    options = {k: v for k, v in request.options.items() if k != CONF_MODEL_FAMILY}
    return [
        replace(request, max_retries=0),
        replace(
            request,
            model=fallback,
            options=options,
            max_retries=0,
            on_usage=reporter.usage(fallback),
        ),
    ]


async def async_run_chat_log(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    chat_log: conversation.ChatLog,
    agent_id: str,
    request: TurnRequest,
    reporter: TurnReporter,
) -> None:
    """Run model round trips until the model stops calling tools (bounded).

    With a fallback model, each model is asked once per round trip (no SDK retries), and
    a turn that fell back stays with the fallback.
    """
    requests = _with_fallback(request, reporter)
    for _ in range(MAX_TOOL_ITERATIONS):
        requests = await _round_trip(hass, entry, chat_log, agent_id, requests, reporter)
        if not chat_log.unresponded_tool_results:
            return
    LOGGER.warning("%s stopped after %s model calls in one turn", agent_id, MAX_TOOL_ITERATIONS)
    # Keep what the tools did and end the turn with an answer, not an error.
    chat_log.async_add_assistant_content_without_tools(
        conversation.AssistantContent(agent_id=agent_id, content=await _limit_message(hass))
    )


async def _round_trip(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    chat_log: conversation.ChatLog,
    agent_id: str,
    requests: list[TurnRequest],
    reporter: TurnReporter,
) -> list[TurnRequest]:
    """Answer once, each model asked at most once; return the requests still in play."""
    request, *fallbacks = requests
    backend = entry.runtime_data.backend
    stream = _guarded(
        hass, entry, backend.stream_turn(chat_log, request), may_fall_back=bool(fallbacks)
    )
    try:
        async for _content in chat_log.async_add_delta_content_stream(agent_id, stream):
            pass
    except _FallbackError as err:
        LOGGER.warning(
            "%s: %s failed (%s); asking %s", agent_id, request.model, err, fallbacks[0].model
        )
        reporter.fallback(request.model, fallbacks[0].model, err.reason)
        return await _round_trip(hass, entry, chat_log, agent_id, fallbacks, reporter)
    return requests


async def _limit_message(hass: HomeAssistant) -> str:
    """Return the translated reply for a turn that hit the tool-call bound."""
    translations = await async_get_translations(hass, hass.config.language, "exceptions", {DOMAIN})
    text = translations.get(
        f"component.{DOMAIN}.exceptions.tool_loop_limit.message",
        "I stopped after {limit} rounds of tool calls.",
    )
    return text.replace("{limit}", str(MAX_TOOL_ITERATIONS))


@callback
def async_add_subentry_entities(
    entry: OpenAIConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    subentry_types: tuple[str, ...],
    create: Callable[[OpenAIConfigEntry, ConfigSubentry], Iterable[Entity]],
) -> None:
    """Add a platform's entities for each subentry of the given types, on its device."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type in subentry_types:
            async_add_entities(create(entry, subentry), config_subentry_id=subentry.subentry_id)


class OpenAISubentryEntity(Entity):
    """An entity of one subentry, on a service device of its own."""

    _attr_has_entity_name = True

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry, model: str) -> None:
        """Initialize the entity."""
        self.entry = entry
        self.subentry = subentry
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="OpenAI",
            model=model,
            entry_type=dr.DeviceEntryType.SERVICE,
        )


class OpenAIBaseLLMEntity(OpenAISubentryEntity):
    """A chat model configured by one subentry; the entity is named after its device."""

    _attr_name = None

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity."""
        super().__init__(entry, subentry, resolve_model(entry.data, subentry.data))

    async def _async_handle_chat_log(
        self,
        chat_log: conversation.ChatLog,
        structure_name: str | None = None,
        structure: vol.Schema | None = None,
    ) -> None:
        """Answer the chat log with this subentry's model and options."""
        model = resolve_model(self.entry.data, self.subentry.data)
        request = TurnRequest(
            options=self.subentry.data,
            model=model,
            user=chat_log.conversation_id,
            cache_key=self.subentry.subentry_id,
            structure=structure,
            structure_name=structure_name,
            history_tokens=history_tokens(self.entry.data, self.subentry.data),
        )
        reporter = TurnReporter(self.hass, chat_log, self.subentry.subentry_id)
        await async_run_chat_log(self.hass, self.entry, chat_log, self.entity_id, request, reporter)
