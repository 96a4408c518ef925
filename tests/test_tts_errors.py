"""Realtime TTS failures are told apart as on every other endpoint: key, quota, rate limit."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.backends import realtime_speech
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from emulator import Error, OpenAIEmulator
from emulator.realtime_speech_api import FAILED_RESPONSE
from homeassistant.components import tts
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .common import idle_spares
from .conftest import add_entry

TTS_ENTITY = "tts.openai_tts"
# OpenAI's answers: a rate limit's and a spent account's 429, in a failed response too.
RATE_LIMITED = Error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded")
NO_CREDIT = Error(
    429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"
)


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry with the default TTS, which speaks through a Realtime session."""
    (default,) = [data for kind, _title, data in DEFAULT_SUBENTRIES if kind == "tts"]
    return add_entry(hass, {"tts": dict(default)})


async def speak_on_demand(hass: HomeAssistant, emulator: OpenAIEmulator) -> HomeAssistantError:
    """Speak in a voice no spare session has (so the handshake is made now); return the error."""
    await idle_spares(emulator)  # the default's spare has made its handshake
    entity = hass.data[tts.DATA_COMPONENT].get_entity(TTS_ENTITY)
    options = {**entity.default_options, "voice": "cedar"}
    with pytest.raises(HomeAssistantError) as err:
        await entity.async_get_tts_audio("Hello there.", "en", options)
    return err.value


async def test_a_refused_key_at_the_handshake_starts_reauth(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The key was revoked at OpenAI: the handshake's 401 asks the user for a new key, as a
    401 from any other request does."""
    await idle_spares(emulator)
    emulator.api_keys = {"sk-the-new-key"}
    err = await speak_on_demand(hass, emulator)
    assert err.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    assert list(setup_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


@pytest.mark.parametrize(
    ("path", "failure", "key"),
    [
        ("/v1/realtime", RATE_LIMITED, "rate_limited"),
        ("/v1/realtime", Error(503, "The server is overloaded.", "server_error"), "server_error"),
        (FAILED_RESPONSE, RATE_LIMITED, "rate_limited"),
        (FAILED_RESPONSE, NO_CREDIT, "insufficient_quota"),
    ],
    ids=["handshake-429", "handshake-503", "response-rate-limited", "response-no-credit"],
)
async def test_failures_are_translated_by_kind(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    path: str,
    failure: Error,
    key: str,
) -> None:
    """A refused handshake, or a response OpenAI ends as failed, says what went wrong; none
    of them asks for a new key."""
    emulator.fail_next(path, failure)
    err = await speak_on_demand(hass, emulator)
    assert err.translation_key == key
    await hass.async_block_till_done()
    assert not list(setup_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_a_handshake_without_answer_times_out(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that takes the connection and never completes the upgrade: a timeout."""
    await idle_spares(emulator)
    monkeypatch.setattr(realtime_speech, "HANDSHAKE_TIMEOUT", 0.2)
    emulator.realtime_handshake = 5.0
    err = await speak_on_demand(hass, emulator)
    assert err.translation_key == "timeout"


async def test_an_unreachable_server_cannot_connect(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Nothing listens at the address any more: not a timeout, and no new key asked for."""
    await idle_spares(emulator)
    await emulator.stop()
    err = await speak_on_demand(hass, emulator)
    assert err.translation_key == "cannot_connect"
    await hass.async_block_till_done()
    assert not list(setup_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
