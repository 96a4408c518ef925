"""Transcription while the user speaks: a Realtime API transcription session.

The audio goes up as it is captured, over a WebSocket; when speech ends only the commit is
left, so the transcript follows shortly instead of after an upload and a transcription.
Client events are the SDK's TypedDicts, server events the SDK's models.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterable
import json
from typing import Any, Final

import aiohttp
from openai.types.realtime.conversation_item_input_audio_transcription_completed_event import (
    ConversationItemInputAudioTranscriptionCompletedEvent,
)
from openai.types.realtime.input_audio_buffer_append_event_param import (
    InputAudioBufferAppendEventParam,
)
from openai.types.realtime.input_audio_buffer_commit_event_param import (
    InputAudioBufferCommitEventParam,
)
from openai.types.realtime.realtime_error_event import RealtimeErrorEvent
from openai.types.realtime.realtime_transcription_session_create_request_param import (
    RealtimeTranscriptionSessionCreateRequestParam,
)
from openai.types.realtime.session_update_event_param import SessionUpdateEventParam

from .handshake import HandshakeError, RealtimeRoute, async_handshake

# The Realtime API takes 16-bit mono PCM at this rate.
LIVE_RATE: Final = 24000
# From the commit to the transcript; past this the upload is tried instead.
TRANSCRIPT_TIMEOUT = 10.0
# For the WebSocket upgrade: a server (or proxy) that takes the connection and never
# answers must not hold the turn; the audio is uploaded instead.
HANDSHAKE_TIMEOUT = 5.0


class LiveTranscriptionError(Exception):
    """The server refused or broke off the session; the audio can still be uploaded."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        """Initialize; unsupported: the server has no Realtime API (asking again is futile)."""
        super().__init__(message)
        self.unsupported = unsupported


def session_update(model: str, language: str, prompt: str) -> SessionUpdateEventParam:
    """Return the event that makes the session a transcription of PCM at LIVE_RATE."""
    session: RealtimeTranscriptionSessionCreateRequestParam = {
        "type": "transcription",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": LIVE_RATE},
                "transcription": {"model": model, "language": language, "prompt": prompt},
                # The pipeline says when speech ends: the commit, not the server's VAD.
                "turn_detection": None,
            }
        },
    }
    return {"type": "session.update", "session": session}


def append(pcm: bytes) -> InputAudioBufferAppendEventParam:
    """Return the event that adds audio to the session's buffer."""
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}


COMMIT: InputAudioBufferCommitEventParam = {"type": "input_audio_buffer.commit"}


async def async_transcribe_live(
    session: aiohttp.ClientSession,
    route: RealtimeRoute,
    audio: AsyncIterable[bytes],
    *,
    model: str,
    language: str,
    prompt: str,
) -> str:
    """Stream PCM at LIVE_RATE to a transcription session; return the transcript."""
    try:
        ws = await async_handshake(session, route, {"intent": "transcription"}, HANDSHAKE_TIMEOUT)
    except HandshakeError as err:
        raise LiveTranscriptionError(str(err), unsupported=err.status in (404, 405, 501)) from err
    try:
        async with ws:
            await ws.send_json(session_update(model, language, prompt))
            async for pcm in audio:
                if pcm:
                    await ws.send_json(append(pcm))
            await ws.send_json(COMMIT)
            async with asyncio.timeout(TRANSCRIPT_TIMEOUT):
                return await _transcript(ws)
    except (aiohttp.ClientError, TimeoutError) as err:
        raise LiveTranscriptionError(str(err) or type(err).__name__) from err


async def _transcript(ws: aiohttp.ClientWebSocketResponse) -> str:
    """Read server events until the committed audio's transcript (or an error)."""
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            break
        try:
            event: dict[str, Any] = json.loads(message.data)
            if event.get("type") == "error":
                error = RealtimeErrorEvent.model_validate(event).error
                raise LiveTranscriptionError(error.message)
            if event.get("type") == "conversation.item.input_audio_transcription.completed":
                return ConversationItemInputAudioTranscriptionCompletedEvent.model_validate(
                    event
                ).transcript
        except (ValueError, AttributeError) as err:  # not JSON, or not the SDK's event
            raise LiveTranscriptionError(f"unreadable event: {err}") from err
    raise LiveTranscriptionError("the session closed before the transcript")
