"""Voice across OpenAI's audio shutdowns, in a real `hass` process restarted past them.

An entry made before the dates, with core's speech models (gpt-4o-mini-tts,
gpt-4o-mini-transcribe) and whisper-1, is restarted with Home Assistant's clock and the
emulator's (which refuses shut-down models as OpenAI does) moved past 2027-03-01: it still
speaks and transcribes, as does an entry made after the restart.
"""

from __future__ import annotations

import io
import math
import struct
from typing import Any
import wave

import pytest

from tools.hass import HassClient

from .conftest import API_KEY, LiveHass
from .test_flows import EntryLoads, _subentry_flow

BEFORE = "2026-12-01 12:00:00"  # before every audio shutdown (the first: 2027-01-06)
AFTER = "2027-03-10 12:00:00"  # past the last (2027-02-26)
ENTRIES = "/api/config/config_entries/entry?domain=openai_conversation"
# HA's header for the audio of an STT request: 16 kHz 16-bit mono WAV, as Assist records.
SPEECH_CONTENT = "format=wav; codec=pcm; sample_rate=16000; bit_rate=16; channel=1; language=en"
OLD_SUBENTRIES = {
    "Old TTS": ("tts", "gpt-4o-mini-tts"),
    "Whisper": ("stt", "whisper-1"),
    "Core STT": ("stt", "gpt-4o-mini-transcribe"),
}


@pytest.fixture
def hass_clock() -> str:
    """Home Assistant and the emulator start before the shutdowns."""
    return BEFORE


def _wav() -> bytes:
    """Return a second of a 440 Hz tone as Assist's 16 kHz 16-bit mono WAV."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 16000))) for n in range(16000)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(frames)
    return out.getvalue()


async def _entity_ids(client: HassClient, domain: str) -> dict[str, str]:
    """Return the entity ids of a platform's entities by their friendly names."""
    states = await client.call("GET", "/api/states")
    return {
        state["attributes"].get("friendly_name"): state["entity_id"]
        for state in states
        if state["entity_id"].startswith(f"{domain}.")
    }


async def _add_old_subentries(client: HassClient, entry_id: str) -> None:
    """Add core's speech models and whisper-1 through the subentry flows, as shown."""
    async with EntryLoads(client, entry_id) as loads:
        for count, (name, (kind, model)) in enumerate(OLD_SUBENTRIES.items(), 1):
            result = await _subentry_flow(
                client, entry_id, kind, {"init": {"name": name, "chat_model": model}}
            )
            assert result["type"] == "create_entry", result
            await loads.reach(count)  # each subentry reloads the entry


async def _speaks(live_hass: LiveHass, entity_id: str) -> None:
    """Ask for speech as the frontend does (a URL, then its audio): audio comes back."""
    client = live_hass.client
    body = {"engine_id": entity_id, "message": "The kitchen light is on.", "language": "en"}
    url: dict[str, Any] = await client.call("POST", "/api/tts_get_url", json=body)
    async with client.session.get(client.base + url["path"]) as response:
        assert response.status == 200, (entity_id, response.status, await response.text())
        audio = await response.read()
    assert len(audio) > 1000, (entity_id, len(audio))


async def _transcribes(live_hass: LiveHass, entity_id: str) -> None:
    """Post recorded speech as an Assist pipeline does: it is transcribed."""
    client = live_hass.client
    headers = {**client.headers, "X-Speech-Content": SPEECH_CONTENT}
    async with client.session.post(
        f"{client.base}/api/stt/{entity_id}", headers=headers, data=_wav()
    ) as response:
        result = await response.json()
    assert result == {"text": "turn on the kitchen light", "result": "success"}, entity_id


async def _voice_works(live_hass: LiveHass, titles: list[str]) -> None:
    """Every TTS and STT entity of these titles speaks or transcribes."""
    tts_ids = await _entity_ids(live_hass.client, "tts")
    stt_ids = await _entity_ids(live_hass.client, "stt")
    for title in titles:
        if title in tts_ids:
            await _speaks(live_hass, tts_ids[title])
        else:
            await _transcribes(live_hass, stt_ids[title])


async def _speech_endpoint_status(live_hass: LiveHass) -> int:
    """Return the emulator's status for gpt-4o-mini-tts on the speech endpoint (its clock)."""
    body = {"model": "gpt-4o-mini-tts", "input": "Hi.", "voice": "alloy"}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    url = f"{live_hass.emulator}/v1/audio/speech"
    async with live_hass.client.session.post(url, json=body, headers=headers) as response:
        return response.status


async def test_voice_speaks_and_transcribes_after_the_shutdowns(live_hass: LiveHass) -> None:
    client = live_hass.client
    entry_id = await client.ensure_openai_entry(API_KEY)
    await _add_old_subentries(client, entry_id)
    await _voice_works(live_hass, [*OLD_SUBENTRIES, "OpenAI TTS", "OpenAI STT"])
    assert "/v1/audio/speech" in await _paths(live_hass)  # gpt-4o-mini-tts, while it lasts
    assert await _speech_endpoint_status(live_hass) == 200

    await live_hass.restart(clock=AFTER)
    await _voice_works(live_hass, [*OLD_SUBENTRIES, "OpenAI TTS", "OpenAI STT"])
    # Nothing asked for a shut-down model (the emulator would have refused it).
    assert "/v1/audio/speech" not in await _paths(live_hass)
    assert await _speech_endpoint_status(live_hass) == 404  # OpenAI's clock moved too

    # A fresh entry, made after the dates (the old one removed: one entry per key).
    await client.call("DELETE", f"/api/config/config_entries/entry/{entry_id}")
    assert await client.call("GET", ENTRIES) == []
    await client.ensure_openai_entry(API_KEY)
    await _voice_works(live_hass, ["OpenAI TTS", "OpenAI STT"])
    assert live_hass.problems() == []


async def _paths(live_hass: LiveHass) -> set[str]:
    """Return the paths the emulator (since its last start) was asked for."""
    async with live_hass.client.session.get(f"{live_hass.emulator}/emulator/keys") as response:
        return {request["path"] for request in await response.json()}
