"""AI Task entities: structured data and images, one entity per AI Task subentry."""

from __future__ import annotations

import json
from typing import Any

import openai

from homeassistant.components import ai_task, conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import OpenAIConfigEntry
from .compat import EVALUATION, vol
from .const import (
    CONF_IMAGE_MODEL,
    DOMAIN,
    LOGGER,
    RECOMMENDED_IMAGE_MODEL,
    SUBENTRY_AI_TASK,
    SUBENTRY_EVALUATION,
)
from .entity import OpenAIBaseLLMEntity, async_add_subentry_entities
from .errors import translate_error
from .images import async_generate_image
from .schema import drop_nulls

if EVALUATION:  # HA 2026.11+; imported with the platform, off the event loop
    from .evaluation import OpenAIEvaluationEntity

# Requests are independent and the server limits them, not Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one AI Task entity per AI Task subentry, and per evaluation subentry."""
    async_add_subentry_entities(
        entry, async_add_entities, (SUBENTRY_AI_TASK,), lambda e, s: [OpenAITaskEntity(e, s)]
    )
    # Before HA 2026.11 an evaluation subentry (core writes one) is kept without an entity.
    if EVALUATION:
        async_add_subentry_entities(
            entry,
            async_add_entities,
            (SUBENTRY_EVALUATION,),
            lambda e, s: [OpenAIEvaluationEntity(e, s)],
        )


def _structured_reply(text: str, structure: vol.Schema) -> Any:
    """Parse and validate a structured reply; a reply that does not fit is an error."""
    try:
        return structure(drop_nulls(json.loads(text)))
    except (ValueError, vol.Invalid) as err:
        LOGGER.debug("Structured reply does not match the task's structure: %s", err)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="invalid_structured_reply",
            translation_placeholders={"message": str(err)},
        ) from err


class OpenAITaskEntity(ai_task.AITaskEntity, OpenAIBaseLLMEntity):
    """Generates data and images for automations."""

    _attr_supported_features = (
        ai_task.AITaskEntityFeature.GENERATE_DATA
        | ai_task.AITaskEntityFeature.GENERATE_IMAGE
        | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS
    )

    async def _async_generate_data(
        self, task: ai_task.GenDataTask, chat_log: conversation.ChatLog
    ) -> ai_task.GenDataTaskResult:
        """Answer a data task, as text or in the task's structure."""
        await self._async_handle_chat_log(chat_log, task.name, task.structure)
        last = chat_log.content[-1]
        text = last.content if isinstance(last, conversation.AssistantContent) else None
        data = _structured_reply(text or "", task.structure) if task.structure else text or ""
        return ai_task.GenDataTaskResult(conversation_id=chat_log.conversation_id, data=data)

    async def _async_generate_image(
        self, task: ai_task.GenImageTask, chat_log: conversation.ChatLog
    ) -> ai_task.GenImageTaskResult:
        """Generate an image with the subentry's image model; HA stores the bytes."""
        if task.attachments:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="image_attachments_unsupported"
            )
        model = self.subentry.data.get(CONF_IMAGE_MODEL, RECOMMENDED_IMAGE_MODEL)
        try:
            image = await async_generate_image(
                self.entry.runtime_data.seam, model, task.instructions
            )
        except openai.OpenAIError as err:
            raise translate_error(self.hass, self.entry, err) from err
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(
                agent_id=self.entity_id, content=image.revised_prompt or task.instructions
            )
        )
        width, _, height = (image.size or "").partition("x")
        return ai_task.GenImageTaskResult(
            image_data=image.data,
            conversation_id=chat_log.conversation_id,
            mime_type=image.mime_type,
            width=int(width) if width.isdigit() else None,
            height=int(height) if height.isdigit() else None,
            model=model,
            revised_prompt=image.revised_prompt,
        )
