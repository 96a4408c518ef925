"""Config flow and subentry flows, against the emulator."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.const import DOMAIN, RECOMMENDED_CONVERSATION_OPTIONS
from emulator import Cut, Error, OpenAIEmulator, Reply, Text
from homeassistant import config_entries
from homeassistant.components import conversation
from homeassistant.const import CONF_API_KEY, CONF_LLM_HASS_API, CONF_NAME
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import llm

from .conftest import API_KEY, add_entry

DOMAIN_LOGGER = f"custom_components.{DOMAIN}"


async def _start(hass: HomeAssistant, provider: str = "openai") -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["openai", "azure", "compatible"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )


async def test_user_flow_creates_entry_with_agent(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "OpenAI"
    assert result["data"] == {CONF_API_KEY: API_KEY, "provider": "openai"}
    subentries = list(result["result"].subentries.values())
    assert [(s.subentry_type, s.title) for s in subentries] == [
        ("conversation", "OpenAI Conversation"),
        ("ai_task_data", "OpenAI AI Task"),
        ("stt", "OpenAI STT"),
        ("tts", "OpenAI TTS"),
    ]
    assert dict(subentries[0].data) == RECOMMENDED_CONVERSATION_OPTIONS
    assert emulator.requests_to("/v1/models")[0].headers["Authorization"] == f"Bearer {API_KEY}"
    assert hass.states.get("conversation.openai_conversation") is not None


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("bad_key", "invalid_auth"),
        (Error(403, "Forbidden"), "invalid_auth"),
        (Error(500, "Oops", type="server_error"), "cannot_connect"),
        (Error(400, "Odd", code="odd"), "unknown"),
        ("offline", "cannot_connect"),
    ],
)
async def test_user_flow_errors_recover(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    failure: Any,
    error: str,
) -> None:
    result = await _start(hass)
    key = API_KEY
    if failure == "bad_key":
        key = "sk-wrong"
    elif failure == "offline":
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    else:
        emulator.fail_next("/v1/models", failure)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: key})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_key_twice_aborts(
    hass: HomeAssistant, config_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.api_keys.add("sk-new-key")
    result = await setup_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    # The form asks for the key alone and names the entry it is for.
    assert [str(key) for key in result["data_schema"].schema] == [CONF_API_KEY]
    assert result["description_placeholders"]["title"] == setup_entry.title
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-bad"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-new-key"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert setup_entry.data[CONF_API_KEY] == "sk-new-key"


async def test_reconfigure(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.api_keys.add("sk-other-key")
    other = MockConfigEntry(
        domain=DOMAIN, data={CONF_API_KEY: "sk-taken"}, version=2, minor_version=9
    )
    other.add_to_hass(hass)
    result = await setup_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "openai"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-taken"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    result = await setup_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-nope"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-other-key"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert setup_entry.data[CONF_API_KEY] == "sk-other-key"


async def _subentry_flow(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    source: str = "user",
    subentry_id: str | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"source": source}
    if subentry_id:
        context["subentry_id"] = subentry_id
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context=context
    )


async def test_add_recommended_agent(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    result = await _subentry_flow(hass, setup_entry)
    assert result["step_id"] == "init"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Kitchen helper",
            CONF_LLM_HASS_API: [],
            "prompt": "Be brief",
            "recommended": True,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen helper"
    assert result["data"] == {"recommended": True, "prompt": "Be brief"}
    assert hass.states.get("conversation.kitchen_helper") is not None


@pytest.mark.parametrize(
    ("model", "offered", "not_offered"),
    [
        (
            "gpt-4o",
            {"temperature", "top_p", "web_search", "code_interpreter"},
            {"reasoning_effort", "verbosity"},
        ),
        (
            "o3-mini",
            {"reasoning_effort", "code_interpreter"},
            {"temperature", "top_p", "web_search", "verbosity"},
        ),
        ("gpt-5", {"reasoning_effort", "verbosity", "web_search"}, {"temperature", "top_p"}),
        # GPT-5 pro reasons at high only: no effort to choose (as in core).
        ("gpt-5-pro", {"verbosity"}, {"code_interpreter", "temperature", "reasoning_effort"}),
    ],
)
async def test_model_options_offered_by_capability(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    model: str,
    offered: set[str],
    not_offered: set[str],
) -> None:
    result = await _subentry_flow(hass, setup_entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Custom", CONF_LLM_HASS_API: [llm.LLM_API_ASSIST], "recommended": False},
    )
    assert result["step_id"] == "additional"  # core's name for the step, so its tests walk ours
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": model, "max_tokens": 500}
    )
    assert result["step_id"] == "model"
    fields = {str(key) for key in result["data_schema"].schema}
    assert offered <= fields
    assert not (not_offered & fields)


async def test_add_advanced_agent_with_location(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    hass.config.country = "NL"
    result = await _subentry_flow(hass, setup_entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_NAME: "Searcher", CONF_LLM_HASS_API: [llm.LLM_API_ASSIST], "recommended": False},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-5", "max_tokens": 800}
    )
    model_options = {
        "reasoning_effort": "minimal",
        "verbosity": "low",
        "web_search": True,
        "search_context_size": "high",
        "user_location": True,
        "code_interpreter": False,
    }
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], model_options)
    # OpenAI refuses web search with minimal reasoning: the form says so and keeps the input.
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"web_search": "web_search_minimal_reasoning"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**model_options, "reasoning_effort": "low"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["country"] == "NL"
    assert result["data"]["timezone"] == hass.config.time_zone
    assert result["data"]["chat_model"] == "gpt-5"
    assert result["data"]["reasoning_effort"] == "low"


async def test_cores_options_are_offered_where_the_model_takes_them(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """Core's tier, storage, summary, pro mode and citation options, per model."""
    result = await _subentry_flow(hass, setup_entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Pro", "recommended": False}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-4o-realtime-preview", "max_tokens": 800}
    )
    assert result["errors"] == {"chat_model": "model_not_supported"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-6-luna", "max_tokens": 800}
    )
    fields = {str(k): k for k in result["data_schema"].schema}
    assert {"service_tier", "store_responses", "reasoning_summary", "pro_mode"} <= set(fields)
    assert "temperature" not in fields
    tiers = result["data_schema"].schema[fields["service_tier"]].config["options"]
    assert tiers == ["auto", "flex", "default", "priority"]  # core's order
    summaries = result["data_schema"].schema[fields["reasoning_summary"]].config["options"]
    assert summaries == ["off", "auto", "concise", "detailed"]  # not on the o-series
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "reasoning_effort": "low",
            "reasoning_summary": "off",
            "service_tier": "flex",
            "store_responses": True,
            "pro_mode": True,
            "web_search": True,
            "inline_citations": True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (
        result["data"].items()
        >= {
            "chat_model": "gpt-6-luna",
            "reasoning_summary": "off",
            "service_tier": "flex",
            "store_responses": True,
            "pro_mode": True,
            "inline_citations": True,
        }.items()
    )


async def test_reconfigure_agent_keeps_and_drops_options(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    subentry = next(iter(setup_entry.subentries.values()))
    result = await _subentry_flow(hass, setup_entry, "reconfigure", subentry.subentry_id)
    assert result["step_id"] == "init"
    assert CONF_NAME not in {str(k) for k in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_LLM_HASS_API: [llm.LLM_API_ASSIST], "prompt": "x", "recommended": False},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-4o", "max_tokens": 100}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"temperature": 0.3, "top_p": 0.9}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    data = setup_entry.subentries[subentry.subentry_id].data
    assert data["chat_model"] == "gpt-4o"
    assert data["temperature"] == 0.3
    # Back to recommended: the advanced options go, the agent's prompt and tools stay.
    await hass.async_block_till_done()  # the entry reloads after a change
    result = await _subentry_flow(hass, setup_entry, "reconfigure", subentry.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_LLM_HASS_API: [], "prompt": "y", "recommended": True}
    )
    await hass.async_block_till_done()
    assert dict(setup_entry.subentries[subentry.subentry_id].data) == {
        "recommended": True,
        "prompt": "y",
    }


async def test_fallback_model_is_set_checked_and_cleared(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """The fallback model is chosen in the model step, must be usable, and can be removed."""
    subentry = next(iter(setup_entry.subentries.values()))

    async def advanced(model_input: dict[str, Any]) -> Any:
        result = await _subentry_flow(hass, setup_entry, "reconfigure", subentry.subentry_id)
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {CONF_LLM_HASS_API: [], "recommended": False}
        )
        fields = {str(k) for k in result["data_schema"].schema}
        # No other entry to fall back to: no server to choose.
        assert "fallback_model" in fields
        assert "fallback_entry" not in fields
        return await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"chat_model": "gpt-5-mini", "max_tokens": 100, **model_input}
        )

    result = await advanced({"fallback_model": "gpt-4o-realtime-preview"})
    assert result["errors"] == {"fallback_model": "model_not_supported"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"chat_model": "gpt-5-mini", "max_tokens": 100, "fallback_model": "gpt-4.1-mini"},
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    assert setup_entry.subentries[subentry.subentry_id].data["fallback_model"] == "gpt-4.1-mini"
    await hass.async_block_till_done()
    # A cleared field is left out of the form's input: the saved fallback must go with it.
    result = await advanced({})
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    assert "fallback_model" not in setup_entry.subentries[subentry.subentry_id].data


async def test_fallback_server_is_chosen_among_the_other_entries(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """Another entry of this integration may serve the fallback; it can be cleared again."""
    local = MockConfigEntry(domain=DOMAIN, title="Kitchen llama", data={"api_key": "x"})
    local.add_to_hass(hass)
    subentry = next(iter(setup_entry.subentries.values()))

    async def advanced(model_input: dict[str, Any]) -> Any:
        result = await _subentry_flow(hass, setup_entry, "reconfigure", subentry.subentry_id)
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {CONF_LLM_HASS_API: [], "recommended": False}
        )
        schema = {str(k): v for k, v in result["data_schema"].schema.items()}
        assert schema["fallback_entry"].config["options"] == [
            {"value": local.entry_id, "label": "Kitchen llama"}
        ]
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"chat_model": "gpt-5-mini", "max_tokens": 100, **model_input}
        )
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        return setup_entry.subentries[subentry.subentry_id].data

    saved = await advanced({"fallback_entry": local.entry_id})
    assert saved["fallback_entry"] == local.entry_id
    assert "fallback_model" not in saved  # the fallback server's default model
    saved = await advanced({})
    assert "fallback_entry" not in saved


async def test_ai_task_subentry_flow(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    result = await hass.config_entries.subentries.async_init(
        (setup_entry.entry_id, "ai_task_data"), context={"source": "user"}
    )
    assert {str(k) for k in result["data_schema"].schema} == {CONF_NAME, "recommended"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Describer", "recommended": False}
    )
    assert "image_model" in {str(k) for k in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"chat_model": "gpt-4.1", "max_tokens": 300, "image_model": "gpt-image-2.6-sunburst"},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"temperature": 0.1, "top_p": 1.0}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["image_model"] == "gpt-image-2.6-sunburst"
    assert hass.states.get("ai_task.describer") is not None


async def test_integer_options_are_sent_as_integers(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The number selector returns 800.0; OpenAI and Go servers refuse a decimal there."""
    result = await _subentry_flow(hass, setup_entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Counter", CONF_LLM_HASS_API: [], "recommended": False}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-4o", "max_tokens": 800}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert type(result["data"]["max_tokens"]) is int
    await hass.async_block_till_done()
    turn = await conversation.async_converse(
        hass, "Hi", None, Context(), agent_id="conversation.counter"
    )
    assert turn.response.speech["plain"]["speech"] == "OK"
    assert emulator.requests_to("/v1/responses")[-1].body["max_output_tokens"] == 800


async def test_stored_decimal_integers_are_sent_as_integers(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Agents saved with max_tokens 800.0 by earlier versions send 800.

    HA cannot rewrite them (it treats 800.0 == 800 as no change), so the wire converts.
    """
    options = {**RECOMMENDED_CONVERSATION_OPTIONS, "recommended": False, "max_tokens": 800.0}
    entry = add_entry(hass, {"conversation": options})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    turn = await conversation.async_converse(
        hass, "Hi", None, Context(), agent_id="conversation.openai_conversation"
    )
    assert turn.response.speech["plain"]["speech"] == "OK"
    assert emulator.requests_to("/v1/responses")[-1].body["max_output_tokens"] == 800


async def test_subentry_flows_need_a_loaded_entry(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """As core does: an unloaded entry cannot list its server's models, so flows abort."""
    subentry_id = next(iter(setup_entry.subentries))
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    for source, sub_id in (("user", None), ("reconfigure", subentry_id)):
        result = await _subentry_flow(hass, setup_entry, source, sub_id)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "entry_not_loaded"


@pytest.mark.parametrize(
    "subentry_options",
    [
        {"recommended": True, CONF_LLM_HASS_API: llm.LLM_API_ASSIST},  # core's older form
        {"recommended": True, CONF_LLM_HASS_API: [llm.LLM_API_ASSIST, "removed_api"]},
    ],
)
async def test_stored_llm_apis_are_offered_as_a_list_of_known_apis(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """A single stored API is a list of one; an API no integration provides any more is not
    suggested, and saving the form unchanged does not keep it."""
    subentry = next(iter(setup_entry.subentries.values()))
    result = await _subentry_flow(hass, setup_entry, "reconfigure", subentry.subentry_id)
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested[CONF_LLM_HASS_API] == [llm.LLM_API_ASSIST]
    # The frontend sends the form back with what it suggested.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_LLM_HASS_API: suggested[CONF_LLM_HASS_API], "recommended": True}
    )
    await hass.async_block_till_done()
    assert setup_entry.subentries[subentry.subentry_id].data[CONF_LLM_HASS_API] == [
        llm.LLM_API_ASSIST
    ]


async def test_reconfigure_keeps_the_key_private_and_the_title_chosen(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """The form does not send the stored key back to the browser; left empty, the key
    stays. A title the user gave the entry survives the reconfigure."""
    hass.config_entries.async_update_entry(setup_entry, title="Home key")
    result = await setup_entry.start_reconfigure_flow(hass)
    suggested = [
        key.description.get("suggested_value")
        for key in result["data_schema"].schema
        if key.description
    ]
    assert API_KEY not in suggested
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"organization": "org-home"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert setup_entry.data[CONF_API_KEY] == API_KEY
    assert setup_entry.data["organization"] == "org-home"
    assert setup_entry.title == "Home key"


@pytest.mark.parametrize(
    ("failure", "error", "logged"),
    [
        (
            Reply([Text("partial")], fail="The model crashed"),
            "request_refused",
            [
                "The server refused the request agents send: "
                "The server could not complete the reply: The model crashed"
            ],
        ),
        (
            Cut(Reply([Text("a long reply " * 20)]), after_events=3),
            "cannot_connect",
            ["The connection broke off during the request agents send: peer closed"],
        ),
        (
            Reply([Text("a long reply " * 20)], ends_after=3),
            "cannot_connect",
            [
                "The server's reply to the request agents send broke off: The server closed"
                " the reply before finishing it (no response.completed); try again."
            ],
        ),
        (
            Error(400, "Unsupported parameter: 'store'", param="store"),
            "request_refused",
            [
                "The server refused the request agents send: Error code: 400 - "
                "{'error': {'message': \"Unsupported parameter: 'store'\""
            ],
        ),
        (Error(500, "The server had an error", type="server_error"), "cannot_connect", []),
    ],
    ids=[
        "response.failed",
        "connection dropped",
        "stream ended early",
        "request refused",
        "server error",
    ],
)
async def test_the_probe_reports_a_failing_server(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    failure: Any,
    error: str,
    logged: list[str],
) -> None:
    """The flow's probe turn is read to its end: a response the server ends as failed, or
    a stream that breaks off, is not a working server (a reply cut short by the token
    limit is). Someone waits on the form: the probe is sent once, never retried."""
    server = {"base_url": emulator.base_url, "api_key": API_KEY, "api_mode": "responses"}
    result = await _start(hass, "compatible")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], server)
    emulator.queue(failure)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"default_model": "gpt-4o-mini"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert len(emulator.requests_to("/v1/responses")) == 1
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == DOMAIN_LOGGER and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == len(logged)
    assert all(w.startswith(start) for w, start in zip(warnings, logged, strict=True))


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    """Return the values a form shows filled in."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def test_the_key_form_keeps_what_was_typed(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """The key is required; after an error the form shows what was typed; fields left
    empty are not stored."""
    result = await _start(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(result["flow_id"], {"organization": "o"})
    typed = {CONF_API_KEY: "sk-wrong", "organization": "org-home", "project": "proj-home"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["errors"] == {"base": "invalid_auth"}
    assert _suggested(result) == typed
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY, "organization": "", "project": ""}
    )
    await hass.async_block_till_done()
    assert result["data"] == {CONF_API_KEY: API_KEY, "provider": "openai"}


async def test_the_reconfigure_form_shows_the_stored_settings(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """Reconfiguring shows the entry's settings (its key aside) to change one of them."""
    result = await setup_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"organization": "org-home", "project": "proj-home"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    result = await setup_entry.start_reconfigure_flow(hass)
    assert _suggested(result) == {"organization": "org-home", "project": "proj-home"}


@pytest.mark.parametrize(
    ("kind", "typed", "error"),
    [
        ("compatible", {"base_url": "localhost:11434/v1"}, "invalid_url"),
        ("compatible", {"base_url": "  "}, "invalid_url"),
        ("compatible", {"base_url": ""}, "invalid_url"),
        ("compatible", {"base_url": "http://[::1:8080/v1"}, "invalid_url"),
        ("compatible", {"base_url": "https://127.0.0.1:9/v1"}, "cannot_connect"),
        ("azure", {"endpoint": " ", CONF_API_KEY: API_KEY, "default_model": "m"}, "invalid_url"),
        ("azure", {"endpoint": "https://res.openai.azure.com", CONF_API_KEY: ""}, "invalid_auth"),
        ("openai", {CONF_API_KEY: ""}, "invalid_auth"),
    ],
    ids=[
        "no scheme",
        "spaces",
        "compatible empty",
        "bad IPv6",
        "https is a URL",
        "azure spaces",
        "azure no key",
        "no key",
    ],
)
async def test_an_address_or_key_the_flow_cannot_use_is_explained(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    typed: dict[str, Any],
    error: str,
) -> None:
    """A base URL without http:// (a crash in the SDK before), or a required field left
    blank (the API lets a script send ""), is the form's error, not a traceback."""
    result = await _start(hass, kind)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
