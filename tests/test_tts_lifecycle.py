"""TTS keeps speaking through OpenAI's audio shutdowns; other servers keep /audio/speech."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
import openai
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.openai_conversation.const import DOMAIN
from custom_components.openai_conversation.lifecycle import RETIREMENTS
from emulator import OpenAIEmulator
from homeassistant import config_entries
from homeassistant.components import tts
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import spoken_sessions
from .conftest import API_KEY, add_entry
from .core_entries import add_core_entry
from .test_providers import _add_azure, _add_compatible

SPEECH_ENDPOINT_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
LEGACY_REALTIME = {"gpt-realtime": "gpt-realtime-2.1", "gpt-realtime-mini": "gpt-realtime-2.1-mini"}
AFTER = date(2027, 3, 2)
# A TTS made before the first shutdown, on the speech endpoint's newest model.
TTS_ON_THE_SPEECH_ENDPOINT = {
    "chat_model": "gpt-4o-mini-tts",
    "voice": "onyx",
    "prompt": "",
    "audio_format": "mp3",
    "tts_speed": 1.0,
}


def test_speech_shutdowns_are_in_the_table() -> None:
    """OpenAI's text-to-speech guide: the speech endpoint's models end on 2027-01-06, for
    gpt-realtime-2.1-mini; the first realtime models on 2027-01-20 (its deprecations page)."""
    for model in SPEECH_ENDPOINT_MODELS:
        assert RETIREMENTS[model].shutdown == date(2027, 1, 6)
        assert RETIREMENTS[model].replacement == "gpt-realtime-2.1-mini"
    for model, replacement in LEGACY_REALTIME.items():
        assert (RETIREMENTS[model].shutdown, RETIREMENTS[model].replacement) == (
            date(2027, 1, 20),
            replacement,
        )


def _past_the_shutdowns(emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory) -> None:
    """Move both clocks, Home Assistant's and the emulator's, past every audio shutdown."""
    emulator.today = AFTER  # its own table holds OpenAI's dates
    freezer.move_to(datetime(AFTER.year, AFTER.month, AFTER.day, 12, tzinfo=dt_util.UTC))


async def _speak(hass: HomeAssistant, entity_id: str, text: str = "Good morning.") -> bytes:
    assert await async_setup_component(hass, "tts", {})
    manager = hass.data[tts.DATA_TTS_MANAGER]
    stream = manager.async_create_result_stream(entity_id, language="en", use_file_cache=False)
    stream.async_set_message(text)
    audio = b"".join([chunk async for chunk in stream.async_stream_result()])
    assert audio
    return audio


async def test_emulator_refuses_the_dead_models(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """Past the dates the emulator answers OpenAI's 404 model_not_found, on both routes."""
    _past_the_shutdowns(emulator, freezer)
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=emulator.base_url, max_retries=0)
    with pytest.raises(openai.NotFoundError) as err:
        await client.audio.speech.create(model="gpt-4o-mini-tts", voice="marin", input="Hi.")
    assert err.value.code == "model_not_found"
    # The replacement is no model of the speech endpoint.
    with pytest.raises(openai.BadRequestError):
        await client.audio.speech.create(model="gpt-realtime-2.1-mini", voice="marin", input="Hi.")
    # ...and a Realtime session on a retired realtime model is refused at the handshake.
    http = async_get_clientsession(hass)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(
            f"{emulator.base_url}/realtime?model=gpt-realtime",
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
    assert refused.value.status == 404


async def test_entry_from_before_speaks_after_the_shutdown(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """A TTS made before the date on gpt-4o-mini-tts speaks with the replacement, in the
    nearest voice, says so in a repair, and does so again after a reload."""
    _past_the_shutdowns(emulator, freezer)
    entry = add_entry(hass, {"tts": TTS_ON_THE_SPEECH_ENDPOINT})
    for text in ("Good morning.", "Good night."):  # set up, then reloaded
        if entry.state is config_entries.ConfigEntryState.LOADED:
            assert await hass.config_entries.async_reload(entry.entry_id)
        else:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await _speak(hass, "tts.openai_tts", text)
        session = spoken_sessions(emulator)[-1]
        assert session.model == "gpt-realtime-2.1-mini"
        assert session.events[0]["session"]["audio"]["output"]["voice"] == "cedar"
    assert len(spoken_sessions(emulator)) == 2
    assert emulator.requests_to("/v1/audio/speech") == []
    (subentry,) = entry.subentries.values()
    assert subentry.data["chat_model"] == "gpt-4o-mini-tts"  # nothing rewritten silently
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"model_shutdown_{subentry.subentry_id}_chat_model"
    )
    assert issue is not None
    assert issue.translation_key == "speech_model_replaced"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders["replacement"] == "gpt-realtime-2.1-mini"


async def test_core_written_tts_speaks_after_the_shutdown(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """Core's own TTS subentry (gpt-4o-mini-tts, no voice), taken over, keeps speaking."""
    _past_the_shutdowns(emulator, freezer)
    core = add_core_entry(hass, 8)
    assert await hass.config_entries.async_setup(core.entry.entry_id)
    await hass.async_block_till_done()
    (tts_sub,) = [s for s in core.entry.subentries.values() if s.subentry_type == "tts"]
    await _speak(hass, core.entity_ids[tts_sub.subentry_id])
    (session,) = spoken_sessions(emulator)
    assert session.model == "gpt-realtime-2.1-mini"
    assert session.events[0]["session"]["audio"]["output"]["voice"] == "marin"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"model_shutdown_{tts_sub.subentry_id}_chat_model"
    )
    assert issue is not None
    assert issue.translation_key == "speech_model_replaced"


async def test_fresh_entry_speaks_after_the_shutdown(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """An entry made through the config flow after the dates speaks, with no repair."""
    _past_the_shutdowns(emulator, freezer)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "openai"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await _speak(hass, "tts.openai_tts")
    (session,) = spoken_sessions(emulator)
    assert (session.model, session.spoken) == ("gpt-realtime-2.1-mini", ["Good morning."])
    entry = result["result"]
    (tts_sub,) = [s for s in entry.subentries.values() if s.subentry_type == "tts"]
    assert tts_sub.data["chat_model"] == "gpt-realtime-2.1-mini"
    issue_id = f"model_shutdown_{tts_sub.subentry_id}_chat_model"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.usefixtures("before_the_shutdowns")
async def test_warned_ahead_fix_moves_model_and_voice(
    hass: HomeAssistant, emulator: OpenAIEmulator, hass_client: ClientSessionGenerator
) -> None:
    """20 days ahead: a warning whose fix moves the TTS to the replacement and a realtime
    voice like the old one; it then speaks through a Realtime session."""
    assert await async_setup_component(hass, "repairs", {})
    emulator.shutdown_dates["gpt-4o-mini-tts"] = emulator.today + timedelta(days=20)
    data = {"chat_model": "gpt-4o-mini-tts", "voice": "fable", "prompt": "Cheerful."}
    entry = add_entry(hass, {"tts": data})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    issue_id = f"model_shutdown_{subentry.subentry_id}_chat_model"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "model_shutting_down"
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await response.json()
    assert flow["description_placeholders"]["replacement"] == "gpt-realtime-2.1-mini"
    response = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"chat_model": "gpt-realtime-2.1-mini"}
    )
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert dict(entry.subentries[subentry.subentry_id].data) == data | {
        "chat_model": "gpt-realtime-2.1-mini",
        "voice": "ballad",
    }
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await _speak(hass, "tts.openai_tts")
    (session,) = spoken_sessions(emulator)
    assert session.events[0]["session"]["instructions"].endswith("Cheerful.")


async def _add_tts(hass: HomeAssistant, entry: ConfigEntry, model: str) -> dict[str, Any]:
    """Add a TTS to a non-OpenAI entry through the flow; return the models it offered."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "tts"), context={"source": "user"}
    )
    offered = result["data_schema"].schema["chat_model"].config["options"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Speaker", "chat_model": model}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"voice": "onyx", "audio_format": "mp3"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return {"offered": offered}


async def test_compatible_speech_server_keeps_the_speech_endpoint(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """Compatible speech servers (Speaches, Kokoro) serve "tts-1" on /audio/speech, and
    OpenAI's dates are not theirs: the same model, the same route, after the dates."""
    entry = await _add_compatible(hass, emulator, "gpt-4o-mini")
    added = await _add_tts(hass, entry, "tts-1")
    assert not [m for m in added["offered"] if m.startswith("gpt-realtime")]
    _past_the_shutdowns(emulator, freezer)
    emulator.shutdown_dates.clear()  # a local server's models never shut down
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await _speak(hass, "tts.speaker")
    (request,) = emulator.requests_to("/v1/audio/speech")
    assert (request.body["model"], request.body["voice"]) == ("tts-1", "onyx")
    assert emulator.speech_sessions == []


async def test_azure_keeps_the_speech_endpoint(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """An Azure TTS deployment speaks through its /audio/speech route."""
    emulator.azure_deployments.add("speech")
    entry = await _add_azure(hass, emulator)
    added = await _add_tts(hass, entry, "speech")
    assert not [m for m in added["offered"] if m.startswith("gpt-realtime")]
    await _speak(hass, "tts.speaker")
    requests = [r for r in emulator.requests if r.path.endswith("/audio/speech")]
    assert [r.path.startswith("/openai/") for r in requests] == [True]
    assert emulator.speech_sessions == []


async def test_the_day_passes_while_home_assistant_runs(
    hass: HomeAssistant, emulator: OpenAIEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """A TTS on gpt-4o-mini-tts speaks through the speech endpoint the day before the
    shutdown and with the replacement on the day, without a restart or reload."""
    before = date(2027, 1, 5)
    emulator.today = before
    freezer.move_to(datetime(2027, 1, 5, 23, 0, tzinfo=dt_util.UTC))
    tts_options = {"chat_model": "gpt-4o-mini-tts", "voice": "onyx", "audio_format": "mp3"}
    entry = add_entry(hass, {"tts": tts_options})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _speak(hass, "tts.openai_tts", "Good evening.")
    assert len(emulator.requests_to("/v1/audio/speech")) == 1

    emulator.today = before + timedelta(days=1)
    freezer.move_to(datetime(2027, 1, 6, 8, 0, tzinfo=dt_util.UTC))
    await _speak(hass, "tts.openai_tts", "Good morning.")
    assert len(emulator.requests_to("/v1/audio/speech")) == 1  # no second request
    (session,) = spoken_sessions(emulator)
    assert session.model == "gpt-realtime-2.1-mini"
    assert session.events[0]["session"]["audio"]["output"]["voice"] == "cedar"


@pytest.mark.usefixtures("before_the_shutdowns")
async def test_a_shutdown_the_model_list_brings_forward_is_followed(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """OpenAI's model list has the last word on a date: brought forward to yesterday, the
    TTS speaks with the replacement now, not from the date in our table."""
    emulator.shutdown_dates["gpt-4o-mini-tts"] = emulator.today - timedelta(days=1)
    entry = add_entry(hass, {"tts": TTS_ON_THE_SPEECH_ENDPOINT})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _speak(hass, "tts.openai_tts")
    assert spoken_sessions(emulator)[-1].model == "gpt-realtime-2.1-mini"
    assert emulator.requests_to("/v1/audio/speech") == []
