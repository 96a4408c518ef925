"""The Chat Completions wire format, piece by piece: history to messages, streamed chunks back.

The parts are exercised with the SDK's own chunk model, in the shapes OpenAI and compatible
servers stream; the end-to-end paths over HTTP are in test_providers.py.
"""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletionChunk
import pytest

from custom_components.openai_conversation.backends import TokenUsage, TurnRequest
from custom_components.openai_conversation.backends.chat_completions import (
    ChatCompletionsBackend,
    _ChatStream,
    _with_schema_hint,
    history_to_messages,
)
from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm

from .common import tool_result

TOOLS = {"HassTurnOn", "HassTurnOff"}


def _call(call_id: str, tool: str = "HassTurnOn", **args: Any) -> llm.ToolInput:
    return llm.ToolInput(tool_name=tool, tool_args=args, id=call_id)


def _function(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_adjacent_assistant_contents_become_one_message() -> None:
    """Text, then calls, then more text from one assistant: one message, calls in order."""
    messages = history_to_messages(
        [
            conversation.AssistantContent("x", content="Checking."),
            conversation.AssistantContent(
                "x", content=None, tool_calls=[_call("a", name="Kitchen light")]
            ),
            conversation.AssistantContent(
                "x", content=None, tool_calls=[_call("b", "HassTurnOff")]
            ),
            tool_result("x", "a", "HassTurnOn", {"ok": 1}),
            tool_result("x", "b", "HassTurnOff", {"ok": 2}),
        ]
    )
    assert messages[0] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            _function("a", "HassTurnOn", '{"name":"Kitchen light"}'),
            _function("b", "HassTurnOff", "{}"),
        ],
    }
    assert [(m["role"], m.get("tool_call_id")) for m in messages[1:]] == [
        ("tool", "a"),
        ("tool", "b"),
    ]
    assert messages[1]["content"] == '{"ok":1}'


def test_merged_text_keeps_each_part_as_it_was() -> None:
    """A call without words, then words: the text is only the words (no placeholder)."""
    messages = history_to_messages(
        [
            conversation.AssistantContent("x", content=None, tool_calls=[_call("a")]),
            tool_result("x", "a", "HassTurnOn", {}),
            conversation.AssistantContent("x", content="Done"),
            conversation.AssistantContent("x", content=None),  # an empty round trip
            conversation.AssistantContent("x", content=" and dusted."),
        ]
    )
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant"]
    assert messages[0]["content"] is None
    assert messages[2] == {"role": "assistant", "content": "Done and dusted."}

    messages = history_to_messages(
        [
            conversation.AssistantContent("x", content=None, tool_calls=[_call("a")]),
            conversation.AssistantContent("x", content="Anything else?"),
        ]
    )
    assert messages[0]["content"] == "Anything else?"


def test_unanswered_call_gets_a_recorded_error_result() -> None:
    messages = history_to_messages(
        [
            conversation.UserContent("lights"),
            conversation.AssistantContent("x", content=None, tool_calls=[_call("a")]),
            conversation.UserContent("hello?"),
        ]
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "user"]
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": "a",
        "content": '{"error":"No result was recorded"}',
    }


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], [{"role": "system", "content": "HINT"}]),
        (
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
            [{"role": "system", "content": "Be brief.\n\nHINT"}, {"role": "user", "content": "hi"}],
        ),
        (
            [{"role": "user", "content": "hi"}, {"role": "system", "content": "late"}],
            [
                {"role": "system", "content": "HINT"},
                {"role": "user", "content": "hi"},
                {"role": "system", "content": "late"},
            ],
        ),
        (
            [
                {"role": "system", "content": "A"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "yo"},
            ],
            [
                {"role": "system", "content": "A\n\nHINT"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "yo"},
            ],
        ),
    ],
)
def test_schema_hint_goes_into_the_first_system_message(
    messages: list[Any], expected: list[dict[str, str]]
) -> None:
    hint = 'Answer only with a JSON object that fits this JSON schema: {"type":"object"}'
    result = _with_schema_hint(messages, {"type": "object"})
    assert result == [{**m, "content": m["content"].replace("HINT", hint)} for m in expected]


def _parsed(**fields: Any) -> ChatCompletionChunk:
    """A chunk as the SDK builds a streamed one: constructed, not validated."""
    return ChatCompletionChunk.construct(
        id="c", object="chat.completion.chunk", created=0, model="m", **fields
    )


def _chunk(delta: dict[str, Any], finish: str | None = None) -> ChatCompletionChunk:
    return _parsed(choices=[{"index": 0, "delta": delta, "finish_reason": finish}])


def _parts(*parts: dict[str, Any]) -> list[ChatCompletionChunk]:
    return [_chunk({"tool_calls": [part]}) for part in parts]


def _assembled(chunks: list[ChatCompletionChunk]) -> list[tuple[str, str, dict[str, Any]]]:
    stream = _ChatStream(TurnRequest(options={}), TOOLS)
    for chunk in chunks:
        assert list(stream.on_chunk(chunk)) == []
    calls = [call for delta in stream.tool_calls() for call in delta.get("tool_calls", ())]
    return [(call.id, call.tool_name, call.tool_args) for call in calls]


KITCHEN = {"name": "Kitchen light"}


@pytest.mark.parametrize(
    "chunks",
    [
        # OpenAI: id and name first, then arguments by index only.
        _parts(
            {"index": 0, "id": "a", "function": {"name": "HassTurnOn", "arguments": ""}},
            {"index": 0, "function": {"arguments": '{"name": "Kit'}},
            {"index": 0, "function": {"arguments": 'chen light"}'}},
        ),
        # Every fragment repeats the call's id.
        _parts(
            {"index": 0, "id": "a", "function": {"name": "HassTurnOn", "arguments": '{"na'}},
            {"index": 0, "id": "a", "function": {"arguments": 'me": "Kitchen light"}'}},
        ),
        # The name itself in fragments.
        _parts(
            {"index": 0, "id": "a", "function": {"name": "Hass", "arguments": ""}},
            {"index": 0, "function": {"name": "TurnOn", "arguments": ""}},
            {"index": 0, "function": {"arguments": '{"name": "Kitchen light"}'}},
        ),
        # The id announced before the function; an empty fragment after the whole call.
        _parts(
            {"index": 0, "id": "a", "type": "function"},
            {"index": 0, "function": {"name": "HassTurnOn", "arguments": '{"name": '}},
            {"index": 0, "function": {"arguments": '"Kitchen light"}'}},
            {"index": 0, "function": {"arguments": ""}},
        ),
        # No index at all: the id ties the fragments together.
        _parts(
            {"id": "a", "function": {"name": "HassTurnOn", "arguments": '{"name": '}},
            {"id": "a", "function": {"arguments": '"Kitchen light"}'}},
        ),
    ],
)
def test_one_call_in_fragments(chunks: list[ChatCompletionChunk]) -> None:
    assert _assembled(chunks) == [("a", "HassTurnOn", KITCHEN)]


def test_parallel_calls_interleaved_by_index() -> None:
    chunks = _parts(
        {"index": 0, "id": "a", "function": {"name": "HassTurnOn", "arguments": ""}},
        {"index": 1, "id": "b", "function": {"name": "HassTurnOff", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"name": "Kitchen light"}'}},
        {"index": 1, "function": {"arguments": '{"name": "Fan"}'}},
    )
    assert _assembled(chunks) == [
        ("a", "HassTurnOn", KITCHEN),
        ("b", "HassTurnOff", {"name": "Fan"}),
    ]


@pytest.mark.parametrize(
    ("details", "cached"),
    [({"cached_tokens": 64}, 64), ({"cached_tokens": None}, 0), (None, 0)],
)
def test_usage_chunk(details: dict[str, Any] | None, cached: int) -> None:
    seen: list[TokenUsage] = []
    stream = _ChatStream(TurnRequest(options={}, on_usage=seen.append), TOOLS)
    usage = {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127}
    if details is not None:
        usage["prompt_tokens_details"] = details  # type: ignore[assignment]
    assert list(stream.on_chunk(_parsed(choices=[], usage=usage))) == []
    assert seen == [TokenUsage(120, 7, cached)]


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_reasoning_text_under_either_name(key: str) -> None:
    """llama.cpp and older vLLM say reasoning_content; newer vLLM and Ollama say reasoning."""
    stream = _ChatStream(TurnRequest(options={}), TOOLS)
    deltas = list(stream.on_chunk(_chunk({key: "Hmm.", "content": "Yes."}, "stop")))
    assert deltas == [{"thinking_content": "Hmm."}, {"content": "Yes."}]
    assert stream.finish_reason == "stop"


@pytest.mark.parametrize(
    ("api_version", "max_completion_tokens", "stream_usage"),
    [
        (None, True, True),
        ("preview", True, True),
        ("v1", True, True),
        ("2025-04-01-preview", True, True),
        ("2024-09-01", True, True),
        ("2024-08-01", False, True),
        ("2024-07-31", False, False),
        ("2024-06-01", False, False),
    ],
)
def test_azure_api_versions(
    api_version: str | None, max_completion_tokens: bool, stream_usage: bool
) -> None:
    """The budget's name and streamed usage follow the Azure API version's date."""
    backend = ChatCompletionsBackend(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        openai_server=True,
        azure_api_version=api_version,
    )
    assert backend._max_completion_tokens is max_completion_tokens
    assert backend._stream_usage is stream_usage


@pytest.mark.parametrize(
    ("effort", "samples"), [("none", True), ("low", False)], ids=["reasoning off", "reasoning"]
)
def test_reasoning_off_samples_again(hass: HomeAssistant, effort: str, samples: bool) -> None:
    """GPT-5.1 with reasoning off takes temperature and top_p again (an Azure deployment)."""
    backend = ChatCompletionsBackend(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        openai_server=True,
    )
    options = {"reasoning_effort": effort, "temperature": 0.4, "top_p": 0.9}
    chat_log = conversation.ChatLog(hass, "x")
    params = backend.build_params(chat_log, TurnRequest(options=options, model="gpt-5.1"), {}, [])
    assert params["reasoning_effort"] == effort
    assert ("temperature" in params, "top_p" in params) == (samples, samples)
