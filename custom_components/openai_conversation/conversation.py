"""Conversation agents: one entity per conversation subentry."""

from __future__ import annotations

from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_LLM_HASS_API, MATCH_ALL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import OpenAIConfigEntry
from .const import CONF_PROMPT, DOMAIN, SUBENTRY_CONVERSATION
from .entity import OpenAIBaseLLMEntity, async_add_subentry_entities

# Requests are independent and the server limits them, not Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one conversation entity per conversation subentry."""
    async_add_subentry_entities(
        entry,
        async_add_entities,
        (SUBENTRY_CONVERSATION,),
        lambda e, s: [OpenAIConversationEntity(e, s)],
    )


class OpenAIConversationEntity(
    conversation.ConversationEntity,
    OpenAIBaseLLMEntity,
):
    """An Assist agent backed by an OpenAI model."""

    _attr_supports_streaming = True

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the agent."""
        super().__init__(entry, subentry)
        if subentry.data.get(CONF_LLM_HASS_API):
            self._attr_supported_features = conversation.ConversationEntityFeature.CONTROL

    @property
    def supported_languages(self) -> Literal["*"]:
        """Return the languages the agent understands: any."""
        return MATCH_ALL

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Answer one user message."""
        options = self.subentry.data
        try:
            await chat_log.async_provide_llm_data(
                user_input.as_llm_context(DOMAIN),
                options.get(CONF_LLM_HASS_API),
                options.get(CONF_PROMPT),
                user_input.extra_system_prompt,
            )
        except conversation.ConverseError as err:
            return err.as_conversation_result()
        await self._async_handle_chat_log(chat_log)
        return conversation.async_get_result_from_chat_log(user_input, chat_log)
