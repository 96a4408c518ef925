"""What setup and the config flow ask a server: its models, and what requests it takes."""

from __future__ import annotations

import json
from typing import Final

import openai
from openai.types import Model

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.ulid import ulid_now

from ..const import (
    CONF_MAX_TOKENS,
    CONF_TIMEOUT,
    RECOMMENDED_CONVERSATION_OPTIONS,
    VALIDATION_TIMEOUT,
)
from . import Backend, TurnRequest

# A reply this schema constrains can only be {"ok": true}; free text almost never is.
_PROBE_SCHEMA: Final = {
    "type": "object",
    "properties": {"ok": {"type": "boolean", "enum": [True]}},
    "required": ["ok"],
    "additionalProperties": False,
}


async def async_list_models(client: openai.AsyncOpenAI, *, retry: bool = False) -> list[Model]:
    """Return every model the server lists; someone waits on it, so it is quick."""
    client = client.with_options(
        timeout=VALIDATION_TIMEOUT, max_retries=client.max_retries if retry else 0
    )
    return [model async for model in client.models.list()]


async def async_speaks_responses(client: openai.AsyncOpenAI, model: str) -> bool:
    """Return whether the server's Responses API works in full for this model.

    Local servers (llama.cpp, Ollama, vLLM, LM Studio) answer a partial /responses that may
    ignore `text.format`; structured AI Task output then fails. So a server counts only if
    a tiny request constrained by a JSON schema comes back as that schema's one value.
    """
    try:
        response = await client.with_options(
            timeout=VALIDATION_TIMEOUT, max_retries=0
        ).responses.create(
            model=model,
            input="ping",
            max_output_tokens=16,
            store=False,
            text={
                "format": {
                    "type": "json_schema",
                    "name": "probe",
                    "schema": _PROBE_SCHEMA,
                    "strict": True,
                }
            },
        )
    except openai.OpenAIError:
        return False
    try:
        return bool(json.loads(response.output_text) == {"ok": True})
    except (TypeError, ValueError):  # no output at all, or not JSON
        return False


async def async_probe_turn(hass: HomeAssistant, backend: Backend, model: str) -> None:
    """Send the request a new agent sends, only short, and read the reply to its end.

    The server's refusal raises the SDK's error, so the flow can stop before an entry
    exists whose every turn would fail. A reply cut short (the probe asks for 16 tokens)
    is fine here; a response the server ends as failed, or a stream that breaks off or
    ends early, is raised.
    """
    chat_log = conversation.ChatLog(hass, ulid_now())
    chat_log.async_add_user_content(conversation.UserContent("ping"))
    request = TurnRequest(
        options={
            **RECOMMENDED_CONVERSATION_OPTIONS,
            CONF_MAX_TOKENS: 16,
            CONF_TIMEOUT: VALIDATION_TIMEOUT,
        },
        model=model,
    )
    try:
        async for _delta in backend.stream_turn(chat_log, request):
            pass
    except HomeAssistantError as err:
        if err.translation_key != "response_incomplete":
            raise
