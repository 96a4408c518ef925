"""The pieces every wire format shares: token estimates, the history bound, tool specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from custom_components.openai_conversation.backends import (
    ATTACHMENT_TOKENS,
    TurnRequest,
    bounded_history,
    clock_last,
    estimate_tokens,
    function_spec,
    invalid_tool_call,
    parse_tool_call,
    request_client,
    structure_name,
)
from custom_components.openai_conversation.compat import TOOL_RESULT_OBJECTS, vol
from custom_components.openai_conversation.const import DEFAULT_REQUEST_TIMEOUT
from homeassistant.components import conversation
from homeassistant.helpers import llm
from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig

from .common import tool_result


def _user(text: str, attachments: int = 0) -> conversation.UserContent:
    files = [
        conversation.Attachment(f"media://{n}", "image/png", Path(f"{n}.png"))
        for n in range(attachments)
    ]
    return conversation.UserContent(text, attachments=files or None)


def test_token_estimates() -> None:
    """A quarter token per character, 800 per attachment, 4 per message."""
    assert estimate_tokens(_user("x" * 41)) == 14
    assert estimate_tokens(_user("x" * 41, attachments=2)) == 14 + 2 * ATTACHMENT_TOKENS
    call = llm.ToolInput(tool_name="HassTurnOn", tool_args={"name": "Kitchen"}, id="c")
    assistant = conversation.AssistantContent("a", content="y" * 8, tool_calls=[call])
    assert estimate_tokens(assistant) == (8 + 10 + len('{"name":"Kitchen"}')) // 4 + 4
    result = tool_result("a", "c", "HassTurnOn", {"success": True})
    assert estimate_tokens(result) == len('{"success":true}') // 4 + 4


def _turns() -> tuple[list[conversation.Content], ...]:
    """Three turns of 58 estimated tokens each."""
    return tuple(
        [_user(f"{n}" * 100), conversation.AssistantContent("a", content="a" * 100)]
        for n in range(3)
    )


def test_history_bound_counts_the_instructions() -> None:
    """Instructions of 404 tokens and a limit of 500 leave room for one 58-token turn."""
    system = conversation.SystemContent("s" * 1600)
    first, second, last = _turns()
    history = [system, *first, *second, *last]
    assert bounded_history(history, 500) == [system, *last]
    assert bounded_history(history, 520) == [system, *second, *last]
    assert bounded_history(history, 0) == history


def test_history_bound_without_instructions() -> None:
    """The first message is a turn like any other when it is not the instructions."""
    first, second, last = _turns()
    history = [*first, *second, *last]
    assert bounded_history(history, 1) == last  # the current turn, even over the limit
    assert bounded_history(history, 120) == [*second, *last]


def test_clock_moves_after_the_conversation() -> None:
    system = conversation.SystemContent(
        "Be brief.\nCurrent time is 10:11:12. Today's date is 2026-11-29.\nSpeak Dutch."
    )
    rest = [*_turns()[0], _user("now?")]
    history, clock = clock_last([system, *rest])
    assert clock == "Current time is 10:11:12. Today's date is 2026-11-29."
    assert history[0].content == "Be brief.\nSpeak Dutch."
    assert history[1:] == rest


@pytest.mark.parametrize(
    ("name", "expected"),
    [(None, "response"), ("", "response"), ("Light check", "light_check")],
)
def test_structure_name(name: str | None, expected: str) -> None:
    assert structure_name(TurnRequest(options={}, structure_name=name)) == expected


def test_structure_name_is_at_most_64_characters() -> None:
    name = structure_name(TurnRequest(options={}, structure_name="word " * 30))
    assert len(name) == 64
    assert name.startswith("word_word")


def test_request_timeout_default_and_retries() -> None:
    client = openai.AsyncOpenAI(api_key="sk-x", base_url="http://127.0.0.1:9/v1", max_retries=3)
    default = request_client(client, TurnRequest(options={})).timeout
    assert isinstance(default, openai.Timeout)
    assert (default.connect, default.read) == (10.0, DEFAULT_REQUEST_TIMEOUT)
    tuned = request_client(client, TurnRequest(options={"timeout": 7}, max_retries=0))
    assert isinstance(tuned.timeout, openai.Timeout)
    assert (tuned.timeout.connect, tuned.timeout.read, tuned.max_retries) == (7.0, 7.0, 0)
    # A reasoning model at high effort may think silently for longer (tests/test_timeouts.py).
    deep = TurnRequest(options={"reasoning_effort": "high"}, model="gpt-5")
    assert request_client(client, deep).timeout.read == 300.0  # type: ignore[union-attr]
    assert request_client(client, TurnRequest(options={})).max_retries == 3


def _tool(parameters: vol.Schema, description: str | None = "Turns it on") -> llm.Tool:
    tool = llm.Tool.__new__(llm.Tool)
    tool.name, tool.description, tool.parameters = "Switch", description, parameters
    return tool


def test_tool_specs_follow_the_schema_not_the_cache() -> None:
    """Same tool name and text, another schema: converted anew, not served from the cache."""
    first = function_spec(_tool(vol.Schema({vol.Required("name"): vol.In(["a", "b"])})), None)
    second = function_spec(_tool(vol.Schema({vol.Required("name"): vol.In(["a", "c"])})), None)
    both = function_spec(
        _tool(vol.Schema({vol.Required("name"): vol.All(str, vol.In(["a", "c"]))})), None
    )
    assert first["parameters"]["properties"]["name"]["enum"] == ["a", "b"]
    assert second["parameters"]["properties"]["name"]["enum"] == ["a", "c"]
    assert both["parameters"]["properties"]["name"]["enum"] == ["a", "c"]
    assert (first["name"], first["description"]) == ("Switch", "Turns it on")
    assert first["parameters"]["properties"] == {"name": {"type": "string", "enum": ["a", "b"]}}
    assert first["parameters"]["required"] == ["name"]
    other = function_spec(
        _tool(vol.Schema({vol.Required("name"): vol.All(str, vol.In(["a", "d"]))})), None
    )
    assert other["parameters"]["properties"]["name"]["enum"] == ["a", "d"]
    texts = function_spec(_tool(vol.Schema({vol.Required("names"): [str]})), None)
    numbers = function_spec(_tool(vol.Schema({vol.Required("names"): [int]})), None)
    assert texts["parameters"]["properties"]["names"]["items"] == {"type": "string"}
    assert numbers["parameters"]["properties"]["names"]["items"] == {"type": "integer"}
    assert "description" not in function_spec(_tool(vol.Schema({}), description=None), None)


def test_tool_specs_follow_the_serializer() -> None:
    """Two LLM APIs may offer one tool and read its selectors differently: each its own."""
    schema = vol.Schema({vol.Required("level"): NumberSelector(NumberSelectorConfig(max=9))})

    def plain(value: Any) -> Any:
        """Read every selector as text, and the rest as Home Assistant does."""
        if isinstance(value, NumberSelector):
            return {"type": "string"}
        return llm.selector_serializer(value)

    assistant = function_spec(_tool(schema), llm.selector_serializer)
    other = function_spec(_tool(schema), plain)
    assert assistant["parameters"]["properties"]["level"]["type"] == "number"
    assert other["parameters"]["properties"]["level"] == {"type": "string"}


def test_invalid_tool_call_records_an_error_result() -> None:
    call, result = invalid_tool_call("c1", "HassTurnOn", "Unknown tool")
    assert call == {
        "tool_calls": [llm.ToolInput(tool_name="HassTurnOn", tool_args={}, id="c1", external=True)]
    }
    assert (result["tool_call_id"], result["tool_name"]) == ("c1", "HassTurnOn")
    data = {"error": "InvalidToolCall", "error_text": "Unknown tool"}
    if TOOL_RESULT_OBJECTS:  # HA 2026.10 and newer mark the result as an error
        assert (result["result"].data, result["result"].error) == (data, True)
    else:
        assert result["tool_result"] == data


def test_tool_call_arguments() -> None:
    tools = {"HassTurnOn"}
    ((call,),) = (d["tool_calls"] for d in parse_tool_call("c", "HassTurnOn", "  ", tools))
    assert call.tool_args == {}
    broken = '{"name": ' + "x" * 600
    _, result = parse_tool_call("c", "HassTurnOn", broken, tools)
    text = _error_text(result)
    assert text.startswith("Arguments are not valid JSON (")
    assert text.endswith(f"; received: {broken[:500]}")
    _, result = parse_tool_call("c", "HassTurnOn", "[1]", tools)
    assert _error_text(result) == "Arguments must be a JSON object"


def _error_text(delta: Any) -> str:
    data = delta["result"].data if TOOL_RESULT_OBJECTS else delta["tool_result"]
    return str(data["error_text"])
