"""Chat Completions API (OpenAI-compatible servers): ChatLog <-> messages, stream handling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field
import json
from typing import cast

import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionAssistantMessageParam,
    ChatCompletionChunk,
    ChatCompletionContentPartParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
    ChatCompletionToolMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall
from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_dumps
from homeassistant.util.ulid import ulid_now

from ..capabilities import capability_name, model_capabilities
from ..compat import tool_result_data
from ..const import CONF_MAX_TOKENS, RECOMMENDED_MAX_TOKENS
from ..errors import response_error
from ..files import FileCache
from ..schema import structured_output_schema
from . import (
    Delta,
    Files,
    TokenUsage,
    TurnRequest,
    async_stream,
    bounded_history,
    encode_attachments,
    function_spec,
    parse_tool_call,
    reasoning_effort,
    request_client,
    sampling_params,
    structure_name,
    tool_list,
)

NO_RESULT = json_dumps({"error": "No result was recorded"})


def _user_message(
    content: conversation.UserContent, files: Files
) -> ChatCompletionUserMessageParam:
    if not content.attachments:
        return {"role": "user", "content": content.content}
    parts: list[ChatCompletionContentPartParam] = [{"type": "text", "text": content.content}]
    for attachment in content.attachments:
        file = files[attachment.path]
        if file.is_image:
            parts.append({"type": "image_url", "image_url": {"url": file.data_url}})
        else:
            parts.append(
                {"type": "file", "file": {"filename": file.name, "file_data": file.data_url}}
            )
    return {"role": "user", "content": parts}


def _append_assistant(
    messages: list[ChatCompletionMessageParam], content: conversation.AssistantContent
) -> None:
    """Add assistant content, merged into the previous assistant message when adjacent.

    Strict chat templates reject two assistant messages in a row.
    """
    calls: list[ChatCompletionMessageFunctionToolCallParam] = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.tool_name, "arguments": json_dumps(call.tool_args)},
        }
        for call in content.tool_calls or ()
    ]
    if not content.content and not calls:
        return
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        text = cast(str | None, last.get("content"))
        last["content"] = (text or "") + (content.content or "") or None
        if calls:
            last["tool_calls"] = [*last.get("tool_calls", ()), *calls]
        return
    message: ChatCompletionAssistantMessageParam = {
        "role": "assistant",
        "content": content.content,
    }
    if calls:
        message["tool_calls"] = calls
    messages.append(message)


def _tool_message(call_id: str, content: str) -> ChatCompletionToolMessageParam:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def pair_tool_messages(
    messages: list[ChatCompletionMessageParam],
) -> list[ChatCompletionMessageParam]:
    """Put each call's tool message right after its assistant message; never an orphan."""
    paired: list[ChatCompletionMessageParam] = []
    pending: list[str] = []

    def answer_pending() -> None:
        paired.extend(_tool_message(call_id, NO_RESULT) for call_id in pending)
        pending.clear()

    for message in messages:
        if message["role"] == "tool":
            if message["tool_call_id"] in pending:
                pending.remove(message["tool_call_id"])
                paired.append(message)
            continue
        answer_pending()
        paired.append(message)
        if message["role"] == "assistant":
            pending.extend(call["id"] for call in message.get("tool_calls", ()))
    answer_pending()
    return paired


def history_to_messages(
    chat_content: Iterable[conversation.Content], files: Files | None = None
) -> list[ChatCompletionMessageParam]:
    """Convert the whole chat history to chat messages."""
    files = files or {}
    messages: list[ChatCompletionMessageParam] = []
    for content in chat_content:
        if isinstance(content, conversation.ToolResultContent):
            messages.append(
                _tool_message(content.tool_call_id, json_dumps(tool_result_data(content)))
            )
        elif isinstance(content, conversation.AssistantContent):
            _append_assistant(messages, content)
        elif isinstance(content, conversation.UserContent):
            messages.append(_user_message(content, files))
        elif content.content:
            messages.append({"role": "system", "content": content.content})
    return pair_tool_messages(messages)


@dataclass(slots=True)
class _ToolCallParts:
    id: str | None = None
    name: str = ""
    arguments: str = ""


def _with_schema_hint(
    messages: list[ChatCompletionMessageParam], schema: dict[str, object]
) -> list[ChatCompletionMessageParam]:
    """Return the messages with the structure spelled out in the (first) system message."""
    hint = f"Answer only with a JSON object that fits this JSON schema: {json_dumps(schema)}"
    if messages and messages[0]["role"] == "system":
        first = messages[0]
        return [{"role": "system", "content": f"{first['content']}\n\n{hint}"}, *messages[1:]]
    return [{"role": "system", "content": hint}, *messages]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@dataclass(slots=True)
class _ChatStream:
    """Assembles tool calls streamed in fragments, by index (or id when missing)."""

    request: TurnRequest
    tool_names: set[str]
    calls: list[_ToolCallParts] = field(default_factory=list)
    # The call that each index (or id) currently continues.
    open_calls: dict[int | str, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None

    def on_tool_call(self, part: ChoiceDeltaToolCall) -> None:
        key = part.index if part.index is not None else (part.id or len(self.calls))
        name = part.function.name if part.function is not None else None
        call = self.open_calls.get(key)
        # Another id, or a name after complete arguments, at one index is another call:
        # Ollama sends every parallel call whole with index 0 (ollama/ollama#15457).
        if (
            call is None
            or (part.id and call.id and part.id != call.id)
            or (name and call.name and _is_json(call.arguments))
        ):
            call = self.open_calls[key] = _ToolCallParts()
            self.calls.append(call)
        call.id = call.id or part.id
        if part.function is not None:
            call.name += name or ""
            call.arguments += part.function.arguments or ""

    def on_chunk(self, chunk: ChatCompletionChunk) -> Iterable[Delta]:
        if chunk.usage is not None:
            details = chunk.usage.prompt_tokens_details
            self.request.on_usage(
                TokenUsage(
                    chunk.usage.prompt_tokens,
                    chunk.usage.completion_tokens,
                    (details.cached_tokens or 0) if details else 0,
                )
            )
        deltas: list[Delta] = []
        for choice in chunk.choices:
            extra = choice.delta.model_extra or {}
            if thinking := extra.get("reasoning_content") or extra.get("reasoning"):
                deltas.append({"thinking_content": thinking})
            if choice.delta.content:
                deltas.append({"content": choice.delta.content})
            for part in choice.delta.tool_calls or ():
                self.on_tool_call(part)
            self.finish_reason = self.finish_reason or choice.finish_reason
        return deltas

    def tool_calls(self) -> Iterable[Delta]:
        """Return the finished tool calls; servers that omit ids get generated ones."""
        for call in self.calls:
            yield from parse_tool_call(
                call.id or f"call_{ulid_now()}", call.name, call.arguments, self.tool_names
            )


def _post(
    client: openai.AsyncOpenAI, params: CompletionCreateParamsStreaming
) -> Awaitable[openai.AsyncStream[ChatCompletionChunk]]:
    return async_stream(
        client, "/chat/completions", params, ChatCompletion, openai.AsyncStream[ChatCompletionChunk]
    )


class ChatCompletionsBackend:
    """Talks to /chat/completions with streaming."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: openai.AsyncOpenAI,
        *,
        openai_server: bool,
        azure_api_version: str | None = None,
    ) -> None:
        """Initialize; OpenAI's own servers name the token budget differently.

        Azure API versions dated before 2024-09-01 refuse max_completion_tokens, and before
        2024-08-01 stream_options (so their streams carry no token usage).
        """
        self._hass = hass
        self._client = client
        # Local servers read images at most; OpenAI's and Azure's read PDFs too.
        self._files = FileCache(pdfs=openai_server)
        dated = azure_api_version if azure_api_version and azure_api_version[:1].isdigit() else ""
        modern = openai_server and (not dated or dated >= "2024-09-01")
        self._max_completion_tokens = modern
        self._stream_usage = not dated or dated >= "2024-08-01"

    def build_params(
        self,
        chat_log: conversation.ChatLog,
        request: TurnRequest,
        files: Files,
        history: list[conversation.Content],
    ) -> CompletionCreateParamsStreaming:
        """Return the arguments of one streaming chat.completions.create call.

        history: the turns to send, already bounded.
        """
        options = request.options
        caps = model_capabilities(capability_name(options, request.model))
        params: CompletionCreateParamsStreaming = {
            "model": request.model,
            "messages": history_to_messages(history, files),
            "stream": True,
        }
        max_tokens = int(options.get(CONF_MAX_TOKENS, RECOMMENDED_MAX_TOKENS))
        if self._max_completion_tokens:
            params["max_completion_tokens"] = max_tokens
        else:
            params["max_tokens"] = max_tokens
        if self._stream_usage:
            params["stream_options"] = {"include_usage": True}
        effort = None
        if caps.reasoning:
            effort = reasoning_effort(options, caps.reasoning_efforts)
            params["reasoning_effort"] = effort
        sampling = sampling_params(options, caps.takes_sampling(effort))
        if "temperature" in sampling:
            params["temperature"] = sampling["temperature"]
        if "top_p" in sampling:
            params["top_p"] = sampling["top_p"]
        serializer = chat_log.llm_api.custom_serializer if chat_log.llm_api else None
        if tools := tool_list(chat_log):
            params["tools"] = [
                {"type": "function", "function": function_spec(t, serializer)} for t in tools
            ]
        if request.structure is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": structure_name(request),
                    "schema": structured_output_schema(request.structure, serializer),
                    "strict": True,
                },
            }
        return params

    async def stream_turn(
        self, chat_log: conversation.ChatLog, request: TurnRequest
    ) -> AsyncIterator[Delta]:
        """Send the history once and yield the streamed reply as HA deltas."""
        history = bounded_history(chat_log.content, request.history_tokens)
        files = await encode_attachments(self._hass, self._files, history)
        params = self.build_params(chat_log, request, files, history)
        client = request_client(self._client, request)
        try:
            stream = await _post(client, params)
        except openai.BadRequestError:
            fmt = params.get("response_format")
            if fmt is None or fmt["type"] != "json_schema":
                raise
            # Servers without JSON-schema output: ask for plain JSON, and tell the model the
            # structure in words instead; the caller validates the reply.
            schema = fmt["json_schema"].get("schema", {})
            params["response_format"] = {"type": "json_object"}
            params["messages"] = _with_schema_hint(list(params["messages"]), schema)
            stream = await _post(client, params)
        state = _ChatStream(request, {t.name for t in tool_list(chat_log)})
        yield {"role": "assistant"}
        async with stream:
            async for chunk in stream:
                for delta in state.on_chunk(chunk):
                    yield delta
        # Judged once the stream is read to its end: the usage chunk still follows the
        # finish_reason, and an SDK stream left half-read lingers until collected.
        if state.finish_reason is None:
            # Closed in order but unfinished (a proxy or an upstream timeout): the text so
            # far is not the answer, and a tool call may be cut short.
            raise response_error("stream_ended_early", "finish_reason")
        if state.finish_reason in ("length", "content_filter"):
            raise response_error("response_incomplete", state.finish_reason)
        for delta in state.tool_calls():
            yield delta
