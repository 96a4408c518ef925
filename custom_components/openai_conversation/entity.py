"""Base entity: device and options; and the provider-agnostic tool loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
import json
from typing import Any

import openai

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.translation import async_get_translations

from .backends import Delta, TurnRequest
from .client import (
    OpenAIConfigEntry,
    default_model,
    fallback_history_tokens,
    history_tokens,
    resolve_model,
)
from .compat import TRANSPORT_ERRORS, vol
from .const import (
    CONF_FALLBACK_ENTRY,
    CONF_FALLBACK_MODEL,
    CONF_MODEL_FAMILY,
    DOMAIN,
    LOGGER,
    MAX_TOOL_ITERATIONS,
)
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


@dataclass(slots=True)
class _Attempt:
    """A request, and the entry (server) it goes to."""

    entry: OpenAIConfigEntry
    request: TurnRequest


def _fallback_target(
    hass: HomeAssistant, entry: OpenAIConfigEntry, options: Mapping[str, Any]
) -> OpenAIConfigEntry | None:
    """Return the entry that serves the agent's fallback (its own unless another is set).

    None when that other entry is gone or not loaded (its server may be down as well).
    """
    if not (entry_id := options.get(CONF_FALLBACK_ENTRY)):
        return entry
    target: OpenAIConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if target is None or target.domain != DOMAIN or target.state is not ConfigEntryState.LOADED:
        LOGGER.info("The fallback server (%s) is not loaded: no fallback", entry_id)
        return None
    return target


def _attempts(
    hass: HomeAssistant, entry: OpenAIConfigEntry, request: TurnRequest, reporter: TurnReporter
) -> list[_Attempt]:
    """Return the request, then the same request to the agent's fallback, if it has one.

    The fallback is a model of the same entry, or of another entry of this integration
    (another server: a local one, say), by default that entry's default model.
    """
    request.on_usage = reporter.usage(request.model)
    options = request.options
    if (target := _fallback_target(hass, entry, options)) is None:
        return [_Attempt(entry, request)]
    model = str(options.get(CONF_FALLBACK_MODEL) or "")
    history = request.history_tokens
    if target is not entry:
        model = model or default_model(target.data)
        history = fallback_history_tokens(target.data, options)
    elif not model or model == request.model:
        return [_Attempt(entry, request)]
    # The fallback's own name says what it takes, not the family of the agent's model.
    fallback_options = {k: v for k, v in options.items() if k != CONF_MODEL_FAMILY}
    fallback = replace(
        request,
        model=model,
        options=fallback_options,
        max_retries=0,
        on_usage=reporter.usage(model),
        history_tokens=history,
    )
    return [_Attempt(entry, replace(request, max_retries=0)), _Attempt(target, fallback)]


async def async_run_chat_log(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    chat_log: conversation.ChatLog,
    agent_id: str,
    request: TurnRequest,
    reporter: TurnReporter,
) -> None:
    """Run model round trips until the model stops calling tools (bounded).

    With a fallback, each model is asked once per round trip (no SDK retries), and a turn
    that fell back stays with the fallback.
    """
    attempts = _attempts(hass, entry, request, reporter)
    try:
        for _ in range(MAX_TOOL_ITERATIONS):
            attempts = await _round_trip(hass, chat_log, agent_id, attempts, reporter)
            if not chat_log.unresponded_tool_results:
                return
    finally:
        # A failed turn's earlier responses were billed too.
        reporter.send()
    LOGGER.warning("%s stopped after %s model calls in one turn", agent_id, MAX_TOOL_ITERATIONS)
    # Keep what the tools did and end the turn with an answer, not an error.
    chat_log.async_add_assistant_content_without_tools(
        conversation.AssistantContent(agent_id=agent_id, content=await _limit_message(hass))
    )


async def _round_trip(
    hass: HomeAssistant,
    chat_log: conversation.ChatLog,
    agent_id: str,
    attempts: list[_Attempt],
    reporter: TurnReporter,
) -> list[_Attempt]:
    """Answer once, each model asked at most once; return the attempts still in play."""
    attempt, *fallbacks = attempts
    entry, request = attempt.entry, attempt.request
    stream = _guarded(
        hass,
        entry,
        entry.runtime_data.seam.stream_turn(chat_log, request),
        may_fall_back=bool(fallbacks),
    )
    try:
        async for _content in chat_log.async_add_delta_content_stream(agent_id, stream):
            pass
    except _FallbackError as err:
        fallback = fallbacks[0]
        server = None if fallback.entry is entry else fallback.entry.title
        LOGGER.warning(
            "%s: %s failed (%s); asking %s%s",
            agent_id,
            request.model,
            err,
            fallback.request.model,
            f" on {server}" if server else "",
        )
        reporter.fallback(request.model, fallback.request.model, err.reason, server)
        return await _round_trip(hass, chat_log, agent_id, fallbacks, reporter)
    return attempts


async def _limit_message(hass: HomeAssistant) -> str:
    """Return the translated reply for a turn that hit the tool-call bound."""
    # HA fills a language's missing strings with English ones, so the key is always there.
    translations = await async_get_translations(hass, hass.config.language, "exceptions", {DOMAIN})
    text = translations[f"component.{DOMAIN}.exceptions.tool_loop_limit.message"]
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
