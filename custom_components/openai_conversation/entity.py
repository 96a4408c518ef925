"""Base entity: device and options; and the provider-agnostic tool loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
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
from .const import DOMAIN, LOGGER, MAX_TOOL_ITERATIONS
from .errors import stream_interrupted, translate_error
from .usage import usage_reporter

# What the SDK lets through from a stream: a dropped connection, or a line of broken JSON.
STREAM_ERRORS: tuple[type[Exception], ...] = (*TRANSPORT_ERRORS, json.JSONDecodeError)


async def _guarded(
    hass: HomeAssistant, entry: OpenAIConfigEntry, stream: AsyncIterator[Delta]
) -> AsyncIterator[Delta]:
    """Relay a backend stream, turning SDK and transport errors into translated ones."""
    try:
        async for delta in stream:
            yield delta
    except openai.OpenAIError as err:
        raise translate_error(hass, entry, err) from err
    except STREAM_ERRORS as err:
        raise stream_interrupted(err) from err


async def async_run_chat_log(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    chat_log: conversation.ChatLog,
    agent_id: str,
    request: TurnRequest,
) -> None:
    """Run model round trips until the model stops calling tools (bounded)."""
    backend = entry.runtime_data.backend
    for _ in range(MAX_TOOL_ITERATIONS):
        stream = _guarded(hass, entry, backend.stream_turn(chat_log, request))
        async for _content in chat_log.async_add_delta_content_stream(agent_id, stream):
            pass
        if not chat_log.unresponded_tool_results:
            return
    LOGGER.warning("%s stopped after %s model calls in one turn", agent_id, MAX_TOOL_ITERATIONS)
    # Keep what the tools did and end the turn with an answer, not an error.
    chat_log.async_add_assistant_content_without_tools(
        conversation.AssistantContent(agent_id=agent_id, content=await _limit_message(hass))
    )


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
            on_usage=usage_reporter(self.hass, chat_log, self.subentry.subentry_id, model),
        )
        await async_run_chat_log(self.hass, self.entry, chat_log, self.entity_id, request)
