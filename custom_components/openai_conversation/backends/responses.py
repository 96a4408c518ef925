"""OpenAI Responses API: ChatLog -> the request (the stream is read in responses_stream)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, cast

import openai
from openai.types.responses import (
    EasyInputMessageParam,
    Response,
    ResponseFunctionToolCallParam,
    ResponseInputContentParam,
    ResponseInputItemParam,
    ResponseStreamEvent,
    ToolParam,
    WebSearchToolParam,
)
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming
from openai.types.responses.response_input_item_param import FunctionCallOutput
from openai.types.shared_params import Reasoning
from openai.types.shared_params.response_format_json_schema import JSONSchema

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
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
    RECOMMENDED_REASONING_SUMMARY,
    RECOMMENDED_SERVICE_TIER,
    RECOMMENDED_VERBOSITY,
    RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE,
)
from ..files import EncodedFile
from . import Files, TurnRequest, clock_last, reasoning_effort, request_client
from .citations import CitationFilter
from .common import (
    NO_RESULT,
    Turn,
    WireBackend,
    add_sampling,
    pair_tool_results,
    user_parts,
    without_server_tool_records,
)
from .replay import ProducedItems, Replayable, replay_all, replayable
from .responses_stream import SERVER_TOOL_ITEMS, ResponsesReader

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


def _text_part(text: str) -> ResponseInputContentParam:
    return {"type": "input_text", "text": text}


def _file_part(file: EncodedFile) -> ResponseInputContentParam:
    if file.is_image:
        return {"type": "input_image", "image_url": file.data_url, "detail": "auto"}
    return {"type": "input_file", "filename": file.name, "file_data": file.data_url}


def _user_message(content: conversation.UserContent, files: Files) -> EasyInputMessageParam:
    return {
        "type": "message",
        "role": "user",
        "content": user_parts(content, files, _text_part, _file_part),
    }


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


def _calls(item: ResponseInputItemParam) -> list[str]:
    return [cast(str, item.get("call_id"))] if item.get("type") == "function_call" else []


def _answered(item: ResponseInputItemParam) -> str | None:
    return cast(str, item.get("call_id")) if item.get("type") == "function_call_output" else None


def _no_result(call_id: str) -> ResponseInputItemParam:
    return _function_output(call_id, NO_RESULT)


def history_to_input(
    chat_content: Iterable[conversation.Content],
    files: Files | None = None,
    replay: Replayable = replay_all,
) -> list[ResponseInputItemParam]:
    """Convert the whole chat history to Responses input items.

    replay: whether a server-made item (reasoning, a server tool's call) goes back.
    """
    files = files or {}
    history = without_server_tool_records(chat_content)
    items = [item for c in history for item in _content_items(c, files, replay)]
    return pair_tool_results(items, _calls, _answered, _no_result)


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


def _add_tools(params: ResponseCreateParamsStreaming, tools: list[ToolParam]) -> None:
    """Add the tools; a code interpreter's outputs are asked for, to record its result."""
    if not tools:
        return
    params["tools"] = tools
    if any(tool["type"] == "code_interpreter" for tool in tools):
        params["include"] = [*(params.get("include") or ()), "code_interpreter_call.outputs"]


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
    add_sampling(params, options, caps.takes_sampling(effort))
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


def _tools(turn: Turn, server_tools: bool) -> list[ToolParam]:
    tools: list[ToolParam] = [
        {
            "type": "function",
            "name": spec["name"],
            "description": spec.get("description"),
            "parameters": spec.get("parameters"),
            "strict": False,
        }
        for spec in turn.functions()
    ]
    if server_tools:
        tools += _server_tools(turn.options, turn.family)
    return tools


def _add_structure(params: ResponseCreateParamsStreaming, schema: JSONSchema | None) -> None:
    if schema is not None:
        params.setdefault("text", {})["format"] = {
            "type": "json_schema",
            "name": schema["name"],
            "schema": schema.get("schema", {}),
            "strict": True,
        }


class ResponsesBackend(WireBackend[ResponseCreateParamsStreaming, ResponseStreamEvent]):
    """Talks to /responses with streaming."""

    path = "/responses"
    cast_to = Response
    stream_cls = openai.AsyncStream[ResponseStreamEvent]

    def __init__(
        self,
        hass: HomeAssistant,
        client: openai.AsyncOpenAI,
        *,
        server_tools: bool,
        pdfs: bool,
    ) -> None:
        """Initialize for one server.

        server_tools: the server is OpenAI's own (server-side tools, storage, cache keys).
        pdfs: the server reads PDF files (OpenAI and Azure; local servers do not).
        """
        super().__init__(hass, client, pdfs=pdfs)
        self.server_tools = server_tools
        # Only the items this server made go back to it.
        self.produced = ProducedItems()

    def _body(self, turn: Turn) -> ResponseCreateParamsStreaming:
        request, options, family = turn.request, turn.options, turn.family
        params: ResponseCreateParamsStreaming = {
            "model": request.model,
            "input": self._input(turn.history, turn.files, options, family),
            "max_output_tokens": turn.max_tokens,
            "store": False,
            "stream": True,
        }
        _add_model_params(params, options, family)
        if self.server_tools:  # OpenAI's own servers
            _add_openai_params(params, request)
        elif request.user:
            params["user"] = request.user
        _add_tools(params, _tools(turn, self.server_tools))
        _add_structure(params, turn.json_schema())
        return params

    def _input(
        self,
        history: list[conversation.Content],
        files: Files,
        options: Mapping[str, Any],
        family: str,
    ) -> list[ResponseInputItemParam]:
        """Return the input items: the history, the hint against citations, then the clock."""
        clock = None
        if self.server_tools:  # OpenAI caches prompt prefixes per agent (prompt_cache_key)
            history, clock = clock_last(history)
        items = history_to_input(history, files, replayable(family, self.produced.made))
        if removes_citations(options, family, self.server_tools):
            items.insert(1, _message("developer", NO_CITATIONS_HINT))
        if clock:
            items.append(_message("developer", clock))
        return items

    async def _open(
        self, params: ResponseCreateParamsStreaming, request: TurnRequest
    ) -> openai.AsyncStream[ResponseStreamEvent]:
        """Start the streamed response; Flex capacity running out falls back to default."""
        client = request_client(self._client, request)
        flex = params.get("service_tier") == "flex"
        try:
            # Flex out of capacity does not come back within the SDK's retry backoff.
            retries = 0 if flex else client.max_retries
            return await self._post(client.with_options(max_retries=retries), params)
        except openai.RateLimitError as err:
            if not flex or FLEX_UNAVAILABLE not in err.message.lower():
                raise
            LOGGER.info("Flex processing is unavailable at the moment; using the default tier")
            return await self._post(client, {**params, "service_tier": "default"})

    def _reader(self, request: TurnRequest, tool_names: set[str]) -> ResponsesReader:
        family = capability_name(request.options, request.model)
        return ResponsesReader(
            request,
            tool_names,
            citations=(
                CitationFilter()
                if removes_citations(request.options, family, self.server_tools)
                else None
            ),
            remember=self.produced.remember,
        )
