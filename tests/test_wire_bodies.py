"""Bodies go to the server as built: the SDK's body transform would change none of them.

The backends post their request bodies without the SDK's create(), whose first step walks
each body against its TypedDict for aliases and formats (and costs more CPU than the rest
of a turn). That is only right while the walk would leave our bodies as they are. These
tests send every kind of body the integration builds, as real turns against the
emulator, and run the SDK's own transform over what arrived.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openai._utils import async_maybe_transform
from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.compat import vol
from custom_components.openai_conversation.const import RECOMMENDED_CONVERSATION_OPTIONS
from emulator import OpenAIEmulator, Reasoning, Reply, Text, ToolCall
from emulator.replies import WebSearch
from homeassistant.components import ai_task, conversation
from homeassistant.core import HomeAssistant

from .common import ask_about_pdf, expose_script_with_selectors
from .conftest import add_entry, all_subentries
from .test_conversation import ask
from .test_providers import _add_compatible

AGENT = {
    **RECOMMENDED_CONVERSATION_OPTIONS,
    "recommended": False,
    "chat_model": "gpt-5-mini",
    "reasoning_effort": "low",
    "web_search": True,
    "user_location": True,
    "city": "Leiden",
    "service_tier": "flex",
    "store_responses": True,
}
STRUCTURE = vol.Schema(
    {vol.Required("summary"): str, vol.Optional("kind"): vol.In(["sunny", "rainy"])}
)


async def _assert_unchanged(bodies: list[dict[str, Any]], params: type) -> None:
    assert bodies
    for body in bodies:
        assert await async_maybe_transform(body, params) == body


async def _structured_task(hass: HomeAssistant, image: Path) -> None:
    """An AI Task with a structure and an attached image (a camera snapshot, say)."""
    chat_log = conversation.ChatLog(hass, "task")
    attachment = conversation.Attachment("media-source://camera", "image/png", image)
    chat_log.async_add_user_content(
        conversation.UserContent("Who is at the door?", attachments=[attachment])
    )
    entity = hass.data[ai_task.DATA_COMPONENT].get_entity("ai_task.openai_ai_task")
    task = ai_task.GenDataTask(name="Door", instructions="Who?", structure=STRUCTURE)
    await entity._async_generate_data(task, chat_log)


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A searching, reasoning agent with every OpenAI-only option, and an AI Task."""
    return add_entry(hass, all_subentries(conversation=AGENT))


async def test_responses_bodies(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    kitchen_light: str,
    tmp_path: Path,
) -> None:
    """Tools with selectors, a tool round trip, reasoning and a web search replayed, a
    PDF, and an AI Task's structure: every Responses body as built."""
    await expose_script_with_selectors(hass)
    emulator.queue(
        Reply([Reasoning("Light."), ToolCall("HassTurnOn", {"name": "Kitchen light"})]),
        Reply([Reasoning("Done."), WebSearch("weather Leiden"), Text("On. And sunny.")]),
        Reply([Text("You are welcome.")]),
    )
    first = await ask(hass, "Kitchen light on, and the weather?")
    await ask(hass, "Thanks", first.conversation_id)
    await ask_about_pdf(hass, setup_entry, tmp_path)
    bodies = [r.body for r in emulator.requests_to("/v1/responses")]
    kinds = {item["type"] for body in bodies for item in body["input"]}
    assert {"reasoning", "web_search_call", "function_call", "function_call_output"} <= kinds
    await _assert_unchanged(bodies, ResponseCreateParamsStreaming)


async def test_structured_task_bodies(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    """An AI Task's strict schema and an image: as built, on Responses."""
    image = tmp_path / "door.png"
    image.write_bytes(b"\x89PNG fake png")
    await _structured_task(hass, image)
    (body,) = [r.body for r in emulator.requests_to("/v1/responses")]
    assert body["text"]["format"]["strict"] is True
    await _assert_unchanged([body], ResponseCreateParamsStreaming)


async def test_chat_completions_bodies(
    hass: HomeAssistant, emulator: OpenAIEmulator, kitchen_light: str, tmp_path: Path
) -> None:
    """A compatible server's tool round trip and structured AI Task: as built."""
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "llama3.2")
    await expose_script_with_selectors(hass)
    emulator.queue(Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})]), Reply([Text("On.")]))
    await ask(hass, "Kitchen light on")
    image = tmp_path / "door.png"
    image.write_bytes(b"\x89PNG fake png")
    await _structured_task(hass, image)
    bodies = [r.body for r in emulator.requests_to("/v1/chat/completions")]
    roles = {message["role"] for body in bodies for message in body["messages"]}
    assert {"system", "user", "assistant", "tool"} <= roles
    assert any("response_format" in body for body in bodies)
    await _assert_unchanged(bodies, CompletionCreateParamsStreaming)
