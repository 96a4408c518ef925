"""STT keeps transcribing when OpenAI shuts its transcription models down (2027-02-26)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.openai_conversation.const import DOMAIN
from emulator import Error, OpenAIEmulator
from homeassistant import config_entries
from homeassistant.components import stt
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import chunks, metadata, tone
from .conftest import API_KEY, BEFORE_THE_SHUTDOWNS
from .core_entries import add_core_entry

AFTER = date(2027, 3, 2)  # past the shutdown of whisper-1 and the GPT-4o transcribers


def _set_today(freezer: FrozenDateTimeFactory, emulator: OpenAIEmulator, today: date) -> None:
    """Move Home Assistant's clock and OpenAI's (the emulator's) to noon of that day."""
    freezer.move_to(datetime(today.year, today.month, today.day, 12, tzinfo=dt_util.UTC))
    emulator.today = today


async def _create_entry(hass: HomeAssistant) -> ConfigEntry:
    """Add an OpenAI entry as a user does: through the config flow."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "openai"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"api_key": API_KEY})
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


def _stt_id(entry: ConfigEntry) -> str:
    return next(s.subentry_id for s in entry.subentries.values() if s.subentry_type == "stt")


async def _transcribe(hass: HomeAssistant, entity_id: str) -> stt.SpeechResult:
    entity = hass.data[stt.DATA_COMPONENT].get_entity(entity_id)
    return await entity.async_process_audio_stream(metadata(language="en-US"), chunks(tone()))


async def _assert_transcribes(
    hass: HomeAssistant, emulator: OpenAIEmulator, entity_id: str, live: str, upload: str
) -> None:
    """Transcribe live, then (the session refused) by upload, with these models."""
    result = await _transcribe(hass, entity_id)
    assert (result.result, result.text) == (
        stt.SpeechResultState.SUCCESS,
        "turn on the kitchen light",
    )
    assert emulator.live_sessions[-1].transcription["model"] == live
    emulator.fail_next("/v1/realtime", Error(502, "Bad gateway"))
    result = await _transcribe(hass, entity_id)
    assert result.text == "turn on the kitchen light"
    assert emulator.requests_to("/v1/audio/transcriptions")[-1].body["model"] == upload


async def _reload(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Reload the entry, as a restart of Home Assistant does."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_fresh_entry_transcribes_after_the_shutdowns(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    _set_today(freezer, emulator, AFTER)
    entry = await _create_entry(hass)
    for _restart in range(2):
        await _assert_transcribes(
            hass, emulator, "stt.openai_stt", "gpt-transcribe", "gpt-transcribe"
        )
        await _reload(hass, entry)
    assert not [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN]


async def _choose_stt_model(hass: HomeAssistant, entry: ConfigEntry, model: str) -> None:
    """Reconfigure the STT subentry to a model, as a user does."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "stt"),
        context={"source": "reconfigure", "subentry_id": _stt_id(entry)},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": model}
    )
    await hass.config_entries.subentries.async_configure(result["flow_id"], {"prompt": "Home"})
    await hass.async_block_till_done()


async def test_whisper_entry_from_before_keeps_transcribing(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An STT set to whisper-1 before the shutdown: after it, uploads go to gpt-transcribe
    and live audio to gpt-live-transcribe by themselves, a repair says so, and its fix
    saves the replacement."""
    _set_today(freezer, emulator, BEFORE_THE_SHUTDOWNS)
    entry = await _create_entry(hass)
    await _choose_stt_model(hass, entry, "whisper-1")
    await _assert_transcribes(hass, emulator, "stt.openai_stt", "whisper-1", "whisper-1")

    _set_today(freezer, emulator, AFTER)
    for _restart in range(2):
        await _reload(hass, entry)
        await _assert_transcribes(
            hass, emulator, "stt.openai_stt", "gpt-live-transcribe", "gpt-transcribe"
        )
    assert entry.subentries[_stt_id(entry)].data["chat_model"] == "whisper-1"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"model_shutdown_{_stt_id(entry)}_chat_model"
    )
    assert issue is not None
    assert (issue.translation_key, issue.severity) == ("model_replaced", ir.IssueSeverity.WARNING)
    assert issue.translation_placeholders == {
        "name": "OpenAI STT",
        "model": "whisper-1",
        "date": "2027-02-26",
        "replacement": "gpt-transcribe",
    }
    await _fix(hass, issue.issue_id, "gpt-transcribe")
    assert entry.subentries[_stt_id(entry)].data["chat_model"] == "gpt-transcribe"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None
    await _assert_transcribes(hass, emulator, "stt.openai_stt", "gpt-transcribe", "gpt-transcribe")


async def _fix(hass: HomeAssistant, issue_id: str, model: str) -> None:
    """Run the repair's fix flow as the Repairs dashboard does, choosing model.

    Through the flow manager rather than HTTP: the moved clock expired the test's token.
    """
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert flow["description_placeholders"]["replacement"] == "gpt-transcribe"
    result = await manager.async_configure(flow["flow_id"], {"chat_model": model})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_warned_thirty_days_ahead(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Before the date the subentry's own model still works, and the warning's fix moves
    the subentry."""
    _set_today(freezer, emulator, BEFORE_THE_SHUTDOWNS)
    entry = await _create_entry(hass)
    await _choose_stt_model(hass, entry, "gpt-4o-mini-transcribe")
    _set_today(freezer, emulator, date(2027, 2, 26) - timedelta(days=20))
    await _reload(hass, entry)
    issue_id = f"model_shutdown_{_stt_id(entry)}_chat_model"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert (issue.translation_key, issue.severity) == (
        "model_shutting_down",
        ir.IssueSeverity.WARNING,
    )
    await _assert_transcribes(
        hass, emulator, "stt.openai_stt", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe"
    )
    await _fix(hass, issue_id, "gpt-transcribe")
    assert entry.subentries[_stt_id(entry)].data["chat_model"] == "gpt-transcribe"


@pytest.mark.parametrize(
    ("data", "live", "upload"),
    [
        ({}, "gpt-transcribe", "gpt-transcribe"),
        ({"chat_model": "gpt-4o-mini-transcribe"}, "gpt-live-transcribe", "gpt-transcribe"),
        ({"chat_model": "whisper-1", "prompt": ""}, "gpt-live-transcribe", "gpt-transcribe"),
    ],
    ids=["core default", "core model named", "whisper"],
)
async def test_core_stt_taken_over_keeps_transcribing(
    hass: HomeAssistant,
    emulator: OpenAIEmulator,
    freezer: FrozenDateTimeFactory,
    data: dict[str, str],
    live: str,
    upload: str,
) -> None:
    """Core's STT subentries as core stored them, after the shutdown, also after a restart."""
    core = add_core_entry(hass, 8)
    stt_sub = core.entry.subentries[_stt_id(core.entry)]
    hass.config_entries.async_update_subentry(core.entry, stt_sub, data=data)
    _set_today(freezer, emulator, AFTER)
    assert await hass.config_entries.async_setup(core.entry.entry_id)
    await hass.async_block_till_done()
    entity_id = core.entity_ids[stt_sub.subentry_id]
    for _restart in range(2):
        await _assert_transcribes(hass, emulator, entity_id, live, upload)
        await _reload(hass, core.entry)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"model_shutdown_{stt_sub.subentry_id}_chat_model"
    )
    assert (issue.translation_key if issue else None) == ("model_replaced" if data else None)


async def test_a_shutdown_the_model_list_brings_forward_is_followed(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """OpenAI's model list has the last word on a date: brought forward to yesterday, the
    STT moves to the replacement now, not on the date in our table."""
    _set_today(freezer, emulator, BEFORE_THE_SHUTDOWNS)
    entry = await _create_entry(hass)
    await _choose_stt_model(hass, entry, "whisper-1")
    emulator.shutdown_dates["whisper-1"] = BEFORE_THE_SHUTDOWNS - timedelta(days=1)
    await _reload(hass, entry)
    await _assert_transcribes(
        hass, emulator, "stt.openai_stt", "gpt-live-transcribe", "gpt-transcribe"
    )
