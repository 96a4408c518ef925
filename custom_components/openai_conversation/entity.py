"""Base entity: device, options and the provider-agnostic tool loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import voluptuous as vol

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.translation import async_get_translations

from .backends import Backend, Delta, TokenUsage, TurnRequest
from .backends.responses import ResponsesBackend
from .client import OpenAIConfigEntry
from .const import CONF_CHAT_MODEL, DOMAIN, LOGGER, MAX_TOOL_ITERATIONS, RECOMMENDED_CHAT_MODEL
from .errors import stream_interrupted, translate_error


class OpenAIBaseLLMEntity(Entity):
    """An OpenAI model configured by one subentry."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity."""
        self.entry = entry
        self.subentry = subentry
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = dr.DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="OpenAI",
            model=subentry.data.get(CONF_CHAT_MODEL, RECOMMENDED_CHAT_MODEL),
            entry_type=dr.DeviceEntryType.SERVICE,
        )

    @property
    def backend(self) -> Backend:
        """Return the backend that speaks to the entry's server."""
        return ResponsesBackend(self.entry.runtime_data.client)

    def _record_usage(self, chat_log: conversation.ChatLog, usage: TokenUsage) -> None:
        chat_log.async_trace(
            {
                "stats": {
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cached_input_tokens": usage.cached_tokens,
                }
            }
        )

    async def _guarded(self, stream: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
        """Relay a backend stream, turning SDK errors into translated ones."""
        try:
            async for delta in stream:
                yield delta
        except openai.OpenAIError as err:
            raise translate_error(self.hass, self.entry, err) from err
        except httpx.TransportError as err:
            raise stream_interrupted(err) from err

    async def _async_handle_chat_log(
        self,
        chat_log: conversation.ChatLog,
        structure_name: str | None = None,
        structure: vol.Schema | None = None,
    ) -> None:
        """Run model round trips until the model stops calling tools (bounded)."""
        request = TurnRequest(
            options=self.subentry.data,
            user=chat_log.conversation_id,
            structure=structure,
            structure_name=structure_name,
            on_usage=lambda usage: self._record_usage(chat_log, usage),
        )
        for _ in range(MAX_TOOL_ITERATIONS):
            stream = self._guarded(self.backend.stream_turn(chat_log, request))
            async for _content in chat_log.async_add_delta_content_stream(self.entity_id, stream):
                pass
            if not chat_log.unresponded_tool_results:
                return
        LOGGER.warning(
            "%s stopped after %s model calls in one turn", self.entity_id, MAX_TOOL_ITERATIONS
        )
        # Keep what the tools did and end the turn with an answer, not an error.
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(
                agent_id=self.entity_id, content=await self._tool_limit_message()
            )
        )

    async def _tool_limit_message(self) -> str:
        """Return the translated reply for a turn that hit the tool-call bound."""
        key = f"component.{DOMAIN}.exceptions.tool_loop_limit.message"
        translations = await async_get_translations(
            self.hass, self.hass.config.language, "exceptions", {DOMAIN}
        )
        return translations.get(key, "I stopped after too many tool calls.").replace(
            "{limit}", str(MAX_TOOL_ITERATIONS)
        )
