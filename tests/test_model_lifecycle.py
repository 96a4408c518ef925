"""No user is left on a model OpenAI shuts down: warned ahead, fixed in one step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import logging
from typing import Any

from openai.types import Model
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.openai_conversation import const, services, speech_models
from custom_components.openai_conversation.const import DOMAIN, RECOMMENDED_CONVERSATION_OPTIONS
from custom_components.openai_conversation.lifecycle import (
    RETIREMENTS,
    Retirement,
    retirement,
    shutdown_dates,
    suggest_replacement,
)
from custom_components.openai_conversation.subentry_flows import SUGGESTED_MODELS
from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import add_entry
from .test_providers import _add_compatible

AGENT = {
    "recommended": False,
    "chat_model": "gpt-5-mini",
    "prompt": "Be brief.",
    "max_tokens": 500,
    "reasoning_effort": "low",
}


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    subentry_id = next(iter(entry.subentries))
    return ir.async_get(hass).async_get_issue(DOMAIN, f"model_shutdown_{subentry_id}_chat_model")


async def _agent_on_a_retiring_model(
    hass: HomeAssistant, emulator: OpenAIEmulator, days_left: int
) -> MockConfigEntry:
    """Set up an agent on gpt-5-mini, which the emulator shuts down in days_left days."""
    emulator.shutdown_dates["gpt-5-mini"] = emulator.today + timedelta(days=days_left)
    entry = add_entry(hass, {"conversation": AGENT})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _ask(hass: HomeAssistant) -> conversation.ConversationResult:
    return await hass.async_create_task(
        conversation.async_converse(
            hass, "Hi", None, Context(), agent_id="conversation.openai_conversation"
        )
    )


def test_defaults_never_name_a_retiring_model() -> None:
    """Every default and every replacement is a model without a shutdown date."""
    defaults = {
        const.RECOMMENDED_CHAT_MODEL,
        const.RECOMMENDED_IMAGE_MODEL,
        speech_models.RECOMMENDED_STT_MODEL,
        speech_models.RECOMMENDED_TTS_MODEL,
        const.RECOMMENDED_DECISION_MODEL,
        services.DEFAULT_EMBEDDING_MODEL,
        *SUGGESTED_MODELS,
    }
    assert {model for model in defaults if retirement(model)} == set()
    replacements = {found.replacement for found in RETIREMENTS.values()}
    assert {model for model in replacements if retirement(model)} == set()
    assert retirement("gpt-4o-mini-2024-07-18") == RETIREMENTS["gpt-4o-mini"]


async def test_warned_ahead_fixed_in_one_step(
    hass: HomeAssistant, emulator: OpenAIEmulator, hass_client: ClientSessionGenerator
) -> None:
    """20 days ahead: a warning; its fix flow moves the agent; the next turn works."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await _agent_on_a_retiring_model(hass, emulator, 20)
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "model_shutting_down"
    assert issue.translation_placeholders == {
        "name": "OpenAI Conversation",
        "model": "gpt-5-mini",
        "date": (emulator.today + timedelta(days=20)).isoformat(),
        "replacement": "gpt-6.1-terra",
    }

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["replacement"] == "gpt-6.1-terra"
    response = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"chat_model": "gpt-6.1-terra"}
    )
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()

    # Only the model changed; the entry reloaded and the warning is gone.
    assert dict(next(iter(entry.subentries.values())).data) == AGENT | {
        "chat_model": "gpt-6.1-terra"
    }
    assert _issue(hass, entry) is None
    emulator.queue(Reply([Text("Still here.")]))
    result = await _ask(hass)
    assert result.response.speech["plain"]["speech"] == "Still here."
    assert emulator.requests_to("/v1/responses")[-1].body["model"] == "gpt-6.1-terra"


async def test_after_the_shutdown(hass: HomeAssistant, emulator: OpenAIEmulator) -> None:
    """Past the date: a critical repair, and a turn fails naming the replacement."""
    entry = await _agent_on_a_retiring_model(hass, emulator, -1)
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.CRITICAL
    assert issue.translation_key == "model_shut_down"

    result = await _ask(hass)
    speech = result.response.speech["plain"]["speech"]
    assert "gpt-5-mini" in speech
    assert "gpt-6.1-terra" in speech
    assert "Repairs" in speech
    # The shutdown repair offers the fix; no second "model not found" issue.
    assert not ir.async_get(hass).async_get_issue(DOMAIN, "model_not_found_gpt-5-mini")


async def test_a_date_announced_later_is_seen_within_a_day(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """The model list is read again daily; a model the table does not know gets the
    live model most like it as its suggested replacement."""
    agent: dict[str, Any] = AGENT | {"chat_model": "gpt-5.2"}
    entry = add_entry(hass, {"conversation": agent})
    emulator.models = (*emulator.models, "gpt-5.2", "gpt-5.6-sol")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, entry) is None

    emulator.shutdown_dates["gpt-5.2"] = emulator.today + timedelta(days=10)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(days=1, minutes=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    issue = _issue(hass, entry)
    assert issue is not None
    assert issue.translation_placeholders["replacement"] == "gpt-5.6-sol"


@pytest.mark.parametrize("days", [31, 100])
async def test_no_warning_before_thirty_days(
    hass: HomeAssistant, emulator: OpenAIEmulator, days: int
) -> None:
    entry = await _agent_on_a_retiring_model(hass, emulator, days)
    assert _issue(hass, entry) is None


async def test_compatible_servers_are_never_warned(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Compatible servers and Azure name models their own way: no dates, no renames."""
    emulator.shutdown_dates["gpt-5-mini"] = emulator.today + timedelta(days=5)
    emulator.responses_api = False
    entry = await _add_compatible(hass, emulator, "gpt-5-mini")
    assert entry.state is ConfigEntryState.LOADED
    assert not [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN]


@pytest.mark.parametrize(
    ("created", "told"), [(datetime(2025, 8, 1, tzinfo=UTC), True), (None, False)]
)
async def test_recommended_agents_move_by_themselves(
    hass: HomeAssistant, emulator: OpenAIEmulator, created: datetime | None, told: bool
) -> None:
    """Agents on "recommended" follow the table; entries from before are told so once."""
    entry = add_entry(hass, {"conversation": RECOMMENDED_CONVERSATION_OPTIONS})
    if created is not None:
        entry.created_at = created
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    emulator.queue(Reply([Text("Hi.")]))
    await _ask(hass)
    assert emulator.requests_to("/v1/responses")[-1].body["model"] == "gpt-6-luna"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"recommended_model_moved_{entry.entry_id}")
    assert (issue is not None) is told
    if issue is not None:
        assert issue.translation_placeholders == {
            "names": "OpenAI Conversation",
            "old": "gpt-4o-mini",
            "new": "gpt-6-luna",
            "date": "2027-01-14",
        }


def test_a_chat_model_is_replaced_by_a_chat_model() -> None:
    """A model the table names no replacement for gets the live model most like it, of
    its own kind: a chat agent is not offered a voice or image model."""
    announced = Retirement(date(2027, 6, 1), "")
    candidates = ["gpt-4o-mini-tts", "gpt-4o-realtime-preview", "gpt-4.1", "gpt-image-2"]
    assert suggest_replacement("gpt-4o", announced, candidates) == "gpt-4.1"
    assert suggest_replacement("gpt-4o-mini-tts", announced, ["gpt-4o", "tts-2"]) == "tts-2"


async def _offered_models(
    hass: HomeAssistant, entry: MockConfigEntry, *, unload_first: bool = False
) -> list[dict[str, str]]:
    """Return the model dropdown's options of a new agent's second form.

    unload_first: the entry unloads while the user is on the first form.
    """
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    if unload_first:
        assert await hass.config_entries.async_unload(entry.entry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Picker", "recommended": False}
    )
    assert result["step_id"] == "additional"
    field = next(k for k in result["data_schema"].schema if k == "chat_model")
    return list(result["data_schema"].schema[field].config["options"])


async def test_the_model_dropdown_shows_shutdown_dates(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A model OpenAI has announced a shutdown for says so in the dropdown."""
    entry = await _agent_on_a_retiring_model(hass, emulator, days_left=20)
    shutdown = (emulator.today + timedelta(days=20)).isoformat()
    options = {o["value"]: o["label"] for o in await _offered_models(hass, entry)}
    assert options["gpt-5-mini"] == f"gpt-5-mini (shuts down {shutdown})"
    assert options["gpt-4o-mini"] == "gpt-4o-mini"


async def test_an_entry_unloaded_mid_flow_offers_the_suggested_models(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """The entry went down while the form was open: suggestions, not a failing form."""
    entry = await _agent_on_a_retiring_model(hass, emulator, days_left=20)
    offered = [o["value"] for o in await _offered_models(hass, entry, unload_first=True)]
    assert offered == list(SUGGESTED_MODELS)


async def test_an_ai_tasks_image_model_gets_its_own_repair(
    hass: HomeAssistant, emulator: OpenAIEmulator, hass_client: ClientSessionGenerator
) -> None:
    """An AI Task drawing with a shut-down image model is told so apart from its chat
    model, and the fix moves the image model only."""
    assert await async_setup_component(hass, "repairs", {})
    task = {"recommended": False, "chat_model": "gpt-4.1", "image_model": "gpt-image-1.5"}
    entry = add_entry(hass, {"ai_task_data": task})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    subentry_id = next(iter(entry.subentries))
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, f"model_shutdown_{subentry_id}_chat_model") is None
    issue = issues.async_get_issue(DOMAIN, f"model_shutdown_{subentry_id}_image_model")
    assert issue is not None
    assert issue.translation_placeholders["model"] == "gpt-image-1.5"
    assert issue.translation_placeholders["replacement"] == "gpt-image-2.6-flare"

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    flow = await response.json()
    response = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"chat_model": "gpt-image-2.6-flare"}
    )
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert dict(entry.subentries[subentry_id].data) == task | {"image_model": "gpt-image-2.6-flare"}
    assert issues.async_get_issue(DOMAIN, issue.issue_id) is None


def test_shutdown_dates_read_what_the_model_list_carries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OpenAI's list may leave the field out, or carry a value that is no date: neither stops
    setup, and the unreadable one is named in the debug log."""
    listed = [
        Model.construct(id="gpt-a", object="model", created=0, owned_by="openai"),
        Model.construct(id="gpt-b", shutdown_date=None),
        Model.construct(id="gpt-c", shutdown_date="2027-01-06"),
        Model.construct(id="gpt-d", shutdown_date="soon"),
    ]
    with caplog.at_level(logging.DEBUG, logger="custom_components.openai_conversation"):
        assert shutdown_dates(listed) == {"gpt-c": date(2027, 1, 6)}
    assert "Unreadable shutdown_date 'soon' of gpt-d" in caplog.messages
