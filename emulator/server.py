"""The emulator's HTTP server: OpenAI's routes on 127.0.0.1, scripted per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
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
from .flavours import as_served, flavour_problem
from .images_api import IMAGE_BLOB_PATH, drip_blob, image_response, make_png
from .model_rules import invalid_request
from .pacing import Pace
from .realtime_speech_api import serve_realtime
from .replies import Cut, Error, Hang, Reply, Scripted, Text, as_offered
from .responses_api import full_response, stream_events
from .state import EmulatorState, RecordedRequest
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
NO_DEPLOYMENT = "The API deployment for this resource does not exist."
# Replaced by the send time (time.time(), fixed width) as the event leaves the server.
SENT_AT = "__SENT_AT_MARKER__"


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
class OpenAIEmulator(EmulatorState):
    """Serves OpenAI's wire format; replies come from a queue, then from a responder."""

    _runner: web.AppRunner | None = None

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
        request["pace"] = Pace.from_now()  # the service times count from here
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
        if self.image_size is not None and "size" in answer:
            answer["size"] = self.image_size
        if self.image_data is not None:
            answer["data"] = self.image_data
        return web.json_response(answer)

    async def _image_file(self, request: web.Request) -> web.StreamResponse:
        if self.image_blob_latency:
            await asyncio.sleep(self.image_blob_latency)
        if (location := self.image_redirect) is not None:
            self.image_redirect = None
            raise web.HTTPFound(location)
        blob = make_png() if self.image_blob is None else self.image_blob
        if self.image_blob_drip:
            return await drip_blob(request, blob, self.image_blob_drip, self.image_blob_hung_up)
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
        uploaded = Pace.from_now()  # the transcription latency counts from the upload's end
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
            await uploaded.after(self.transcription_latency)
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
            await request["pace"].after(self.speech_latency)
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
            return _azure_error(404, "DeploymentNotFound", NO_DEPLOYMENT)
        if tail.startswith("v1/"):
            route: str | web.Response = "/" + tail.removeprefix("v1/")
        else:
            route = self._azure_versioned(request, tail)
        if isinstance(route, web.Response):
            return route
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

    def _azure_versioned(self, request: web.Request, tail: str) -> str | web.Response:
        """Return the route of a path with an api-version, or Azure's refusal of it."""
        version = request.query.get("api-version")
        if version not in AZURE_API_VERSIONS:
            return _azure_error(404, "404", "Resource not found")
        route = "/" + tail
        if match := AZURE_DEPLOYMENT.fullmatch(tail):
            deployment, route = match.groups()
            if deployment not in self.azure_deployments:
                return _azure_error(404, "DeploymentNotFound", NO_DEPLOYMENT)
            if request["json"] is not None:
                request["json"]["model"] = deployment
        name = str((request["json"] or {}).get("model", ""))
        model = self.azure_models.get(name, name)
        if model != name:  # the model's own rules apply; the record keeps the name
            request["json"] = {**request["json"], "model": model}
        return _azure_version_problem(version, route, model, request["json"] or {}) or route

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
        if (invalid := invalid_request(body)) is not None:
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
        pace: Pace = request["pace"]
        for number, event in enumerate(events):
            if cut_after is not None and number >= cut_after:
                # Drop the connection mid-stream, as a failing proxy would.
                request.transport.close()  # type: ignore[union-attr]
                return response
            if number == 0 and self.first_token:
                await pace.after(self.first_token)
            if self.tokens_per_second and (chars := delta_chars(event)):
                await pace.after(chars / 4 / self.tokens_per_second)
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


def _azure_version_problem(
    version: str, route: str, model: str, body: dict[str, Any]
) -> web.Response | None:
    """Return Azure's refusal of what this API version does not serve, if any."""
    if model.startswith(AZURE_REASONING) and version < REASONING_SINCE:
        return _azure_error(
            400,
            "BadRequest",
            f"Model {model} is enabled only for api versions 2024-12-01-preview and later",
        )
    if route == "/responses" and not AZURE_API_VERSIONS[version]:
        return _azure_error(404, "404", "Resource not found")
    for argument, since in AZURE_ARGUMENTS_SINCE.items():
        if argument in body and version < since:
            return _azure_error(
                400,
                "invalid_request_error",
                f"Unrecognized request argument supplied: {argument}",
            )
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
