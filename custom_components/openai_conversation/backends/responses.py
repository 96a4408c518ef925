"""OpenAI Responses API: ChatLog <-> wire format and the stream handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.responses import ResponseReasoningItem, ResponseStreamEvent

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import json_dumps

from ..compat import tool_result_data
from ..const import (
    CONF_CODE_INTERPRETER,
    CONF_MAX_TOKENS,
    CONF_PRO_MODE,
    CONF_REASONING_EFFORT,
    CONF_REASONING_SUMMARY,
    CONF_SERVICE_TIER,
    CONF_STORE_RESPONSES,
    CONF_VERBOSITY,
    CONF_WEB_SEARCH,
    CONF_WEB_SEARCH_CITY,
    CONF_WEB_SEARCH_CONTEXT_SIZE,
    CONF_WEB_SEARCH_COUNTRY,
    CONF_WEB_SEARCH_INLINE_CITATIONS,
    CONF_WEB_SEARCH_REGION,
    CONF_WEB_SEARCH_TIMEZONE,
    CONF_WEB_SEARCH_USER_LOCATION,
    LOGGER,
    NO_CITATIONS_HINT,
    RECOMMENDED_MAX_TOKENS,
    RECOMMENDED_REASONING_EFFORT,
    RECOMMENDED_REASONING_SUMMARY,
    RECOMMENDED_SERVICE_TIER,
    RECOMMENDED_VERBOSITY,
    RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE,
    model_capabilities,
    reasoning_summaries,
)
from ..errors import response_error
from ..files import FileCache
from ..schema import structured_output_schema
from . import (
    Delta,
    Files,
    TokenUsage,
    TurnRequest,
    encode_attachments,
    function_spec,
    parse_tool_call,
    request_timeout,
    sampling_params,
    structure_name,
    tool_list,
)
from .citations import CitationFilter

# Output items the server runs itself; they are replayed to the model as they came.
SERVER_TOOL_ITEMS = frozenset({"web_search_call", "code_interpreter_call", "image_generation_call"})
# How OpenAI says Flex processing has no capacity right now (HTTP 429).
FLEX_UNAVAILABLE = "resource unavailable"


def _message(role: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": text}


def _assistant_items(content: conversation.AssistantContent) -> Iterator[dict[str, Any]]:
    native = content.native
    if isinstance(native, openai.BaseModel) and getattr(native, "type", None) in (
        SERVER_TOOL_ITEMS | {"reasoning"}
    ):
        yield native.to_dict()
    if content.content:
        yield _message("assistant", content.content)
    for call in content.tool_calls or ():
        yield {
            "type": "function_call",
            "call_id": call.id,
            "name": call.tool_name,
            "arguments": json_dumps(call.tool_args),
        }


def _user_message(content: conversation.UserContent, files: Files) -> dict[str, Any]:
    if not content.attachments:
        return _message("user", content.content)
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": content.content}]
    for attachment in content.attachments:
        file = files[attachment.path]
        if file.is_image:
            parts.append({"type": "input_image", "image_url": file.data_url, "detail": "auto"})
        else:
            parts.append({"type": "input_file", "filename": file.name, "file_data": file.data_url})
    return {"type": "message", "role": "user", "content": parts}


def _content_items(content: conversation.Content, files: Files) -> Iterator[dict[str, Any]]:
    """Yield the input items for one piece of chat history."""
    if isinstance(content, conversation.ToolResultContent):
        yield {
            "type": "function_call_output",
            "call_id": content.tool_call_id,
            "output": json_dumps(tool_result_data(content)),
        }
    elif isinstance(content, conversation.AssistantContent):
        yield from _assistant_items(content)
    elif isinstance(content, conversation.UserContent):
        yield _user_message(content, files)
    elif content.content:
        yield _message("developer" if content.role == "system" else content.role, content.content)


def pair_tool_calls(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop outputs without a call and answer calls without an output.

    The API rejects either ("No tool output found for function call"); history from an
    interrupted turn or another agent must never make every later turn fail.
    """
    calls = {i["call_id"] for i in items if i["type"] == "function_call"}
    outputs = {i["call_id"] for i in items if i["type"] == "function_call_output"}
    paired: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "function_call_output" and item["call_id"] not in calls:
            continue
        paired.append(item)
        if item["type"] == "function_call" and item["call_id"] not in outputs:
            paired.append(
                {
                    "type": "function_call_output",
                    "call_id": item["call_id"],
                    "output": json_dumps({"error": "No result was recorded"}),
                }
            )
    return paired


def history_to_input(
    chat_content: Iterable[conversation.Content], files: Files | None = None
) -> list[dict[str, Any]]:
    """Convert the whole chat history to Responses input items."""
    files = files or {}
    return pair_tool_calls([item for c in chat_content for item in _content_items(c, files)])


def _server_tools(options: Any, model: str) -> list[dict[str, Any]]:
    caps = model_capabilities(model)
    tools: list[dict[str, Any]] = []
    if options.get(CONF_WEB_SEARCH) and caps.web_search:
        web_search: dict[str, Any] = {
            "type": "web_search",
            "search_context_size": options.get(
                CONF_WEB_SEARCH_CONTEXT_SIZE, RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE
            ),
        }
        if options.get(CONF_WEB_SEARCH_USER_LOCATION):
            web_search["user_location"] = {
                "type": "approximate",
                "city": options.get(CONF_WEB_SEARCH_CITY, ""),
                "region": options.get(CONF_WEB_SEARCH_REGION, ""),
                "country": options.get(CONF_WEB_SEARCH_COUNTRY, ""),
                "timezone": options.get(CONF_WEB_SEARCH_TIMEZONE, ""),
            }
        tools.append(web_search)
    if options.get(CONF_CODE_INTERPRETER) and caps.code_interpreter:
        tools.append({"type": "code_interpreter", "container": {"type": "auto"}})
    return tools


def _model_params(options: Any, model: str) -> dict[str, Any]:
    """Return the sampling and reasoning parameters the model takes."""
    caps = model_capabilities(model)
    params: dict[str, Any] = {}
    effort = None
    if caps.reasoning:
        effort = options.get(CONF_REASONING_EFFORT, RECOMMENDED_REASONING_EFFORT)
        if effort not in caps.reasoning_efforts:
            # e.g. "minimal" kept from a previous model: fall back to what this one takes.
            effort = "low" if "low" in caps.reasoning_efforts else caps.reasoning_efforts[0]
        reasoning: dict[str, Any] = {"effort": effort}
        summary = options.get(CONF_REASONING_SUMMARY, RECOMMENDED_REASONING_SUMMARY)
        if summary != "off":
            # "concise" kept from a GPT-5 model: the others take "auto" (core's 2.7 rule).
            reasoning["summary"] = (
                summary if summary in reasoning_summaries(model) else RECOMMENDED_REASONING_SUMMARY
            )
        if options.get(CONF_PRO_MODE) and caps.pro_mode:
            reasoning["mode"] = "pro"
        params["reasoning"] = reasoning
        # Without storage the reasoning must travel with the history, encrypted.
        params["include"] = ["reasoning.encrypted_content"]
    params.update(sampling_params(options, caps.takes_sampling(effort)))
    if caps.verbosity:
        params["text"] = {"verbosity": options.get(CONF_VERBOSITY, RECOMMENDED_VERBOSITY)}
    return params


def _openai_params(options: Any, request: TurnRequest) -> dict[str, Any]:
    """Return what only OpenAI's own servers take: storage, tier and the cache key."""
    params: dict[str, Any] = {"store": bool(options.get(CONF_STORE_RESPONSES, False))}
    if (tier := options.get(CONF_SERVICE_TIER, RECOMMENDED_SERVICE_TIER)) != "auto":
        params["service_tier"] = tier
    if request.cache_key:
        # Requests of one agent share their long prefix; the key keeps them on one cache.
        params["prompt_cache_key"] = request.cache_key
    return params


def removes_citations(options: Any, model: str, server_tools: bool) -> bool:
    """Return whether web search citations are to be left out of the reply."""
    return (
        server_tools
        and bool(options.get(CONF_WEB_SEARCH))
        and model_capabilities(model).web_search
        and not options.get(CONF_WEB_SEARCH_INLINE_CITATIONS, False)
    )


def build_params(
    chat_log: conversation.ChatLog,
    request: TurnRequest,
    files: Files | None = None,
    *,
    server_tools: bool = True,
) -> dict[str, Any]:
    """Return the arguments of one streaming responses.create call."""
    options = request.options
    model = request.model
    params: dict[str, Any] = {
        "model": model,
        "input": history_to_input(chat_log.content, files),
        # Agents saved by earlier versions hold the selector's float, which HA cannot rewrite.
        "max_output_tokens": int(options.get(CONF_MAX_TOKENS, RECOMMENDED_MAX_TOKENS)),
        "store": False,
        "stream": True,
        **_model_params(options, model),
    }
    if request.user:
        params["user"] = request.user
    if server_tools:  # OpenAI's own servers
        params.update(_openai_params(options, request))
    serializer = chat_log.llm_api.custom_serializer if chat_log.llm_api else None
    tools = [
        {"type": "function", **function_spec(t, serializer), "strict": False}
        for t in tool_list(chat_log)
    ]
    if server_tools:
        tools += _server_tools(options, model)
    if removes_citations(options, model, server_tools):
        params["input"].insert(1, _message("developer", NO_CITATIONS_HINT))
    if tools:
        params["tools"] = tools
    if request.structure is not None:
        params.setdefault("text", {})["format"] = {
            "type": "json_schema",
            "name": structure_name(request),
            "schema": structured_output_schema(request.structure, serializer),
            "strict": True,
        }
    return params


@dataclass(slots=True)
class _StreamState:
    """What the handlers remember between events of one response."""

    request: TurnRequest
    tool_names: set[str]
    summary_index: int | None = None
    completed: bool = False
    # Cuts web search citations from the text (models do not always obey the hint).
    citations: CitationFilter | None = None
    # A terminal event's error, raised once the stream is read to its end.
    error: HomeAssistantError | None = None


def _on_item_added(state: _StreamState, event: Any) -> Iterable[Delta]:
    if event.item.type in ("message", "reasoning", "function_call"):
        state.summary_index = None
        return ({"role": "assistant"},)
    return ()


def _on_text_delta(state: _StreamState, event: Any) -> Iterable[Delta]:
    text: str = state.citations.feed(event.delta) if state.citations else event.delta
    return ({"content": text},) if text else ()


def _on_summary_delta(state: _StreamState, event: Any) -> Iterable[Delta]:
    # Several summaries of one reasoning item are kept as paragraphs of one thought.
    gap = "\n\n" if state.summary_index not in (None, event.summary_index) else ""
    state.summary_index = event.summary_index
    return ({"thinking_content": gap + event.delta},)


def _on_item_done(state: _StreamState, event: Any) -> Iterable[Delta]:
    item = event.item
    if item.type == "function_call":
        return parse_tool_call(item.call_id, item.name, item.arguments, state.tool_names)
    if item.type == "reasoning":
        # The summary is already in thinking_content; keep the encrypted state only.
        return (
            {
                "native": ResponseReasoningItem(
                    type="reasoning",
                    id=item.id,
                    summary=[],
                    encrypted_content=item.encrypted_content,
                )
            },
        )
    if item.type in SERVER_TOOL_ITEMS:
        return ({"role": "assistant", "native": item},)
    if item.type == "message" and state.citations and (held := state.citations.flush()):
        return ({"content": held},)
    return ()


def _record_usage(state: _StreamState, response: Any) -> None:
    if (usage := response.usage) is None:
        return
    details = usage.input_tokens_details
    state.request.on_usage(
        TokenUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_tokens=details.cached_tokens if details else 0,
        )
    )


def _on_completed(state: _StreamState, event: Any) -> Iterable[Delta]:
    _record_usage(state, event.response)
    state.completed = True
    return ()


def _on_incomplete(state: _StreamState, event: Any) -> Iterable[Delta]:
    _record_usage(state, event.response)
    details = event.response.incomplete_details
    state.error = response_error("response_incomplete", (details and details.reason) or "unknown")
    return ()


def _on_failed(state: _StreamState, event: Any) -> Iterable[Delta]:
    _record_usage(state, event.response)
    error = event.response.error
    state.error = response_error("response_failed", error.message if error else "unknown")
    return ()


def _on_error(state: _StreamState, event: Any) -> Iterable[Delta]:
    state.error = response_error("response_failed", event.message or event.code or "unknown")
    return ()


HANDLERS: dict[str, Callable[[_StreamState, Any], Iterable[Delta]]] = {
    "response.output_item.added": _on_item_added,
    "response.output_text.delta": _on_text_delta,
    "response.reasoning_summary_text.delta": _on_summary_delta,
    "response.output_item.done": _on_item_done,
    "response.completed": _on_completed,
    "response.incomplete": _on_incomplete,
    "response.failed": _on_failed,
    "error": _on_error,
}


class ResponsesBackend:
    """Talks to /responses with streaming."""

    def __init__(
        self, hass: HomeAssistant, client: openai.AsyncOpenAI, *, server_tools: bool = True
    ) -> None:
        """Initialize; server_tools: the server runs web search and code interpreter."""
        self._hass = hass
        self._client = client
        self._server_tools = server_tools
        self._files = FileCache()

    async def _create(
        self, params: dict[str, Any], request: TurnRequest
    ) -> openai.AsyncStream[ResponseStreamEvent]:
        """Start the streamed response; Flex capacity running out falls back to default."""
        client = self._client.with_options(timeout=request_timeout(request))
        flex = params.get("service_tier") == "flex"
        try:
            # Flex out of capacity does not come back within the SDK's retry backoff.
            stream: openai.AsyncStream[ResponseStreamEvent] = await client.with_options(
                max_retries=0 if flex else client.max_retries
            ).responses.create(**params)
        except openai.RateLimitError as err:
            if not flex or FLEX_UNAVAILABLE not in err.message.lower():
                raise
            LOGGER.info("Flex processing is unavailable at the moment; using the default tier")
            stream = await client.responses.create(**{**params, "service_tier": "default"})
        return stream

    async def stream_turn(
        self, chat_log: conversation.ChatLog, request: TurnRequest
    ) -> AsyncIterator[Delta]:
        """Send the history once and yield the streamed reply as HA deltas."""
        files = await encode_attachments(self._hass, self._files, chat_log)
        params = build_params(chat_log, request, files, server_tools=self._server_tools)
        state = _StreamState(
            request,
            {t.name for t in tool_list(chat_log)},
            citations=(
                CitationFilter()
                if removes_citations(request.options, request.model, self._server_tools)
                else None
            ),
        )
        stream = await self._create(params, request)
        async with stream:
            async for event in stream:
                if handler := HANDLERS.get(event.type):
                    for delta in handler(state, event):
                        yield delta
        # Raised only now: an SDK stream left half-read lingers until it is collected.
        if state.error is not None:
            raise state.error
        if not state.completed:
            # Closed in order but unfinished (a proxy or an upstream timeout): the text so
            # far is not the answer.
            raise response_error("stream_ended_early", "response.completed")
