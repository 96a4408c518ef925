"""Scripted replies: what the emulator answers to the next request."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import json
from typing import Any


@dataclass
class Text:
    """An assistant message, streamed in chunks."""

    text: str
    chunk_size: int = 8


@dataclass
class ToolCall:
    """A function call; arguments may be a dict or a raw (possibly broken) string."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    call_id: str | None = None

    @property
    def raw_arguments(self) -> str:
        """Return the arguments as the wire carries them."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass
class Reasoning:
    """A reasoning item with a summary; a tuple is a summary in several parts."""

    summary: str | tuple[str, ...]

    @property
    def parts(self) -> tuple[str, ...]:
        """Return the summary's parts."""
        return (self.summary,) if isinstance(self.summary, str) else self.summary


@dataclass
class WebSearch:
    """A web search the server runs itself (Responses only, where the request offers it)."""

    query: str


@dataclass
class Reply:
    """One response: output items, usage, and stream behaviour."""

    items: list[Text | ToolCall | Reasoning | WebSearch] = field(default_factory=list)
    usage: tuple[int, int, int] = (10, 5, 0)  # input, output, cached input tokens
    chunk_delay: float = 0.0
    # End the response with response.failed / response.incomplete / an error event.
    fail: str | None = None
    fail_code: str = "server_error"  # the response.failed error's code
    incomplete: str | None = None
    error_event: str | None = None
    # Leave out what the SDK's types let a server leave out: token details, the failed
    # response's error object, the incomplete reason, the error event's code.
    sparse: bool = False
    # Send a line of broken JSON after this many events (a misbehaving proxy or server).
    malformed_after: int | None = None
    # End the stream in order after this many events, before its final event (and without
    # "[DONE]"), as a proxy or an upstream timeout may.
    ends_after: int | None = None
    # Chat Completions quirks of OpenAI-compatible servers.
    omit_tool_ids: bool = False
    # Ollama sends each parallel tool call whole, every one with index 0 (ollama/ollama#15457).
    same_tool_index: bool = False
    argument_chunk_size: int = 16


@dataclass
class Error:
    """An HTTP error with OpenAI's error body."""

    status: int
    message: str = "Error"
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None


@dataclass
class Cut:
    """Stream this reply, then drop the connection after some events."""

    reply: Reply
    after_events: int = 3


@dataclass
class Hang:
    """Wait before answering (or forever, for timeouts)."""

    seconds: float
    then: Reply | Error | None = None


type Scripted = Reply | Error | Cut | Hang


def tool_names(body: dict[str, Any]) -> set[str]:
    """Return the function names a request offers (either wire format)."""
    return {
        str(tool.get("name") or (tool.get("function") or {}).get("name"))
        for tool in body.get("tools") or []
    }


def offered_name(name: str, body: dict[str, Any]) -> str | None:
    """Return the name under which the request offers a tool, or None.

    Home Assistant 2026.10 namespaces the Assist tools (`intent__HassTurnOn`); scripts name
    the tool plainly and call it as offered, as a model reading the tool list would.
    """
    names = tool_names(body)
    if name in names:
        return name
    matches = [offered for offered in names if offered.endswith(f"__{name}")]
    return matches[0] if len(matches) == 1 else None


def as_offered(reply: Reply, body: dict[str, Any]) -> Reply:
    """Return the reply with its tool calls named as the request offers them.

    A web search the request does not offer is a broken script: OpenAI never runs one.
    """
    searches = any(isinstance(item, WebSearch) for item in reply.items)
    if searches and not any(t.get("type") == "web_search" for t in body.get("tools") or []):
        raise ValueError("The script searches the web, but the request offers no web_search")
    items = [
        replace(item, name=offered_name(item.name, body) or item.name)
        if isinstance(item, ToolCall)
        else item
        for item in reply.items
    ]
    return replace(reply, items=items)


def value_fitting(schema: dict[str, Any]) -> Any:
    """Return a value that fits a JSON schema (strings "demo", numbers 0, false, [])."""
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        return {name: value_fitting(prop) for name, prop in schema.get("properties", {}).items()}
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "demo", "integer": 0, "number": 0, "boolean": False, "array": []}.get(
        kind or ""
    )


def _json_schema_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """Return the json_schema format of a request (either wire format), or None."""
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        return fmt
    fmt = body.get("response_format") or {}
    return fmt.get("json_schema") or {} if fmt.get("type") == "json_schema" else None


def schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """Return the JSON schema a request constrains its reply to (either wire format)."""
    fmt = _json_schema_format(body)
    return None if fmt is None else fmt.get("schema")


def default_reply(body: dict[str, Any]) -> Reply:
    """Answer "OK", or, as OpenAI's constrained decoding does, a value that fits the schema.

    Only a strict schema constrains decoding; without it the model is merely asked, and
    answers as models often do, the JSON in a Markdown code block.
    """
    if (fmt := _json_schema_format(body)) is not None:
        text = json.dumps(value_fitting(fmt.get("schema") or {}))
        return Reply([Text(text if fmt.get("strict") is True else f"```json\n{text}\n```")])
    return Reply([Text("OK")])
