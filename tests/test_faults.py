"""Fault suite: each fault against a conversation turn, an AI Task, an action, STT and TTS.

Each cell checks: a translated error or a recovered result (never an unhandled exception),
the API key absent from every log line, and a working next call (for conversations, with
every tool call in the history answered). The outcomes are collected into the table that
`scripts/faults` prints and the README keeps.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.const import (
    RECOMMENDED_AI_TASK_OPTIONS,
    RECOMMENDED_CONVERSATION_OPTIONS,
)
from emulator import Cut, Error, Hang, OpenAIEmulator, Reply, Text, ToolCall
from homeassistant.components import ai_task, conversation, stt
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .common import chunks, metadata, stt_entity, tone, tts_entity
from .conftest import API_KEY, add_entry, all_subentries

TRANSLATIONS = json.loads(
    (
        Path(__file__).parent.parent / "custom_components/openai_conversation/translations/en.json"
    ).read_text()
)["exceptions"]
OUTCOMES: dict[tuple[str, str], str] = {}

type Setup = Callable[[OpenAIEmulator], Any]


def http_error(
    status: int, message: str, code: str, kind: str = "invalid_request_error", times: int = 2
) -> Setup:
    """Every endpoint answers with this error (twice: the SDK retries once).

    The Realtime session's handshake too: live transcription then falls back to the upload,
    which meets the same error.
    """
    paths = ("/v1/responses", "/v1/realtime", "/v1/audio/transcriptions", "/v1/audio/speech")

    def setup(emulator: OpenAIEmulator) -> None:
        for path in paths:
            emulator.fail_next(path, *[Error(status, message, kind, code)] * times)

    return setup


def scripted(*replies: Any) -> Setup:
    return lambda emulator: emulator.queue(*replies)


async def refused(emulator: OpenAIEmulator) -> None:
    await emulator.stop()


def forever(emulator: OpenAIEmulator) -> None:
    emulator.responder = lambda _body: Reply([ToolCall("HassTurnOn", {"name": "Kitchen light"})])


FAULTS: dict[str, Setup] = {
    "401 unauthorized": http_error(
        401, "Incorrect API key provided: sk-te***-key.", "invalid_api_key"
    ),
    # Some OpenAI-compatible proxies repeat the whole key they were given.
    "401 echoing the key": http_error(
        401, f"Invalid API key provided: {API_KEY}", "invalid_api_key"
    ),
    "403 forbidden": http_error(403, "Project does not have access to model", "model_not_allowed"),
    "404 model not found": http_error(404, "The model `gpt-x` does not exist", "model_not_found"),
    "429 rate limit": http_error(429, "Rate limit reached", "rate_limit_exceeded", "requests"),
    "429 insufficient_quota": http_error(
        429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota"
    ),
    "500 server error": http_error(500, "The server had an error", "server_error", "server_error"),
    "503 overloaded": http_error(
        503, "The engine is currently overloaded", "overloaded", "server_error"
    ),
    "request timeout": scripted(Hang(5), Hang(5)),
    "connection refused": refused,
    "stream cut mid-way": scripted(Cut(Reply([Text("a long reply " * 20)]), after_events=5)),
    "malformed SSE": scripted(Reply([Text("hello there")], malformed_after=4)),
    "stream ends early, cleanly": scripted(
        Reply([Text("Done. The kitchen light is " * 3)], ends_after=5)
    ),
    "response.failed event": scripted(Reply([Text("partial")], fail="The model crashed")),
    "error event": scripted(Reply([Text("partial")], error_event="Internal stream error")),
    "invalid tool-call JSON": scripted(
        Reply([ToolCall("HassTurnOn", '{"name": "Kitchen')]), Reply([Text("Recovered.")])
    ),
    "call to an unknown tool": scripted(
        Reply([ToolCall("OpenPodBayDoors", {})]), Reply([Text("Recovered.")])
    ),
    "tools called forever": forever,
    "oversized reply (200 kB)": scripted(Reply([Text("x" * 200_000)])),
}
RECOVERABLE = {"invalid tool-call JSON", "call to an unknown tool", "oversized reply (200 kB)"}
SPEECH_FAULTS = {name for name in FAULTS if name[0].isdigit()}
SURFACES = ("conversation", "ai_task", "action", "stt", "tts")
OPTIONS = {**RECOMMENDED_CONVERSATION_OPTIONS, "timeout": 0.3}


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Every subentry type, the agents with a short timeout."""
    ai_task_options = {**RECOMMENDED_AI_TASK_OPTIONS, "timeout": 0.3}
    return add_entry(hass, all_subentries(conversation=OPTIONS, ai_task_data=ai_task_options))


def _key_of(message: str) -> str:
    """Return the translation key whose message this text is."""
    for key, value in TRANSLATIONS.items():
        # HA drops the final period of a translated message.
        pattern = re.escape(value["message"].rstrip("."))
        pattern = re.sub(r"\\\{\w+\\\}", ".*", pattern)
        if re.fullmatch(pattern, message.rstrip("."), re.DOTALL):
            return key
    return f"untranslated: {message[:40]}"


async def _run(
    hass: HomeAssistant, surface: str, entry: MockConfigEntry, conversation_id: str | None = None
) -> tuple[str, str | None]:
    """Use one surface once; return (outcome, conversation id)."""
    if surface == "conversation":
        result = await hass.async_create_task(
            conversation.async_converse(
                hass,
                "Turn on the kitchen light",
                conversation_id,
                Context(),
                agent_id="conversation.openai_conversation",
            )
        )
        speech = result.response.speech["plain"]["speech"]
        if result.response.response_type.value == "error":
            return f"error: {_key_of(speech)}", result.conversation_id
        return (
            "recovered: tool limit" if "stopped after" in speech else "ok"
        ), result.conversation_id
    try:
        if surface == "ai_task":
            data = await ai_task.async_generate_data(
                hass, task_name="t", entity_id="ai_task.openai_ai_task", instructions="Say hi"
            )
            return ("recovered: tool limit" if "stopped after" in str(data.data) else "ok"), None
        if surface == "action":
            response = await hass.services.async_call(
                "openai_conversation",
                "generate_content",
                {"config_entry": entry.entry_id, "prompt": "hi"},
                blocking=True,
                return_response=True,
            )
            return ("recovered: tool limit" if "stopped after" in str(response) else "ok"), None
        if surface == "stt":
            entity = stt_entity(hass)
            result = await entity.async_process_audio_stream(metadata(), chunks(tone(0.2)))
            return (
                "failed result (logged)" if result.result is stt.SpeechResultState.ERROR else "ok"
            ), None
        entity = tts_entity(hass)
        await entity.async_get_tts_audio("Hello.", "en", dict(entity.default_options))
    except HomeAssistantError as err:
        return f"error: {err.translation_key or _key_of(str(err))}", None
    return "ok", None


def _applies(fault: str, surface: str) -> bool:
    """Speech endpoints are not streamed and take no tools: only HTTP-level faults apply."""
    return surface not in ("stt", "tts") or fault in SPEECH_FAULTS | {"connection refused"}


@pytest.mark.parametrize(
    ("fault", "surface"),
    [(fault, surface) for fault in FAULTS for surface in SURFACES if _applies(fault, surface)],
)
async def test_fault(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    surface: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await async_setup_component(hass, "intent", {})
    # A first, healthy turn, so a conversation has history the fault must not corrupt.
    first_id = (await _run(hass, surface, setup_entry))[1]
    setup = FAULTS[fault](emulator)
    if setup is not None:
        await setup
    outcome, conversation_id = await _run(hass, surface, setup_entry, first_id)
    assert not outcome.startswith("error: untranslated"), outcome
    if fault in RECOVERABLE:
        # The error went back to the model as the tool's result; the turn completed.
        assert outcome == "ok", outcome
        outcome = "ok" if fault.startswith("oversized") else "recovered (error fed back)"
    elif fault == "tools called forever":
        assert outcome == "recovered: tool limit", outcome
    else:
        assert outcome.startswith(("error: ", "failed result")), outcome
    OUTCOMES[fault, surface] = outcome

    # Recovery: the emulator is healthy again and the same surface works.
    emulator.failures.clear()
    emulator.replies.clear()
    emulator.responder = lambda _body: Reply([Text("OK")])
    if fault == "connection refused":
        await emulator.start()
    assert (await _run(hass, surface, setup_entry, conversation_id))[0] == "ok"
    if surface == "conversation":
        items = emulator.requests_to("/v1/responses")[-1].body["input"]
        calls = [i["call_id"] for i in items if i["type"] == "function_call"]
        assert calls == [i["call_id"] for i in items if i["type"] == "function_call_output"]
    await hass.async_block_till_done()
    assert API_KEY not in caplog.text


def pytest_fault_table() -> str:
    """Return the outcomes as a Markdown table (fault x surface)."""
    lines = ["| fault | " + " | ".join(SURFACES) + " |", "|---" * (len(SURFACES) + 1) + "|"]
    for fault in FAULTS:
        cells = [
            OUTCOMES.get((fault, s), "not run") if _applies(fault, s) else "n/a" for s in SURFACES
        ]
        lines.append(f"| {fault} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
