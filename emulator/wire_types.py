"""Request bodies checked against the openai SDK's own request types, strictly.

OpenAI refuses what its API reference does not name ("Unknown parameter"), a decimal
where an integer belongs and a value outside an enum; the SDK's TypedDicts are that
reference in code. A body is walked along its TypedDict: unknown keys, missing required
keys, wrong JSON types and values outside a Literal are the 400 the real API answers.

The API moves faster than the oldest SDK supported here, so API_ADDITIONS names what
the API takes beyond that SDK's types (each from OpenAI's API reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
import types
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.chat import completion_create_params as chat
from openai.types.embedding_create_params import EmbeddingCreateParams
from openai.types.image_generate_params import ImageGenerateParams
from openai.types.realtime.input_audio_buffer_append_event_param import (
    InputAudioBufferAppendEventParam,
)
from openai.types.realtime.input_audio_buffer_commit_event_param import (
    InputAudioBufferCommitEventParam,
)
from openai.types.realtime.response_create_event_param import ResponseCreateEventParam
from openai.types.realtime.session_update_event_param import SessionUpdateEventParam
from openai.types.responses import response_create_params as responses

# The SDK's TypedDicts are typing_extensions', which typing.is_typeddict does not see.
from typing_extensions import is_typeddict

# Keys and values the API takes that older SDK types lack: path -> allowed values (None:
# any value). reasoning.mode and effort "max" came with GPT-5.6 (openai 3.x types).
API_ADDITIONS: dict[str, frozenset[object] | None] = {
    "reasoning.mode": frozenset({"standard", "pro"}),
    "reasoning.effort": frozenset({"max"}),
    "reasoning_effort": frozenset({"max"}),
}

_REQUEST_TYPES: dict[str, tuple[Any, Any]] = {
    # path suffix: (streaming type, non-streaming type)
    "/responses": (
        responses.ResponseCreateParamsStreaming,
        responses.ResponseCreateParamsNonStreaming,
    ),
    "/chat/completions": (
        chat.CompletionCreateParamsStreaming,
        chat.CompletionCreateParamsNonStreaming,
    ),
    "/images/generations": (ImageGenerateParams, ImageGenerateParams),
    "/audio/speech": (SpeechCreateParams, SpeechCreateParams),
    "/embeddings": (EmbeddingCreateParams, EmbeddingCreateParams),
}


# The Realtime API's client events a transcription session takes, by their type.
_REALTIME_EVENTS: dict[str, Any] = {
    "session.update": SessionUpdateEventParam,
    "input_audio_buffer.append": InputAudioBufferAppendEventParam,
    "input_audio_buffer.commit": InputAudioBufferCommitEventParam,
}
# ...and those a voice session (text read aloud) takes.
_SPEECH_EVENTS: dict[str, Any] = {
    "session.update": SessionUpdateEventParam,
    "response.create": ResponseCreateEventParam,
}


def realtime_event_problem(event: Any, *, speech: bool = False) -> str | None:
    """Return OpenAI's complaint about a Realtime client event, or None.

    speech: the event is a voice session's (text read aloud), not a transcription's.
    """
    if not isinstance(event, dict):
        return "The event must be a JSON object."
    kinds = _SPEECH_EVENTS if speech else _REALTIME_EVENTS
    if (kind := kinds.get(str(event.get("type")))) is None:
        return f"Invalid value: {event.get('type')!r}. Supported values are: {list(kinds)}."
    return _problem(kind, event, "")


def request_problem(route: str, body: Any) -> str | None:
    """Return OpenAI's complaint about a request body to this route, or None."""
    kinds = _REQUEST_TYPES.get(route)
    if kinds is None:
        return None
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    return _problem(kinds[0] if body.get("stream") else kinds[1], body, "")


@cache
def _hints(typed: Any) -> dict[str, Any]:
    return get_type_hints(typed, include_extras=True)


@cache
def _required(typed: Any) -> frozenset[str]:
    """Return a TypedDict's required keys.

    Totality per class is in __required_keys__, but the SDK's string annotations hide
    Required[...] and NotRequired[...] from it; the resolved hints show them.
    """
    hints = _hints(typed)
    marked = {key for key, hint in hints.items() if get_origin(hint) is Required}
    unmarked = {key for key, hint in hints.items() if get_origin(hint) is NotRequired}
    return frozenset((set(typed.__required_keys__) - unmarked) | marked)


def _strip(kind: Any) -> Any:
    """Return a type without Required/NotRequired/Annotated wrappers."""
    while get_origin(kind) in (Required, NotRequired, Annotated):
        kind = get_args(kind)[0]
    return kind


def _problem(kind: Any, value: Any, path: str) -> str | None:
    kind = _strip(kind)
    if kind is Any or kind is object:
        return None
    if is_typeddict(kind):
        return _dict_problem(kind, value, path)
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        return _union_problem(get_args(kind), value, path)
    if origin is Literal:
        if value in get_args(kind) or _added(path, value):
            return None
        return f"Invalid value: {value!r}. Supported values are: {list(get_args(kind))}."
    return _plain_problem(kind, origin, value, path)


def _added(path: str, value: object) -> bool:
    """Return whether the API takes this beyond the installed SDK's types."""
    key = _generic(path)
    if key not in API_ADDITIONS:
        return False
    allowed = API_ADDITIONS[key]
    return allowed is None or value in allowed


def _generic(path: str) -> str:
    """Return a path with its list indexes dropped: input[2].type -> input.type."""
    return ".".join(part.split("[")[0] for part in path.split("."))


def _dict_problem(kind: Any, value: Any, path: str) -> str | None:
    if not isinstance(value, dict):
        return f"Invalid type for '{path}': expected an object."
    hints = _hints(kind)
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key not in hints:
            if _added(where, item):
                continue
            return f"Unknown parameter: '{where}'."
        if problem := _problem(hints[key], item, where):
            return problem
    for key in _required(kind):
        if key not in value:
            return f"Missing required parameter: '{f'{path}.{key}' if path else key}'."
    return None


def _union_problem(options: Sequence[Any], value: Any, path: str) -> str | None:
    """Return None if any option fits; else the complaint of the closest one."""
    problems = []
    for option in options:
        if (problem := _problem(option, value, path)) is None:
            return None
        problems.append(problem)
    # The variant whose tag matches says most; else the first complaint.
    tagged = [p for p in problems if not p.startswith(("Invalid type", "Invalid value"))]
    return (tagged or problems)[0]


def _plain_problem(kind: Any, origin: Any, value: Any, path: str) -> str | None:
    if kind is type(None):
        return None if value is None else f"Invalid type for '{path}': expected null."
    if kind is bool:
        return None if isinstance(value, bool) else _type_error(path, "a boolean", value)
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        return _type_error(path, "an integer", value)
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        return _type_error(path, "a number", value)
    if kind is str:
        return None if isinstance(value, str) else _type_error(path, "a string", value)
    container = origin or kind
    if isinstance(container, type) and issubclass(container, Mapping):
        if not isinstance(value, dict):
            return _type_error(path, "an object", value)
        args = get_args(kind)
        item = args[1] if len(args) == 2 else Any
        return next((p for k, v in value.items() if (p := _problem(item, v, f"{path}.{k}"))), None)
    if isinstance(container, type) and issubclass(container, Iterable):
        if not isinstance(value, list):
            return _type_error(path, "an array", value)
        item = (get_args(kind) or (Any,))[0]
        return next(
            (p for i, v in enumerate(value) if (p := _problem(item, v, f"{path}[{i}]"))), None
        )
    return None  # file uploads and other types the wire cannot carry as JSON


def _type_error(path: str, expected: str, value: Any) -> str:
    got = "a decimal number" if isinstance(value, float) else type(value).__name__
    return f"Invalid type for '{path}': expected {expected}, but got {got} instead."
