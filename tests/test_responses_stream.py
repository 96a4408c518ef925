"""The Responses stream over HTTP: each output item lands in HA's chat log as it should.

Replies are scripted in the emulator and read by the SDK, as in a real turn; the chat log
is the one HA keeps for the conversation, and the next request shows what was kept.
"""

from __future__ import annotations

from typing import Any

from openai.types.responses import ResponseCodeInterpreterToolCall
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.backends.responses_stream import _code_interpreter_run
from custom_components.openai_conversation.compat import TOOL_RESULT_OBJECTS
from custom_components.openai_conversation.const import RECOMMENDED_CONVERSATION_OPTIONS
from emulator import OpenAIEmulator, Reasoning, Reply, Text, ToolCall
from emulator.replies import WebSearch
from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import chat_session, intent

from .test_conversation import ask, input_items

# A user's own agent: a reasoning model that may search the web, citations cut.
SEARCHING_AGENT = {
    **RECOMMENDED_CONVERSATION_OPTIONS,
    "recommended": False,
    "chat_model": "gpt-5-mini",
    "reasoning_effort": "low",
    "web_search": True,
}


@pytest.fixture
def subentry_options() -> dict[str, Any]:
    """The searching agent."""
    return dict(SEARCHING_AGENT)


async def _turn(hass: HomeAssistant, text: str) -> list[conversation.Content]:
    """Ask the agent (as Assist does) and return what the chat log kept of the reply."""
    result = await ask(hass, text)
    with (
        chat_session.async_get_chat_session(hass, result.conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        content = list(chat_log.content)
    asked = next(n for n, c in enumerate(content) if c.role == "user" and c.content == text)
    return content[asked + 1 :]


SEARCH_REPLY = Reply(
    [
        Reasoning("Need the forecast."),
        WebSearch("weather Leiden today"),
        Reasoning(("Found it.", "Keep it short.")),
        Text("Sunny, 21 degrees."),
    ]
)


async def test_each_output_item_is_its_own_step(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Reasoning, a search (recorded with its result), more reasoning in two parts, the
    answer: four steps of the debug trace, each with its own item, so that none overwrites
    another."""
    emulator.queue(SEARCH_REPLY)
    content = await _turn(hass, "What is the weather?")
    assert [c.role for c in content] == [
        "assistant",
        "assistant",
        "tool_result",
        "assistant",
        "assistant",
    ]
    steps = [c for c in content if isinstance(c, conversation.AssistantContent)]
    assert [(s.thinking_content, s.content) for s in steps] == [
        ("Need the forecast.", None),
        (None, None),
        # Two summary parts of one reasoning item read as two paragraphs.
        ("Found it.\n\nKeep it short.", None),
        (None, "Sunny, 21 degrees."),
    ]
    kinds = [getattr(s.native, "type", None) for s in steps]
    assert kinds == ["reasoning", "web_search_call", "reasoning", None]


async def test_a_preamble_and_a_call_are_steps_of_their_own(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    kitchen_light: str,
) -> None:
    """GPT-5 reasons, says what it is about to do, then calls the tool: each in its step."""
    emulator.queue(
        Reply(
            [
                Reasoning("The user wants light."),
                Text("Turning on the kitchen light."),
                ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="call_1"),
            ]
        ),
        Reply([Text("Done.")]),
    )
    steps = await _turn(hass, "Light please")
    assistant = [s for s in steps if isinstance(s, conversation.AssistantContent)]
    assert [(s.thinking_content, s.content, bool(s.tool_calls)) for s in assistant] == [
        ("The user wants light.", None, False),
        (None, "Turning on the kitchen light.", False),
        (None, None, True),
        (None, "Done.", False),
    ]
    assert hass.states.get(kitchen_light).state == "on"


async def test_the_next_turn_replays_every_item(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The search and both reasoning items travel with the history, in their order."""
    emulator.queue(SEARCH_REPLY, Reply([Text("You are welcome.")]))
    first = await ask(hass, "What is the weather?")
    await ask(hass, "Thanks", first.conversation_id)
    items = input_items(emulator)
    asked = next(n for n, i in enumerate(items) if i.get("content") == "What is the weather?")
    thanked = next(n for n, i in enumerate(items) if i.get("content") == "Thanks")
    replayed = items[asked + 1 : thanked]
    assert [i["type"] for i in replayed] == ["reasoning", "web_search_call", "reasoning", "message"]
    assert replayed[1]["action"] == {"type": "search", "query": "weather Leiden today"}
    assert replayed[0]["id"] != replayed[2]["id"]


async def test_held_text_is_spoken_when_the_message_ends(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Text held back as a possible citation start is released at the message's end."""
    emulator.queue(Reply([Text("Sunny, see the forecast (")]))
    result = await ask(hass, "What is the weather?")
    assert result.response.speech["plain"]["speech"] == "Sunny, see the forecast ("


SPARSE_ENDINGS = [
    (
        Reply([Text("partial")], fail="", sparse=True),
        "The server could not complete the reply: unknown",
    ),
    (
        Reply([Text("partial")], error_event="", sparse=True),
        "The server could not complete the reply: unknown",
    ),
    (
        Reply([Text("partial")], error_event=""),
        "The server could not complete the reply: server_error",
    ),
    (Reply([Text("partial")], incomplete="", sparse=True), "The reply was cut off (unknown)"),
    (
        Reply([Text("partial")], ends_after=4),
        "The server closed the reply before finishing it (no response.completed); try again",
    ),
]


@pytest.mark.parametrize(("reply", "speech"), SPARSE_ENDINGS)
async def test_sparse_endings_are_told_plainly(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    reply: Reply,
    speech: str,
) -> None:
    """A server that leaves out the details of a failure still gets a plain message."""
    emulator.queue(reply)
    result = await ask(hass, "Hi")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert result.response.speech["plain"]["speech"].startswith(speech)


def test_a_run_whose_outputs_were_left_out() -> None:
    """OpenAI sends a run's outputs only when asked for and its code may be null: the
    recorded result says null, and the call's code is empty, never made up."""
    item = ResponseCodeInterpreterToolCall(
        id="ci_1",
        type="code_interpreter_call",
        container_id="cntr_1",
        code=None,
        outputs=None,
        status="incomplete",
    )
    message, calls, result = _code_interpreter_run(item)  # type: ignore[misc]
    assert message == {"role": "assistant", "native": item}
    assert calls["tool_calls"][0].tool_args == {"code": ""}
    data = result["result"].data if TOOL_RESULT_OBJECTS else result["tool_result"]
    assert data == {"container_id": "cntr_1", "output": None, "status": "incomplete"}
