"""Realtime API transcription sessions over a WebSocket, as OpenAI serves them.

Client events are checked against the SDK's event TypedDicts (see wire_types); audio must
be the PCM the session was told (24 kHz, 16-bit mono). On a commit the buffered audio is
"transcribed": after the session's service time, the next scripted transcript.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .responses_api import new_id
from .state import LiveSession
from .wire_types import realtime_event_problem

if TYPE_CHECKING:
    from .state import EmulatorState

# Models without the server's voice activity detection (OpenAI's realtime transcription
# guide: turn_detection omitted or null).
NO_VAD = frozenset({"gpt-live-transcribe"})


def _error(message: str, code: str = "invalid_request_error") -> dict[str, Any]:
    return {
        "type": "error",
        "event_id": new_id("event"),
        "error": {"type": "invalid_request_error", "code": code, "message": message},
    }


async def serve_live(emulator: EmulatorState, request: web.Request) -> web.StreamResponse:
    """Hold one transcription session (the URL's intent) until the client closes it."""
    if request.query.get("intent") != "transcription":
        body = {
            "error": {
                "message": "Missing required parameter: 'model'.",
                "type": "invalid_request_error",
            }
        }
        return web.json_response(body, status=400)
    if emulator.live_handshake_stalls:
        await emulator.stopping.wait()  # the client gives up; the handler ends with the server
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    session = LiveSession()
    emulator.live_sessions.append(session)
    await ws.send_json(
        {
            "type": "session.created",
            "event_id": new_id("event"),
            "session": {"type": "transcription"},
        }
    )
    async for message in ws:
        if message.type is not WSMsgType.TEXT:
            break
        event = json.loads(message.data)
        session.events.append(event)
        if event.get("type") == "input_audio_buffer.commit" and emulator.live_commit_fault:
            await _commit_fault(ws, emulator.live_commit_fault)
            break
        for reply in await _handle(emulator, session, event):
            await ws.send_json(reply)
    return ws


async def _commit_fault(ws: web.WebSocketResponse, fault: str) -> None:
    """Answer a commit with a fault instead of its transcript."""
    if fault == "binary":
        await ws.send_bytes(b"\x00\x01")
    elif fault == "not json":
        await ws.send_str("<html><body>502 Bad Gateway</body></html>")
    await ws.close()


async def _handle(
    emulator: EmulatorState, session: LiveSession, event: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return the server's answers to one client event."""
    if problem := realtime_event_problem(event):
        return [_error(problem)]
    kind = event["type"]
    if kind == "session.update":
        config = event["session"]
        if config.get("type") != "transcription":
            return [_error("A transcription session takes only session.type 'transcription'.")]
        session.transcription = config.get("audio", {}).get("input", {}).get("transcription", {})
        if gone := emulator.gone(session.transcription.get("model", "")):
            return [_error(gone.message, "model_not_found")]
        audio_input = config.get("audio", {}).get("input", {})
        if session.transcription.get("model") in NO_VAD and audio_input.get("turn_detection"):
            return [_error(f"{session.transcription['model']} takes no turn_detection.")]
        return [{"type": "session.updated", "event_id": new_id("event"), "session": config}]
    if kind == "input_audio_buffer.append":
        try:
            audio = base64.b64decode(event["audio"], validate=True)
        except binascii.Error:
            return [_error("Invalid 'audio': not base64.")]
        if len(audio) % 2:
            return [_error("Invalid 'audio': 16-bit PCM comes in whole samples.")]
        session.audio += audio
        return []
    return await _commit(emulator, session)


async def _commit(emulator: EmulatorState, session: LiveSession) -> list[dict[str, Any]]:
    """Answer a commit: the transcript of the buffered audio, after the service time."""
    if not session.audio:
        return [
            _error(
                "Error committing input audio buffer: buffer is empty.",
                "input_audio_buffer_commit_empty",
            )
        ]
    session.commits += 1
    item = new_id("item")
    committed = {
        "type": "input_audio_buffer.committed",
        "event_id": new_id("event"),
        "item_id": item,
        "previous_item_id": None,
    }
    if emulator.live_transcription_latency:
        await asyncio.sleep(emulator.live_transcription_latency)
    if emulator.live_failure:
        return [committed, _error(emulator.live_failure, "server_error")]
    text = emulator.transcripts.popleft() if emulator.transcripts else emulator.default_transcript
    seconds = len(session.audio) / 2 / 24000
    completed = {
        "type": "conversation.item.input_audio_transcription.completed",
        "event_id": new_id("event"),
        "item_id": item,
        "content_index": 0,
        "transcript": text,
        "usage": {"type": "duration", "seconds": round(seconds, 3)},
    }
    return [committed, completed]
