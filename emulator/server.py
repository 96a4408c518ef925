"""The emulator's HTTP server: OpenAI's routes on 127.0.0.1, scripted per test."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
import json
import re
import time
from typing import Any

from aiohttp import WSCloseCode, web

from .audio_api import audio_decodes, speech_audio, transcription_problem
from .chat_api import full_completion, stream_chunks
from .decisions_api import decision_problem, decision_response
from .embeddings_api import embeddings_response
from .flavours import Flavour, as_served, flavour_problem
from .images_api import IMAGE_BLOB_PATH, image_response, make_png
from .prompt_cache import PromptCache
from .realtime_api import LiveSession
from .realtime_speech_api import SpeechSession, serve_realtime
from .replayed import IssuedReasoning
from .replies import Cut, Error, Hang, Reply, Scripted, Text, as_offered, default_reply
from .responses_api import full_response, stream_events
from .wire_types import request_problem

# Azure data-plane API versions; True where the version serves /responses.
AZURE_API_VERSIONS = {
    "2024-06-01": False,
    "2024-10-21": False,
    "2025-03-01-preview": True,
    "2025-04-01-preview": True,
}
# Chat Completions arguments Azure refuses in API versions before these dates.
AZURE_ARGUMENTS_SINCE = {"stream_options": "2024-08-01", "max_completion_tokens": "2024-09-01"}
# Reasoning models refuse older API versions, whatever the request (Azure-Samples/
# azure-search-openai-demo#2496: "enabled only for api versions 2024-12-01-preview and later").
AZURE_REASONING = ("o1", "o3", "o4", "gpt-5")
REASONING_SINCE = "2024-12-01"
AZURE_DEPLOYMENT = re.compile(r"deployments/([^/]+)(/.+)")
# Replaced by the send time (time.time(), fixed width) as the event leaves the server.
SENT_AT = "__SENT_AT_MARKER__"
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


def _error_body(err: Error) -> dict[str, Any]:
    return {
        "error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}
    }


def presented_key(path: str, headers: Mapping[str, str]) -> str:
    """Return the API key a request presents (header names are case-insensitive)."""
    lower = {name.lower(): value for name, value in headers.items()}
    key = lower.get("authorization", "").removeprefix("Bearer ")
    if path.startswith("/openai/"):
        key = lower.get("api-key", key)  # Azure's header; v1 also takes Bearer
    return key


def _mask(key: str) -> str:
    return f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"


@dataclass
class OpenAIEmulator:
    """Serves OpenAI's wire format; replies come from a queue, then from a responder."""

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
    _runner: web.AppRunner | None = None

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

    async def start(self) -> None:
        """Start serving on a free port."""
        self.stopping.clear()  # started again after a stop (a refused connection's end)
        app = web.Application(middlewares=[self._record_and_auth])
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/images/generations", self._images)
        app.router.add_get(IMAGE_BLOB_PATH, self._image_file)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_post("/v1/audio/speech", self._speech)
        app.router.add_get("/v1/realtime", partial(serve_realtime, self))
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/v1/decisions", self._decisions)
        app.router.add_route("*", "/openai/{tail:.*}", self._azure)
        app.router.add_get("/emulator/requests", self._recorded)
        app.router.add_get("/emulator/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop serving."""
        self.stopping.set()
        for ws in list(self.open_sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY)
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _record_and_auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
        self.requests.append(
            RecordedRequest(
                request.method, request.path, dict(request.headers), dict(request.query), body
            )
        )
        # The emulator's own API (for benchmarks), and image URLs (signed, so keyless).
        if request.path.startswith("/emulator/") or request.path == IMAGE_BLOB_PATH:
            response: web.StreamResponse = await handler(request)
            return response
        key = presented_key(request.path, request.headers)
        if key not in self.api_keys:
            return web.json_response(
                _error_body(
                    Error(401, f"Incorrect API key provided: {_mask(key)}.", code="invalid_api_key")
                ),
                status=401,
            )
        request["json"] = body
        if failures := self.failures.get(request.path):
            failure = failures.popleft()
            return web.json_response(_error_body(failure), status=failure.status)
        # JSON types, names and enums as the SDK's request types give them (a decimal
        # max_tokens, an unknown key); the model-specific rules follow per route.
        if problem := request_problem(_route(request.path), body):
            invalid = Error(400, problem, code="invalid_request_error")
            return web.json_response(_error_body(invalid), status=400)
        default = "dall-e-2" if request.path.endswith("/images/generations") else ""
        model = body.get("model", default) if isinstance(body, dict) else default
        model = request.query.get("model", model)  # a Realtime session names it in the URL
        if gone := self.gone(model):
            return web.json_response(_error_body(gone), status=404)
        return await handler(request)  # type: ignore[no-any-return]

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

    async def _models(self, request: web.Request) -> web.Response:
        if not self.models_api:
            return web.json_response(_error_body(Error(404, "Not Found")), status=404)
        data = [
            {
                "id": m,
                "object": "model",
                "created": 0,
                "owned_by": "openai",
                "shutdown_date": (d := self.shutdown_dates.get(m)) and d.isoformat(),
            }
            for m in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _images(self, request: web.Request) -> web.Response:
        body = request["json"] or {}
        if self.image_latency:  # image models take tens of seconds
            await asyncio.sleep(self.image_latency)
        if self.image_urls:
            body = {**body, "response_format": "url"}
        answer = image_response(body, self.base_url)
        if self.image_url is not None and "url" in answer["data"][0]:
            answer["data"][0]["url"] = self.image_url
        if self.image_output_format is not None and "output_format" in answer:
            answer["output_format"] = self.image_output_format
        return web.json_response(answer)

    async def _image_file(self, request: web.Request) -> web.Response:
        blob = make_png() if self.image_blob is None else self.image_blob
        return web.Response(body=blob, content_type="image/png")

    async def _recorded(self, request: web.Request) -> web.Response:
        """Return the bodies of the last N requests to a path (to replay them exactly)."""
        path = request.query.get("path", "/v1/responses")
        last = int(request.query.get("last", "1"))
        return web.json_response([r.body for r in self.requests_to(path)[-last:]])

    async def _keys(self, request: web.Request) -> web.Response:
        """Return the path and the API key of every request so far, in order."""
        return web.json_response(
            [{"path": r.path, "key": presented_key(r.path, r.headers)} for r in self.requests]
        )

    async def _embeddings(self, request: web.Request) -> web.Response:
        return web.json_response(embeddings_response(request["json"] or {}))

    async def _decisions(self, request: web.Request) -> web.Response:
        body = request["json"] or {}
        if problem := decision_problem(body):
            return web.json_response(_error_body(Error(400, problem)), status=400)
        return web.json_response(decision_response(body))

    async def _transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        if problem := transcription_problem(form):
            return web.json_response(_error_body(Error(400, problem)), status=400)
        if gone := self.gone(str(form["model"])):  # a form, so the middleware missed it
            return web.json_response(_error_body(gone), status=404)
        upload = form["file"]
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        fields["file"] = {
            "filename": upload.filename,  # type: ignore[union-attr]
            "content_type": upload.content_type,  # type: ignore[union-attr]
            "data": upload.file.read(),  # type: ignore[union-attr]
        }
        self.requests[-1].body = fields
        if not audio_decodes(fields["file"]["filename"], fields["file"]["data"]):
            corrupt = Error(
                400, "Audio file might be corrupted or unsupported", code="invalid_value"
            )
            return web.json_response(_error_body(corrupt), status=400)
        if self.transcription_latency:
            await asyncio.sleep(self.transcription_latency)
        text = self.transcripts.popleft() if self.transcripts else self.default_transcript
        return web.json_response({"text": text})

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        model = str((request["json"] or {}).get("model", ""))
        if model.startswith("gpt-realtime") and not request.path.startswith("/openai/"):
            # OpenAI's realtime models speak only through a Realtime session.
            refused = Error(
                400,
                f"Invalid value: '{model}'. This model is not supported for /v1/audio/speech; "
                "use the Realtime API.",
                code="invalid_value",
            )
            return web.json_response(_error_body(refused), status=400)
        audio = speech_audio(request["json"] or {})
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        if self.speech_latency:
            await asyncio.sleep(self.speech_latency)
        for start in range(0, len(audio), self.speech_chunk_size):
            await response.write(audio[start : start + self.speech_chunk_size])
            if self.speech_chunk_delay:
                await asyncio.sleep(self.speech_chunk_delay)
        await response.write_eof()
        return response

    def _next(self, body: dict[str, Any]) -> Scripted:
        return self.replies.popleft() if self.replies else self.responder(body)

    async def _azure(self, request: web.Request) -> web.StreamResponse:
        """Azure OpenAI: /openai/... with api-version, deployments in the path, or /openai/v1."""
        tail = request.match_info["tail"]
        named = (request["json"] or {}).get("model") if isinstance(request["json"], dict) else None
        if named is not None and named not in self.azure_deployments:
            # Routes without a deployment in the path name it in the body, as `model`.
            return _azure_error(
                404, "DeploymentNotFound", "The API deployment for this resource does not exist."
            )
        if tail.startswith("v1/"):
            route = "/" + tail.removeprefix("v1/")
        else:
            version = request.query.get("api-version")
            if version not in AZURE_API_VERSIONS:
                return _azure_error(404, "404", "Resource not found")
            route = "/" + tail
            if match := AZURE_DEPLOYMENT.fullmatch(tail):
                deployment, route = match.groups()
                if deployment not in self.azure_deployments:
                    return _azure_error(
                        404,
                        "DeploymentNotFound",
                        "The API deployment for this resource does not exist.",
                    )
                if request["json"] is not None:
                    request["json"]["model"] = deployment
            name = str((request["json"] or {}).get("model", ""))
            model = self.azure_models.get(name, name)
            if model != name:  # the model's own rules apply; the record keeps the name
                request["json"] = {**request["json"], "model": model}
            if model.startswith(AZURE_REASONING) and version < REASONING_SINCE:
                return _azure_error(
                    400,
                    "BadRequest",
                    f"Model {model} is enabled only for api versions 2024-12-01-preview and later",
                )
            if route == "/responses" and not AZURE_API_VERSIONS[version]:
                return _azure_error(404, "404", "Resource not found")
            for argument, since in AZURE_ARGUMENTS_SINCE.items():
                if argument in (request["json"] or {}) and version < since:
                    return _azure_error(
                        400,
                        "invalid_request_error",
                        f"Unrecognized request argument supplied: {argument}",
                    )
        handlers = {
            "/models": self._models,
            "/responses": self._responses,
            "/chat/completions": self._chat,
            "/audio/speech": self._speech,
            "/audio/transcriptions": self._transcriptions,
            "/images/generations": self._images,
            "/embeddings": self._embeddings,
        }
        if (handler := handlers.get(route)) is None:
            return _azure_error(404, "404", "Resource not found")
        return await handler(request)

    async def _scripted(self, body: dict[str, Any]) -> Reply | Error | Cut:
        scripted = self._next(body)
        while isinstance(scripted, Hang):
            await asyncio.sleep(scripted.seconds)
            scripted = scripted.then or Reply([Text("late")])
        return scripted

    async def _reply_to(
        self,
        request: web.Request,
        required: str,
        full: Callable[[Reply, str], dict[str, Any]],
        sse: Callable[[Reply, dict[str, Any]], Iterator[str]],
    ) -> web.StreamResponse:
        """Answer a model request: validate, take the scripted reply, send it whole or as SSE."""
        body = request["json"] or {}
        if "model" not in body or required not in body:
            missing = Error(400, f"Missing required parameter: '{required}'.")
            return web.json_response(_error_body(missing), status=400)
        if (invalid := _invalid_request(body)) is not None:
            return web.json_response(_error_body(invalid), status=400)
        if self.context_tokens is not None and (
            (tokens := len(json.dumps(body[required])) // 4) > self.context_tokens
        ):
            too_long = Error(  # llama.cpp's words (seen on the real server)
                400,
                f"request ({tokens} tokens) exceeds the available context size "
                f"({self.context_tokens} tokens), try increasing it",
                code="exceed_context_size_error",
            )
            return web.json_response(_error_body(too_long), status=400)
        if self.flavour is not None:
            if (refused := flavour_problem(self.flavour, self.models, body)) is not None:
                return web.json_response(_error_body(refused), status=refused.status)
            body = as_served(self.flavour, body)
        scripted = await self._scripted(body)
        if isinstance(scripted, Error):
            return web.json_response(_error_body(scripted), status=scripted.status)
        reply, cut_after = _unwrap(scripted)
        reply = as_offered(reply, body)
        if self.flavour is not None and self.flavour.same_tool_index:
            reply = replace(reply, same_tool_index=True)
        if self.count_tokens:
            reply = replace(reply, usage=self.prompt_cache.usage(body, reply.usage[1]))
        if not body.get("stream"):
            return web.json_response(full(reply, body["model"]))
        events = _maybe_malformed(sse(reply, body), reply)
        return await self._stream(request, events, cut_after, reply.chunk_delay)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        if not self.responses_api or (self.flavour is not None and not self.flavour.responses_api):
            return web.json_response(_error_body(Error(404, "Not Found")), status=404)
        if (refused := self.reasoning.problem(request["json"] or {})) is not None:
            return web.json_response(_error_body(refused), status=refused.status)
        return await self._reply_to(request, "input", self._full_response, self._responses_sse)

    def _full_response(self, reply: Reply, model: str) -> dict[str, Any]:
        body = full_response(reply, model)
        self.reasoning.record(json.dumps(body))
        return body

    def _responses_sse(self, reply: Reply, body: dict[str, Any]) -> Iterator[str]:
        for event in _responses_sse(reply, body):
            self.reasoning.record(event)
            yield event

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._reply_to(request, "messages", full_completion, _chat_sse)

    async def _stream(
        self, request: web.Request, events: Iterator[str], cut_after: int | None, delay: float
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for number, event in enumerate(events):
            if cut_after is not None and number >= cut_after:
                # Drop the connection mid-stream, as a failing proxy would.
                request.transport.close()  # type: ignore[union-attr]
                return response
            if number == 0 and self.first_token:
                await asyncio.sleep(self.first_token)
            if self.tokens_per_second and (chars := delta_chars(event)):
                await asyncio.sleep(chars / 4 / self.tokens_per_second)
            if SENT_AT in event:  # lets a benchmark see when this delta left the server
                event = event.replace(
                    SENT_AT, f"{time.time():.6f}".ljust(len(SENT_AT))[: len(SENT_AT)]
                )
            await response.write(event.encode())
            if delay:
                await asyncio.sleep(delay)
        await response.write_eof()
        return response


def delta_chars(event: str) -> int:
    """Return how many characters of text or arguments an SSE event streams."""
    data = event[event.find("data: ") + 6 :].strip()
    if not data.startswith("{"):
        return 0
    payload = json.loads(data)
    if isinstance(delta := payload.get("delta"), str):  # Responses: text and argument deltas
        return len(delta)
    total = 0
    for choice in payload.get("choices") or ():  # Chat Completions
        delta = choice.get("delta") or {}
        total += len(delta.get("content") or "")
        for call in delta.get("tool_calls") or ():
            total += len((call.get("function") or {}).get("arguments") or "")
    return total


def _responses_sse(reply: Reply, body: dict[str, Any]) -> Iterator[str]:
    for number, (kind, payload) in enumerate(stream_events(reply, body["model"])):
        data = json.dumps({"type": kind, "sequence_number": number, **payload})
        yield f"event: {kind}\ndata: {data}\n\n"


def _chat_sse(reply: Reply, body: dict[str, Any]) -> Iterator[str]:
    usage = bool((body.get("stream_options") or {}).get("include_usage"))
    for chunk in stream_chunks(reply, body["model"], usage):
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


def _route(path: str) -> str:
    """Return the API route of a path (/v1/chat/completions, Azure's: /chat/completions)."""
    for prefix in ("/v1", "/openai/v1", "/openai"):
        if path.startswith(prefix + "/"):
            path = path.removeprefix(prefix)
            break
    if match := AZURE_DEPLOYMENT.fullmatch(path.removeprefix("/")):
        path = match.group(2)
    return path


def _azure_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


# Reasoning models refuse sampling parameters ("Unsupported parameter").
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")
PRO_MODE_PREFIXES = ("gpt-5.6", "gpt-5.7", "gpt-5.8", "gpt-5.9", "gpt-6")
SERVICE_TIERS = ("auto", "default", "flex", "priority", "scale")
REASONING_SUMMARIES = ("auto", "concise", "detailed")
REASONING_MODES = ("standard", "pro")
SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _invalid_request(body: dict[str, Any]) -> Error | None:
    """Return the 400 OpenAI would answer this model request with, if any."""
    return (
        _unsupported_parameter(body)
        or _unsupported_cache_retention(body)
        or _invalid_option(body)
        or _invalid_format(body)
        or _invalid_function_parameters(body)
        or _invalid_strict_tool(body)
    )


def _invalid_value(name: str, value: Any) -> Error:
    return Error(
        400, f"Invalid value: '{value}'. Unsupported value for '{name}'.", code="invalid_value"
    )


def _invalid_option(body: dict[str, Any]) -> Error | None:
    """Check the tier, storage and reasoning options as OpenAI does."""
    model = str(body.get("model", ""))
    if "service_tier" in body and body["service_tier"] not in SERVICE_TIERS:
        return _invalid_value("service_tier", body["service_tier"])
    if "store" in body and not isinstance(body["store"], bool):
        return _invalid_value("store", body["store"])
    reasoning = body.get("reasoning") or {}
    summary, mode = reasoning.get("summary"), reasoning.get("mode")
    if summary is not None and summary not in REASONING_SUMMARIES:
        return _invalid_value("reasoning.summary", summary)
    # The o-series does not summarize concisely (core's 2.7 migration rewrites it there).
    if summary == "concise" and model.startswith("o"):
        return _invalid_value("reasoning.summary", summary)
    if mode is not None and (
        mode not in REASONING_MODES or (mode == "pro" and not model.startswith(PRO_MODE_PREFIXES))
    ):
        return _invalid_value("reasoning.mode", mode)
    web_search = any(t.get("type") == "web_search" for t in body.get("tools") or [])
    if web_search and reasoning.get("effort") == "minimal":
        return Error(
            400,
            "The following tools cannot be used with reasoning.effort 'minimal': web_search.",
            code="invalid_value",
        )
    return None


# Reasoning efforts per family, first matching prefix (OpenAI's model pages): an effort a
# model does not take is refused, whichever wire format carries it.
EFFORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gpt-5.6", ("none", "low", "medium", "high", "xhigh", "max")),
    ("gpt-6-luna", ("none", "low", "medium", "high", "xhigh", "max")),
    ("gpt-6.1-terra", ("none", "low", "medium", "high", "xhigh", "max")),
    ("gpt-6", ("low", "medium", "high", "xhigh", "max")),
    *((f"gpt-5.{minor}-pro", ("medium", "high", "xhigh")) for minor in (2, 4, 5)),
    ("gpt-5.1", ("none", "low", "medium", "high")),
    ("gpt-5.", ("none", "low", "medium", "high", "xhigh")),
    ("gpt-5", ("minimal", "low", "medium", "high")),
    ("o", ("low", "medium", "high")),
)


def _unsupported_effort(model: str, body: dict[str, Any]) -> Error | None:
    effort = (body.get("reasoning") or {}).get("effort") or body.get("reasoning_effort")
    efforts = next((e for prefix, e in EFFORTS if model.startswith(prefix)), None)
    if effort is None or efforts is None or effort in efforts:
        return None
    return Error(
        400,
        f"Unsupported value: 'reasoning_effort' does not support '{effort}' with this model. "
        f"Supported values are: {', '.join(repr(e) for e in efforts)}.",
        code="unsupported_value",
    )


def _unsupported_parameter(body: dict[str, Any]) -> Error | None:
    model = str(body.get("model", ""))
    if not model.startswith(REASONING_PREFIXES) or "-chat" in model:
        return None
    if refused := _unsupported_effort(model, body):
        return refused
    if (body.get("reasoning") or {}).get("effort") == "none" and model.startswith(
        ("gpt-5.", "gpt-6")  # GPT-5.1 and newer sample again with reasoning off
    ):
        return None
    for name in ("temperature", "top_p"):
        if name in body:
            return Error(
                400,
                f"Unsupported parameter: '{name}' is not supported with this model.",
                code="unsupported_parameter",
            )
    return None


# Models with in-memory prompt caching only, and the GPT-5.6+ generation, which keeps its
# cache 30 minutes (prompt_cache_options) and takes no retention policy.
NO_CACHE_RETENTION = (
    "o1",
    "o3",
    "o4",
    "gpt-3.5",
    "gpt-4-turbo",
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.6",
    "gpt-6",
)


def _unsupported_cache_retention(body: dict[str, Any]) -> Error | None:
    """Refuse an extended cache retention the model does not have, in OpenAI's words."""
    if body.get("prompt_cache_retention") != "24h":
        return None
    if not str(body.get("model", "")).startswith(NO_CACHE_RETENTION):
        return None
    return Error(
        400,
        "prompt_cache_retention is not supported on this model",
        code="invalid_parameter",
    )


def _invalid_format(body: dict[str, Any]) -> Error | None:
    """Check a json_schema output format as OpenAI does (name, and strict-mode rules)."""
    fmt = (body.get("text") or {}).get("format") or {}
    if (body.get("response_format") or {}).get("type") == "json_schema":
        fmt = body["response_format"].get("json_schema") or {}
    elif fmt.get("type") != "json_schema":
        return None
    name = str(fmt.get("name", ""))
    if not SCHEMA_NAME.match(name):
        return Error(
            400,
            f"Invalid 'name': '{name}'. Expected a string that matches the pattern "
            "'^[a-zA-Z0-9_-]+$' with at most 64 characters.",
            code="invalid_value",
        )
    if fmt.get("strict") and (problem := _strict_problem(fmt.get("schema") or {}, ())):
        return Error(400, f"Invalid schema for response_format '{name}': {problem}")
    return None


# OpenAI (and xAI, OpenRouter's OpenAI route) refuse the whole request when any function's
# parameters are not a plain object at the top level, strict or not.
TOP_LEVEL_REFUSED = ("oneOf", "anyOf", "allOf", "enum", "not")


def _invalid_function_parameters(body: dict[str, Any]) -> Error | None:
    """Check every function tool's top level as OpenAI does, in either wire format."""
    for index, tool in enumerate(body.get("tools") or []):
        if tool.get("type") != "function":
            continue
        nested = "function" in tool
        function = tool["function"] if nested else tool
        parameters = function.get("parameters")
        if parameters is None:
            continue  # a function without parameters is allowed
        name = function.get("name", "")
        param = f"tools[{index}].function.parameters" if nested else f"tools[{index}].parameters"
        kind = parameters.get("type") if isinstance(parameters, dict) else None
        if kind != "object":
            shown = "null" if kind is None else f'"{kind}"'
            message = f"schema must be a JSON Schema of 'type: \"object\"', got 'type: {shown}'."
        elif any(key in parameters for key in TOP_LEVEL_REFUSED):
            message = (
                "schema must have type 'object' and not have "
                "'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level."
            )
        else:
            continue
        return Error(
            400,
            f"Invalid schema for function '{name}': {message}",
            code="invalid_function_parameters",
            param=param,
        )
    return None


def _invalid_strict_tool(body: dict[str, Any]) -> Error | None:
    """Check strict function tools (Responses and Chat Completions shapes) as OpenAI does."""
    for tool in body.get("tools") or []:
        function = tool.get("function", tool) if tool.get("type") == "function" else None
        if not function or not function.get("strict"):
            continue
        if problem := _strict_problem(function.get("parameters") or {}, ()):
            name = function.get("name", "")
            return Error(400, f"Invalid schema for function '{name}': {problem}")
    return None


def _strict_problem(node: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """Return why a schema breaks strict mode's rules, or None."""
    where = f"In context={path}, "
    kind = node.get("type")
    kinds: list[Any] = kind if isinstance(kind, list) else [kind]
    if "enum" in node and "null" in kinds and None not in node["enum"]:
        return where + "'enum' must include null when 'type' includes 'null'."
    if "object" in kinds or "properties" in node:
        properties = node.get("properties") or {}
        if node.get("additionalProperties") is not False:
            return where + "'additionalProperties' is required to be supplied and to be false."
        if missing := [key for key in properties if key not in (node.get("required") or [])]:
            return (
                where + f"'required' must include every key in properties. Missing '{missing[0]}'."
            )
        for key, child in properties.items():
            if problem := _strict_problem(child, (*path, "properties", key)):
                return problem
    if isinstance(items := node.get("items"), dict):
        return _strict_problem(items, (*path, "items"))
    for key in ("anyOf", "oneOf", "allOf"):
        for index, child in enumerate(node.get(key) or []):
            if problem := _strict_problem(child, (*path, key, str(index))):
                return problem
    return None


def _maybe_malformed(events: Iterator[str], reply: Reply) -> Iterator[str]:
    for number, event in enumerate(events):
        if number == reply.malformed_after:
            yield 'data: {"type": "response.output_text.delta", "delta": "unterminated\n\n'
            return
        if number == reply.ends_after:
            return  # a clean end of the stream, only too early
        yield event


def _unwrap(scripted: Reply | Cut) -> tuple[Reply, int | None]:
    if isinstance(scripted, Cut):
        return scripted.reply, scripted.after_events
    return scripted, None
