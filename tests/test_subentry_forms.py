"""Options saved through the subentry forms reach the wire exactly as the user left them."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation import config_flow
from emulator import OpenAIEmulator, Reply, Text
from homeassistant import data_entry_flow
from homeassistant.components import conversation
from homeassistant.const import CONF_LLM_HASS_API, CONF_NAME
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .test_providers import _add_azure


async def agent_through_the_form(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    model_step: dict[str, Any],
    advanced: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add an agent (gpt-4o unless the advanced step names another) through the three
    steps; return the subentry data saved."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Sampler", CONF_LLM_HASS_API: [], "recommended": False}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], advanced or {"chat_model": "gpt-4o"}
    )
    assert result["step_id"] == "model"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], model_step)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return dict(result["data"])


@pytest.mark.parametrize(
    ("model_step", "sent"),
    [({}, {}), ({"temperature": 0.2, "top_p": 0.9}, {"temperature": 0.2, "top_p": 0.9})],
    ids=["left untouched", "set"],
)
async def test_sampling_is_sent_only_when_set(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    model_step: dict[str, Any],
    sent: dict[str, float],
) -> None:
    """A model step left as it came sends neither temperature nor top_p."""
    data = await agent_through_the_form(hass, setup_entry, model_step)
    assert {k: data[k] for k in ("temperature", "top_p") if k in data} == sent
    emulator.queue(Reply([Text("Hi.")]))
    await conversation.async_converse(
        hass, "Hello", None, Context(), agent_id="conversation.sampler"
    )
    body = emulator.requests_to("/v1/responses")[-1].body
    assert {k: body[k] for k in ("temperature", "top_p") if k in body} == sent


async def test_evaluation_is_offered_on_openai_only(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decisions API is OpenAI's own: an Azure entry cannot add an evaluation subentry
    (as on HA 2026.11, which tests/e2e/test_evaluation.py covers in a real process)."""
    monkeypatch.setattr(config_flow, "EVALUATION", True)
    azure = await _add_azure(hass, emulator)
    supported = config_flow.OpenAIConfigFlow.async_get_supported_subentry_types
    assert "ai_task_evaluate" in supported(setup_entry)
    assert "ai_task_evaluate" not in supported(azure)
    with pytest.raises(data_entry_flow.UnknownHandler):
        await hass.config_entries.subentries.async_init(
            (azure.entry_id, "ai_task_evaluate"), context={"source": "user"}
        )


def _choices(result: dict[str, Any], name: str) -> list[str] | None:
    """Return the options a form's select field offers, or None without the field."""
    for key, selector in result["data_schema"].schema.items():
        if str(key) == name:
            return [o if isinstance(o, str) else o["value"] for o in selector.config["options"]]
    return None


async def _model_step(hass: HomeAssistant, entry: MockConfigEntry, model: str) -> dict[str, Any]:
    """Open an agent's model step for this model, as a user who picked it."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Thinker", CONF_LLM_HASS_API: [], "recommended": False}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": model}
    )
    assert result["step_id"] == "model", result
    return result


# Core 2026.11's choices per model, which OpenAI's models pages give.
EFFORTS = {
    "gpt-6-luna": ["none", "low", "medium", "high", "xhigh", "max"],
    "gpt-6.1-terra": ["none", "low", "medium", "high", "xhigh", "max"],
    "gpt-6-astra": ["low", "medium", "high", "xhigh", "max"],
    "gpt-6.1-sol": ["low", "medium", "high", "xhigh", "max"],
    "gpt-5.6": ["none", "low", "medium", "high", "xhigh", "max"],
    "gpt-5.5-pro": ["medium", "high", "xhigh"],
    "gpt-5.4-pro": ["medium", "high", "xhigh"],
    "gpt-5.2-pro": ["medium", "high", "xhigh"],
    # Codex models: no minimal or none (OpenAI's pages); xhigh from 5.1-codex-max on.
    "gpt-5.3-codex": ["low", "medium", "high", "xhigh"],
    "gpt-5.2-codex": ["low", "medium", "high", "xhigh"],
    "gpt-5.1-codex-max": ["low", "medium", "high", "xhigh"],
    "gpt-5.1-codex": ["low", "medium", "high"],
    # GPT-5 pro reasons only at high: nothing to choose, as in core.
    "gpt-5-pro": None,
    "gpt-5.4": ["none", "low", "medium", "high", "xhigh"],
    "gpt-5.2": ["none", "low", "medium", "high", "xhigh"],
    "gpt-5.1": ["none", "low", "medium", "high"],
    "gpt-5": ["minimal", "low", "medium", "high"],
    "o3": ["low", "medium", "high"],
}


@pytest.mark.parametrize(("model", "efforts"), EFFORTS.items(), ids=list(EFFORTS))
async def test_reasoning_efforts_offered_per_model(
    hass: HomeAssistant, setup_entry: MockConfigEntry, model: str, efforts: list[str] | None
) -> None:
    result = await _model_step(hass, setup_entry, model)
    assert _choices(result, "reasoning_effort") == efforts


@pytest.mark.parametrize(
    ("model", "model_step", "effort"),
    [
        ("gpt-5-pro", {}, "high"),
        ("gpt-5.2-codex", {"reasoning_effort": "xhigh"}, "xhigh"),
        ("gpt-5.1-codex-max", {"reasoning_effort": "xhigh"}, "xhigh"),
        ("gpt-5.1-codex", {"reasoning_effort": "low"}, "low"),
    ],
)
async def test_reasoning_effort_saved_through_the_form_reaches_the_wire(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    model: str,
    model_step: dict[str, Any],
    effort: str,
) -> None:
    """GPT-5 pro has no effort to choose and is asked for high, the only one it takes.

    The server takes each effort the form offers: the turn is answered.
    """
    await agent_through_the_form(hass, setup_entry, model_step, {"chat_model": model})
    emulator.queue(Reply([Text("Hi.")]))
    result = await conversation.async_converse(
        hass, "Hello", None, Context(), agent_id="conversation.sampler"
    )
    assert result.response.speech["plain"]["speech"] == "Hi."
    body = emulator.requests_to("/v1/responses")[-1].body
    assert body["model"] == model
    assert body["reasoning"]["effort"] == effort


@pytest.mark.parametrize(
    ("model", "concise"), [("gpt-6-astra", True), ("gpt-5", True), ("o3", False)]
)
async def test_concise_summaries_are_offered_except_on_o_series(
    hass: HomeAssistant, setup_entry: MockConfigEntry, model: str, concise: bool
) -> None:
    result = await _model_step(hass, setup_entry, model)
    assert ("concise" in (_choices(result, "reasoning_summary") or [])) is concise


@pytest.mark.parametrize(
    ("model", "tiers"),
    [("gpt-5.1", ["auto", "flex", "default", "priority"]), ("gpt-5-pro", None)],
)
async def test_service_tier_is_offered_where_there_is_a_choice(
    hass: HomeAssistant, setup_entry: MockConfigEntry, model: str, tiers: list[str] | None
) -> None:
    """A model served in neither Flex nor Priority has no tier to choose."""
    result = await _model_step(hass, setup_entry, model)
    assert _choices(result, "service_tier") == tiers


async def test_code_interpreter_with_minimal_reasoning_is_refused_in_the_form(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """OpenAI refuses the code interpreter at minimal effort; the form says so first."""
    result = await _model_step(hass, setup_entry, "gpt-5")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"reasoning_effort": "minimal", "code_interpreter": True}
    )
    assert result["errors"] == {"code_interpreter": "code_interpreter_minimal_reasoning"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"reasoning_effort": "low", "code_interpreter": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
