"""What setup and the config flow ask a server: the probes' requests, and their answers.

The entry's seam (backends/seam.py) posts them.
"""

from __future__ import annotations

import json
from typing import Final

from openai.types.responses import Response
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

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


def responses_probe(model: str) -> ResponseCreateParamsNonStreaming:
    """Return the request that shows whether the server's Responses API works in full.

    Local servers (llama.cpp, Ollama, vLLM, LM Studio) answer a partial /responses that may
    ignore `text.format`; structured AI Task output then fails. So a server counts only if
    a tiny request constrained by a JSON schema comes back as that schema's one value.
    """
    return {
        "model": model,
        "input": "ping",
        "max_output_tokens": 16,
        "store": False,
        "text": {
            "format": {
                "type": "json_schema",
                "name": "probe",
                "schema": _PROBE_SCHEMA,
                "strict": True,
            }
        },
    }


def answers_probe(response: Response) -> bool:
    """Return whether a response to responses_probe is the schema's one value."""
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
