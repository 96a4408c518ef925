"""Realtime API voice sessions (?model=...) that read text aloud, as OpenAI serves them.

A session is configured with session.update; each response.create with text input answers
with its audio (24 kHz 16-bit mono PCM, base64 in output_audio deltas), the transcript of
that audio, and response.done. What OpenAI refuses is refused: unknown fields (the SDK's
event TypedDicts), a voice the realtime models lack, a speed out of range, a voice change
after audio, and models that are no realtime voice models.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

from .audio_api import speech_audio
from .pacing import Pace
from .realtime_api import _error, serve_live
from .responses_api import new_id
from .state import SpeechSession
from .wire_types import realtime_event_problem

if TYPE_CHECKING:
    from .state import EmulatorState

# OpenAI's realtime voice models and the voices they speak in (its Realtime API reference).
# The server's own lists, apart from the integration's (speech_models.py) on purpose: a voice
# the integration offers wrongly is refused here, as OpenAI would refuse it.
REALTIME_MODELS = ("gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime", "gpt-realtime-mini")
REALTIME_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
SPEED_RANGE = (0.25, 1.5)
# emulator.fail_next(FAILED_RESPONSE, Error(...)) fails the next voice response as OpenAI
# ends one it cannot serve (no credit left, rate limited): response.done with status
# "failed" and the error's type and code in its status_details.
FAILED_RESPONSE = "/v1/realtime#response"


async def serve_realtime(emulator: EmulatorState, request: web.Request) -> web.StreamResponse:
    """Route a Realtime session: transcription by intent, a voice session by model.

    Either kind first waits the emulator's handshake latency (TLS, the upgrade, the server
    setting up a session) before it accepts the upgrade.
    """
    if emulator.realtime_handshake:
        await asyncio.sleep(emulator.realtime_handshake)
    model = request.query.get("model")
    if model is None:
        return await serve_live(emulator, request)
    if not model.startswith(REALTIME_MODELS) or model not in emulator.models:
        body = {
            "error": {
                "message": f"The model `{model}` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "code": "model_not_found",
            }
        }
        return web.json_response(body, status=404)
    return await _serve_speech(emulator, request, SpeechSession(model))


async def _serve_speech(
    emulator: EmulatorState, request: web.Request, session: SpeechSession
) -> web.StreamResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    session.connected = asyncio.get_running_loop().time()
    emulator.speech_sessions.append(session)
    emulator.open_sockets.add(ws)
    if emulator.stopping.is_set():
        # Upgraded while the server stops (its handshake was under way), after it closed
        # the open sessions: closed too, as a server going away closes every session.
        emulator.open_sockets.discard(ws)
        await ws.close(code=WSCloseCode.GOING_AWAY)
        return ws
    try:
        await _converse(emulator, ws, session)
    finally:
        emulator.open_sockets.discard(ws)
    return ws


async def _converse(
    emulator: EmulatorState, ws: web.WebSocketResponse, session: SpeechSession
) -> None:
    created = {"type": "realtime", "model": session.model, "output_modalities": ["audio"]}
    await ws.send_json({"type": "session.created", "event_id": new_id("event"), "session": created})
    async for message in ws:
        if message.type is not WSMsgType.TEXT:
            break
        event = json.loads(message.data)
        session.events.append(event)
        for reply in _answer(session, event):
            if reply is None:  # the response's audio: streamed at the emulator's pace
                session.responses.append(asyncio.get_running_loop().time())
                await _read_aloud(emulator, ws, session, event)
            else:
                await ws.send_json(reply)


def _answer(session: SpeechSession, event: dict[str, Any]) -> list[dict[str, Any] | None]:
    """Return the answers to one client event (None: read the response aloud here)."""
    if problem := realtime_event_problem(event, speech=True):
        return [_error(problem)]
    if event["type"] == "session.update":
        config = event["session"]
        if config.get("type") != "realtime":
            return [_error("A voice session takes only session.type 'realtime'.")]
        output = config.get("audio", {}).get("output", {})
        if problem := _output_problem(session, output):
            return [_error(problem, "invalid_value")]
        session.session = {**session.session, **config}
        return [{"type": "session.updated", "event_id": new_id("event"), "session": config}]
    response = event.get("response", {})
    voice = response.get("audio", {}).get("output", {}).get("voice")
    if voice is not None and voice not in REALTIME_VOICES:
        return [_error(_voice_problem(voice), "invalid_value")]
    if not _text_of(response):
        return [_error("The response has no input text to read.")]
    return [None]


def _output_problem(session: SpeechSession, output: dict[str, Any]) -> str | None:
    voice = output.get("voice")
    if voice is not None and voice not in REALTIME_VOICES:
        return _voice_problem(voice)
    configured = session.session.get("audio", {}).get("output", {}).get("voice")
    if voice is not None and session.spoken and voice != configured:
        return "Cannot update a conversation's voice if assistant audio is present."
    speed = output.get("speed")
    if speed is not None and not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
        return (
            f"Invalid 'session.audio.output.speed': decimal above maximum value. Expected a "
            f"value between {SPEED_RANGE[0]} and {SPEED_RANGE[1]}, but got {speed} instead."
        )
    return None


def _voice_problem(voice: Any) -> str:
    return f"Invalid value: '{voice}'. Supported values are: {', '.join(REALTIME_VOICES)}."


def _text_of(response: dict[str, Any]) -> str:
    return " ".join(
        part.get("text", "")
        for item in response.get("input") or []
        for part in item.get("content") or []
        if part.get("type") in ("input_text", "text")
    ).strip()


async def _read_aloud(
    emulator: EmulatorState, ws: web.WebSocketResponse, session: SpeechSession, event: Any
) -> None:
    """Stream one response: its audio and transcript in deltas, then response.done."""
    pace = Pace.from_now()  # the speech latency counts from the request, not the encoding
    ids = {"response_id": new_id("resp"), "item_id": new_id("item")}
    await ws.send_json(_event("response.created", response=_response(ids, "in_progress")))
    if failures := emulator.failures.get(FAILED_RESPONSE):
        failure = failures.popleft()
        details = {"type": "failed", "error": {"type": failure.type, "code": failure.code}}
        failed = {**_response(ids, "failed"), "status_details": details}
        await ws.send_json(_event("response.done", response=failed))
        return
    text = _text_of(event["response"])
    spoken = emulator.speech_transcripts.popleft() if emulator.speech_transcripts else text
    session.spoken.append(text)
    place = {**ids, "output_index": 0, "content_index": 0}
    pcm = speech_audio({"input": text, "response_format": "pcm"})
    if emulator.speech_latency:
        await pace.after(emulator.speech_latency)
    words = spoken.split(" ")
    size = emulator.speech_chunk_size
    for number, start in enumerate(range(0, len(pcm), size)):
        chunk = base64.b64encode(pcm[start : start + size]).decode()
        await ws.send_json(_event("response.output_audio.delta", **place, delta=chunk))
        if number < len(words):
            delta = words[number] + (" " if number < len(words) - 1 else "")
            await ws.send_json(
                _event("response.output_audio_transcript.delta", **place, delta=delta)
            )
        if emulator.speech_chunk_delay:
            await asyncio.sleep(emulator.speech_chunk_delay)
    rest = " ".join(words[len(range(0, len(pcm), size)) :])
    if rest:
        await ws.send_json(_event("response.output_audio_transcript.delta", **place, delta=rest))
    await ws.send_json(_event("response.output_audio.done", **place))
    await ws.send_json(_event("response.output_audio_transcript.done", **place, transcript=spoken))
    await ws.send_json(_event("response.done", response=_response(ids, "completed")))


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": new_id("event"), **fields}


def _response(ids: dict[str, str], status: str) -> dict[str, Any]:
    return {
        "id": ids["response_id"],
        "object": "realtime.response",
        "status": status,
        "conversation_id": None,  # out of band
        "output_modalities": ["audio"],
        "output": [],
    }
