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
