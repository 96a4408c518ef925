"""The agent and AI Task forms, field by field, as the frontend receives them.

Each test fills in the steps of a subentry flow over Home Assistant's HTTP API, as the
frontend does, and compares the whole form of one step (the fields in order, their defaults,
suggested values and selectors with their options) with what a user should see.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm

from .common import Frontend, dropdown
from .test_providers import _add_compatible

# The model dropdowns list the server's chat models; fields() checks them, then shows this.
MODELS = "<the server's chat models>"


def fields(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return a form's fields in order, by name, as the frontend receives them.

    The model dropdowns list the server's chat models: checked here, then shown as MODELS.
    """
    assert result["type"] == "form", result
    shown = []
    for field in deepcopy(result["data_schema"]):
        name = field.pop("name")
        if name in ("chat_model", "fallback_model"):
            config = field["selector"]["select"]
            assert {"value": "gpt-4o", "label": "gpt-4o"} in config["options"]
            config["options"] = MODELS
        shown.append((name, field))
    return shown


def optional(default: Any = None, **field: Any) -> dict[str, Any]:
    """Return an optional field as serialized (no default when None)."""
    shown: dict[str, Any] = {"optional": True, "required": False, **field}
    if default is not None:
        shown["default"] = default
    return shown


def select(options: Any, key: str | None = None, *, custom: bool = False) -> dict[str, Any]:
    """Return a dropdown field's selector as serialized (translated by key when given)."""
    return {"selector": dropdown(options, key, custom=custom)}


def number(**config: Any) -> dict[str, Any]:
    """Return a number selector as serialized."""
    return {"selector": {"number": {"mode": "slider", **config}}}


BOOLEAN = {"selector": {"boolean": {}}}


def _model_field(default: str) -> tuple[str, dict[str, Any]]:
    return ("chat_model", optional(default, **select(MODELS, custom=True)))


BUDGET = [
    ("max_tokens", optional(3000, **number(min=1.0, max=128000.0, step=1.0, mode="box"))),
    (
        "timeout",
        optional(30.0, **number(min=1.0, max=600.0, step=1.0, unit_of_measurement="s")),
    ),
]
FALLBACK_MODEL = ("fallback_model", optional(**select(MODELS, custom=True)))


def _history(default: int) -> tuple[str, dict[str, Any]]:
    return (
        "history_tokens",
        optional(default, **number(min=0.0, max=1000000.0, step=100.0, mode="box")),
    )


# The first form's "recommended settings" switch: off by default, suggested on.
RECOMMENDED_FIELD = (
    "recommended",
    {**BOOLEAN, "required": True, "default": False, "description": {"suggested_value": True}},
)


async def test_new_agent_first_form(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    """Name, instructions and APIs (core's recommended ones suggested), then the switch."""
    result = await frontend.add(setup_entry, "conversation")
    assert result["step_id"] == "init"
    assert fields(result) == [
        ("name", {"type": "string", "required": True, "default": "OpenAI Conversation"}),
        (
            "prompt",
            optional(
                selector={"template": {}},
                description={"suggested_value": llm.DEFAULT_INSTRUCTIONS_PROMPT},
            ),
        ),
        (
            "llm_hass_api",
            optional(
                selector={
                    "select": {
                        "options": [{"label": "Assist", "value": "assist"}],
                        "multiple": True,
                        "custom_value": False,
                        "sort": False,
                    }
                },
                description={"suggested_value": ["assist"]},
            ),
        ),
        RECOMMENDED_FIELD,
    ]


async def test_new_ai_task_first_form(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    result = await frontend.add(setup_entry, "ai_task_data")
    assert fields(result) == [
        ("name", {"type": "string", "required": True, "default": "OpenAI AI Task"}),
        RECOMMENDED_FIELD,
    ]


async def test_agent_advanced_form_on_openai(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    """OpenAI's model names tell their family; one server: no other to fall back to; the
    whole conversation is sent (0) by default."""
    result = await frontend.advanced(setup_entry)
    assert result["step_id"] == "additional"
    assert result["errors"] == {}
    assert fields(result) == [
        _model_field("gpt-6-luna"),
        *BUDGET,
        FALLBACK_MODEL,
        _history(0),
    ]


async def test_ai_task_advanced_form(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    """The image model: OpenAI's, or one typed in; no conversation history to limit."""
    result = await frontend.advanced(setup_entry, "ai_task_data")
    assert result["errors"] == {}
    images = [
        "gpt-image-2.6-flare",
        "gpt-image-2.6-sunburst",
        "gpt-image-2.5-flare",
        "gpt-image-2.5-sunburst",
    ]
    assert fields(result) == [
        _model_field("gpt-6-luna"),
        *BUDGET,
        FALLBACK_MODEL,
        ("image_model", optional("gpt-image-2.5-flare", **select(images, custom=True))),
    ]


async def test_agent_advanced_form_on_a_compatible_server(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, frontend: Frontend
) -> None:
    """A server's own model names: the family is asked; the other entry (OpenAI) may serve
    the fallback, another integration's entry (Ollama) may not; a small local context gets
    3000 tokens of history by default."""
    MockConfigEntry(domain="ollama", title="Ollama").add_to_hass(hass)
    compatible = await _add_compatible(hass, emulator, "gpt-4o")
    result = await frontend.advanced(compatible)
    assert result["errors"] == {}
    families = ["auto", "gpt-4.1", "o4-mini", "gpt-5", "gpt-5.1", "gpt-6"]
    servers = [{"value": setup_entry.entry_id, "label": "OpenAI"}]
    assert fields(result) == [
        _model_field("gpt-4o"),
        *BUDGET,
        ("model_family", optional("auto", **select(families, "model_family"))),
        ("fallback_entry", optional(**select(servers))),
        FALLBACK_MODEL,
        _history(3000),
    ]


SAMPLING = [
    ("temperature", optional(**number(min=0.0, max=2.0, step=0.05))),
    ("top_p", optional(**number(min=0.0, max=1.0, step=0.05))),
]
VERBOSITY = [("verbosity", optional("medium", **select(["low", "medium", "high"], "verbosity")))]
STORE = [("store_responses", optional(False, **BOOLEAN))]
PRO = [("pro_mode", optional(False, **BOOLEAN))]
WEB = [
    ("web_search", optional(False, **BOOLEAN)),
    (
        "search_context_size",
        optional("medium", **select(["low", "medium", "high"], "search_context_size")),
    ),
    ("user_location", optional(False, **BOOLEAN)),
    ("inline_citations", optional(False, **BOOLEAN)),
]
CODE = [("code_interpreter", optional(False, **BOOLEAN))]
SUMMARIES = ["off", "auto", "concise", "detailed"]


def _effort(efforts: list[str], default: str = "low") -> list[tuple[str, dict[str, Any]]]:
    return [("reasoning_effort", optional(default, **select(efforts, "reasoning_effort")))]


def _summary(summaries: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [("reasoning_summary", optional("auto", **select(summaries, "reasoning_summary")))]


def _tiers(tiers: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [("service_tier", optional("auto", **select(tiers, "service_tier")))]


MODEL_FORMS = {
    # Not a reasoning model: sampling instead; served in Priority but not Flex.
    "gpt-4o": [*SAMPLING, *_tiers(["auto", "default", "priority"]), *STORE, *WEB, *CODE],
    # Flex but not Priority; no web search.
    "gpt-5-nano": [
        *_effort(["minimal", "low", "medium", "high"]),
        *VERBOSITY,
        *_summary(SUMMARIES),
        *_tiers(["auto", "flex", "default"]),
        *STORE,
        *CODE,
    ],
    # Both tiers, and pro mode.
    "gpt-5.6": [
        *_effort(["none", "low", "medium", "high", "xhigh", "max"]),
        *VERBOSITY,
        *_summary(SUMMARIES),
        *_tiers(["auto", "flex", "default", "priority"]),
        *STORE,
        *PRO,
        *WEB,
        *CODE,
    ],
    # One effort (nothing to choose), neither tier, no code interpreter.
    "gpt-5-pro": [*VERBOSITY, *_summary(SUMMARIES), *STORE, *WEB],
    # From medium: the recommended low is not among the efforts, the first one is.
    "gpt-5.5-pro": [
        *_effort(["medium", "high", "xhigh"], "medium"),
        *VERBOSITY,
        *_summary(SUMMARIES),
        *_tiers(["auto", "flex", "default", "priority"]),
        *STORE,
        *WEB,
        *CODE,
    ],
    # The o-series: no verbosity, no concise summaries.
    "o3": [
        *_effort(["low", "medium", "high"]),
        *_summary(["off", "auto", "detailed"]),
        *_tiers(["auto", "flex", "default", "priority"]),
        *STORE,
        *WEB,
        *CODE,
    ],
}


@pytest.mark.parametrize(("model", "form"), MODEL_FORMS.items(), ids=list(MODEL_FORMS))
async def test_model_form_on_openai(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    frontend: Frontend,
    model: str,
    form: list[tuple[str, dict[str, Any]]],
) -> None:
    """Only what the model takes, each with its default."""
    result = await frontend.model(setup_entry, model)
    assert result["step_id"] == "model"
    assert result["errors"] == {}
    assert fields(result) == form


async def test_model_form_on_a_compatible_server(
    hass: HomeAssistant, emulator: OpenAIEmulator, frontend: Frontend
) -> None:
    """None of OpenAI's own options (tiers, storage, server tools) on another server."""
    compatible = await _add_compatible(hass, emulator, "gpt-4o")
    result = await frontend.model(compatible, "gpt-4o")
    assert result["errors"] == {}
    assert fields(result) == SAMPLING


async def test_web_search_near_a_home_without_a_country(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, frontend: Frontend
) -> None:
    """Searching near home, where Home Assistant knows no country: the search gets the
    time zone and an empty country, not a made-up one."""
    hass.config.country = None
    await frontend.model(setup_entry, "gpt-4o")
    result = await frontend.submit({"web_search": True, "user_location": True})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("Sunny.")]))
    await conversation.async_converse(
        hass, "Weather?", None, Context(), agent_id="conversation.form"
    )
    (search,) = emulator.requests_to("/v1/responses")[-1].body["tools"]
    assert search["user_location"] == {
        "type": "approximate",
        "city": "",
        "region": "",
        "country": "",
        "timezone": hass.config.time_zone,
    }


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """Return the values a form suggests, by field."""
    return {
        field["name"]: field["description"]["suggested_value"]
        for field in result["data_schema"]
        if "description" in field
    }


async def test_model_form_keeps_what_was_entered_after_an_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    """Refused (web search at minimal effort), the form shows the user's choices again."""
    await frontend.model(setup_entry, "gpt-5")
    result = await frontend.submit(
        {"reasoning_effort": "minimal", "verbosity": "high", "web_search": True}
    )
    assert result["errors"] == {"web_search": "web_search_minimal_reasoning"}
    assert suggested(result) == {
        "reasoning_effort": "minimal",
        "verbosity": "high",
        "reasoning_summary": "auto",
        "service_tier": "auto",
        "store_responses": False,
        "web_search": True,
        "search_context_size": "medium",
        "user_location": False,
        "inline_citations": False,
        "code_interpreter": False,
    }


async def test_reconfigured_agent_forms_show_its_settings_and_forget_a_cleared_one(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, frontend: Frontend
) -> None:
    """Reconfiguring: no name field, each form suggests what is stored, and a temperature
    cleared in the model form is no longer sent."""
    await frontend.model(setup_entry, "gpt-4o")
    await frontend.submit({"temperature": 0.3, "top_p": 0.9})
    await hass.async_block_till_done()

    result = await frontend.reconfigure(setup_entry, "Form")
    assert [name for name, _ in fields(result)] == ["prompt", "llm_hass_api", "recommended"]
    assert suggested(result) == {
        "prompt": llm.DEFAULT_INSTRUCTIONS_PROMPT,
        "recommended": False,
    }
    result = await frontend.submit({"recommended": False})
    assert suggested(result) == {
        "chat_model": "gpt-4o",
        "max_tokens": 3000,
        "timeout": 30.0,
        "history_tokens": 0,
    }
    result = await frontend.submit({"chat_model": "gpt-4o"})
    assert suggested(result) == {
        "temperature": 0.3,
        "top_p": 0.9,
        "service_tier": "auto",
        "store_responses": False,
        "web_search": False,
        "search_context_size": "medium",
        "user_location": False,
        "inline_citations": False,
        "code_interpreter": False,
    }
    result = await frontend.submit({"top_p": 0.9})
    assert result == {**result, "type": "abort", "reason": "reconfigure_successful"}
    await hass.async_block_till_done()

    emulator.queue(Reply([Text("Hi.")]))
    await conversation.async_converse(hass, "Hello", None, Context(), agent_id="conversation.form")
    body = emulator.requests_to("/v1/responses")[-1].body
    assert body["top_p"] == 0.9
    assert "temperature" not in body


def _saved(entry: MockConfigEntry, title: str = "Form") -> dict[str, Any]:
    """Return the stored options of the subentry of this title."""
    (data,) = [dict(s.data) for s in entry.subentries.values() if s.title == title]
    return data


async def test_additional_form_refuses_models_it_cannot_use(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    """A realtime model cannot hold a conversation: as the model or as its fallback it is
    refused on its own field, the form keeps what was entered; a usable fallback is saved."""
    await frontend.advanced(setup_entry)
    entered = {"chat_model": "gpt-4o-realtime-preview", "max_tokens": 500}
    result = await frontend.submit(entered)
    assert (result["step_id"], result["errors"]) == (
        "additional",
        {"chat_model": "model_not_supported"},
    )
    assert suggested(result).items() >= entered.items()
    entered = {"chat_model": "gpt-4o", "fallback_model": "gpt-4o-mini-realtime-preview"}
    result = await frontend.submit(entered)
    assert (result["step_id"], result["errors"]) == (
        "additional",
        {"fallback_model": "model_not_supported"},
    )
    assert suggested(result).items() >= entered.items()
    result = await frontend.submit({"chat_model": "gpt-4o", "fallback_model": "gpt-4.1-mini"})
    assert (result["step_id"], result["errors"]) == ("model", {})
    result = await frontend.submit({})
    assert result["type"] == "create_entry"
    saved = _saved(setup_entry)
    assert (saved["chat_model"], saved["fallback_model"]) == ("gpt-4o", "gpt-4.1-mini")


@pytest.mark.parametrize("cleared", [{}, {"fallback_model": ""}], ids=["left out", "emptied"])
async def test_a_cleared_fallback_model_is_forgotten(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend, cleared: dict[str, str]
) -> None:
    """Reconfiguring, the form suggests the saved fallback; cleared, whether the field is
    left out or sent empty, it is no longer stored (not stored as an empty name)."""
    await frontend.advanced(setup_entry)
    await frontend.submit({"fallback_model": "gpt-4.1-mini"})  # the default model stays
    await frontend.submit({})
    await hass.async_block_till_done()
    assert _saved(setup_entry)["fallback_model"] == "gpt-4.1-mini"

    await frontend.reconfigure(setup_entry, "Form")
    result = await frontend.submit({"recommended": False})
    assert suggested(result)["fallback_model"] == "gpt-4.1-mini"
    await frontend.submit({"chat_model": "gpt-6-luna", **cleared})
    result = await frontend.submit({})
    assert result == {**result, "type": "abort", "reason": "reconfigure_successful"}
    await hass.async_block_till_done()
    saved = _saved(setup_entry)
    assert saved["chat_model"] == "gpt-6-luna"
    assert "fallback_model" not in saved
