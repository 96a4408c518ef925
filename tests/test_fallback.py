"""Fallback model: asked once, instead, when the agent's model fails before it answers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.openai_conversation.backends import TokenUsage
from custom_components.openai_conversation.const import DOMAIN, RECOMMENDED_CONVERSATION_OPTIONS
from custom_components.openai_conversation.usage import cost_usd
from emulator import Cut, Error, Hang, OpenAIEmulator, Reasoning, Reply, Text, ToolCall
from emulator.replies import WebSearch
from homeassistant.components import conversation
from homeassistant.components.conversation import trace
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er, intent

from .common import shown_chat_log, speakers
from .conftest import API_KEY, add_entry
from .test_providers import _add_entry

AGENT = "conversation.openai_conversation"
FALLBACKS = "sensor.openai_conversation_fallback_requests"
COST = "sensor.openai_conversation_estimated_cost"
AGENT_OPTIONS = {
    **RECOMMENDED_CONVERSATION_OPTIONS,
    "recommended": False,
    "chat_model": "gpt-5-mini",
    "reasoning_effort": "minimal",
    "fallback_model": "gpt-4.1-mini",
    "timeout": 1,
}
RATE_LIMITED = Error(429, "Rate limit reached for gpt-5-mini.", "requests", "rate_limit_exceeded")


@pytest.fixture
def subentry_options() -> dict[str, Any]:
    """An agent with a fallback model."""
    return AGENT_OPTIONS


async def ask(
    hass: HomeAssistant, text: str, agent: str = AGENT
) -> conversation.ConversationResult:
    """Send one message in a task of its own, as Assist does."""
    return await hass.async_create_task(
        conversation.async_converse(hass, text, None, Context(), agent_id=agent)
    )


def models(emulator: OpenAIEmulator) -> list[str]:
    """Return the model of each recorded /responses request, in order."""
    return [r.body["model"] for r in emulator.requests_to("/v1/responses")]


def fallback_trace() -> list[dict[str, Any]]:
    """Return the fallback details of the last conversation's debug trace."""
    events = trace.async_get_traces()[-1].as_dict()["events"]
    return [e["data"]["fallback"] for e in events if "fallback" in e.get("data", {})]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (RATE_LIMITED, "rate_limited"),
        (
            Error(
                429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"
            ),
            "insufficient_quota",
        ),
        (Error(500, "The server had an error.", "server_error"), "server_error"),
        (Error(503, "The engine is currently overloaded.", "server_error"), "server_error"),
        (Hang(5), "timeout"),
        # A response that began, then failed before its first word.
        (Reply([], fail="The server had an error processing your request."), "server_error"),
        # The stream's error event, with its code and nothing else said.
        (Reply([], error_event=""), "server_error"),
    ],
    ids=["rate limit", "quota", "500", "503", "timeout", "response.failed", "error event"],
)
async def test_fallback_model_answers(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    failure: Error | Hang,
    reason: str,
) -> None:
    """The fallback answers the turn; the switch shows in the trace and the counter, and
    each model got exactly one request (no SDK retries)."""
    emulator.queue(failure, Reply([Text("Answered by the fallback.")]))
    result = await ask(hass, "Hi")
    assert result.response.speech["plain"]["speech"] == "Answered by the fallback."
    assert models(emulator) == ["gpt-5-mini", "gpt-4.1-mini"]
    fallback = emulator.requests_to("/v1/responses")[1].body
    # What the fallback takes is its own: GPT-4.1 has no reasoning effort.
    assert "reasoning" not in fallback
    (detail,) = fallback_trace()
    assert detail["model"] == "gpt-5-mini"
    assert detail["fallback_model"] == "gpt-4.1-mini"
    assert detail["reason"].startswith(reason)
    assert hass.states.get(FALLBACKS).state == "1"
    # The next turn asks the agent's own model first again.
    emulator.queue(Reply([Text("Back to normal.")]))
    await ask(hass, "Again")
    assert models(emulator)[2:] == ["gpt-5-mini"]
    assert hass.states.get(FALLBACKS).state == "1"


@pytest.mark.parametrize(
    "subentry_options",
    [{**AGENT_OPTIONS, "chat_model": "house-gpt-5-mini", "model_family": "gpt-5"}],
    ids=["deployment with a family"],
)
async def test_fallback_model_goes_by_its_own_name(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The family the user picked says what the agent's deployment takes (it reasons); the
    fallback gpt-4.1-mini is known by its name, and gets no reasoning it would refuse."""
    emulator.queue(RATE_LIMITED, Reply([Text("Answered by the fallback.")]))
    result = await ask(hass, "Hi")
    assert result.response.speech["plain"]["speech"] == "Answered by the fallback."
    asked, fallback = emulator.requests_to("/v1/responses")
    assert (asked.body["model"], asked.body["reasoning"]["effort"]) == (
        "house-gpt-5-mini",
        "minimal",
    )
    assert fallback.body["model"] == "gpt-4.1-mini"
    assert "reasoning" not in fallback.body


@pytest.mark.parametrize(
    "failure",
    [
        Error(400, "Unsupported parameter: 'x'.", "invalid_request_error"),
        Error(404, "The model `gpt-5-mini` does not exist.", "invalid_request_error"),
        Cut(Reply([Text("A reply cut off in the middle of a sentence")]), after_events=4),
        Reply([Text("A reply that failed after its first words")], fail="The server had an error."),
        Reply(
            [],
            fail="Invalid prompt: flagged as potentially violating our policy.",
            fail_code="invalid_prompt",
        ),
    ],
    ids=[
        "400",
        "404",
        "cut after the first words",
        "failed after the first words",
        "invalid prompt",
    ],
)
async def test_no_fallback_for_what_it_cannot_mend(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, failure: Any
) -> None:
    """A refused request would be refused again, and a reply already begun cannot be
    taken back: the error is the agent's own, and the fallback is not asked."""
    emulator.queue(failure, Reply([Text("Never sent.")]))
    result = await ask(hass, "Hi")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert models(emulator) == ["gpt-5-mini"]
    assert fallback_trace() == []
    assert hass.states.get(FALLBACKS).state == "0"


async def test_both_failing_is_one_request_each(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """No retry storm: two 5xx answers cost two requests, and the user hears the error."""
    emulator.queue(*[Error(500, "The server had an error.", "server_error")] * 4)
    result = await ask(hass, "Hi")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "server" in result.response.speech["plain"]["speech"].lower()
    assert models(emulator) == ["gpt-5-mini", "gpt-4.1-mini"]


async def test_a_turn_that_fell_back_stays_there(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    kitchen_light: str,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """After a tool call, the turn's next round trip goes to the model that made it; the
    fallback's answers are the agent's, and are priced as the fallback model's."""
    emulator.queue(
        RATE_LIMITED,
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})]),
        Reply([Text("The kitchen light is on.")]),
    )
    result = await ask(hass, "Turn on the kitchen light")
    assert result.response.speech["plain"]["speech"] == "The kitchen light is on."
    assert hass.states.get(kitchen_light).state == "on"
    assert models(emulator) == ["gpt-5-mini", "gpt-4.1-mini", "gpt-4.1-mini"]
    assert hass.states.get(FALLBACKS).state == "1"
    content = await shown_chat_log(await hass_ws_client(hass), result.conversation_id)
    assert speakers(content) == {AGENT}
    # Both responses came from gpt-4.1-mini, each with the emulator's default usage.
    assert float(hass.states.get(COST).state) == pytest.approx(
        2 * cost_usd("gpt-4.1-mini", TokenUsage(10, 5, 0))
    )


@pytest.mark.parametrize(
    "subentry_options", [{**AGENT_OPTIONS, "fallback_model": None}], ids=["no fallback"]
)
async def test_without_a_fallback_the_client_retries(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """An agent without a fallback keeps the client's one retry."""
    emulator.queue(Error(500, "The server had an error.", "server_error"), Reply([Text("Ok")]))
    result = await ask(hass, "Hi")
    assert result.response.speech["plain"]["speech"] == "Ok"
    assert models(emulator) == ["gpt-5-mini", "gpt-5-mini"]


async def test_fallback_reason_hides_the_key(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The trace and the log keep the server's words, without the API key some servers
    echo."""
    emulator.queue(
        Error(429, f"Rate limit for key {API_KEY} reached.", "requests", "rate_limit_exceeded"),
        Reply([Text("Answered by the fallback.")]),
    )
    await ask(hass, "Hi")
    reason = "rate_limited: Rate limit for key **REDACTED** reached."
    (detail,) = fallback_trace()
    assert detail["reason"] == reason
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == f"{AGENT}: gpt-5-mini failed ({reason}); asking gpt-4.1-mini"


@pytest.fixture
async def local_server(socket_enabled: None) -> AsyncGenerator[OpenAIEmulator]:
    """A second server: a local one speaking Chat Completions (Ollama, llama.cpp)."""
    local = OpenAIEmulator(api_keys={"sk-local"})
    local.responses_api = False
    await local.start()
    yield local
    await local.stop()


async def _agent_falling_back_to(
    hass: HomeAssistant, emulator: OpenAIEmulator, local: OpenAIEmulator, **options: Any
) -> tuple[ConfigEntry, dict[str, str]]:
    """Add the local server through its flow, then an OpenAI agent falling back to it.

    Return the local entry, and the agent's entity ids by platform (the local server's own
    agent came first and holds the plain names).
    """
    local_entry = await _add_entry(
        hass,
        "compatible",
        {"base_url": local.base_url, "api_key": "sk-local"},
        "llama3.2",
        emulator=local,
    )
    agent = {**AGENT_OPTIONS, "fallback_entry": local_entry.entry_id} | options
    entry = add_entry(hass, {"conversation": {k: v for k, v in agent.items() if v is not None}})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    emulator.requests.clear()
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    ids = {e.domain: e.entity_id for e in entities if e.domain == "conversation"}
    ids["fallbacks"] = next(e.entity_id for e in entities if e.unique_id.endswith("fallbacks"))
    return local_entry, ids


@pytest.mark.parametrize(
    ("fallback_model", "expected"),
    [(None, "llama3.2"), ("qwen3", "qwen3")],
    ids=["the server's default model", "a model named"],
)
async def test_fallback_server_answers(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    local_server: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    fallback_model: str | None,
    expected: str,
) -> None:
    """OpenAI rate limited: the local server answers, once, with its own wire format; the
    log names that server."""
    local_entry, ids = await _agent_falling_back_to(
        hass, emulator, local_server, fallback_model=fallback_model
    )
    emulator.queue(RATE_LIMITED)
    local_server.queue(Reply([Text("Answered at home.")]))
    result = await ask(hass, "Hi", ids["conversation"])
    assert result.response.speech["plain"]["speech"] == "Answered at home."
    assert models(emulator) == ["gpt-5-mini"]
    (sent,) = local_server.requests_to("/v1/chat/completions")
    assert sent.body["model"] == expected
    # OpenAI's own parameters stay with OpenAI.
    assert not {"reasoning_effort", "prompt_cache_key", "store"} & sent.body.keys()
    (detail,) = fallback_trace()
    assert detail["fallback_model"] == expected
    assert detail["fallback_server"] == local_entry.title
    assert hass.states.get(ids["fallbacks"]).state == "1"
    assert (
        f"{ids['conversation']}: gpt-5-mini failed ({detail['reason']}); "
        f"asking {expected} on {local_entry.title}"
    ) in [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


async def test_fallback_server_errors_are_its_own(
    hass: HomeAssistant, emulator: OpenAIEmulator, local_server: OpenAIEmulator
) -> None:
    """Both failing: one request each, and the user hears the fallback server's error."""
    _, ids = await _agent_falling_back_to(hass, emulator, local_server)
    emulator.queue(RATE_LIMITED)
    local_server.fail_next("/v1/chat/completions", Error(404, "model 'llama3.2' not found"))
    result = await ask(hass, "Hi", ids["conversation"])
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "llama3.2" in result.response.speech["plain"]["speech"]
    assert models(emulator) == ["gpt-5-mini"]
    assert len(local_server.requests_to("/v1/chat/completions")) == 1


@pytest.mark.parametrize("gone", ["unloaded", "removed"])
async def test_fallback_server_not_loaded(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    local_server: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    gone: str,
) -> None:
    """A fallback server that is not loaded, or no longer there, is skipped: the client
    retries as usual, and the log says why there was no fallback."""
    local_entry, ids = await _agent_falling_back_to(hass, emulator, local_server)
    if gone == "unloaded":
        assert await hass.config_entries.async_unload(local_entry.entry_id)
    else:
        assert (await hass.config_entries.async_remove(local_entry.entry_id))[
            "require_restart"
        ] is False
    emulator.queue(RATE_LIMITED, Reply([Text("Answered on retry.")]))
    result = await ask(hass, "Hi", ids["conversation"])
    assert result.response.speech["plain"]["speech"] == "Answered on retry."
    assert models(emulator) == ["gpt-5-mini", "gpt-5-mini"]
    assert local_server.requests_to("/v1/chat/completions") == []
    assert fallback_trace() == []
    assert f"The fallback server ({local_entry.entry_id}) is not loaded: no fallback" in caplog.text


async def test_fallback_server_key_refused_asks_there(
    hass: HomeAssistant, emulator: OpenAIEmulator, local_server: OpenAIEmulator
) -> None:
    """The fallback server refusing its key starts that entry's reauthentication."""
    local_entry, ids = await _agent_falling_back_to(hass, emulator, local_server)
    local_server.api_keys.clear()
    emulator.queue(RATE_LIMITED)
    result = await ask(hass, "Hi", ids["conversation"])
    assert result.response.response_type is intent.IntentResponseType.ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["entry_id"] for f in flows if f["context"]["source"] == "reauth"] == [
        local_entry.entry_id
    ]


async def test_fallback_server_gets_the_history_it_can_hold(
    hass: HomeAssistant, emulator: OpenAIEmulator, local_server: OpenAIEmulator
) -> None:
    """An OpenAI agent sends its whole history (it stores 0); its fallback to a local
    server sends only what that server's default limit allows, within its context."""
    _, ids = await _agent_falling_back_to(hass, emulator, local_server, history_tokens=0)
    local_server.context_tokens = 4096  # refused beyond it, as llama.cpp does
    long_turn = "Tell me about the house. " + "The kitchen light is on. " * 400
    conversation_id = None
    for _ in range(3):
        result = await conversation.async_converse(
            hass, long_turn, conversation_id, Context(), agent_id=ids["conversation"]
        )
        conversation_id = result.conversation_id
    assert len(emulator.requests_to("/v1/responses")[-1].body["input"]) > 5
    emulator.queue(RATE_LIMITED)
    local_server.queue(Reply([Text("Answered at home.")]))
    result = await conversation.async_converse(
        hass, long_turn, conversation_id, Context(), agent_id=ids["conversation"]
    )
    assert result.response.speech["plain"]["speech"] == "Answered at home."
    (sent,) = local_server.requests_to("/v1/chat/completions")
    assert [m["role"] for m in sent.body["messages"]][-1] == "user"
    assert sum(m["role"] == "user" for m in sent.body["messages"]) == 1


SEARCHED = Reply([Reasoning("Need the forecast."), WebSearch("weather"), Text("Sunny.")])
SEARCHING_AGENT = {**AGENT_OPTIONS, "reasoning_effort": "low", "web_search": True}


def _server_made(body: dict[str, Any]) -> list[str]:
    """Return the types of the server-made items a Responses request sends back."""
    return [
        item["type"]
        for item in body["input"]
        if item.get("type") in ("reasoning", "web_search_call")
    ]


async def _two_turns(hass: HomeAssistant, agent: str) -> conversation.ConversationResult:
    """Ask twice in one conversation; return the second answer."""
    first = await conversation.async_converse(hass, "Weather?", None, Context(), agent_id=agent)
    return await conversation.async_converse(
        hass, "And tomorrow?", first.conversation_id, Context(), agent_id=agent
    )


@pytest.mark.parametrize("subentry_options", [SEARCHING_AGENT])
async def test_fallback_model_gets_no_reasoning_it_cannot_take(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """gpt-5-mini reasoned in the first turn; its fallback gpt-4.1-mini (no reasoning
    model, which refuses reasoning items) gets the search, not the reasoning."""
    emulator.queue(SEARCHED, RATE_LIMITED, Reply([Text("Rainy.")]))
    result = await _two_turns(hass, AGENT)
    assert result.response.speech["plain"]["speech"] == "Rainy."
    *_, asked, fallback = emulator.requests_to("/v1/responses")
    assert _server_made(asked.body) == ["reasoning", "web_search_call"]
    assert (fallback.body["model"], _server_made(fallback.body)) == (
        "gpt-4.1-mini",
        ["web_search_call"],
    )
    # The agent's other options go with the turn: the fallback searches too.
    assert "web_search" in [tool["type"] for tool in fallback.body["tools"]]


async def test_fallback_server_gets_none_of_openais_items(
    hass: HomeAssistant, emulator: OpenAIEmulator, socket_enabled: None
) -> None:
    """Another Responses server cannot read OpenAI's encrypted reasoning nor its server
    tool calls: the fallback to it sends neither."""
    other = OpenAIEmulator(api_keys={"sk-other"})
    await other.start()
    try:
        other_entry = await _add_entry(
            hass,
            "compatible",
            {"base_url": other.base_url, "api_key": "sk-other", "api_mode": "responses"},
            "gpt-5-mini",
            emulator=other,
        )
        agent = {**SEARCHING_AGENT, "fallback_entry": other_entry.entry_id}
        agent.pop("fallback_model")
        entry = add_entry(hass, {"conversation": agent})
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        ids = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        agent_id = next(e.entity_id for e in ids if e.domain == "conversation")
        emulator.queue(SEARCHED, RATE_LIMITED)
        other.queue(Reply([Text("Rainy.")]))
        result = await _two_turns(hass, agent_id)
        assert result.response.speech["plain"]["speech"] == "Rainy."
        (sent,) = other.requests_to("/v1/responses")
        assert _server_made(sent.body) == []
    finally:
        await other.stop()
