"""The emulator's state: what a test scripts and reads back, and what the handlers share.

The route handlers (server.py) and the Realtime sessions (realtime_api.py,
realtime_speech_api.py) all read and write it; it imports none of them back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web

from .flavours import Flavour
from .prompt_cache import PromptCache
from .replayed import IssuedReasoning
from .replies import Error, Scripted, default_reply

DEFAULT_MODELS = (
    "gpt-6-luna",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-transcribe",
    "gpt-4o-mini-tts",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2.1",
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1",
    "gpt-5",
    "gpt-5-mini",
    "o3",
    "o4-mini",
    "text-embedding-3-small",
    "tts-1",
    "whisper-1",
    "gpt-image-2.5-flare",
)

# OpenAI's shutdown dates as its deprecations page and model list give them.
OPENAI_SHUTDOWNS: dict[str, date] = {
    **dict.fromkeys(("dall-e-2", "dall-e-3"), date(2026, 5, 12)),
    **dict.fromkeys(("tts-1", "tts-1-hd", "gpt-4o-mini-tts"), date(2027, 1, 6)),
    **dict.fromkeys(("gpt-realtime", "gpt-realtime-mini"), date(2027, 1, 20)),
    **dict.fromkeys(
        ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"), date(2027, 2, 26)
    ),
}


@dataclass
class RecordedRequest:
    """A request the emulator received."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any


@dataclass
class LiveSession:
    """What one Realtime transcription session received: its events and its audio."""

    events: list[dict[str, Any]] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)
    transcription: dict[str, Any] = field(default_factory=dict)
    commits: int = 0


@dataclass
class SpeechSession:
    """What one Realtime voice session received and read aloud."""

    model: str
    # The event loop's clock when the upgrade was accepted, and at each response.create.
    connected: float = 0.0
    responses: list[float] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] = field(default_factory=dict)
    spoken: list[str] = field(default_factory=list)


@dataclass
class EmulatorState:
    """What the emulator serves from and records: scripted replies, faults, sessions."""

    api_keys: set[str] = field(default_factory=lambda: {"sk-test-key"})
    models: tuple[str, ...] = DEFAULT_MODELS
    requests: list[RecordedRequest] = field(default_factory=list)
    replies: deque[Scripted] = field(default_factory=deque)
    # Answers when the queue is empty; gets the request body.
    responder: Callable[[dict[str, Any]], Scripted] = default_reply
    azure_deployments: set[str] = field(default_factory=lambda: {"gpt-4o-mini"})
    # The model behind a deployment whose name does not say it (the name otherwise).
    azure_models: dict[str, str] = field(default_factory=dict)
    # False: /responses answers 404, like servers that only speak Chat Completions.
    responses_api: bool = True
    # Answer image requests with a URL whatever was asked (LocalAI and other compatible
    # servers, and OpenAI's default for DALL-E).
    image_urls: bool = False
    # With image_urls: the address answered (default: the emulator's own blob), what the
    # blob is (default: a small PNG), and the output_format a GPT image model names.
    image_url: str | None = None
    image_blob: bytes | None = None
    image_output_format: str | None = None
    # The image URL's faults: seconds before the blob is answered (a stalled storage host),
    # an address the next blob request is redirected to instead (302), and seconds between
    # the blob's chunks (a slow host that never stalls a read).
    image_blob_latency: float = 0.0
    image_redirect: str | None = None
    image_blob_drip: float = 0.0
    # Set when a client hangs up on a dripping blob before its last byte.
    image_blob_hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    # The answer's own data items instead (none, one without an image, a revised prompt),
    # and the size a GPT image model says it drew (default: the one asked for).
    image_data: list[dict[str, Any]] | None = None
    image_size: str | None = None
    # Some compatible servers have no model list (404), as the Responses API may be missing.
    models_api: bool = True
    # A compatible server's known departures from OpenAI (see flavours.FLAVOURS).
    flavour: Flavour | None = None
    # A local server's context window (tokens, estimated as 4 characters each): a longer
    # request is refused as llama.cpp refuses it.
    context_tokens: int | None = None
    # Count input tokens, and the cached prefix, as OpenAI bills them (else: the reply's).
    count_tokens: bool = False
    prompt_cache: PromptCache = field(default_factory=PromptCache)
    # Encrypted reasoning it sent: other servers' (or made-up) reasoning is refused.
    reasoning: IssuedReasoning = field(default_factory=IssuedReasoning)
    # Transcripts for the next /audio/transcriptions requests; then the default.
    transcripts: deque[str] = field(default_factory=deque)
    default_transcript: str = "turn on the kitchen light"
    speech_chunk_size: int = 1024
    speech_chunk_delay: float = 0.0
    # Time before the first audio byte: a speech model's time to start speaking.
    speech_latency: float = 0.0
    # Time before an image is answered.
    image_latency: float = 0.0
    # Service times for benchmarks: a model's time to its first token, then its pace (each
    # streamed delta waits for its tokens, at 4 characters a token), and a transcription's
    # time from the end of the upload to its answer.
    first_token: float = 0.0
    tokens_per_second: float = 0.0
    transcription_latency: float = 0.0
    # Realtime transcription sessions: each one's events and audio; the time from a commit
    # to its transcript; an error to answer commits with instead (a failing session).
    live_sessions: list[LiveSession] = field(default_factory=list)
    live_transcription_latency: float = 0.0
    live_failure: str | None = None
    # Answer a commit with no transcript but this, then end the session: "close" (a dropped
    # connection), "binary" (a frame no event fits), "not json" (a proxy's error page).
    live_commit_fault: str | None = None
    # Take the session's connection but never answer its upgrade (a stalled proxy).
    live_handshake_stalls: bool = False
    # Seconds before any Realtime session (voice or transcription) accepts its upgrade.
    realtime_handshake: float = 0.0
    # Realtime voice sessions (TTS): each one's events and the texts it read; transcripts
    # to answer the next sentences with instead of the text (a model that rewords).
    speech_sessions: list[SpeechSession] = field(default_factory=list)
    speech_transcripts: deque[str] = field(default_factory=deque)
    # Voice sessions still connected: the server closes them as it stops, as OpenAI does.
    open_sockets: set[web.WebSocketResponse] = field(default_factory=set)
    # One-shot errors per path, answered before anything else (see fail_next).
    failures: dict[str, deque[Error]] = field(default_factory=dict)
    # OpenAI's published shutdown dates (the model list's shutdown_date); from its date on,
    # a model is refused as OpenAI refuses it. The emulator's clock: today.
    shutdown_dates: dict[str, date] = field(default_factory=lambda: dict(OPENAI_SHUTDOWNS))
    today: date = field(default_factory=date.today)
    host: str = "127.0.0.1"
    port: int = 0
    # Set as the emulator stops: handlers that hold a request open end then.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        """Return the base URL an SDK client uses."""
        return f"http://{self.host}:{self.port}/v1"

    def queue(self, *replies: Scripted) -> None:
        """Queue replies for the next requests to /responses (and later endpoints)."""
        self.replies.extend(replies)

    def fail_next(self, path: str, *errors: Error) -> None:
        """Answer the next requests to a path (e.g. "/v1/models") with these errors."""
        self.failures.setdefault(path, deque()).extend(errors)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Return the recorded requests to one path."""
        return [r for r in self.requests if r.path == path]

    def gone(self, model: str) -> Error | None:
        """Return OpenAI's answer to a model it has shut down (on the emulator's today)."""
        if (shutdown := self.shutdown_dates.get(model)) is None or shutdown > self.today:
            return None
        return Error(
            404,
            f"The model `{model}` has been deprecated, learn more here: "
            "https://platform.openai.com/docs/deprecations",
            code="model_not_found",
        )
