"""Conversation agents: one entity per conversation subentry."""

from __future__ import annotations

from typing import Literal

from homeassistant.components import conversation
from homeassistant.components.conversation.models import AbstractConversationAgent
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
    AbstractConversationAgent,
    OpenAIBaseLLMEntity,
):
    """An Assist agent backed by an OpenAI model."""

    _attr_supports_streaming = True

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the agent."""
        super().__init__(entry, subentry)
        if subentry.data.get(CONF_LLM_HASS_API):
            self._attr_supported_features = conversation.ConversationEntityFeature.CONTROL

    async def async_added_to_hass(self) -> None:
        """Also answer under the entry's id, which older automations use as agent_id."""
        await super().async_added_to_hass()
        if self._is_entry_agent:
            conversation.async_set_agent(self.hass, self.entry, self)

    async def async_will_remove_from_hass(self) -> None:
        """Stop answering under the entry's id."""
        if self._is_entry_agent:
            conversation.async_unset_agent(self.hass, self.entry)
        await super().async_will_remove_from_hass()

    @property
    def _is_entry_agent(self) -> bool:
        """Return whether this is the entry's first agent (a merged version 1 entry's own)."""
        first = next(
            (s for s in self.entry.subentries.values() if s.subentry_type == SUBENTRY_CONVERSATION),
            None,
        )
        return first is not None and first.subentry_id == self.subentry.subentry_id

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
