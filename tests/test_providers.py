"""Azure OpenAI and OpenAI-compatible servers, end to end through the emulator."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from custom_components.openai_conversation.backends import seam as seam_module
from custom_components.openai_conversation.backends.chat_completions import history_to_messages
from custom_components.openai_conversation.capabilities import capability_name
from custom_components.openai_conversation.client import async_create_seam, normalize_azure
from custom_components.openai_conversation.compat import vol
from emulator import FLAVOURS, Error, Hang, OpenAIEmulator, Reasoning, Reply, Text, ToolCall
from emulator.replies import offered_name
from homeassistant import config_entries
from homeassistant.components import ai_task, conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component

from .common import (
    Frontend,
    ask_about_pdf,
    assert_selectors_read,
    dropdown,
    expose_script_with_selectors,
    pdf_refusal,
    tool_result,
    turn_deltas,
)
from .conftest import API_KEY

DOMAIN = "openai_conversation"


async def _flow(hass: HomeAssistant, provider: str, data: dict[str, Any]) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )
    return await hass.config_entries.flow.async_configure(result["flow_id"], data)


async def _add_entry(
    hass: HomeAssistant,
    provider: str,
    data: dict[str, Any],
    model: str | None = None,
    *,
    emulator: OpenAIEmulator | None = None,
) -> ConfigEntry:
    """Add an entry through the flow; with the emulator, forget the flow's own requests."""
    result = await _flow(hass, provider, data)
    if model is not None:
        assert result["step_id"] == "model"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"default_model": model}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    if emulator is not None:
        emulator.requests.clear()
    return result["result"]


async def _add_compatible(hass: HomeAssistant, emulator: OpenAIEmulator, model: str) -> ConfigEntry:
    """Add the emulator as a compatible server (with a key) whose agents use this model."""
    base_url = f"http://127.0.0.1:{emulator.port}/v1"
    return await _add_entry(
        hass, "compatible", {"base_url": base_url, "api_key": API_KEY}, model, emulator=emulator
    )


async def _add_azure(hass: HomeAssistant, emulator: OpenAIEmulator) -> ConfigEntry:
    """Add the emulator as an Azure resource (deployment gpt-4o-mini, Responses API)."""
    data = {
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "api_key": API_KEY,
        "api_version": "2025-04-01-preview",
        "default_model": "gpt-4o-mini",
    }
    return await _add_entry(hass, "azure", data, emulator=emulator)


async def _new_agent_flow(hass: HomeAssistant, entry: ConfigEntry, name: str) -> Any:
    """Start adding a conversation agent; return the form of its advanced step."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": name, "recommended": False}
    )


async def ask(hass: HomeAssistant, agent: str, text: str) -> conversation.ConversationResult:
    return await hass.async_create_task(
        conversation.async_converse(hass, text, None, Context(), agent_id=agent)
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://res.openai.azure.com", ("https://res.openai.azure.com", None, None)),
        ("https://res.openai.azure.com/", ("https://res.openai.azure.com", None, None)),
        ("res.openai.azure.com", ("https://res.openai.azure.com", None, None)),
        (
            "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            ("https://res.openai.azure.com", "gpt-4o", "2024-10-21"),
        ),
        (
            "https://res.cognitiveservices.azure.com/openai/responses?api-version=2025-04-01-preview",
            ("https://res.cognitiveservices.azure.com", None, "2025-04-01-preview"),
        ),
        ("https://res.openai.azure.com/openai/v1/", ("https://res.openai.azure.com", None, "v1")),
    ],
)
def test_normalize_azure(url: str, expected: tuple[str, str | None, str | None]) -> None:
    assert normalize_azure(url) == expected


async def test_azure_pasted_url_and_turn(
    hass: HomeAssistant, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    url = f"http://127.0.0.1:{emulator.port}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2025-04-01-preview"
    entry = await _add_entry(hass, "azure", {"endpoint": url, "api_key": API_KEY})
    assert entry.title == "Azure OpenAI (127.0.0.1)"
    assert entry.data == {
        "provider": "azure",
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "api_key": API_KEY,
        "api_version": "2025-04-01-preview",
        "default_model": "gpt-4o-mini",
        "api_mode": "responses",
    }
    assert sorted(s.subentry_type for s in entry.subentries.values()) == [
        "ai_task_data",
        "conversation",
    ]
    emulator.queue(
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})]), Reply([Text("Done.")])
    )
    result = await ask(hass, "conversation.openai_conversation", "Light on")
    assert result.response.speech["plain"]["speech"] == "Done."
    assert hass.states.get(kitchen_light).state == "on"
    last = emulator.requests_to("/openai/responses")[-1]
    assert last.query == {"api-version": "2025-04-01-preview"}
    assert last.headers["api-key"] == API_KEY
    assert last.body["model"] == "gpt-4o-mini"
    assert "web_search" not in str(last.body.get("tools"))


async def test_azure_dropdown_offers_deployments_not_base_models(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Azure's /models lists base models (gpt-6-luna ...), which requests cannot name."""
    emulator.azure_deployments.add("kitchen-gpt")
    entry = await _add_azure(hass, emulator)
    result = await _new_agent_flow(hass, entry, "Kitchen")
    assert result["step_id"] == "additional"
    field = next(k for k in result["data_schema"].schema if k == "chat_model")
    offered = [o["value"] for o in result["data_schema"].schema[field].config["options"]]
    assert offered == ["gpt-4o-mini"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "kitchen-gpt", "max_tokens": 500}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("From the kitchen deployment.")]))
    answer = await ask(hass, "conversation.kitchen", "Hi")
    assert answer.response.speech["plain"]["speech"] == "From the kitchen deployment."
    assert emulator.requests_to("/openai/responses")[-1].body["model"] == "kitchen-gpt"
    # The next agent is offered the deployments in use by agents and tasks.
    result = await _new_agent_flow(hass, entry, "Hall")
    field = next(k for k in result["data_schema"].schema if k == "chat_model")
    offered = [o["value"] for o in result["data_schema"].schema[field].config["options"]]
    assert offered == ["gpt-4o-mini", "kitchen-gpt"]


async def test_model_family_where_the_name_cannot_tell(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A reasoning model behind the deployment name "prod-chat" gets reasoning settings.

    By its name it looked like a chat model: the agent's temperature went along, and the
    model refused every turn. The family chosen in the flow decides instead.
    """
    emulator.azure_deployments.add("prod-chat")
    emulator.azure_models["prod-chat"] = "o3-mini"
    entry = await _add_azure(hass, emulator)
    result = await _new_agent_flow(hass, entry, "Reasoner")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "prod-chat", "model_family": "o4-mini"}
    )
    offered = {str(key) for key in result["data_schema"].schema}
    assert "reasoning_effort" in offered
    assert "temperature" not in offered
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"reasoning_effort": "high"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # A temperature kept from the agent's earlier model must not go along either.
    subentry = next(s for s in entry.subentries.values() if s.title == "Reasoner")
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "temperature": 0.7}
    )
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("Thought it through.")]))
    answer = await ask(hass, "conversation.reasoner", "Hi")
    assert answer.response.speech["plain"]["speech"] == "Thought it through."
    sent = emulator.requests_to("/openai/responses")[-1].body
    assert sent["reasoning"]["effort"] == "high"
    assert "temperature" not in sent


def test_proxy_prefixes_do_not_hide_the_model() -> None:
    assert capability_name({}, "openai/gpt-5-mini") == "gpt-5-mini"
    assert capability_name({"model_family": "gpt-6"}, "my-proxy-alias") == "gpt-6"
    assert capability_name({"model_family": "auto"}, "gpt-4o") == "gpt-4o"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"api_version": "2023-01-01"}, "azure_not_found"),
        ({"default_model": "no-such-deployment"}, "deployment_not_found"),
        ({"default_model": ""}, "deployment_required"),
        ({"api_key": "sk-wrong"}, "invalid_auth"),
    ],
)
async def test_azure_errors_explain_and_recover(
    hass: HomeAssistant, emulator: OpenAIEmulator, data: dict[str, Any], error: str
) -> None:
    good = {
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "api_key": API_KEY,
        "api_version": "2025-04-01-preview",
        "default_model": "gpt-4o-mini",
    }
    result = await _flow(hass, "azure", {**good, **data})
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], good)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_azure_old_api_version_uses_chat_completions(
    hass: HomeAssistant, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    entry = await _add_entry(
        hass,
        "azure",
        {
            "endpoint": f"http://127.0.0.1:{emulator.port}",
            "api_key": API_KEY,
            "api_version": "2024-10-21",
            "default_model": "gpt-4o-mini",
        },
    )
    assert entry.data["api_mode"] == "chat_completions"
    emulator.queue(Reply([Text("Hello from a deployment.")]))
    result = await ask(hass, "conversation.openai_conversation", "Hi")
    assert result.response.speech["plain"]["speech"] == "Hello from a deployment."
    sent = emulator.requests_to("/openai/deployments/gpt-4o-mini/chat/completions")[-1]
    assert sent.body["max_completion_tokens"] == 3000
    # Azure reads PDFs: sent as a file part.
    emulator.queue(Reply([Text("A manual.")]))
    assert await ask_about_pdf(hass, entry, tmp_path) == {"text": "A manual."}
    sent = emulator.requests_to("/openai/deployments/gpt-4o-mini/chat/completions")[-1]
    part = sent.body["messages"][-1]["content"][1]
    assert part["type"] == "file"
    assert part["file"]["filename"] == "manual.pdf"


async def test_azure_flow_refuses_what_every_turn_would_be_refused(
    hass: HomeAssistant, emulator: OpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The flow probes with the request agents send, streamed, and reads it to the end.

    An o3-mini deployment named "prod-chat" refuses API versions before 2024-12-01 on every
    request. The old probe (a one-token, non-streaming call) took that 400 as "the
    deployment exists" and created an entry whose every turn failed.
    """
    emulator.azure_deployments.add("prod-chat")
    emulator.azure_models["prod-chat"] = "o3-mini"
    data = {
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "api_key": API_KEY,
        "api_version": "2024-10-21",
        "default_model": "prod-chat",
    }
    result = await _flow(hass, "azure", data)
    assert result["errors"] == {"base": "request_refused"}
    assert "enabled only for api versions 2024-12-01-preview" in caplog.text
    probe = emulator.requests_to("/openai/deployments/prod-chat/chat/completions")[-1].body
    assert probe["stream"] is True
    assert probe["max_completion_tokens"] == 16
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**data, "api_version": "2025-04-01-preview"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    emulator.requests.clear()
    emulator.queue(Reply([Text("Fine now.")]))
    answer = await ask(hass, "conversation.openai_conversation", "Hi")
    assert answer.response.speech["plain"]["speech"] == "Fine now."


async def test_azure_api_version_before_stream_options(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Azure 2024-06-01 refuses max_completion_tokens and stream_options: neither is sent."""
    await _add_entry(
        hass,
        "azure",
        {
            "endpoint": f"http://127.0.0.1:{emulator.port}",
            "api_key": API_KEY,
            "api_version": "2024-06-01",
            "default_model": "gpt-4o-mini",
        },
    )
    emulator.queue(Reply([Text("Old but fine.")]))
    result = await ask(hass, "conversation.openai_conversation", "Hi")
    assert result.response.speech["plain"]["speech"] == "Old but fine."
    sent = emulator.requests_to("/openai/deployments/gpt-4o-mini/chat/completions")[-1]
    assert sent.body["max_tokens"] == 3000
    assert not {"max_completion_tokens", "stream_options"} & sent.body.keys()


async def test_azure_v1_route(hass: HomeAssistant, emulator: OpenAIEmulator) -> None:
    entry = await _add_entry(
        hass,
        "azure",
        {
            "endpoint": f"http://127.0.0.1:{emulator.port}/openai/v1/",
            "api_key": API_KEY,
            "default_model": "gpt-4o-mini",
        },
    )
    assert entry.data["api_version"] == "v1"
    emulator.queue(Reply([Text("v1 works")]))
    result = await ask(hass, "conversation.openai_conversation", "Hi")
    assert result.response.speech["plain"]["speech"] == "v1 works"
    assert emulator.requests_to("/openai/v1/responses")[-1].headers["api-key"] == API_KEY


async def test_compatible_chat_mode_tool_round_trip(
    hass: HomeAssistant, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    emulator.responses_api = False
    entry = await _add_entry(
        hass,
        "compatible",
        {"base_url": f"http://127.0.0.1:{emulator.port}/v1/", "api_key": API_KEY},
        model="llama3.2",
        emulator=emulator,
    )
    assert entry.data["api_mode"] == "chat_completions"
    assert entry.data["base_url"] == f"http://127.0.0.1:{emulator.port}/v1"
    assert entry.title == f"OpenAI-compatible (127.0.0.1:{emulator.port})"
    assert sorted(s.subentry_type for s in entry.subentries.values()) == [
        "ai_task_data",
        "conversation",
    ]
    emulator.queue(
        Reply(
            [Text("Sure. "), ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="c1")],
            usage=(50, 9, 10),
        ),
        Reply([Text("The kitchen light is on.")]),
    )
    result = await ask(hass, "conversation.openai_conversation", "Turn on the kitchen light")
    assert result.response.speech["plain"]["speech"] == "The kitchen light is on."
    assert hass.states.get(kitchen_light).state == "on"
    first, second = emulator.requests_to("/v1/chat/completions")
    assert first.body["model"] == "llama3.2"
    assert first.body["max_tokens"] == 3000
    assert first.body["stream_options"] == {"include_usage": True}
    assert first.body["tools"][0]["type"] == "function"
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["system", "user", "assistant", "tool"]
    assistant = second.body["messages"][2]
    assert assistant["content"] == "Sure. "
    assert assistant["tool_calls"][0]["id"] == second.body["messages"][3]["tool_call_id"] == "c1"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(
            [ToolCall("HassTurnOn", {"name": "Kitchen light"})],
            omit_tool_ids=True,
            argument_chunk_size=1,
        ),
        Reply([ToolCall("HassTurnOn", '{"name": "Kitchen light"}')], argument_chunk_size=3),
    ],
)
async def test_compatible_fragmented_tool_calls(
    hass: HomeAssistant, emulator: OpenAIEmulator, kitchen_light: str, reply: Reply
) -> None:
    emulator.responses_api = False
    emulator.api_keys.add("no-key")
    await _add_entry(
        hass,
        "compatible",
        {"base_url": f"http://127.0.0.1:{emulator.port}/v1"},
        model="qwen",
        emulator=emulator,
    )
    emulator.queue(reply, Reply([Text("On.")]))
    result = await ask(hass, "conversation.openai_conversation", "Light on")
    assert result.response.speech["plain"]["speech"] == "On."
    assert hass.states.get(kitchen_light).state == "on"
    messages = emulator.requests_to("/v1/chat/completions")[-1].body["messages"]
    call_id = messages[2]["tool_calls"][0]["id"]
    assert call_id
    assert messages[3]["tool_call_id"] == call_id
    # No key configured: the SDK's placeholder, never an empty header.
    assert (
        emulator.requests_to("/v1/chat/completions")[-1].headers["Authorization"] == "Bearer no-key"
    )


async def test_compatible_malformed_arguments_fed_back(
    hass: HomeAssistant, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    emulator.responses_api = False
    emulator.api_keys.add("no-key")
    await _add_entry(
        hass,
        "compatible",
        {"base_url": f"http://127.0.0.1:{emulator.port}/v1"},
        model="qwen",
        emulator=emulator,
    )
    emulator.queue(
        Reply([ToolCall("HassTurnOn", '{"name": "Kitchen light"}}</tool_call>', call_id="bad")]),
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="good")]),
        Reply([Text("Fixed it.")]),
    )
    result = await ask(hass, "conversation.openai_conversation", "Light on")
    assert result.response.speech["plain"]["speech"] == "Fixed it."
    messages = emulator.requests_to("/v1/chat/completions")[1].body["messages"]
    error = json.loads(next(m["content"] for m in messages if m.get("tool_call_id") == "bad"))
    assert error["error"] == "InvalidToolCall"
    assert "not valid JSON" in error["error_text"]


async def test_compatible_responses_mode_detected(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    entry = await _add_compatible(hass, emulator, "gpt-4o-mini")
    assert entry.data["api_mode"] == "responses"
    result = await ask(hass, "conversation.openai_conversation", "Hi")
    assert result.response.speech["plain"]["speech"] == "OK"
    body = emulator.requests_to("/v1/responses")[-1].body
    assert "tools" not in body or all(t["type"] == "function" for t in body["tools"])


async def test_responses_probe_is_small_unstored_and_asked_once(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """The probe costs at most 16 tokens, leaves nothing stored, and is not retried."""
    emulator.fail_next("/v1/responses", Error(500, "The server had an error"))
    base_url = f"http://127.0.0.1:{emulator.port}/v1"
    entry = await _add_entry(
        hass, "compatible", {"base_url": base_url, "api_key": API_KEY}, "qwen3"
    )
    assert entry.data["api_mode"] == "chat_completions"
    (probe,) = emulator.requests_to("/v1/responses")
    assert probe.body == {
        "model": "qwen3",
        "input": "ping",
        "max_output_tokens": 16,
        "store": False,
        "text": {
            "format": {
                "type": "json_schema",
                "name": "probe",
                "schema": {
                    "type": "object",
                    "properties": {"ok": {"type": "boolean", "enum": [True]}},
                    "required": ["ok"],
                    "additionalProperties": False,
                },
                "strict": True,
            }
        },
    }


async def test_responses_probe_gives_up_on_a_silent_server(
    hass: HomeAssistant, emulator: OpenAIEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone waits on the probe: a server that does not answer in time does not speak
    the Responses API, whatever the client's own (agent) timeout."""
    monkeypatch.setattr(seam_module, "VALIDATION_TIMEOUT", 0.3)
    emulator.queue(Hang(1.5, then=Reply([Text('{"ok": true}')])))
    data = {"provider": "compatible", "base_url": emulator.base_url, "api_key": API_KEY}
    seam = await async_create_seam(hass, data)
    assert not await seam.speaks_responses("qwen3")
    assert len(emulator.requests_to("/v1/responses")) == 1


async def test_compatible_structured_output_falls_back_to_json_object(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "mistral")
    emulator.fail_next(
        "/v1/chat/completions", Error(400, "response_format json_schema is not supported")
    )
    emulator.queue(Reply([Text('{"answer": "yes", "note": null}')]))
    result = await ai_task.async_generate_data(
        hass,
        task_name="Check",
        entity_id="ai_task.openai_ai_task",
        instructions="Is it on?",
        structure=vol.Schema({vol.Required("answer"): str, vol.Optional("note"): str}),
    )
    assert result.data == {"answer": "yes"}
    first, second = emulator.requests_to("/v1/chat/completions")
    assert first.body["response_format"]["type"] == "json_schema"
    assert second.body["response_format"] == {"type": "json_object"}
    # Without json_schema the model must still be told the structure.
    system = second.body["messages"][0]
    assert system["role"] == "system"
    assert "JSON schema" in system["content"]
    assert '"answer"' in system["content"]


async def test_compatible_structured_output_name_is_valid(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """OpenAI and Azure refuse a schema name with a space: the task name is slugified."""
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "gpt-4o-mini")
    result = await ai_task.async_generate_data(
        hass,
        task_name="Weather report",
        entity_id="ai_task.openai_ai_task",
        instructions="How is the weather?",
        structure=vol.Schema({vol.Required("rain"): bool}),
    )
    assert result.data == {"rain": False}
    (request,) = emulator.requests_to("/v1/chat/completions")  # no fallback was needed
    assert request.body["response_format"]["json_schema"]["name"] == "weather_report"


async def test_duplicates_take_the_server_into_account(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    base = f"http://127.0.0.1:{emulator.port}/v1"
    await _add_entry(hass, "compatible", {"base_url": base, "api_key": API_KEY}, model="m")
    result = await _flow(hass, "compatible", {"base_url": base + "/", "api_key": API_KEY})
    assert result["reason"] == "already_configured"
    # The same key on OpenAI itself is another entry.
    result = await _flow(hass, "openai", {"api_key": API_KEY})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_azure_duplicates_take_the_endpoint_into_account(
    hass: HomeAssistant, emulator: OpenAIEmulator, socket_enabled: None
) -> None:
    """One key may serve two Azure resources: another endpoint is another entry."""
    await _add_azure(hass, emulator)
    again = {
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "api_key": API_KEY,
        "api_version": "2025-04-01-preview",
        "default_model": "gpt-4o-mini",
    }
    result = await _flow(hass, "azure", again)
    assert result["reason"] == "already_configured"
    other = OpenAIEmulator(api_keys={API_KEY})  # a second resource, the same key
    await other.start()
    try:
        result = await _flow(hass, "azure", {**again, "endpoint": f"http://127.0.0.1:{other.port}"})
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
    finally:
        await other.stop()


async def test_live_model_list_and_provider_features(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    openai_entry = await _add_entry(hass, "openai", {"api_key": API_KEY})
    result = await hass.config_entries.subentries.async_init(
        (openai_entry.entry_id, "conversation"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "A", "llm_hass_api": [], "recommended": False},
    )
    options = next(k for k in result["data_schema"].schema if str(k) == "chat_model")
    offered = [o["value"] for o in result["data_schema"].schema[options].config["options"]]
    assert "gpt-4o" in offered
    assert not {"text-embedding-3-small", "tts-1", "whisper-1", "gpt-image-2.5-flare"} & set(
        offered
    )

    emulator.responses_api = False
    compatible = await _add_compatible(hass, emulator, "gpt-4o")
    result = await hass.config_entries.subentries.async_init(
        (compatible.entry_id, "conversation"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "B", "recommended": False}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-4o", "max_tokens": 100, "timeout": 5}
    )
    fields = {str(k) for k in result["data_schema"].schema}
    assert "temperature" in fields
    assert not {"web_search", "code_interpreter"} & fields


def test_chat_history_never_orphans_a_tool_call() -> None:
    call = llm.ToolInput(tool_name="HassTurnOn", tool_args={}, id="a")
    messages = history_to_messages(
        [
            conversation.UserContent("hi"),
            conversation.AssistantContent("x", content="Let me", tool_calls=[call]),
            conversation.AssistantContent("x", content=" check."),
            tool_result("x", "stray", "HassTurnOff", {}),
            conversation.UserContent("again"),
        ]
    )
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "user"]
    assert messages[1]["content"] == "Let me check."
    assert messages[2]["tool_call_id"] == "a"


async def test_compatible_chat_details(
    hass: HomeAssistant, emulator: OpenAIEmulator, tmp_path: Any
) -> None:
    """Reasoning text, attachments, reasoning-model parameters and a cut-off reply."""
    emulator.responses_api = False
    entry = await _add_compatible(hass, emulator, "o3")
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG fake")
    emulator.queue(Reply([Reasoning("thinking hard"), Text("One image.")]))
    chat = conversation.ChatLog(hass, "c")
    chat.async_add_user_content(
        conversation.UserContent(
            "What?",
            attachments=[
                conversation.Attachment("m://a", "image/png", image),
            ],
        )
    )
    entity = hass.data[ai_task.DATA_COMPONENT].get_entity("ai_task.openai_ai_task")
    result = await entity._async_generate_data(
        ai_task.GenDataTask(name="t", instructions="What?"), chat
    )
    assert result.data == "One image."
    assert any(
        c.thinking_content == "thinking hard"
        for c in chat.content
        if isinstance(c, conversation.AssistantContent)
    )
    body = emulator.requests_to("/v1/chat/completions")[-1].body
    parts = body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert body["reasoning_effort"] == "low"
    assert "temperature" not in body
    emulator.queue(Reply([Text("cut")], incomplete="length"))
    turn = await ask(hass, "conversation.openai_conversation", "Long story")
    assert "cut off (length)" in turn.response.speech["plain"]["speech"]
    emulator.queue(Reply([Text("Some of")], incomplete="content_filter"))
    turn = await ask(hass, "conversation.openai_conversation", "Something rude")
    assert "cut off (content_filter)" in turn.response.speech["plain"]["speech"]
    assert entry.data["default_model"] == "o3"


async def test_compatible_server_without_model_list(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    emulator.fail_next("/v1/models", Error(404, "Not Found"))
    # A lenient server: /responses says 200 to anything, but that is no Responses API.
    emulator.fail_next("/v1/responses", Error(200, "accepted anything"))
    result = await _flow(
        hass, "compatible", {"base_url": f"http://127.0.0.1:{emulator.port}/v1", "api_key": API_KEY}
    )
    assert result["step_id"] == "model"
    default_model = next(k for k in result["data_schema"].schema if str(k) == "default_model")
    assert result["data_schema"].schema[default_model].config["options"] == []
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"default_model": "my-model"}
    )
    assert result["data"]["api_mode"] == "chat_completions"
    assert result["data"]["default_model"] == "my-model"


async def test_compatible_partial_responses_api_gets_chat_completions(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A /responses that answers but ignores text.format (llama.cpp) is not used."""
    emulator.queue(Reply([Text("pong")]))  # the probe's reply, unconstrained
    base_url = f"http://127.0.0.1:{emulator.port}/v1"
    entry = await _add_entry(
        hass, "compatible", {"base_url": base_url, "api_key": API_KEY}, "smollm2"
    )
    assert entry.data["api_mode"] == "chat_completions"
    probe = emulator.requests_to("/v1/responses")[0].body
    assert probe["model"] == "smollm2"
    assert probe["text"]["format"]["type"] == "json_schema"


async def test_azure_reasoning_deployment_rejecting_the_probe(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    emulator.fail_next(
        "/openai/deployments/gpt-4o-mini/chat/completions",
        Error(400, "Unsupported parameter: 'max_tokens' is not supported with this model."),
    )
    entry = await _add_entry(
        hass,
        "azure",
        {
            "endpoint": f"http://127.0.0.1:{emulator.port}",
            "api_key": API_KEY,
            "default_model": "gpt-4o-mini",
        },
    )
    assert entry.data["default_model"] == "gpt-4o-mini"


async def test_model_list_falls_back_to_suggestions(
    hass: HomeAssistant, emulator: OpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that cannot list its models gets suggestions; the debug log says why."""
    caplog.set_level(logging.DEBUG, logger="custom_components.openai_conversation")
    entry = await _add_entry(hass, "openai", {"api_key": API_KEY})
    emulator.fail_next("/v1/models", Error(500, "down", type="server_error"))
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "A", "recommended": False}
    )
    key = next(k for k in result["data_schema"].schema if str(k) == "chat_model")
    suggested = [o["value"] for o in result["data_schema"].schema[key].config["options"]]
    assert "gpt-6-luna" in suggested
    assert any(
        r.getMessage().startswith("Cannot list models, offering suggestions: Error code: 500 - ")
        for r in caplog.records
    )


async def test_reconfigure_compatible_server(
    hass: HomeAssistant, emulator: OpenAIEmulator, frontend: Frontend
) -> None:
    """The model form offers the server's models in a dropdown that takes any name; it
    suggests the stored model, and after a refusal the one the user typed."""
    emulator.responses_api = False
    emulator.models = ("m1", "m2")
    entry = await _add_compatible(hass, emulator, "m1")
    result = await frontend.reconfigure_server(entry)
    assert result["step_id"] == "compatible"
    result = await frontend.submit(
        {"base_url": emulator.base_url, "api_key": API_KEY, "api_mode": "chat_completions"}
    )
    assert result["step_id"] == "model"
    assert result["data_schema"] == [_model_field("m1")]
    emulator.fail_next(
        "/v1/chat/completions",
        Error(404, "The model `m2` does not exist", code="model_not_found"),
    )
    result = await frontend.submit({"default_model": "m2"})
    assert result["errors"] == {"base": "model_not_found"}
    assert result["data_schema"] == [_model_field("m2")]
    result = await frontend.submit({"default_model": "m2"})
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["default_model"] == "m2"


def _model_field(suggested: str) -> dict[str, Any]:
    """Return the model step's one field as the frontend receives it (server: m1, m2)."""
    return {
        "name": "default_model",
        "required": True,
        "description": {"suggested_value": suggested},
        "selector": dropdown(["m1", "m2"], custom=True),
    }


async def test_compatible_reply_opens_with_the_assistant_role(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """The Assist dialog appends streamed text only after an assistant role delta, and a
    chat stream's role (in its first chunk) never reaches the chat log by itself."""
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "llama3.2")
    emulator.queue(Reply([Text("Hello there.", chunk_size=6)]))
    deltas = await turn_deltas(hass, "conversation.openai_conversation", "Hi")
    assert deltas[:3] == [{"role": "assistant"}, {"content": "Hello "}, {"content": "there."}]


async def test_compatible_tools_read_selectors(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Chat Completions tools describe a script's selector fields as the Assist API does."""
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "llama3.2")
    await expose_script_with_selectors(hass)
    await ask(hass, "conversation.openai_conversation", "Dim the lights")
    tools = emulator.requests_to("/v1/chat/completions")[-1].body["tools"]
    (script,) = [t["function"] for t in tools if t["function"]["name"].endswith("dim_lights")]
    assert_selectors_read(script["parameters"])


async def test_compatible_stream_ending_early_is_an_error(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A chat stream closed in order but without finish_reason is no answer."""
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "llama3.2")
    emulator.queue(Reply([Text("Done. The kitchen ", chunk_size=4)], ends_after=3))
    first = await hass.async_create_task(
        conversation.async_converse(
            hass, "Light on", "conv-1", Context(), agent_id="conversation.openai_conversation"
        )
    )
    assert first.response.response_type is intent.IntentResponseType.ERROR
    assert first.response.speech["plain"]["speech"].startswith(
        "The server closed the reply before finishing it (no finish_reason); try again"
    )
    emulator.queue(Reply([Text("Hello.")]))
    second = await hass.async_create_task(
        conversation.async_converse(
            hass, "Hi", "conv-1", Context(), agent_id="conversation.openai_conversation"
        )
    )
    assert second.response.speech["plain"]["speech"] == "Hello."
    messages = emulator.requests_to("/v1/chat/completions")[-1].body["messages"]
    assert not any("The kitchen" in str(m.get("content")) for m in messages)


async def test_compatible_server_without_model_list_sets_up(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A server with no /models at all loads, answers, and reloads (no endless retry)."""
    emulator.models_api = False
    emulator.responses_api = False
    entry = await _add_compatible(hass, emulator, "my-model")
    assert entry.state is ConfigEntryState.LOADED
    result = await ask(hass, "conversation.openai_conversation", "Hi")
    assert result.response.speech["plain"]["speech"] == "OK"
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("omit_tool_ids", [False, True])
async def test_compatible_parallel_tool_calls_with_one_index(
    hass: HomeAssistant, emulator: OpenAIEmulator, omit_tool_ids: bool
) -> None:
    """Ollama streams every parallel call with index 0: they stay separate calls."""
    assert await async_setup_component(hass, "intent", {})
    booleans = {"kitchen_light": {"name": "Kitchen light"}, "fan": {"name": "Fan", "initial": True}}
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": booleans})
    for name in booleans:
        async_expose_entity(hass, "conversation", f"input_boolean.{name}", True)
    emulator.responses_api = False
    await _add_compatible(hass, emulator, "qwen3")
    emulator.queue(
        Reply(
            [
                ToolCall("HassTurnOn", {"name": "Kitchen light"}),
                ToolCall("HassTurnOff", {"name": "Fan"}),
            ],
            same_tool_index=True,
            omit_tool_ids=omit_tool_ids,
        ),
        Reply([Text("Both done.")]),
    )
    result = await ask(hass, "conversation.openai_conversation", "Light on, fan off")
    assert result.response.speech["plain"]["speech"] == "Both done."
    assert hass.states.get("input_boolean.kitchen_light").state == "on"
    assert hass.states.get("input_boolean.fan").state == "off"
    calls = emulator.requests_to("/v1/chat/completions")[-1].body["messages"][2]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == [
        offered_name("HassTurnOn", emulator.requests_to("/v1/chat/completions")[0].body),
        offered_name("HassTurnOff", emulator.requests_to("/v1/chat/completions")[0].body),
    ]


async def test_local_model_keeps_its_own_sampling(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A recommended agent sends no temperature/top_p: the local model's tuned defaults apply.

    An agent that sets them sends them.
    """
    emulator.responses_api = False
    entry = await _add_compatible(hass, emulator, "llama3.2")
    emulator.queue(Reply([Text("Hi.")]))
    await ask(hass, "conversation.openai_conversation", "Hi")
    body = emulator.requests_to("/v1/chat/completions")[-1].body
    assert body["model"] == "llama3.2"
    assert not {"temperature", "top_p"} & body.keys()

    agent = next(s for s in entry.subentries.values() if s.subentry_type == "conversation")
    tuned = {**agent.data, "recommended": False, "temperature": 0.2, "top_p": 0.9}
    hass.config_entries.async_update_subentry(entry, agent, data=tuned)
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("Hi.")]))
    await ask(hass, "conversation.openai_conversation", "Hi")
    body = emulator.requests_to("/v1/chat/completions")[-1].body
    assert (body["temperature"], body["top_p"]) == (0.2, 0.9)


@pytest.mark.parametrize("api_mode", ["chat_completions", "responses"])
async def test_compatible_server_gets_no_pdf(
    hass: HomeAssistant, emulator: OpenAIEmulator, tmp_path: Path, api_mode: str
) -> None:
    """Local servers read images at most: a PDF is a translated error, not a request the
    server refuses with its own words (or silently drops)."""
    emulator.responses_api = api_mode == "responses"
    entry = await _add_compatible(hass, emulator, "llama3.2")
    assert entry.data["api_mode"] == api_mode
    assert (await pdf_refusal(hass, entry, tmp_path)).translation_key == "pdf_not_supported"
    assert not [r for r in emulator.requests if r.path.endswith(("/responses", "/completions"))]


@pytest.mark.parametrize("name", sorted(FLAVOURS))
async def test_each_compatible_server_flavour(
    hass: HomeAssistant, emulator: OpenAIEmulator, name: str
) -> None:
    """Through the flow as a user would, then a two-action command and structured output,
    against each server's documented quirks (emulator/flavours.py names the reports)."""
    assert await async_setup_component(hass, "intent", {})
    booleans = {"kitchen_light": {"name": "Kitchen light"}, "fan": {"name": "Fan", "initial": True}}
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": booleans})
    for boolean in booleans:
        async_expose_entity(hass, "conversation", f"input_boolean.{boolean}", True)
    emulator.flavour = FLAVOURS[name]
    emulator.models = (*emulator.models, "llama3.2")
    result = await _flow(
        hass, "compatible", {"base_url": f"http://127.0.0.1:{emulator.port}/v1", "api_key": API_KEY}
    )
    if emulator.flavour.known_models_only:  # a typo is caught in the flow, not at each turn
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"default_model": "llama3.3"}
        )
        assert result["errors"] == {"base": "model_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"default_model": "llama3.2"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # A partial /responses (structured output ignored) is not chosen.
    assert result["result"].data["api_mode"] == "chat_completions"
    await hass.async_block_till_done()
    emulator.queue(
        Reply(
            [
                ToolCall("HassTurnOn", {"name": "Kitchen light"}),
                ToolCall("HassTurnOff", {"name": "Fan"}),
            ]
        ),
        Reply([Text("Both done.")]),
    )
    answer = await ask(hass, "conversation.openai_conversation", "Light on, fan off")
    assert answer.response.speech["plain"]["speech"] == "Both done."
    assert hass.states.get("input_boolean.kitchen_light").state == "on"
    assert hass.states.get("input_boolean.fan").state == "off"
    data = await ai_task.async_generate_data(
        hass,
        task_name="Weather report",
        entity_id="ai_task.openai_ai_task",
        instructions="Will it rain?",
        structure=vol.Schema({vol.Required("rain"): bool}),
    )
    assert data.data == {"rain": False}


async def test_chat_completions_corrects_a_kept_reasoning_effort(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """ "minimal", kept from a GPT-5 agent, is refused by o3: both wire formats send "low".

    Only the Responses wire format corrected it before."""
    emulator.responses_api = False
    entry = await _add_compatible(hass, emulator, "o3")
    agent = next(s for s in entry.subentries.values() if s.subentry_type == "conversation")
    hass.config_entries.async_update_subentry(
        entry, agent, data={**agent.data, "recommended": False, "reasoning_effort": "minimal"}
    )
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("Low effort.")]))
    answer = await ask(hass, "conversation.openai_conversation", "Hi")
    assert answer.response.speech["plain"]["speech"] == "Low effort."
    assert emulator.requests_to("/v1/chat/completions")[-1].body["reasoning_effort"] == "low"


async def test_history_is_bounded_for_small_local_models(
    hass: HomeAssistant, emulator: OpenAIEmulator, kitchen_light: str
) -> None:
    """A long conversation fits a local server's context: the oldest turns are left out
    whole, a tool call keeps its result, and the instructions and current turn always go.

    Without the bound the sixth turn overflows the server's 4096-token window."""
    emulator.responses_api = False
    emulator.context_tokens = 4096
    await _add_compatible(hass, emulator, "llama3.2")
    conversation_id = None
    emulator.queue(
        Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"}, call_id="on")]),
        Reply([Text("Light on.")]),
    )
    for turn in range(8):
        if turn:
            emulator.queue(Reply([Text(f"Answer {turn}.")]))
        result = await hass.async_create_task(
            conversation.async_converse(
                hass,
                f"Message {turn}: " + "words " * 400,
                conversation_id,
                Context(),
                agent_id="conversation.openai_conversation",
            )
        )
        assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, turn
        conversation_id = result.conversation_id
    messages = emulator.requests_to("/v1/chat/completions")[-1].body["messages"]
    assert messages[0]["role"] == "system"
    users = [m["content"] for m in messages if m["role"] == "user"]
    assert users[-1].startswith("Message 7:")
    assert not any(u.startswith("Message 0:") for u in users)  # dropped, with its tool call
    calls = [c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls", ())]
    results = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
    assert calls == results
    assert len(json.dumps(messages)) // 4 <= 4096


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (Error(400, "context size exceeded", "invalid_request_error"), "context size exceeded"),
        (Error(500, "model crashed", "server_error"), "model crashed"),
    ],
)
async def test_a_compatible_server_error_does_not_blame_openai(
    hass: HomeAssistant, emulator: OpenAIEmulator, error: Error, expected: str
) -> None:
    """A local server's error is shown as that server's, not as OpenAI's."""
    emulator.responses_api = False
    await _add_entry(
        hass,
        "compatible",
        {"base_url": f"http://127.0.0.1:{emulator.port}/v1", "api_key": API_KEY},
        model="llama3.2",
        emulator=emulator,
    )
    emulator.fail_next("/v1/chat/completions", *[error] * 3)
    result = await ask(hass, "conversation.openai_conversation", "Hello")
    speech = result.response.speech["plain"]["speech"]
    assert expected in speech
    assert "OpenAI" not in speech


async def test_azure_typed_settings_win_over_the_pasted_url(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A deployment URL pasted from the portal fills in what was left empty, never what
    the user typed: here another deployment, on an older API version."""
    emulator.azure_deployments.add("prod-chat")
    emulator.azure_models["prod-chat"] = "gpt-4o-mini"
    url = (
        f"http://127.0.0.1:{emulator.port}/openai/deployments/gpt-4o-mini/chat/completions"
        "?api-version=2025-03-01-preview"
    )
    typed = {"api_key": API_KEY, "api_version": "2024-10-21", "default_model": "prod-chat"}
    entry = await _add_entry(hass, "azure", {"endpoint": url, **typed})
    assert entry.data == {
        **typed,
        "provider": "azure",
        "endpoint": f"http://127.0.0.1:{emulator.port}",
        "api_mode": "chat_completions",
    }
    probe = emulator.requests_to("/openai/deployments/prod-chat/chat/completions")[-1]
    assert probe.query == {"api-version": "2024-10-21"}
