"""Responses wire format: what each model gets, and history that is always valid."""

from __future__ import annotations

from typing import Any

from openai.types.responses import ResponseFunctionWebSearch
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming
from openai.types.responses.response_function_web_search import ActionSearch
import pytest

from custom_components.openai_conversation.backends import TurnRequest
from custom_components.openai_conversation.backends.responses import (
    ResponsesBackend,
    history_to_input,
)
from custom_components.openai_conversation.capabilities import model_capabilities
from custom_components.openai_conversation.compat import vol
from custom_components.openai_conversation.const import NO_CITATIONS_HINT
from custom_components.openai_conversation.schema import structured_output_schema
from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig

from .common import tool_result


def build_params(
    chat_log: conversation.ChatLog, request: TurnRequest, *, server_tools: bool
) -> ResponseCreateParamsStreaming:
    """Return the body a backend builds for the whole chat log."""
    backend = ResponsesBackend(None, None, server_tools=server_tools, pdfs=True)  # type: ignore[arg-type]
    return backend.build_params(chat_log, request, {}, list(chat_log.content))


def _chat_log(hass: HomeAssistant, *content: conversation.Content) -> conversation.ChatLog:
    log = conversation.ChatLog(hass, "conv-id")
    log.content.extend(content)
    return log


@pytest.mark.parametrize(
    ("options", "expected", "absent"),
    [
        (
            {"chat_model": "gpt-4o", "temperature": 0.2, "top_p": 0.5},
            {"temperature": 0.2, "top_p": 0.5},
            {"reasoning", "text", "include"},
        ),
        # Unset sampling is not sent: the server's (or local model's) defaults apply.
        ({"chat_model": "gpt-4o"}, {"store": False}, {"temperature", "top_p", "service_tier"}),
        ({"chat_model": "gpt-5-mini"}, {"text": {"verbosity": "medium"}}, {"temperature"}),
        (
            {"chat_model": "o3", "reasoning_effort": "high", "temperature": 0.2},
            {
                "reasoning": {"effort": "high", "summary": "auto"},
                "include": ["reasoning.encrypted_content"],
            },
            {"temperature", "top_p"},
        ),
        (
            {"chat_model": "gpt-5", "verbosity": "low", "reasoning_effort": "minimal"},
            {"text": {"verbosity": "low"}, "reasoning": {"effort": "minimal", "summary": "auto"}},
            {"temperature"},
        ),
        # "minimal" is not a GPT-5.1 level: fall back to one it takes.
        (
            {"chat_model": "gpt-5.1", "reasoning_effort": "minimal"},
            {"reasoning": {"effort": "low", "summary": "auto"}},
            {"temperature"},
        ),
        # GPT-5.1 with reasoning off takes sampling parameters again.
        (
            {"chat_model": "gpt-5.1", "reasoning_effort": "none", "temperature": 0.7},
            {"temperature": 0.7},
            set(),
        ),
        (
            {"chat_model": "gpt-5-pro", "reasoning_effort": "low"},
            {"reasoning": {"effort": "high", "summary": "auto"}},
            set(),
        ),
        # Core's reasoning summary: "concise" except on the o-series, "off" sends none.
        (
            {"chat_model": "gpt-5-mini", "reasoning_summary": "concise"},
            {"reasoning": {"effort": "low", "summary": "concise"}},
            set(),
        ),
        (
            {"chat_model": "o3", "reasoning_summary": "concise"},
            {"reasoning": {"effort": "low", "summary": "auto"}},
            set(),
        ),
        (
            {"chat_model": "o3", "reasoning_summary": "off"},
            {"reasoning": {"effort": "low"}},
            set(),
        ),
        # Pro mode where the model has it (GPT-5.6+, GPT-6), and nowhere else.
        (
            {"chat_model": "gpt-6-luna", "pro_mode": True, "temperature": 0.3},
            {"reasoning": {"effort": "low", "summary": "auto", "mode": "pro"}},
            {"temperature", "top_p"},
        ),
        (
            {"chat_model": "gpt-5-mini", "pro_mode": True},
            {"reasoning": {"effort": "low", "summary": "auto"}},
            set(),
        ),
        # A stored tier the model is not served in (core's entries, or another model's).
        (
            {"chat_model": "gpt-5-pro", "service_tier": "flex"},
            {"reasoning": {"effort": "high", "summary": "auto"}},
            {"service_tier"},
        ),
        ({"chat_model": "gpt-5", "service_tier": "flex"}, {"service_tier": "flex"}, set()),
        # GPT-6 Astra cannot turn reasoning off: the nearest effort it has is sent.
        (
            {"chat_model": "gpt-6-astra", "reasoning_effort": "none"},
            {"reasoning": {"effort": "low", "summary": "auto"}},
            set(),
        ),
    ],
)
def test_model_parameters(
    hass: HomeAssistant, options: dict[str, Any], expected: dict[str, Any], absent: set[str]
) -> None:
    params = build_params(
        _chat_log(hass),
        TurnRequest(options=options, model=options["chat_model"]),
        server_tools=True,
    )
    assert params.items() >= expected.items()
    assert not absent & params.keys()
    assert params["model"] == options["chat_model"]


def test_server_tools(hass: HomeAssistant) -> None:
    options = {
        "chat_model": "gpt-4o",
        "web_search": True,
        "search_context_size": "high",
        "user_location": True,
        "country": "NL",
        "timezone": "Europe/Amsterdam",
        "code_interpreter": True,
    }
    tools = build_params(
        _chat_log(hass), TurnRequest(options=options, model="gpt-4o"), server_tools=True
    )["tools"]
    assert tools[0]["type"] == "web_search"
    assert tools[0]["search_context_size"] == "high"
    assert tools[0]["user_location"] == {
        "type": "approximate",
        "city": "",
        "region": "",
        "country": "NL",
        "timezone": "Europe/Amsterdam",
    }
    assert tools[1] == {"type": "code_interpreter", "container": {"type": "auto"}}
    # What a user leaves unset gets the defaults, and nothing else fills it in.
    sparse = {"web_search": True, "user_location": True, "city": "Leiden", "region": "ZH"}
    tools = build_params(
        _chat_log(hass), TurnRequest(options=sparse, model="gpt-4o"), server_tools=True
    )["tools"]
    assert tools == [
        {
            "type": "web_search",
            "search_context_size": "medium",
            "user_location": {
                "type": "approximate",
                "city": "Leiden",
                "region": "ZH",
                "country": "",
                "timezone": "",
            },
        }
    ]
    # A model without web search does not get it even when the option is on.
    tools = build_params(
        _chat_log(hass), TurnRequest(options=options, model="gpt-4.1-nano"), server_tools=True
    )["tools"]
    assert [t["type"] for t in tools] == ["code_interpreter"]


@pytest.mark.parametrize("model", ["gpt-5-mini", "gpt-4o"], ids=["verbosity", "no verbosity"])
def test_structured_output_request(hass: HomeAssistant, model: str) -> None:
    """The schema joins the text settings, whether the model takes a verbosity or not."""
    request = TurnRequest(
        options={},
        model=model,
        structure=vol.Schema({vol.Required("answer"): str}),
        structure_name="My Answer",
        user="u1",
    )
    params = build_params(_chat_log(hass), request, server_tools=True)
    assert params["safety_identifier"] == "u1"
    assert params["text"]["format"]["name"] == "my_answer"
    assert params["text"]["format"]["schema"]["required"] == ["answer"]
    assert params["text"]["format"]["strict"] is True
    assert ("verbosity" in params["text"]) is model_capabilities(model).verbosity


def test_history_pairs_every_tool_call(hass: HomeAssistant) -> None:
    """A call without its output gets one, an output without its call is dropped."""
    orphan_call = llm.ToolInput(tool_name="HassTurnOn", tool_args={"name": "x"}, id="orphan")
    items = history_to_input(
        [
            conversation.SystemContent("sys"),
            conversation.UserContent("hi"),
            conversation.AssistantContent("agent", tool_calls=[orphan_call]),
            tool_result("agent", "stray", "HassTurnOff", {"ok": True}),
            conversation.AssistantContent("agent", content="done"),
        ]
    )
    assert [i["type"] for i in items] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
        "message",
    ]
    assert items[3]["call_id"] == "orphan"
    assert items[3]["output"] == '{"error":"No result was recorded"}'
    assert items[0]["role"] == "developer"


def test_server_tool_items_are_replayed(hass: HomeAssistant) -> None:
    search = ResponseFunctionWebSearch(
        id="ws_1",
        type="web_search_call",
        status="completed",
        action=ActionSearch(type="search", query="weather"),
    )
    items = history_to_input(
        [
            conversation.AssistantContent("agent", native=search),
            conversation.AssistantContent("agent", native=object()),
        ]
    )
    assert items == [
        {
            "id": "ws_1",
            "type": "web_search_call",
            "status": "completed",
            "action": {"type": "search", "query": "weather"},
        }
    ]


def test_capabilities_table() -> None:
    assert not model_capabilities("gpt-4o-realtime-preview").supported
    assert model_capabilities("some-local-model") == model_capabilities("gpt-4o")
    assert model_capabilities("o4-mini").reasoning


def test_strict_schema_nested_and_optional() -> None:
    schema = vol.Schema(
        {
            vol.Required("name"): str,
            vol.Optional("age"): int,
            vol.Required("address"): {vol.Required("city"): str, vol.Optional("zip"): str},
            vol.Optional("tags"): [str],
            vol.Required("items"): [{vol.Required("id"): int, vol.Optional("note"): str}],
            vol.Optional("color"): vol.In(["red", "blue"]),
        }
    )
    result = structured_output_schema(schema, None)
    assert result["additionalProperties"] is False
    assert result["required"] == ["name", "age", "address", "tags", "items", "color"]
    props = result["properties"]
    assert props["name"]["type"] == "string"
    assert props["age"]["type"] == ["integer", "null"]
    assert props["address"]["required"] == ["city", "zip"]
    assert props["address"]["properties"]["zip"]["type"] == ["string", "null"]
    assert props["tags"]["type"] == ["array", "null"]
    item = props["items"]["items"]
    assert item["additionalProperties"] is False
    assert item["properties"]["note"]["type"] == ["string", "null"]
    assert props["color"]["type"] == ["string", "null"]
    assert props["color"]["enum"] == ["red", "blue", None]


def test_tool_schemas_are_converted_once_per_content() -> None:
    """Same content (a new Tool object each turn) reuses the conversion; new content does not."""
    from custom_components.openai_conversation.backends import function_spec  # noqa: PLC0415

    class Tool(llm.Tool):
        def __init__(self, schema: vol.Schema) -> None:
            self.name, self.description, self.parameters = "Dim", "Dim a light", schema

        async def async_call(self, *args: Any) -> Any:
            raise NotImplementedError

    first = function_spec(Tool(vol.Schema({vol.Required("area"): vol.In(["kitchen"])})), None)
    again = function_spec(Tool(vol.Schema({vol.Required("area"): vol.In(["kitchen"])})), None)
    changed = function_spec(
        Tool(vol.Schema({vol.Required("area"): vol.In(["kitchen", "attic"])})), None
    )
    assert again["parameters"] is first["parameters"]
    assert changed["parameters"]["properties"]["area"]["enum"] == ["kitchen", "attic"]


@pytest.mark.parametrize("server_tools", [True, False], ids=["openai", "other server"])
def test_openai_only_parameters(hass: HomeAssistant, server_tools: bool) -> None:
    """Storage, tier and cache key go to OpenAI's servers only; others never see them."""
    options = {
        "chat_model": "gpt-5-mini",
        "store_responses": True,
        "service_tier": "flex",
        "web_search": True,
    }
    request = TurnRequest(options=options, model="gpt-5-mini", cache_key="subentry-1")
    log = _chat_log(hass, conversation.SystemContent("Be brief."))
    params = build_params(log, request, server_tools=server_tools)
    openai_only = {"store": True, "service_tier": "flex", "prompt_cache_key": "subentry-1"}
    if server_tools:
        assert params.items() >= openai_only.items()
        # Citations are off by default (core's inline_citations): the model is told so.
        assert params["input"][1] == {
            "type": "message",
            "role": "developer",
            "content": NO_CITATIONS_HINT,
        }
    else:
        assert params["store"] is False
        assert not {"service_tier", "prompt_cache_key"} & params.keys()
        assert len(params["input"]) == 1
    options["inline_citations"] = True
    assert len(build_params(log, request, server_tools=server_tools)["input"]) == 1


def test_tool_schema_cache_reads_selectors_by_content() -> None:
    """Script fields use selectors, which print as their address: the cache must look
    at their config (new objects, same config: reused; changed config: converted anew)."""
    from custom_components.openai_conversation.backends import function_spec  # noqa: PLC0415

    class Tool(llm.Tool):
        def __init__(self, maximum: int) -> None:
            self.name, self.description = "Set", "Set the level"
            self.parameters = vol.Schema(
                {vol.Required("level"): NumberSelector(NumberSelectorConfig(min=0, max=maximum))}
            )

        async def async_call(self, *args: Any) -> Any:
            raise NotImplementedError

    serializer = llm.selector_serializer  # what the Assist API passes for script fields
    first = function_spec(Tool(10), serializer)
    again = function_spec(Tool(10), serializer)
    changed = function_spec(Tool(20), serializer)
    assert again["parameters"] is first["parameters"]
    assert changed["parameters"]["properties"]["level"]["maximum"] == 20
