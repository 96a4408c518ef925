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
class CodeInterpreter:
    """Python the server runs itself (Responses only, where the request offers the tool).

    status: how the run ended (completed, incomplete or failed). The logs come back only
    to a request that includes "code_interpreter_call.outputs", as on OpenAI.
    """

    code: str
    logs: str = ""
    status: str = "completed"
    outputs_included: bool = True


type Item = Text | ToolCall | Reasoning | WebSearch | CodeInterpreter


@dataclass
class Reply:
    """One response: output items, usage, and stream behaviour."""

    items: list[Item] = field(default_factory=list)
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


# The server tools a scripted item stands for, by the tool type a request offers.
_SERVER_TOOLS: dict[type, str] = {WebSearch: "web_search", CodeInterpreter: "code_interpreter"}
OUTPUTS_INCLUDED = "code_interpreter_call.outputs"


def _as_offered(item: Item, body: dict[str, Any]) -> Item:
    """Return one scripted item as the request offers its tool."""
    if isinstance(item, ToolCall):
        return replace(item, name=offered_name(item.name, body) or item.name)
    if isinstance(item, CodeInterpreter):
        return replace(item, outputs_included=OUTPUTS_INCLUDED in (body.get("include") or ()))
    return item


def as_offered(reply: Reply, body: dict[str, Any]) -> Reply:
    """Return the reply with its tool calls named as the request offers them.

    A server tool the request does not offer is a broken script: OpenAI never runs one.
    """
    offered = {t.get("type") for t in body.get("tools") or []}
    for item in reply.items:
        if (tool := _SERVER_TOOLS.get(type(item))) is not None and tool not in offered:
            raise ValueError(f"The script runs {tool}, but the request does not offer it")
    return replace(reply, items=[_as_offered(item, body) for item in reply.items])


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
