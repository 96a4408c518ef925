"""Chat Completions API (OpenAI-compatible servers): ChatLog <-> messages, stream handling."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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

from ..capabilities import model_capabilities
from ..compat import tool_result_data
from ..errors import response_error
from ..files import EncodedFile
from . import Delta, Files, TurnRequest, parse_tool_call, reasoning_effort, request_client
from .common import (
    NO_RESULT,
    Turn,
    TurnReader,
    WireBackend,
    add_sampling,
    pair_tool_results,
    report_usage,
    user_parts,
    without_server_tool_records,
)


def _text_part(text: str) -> ChatCompletionContentPartParam:
    return {"type": "text", "text": text}


def _file_part(file: EncodedFile) -> ChatCompletionContentPartParam:
    if file.is_image:
        return {"type": "image_url", "image_url": {"url": file.data_url}}
    return {"type": "file", "file": {"filename": file.name, "file_data": file.data_url}}


def _user_message(
    content: conversation.UserContent, files: Files
) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": user_parts(content, files, _text_part, _file_part)}


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


def _calls(message: ChatCompletionMessageParam) -> list[str]:
    if message["role"] != "assistant":
        return []
    return [call["id"] for call in message.get("tool_calls", ())]


def _answered(message: ChatCompletionMessageParam) -> str | None:
    return message["tool_call_id"] if message["role"] == "tool" else None


def _no_result(call_id: str) -> ChatCompletionMessageParam:
    return _tool_message(call_id, NO_RESULT)


def history_to_messages(
    chat_content: Iterable[conversation.Content], files: Files | None = None
) -> list[ChatCompletionMessageParam]:
    """Convert the whole chat history to chat messages."""
    files = files or {}
    messages: list[ChatCompletionMessageParam] = []
    for content in without_server_tool_records(chat_content):
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
    return pair_tool_results(messages, _calls, _answered, _no_result)


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


class _ChatStream(TurnReader[ChatCompletionChunk]):
    """Reads the chunks; assembles tool calls streamed in fragments, by index (or id)."""

    final_event = "finish_reason"

    def __init__(self, request: TurnRequest, tool_names: set[str]) -> None:
        """Start with no call and no finish reason."""
        super().__init__(request, tool_names)
        self.calls: list[_ToolCallParts] = []
        # The call that each index (or id) currently continues.
        self.open_calls: dict[int | str, _ToolCallParts] = {}
        self.finish_reason: str | None = None

    def on_tool_call(self, part: ChoiceDeltaToolCall) -> None:
        """Add a fragment to the call it continues, or start another call."""
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

    def opening(self) -> Iterable[Delta]:
        """Return the one assistant message a chat completion is."""
        return ({"role": "assistant"},)

    def on_event(self, event: ChatCompletionChunk) -> Iterable[Delta]:
        """Return the deltas of one chunk."""
        return self.on_chunk(event)

    def on_chunk(self, chunk: ChatCompletionChunk) -> Iterable[Delta]:
        """Return the text and thinking of a chunk; note its calls, usage and finish."""
        if (usage := chunk.usage) is not None:
            details = usage.prompt_tokens_details
            cached = details.cached_tokens if details else 0
            report_usage(self.request, usage.prompt_tokens, usage.completion_tokens, cached)
        deltas: list[Delta] = []
        for choice in chunk.choices:
            extra = choice.delta.model_extra or {}
            if thinking := extra.get("reasoning_content") or extra.get("reasoning"):
                deltas.append({"thinking_content": thinking})
            if choice.delta.content:
                deltas.append({"content": choice.delta.content})
            for part in choice.delta.tool_calls or ():
                self.on_tool_call(part)
            self._on_finish(choice.finish_reason)
        return deltas

    def _on_finish(self, reason: str | None) -> None:
        # The first reason counts; the usage chunk still follows it.
        if reason is None or self.finish_reason is not None:
            return
        self.finish_reason = reason
        self.finished = True
        if reason in ("length", "content_filter"):
            self.error = response_error("response_incomplete", reason)

    def held(self) -> Iterable[Delta]:
        """Return the calls, whole once the reply has finished."""
        return self.tool_calls()

    def tool_calls(self) -> Iterable[Delta]:
        """Return the finished tool calls; servers that omit ids get generated ones."""
        for call in self.calls:
            yield from parse_tool_call(
                call.id or f"call_{ulid_now()}", call.name, call.arguments, self.tool_names
            )


class ChatCompletionsBackend(WireBackend[CompletionCreateParamsStreaming, ChatCompletionChunk]):
    """Talks to /chat/completions with streaming."""

    path = "/chat/completions"
    cast_to = ChatCompletion
    stream_cls = openai.AsyncStream[ChatCompletionChunk]

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
        # Local servers read images at most; OpenAI's and Azure's read PDFs too.
        super().__init__(hass, client, pdfs=openai_server)
        dated = azure_api_version if azure_api_version and azure_api_version[:1].isdigit() else ""
        modern = openai_server and (not dated or dated >= "2024-09-01")
        self._max_completion_tokens = modern
        self._stream_usage = not dated or dated >= "2024-08-01"

    def _body(self, turn: Turn) -> CompletionCreateParamsStreaming:
        params: CompletionCreateParamsStreaming = {
            "model": turn.request.model,
            "messages": history_to_messages(turn.history, turn.files),
            "stream": True,
        }
        if self._max_completion_tokens:
            params["max_completion_tokens"] = turn.max_tokens
        else:
            params["max_tokens"] = turn.max_tokens
        if self._stream_usage:
            params["stream_options"] = {"include_usage": True}
        caps = model_capabilities(turn.family)
        effort = None
        if caps.reasoning:
            params["reasoning_effort"] = effort = reasoning_effort(
                turn.options, caps.reasoning_efforts
            )
        add_sampling(params, turn.options, caps.takes_sampling(effort))
        if functions := turn.functions():
            params["tools"] = [{"type": "function", "function": f} for f in functions]
        if (schema := turn.json_schema()) is not None:
            params["response_format"] = {"type": "json_schema", "json_schema": schema}
        return params

    async def _open(
        self, params: CompletionCreateParamsStreaming, request: TurnRequest
    ) -> openai.AsyncStream[ChatCompletionChunk]:
        """Post the request; a server without JSON-schema output is asked for plain JSON."""
        client = request_client(self._client, request)
        try:
            return await self._post(client, params)
        except openai.BadRequestError:
            fmt = params.get("response_format")
            if fmt is None or fmt["type"] != "json_schema":
                raise
        # The structure is told to the model in words instead; the caller validates the reply.
        schema = fmt["json_schema"].get("schema", {})
        params["response_format"] = {"type": "json_object"}
        params["messages"] = _with_schema_hint(list(params["messages"]), schema)
        return await self._post(client, params)

    def _reader(self, request: TurnRequest, tool_names: set[str]) -> _ChatStream:
        return _ChatStream(request, tool_names)
