"""Conversation agent: streaming, tools, the loop bound and errors, through the emulator."""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from types import MappingProxyType
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.openai_conversation.const import (
    MAX_TOOL_ITERATIONS,
    NO_CITATIONS_HINT,
    RECOMMENDED_CONVERSATION_OPTIONS,
)
from emulator import Cut, Error, Hang, OpenAIEmulator, Reasoning, Reply, Text, ToolCall
from emulator.prompt_cache import PromptCache
from emulator.replies import offered_name
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component

from .common import (
    assert_selectors_read,
    expose_script_with_selectors,
    shown_chat_log,
    speakers,
    turn_deltas,
)
from .conftest import API_KEY
from .core_entries import core_advanced_agent

AGENT = "conversation.openai_conversation"


async def ask(
    hass: HomeAssistant, text: str, conversation_id: str | None = None
) -> conversation.ConversationResult:
    """Send one message to the agent as Assist does: in a task of its own.

    HA keeps the active ChatLog in a context variable that a failed turn does not reset;
    each real request runs in its own task, so a test must too.
    """
    return await hass.async_create_task(
        conversation.async_converse(hass, text, conversation_id, Context(), agent_id=AGENT)
    )


def input_items(emulator: OpenAIEmulator, index: int = -1) -> list[dict[str, Any]]:
    """Return the input items of a recorded /responses request."""
    return emulator.requests_to("/v1/responses")[index].body["input"]


async def test_streamed_text_reply(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(Reply([Text("Hello from the emulator, streamed in chunks.")], usage=(42, 7, 30)))
    result = await ask(hass, "Hi")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert (
        result.response.speech["plain"]["speech"] == "Hello from the emulator, streamed in chunks."
    )
    body = emulator.requests_to("/v1/responses")[0].body
    assert body["stream"] is True
    assert body["store"] is False
    assert body["model"] == "gpt-6-luna"
    assert body["input"][0]["role"] == "developer"
    assert body["input"][-1] == {"type": "message", "role": "user", "content": "Hi"}
    assert offered_name("HassTurnOn", body)
    assert offered_name("HassTurnOff", body)


async def test_deltas_reach_chat_log_as_they_arrive(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Each text delta is handed to the ChatLog's listener separately (voice starts early)."""
    emulator.queue(Reply([Reasoning("Think"), Text("one two three four", chunk_size=4)]))
    deltas = await turn_deltas(hass, AGENT, "hi")
    texts = [d["content"] for d in deltas if d.get("content")]
    assert texts == ["one ", "two ", "thre", "e fo", "ur"]
    assert any(d.get("thinking_content") == "Think" for d in deltas)


async def test_tool_round_trip_turns_light_on(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    assert hass.states.get(kitchen_light).state == "off"
    emulator.queue(
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="call_1")]),
        Reply([Text("The kitchen light is on.")]),
    )
    result = await ask(hass, "Turn on the kitchen light")
    assert hass.states.get(kitchen_light).state == "on"
    assert result.response.speech["plain"]["speech"] == "The kitchen light is on."
    items = input_items(emulator)
    call = next(i for i in items if i["type"] == "function_call")
    output = next(i for i in items if i["type"] == "function_call_output")
    assert call["call_id"] == output["call_id"] == "call_1"
    assert json.loads(call["arguments"]) == {"name": "Kitchen light"}
    assert json.loads(output["output"])["data"]["success"][0]["id"] == kitchen_light


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ('{"name": "Kitchen light"', "not valid JSON"),
        ('{"name": "Kitchen light"}}garbage', "not valid JSON"),
        ('["Kitchen light"]', "must be a JSON object"),
    ],
)
async def test_bad_tool_arguments_are_fed_back(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    kitchen_light: str,
    arguments: str,
    reason: str,
) -> None:
    emulator.queue(
        Reply([ToolCall("HassTurnOn", arguments, call_id="bad")]),
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="good")]),
        Reply([Text("Done.")]),
    )
    result = await ask(hass, "Turn on the kitchen light")
    assert result.response.speech["plain"]["speech"] == "Done."
    assert hass.states.get(kitchen_light).state == "on"
    second = input_items(emulator, 1)
    error = json.loads(next(i["output"] for i in second if i["type"] == "function_call_output"))
    assert error["error"] == "InvalidToolCall"
    assert reason in error["error_text"]


async def test_unknown_tool_is_fed_back(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(
        Reply([ToolCall("OpenThePodBayDoors", {}, call_id="x")]), Reply([Text("Sorry.")])
    )
    result = await ask(hass, "Open the doors")
    assert result.response.speech["plain"]["speech"] == "Sorry."
    output = json.loads(input_items(emulator)[-1]["output"])
    assert "Unknown tool" in output["error_text"]


async def test_tool_loop_is_bounded(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    kitchen_light: str,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.responder = lambda _body: Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})])
    result = await ask(hass, "Turn on the kitchen light forever")
    assert len(emulator.requests_to("/v1/responses")) == MAX_TOOL_ITERATIONS
    assert result.response.speech["plain"]["speech"] == (
        "I stopped after 10 rounds of tool calls without reaching an answer."
    )
    assert f"{AGENT} stopped after 10 model calls in one turn" in [
        r.getMessage() for r in caplog.records if r.levelname == "WARNING"
    ]
    # The Assist debug view names the agent as the author of each call, result and answer.
    content = await shown_chat_log(await hass_ws_client(hass), result.conversation_id)
    assert content[-1]["content"] == result.response.speech["plain"]["speech"]
    assert speakers(content) == {AGENT}
    # The history stays usable: the next turn goes through, with every call answered.
    emulator.responder = lambda _body: Reply([Text("Fine.")])
    follow_up = await ask(hass, "Status?", result.conversation_id)
    assert follow_up.response.speech["plain"]["speech"] == "Fine."
    items = input_items(emulator)
    calls = [i["call_id"] for i in items if i["type"] == "function_call"]
    outputs = [i["call_id"] for i in items if i["type"] == "function_call_output"]
    assert calls == outputs
    assert len(calls) == MAX_TOOL_ITERATIONS


async def test_history_kept_within_conversation(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(Reply([Reasoning("hmm"), Text("First answer")]), Reply([Text("Second answer")]))
    first = await ask(hass, "First question")
    await ask(hass, "Second question", first.conversation_id)
    items = input_items(emulator)
    texts = [(i.get("role"), i.get("content")) for i in items if i["type"] == "message"]
    assert texts[1:] == [
        ("user", "First question"),
        ("assistant", "First answer"),
        ("user", "Second question"),
    ]
    reasoning = next(i for i in items if i["type"] == "reasoning")
    assert reasoning["encrypted_content"].startswith("enc-")
    assert reasoning["summary"] == []


ERROR_CASES = [
    (
        Error(429, "Rate limit reached", type="requests", code="rate_limit_exceeded"),
        "rate limiting",
    ),
    (
        Error(
            429,
            "You exceeded your current quota",
            type="insufficient_quota",
            code="insufficient_quota",
        ),
        "no credit left",
    ),
    # Some servers (Azure, proxies) send the quota type without a code.
    (Error(429, "You exceeded your current quota", type="insufficient_quota"), "no credit left"),
    (Error(404, "The model `gpt-x` does not exist", code="model_not_found"), "does not know"),
    (Error(403, "Project does not have access", code="permission"), "may not use"),
    (Error(500, "Internal error", type="server_error"), "had an error"),
    (Error(400, "Bad thing", code="bad"), "returned an error: Bad thing"),
    (Reply([Text("partial")], fail="model crashed"), "could not complete the reply: model crashed"),
    (
        Reply([Text("partial")], error_event="stream error"),
        "could not complete the reply: stream error",
    ),
    (Reply([Text("partial")], incomplete="max_output_tokens"), "cut off (max_output_tokens)"),
]


@pytest.mark.parametrize(("scripted", "message"), ERROR_CASES)
async def test_errors_are_translated_and_history_clean(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    scripted: Any,
    message: str,
) -> None:
    emulator.queue(Reply([Text("Hello")]))
    first = await ask(hass, "Hi")
    # Servers answer 5xx twice, as the SDK retries once.
    emulator.queue(scripted, scripted)
    result = await ask(hass, "Second", first.conversation_id)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert message in result.response.speech["plain"]["speech"]
    emulator.replies.clear()
    emulator.queue(Reply([Text("Recovered")]))
    third = await ask(hass, "Third", first.conversation_id)
    assert third.response.speech["plain"]["speech"] == "Recovered"
    texts = [i.get("content") for i in input_items(emulator) if i["type"] == "message"]
    # The failed turn left nothing behind but the user's words are not replayed either.
    assert texts[1:] == ["Hi", "Hello", "Third"]


async def test_stream_cut_is_an_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(Cut(Reply([Text("a long reply that never ends")]), after_events=4))
    result = await ask(hass, "Hi")
    assert result.response.response_type is intent.IntentResponseType.ERROR


@pytest.mark.parametrize("subentry_options", [{**RECOMMENDED_CONVERSATION_OPTIONS, "timeout": 0.2}])
async def test_agent_timeout(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """An agent's own timeout ends a hung turn quickly, with a clear message."""
    emulator.queue(Hang(2), Hang(2))
    result = await ask(hass, "Hi")
    assert "did not answer in time" in result.response.speech["plain"]["speech"]
    emulator.replies.clear()
    emulator.queue(Reply([Text("Back")]))
    again = await ask(hass, "Hi again", result.conversation_id)
    assert again.response.speech["plain"]["speech"] == "Back"


async def test_auth_error_starts_reauth(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.api_keys.clear()
    result = await ask(hass, "Hi")
    assert "refused the API key" in result.response.speech["plain"]["speech"]
    assert "sk-test-key" not in result.response.speech["plain"]["speech"]
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler("openai_conversation")
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert setup_entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("subentry_options", [{"recommended": True}])
async def test_agent_without_tools(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """With no LLM API, no tools are sent and a hallucinated call is answered with an error."""
    emulator.queue(Reply([ToolCall("HassTurnOn", {})]), Reply([Text("I can't do that.")]))
    result = await ask(hass, "Turn on the light")
    assert result.response.speech["plain"]["speech"] == "I can't do that."
    assert "tools" not in emulator.requests_to("/v1/responses")[0].body


async def test_question_continues_conversation(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(Reply([Text("Which room do you mean?")]))
    result = await ask(hass, "Turn on the light")
    assert result.continue_conversation is True


async def test_api_key_never_logged(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing at any level logs the key: not a request, an error, nor the reauth."""
    caplog.set_level(logging.DEBUG)
    emulator.queue(
        Reply([Text("Hello")]),
        Error(500, "boom", type="server_error"),
        Error(500, "boom", type="server_error"),
    )
    await ask(hass, "Hi")
    await ask(hass, "Again")
    emulator.api_keys.clear()
    await ask(hass, "Once more")
    await hass.async_block_till_done()
    assert "OpenAI request failed (invalid_auth)" in caplog.text
    assert API_KEY not in caplog.text


async def test_agent_answers_under_the_entry_id(
    hass: HomeAssistant, config_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Automations from core's first version use the entry id as agent_id, as core allows."""
    second = ConfigSubentry(
        data=MappingProxyType({"recommended": False, "chat_model": "gpt-4.1"}),
        subentry_type="conversation",
        title="Second",
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(config_entry, second)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("First agent here.")]))
    result = await hass.async_create_task(
        conversation.async_converse(hass, "Hi", None, Context(), agent_id=config_entry.entry_id)
    )
    assert result.response.speech["plain"]["speech"] == "First agent here."
    # The entry's first agent answers, not whichever was set up last.
    assert emulator.requests_to("/v1/responses")[0].body["model"] == "gpt-6-luna"
    assert conversation.async_get_agent_info(hass, config_entry.entry_id) is not None

    await hass.config_entries.async_unload(config_entry.entry_id)
    assert conversation.async_get_agent_info(hass, config_entry.entry_id) is None


@pytest.mark.parametrize("subentry_options", [core_advanced_agent(8)])
async def test_cores_options_reach_openai(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """An agent set up in core's form keeps working as configured there."""
    (agent,) = setup_entry.subentries.values()
    emulator.fail_next(
        "/v1/responses",
        Error(429, "Resource unavailable for Flex processing. Retry later.", "rate_limit_error"),
    )
    emulator.queue(
        Reply([Text("Sunny in Amsterdam ([weather.com](https://weather.com/nl)). Enjoy!", 5)])
    )
    result = await ask(hass, "What is the weather?")
    # Citations cut (inline_citations off), however the deltas split them.
    assert result.response.speech["plain"]["speech"] == "Sunny in Amsterdam. Enjoy!"
    flex, default = (r.body for r in emulator.requests_to("/v1/responses"))
    # Flex capacity ran out: the same request again on the default tier.
    assert (flex["service_tier"], default["service_tier"]) == ("flex", "default")
    assert {k: v for k, v in default.items() if k != "service_tier"} == {
        k: v for k, v in flex.items() if k != "service_tier"
    }
    assert default["store"] is True
    assert default["prompt_cache_key"] == agent.subentry_id
    assert default["reasoning"] == {"effort": "low", "summary": "concise"}
    assert default["input"][1]["content"] == NO_CITATIONS_HINT
    assert default["tools"][-1]["type"] == "web_search"


@pytest.mark.parametrize("subentry_options", [core_advanced_agent(8)])
async def test_flex_retry_only_for_flex_capacity(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Any other rate limit is an error, not a silent second request on another tier."""
    emulator.fail_next(
        "/v1/responses", Error(429, "Rate limit reached for requests.", "rate_limit_error")
    )
    result = await ask(hass, "Hi")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert len(emulator.requests_to("/v1/responses")) == 1


async def test_turns_reuse_the_prompt_cache(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """With 50 exposed entities, from the second turn on at least 90% of the input tokens
    are a prefix OpenAI has cached (counted as OpenAI bills it): nothing that changes from
    turn to turn comes before the history, and one agent keeps one cache key."""
    assert await async_setup_component(hass, "intent", {})
    booleans = {f"device_{n}": {"name": f"Device {n}"} for n in range(50)}
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": booleans})
    for name in booleans:
        async_expose_entity(hass, "conversation", f"input_boolean.{name}", True)
    emulator.count_tokens = True
    conversation_id = None
    for turn in range(5):
        emulator.queue(Reply([Text(f"Reply number {turn}.")]))
        result = await ask(hass, f"Question number {turn}?", conversation_id)
        conversation_id = result.conversation_id
    requests = emulator.requests_to("/v1/responses")
    cache = PromptCache()  # the emulator's count, replayed request by request
    counts = [cache.usage(request.body, 0) for request in requests]
    shares = [cached / tokens for tokens, _, cached in counts[1:]]
    assert min(shares) >= 0.9, shares
    agent = next(s for s in setup_entry.subentries.values() if s.subentry_type == "conversation")
    assert {r.body["prompt_cache_key"] for r in requests} == {agent.subentry_id}


async def test_the_clock_goes_after_the_conversation(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An agent without an LLM API gets Home Assistant's clock in its instructions; sent
    there it changes the prompt's start every turn, and OpenAI's cache stops at it. Sent
    last, each turn reuses the instructions and every earlier turn."""
    agent = next(s for s in setup_entry.subentries.values() if s.subentry_type == "conversation")
    data = {k: v for k, v in agent.data.items() if k != "llm_hass_api"}
    hass.config_entries.async_update_subentry(
        setup_entry, agent, data={**data, "prompt": "Be a kind helper. " * 300}
    )
    await hass.async_block_till_done()
    emulator.count_tokens = True
    conversation_id = None
    for turn in range(3):
        emulator.queue(Reply([Text(f"Answer {turn}: " + "fine " * 120)]))
        result = await ask(hass, f"Question {turn}: " + "please " * 100, conversation_id)
        conversation_id = result.conversation_id
        freezer.tick(timedelta(seconds=7))
    requests = emulator.requests_to("/v1/responses")
    items = requests[-1].body["input"]
    assert "Current time is" not in items[0]["content"]
    assert items[-1]["role"] == "developer"
    assert items[-1]["content"].startswith("Current time is")
    cache = PromptCache()
    counts = [cache.usage(request.body, 0) for request in requests]
    # The third request reuses the second's whole prefix: its first exchange too.
    assert counts[2][2] - counts[1][2] >= 256, counts


async def test_script_fields_reach_the_model_as_json_schema(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """An exposed script's fields are described by their selectors, read with the
    Assist API's own serializer (voluptuous alone cannot read a selector)."""
    await expose_script_with_selectors(hass)
    await ask(hass, "Dim the lights")
    tools = emulator.requests_to("/v1/responses")[-1].body["tools"]
    (script,) = [t for t in tools if t["name"].endswith("dim_lights")]
    assert_selectors_read(script["parameters"])
