"""Speech through the Realtime API: one session reads a whole reply, sentence by sentence.

OpenAI's speech endpoint models shut down on 2027-01-06; their replacement is a Realtime
voice model. Each sentence is an out-of-band response (conversation "none") whose input is
the sentence and whose instructions say to read it exactly, so sentences do not become a
conversation the model answers. The audio comes back as 24 kHz 16-bit mono PCM.
Client events are the SDK's TypedDicts, server events are validated with the SDK's models.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
import json
import re
from typing import Any, Final

import aiohttp
import openai
from openai.types.realtime.realtime_audio_config_output_param import RealtimeAudioConfigOutputParam
from openai.types.realtime.realtime_error_event import RealtimeErrorEvent
from openai.types.realtime.realtime_response_create_params_param import (
    RealtimeResponseCreateParamsParam,
)
from openai.types.realtime.realtime_session_create_request_param import (
    RealtimeSessionCreateRequestParam,
)
from openai.types.realtime.response_audio_delta_event import ResponseAudioDeltaEvent
from openai.types.realtime.response_audio_transcript_delta_event import (
    ResponseAudioTranscriptDeltaEvent,
)
from openai.types.realtime.response_create_event_param import ResponseCreateEventParam
from openai.types.realtime.response_done_event import ResponseDoneEvent
from openai.types.realtime.session_update_event_param import SessionUpdateEventParam

from ..compat import SDK_HTTP
from ..errors import status_error
from ..speech_models import REALTIME_SPEED_RANGE
from .handshake import HandshakeError, RealtimeRoute, async_handshake
from .realtime import LIVE_RATE

# What the model is told for every sentence; the subentry's tone instructions follow.
READ_EXACTLY: Final = (
    "You are a text-to-speech voice. Read the user's text aloud exactly as written, word "
    "for word, in the language it is written in. Do not answer it, comment on it, or add, "
    "drop or change any word."
)
# From a sentence sent to its last audio; from the handshake to an open session.
SENTENCE_TIMEOUT: Final = 30.0
HANDSHAKE_TIMEOUT: Final = 10.0
WORDS = re.compile(r"[\w']+")


class RealtimeSpeechError(Exception):
    """The server refused or broke off the session.

    api_error: the SDK's error for the same failure on other endpoints (a refused key,
    quota, a rate limit, an unreachable server), so it is translated and acted on alike.
    """

    def __init__(self, message: str, api_error: openai.APIError | None = None) -> None:
        """Keep the SDK's kind of the failure, where the server said which it is."""
        super().__init__(message)
        self.api_error = api_error


def session_update(
    voice: str, speed: float | None, instructions: str | None
) -> SessionUpdateEventParam:
    """Return the event that makes the session an audio-only reader in this voice."""
    output: RealtimeAudioConfigOutputParam = {
        "format": {"type": "audio/pcm", "rate": LIVE_RATE},
        "voice": voice,
    }
    if speed is not None:  # a tts.speak call may ask for more than a session takes
        low, high = REALTIME_SPEED_RANGE
        output["speed"] = min(max(float(speed), low), high)
    session: RealtimeSessionCreateRequestParam = {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": f"{READ_EXACTLY}\n{instructions}" if instructions else READ_EXACTLY,
        "audio": {"output": output},
    }
    return {"type": "session.update", "session": session}


def read_aloud(text: str) -> ResponseCreateEventParam:
    """Return the out-of-band response that reads one sentence."""
    response: RealtimeResponseCreateParamsParam = {
        "conversation": "none",
        "output_modalities": ["audio"],
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        ],
    }
    return {"type": "response.create", "response": response}


def words(text: str) -> list[str]:
    """Return a text's words, lower case, for comparing what was said with what was sent."""
    return WORDS.findall(text.casefold())


class RealtimeSpeech:
    """One Realtime session that speaks sentences one after another."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        route: RealtimeRoute,
        model: str,
        setup: SessionUpdateEventParam,
    ) -> None:
        """Prepare the session; nothing is sent before open()."""
        self._session = session
        self._route = route
        self.model = model
        self.setup = setup
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._url = route.session_url({route.model_param: model})
        self.sentences = 0
        self.reworded = 0

    async def open(self) -> None:
        """Connect and configure the session (the handshake, ahead of the first sentence)."""
        params = {self._route.model_param: self.model}
        try:
            self._ws = await async_handshake(self._session, self._route, params, HANDSHAKE_TIMEOUT)
        except HandshakeError as err:
            raise RealtimeSpeechError(str(err), handshake_api_error(self._url, err)) from err
        await self._ws.send_json(self.setup)

    async def close(self) -> None:
        """End the session."""
        if self._ws is not None:
            await self._ws.close()

    async def wait_closed(self) -> None:
        """Read what the server says while nothing is spoken, until it ends the session.

        Raises RealtimeSpeechError if the server refuses the session's settings.
        """
        if (ws := self._ws) is not None:
            async for _event in self._events(ws):  # session.created, session.updated
                pass

    async def speak(self, text: str) -> AsyncGenerator[bytes]:
        """Yield the PCM of one sentence as it arrives; count it if the model reworded it."""
        if (ws := self._ws) is None:
            raise RealtimeSpeechError("the session is not open")
        try:
            await ws.send_json(read_aloud(text))
        except (aiohttp.ClientError, ConnectionError) as err:
            raise RealtimeSpeechError(str(err) or type(err).__name__) from err
        transcript: list[str] = []
        async with asyncio.timeout(SENTENCE_TIMEOUT):
            async for event in self._events(ws):
                kind = event.get("type")
                try:
                    if kind == "response.output_audio.delta":
                        audio = ResponseAudioDeltaEvent.model_validate(event).delta
                        pcm = base64.b64decode(audio)
                    elif kind == "response.output_audio_transcript.delta":
                        delta = ResponseAudioTranscriptDeltaEvent.model_validate(event).delta
                        transcript.append(delta)
                        continue
                    elif kind == "response.done":
                        done = ResponseDoneEvent.model_validate(event)
                        self._done(done, text, "".join(transcript))
                        return
                    else:
                        continue
                except ValueError as err:  # not the SDK's event (binascii.Error included)
                    raise RealtimeSpeechError(f"unreadable event: {err}") from err
                yield pcm
        raise RealtimeSpeechError("the session closed before the sentence was spoken")

    def _done(self, event: ResponseDoneEvent, text: str, transcript: str) -> None:
        status = event.response.status
        if status not in (None, "completed"):
            details = event.response.status_details
            error = details.error if details else None
            code = (error.code or error.type) if error else None
            message = code or f"the response ended {status}"
            raise RealtimeSpeechError(message, status_error(self._url, None, message, code))
        self.sentences += 1
        if words(transcript) != words(text):
            self.reworded += 1

    async def _events(self, ws: aiohttp.ClientWebSocketResponse) -> AsyncGenerator[dict[str, Any]]:
        """Yield the server's events; an error event or an unreadable frame ends the session."""
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            try:
                event: dict[str, Any] = json.loads(message.data)
                if event.get("type") == "error":
                    error = RealtimeErrorEvent.model_validate(event).error
                    code = error.code or error.type
                    api_error = status_error(self._url, None, error.message, code)
                    raise RealtimeSpeechError(error.message, api_error)
            except ValueError as err:  # not JSON, or not the SDK's event
                raise RealtimeSpeechError(f"unreadable event: {err}") from err
            yield event


def handshake_api_error(url: str, err: HandshakeError) -> openai.APIError:
    """Return the SDK's error for a refused or failed handshake, so it is reported as any."""
    request = SDK_HTTP.Request("GET", url)
    if err.status is not None and (status := status_error(url, err.status, str(err))):
        return status
    if err.timed_out:
        return openai.APITimeoutError(request)
    return openai.APIConnectionError(message=str(err), request=request)
