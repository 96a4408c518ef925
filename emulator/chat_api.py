"""The Chat Completions wire format: streamed chunks, as OpenAI and compatible servers send them."""

from __future__ import annotations

from collections.abc import Iterator
import time
from typing import Any

from .replies import Reasoning, Reply, Text, ToolCall
from .responses_api import new_id


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _chunk(
    completion_id: str, model: str, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _tool_call_deltas(reply: Reply, call: ToolCall, index: int) -> Iterator[dict[str, Any]]:
    first: dict[str, Any] = {
        "index": 0 if reply.same_tool_index else index,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    if not reply.omit_tool_ids:
        first["id"] = call.call_id or new_id("call")
    if reply.same_tool_index:
        first["function"]["arguments"] = call.raw_arguments
        yield {"tool_calls": [first]}
        return
    yield {"tool_calls": [first]}
    for part in _chunks(call.raw_arguments, reply.argument_chunk_size):
        yield {"tool_calls": [{"index": index, "function": {"arguments": part}}]}


def stream_chunks(reply: Reply, model: str, include_usage: bool) -> Iterator[dict[str, Any]]:
    """Yield the chunks of a streamed chat completion."""
    completion_id = new_id("chatcmpl")
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    tool_index = 0
    for item in reply.items:
        if isinstance(item, Reasoning):
            for part in _chunks("\n\n".join(item.parts), 12):
                yield _chunk(completion_id, model, {"reasoning_content": part})
        elif isinstance(item, Text):
            for part in _chunks(item.text, item.chunk_size):
                yield _chunk(completion_id, model, {"content": part})
        elif isinstance(item, ToolCall):
            for delta in _tool_call_deltas(reply, item, tool_index):
                yield _chunk(completion_id, model, delta)
            tool_index += 1
        else:
            raise TypeError(f"Chat Completions has no {type(item).__name__} items")
    finish = "tool_calls" if tool_index else (reply.incomplete or "stop")
    yield _chunk(completion_id, model, {}, finish)
    if include_usage:
        prompt, completion, cached = reply.usage
        yield {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        }


def full_completion(reply: Reply, model: str) -> dict[str, Any]:
    """Return a non-streaming chat completion."""
    text = "".join(i.text for i in reply.items if isinstance(i, Text))
    calls = [
        {
            "id": i.call_id or new_id("call"),
            "type": "function",
            "function": {"name": i.name, "arguments": i.raw_arguments},
        }
        for i in reply.items
        if isinstance(i, ToolCall)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    prompt, completion, _ = reply.usage
    return {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }
