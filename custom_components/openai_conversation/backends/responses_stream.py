"""OpenAI Responses API: the stream's events to HA deltas, one small handler per event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, cast

from openai.types.responses import (
    Response,
    ResponseCodeInterpreterToolCall,
    ResponseCompletedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionToolCall,
    ResponseFunctionWebSearch,
    ResponseIncompleteEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
)

from homeassistant.helpers import llm
from homeassistant.util.json import JsonObjectType, JsonValueType

from ..compat import tool_result_delta
from ..errors import ResponseFailedError, response_error
from . import Delta, TurnRequest, parse_tool_call
from .citations import CitationFilter
from .common import TurnReader, report_usage

# Output items the server runs itself; they are replayed to the model as they came.
SERVER_TOOL_ITEMS = frozenset({"web_search_call", "code_interpreter_call", "image_generation_call"})
# The names under which HA's chat log records a code interpreter run and a web search
# (core's too).
CODE_INTERPRETER = "code_interpreter"
WEB_SEARCH = "web_search_call"


def _code_interpreter_run(item: ResponseCodeInterpreterToolCall) -> Iterable[Delta]:
    """Record a run the server made as an external tool call with its result (as core).

    The item itself stays the message's native content: it is what goes back to the server.
    """
    outputs = None if item.outputs is None else [o.to_dict() for o in item.outputs]
    call = llm.ToolInput(
        tool_name=CODE_INTERPRETER, tool_args={"code": item.code or ""}, id=item.id, external=True
    )
    return (
        {"role": "assistant", "native": item},
        {"tool_calls": [call]},
        tool_result_delta(
            item.id,
            CODE_INTERPRETER,
            {
                "container_id": item.container_id,
                "output": cast(JsonValueType, outputs),
                "status": item.status,
            },
            error=item.status == "failed",
        ),
    )


def _web_search_run(item: ResponseFunctionWebSearch) -> Iterable[Delta]:
    """Record a search the server made as an external tool call with its status (as core).

    The item itself stays the message's native content: it is what goes back to the server.
    """
    action = cast(JsonObjectType, item.action.to_dict()) if item.action else None
    call = llm.ToolInput(
        tool_name=WEB_SEARCH, tool_args={"action": action}, id=item.id, external=True
    )
    return (
        {"role": "assistant", "native": item},
        {"tool_calls": [call]},
        tool_result_delta(
            item.id, WEB_SEARCH, {"status": item.status}, error=item.status == "failed"
        ),
    )


def _reasoning_state(item: ResponseReasoningItem) -> Iterable[Delta]:
    # The summary is already in thinking_content; keep the encrypted state only.
    state = ResponseReasoningItem(
        type="reasoning", id=item.id, summary=[], encrypted_content=item.encrypted_content
    )
    return ({"native": state},)


class ResponsesReader(TurnReader[ResponseStreamEvent]):
    """Reads the events of one response."""

    final_event = "response.completed"

    def __init__(
        self,
        request: TurnRequest,
        tool_names: set[str],
        *,
        citations: CitationFilter | None = None,
        remember: Callable[[str], None] = lambda _item_id: None,
    ) -> None:
        """Start reading a reply to this request.

        citations: cuts web search citations from the text (models do not always obey the
        hint); remember: called with the id of each item the server made that may go back.
        """
        super().__init__(request, tool_names)
        self.citations = citations
        self.remember = remember
        self.summary_index: int | None = None

    def on_event(self, event: ResponseStreamEvent) -> Iterable[Delta]:
        """Return the deltas one event makes; events not handled here make none."""
        handler = self._handlers.get(type(event))
        return handler(self, event) if handler is not None else ()

    def _on_item_added(self, event: ResponseOutputItemAddedEvent) -> Iterable[Delta]:
        if event.item.type in ("message", "reasoning", "function_call"):
            self.summary_index = None
            return ({"role": "assistant"},)
        return ()

    def _on_text_delta(self, event: ResponseTextDeltaEvent) -> Iterable[Delta]:
        text = self.citations.feed(event.delta) if self.citations else event.delta
        return ({"content": text},) if text else ()

    def _on_summary_delta(self, event: ResponseReasoningSummaryTextDeltaEvent) -> Iterable[Delta]:
        # Several summaries of one reasoning item are kept as paragraphs of one thought.
        gap = "\n\n" if self.summary_index not in (None, event.summary_index) else ""
        self.summary_index = event.summary_index
        return ({"thinking_content": gap + event.delta},)

    def _on_item_done(self, event: ResponseOutputItemDoneEvent) -> Iterable[Delta]:
        item = event.item
        if isinstance(item, ResponseFunctionToolCall):
            return parse_tool_call(item.call_id, item.name, item.arguments, self.tool_names)
        if isinstance(item, ResponseReasoningItem):
            self.remember(item.id)
            return _reasoning_state(item)
        if isinstance(item, ResponseCodeInterpreterToolCall):
            self.remember(item.id)
            return _code_interpreter_run(item)
        if isinstance(item, ResponseFunctionWebSearch):
            self.remember(item.id)
            return _web_search_run(item)
        if item.type in SERVER_TOOL_ITEMS:
            self.remember(item.id or "")
            return ({"role": "assistant", "native": item},)
        if isinstance(item, ResponseOutputMessage) and self.citations:
            held = self.citations.flush()
            return ({"content": held},) if held else ()
        return ()

    def _record_usage(self, response: Response) -> None:
        if (usage := response.usage) is not None:
            details = usage.input_tokens_details
            cached = details.cached_tokens if details else 0
            report_usage(self.request, usage.input_tokens, usage.output_tokens, cached)

    def _on_completed(self, event: ResponseCompletedEvent) -> Iterable[Delta]:
        self._record_usage(event.response)
        self.finished = True
        return ()

    def _on_incomplete(self, event: ResponseIncompleteEvent) -> Iterable[Delta]:
        self._record_usage(event.response)
        details = event.response.incomplete_details
        self.error = response_error(
            "response_incomplete", (details and details.reason) or "unknown"
        )
        return ()

    def _on_failed(self, event: ResponseFailedEvent) -> Iterable[Delta]:
        self._record_usage(event.response)
        error = event.response.error
        self.error = ResponseFailedError(
            error.message if error else "unknown", str(error.code) if error else None
        )
        return ()

    def _on_error(self, event: ResponseErrorEvent) -> Iterable[Delta]:
        self.error = ResponseFailedError(event.message or event.code or "unknown", event.code)
        return ()

    # One handler per event kind; the others make no deltas.
    _handlers: ClassVar[dict[type[Any], Callable[[ResponsesReader, Any], Iterable[Delta]]]] = {
        ResponseOutputItemAddedEvent: _on_item_added,
        ResponseTextDeltaEvent: _on_text_delta,
        ResponseReasoningSummaryTextDeltaEvent: _on_summary_delta,
        ResponseOutputItemDoneEvent: _on_item_done,
        ResponseCompletedEvent: _on_completed,
        ResponseIncompleteEvent: _on_incomplete,
        ResponseFailedEvent: _on_failed,
        ResponseErrorEvent: _on_error,
    }
