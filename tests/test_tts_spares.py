"""Realtime TTS keeps a connected spare session, so a reply does not wait for the handshake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation import speech_spares
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from emulator import Error, OpenAIEmulator
from homeassistant.components import tts
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .common import idle_spares, spoken_sessions
from .conftest import add_entry

TTS_ENTITY = "tts.openai_tts"
HANDSHAKE = 0.3


@pytest.fixture
def config_entry(hass: HomeAssistant, emulator: OpenAIEmulator) -> MockConfigEntry:
    """An entry with the default TTS (gpt-realtime-2.1-mini); every upgrade takes a while."""
    emulator.realtime_handshake = HANDSHAKE
    (default,) = [data for kind, _title, data in DEFAULT_SUBENTRIES if kind == "tts"]
    return add_entry(hass, {"tts": dict(default)})


async def reply(*parts: str) -> AsyncGenerator[str]:
    for part in parts:
        yield part


async def speak(hass: HomeAssistant, options: dict[str, Any] | None = None) -> float:
    """Speak a streamed reply; return the event loop's clock when the reply began."""
    entity = hass.data[tts.DATA_COMPONENT].get_entity(TTS_ENTITY)
    began = asyncio.get_running_loop().time()
    request = TTSAudioRequest(
        "en", {**entity.default_options, **(options or {})}, reply("Hi. ", "Bye.")
    )
    response = await entity.async_stream_tts_audio(request)
    assert [chunk async for chunk in response.data_gen]
    return began


async def test_a_reply_does_not_wait_for_the_handshake(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Each reply reads from a session connected before it began (the spare opened after
    setup, then the one opened after the first reply); each reply has its own session."""
    for _ in range(2):
        (spare,) = await idle_spares(emulator)
        began = await speak(hass)
        (used,) = [s for s in spoken_sessions(emulator) if s.spoken and s is spare]
        assert used.connected < began  # no upgrade, and so no handshake, within the reply
        assert used.spoken == ["Hi.", "Bye."]
    assert len(spoken_sessions(emulator)) == 2


async def test_other_settings_do_not_take_the_spare(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A reply in another voice connects on demand; the default's spare stays unused."""
    (spare,) = await idle_spares(emulator)
    began = await speak(hass, {"voice": "cedar"})
    (used,) = spoken_sessions(emulator)
    assert used is not spare
    assert used.connected >= began
    assert used.events[0]["session"]["audio"]["output"]["voice"] == "cedar"
    assert not spare.spoken


async def test_unloading_closes_the_spare(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    await idle_spares(emulator)
    assert len(emulator.open_sockets) == 1
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    async with asyncio.timeout(5):
        while emulator.open_sockets:  # noqa: ASYNC110 - the server sees the close
            await asyncio.sleep(0.01)


async def test_server_down_connects_on_demand(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The spare cannot connect: the reply connects itself, and nothing is logged as an
    error."""
    emulator.fail_next("/v1/realtime", Error(503, "The server is overloaded."))
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    async with asyncio.timeout(5):
        while emulator.failures["/v1/realtime"]:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    began = await speak(hass)
    (used,) = spoken_sessions(emulator)
    assert used.connected >= began
    assert not [
        r
        for r in caplog.records
        if r.exc_info or (r.name.startswith("custom_components") and r.levelno >= logging.WARNING)
    ]


async def test_a_spare_the_server_ends_is_reopened(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(speech_spares, "STEADY", 0.0)
    (first,) = await idle_spares(emulator)
    for ws in list(emulator.open_sockets):
        await ws.close()
    spares = await idle_spares(emulator, 2)
    assert spares[0] is first
    began = await speak(hass)
    (used,) = spoken_sessions(emulator)
    assert used is spares[1]
    assert used.connected < began


async def test_a_server_stopping_mid_handshake_closes_that_session(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A reply ends with a spare's handshake under way; the server stops then. The session
    it upgrades after closing the open ones is closed too, so stopping does not wait on it
    (it held each such test's teardown for two minutes)."""
    await idle_spares(emulator)
    await speak(hass, {"voice": "cedar"})  # a spare for cedar begins its handshake
    async with asyncio.timeout(10):
        await emulator.stop()
    assert not emulator.open_sockets
