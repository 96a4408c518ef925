"""The Responses API wire format: response objects and SSE event sequences."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import itertools
import time
from typing import Any

from .replies import CodeInterpreter, Reasoning, Reply, Text, ToolCall, WebSearch

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    """Return an id in OpenAI's style."""
    return f"{prefix}_{next(_ids):024x}"


def usage_body(reply: Reply) -> dict[str, Any]:
    """Return a usage object."""
    prompt, completion, cached = reply.usage
    usage: dict[str, Any] = {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if not reply.sparse:
        usage["input_tokens_details"] = {"cached_tokens": cached}
        usage["output_tokens_details"] = {"reasoning_tokens": 0}
    return usage


def response_body(
    response_id: str, model: str, status: str, output: list[dict[str, Any]], usage: Any
) -> dict[str, Any]:
    """Return a Response object as OpenAI sends it."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
        "error": None,
        "incomplete_details": None,
    }


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _message_events(item: Text, index: int) -> Iterator[tuple[str, dict[str, Any]]]:
    msg_id = new_id("msg")
    base = {"id": msg_id, "type": "message", "role": "assistant"}
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {**base, "status": "in_progress", "content": []},
        },
    )
    part = {"type": "output_text", "text": "", "annotations": []}
    ref = {"item_id": msg_id, "output_index": index, "content_index": 0}
    yield "response.content_part.added", {**ref, "part": part}
    for chunk in _chunks(item.text, item.chunk_size):
        yield "response.output_text.delta", {**ref, "delta": chunk, "logprobs": []}
    done_part = {**part, "text": item.text}
    yield "response.output_text.done", {**ref, "text": item.text, "logprobs": []}
    yield "response.content_part.done", {**ref, "part": done_part}
    yield (
        "response.output_item.done",
        {
            "output_index": index,
            "item": {**base, "status": "completed", "content": [done_part]},
        },
    )


def _function_events(item: ToolCall, index: int) -> Iterator[tuple[str, dict[str, Any]]]:
    fc_id = new_id("fc")
    base = {
        "id": fc_id,
        "type": "function_call",
        "call_id": item.call_id or new_id("call"),
        "name": item.name,
    }
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {**base, "arguments": "", "status": "in_progress"},
        },
    )
    args = item.raw_arguments
    for chunk in _chunks(args, 16):
        yield (
            "response.function_call_arguments.delta",
            {
                "item_id": fc_id,
                "output_index": index,
                "delta": chunk,
            },
        )
    yield (
        "response.function_call_arguments.done",
        {
            "item_id": fc_id,
            "output_index": index,
            "arguments": args,
            "name": item.name,
        },
    )
    yield (
        "response.output_item.done",
        {
            "output_index": index,
            "item": {**base, "arguments": args, "status": "completed"},
        },
    )


def _reasoning_events(item: Reasoning, index: int) -> Iterator[tuple[str, dict[str, Any]]]:
    rs_id = new_id("rs")
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {"id": rs_id, "type": "reasoning", "summary": []},
        },
    )
    summary = [{"type": "summary_text", "text": text} for text in item.parts]
    for part_index, part in enumerate(summary):
        ref = {"item_id": rs_id, "output_index": index, "summary_index": part_index}
        yield (
            "response.reasoning_summary_part.added",
            {**ref, "part": {"type": "summary_text", "text": ""}},
        )
        for chunk in _chunks(part["text"], 12):
            yield "response.reasoning_summary_text.delta", {**ref, "delta": chunk}
        yield "response.reasoning_summary_text.done", {**ref, "text": part["text"]}
        yield "response.reasoning_summary_part.done", {**ref, "part": part}
    yield (
        "response.output_item.done",
        {
            "output_index": index,
            "item": {
                "id": rs_id,
                "type": "reasoning",
                "summary": summary,
                "encrypted_content": f"enc-{rs_id}",
            },
        },
    )


def _web_search_events(item: WebSearch, index: int) -> Iterator[tuple[str, dict[str, Any]]]:
    ws_id = new_id("ws")
    base = {"id": ws_id, "type": "web_search_call"}
    yield (
        "response.output_item.added",
        {"output_index": index, "item": {**base, "status": "in_progress"}},
    )
    for stage in ("in_progress", "searching", "completed"):
        yield f"response.web_search_call.{stage}", {"item_id": ws_id, "output_index": index}
    action = {"type": "search", "query": item.query}
    yield (
        "response.output_item.done",
        {"output_index": index, "item": {**base, "status": "completed", "action": action}},
    )


def _code_interpreter_events(
    item: CodeInterpreter, index: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The code streams in deltas, runs, then the item ends with its outputs (if asked)."""
    ci_id = new_id("ci")
    base = {"id": ci_id, "type": "code_interpreter_call", "container_id": f"cntr_{ci_id[3:]}"}
    ref = {"item_id": ci_id, "output_index": index}
    yield (
        "response.output_item.added",
        {
            "output_index": index,
            "item": {**base, "status": "in_progress", "code": "", "outputs": None},
        },
    )
    yield "response.code_interpreter_call.in_progress", ref
    for chunk in _chunks(item.code, 12):
        yield "response.code_interpreter_call_code.delta", {**ref, "delta": chunk}
    yield "response.code_interpreter_call_code.done", {**ref, "code": item.code}
    yield "response.code_interpreter_call.interpreting", ref
    if item.status == "completed":
        yield "response.code_interpreter_call.completed", ref
    outputs = [{"type": "logs", "logs": item.logs}] if item.logs else []
    done = {
        **base,
        "status": item.status,
        "code": item.code,
        "outputs": outputs if item.outputs_included else None,
    }
    yield "response.output_item.done", {"output_index": index, "item": done}


_ITEM_EVENTS: dict[type, Callable[[Any, int], Iterator[tuple[str, dict[str, Any]]]]] = {
    Text: _message_events,
    ToolCall: _function_events,
    Reasoning: _reasoning_events,
    WebSearch: _web_search_events,
    CodeInterpreter: _code_interpreter_events,
}


def stream_events(reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (event type, payload) for a streamed response, as OpenAI sends them."""
    response_id = new_id("resp")
    yield (
        "response.created",
        {"response": response_body(response_id, model, "in_progress", [], None)},
    )
    yield (
        "response.in_progress",
        {"response": response_body(response_id, model, "in_progress", [], None)},
    )
    output: list[dict[str, Any]] = []
    for index, item in enumerate(reply.items):
        for event_type, payload in _ITEM_EVENTS[type(item)](item, index):
            if event_type == "response.output_item.done":
                output.append(payload["item"])
            yield event_type, payload
    if reply.error_event is not None:
        code = None if reply.sparse else "server_error"
        yield "error", {"code": code, "message": reply.error_event, "param": None}
        return
    final = response_body(response_id, model, "completed", output, usage_body(reply))
    if reply.fail is not None:
        error = None if reply.sparse else {"code": reply.fail_code, "message": reply.fail}
        final |= {"status": "failed", "error": error}
        yield "response.failed", {"response": final}
    elif reply.incomplete is not None:
        details = None if reply.sparse else {"reason": reply.incomplete}
        final |= {"status": "incomplete", "incomplete_details": details}
        yield "response.incomplete", {"response": final}
    else:
        yield "response.completed", {"response": final}


def full_response(reply: Reply, model: str) -> dict[str, Any]:
    """Return the non-streaming response for a reply."""
    output = [
        payload["item"]
        for event_type, payload in stream_events(reply, model)
        if event_type == "response.output_item.done"
    ]
    body = response_body(new_id("resp"), model, "completed", output, usage_body(reply))
    body["output_text"] = "".join(i.text for i in reply.items if isinstance(i, Text))
    return body
