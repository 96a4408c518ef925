"""Code interpreter runs land in HA's chat log as a tool call with its result, as in core.

The server runs the code itself: the chat log records the call as external (HA runs
nothing) and its result, while the next request sends the server's own item back, never
a function call the server did not make.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.compat import TOOL_RESULT_OBJECTS
from emulator import OpenAIEmulator, Reply, Text
from emulator.replies import CodeInterpreter, WebSearch
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session

from .test_fallback import RATE_LIMITED, _agent_falling_back_to, local_server  # noqa: F401
from .test_subentry_forms import agent_through_the_form

CODE = "import math\nmath.sqrt(55555)"
ANSWER = "The square root of 55555 is about 235.70108188126758."


def _ran(status: str = "completed") -> Reply:
    return Reply([CodeInterpreter(CODE, "235.70108188126758\n", status), Text(ANSWER)])


def _chat_log(hass: HomeAssistant, conversation_id: str) -> list[conversation.Content]:
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        return list(chat_log.content)


def _result(content: conversation.ToolResultContent) -> tuple[dict[str, Any], bool]:
    """Return what a recorded tool result holds, and whether it is an error."""
    if TOOL_RESULT_OBJECTS:
        return dict(content.result.data), content.result.error
    return dict(content.tool_result), False


async def _ask(
    hass: HomeAssistant, text: str, agent: str, conversation_id: str | None = None
) -> conversation.ConversationResult:
    return await hass.async_create_task(
        conversation.async_converse(hass, text, conversation_id, Context(), agent_id=agent)
    )


@pytest.mark.parametrize("status", ["completed", "incomplete", "failed"])
async def test_a_run_is_recorded_as_a_tool_call_with_its_result(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, status: str
) -> None:
    """The code as the call's arguments; container, outputs and status as its result."""
    await agent_through_the_form(hass, setup_entry, {"code_interpreter": True})
    emulator.queue(_ran(status))
    result = await _ask(hass, "Square root of 55555, in Python please", "conversation.sampler")
    assert result.response.speech["plain"]["speech"] == ANSWER
    body = emulator.requests_to("/v1/responses")[-1].body
    assert {"type": "code_interpreter", "container": {"type": "auto"}} in body["tools"]
    assert "code_interpreter_call.outputs" in body["include"]

    *_, asked, call, output, answer = _chat_log(hass, result.conversation_id)
    assert asked.content == "Square root of 55555, in Python please"
    assert isinstance(call, conversation.AssistantContent)
    (tool_call,) = call.tool_calls or ()
    assert (tool_call.tool_name, tool_call.tool_args, tool_call.external) == (
        "code_interpreter",
        {"code": CODE},
        True,
    )
    assert isinstance(output, conversation.ToolResultContent)
    assert (output.tool_call_id, output.tool_name) == (tool_call.id, "code_interpreter")
    data, error = _result(output)
    assert data == {
        "container_id": data["container_id"],
        "output": [{"type": "logs", "logs": "235.70108188126758\n"}],
        "status": status,
    }
    assert data["container_id"].startswith("cntr_")
    assert error is (TOOL_RESULT_OBJECTS and status == "failed")
    assert answer.content == ANSWER


async def test_the_next_turn_sends_the_run_back_as_the_servers_item(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The run goes back as the code_interpreter_call item it came as; the recorded call
    and result are not sent as a function call and its output."""
    await agent_through_the_form(hass, setup_entry, {"code_interpreter": True})
    emulator.queue(_ran("incomplete"), Reply([Text("You are welcome.")]))
    first = await _ask(hass, "Square root of 55555?", "conversation.sampler")
    await _ask(hass, "Thanks", "conversation.sampler", first.conversation_id)
    items = emulator.requests_to("/v1/responses")[-1].body["input"]
    asked = next(n for n, i in enumerate(items) if i.get("content") == "Square root of 55555?")
    thanked = next(n for n, i in enumerate(items) if i.get("content") == "Thanks")
    replayed = items[asked + 1 : thanked]
    assert [i["type"] for i in replayed] == ["code_interpreter_call", "message"]
    assert (replayed[0]["code"], replayed[0]["status"]) == (CODE, "incomplete")
    assert replayed[0]["outputs"] == [{"type": "logs", "logs": "235.70108188126758\n"}]


async def test_a_fallback_server_gets_neither_the_run_nor_its_record(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    local_server: OpenAIEmulator,  # noqa: F811
) -> None:
    """The run is OpenAI's: a local Chat Completions server gets the answer that followed
    it, not a tool call it never made."""
    _, ids = await _agent_falling_back_to(
        hass, emulator, local_server, reasoning_effort="low", code_interpreter=True
    )
    emulator.queue(_ran(), RATE_LIMITED)
    local_server.queue(Reply([Text("Glad to help.")]))
    first = await _ask(hass, "Square root of 55555?", ids["conversation"])
    assert first.response.speech["plain"]["speech"] == ANSWER
    second = await _ask(hass, "Thanks", ids["conversation"], first.conversation_id)
    assert second.response.speech["plain"]["speech"] == "Glad to help."
    (sent,) = local_server.requests_to("/v1/chat/completions")
    assert [m["role"] for m in sent.body["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert "tool_calls" not in sent.body["messages"][2]
    assert sent.body["messages"][2]["content"] == ANSWER


async def test_a_web_search_is_recorded_as_a_tool_call_with_its_result(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A search the server ran: its action as the call's arguments, its status as the
    result (as core records it); the next turn sends the server's item back, not a call."""
    await agent_through_the_form(hass, setup_entry, {"web_search": True})
    emulator.queue(Reply([WebSearch("weather Leiden"), Text("Sunny.")]), Reply([Text("Bye.")]))
    first = await _ask(hass, "Weather in Leiden?", "conversation.sampler")
    assert first.response.speech["plain"]["speech"] == "Sunny."
    *_, call, output, answer = _chat_log(hass, first.conversation_id)
    assert isinstance(call, conversation.AssistantContent)
    (tool_call,) = call.tool_calls or ()
    assert (tool_call.tool_name, tool_call.tool_args, tool_call.external) == (
        "web_search_call",
        {"action": {"type": "search", "query": "weather Leiden"}},
        True,
    )
    assert isinstance(output, conversation.ToolResultContent)
    assert (output.tool_call_id, output.tool_name) == (tool_call.id, "web_search_call")
    assert _result(output) == ({"status": "completed"}, False)
    assert answer.content == "Sunny."

    await _ask(hass, "Thanks", "conversation.sampler", first.conversation_id)
    items = emulator.requests_to("/v1/responses")[-1].body["input"]
    kinds = [i.get("type", "message") for i in items]
    assert "function_call" not in kinds
    assert kinds.count("web_search_call") == 1
