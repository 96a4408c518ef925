"""OpenAI Responses API: ChatLog <-> wire format and the stream handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import openai
from openai.types.responses import (
    EasyInputMessageParam,
    Response,
    ResponseCompletedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionToolCall,
    ResponseFunctionToolCallParam,
    ResponseIncompleteEvent,
    ResponseInputContentParam,
    ResponseInputItemParam,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ToolParam,
    WebSearchToolParam,
)
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming
from openai.types.responses.response_input_item_param import FunctionCallOutput
from openai.types.shared_params import Reasoning

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import json_dumps

from ..capabilities import (
    EXTENDED_CACHE_RETENTION,
    capability_name,
    model_capabilities,
    reasoning_summaries,
    service_tiers,
    takes_cache_retention,
)
from ..compat import pro_mode, tool_result_data
from ..const import (
    CONF_CODE_INTERPRETER,
    CONF_MAX_TOKENS,
    CONF_PRO_MODE,
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
    RECOMMENDED_REASONING_SUMMARY,
    RECOMMENDED_SERVICE_TIER,
    RECOMMENDED_VERBOSITY,
    RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE,
)
from ..errors import ResponseFailedError, response_error
from ..files import FileCache
from ..schema import structured_output_schema
from . import (
    Delta,
    Files,
    TokenUsage,
    TurnRequest,
    async_stream,
    bounded_history,
    clock_last,
    encode_attachments,
    function_spec,
    parse_tool_call,
    reasoning_effort,
    request_client,
    sampling_params,
    structure_name,
    tool_list,
)
from .citations import CitationFilter
from .replay import ProducedItems, Replayable, replay_all, replayable

# Output items the server runs itself; they are replayed to the model as they came.
SERVER_TOOL_ITEMS = frozenset({"web_search_call", "code_interpreter_call", "image_generation_call"})
# How OpenAI says Flex processing has no capacity right now (HTTP 429).
FLEX_UNAVAILABLE = "resource unavailable"


def _message(role: Literal["user", "assistant", "developer"], text: str) -> EasyInputMessageParam:
    return {"type": "message", "role": role, "content": text}


def _assistant_items(
    content: conversation.AssistantContent, replay: Replayable
) -> Iterator[ResponseInputItemParam]:
    native = content.native
    if (
        isinstance(native, openai.BaseModel)
        and getattr(native, "type", None) in (SERVER_TOOL_ITEMS | {"reasoning"})
        and replay(native)
    ):
        # Replayed as the server sent it: its output model is also its input shape.
        yield cast(ResponseInputItemParam, native.to_dict())
    if content.content:
        yield _message("assistant", content.content)
    for call in content.tool_calls or ():
        yield _function_call(call.id, call.tool_name, json_dumps(call.tool_args))


def _function_call(call_id: str, name: str, arguments: str) -> ResponseFunctionToolCallParam:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def _function_output(call_id: str, output: str) -> FunctionCallOutput:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def _user_message(content: conversation.UserContent, files: Files) -> EasyInputMessageParam:
    if not content.attachments:
        return _message("user", content.content)
    parts: list[ResponseInputContentParam] = [{"type": "input_text", "text": content.content}]
    for attachment in content.attachments:
        file = files[attachment.path]
        if file.is_image:
            parts.append({"type": "input_image", "image_url": file.data_url, "detail": "auto"})
        else:
            parts.append({"type": "input_file", "filename": file.name, "file_data": file.data_url})
    return {"type": "message", "role": "user", "content": parts}


def _content_items(
    content: conversation.Content, files: Files, replay: Replayable
) -> Iterator[ResponseInputItemParam]:
    """Yield the input items for one piece of chat history."""
    if isinstance(content, conversation.ToolResultContent):
        yield _function_output(content.tool_call_id, json_dumps(tool_result_data(content)))
    elif isinstance(content, conversation.AssistantContent):
        yield from _assistant_items(content, replay)
    elif isinstance(content, conversation.UserContent):
        yield _user_message(content, files)
    elif content.content:
        yield _message("developer", content.content)


def _call_id(item: ResponseInputItemParam, kind: str) -> str | None:
    """Return the call id of a function call or output item of that kind."""
    if item.get("type") != kind:
        return None
    return cast(str, item.get("call_id"))


def pair_tool_calls(items: list[ResponseInputItemParam]) -> list[ResponseInputItemParam]:
    """Drop outputs without a call and answer calls without an output.

    The API rejects either ("No tool output found for function call"); history from an
    interrupted turn or another agent must never make every later turn fail.
    """
    calls = {_call_id(i, "function_call") for i in items} - {None}
    outputs = {_call_id(i, "function_call_output") for i in items} - {None}
    paired: list[ResponseInputItemParam] = []
    for item in items:
        if (output_id := _call_id(item, "function_call_output")) and output_id not in calls:
            continue
        paired.append(item)
        if (call_id := _call_id(item, "function_call")) and call_id not in outputs:
            paired.append(
                _function_output(call_id, json_dumps({"error": "No result was recorded"}))
            )
    return paired


def history_to_input(
    chat_content: Iterable[conversation.Content],
    files: Files | None = None,
    replay: Replayable = replay_all,
) -> list[ResponseInputItemParam]:
    """Convert the whole chat history to Responses input items.

    replay: whether a server-made item (reasoning, a server tool's call) goes back.
    """
    files = files or {}
    items = [item for c in chat_content for item in _content_items(c, files, replay)]
    return pair_tool_calls(items)


def _web_search(options: Mapping[str, Any]) -> WebSearchToolParam:
    tool: WebSearchToolParam = {
        "type": "web_search",
        "search_context_size": options.get(
            CONF_WEB_SEARCH_CONTEXT_SIZE, RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE
        ),
    }
    if options.get(CONF_WEB_SEARCH_USER_LOCATION):
        tool["user_location"] = {
            "type": "approximate",
            "city": options.get(CONF_WEB_SEARCH_CITY, ""),
            "region": options.get(CONF_WEB_SEARCH_REGION, ""),
            "country": options.get(CONF_WEB_SEARCH_COUNTRY, ""),
            "timezone": options.get(CONF_WEB_SEARCH_TIMEZONE, ""),
        }
    return tool


def _server_tools(options: Mapping[str, Any], family: str) -> list[ToolParam]:
    caps = model_capabilities(family)
    tools: list[ToolParam] = []
    if options.get(CONF_WEB_SEARCH) and caps.web_search:
        tools.append(_web_search(options))
    if options.get(CONF_CODE_INTERPRETER) and caps.code_interpreter:
        tools.append({"type": "code_interpreter", "container": {"type": "auto"}})
    return tools


def _reasoning(options: Mapping[str, Any], family: str) -> Reasoning:
    """Return the reasoning settings the model (of this family) takes."""
    caps = model_capabilities(family)
    reasoning: Reasoning = {"effort": reasoning_effort(options, caps.reasoning_efforts)}
    summary = options.get(CONF_REASONING_SUMMARY, RECOMMENDED_REASONING_SUMMARY)
    if summary != "off":
        # "concise" kept from a GPT-5 model: the others take "auto" (core's 2.7 rule).
        reasoning["summary"] = (
            summary if summary in reasoning_summaries(family) else RECOMMENDED_REASONING_SUMMARY
        )
    if options.get(CONF_PRO_MODE) and caps.pro_mode:
        reasoning = pro_mode(reasoning)
    return reasoning


def _add_model_params(
    params: ResponseCreateParamsStreaming, options: Mapping[str, Any], family: str
) -> None:
    """Add the sampling and reasoning parameters the model (of this family) takes."""
    caps = model_capabilities(family)
    effort = None
    if caps.reasoning:
        params["reasoning"] = reasoning = _reasoning(options, family)
        effort = reasoning.get("effort")
        # Without storage the reasoning must travel with the history, encrypted.
        params["include"] = ["reasoning.encrypted_content"]
    sampling = sampling_params(options, caps.takes_sampling(effort))
    if "temperature" in sampling:
        params["temperature"] = sampling["temperature"]
    if "top_p" in sampling:
        params["top_p"] = sampling["top_p"]
    if caps.verbosity:
        params["text"] = {"verbosity": options.get(CONF_VERBOSITY, RECOMMENDED_VERBOSITY)}


def _add_openai_params(params: ResponseCreateParamsStreaming, request: TurnRequest) -> None:
    """Add what only OpenAI's own servers take: storage, tier and the cache key."""
    options = request.options
    params["store"] = bool(options.get(CONF_STORE_RESPONSES, False))
    tier = options.get(CONF_SERVICE_TIER, RECOMMENDED_SERVICE_TIER)
    if tier != "auto" and tier in service_tiers(request.model):
        params["service_tier"] = tier
    if request.cache_key:
        # Requests of one agent share their long prefix; the key keeps them on one cache.
        params["prompt_cache_key"] = request.cache_key
    if takes_cache_retention(request.model):
        params["prompt_cache_retention"] = EXTENDED_CACHE_RETENTION
    if request.user:
        # Who asks (the conversation), for OpenAI's abuse checks; it replaced `user`.
        params["safety_identifier"] = request.user[:64]


def removes_citations(options: Mapping[str, Any], family: str, server_tools: bool) -> bool:
    """Return whether web search citations are to be left out of the reply."""
    return (
        server_tools
        and bool(options.get(CONF_WEB_SEARCH))
        and model_capabilities(family).web_search
        and not options.get(CONF_WEB_SEARCH_INLINE_CITATIONS, False)
    )


def _tools(
    chat_log: conversation.ChatLog, request: TurnRequest, family: str, server_tools: bool
) -> list[ToolParam]:
    serializer = chat_log.llm_api.custom_serializer if chat_log.llm_api else None
    tools: list[ToolParam] = []
    for tool in tool_list(chat_log):
        spec = function_spec(tool, serializer)
        tools.append(
            {
                "type": "function",
                "name": spec["name"],
                "description": spec.get("description"),
                "parameters": spec.get("parameters"),
                "strict": False,
            }
        )
    if server_tools:
        tools += _server_tools(request.options, family)
    return tools


def build_params(
    chat_log: conversation.ChatLog,
    request: TurnRequest,
    files: Files | None = None,
    *,
    server_tools: bool,
    history: list[conversation.Content] | None = None,
    produced: Callable[[str], bool] | None = None,
) -> ResponseCreateParamsStreaming:
    """Return the arguments of one streaming responses.create call.

    server_tools: the server is OpenAI's own (server-side tools, storage, cache keys).
    history: the turns to send, when the caller has bounded them already.
    produced: whether this server made the item of that id (None: take all as its own).
    """
    options = request.options
    # What the model takes is told by its family where its name cannot tell.
    family = capability_name(options, request.model)
    if history is None:
        history = bounded_history(chat_log.content, request.history_tokens)
    clock = None
    if server_tools:  # OpenAI's servers cache prompt prefixes per agent (prompt_cache_key)
        history, clock = clock_last(history)
    items = history_to_input(history, files, replayable(family, produced))
    if removes_citations(options, family, server_tools):
        items.insert(1, _message("developer", NO_CITATIONS_HINT))
    if clock:
        items.append(_message("developer", clock))
    params: ResponseCreateParamsStreaming = {
        "model": request.model,
        "input": items,
        # Agents saved by earlier versions hold the selector's float, which HA cannot rewrite.
        "max_output_tokens": int(options.get(CONF_MAX_TOKENS, RECOMMENDED_MAX_TOKENS)),
        "store": False,
        "stream": True,
    }
    _add_model_params(params, options, family)
    if server_tools:  # OpenAI's own servers
        _add_openai_params(params, request)
    elif request.user:
        params["user"] = request.user
    if tools := _tools(chat_log, request, family, server_tools):
        params["tools"] = tools
    if request.structure is not None:
        serializer = chat_log.llm_api.custom_serializer if chat_log.llm_api else None
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
    # Called with the id of each item the server made that may go back to it.
    remember: Callable[[str], None] = lambda _item_id: None


def _on_item_added(state: _StreamState, event: ResponseOutputItemAddedEvent) -> Iterable[Delta]:
    if event.item.type in ("message", "reasoning", "function_call"):
        state.summary_index = None
        return ({"role": "assistant"},)
    return ()


def _on_text_delta(state: _StreamState, event: ResponseTextDeltaEvent) -> Iterable[Delta]:
    text = state.citations.feed(event.delta) if state.citations else event.delta
    return ({"content": text},) if text else ()


def _on_summary_delta(
    state: _StreamState, event: ResponseReasoningSummaryTextDeltaEvent
) -> Iterable[Delta]:
    # Several summaries of one reasoning item are kept as paragraphs of one thought.
    gap = "\n\n" if state.summary_index not in (None, event.summary_index) else ""
    state.summary_index = event.summary_index
    return ({"thinking_content": gap + event.delta},)


def _on_item_done(state: _StreamState, event: ResponseOutputItemDoneEvent) -> Iterable[Delta]:
    item = event.item
    if isinstance(item, ResponseFunctionToolCall):
        return parse_tool_call(item.call_id, item.name, item.arguments, state.tool_names)
    if isinstance(item, ResponseReasoningItem):
        state.remember(item.id)
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
        state.remember(item.id or "")
        return ({"role": "assistant", "native": item},)
    if (
        isinstance(item, ResponseOutputMessage)
        and state.citations
        and (held := state.citations.flush())
    ):
        return ({"content": held},)
    return ()


def _record_usage(state: _StreamState, response: Response) -> None:
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


def _on_completed(state: _StreamState, event: ResponseCompletedEvent) -> Iterable[Delta]:
    _record_usage(state, event.response)
    state.completed = True
    return ()


def _on_incomplete(state: _StreamState, event: ResponseIncompleteEvent) -> Iterable[Delta]:
    _record_usage(state, event.response)
    details = event.response.incomplete_details
    state.error = response_error("response_incomplete", (details and details.reason) or "unknown")
    return ()


def _on_failed(state: _StreamState, event: ResponseFailedEvent) -> Iterable[Delta]:
    _record_usage(state, event.response)
    error = event.response.error
    state.error = ResponseFailedError(
        error.message if error else "unknown", str(error.code) if error else None
    )
    return ()


def _on_error(state: _StreamState, event: ResponseErrorEvent) -> Iterable[Delta]:
    state.error = ResponseFailedError(event.message or event.code or "unknown", event.code)
    return ()


def handle_event(state: _StreamState, event: ResponseStreamEvent) -> Iterable[Delta]:
    """Return the deltas one stream event makes; events not handled here make none."""
    match event:
        case ResponseOutputItemAddedEvent():
            return _on_item_added(state, event)
        case ResponseTextDeltaEvent():
            return _on_text_delta(state, event)
        case ResponseReasoningSummaryTextDeltaEvent():
            return _on_summary_delta(state, event)
        case ResponseOutputItemDoneEvent():
            return _on_item_done(state, event)
        case ResponseCompletedEvent():
            return _on_completed(state, event)
        case ResponseIncompleteEvent():
            return _on_incomplete(state, event)
        case ResponseFailedEvent():
            return _on_failed(state, event)
        case ResponseErrorEvent():
            return _on_error(state, event)
    return ()


def _post(
    client: openai.AsyncOpenAI, params: ResponseCreateParamsStreaming
) -> Awaitable[openai.AsyncStream[ResponseStreamEvent]]:
    return async_stream(
        client, "/responses", params, Response, openai.AsyncStream[ResponseStreamEvent]
    )


class ResponsesBackend:
    """Talks to /responses with streaming."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: openai.AsyncOpenAI,
        *,
        server_tools: bool,
        pdfs: bool,
    ) -> None:
        """Initialize; server_tools: the server runs web search and code interpreter.

        pdfs: the server reads PDF files (OpenAI and Azure; local servers do not).
        """
        self._hass = hass
        self._client = client
        self._server_tools = server_tools
        self._files = FileCache(pdfs=pdfs)
        # Only the items this server made go back to it.
        self._produced = ProducedItems()

    async def _create(
        self, params: ResponseCreateParamsStreaming, request: TurnRequest
    ) -> openai.AsyncStream[ResponseStreamEvent]:
        """Start the streamed response; Flex capacity running out falls back to default."""
        client = request_client(self._client, request)
        flex = params.get("service_tier") == "flex"
        try:
            # Flex out of capacity does not come back within the SDK's retry backoff.
            retries = 0 if flex else client.max_retries
            return await _post(client.with_options(max_retries=retries), params)
        except openai.RateLimitError as err:
            if not flex or FLEX_UNAVAILABLE not in err.message.lower():
                raise
            LOGGER.info("Flex processing is unavailable at the moment; using the default tier")
            return await _post(client, {**params, "service_tier": "default"})

    async def stream_turn(
        self, chat_log: conversation.ChatLog, request: TurnRequest
    ) -> AsyncIterator[Delta]:
        """Send the history once and yield the streamed reply as HA deltas."""
        history = bounded_history(chat_log.content, request.history_tokens)
        files = await encode_attachments(self._hass, self._files, history)
        params = build_params(
            chat_log,
            request,
            files,
            server_tools=self._server_tools,
            history=history,
            produced=self._produced.made,
        )
        state = _StreamState(
            request,
            {t.name for t in tool_list(chat_log)},
            remember=self._produced.remember,
            citations=(
                CitationFilter()
                if removes_citations(
                    request.options,
                    capability_name(request.options, request.model),
                    self._server_tools,
                )
                else None
            ),
        )
        stream = await self._create(params, request)
        async with stream:
            async for event in stream:
                for delta in handle_event(state, event):
                    yield delta
        # Raised only now: an SDK stream left half-read lingers until it is collected.
        if state.error is not None:
            raise state.error
        if not state.completed:
            # Closed in order but unfinished (a proxy or an upstream timeout): the text so
            # far is not the answer.
            raise response_error("stream_ended_early", "response.completed")
