"""One conversation through both wire formats: HA's chat log receives the same.

The rules the two formats share (the user's message, tool calls and their results, a
call that cannot run, the history sent back, structured output) are written once in
backends/common.py; this proves them the same over HTTP. A compatible server is added
through the flow twice, once speaking the Responses API and once Chat Completions only.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import json
from typing import Any

import pytest

from custom_components.openai_conversation.compat import TOOL_RESULT_OBJECTS, vol
from emulator import OpenAIEmulator, Reasoning, Reply, Text, ToolCall
from homeassistant.components import ai_task, conversation
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session, entity_registry as er
from homeassistant.setup import async_setup_component

from .conftest import API_KEY
from .test_providers import _add_entry

TURNS = [
    (
        "Kitchen light on, please",
        [
            Reply(
                [
                    Reasoning("The user wants light."),
                    Text("Turning it on."),
                    ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="call_1"),
                    ToolCall("HassFlyToTheMoon", {}, call_id="call_2"),
                ]
            ),
            Reply([Text("Done; I cannot fly you to the moon.")]),
        ],
    ),
    ("Thanks", [Reply([Text("You are welcome.")])]),
]


@pytest.fixture
async def chat_only_server(socket_enabled: None) -> AsyncGenerator[OpenAIEmulator]:
    """A server that speaks Chat Completions only."""
    server = OpenAIEmulator(api_keys={API_KEY})
    server.responses_api = False
    await server.start()
    yield server
    await server.stop()


async def _entities(hass: HomeAssistant, server: OpenAIEmulator, api_mode: str) -> dict[str, str]:
    """Add the server through the flow; return its agent's and AI Task's entity ids."""
    entry: ConfigEntry = await _add_entry(
        hass, "compatible", {"base_url": server.base_url, "api_key": API_KEY}, "llama3.2"
    )
    assert entry.data["api_mode"] == api_mode
    server.requests.clear()
    registry = er.async_get(hass)
    return {
        e.domain: e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }


def _received(content: conversation.Content) -> list[tuple[Any, ...]]:
    """Return what one piece of the chat log holds, as flat facts."""
    if isinstance(content, conversation.ToolResultContent):
        data = content.result.data if TOOL_RESULT_OBJECTS else content.tool_result
        return [("result", content.tool_call_id, content.tool_name, data)]
    facts: list[tuple[Any, ...]] = [(content.role, content.content)] if content.content else []
    if isinstance(content, conversation.AssistantContent):
        if content.thinking_content:
            facts.insert(0, ("thinking", content.thinking_content))
        facts += [
            ("call", c.id, c.tool_name, c.tool_args, c.external) for c in content.tool_calls or ()
        ]
    return facts


def _by_kind(facts: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """Return the facts of each kind (text, thinking, call, result), each in its order."""
    kinds: dict[str, list[tuple[Any, ...]]] = {}
    for fact in facts:
        kinds.setdefault("text" if fact[0] in ("user", "assistant") else fact[0], []).append(fact)
    return kinds


async def _converse(hass: HomeAssistant, server: OpenAIEmulator, agent: str) -> list[Any]:
    """Hold the conversation; return what the chat log received (the prompt left out)."""
    conversation_id = None
    for text, replies in TURNS:
        server.queue(*replies)
        result = await hass.async_create_task(
            conversation.async_converse(hass, text, conversation_id, Context(), agent_id=agent)
        )
        conversation_id = result.conversation_id
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        return [fact for content in chat_log.content[1:] for fact in _received(content)]


async def _structured(hass: HomeAssistant, server: OpenAIEmulator, entity_id: str) -> Any:
    server.queue(Reply([Text(json.dumps({"name": "Ada", "age": 36}))]))
    result = await ai_task.async_generate_data(
        hass,
        task_name="Person",
        entity_id=entity_id,
        instructions="Who wrote the first program?",
        structure=vol.Schema({vol.Required("name"): str, vol.Optional("age"): int}),
    )
    return result.data


async def test_both_formats_give_the_chat_log_the_same(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    chat_only_server: OpenAIEmulator,
    kitchen_light: str,
) -> None:
    """Text, thinking, a call that runs, a call that cannot, both results, the next turn,
    and an AI Task's structured data: the same whichever format carried them."""
    assert await async_setup_component(hass, "media_source", {})
    responses = await _entities(hass, emulator, "responses")
    chat = await _entities(hass, chat_only_server, "chat_completions")

    received = await _converse(hass, emulator, responses["conversation"])
    assert hass.states.get(kitchen_light).state == "on"
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": kitchen_light}, blocking=True
    )
    chat_received = await _converse(hass, chat_only_server, chat["conversation"])
    assert hass.states.get(kitchen_light).state == "on"
    assert _by_kind(chat_received) == _by_kind(received)
    # Only the order within a reply follows the format: Responses records each call (and
    # runs it) as its item ends, Chat Completions all calls once the message ends.
    assert [fact[0] for fact in received] == [
        "user",
        "thinking",
        "assistant",
        "call",
        "result",
        "call",
        "result",
        "assistant",
        "user",
        "assistant",
    ]
    assert [fact[0] for fact in chat_received][3:7] == ["call", "call", "result", "result"]
    assert _by_kind(received)["result"][1][3]["error"] == "InvalidToolCall"

    # The history sent back in the last turn answers each call right after it.
    (*_, last) = chat_only_server.requests_to("/v1/chat/completions")
    assert [m["role"] for m in last.body["messages"]][1:] == [
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "user",
    ]
    structured = await _structured(hass, emulator, responses["ai_task"])
    assert structured == await _structured(hass, chat_only_server, chat["ai_task"])
    assert structured == {"name": "Ada", "age": 36}
