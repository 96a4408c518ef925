"""The rules both wire formats share, each written once; a format only spells them.

Which history is sent (server-run tools' records left out, every tool call answered), the
user's message, sampling, the structured-output schema, token usage, how a streamed reply
must end, and the turn itself (bound the history, encode files, post, read the stream).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypedDict

import openai
from openai.types.shared_params import FunctionDefinition
from openai.types.shared_params.response_format_json_schema import JSONSchema

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.helpers.json import json_dumps

from ..capabilities import capability_name
from ..const import CONF_MAX_TOKENS, RECOMMENDED_MAX_TOKENS
from ..errors import response_error
from ..files import EncodedFile, FileCache
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
    sampling_params,
    structure_name,
    tool_list,
)

# What a tool call without a recorded result (an interrupted turn) is answered with.
NO_RESULT = json_dumps({"error": "No result was recorded"})


def _server_run(content: conversation.AssistantContent, call: llm.ToolInput) -> bool:
    """Return whether a recorded call is the record of a tool the server ran itself.

    Such a call (a code interpreter run) is external, and its id is that of the server's
    own item, kept as the message's native content.
    """
    return call.external and getattr(content.native, "id", None) == call.id


def without_server_tool_records(
    history: Iterable[conversation.Content],
) -> list[conversation.Content]:
    """Return the history without the records of tools the server ran itself.

    They are there for HA's chat log; to the model they are not function calls it made.
    The server's own item (native) goes back to it instead, where it may.
    """
    kept: list[conversation.Content] = []
    runs: set[str] = set()
    for content in history:
        if isinstance(content, conversation.AssistantContent) and content.tool_calls:
            ran = {call.id for call in content.tool_calls if _server_run(content, call)}
            if ran:
                runs |= ran
                calls = [call for call in content.tool_calls if call.id not in ran]
                content = replace(content, tool_calls=calls or None)
        elif isinstance(content, conversation.ToolResultContent) and content.tool_call_id in runs:
            continue
        kept.append(content)
    return kept


def pair_tool_results[MessageT](
    messages: Iterable[MessageT],
    calls: Callable[[MessageT], list[str]],
    answered: Callable[[MessageT], str | None],
    no_result: Callable[[str], MessageT],
) -> list[MessageT]:
    """Return the messages with every tool call answered right after the calls of its turn.

    Messages that make calls follow one another; their results come next. A call without
    a result gets one saying so, and a result that answers no call before it is dropped:
    servers refuse either, and history from an interrupted turn or another agent must not
    make every later turn fail.

    calls: the ids of the calls a message makes; answered: the id a result answers (None:
    no result); no_result: the result of a call that has none.
    """
    paired: list[MessageT] = []
    pending: list[str] = []
    for message in messages:
        if (call_id := answered(message)) is not None:
            if call_id in pending:
                pending.remove(call_id)
                paired.append(message)
            continue
        if not (made := calls(message)):
            paired.extend(map(no_result, pending))
            pending.clear()
        paired.append(message)
        pending.extend(made)
    paired.extend(map(no_result, pending))
    return paired


def user_parts[PartT](
    content: conversation.UserContent,
    files: Files,
    text: Callable[[str], PartT],
    attachment: Callable[[EncodedFile], PartT],
) -> str | list[PartT]:
    """Return the user's words alone, or as the first part followed by each attached file."""
    if not content.attachments:
        return content.content
    return [text(content.content), *(attachment(files[a.path]) for a in content.attachments)]


class Sampling(TypedDict, total=False):
    """The sampling fields both request types share."""

    temperature: float | None
    top_p: float | None


def add_sampling(params: Sampling, options: Mapping[str, Any], takes_sampling: bool) -> None:
    """Add temperature and top_p where the agent sets them and the model takes them."""
    sampling = sampling_params(options, takes_sampling)
    if "temperature" in sampling:
        params["temperature"] = sampling["temperature"]
    if "top_p" in sampling:
        params["top_p"] = sampling["top_p"]


def serializer(chat_log: conversation.ChatLog) -> Callable[[Any], Any] | None:
    """Return how the LLM API's tools spell their selectors in JSON schema."""
    return chat_log.llm_api.custom_serializer if chat_log.llm_api else None


@dataclass(frozen=True, slots=True)
class Turn:
    """What one request is built from: the chat log, the request, the history to send."""

    chat_log: conversation.ChatLog
    request: TurnRequest
    files: Files
    history: list[conversation.Content]

    @property
    def options(self) -> Mapping[str, Any]:
        """The agent's options."""
        return self.request.options

    @property
    def family(self) -> str:
        """The model's family: what it takes, told by the user where its name cannot tell."""
        return capability_name(self.request.options, self.request.model)

    @property
    def max_tokens(self) -> int:
        """The reply's token budget."""
        # Agents saved by earlier versions hold the selector's float, which HA cannot rewrite.
        return int(self.options.get(CONF_MAX_TOKENS, RECOMMENDED_MAX_TOKENS))

    def functions(self) -> list[FunctionDefinition]:
        """Return the LLM API's tools as function definitions."""
        return [function_spec(t, serializer(self.chat_log)) for t in tool_list(self.chat_log)]

    def json_schema(self) -> JSONSchema | None:
        """Return the strict JSON schema an AI Task's structured reply must fit, if any."""
        if (structure := self.request.structure) is None:
            return None
        return {
            "name": structure_name(self.request),
            "schema": structured_output_schema(structure, serializer(self.chat_log)),
            "strict": True,
        }


def report_usage(
    request: TurnRequest, input_tokens: int, output_tokens: int, cached_tokens: int | None
) -> None:
    """Hand the tokens one response used to the request's owner (the usage sensors)."""
    request.on_usage(TokenUsage(input_tokens, output_tokens, cached_tokens or 0))


class TurnReader[EventT](ABC):
    """Reads one streamed reply: deltas per event, then whether the reply ended well."""

    # What a finished stream carries, named in the error when it never came.
    final_event: ClassVar[str]

    def __init__(self, request: TurnRequest, tool_names: set[str]) -> None:
        """Start reading a reply to this request, which offered these tools."""
        self.request = request
        self.tool_names = tool_names
        self.finished = False
        # The error the reply ended with, raised once the stream is read to its end.
        self.error: HomeAssistantError | None = None

    def opening(self) -> Iterable[Delta]:
        """Return the deltas before the first event."""
        return ()

    @abstractmethod
    def on_event(self, event: EventT) -> Iterable[Delta]:
        """Return the deltas one event makes."""

    def finish(self) -> Iterable[Delta]:
        """Return the deltas held for the end, or raise how the reply failed to end.

        Judged only once the stream is read to its end: an SDK stream left half-read
        lingers until it is collected.
        """
        if self.error is not None:
            raise self.error
        if not self.finished:
            # Closed in order but unfinished (a proxy or an upstream timeout): the text so
            # far is not the answer, and a tool call may be cut short.
            raise response_error("stream_ended_early", self.final_event)
        return self.held()

    def held(self) -> Iterable[Delta]:
        """Return the deltas that wait for a finished reply."""
        return ()


class WireBackend[ParamsT: Mapping[str, Any], EventT](ABC):
    """A backend for one wire format: the turn is the same, the format spells it."""

    # Where the format posts its requests, and the SDK's types of the reply.
    path: ClassVar[str]
    cast_to: ClassVar[type[Any]]
    stream_cls: ClassVar[type[openai.AsyncStream[Any]]]

    def __init__(self, hass: HomeAssistant, client: openai.AsyncOpenAI, *, pdfs: bool) -> None:
        """Initialize; pdfs: the server reads PDF files (OpenAI and Azure; local ones not)."""
        self._hass = hass
        self._client = client
        self._files = FileCache(pdfs=pdfs)

    def build_params(
        self,
        chat_log: conversation.ChatLog,
        request: TurnRequest,
        files: Files,
        history: list[conversation.Content],
    ) -> ParamsT:
        """Return the request body; history: the turns to send, already bounded."""
        return self._body(Turn(chat_log, request, files, history))

    @abstractmethod
    def _body(self, turn: Turn) -> ParamsT:
        """Return the request body of one turn, typed as the SDK types it."""

    def _post(
        self, client: openai.AsyncOpenAI, params: ParamsT
    ) -> Awaitable[openai.AsyncStream[EventT]]:
        return async_stream(client, self.path, params, self.cast_to, self.stream_cls)

    @abstractmethod
    async def _open(self, params: ParamsT, request: TurnRequest) -> openai.AsyncStream[EventT]:
        """Post the request and return its stream."""

    @abstractmethod
    def _reader(self, request: TurnRequest, tool_names: set[str]) -> TurnReader[EventT]:
        """Return a reader for the reply."""

    async def stream_turn(
        self, chat_log: conversation.ChatLog, request: TurnRequest
    ) -> AsyncIterator[Delta]:
        """Send the history once and yield the streamed reply as HA deltas."""
        history = bounded_history(chat_log.content, request.history_tokens)
        files = await encode_attachments(self._hass, self._files, history)
        stream = await self._open(self.build_params(chat_log, request, files, history), request)
        reader = self._reader(request, {tool.name for tool in tool_list(chat_log)})
        for delta in reader.opening():
            yield delta
        async with stream:
            async for event in stream:
                for delta in reader.on_event(event):
                    yield delta
        for delta in reader.finish():
            yield delta
