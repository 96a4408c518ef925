"""The provider seam: one interface over the OpenAI wire formats.

Entities hand a backend the ChatLog and a TurnRequest and get Home Assistant delta dicts
back; only the backend modules know a wire format.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
import json
from pathlib import Path
import re
from typing import Any, Protocol, cast

import openai
from openai.types.shared import ReasoningEffort
from openai.types.shared_params import FunctionDefinition

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm, selector
from homeassistant.helpers.json import json_dumps
from homeassistant.util import slugify

from ..capabilities import capability_name, model_capabilities
from ..compat import schema_to_json, tool_result_data, tool_result_delta, vol
from ..const import (
    CONF_PRO_MODE,
    CONF_REASONING_EFFORT,
    CONF_TEMPERATURE,
    CONF_TIMEOUT,
    CONF_TOP_P,
    CONNECT_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT,
    LOGGER,
    PRO_MODE_SILENCE,
    REASONING_SILENCE,
    RECOMMENDED_CHAT_MODEL,
    RECOMMENDED_REASONING_EFFORT,
)
from ..files import EncodedFile, FileCache
from ..schema import plain_parameters

type Files = Mapping[Path, EncodedFile]
type Delta = conversation.AssistantContentDeltaDict | conversation.ToolResultContentDeltaDict


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens one model response used."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0


@dataclass(slots=True)
class TurnRequest:
    """What one model round trip needs besides the chat history."""

    options: Mapping[str, Any]
    model: str = RECOMMENDED_CHAT_MODEL
    user: str | None = None
    # Requests sharing a key share OpenAI's prompt cache: one per agent (its subentry id).
    cache_key: str | None = None
    structure: vol.Schema | None = None
    structure_name: str | None = None
    # Estimated tokens of conversation to send; older turns beyond it are left out (0: all).
    history_tokens: int = 0
    # Automatic retries of this request; None keeps the client's. An agent with a fallback
    # model asks each model once, so a rate limit does not become a storm of requests.
    max_retries: int | None = None
    on_usage: Callable[[TokenUsage], None] = field(default=lambda _usage: None)


class Backend(Protocol):
    """A wire format spoken to an OpenAI-style server."""

    def stream_turn(
        self, chat_log: conversation.ChatLog, request: TurnRequest
    ) -> AsyncIterator[Delta]:
        """Send the chat history once and yield the reply as HA deltas."""


# OpenAI's rule of thumb for English text; an image counts as a small tile's worth.
CHARS_PER_TOKEN = 4
ATTACHMENT_TOKENS = 800
MESSAGE_TOKENS = 4  # each message's own framing


def estimate_tokens(content: conversation.Content) -> int:
    """Return a rough token count of one piece of chat history."""
    attachments = 0
    if isinstance(content, conversation.ToolResultContent):
        chars = len(json_dumps(tool_result_data(content)))
    else:
        chars = len(content.content or "")
    if isinstance(content, conversation.AssistantContent):
        chars += sum(
            len(c.tool_name) + len(json_dumps(c.tool_args)) for c in content.tool_calls or ()
        )
    elif isinstance(content, conversation.UserContent):
        attachments = len(content.attachments or ())
    return chars // CHARS_PER_TOKEN + attachments * ATTACHMENT_TOKENS + MESSAGE_TOKENS


def bounded_history(
    content: Sequence[conversation.Content], limit: int
) -> list[conversation.Content]:
    """Return the history to send: within the limit, dropping the oldest turns whole.

    The system prompt and the current turn are always sent. A turn starts at a user
    message and holds every tool call and result after it, so a call never loses its result.
    """
    if limit <= 0:
        return list(content)
    head = (
        list(content[:1]) if content and isinstance(content[0], conversation.SystemContent) else []
    )
    turns: list[list[conversation.Content]] = []
    for item in content[len(head) :]:
        if isinstance(item, conversation.UserContent) or not turns:
            turns.append([])
        turns[-1].append(item)
    budget = limit - sum(map(estimate_tokens, head))
    kept: list[list[conversation.Content]] = []
    for turn in reversed(turns):
        cost = sum(map(estimate_tokens, turn))
        if kept and cost > budget:
            break
        kept.append(turn)
        budget -= cost
    if len(kept) < len(turns):
        LOGGER.debug("Sending the last %d of %d turns (history limit)", len(kept), len(turns))
    return head + [item for turn in reversed(kept) for item in turn]


# The clock Home Assistant puts in the instructions of agents without a GetDateTime tool
# (llm.DATE_TIME_PROMPT). It changes every turn, so where it stands the prompt cache ends.
CLOCK = re.compile(r"Current time is \d{2}:\d{2}:\d{2}\. Today's date is \d{4}-\d{2}-\d{2}\.\n?")


def clock_last(
    history: list[conversation.Content],
) -> tuple[list[conversation.Content], str | None]:
    """Return the history with the clock taken out of the instructions, and the clock.

    Sent after the conversation instead, it leaves the instructions and every earlier turn
    a prefix the server has cached.
    """
    if not history or not isinstance(first := history[0], conversation.SystemContent):
        return history, None
    if (match := CLOCK.search(first.content)) is None:
        return history, None
    stable = first.content[: match.start()] + first.content[match.end() :]
    return [replace(first, content=stable.strip()), *history[1:]], match.group().strip()


def structure_name(request: TurnRequest) -> str:
    """Return the structured output's name as OpenAI takes it: [a-zA-Z0-9_-]{1,64}."""
    return slugify(request.structure_name or "")[:64] or "response"


def sampling_params(options: Mapping[str, Any], takes_sampling: bool) -> dict[str, float]:
    """Return temperature and top_p where the agent sets them and the model takes them.

    Unset, they are not sent: OpenAI's defaults are the same values, and a local server
    keeps the defaults its model was tuned with.
    """
    if not takes_sampling:
        return {}
    return {key: float(options[key]) for key in (CONF_TEMPERATURE, CONF_TOP_P) if key in options}


def reasoning_effort(options: Mapping[str, Any], efforts: tuple[str, ...]) -> ReasoningEffort:
    """Return the agent's reasoning effort, or the nearest one the model takes.

    An effort kept from the agent's previous model ("minimal" from GPT-5 on o3, say) would
    be refused on every turn.
    """
    effort = str(options.get(CONF_REASONING_EFFORT, RECOMMENDED_REASONING_EFFORT))
    if effort not in efforts:
        effort = "low" if "low" in efforts else efforts[0]
    # The model's efforts are the API's values (newer ones than an old SDK's Literal).
    return cast(ReasoningEffort, effort)


def request_timeout(options: Mapping[str, Any], model: str) -> openai.Timeout:
    """Return the timeouts of one model request.

    The agent's timeout bounds the wait for each part of the reply; connecting takes at
    most CONNECT_TIMEOUT. A reasoning model thinks silently before it streams, longer the
    higher its effort, so it may be silent up to its effort's allowance instead.
    """
    timeout = float(options.get(CONF_TIMEOUT, DEFAULT_REQUEST_TIMEOUT))
    caps = model_capabilities(capability_name(options, model))
    silence = timeout
    if caps.reasoning:
        effort = reasoning_effort(options, caps.reasoning_efforts)
        silence = max(silence, REASONING_SILENCE.get(str(effort), 0.0))
        if options.get(CONF_PRO_MODE) and caps.pro_mode:
            silence = max(silence, PRO_MODE_SILENCE)
    return openai.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT), read=silence)


def request_client(client: openai.AsyncOpenAI, request: TurnRequest) -> openai.AsyncOpenAI:
    """Return the client with the agent's timeouts and the request's retry budget."""
    return client.with_options(
        timeout=request_timeout(request.options, request.model),
        max_retries=client.max_retries if request.max_retries is None else request.max_retries,
    )


async def async_stream[EventT](
    client: openai.AsyncOpenAI,
    path: str,
    params: Mapping[str, Any],
    cast_to: type[Any],
    stream_cls: type[openai.AsyncStream[EventT]],
) -> openai.AsyncStream[EventT]:
    """Start a streamed request whose body is already in the wire format.

    The SDK's create() first walks every body against its TypedDict, for aliases and
    formats none of these requests use: about 3 ms a request, more than everything else
    this integration does in a turn. tests/test_wire_bodies.py checks that the walk would
    leave each kind of body as built.
    """
    return await client.post(path, cast_to=cast_to, body=params, stream=True, stream_cls=stream_cls)


# Converted tool schemas. The Assist API rebuilds its tools every turn, but from the same
# content; converting them again cost more than anything else this integration does per
# turn. Keyed by content, so a tool whose schema changes (a new area, say) converts anew.
_SPECS: OrderedDict[tuple[str, str | None, str, int], FunctionDefinition] = OrderedDict()
_SPECS_SIZE = 256


def _content(node: Any) -> Any:
    """Return a hashable rendering of a schema by what it says, not by object identity.

    Selectors (script fields) print as their address, which a new selector may reuse after
    the old one is gone; their type and config are what matter.
    """
    if isinstance(node, selector.Selector):
        return ("selector", node.selector_type, _content(dict(node.config)))
    if isinstance(node, vol.Schema):
        return ("schema", _content(node.schema))
    if isinstance(node, dict):
        return ("dict", tuple(sorted((repr(_content(k)), _content(v)) for k, v in node.items())))
    if isinstance(node, (list, tuple, set, frozenset)):
        return (type(node).__name__, tuple(_content(item) for item in node))
    if (validators := getattr(node, "validators", None)) is not None:  # All, Any ...
        return (type(node).__name__, _content(list(validators)))
    return repr(node)


def function_spec(tool: llm.Tool, serializer: Callable[[Any], Any] | None) -> FunctionDefinition:
    """Return name, description and JSON-schema parameters of an Assist LLM API tool."""
    key = (tool.name, tool.description, repr(_content(tool.parameters)), id(serializer))
    if (spec := _SPECS.get(key)) is None:
        parameters, rule = plain_parameters(schema_to_json(tool.parameters, serializer))
        spec = {"name": tool.name, "parameters": parameters}
        if description := " ".join(part for part in (tool.description, rule) if part):
            spec["description"] = description
        _SPECS[key] = spec
        if len(_SPECS) > _SPECS_SIZE:
            _SPECS.popitem(last=False)
    else:
        _SPECS.move_to_end(key)
    return spec.copy()  # the parameters schema is shared: read-only


def tool_list(chat_log: conversation.ChatLog) -> list[llm.Tool]:
    """Return the tools the chat log offers the model."""
    return list(chat_log.llm_api.tools) if chat_log.llm_api else []


def invalid_tool_call(call_id: str, name: str, reason: str) -> tuple[Delta, Delta]:
    """Return deltas recording a tool call that cannot run, with an error result.

    The call is marked external so the ChatLog does not run it; the error goes back to
    the model as the call's output, so it can correct itself instead of the turn failing.
    """
    return (
        {"tool_calls": [llm.ToolInput(tool_name=name, tool_args={}, id=call_id, external=True)]},
        tool_result_delta(
            call_id, name, {"error": "InvalidToolCall", "error_text": reason}, error=True
        ),
    )


def parse_tool_call(
    call_id: str, name: str, arguments: str, tool_names: set[str]
) -> tuple[Delta, ...]:
    """Return the deltas for a tool call the model made, validating its arguments."""
    if name not in tool_names:
        return invalid_tool_call(
            call_id, name, f"Unknown tool '{name}'. Available: {sorted(tool_names)}"
        )
    try:
        args = json.loads(arguments) if arguments.strip() else {}
    except ValueError as err:
        return invalid_tool_call(
            call_id, name, f"Arguments are not valid JSON ({err}); received: {arguments[:500]}"
        )
    if not isinstance(args, dict):
        return invalid_tool_call(call_id, name, "Arguments must be a JSON object")
    return ({"tool_calls": [llm.ToolInput(tool_name=name, tool_args=args, id=call_id)]},)


async def encode_attachments(
    hass: HomeAssistant, cache: FileCache, history: Sequence[conversation.Content]
) -> dict[Path, EncodedFile]:
    """Encode the files of the user messages sent this turn (checked, off the loop).

    history: what the turn sends (within the history limit); a file of a turn left out,
    perhaps deleted since, must not fail the turn.
    """
    return {
        attachment.path: await cache.async_encode(hass, attachment.path, attachment.mime_type)
        for content in history
        if isinstance(content, conversation.UserContent)
        for attachment in content.attachments or ()
    }
