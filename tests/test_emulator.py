"""The emulator refuses what OpenAI refuses, so a request the real service would reject fails
a test here. Sent with the openai SDK over real HTTP, as the integration sends them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

import aiohttp
import openai
from openai.types.realtime.realtime_error_event import RealtimeErrorEvent
import pytest

from custom_components.openai_conversation.pcm import wav_file
from emulator import OpenAIEmulator, Reply, Text, ToolCall, pacing
from emulator.demo import demo_reply
from emulator.prompt_cache import cached_tokens
from emulator.server import delta_chars

from .conftest import API_KEY

# A tenth of a second of 16-bit mono silence at 16 kHz, as a WAV file.
WAV = wav_file(bytes(3200), 16000, 2, 1)

STRICT_OBJECT: dict[str, Any] = {
    "type": "object",
    "properties": {"kind": {"type": ["string", "null"], "enum": ["a", "b", None]}},
    "required": ["kind"],
    "additionalProperties": False,
}


def _format(name: str = "answer", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "format": {
            "type": "json_schema",
            "name": name,
            "schema": schema or STRICT_OBJECT,
            "strict": True,
        }
    }


REFUSED: dict[str, dict[str, Any]] = {
    "a decimal max_output_tokens": {"max_output_tokens": 800.0},
    "temperature for a reasoning model": {"model": "o3", "temperature": 0.5},
    "top_p for a GPT-5 model": {"model": "gpt-5-mini", "top_p": 1.0},
    "a schema name with a space": {"text": _format("Weather report")},
    "a nullable enum without null": {
        "text": _format(
            schema={
                **STRICT_OBJECT,
                "properties": {"kind": {"type": ["string", "null"], "enum": ["a", "b"]}},
            }
        )
    },
    "a strict schema with an optional property": {
        "text": _format(schema={**STRICT_OBJECT, "required": []})
    },
    "an unknown service tier": {"service_tier": "fast"},
    "a concise summary outside GPT-5": {"model": "o3", "reasoning": {"summary": "concise"}},
    "pro mode before GPT-5.6": {"model": "gpt-5-mini", "reasoning": {"mode": "pro"}},
    "minimal effort on o3": {"model": "o3", "reasoning": {"effort": "minimal"}},
    "max effort on GPT-5.1": {"model": "gpt-5.1", "reasoning": {"effort": "max"}},
    "web search with minimal reasoning": {
        "model": "gpt-5-mini",
        "reasoning": {"effort": "minimal"},
        "tools": [{"type": "web_search"}],
    },
    "a strict schema allowing extra properties": {
        "text": _format(schema={**STRICT_OBJECT, "additionalProperties": True})
    },
    "a strict function tool with an optional property": {
        "tools": [
            {
                "type": "function",
                "name": "HassTurnOn",
                "strict": True,
                "parameters": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "area": {"type": "string"}},
                    "required": ["name"],
                    "additionalProperties": False,
                },
            }
        ]
    },
    # Checked against the SDK's own request types: names, JSON types and enums.
    "an unknown parameter": {"extra_body": {"max_tokens": 800}},
    "an unknown key in an input item": {
        "input": [{"type": "message", "role": "user", "content": "hi", "name": "me"}]
    },
    "an unknown input item type": {"input": [{"type": "note", "text": "hi"}]},
    "a string for a boolean": {"store": "false"},
    "an unknown text format": {"text": {"format": {"type": "xml"}}},
    "a function tool without a name": {"tools": [{"type": "function", "parameters": {}}]},
    "a decimal in a nested integer": {
        "tools": [{"type": "web_search", "user_location": {"type": "approximate", "city": 5}}]
    },
}


# HassStartTimer's parameters as HA 2026.10 converts them.
TIMER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"hours": {"type": "integer"}, "minutes": {"type": "integer"}},
    "anyOf": [{"required": ["hours"]}, {"required": ["minutes"]}],
}


@pytest.mark.parametrize(
    ("route", "tool", "param"),
    [
        (
            "/responses",
            {
                "type": "function",
                "name": "HassStartTimer",
                "parameters": TIMER_PARAMETERS,
                "strict": False,
            },
            "tools[1].parameters",
        ),
        (
            "/chat/completions",
            {
                "type": "function",
                "function": {"name": "HassStartTimer", "parameters": TIMER_PARAMETERS},
            },
            "tools[1].function.parameters",
        ),
    ],
)
async def test_a_top_level_any_of_is_refused_in_either_wire_format(
    client: openai.AsyncOpenAI, route: str, tool: dict[str, Any], param: str
) -> None:
    """OpenAI refuses the whole request, strict or not, naming the function and the place."""
    plain: dict[str, Any] = {"name": "HassNevermind", "parameters": {"type": "object"}}
    if route == "/chat/completions":
        plain = {"type": "function", "function": plain}
        body: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}
    else:
        plain = {"type": "function", "strict": False, **plain}
        body = {"input": "hi"}
    with pytest.raises(openai.BadRequestError) as err:
        await client.post(
            route, body={"model": "gpt-4o-mini", "tools": [plain, tool], **body}, cast_to=object
        )
    assert err.value.body == {
        "message": "Invalid schema for function 'HassStartTimer': schema must have type "
        "'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level.",
        "type": "invalid_request_error",
        "param": param,
        "code": "invalid_function_parameters",
    }


@pytest.fixture
def client(emulator: OpenAIEmulator) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=API_KEY, base_url=emulator.base_url, max_retries=0)


@pytest.mark.parametrize("change", REFUSED.values(), ids=list(REFUSED))
async def test_refused_like_openai(client: openai.AsyncOpenAI, change: dict[str, Any]) -> None:
    request: dict[str, Any] = {"model": "gpt-4o-mini", "input": "hi", **change}
    with pytest.raises(openai.BadRequestError) as err:
        await client.responses.create(**request)
    assert err.value.status_code == 400


@pytest.mark.parametrize(
    ("model", "effort"),
    [("gpt-5.1-codex-max", "none"), ("gpt-5.1-codex", "xhigh"), ("gpt-5.2-codex", "minimal")],
)
async def test_codex_efforts_refused_like_openai(
    client: openai.AsyncOpenAI, model: str, effort: str
) -> None:
    """Codex models reason always (no none, no minimal); xhigh from 5.1-codex-max on."""
    with pytest.raises(openai.BadRequestError) as err:
        await client.responses.create(model=model, input="hi", reasoning={"effort": effort})  # type: ignore[typeddict-item]
    assert err.value.code == "unsupported_value"


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "top_k": 5}),
        ("/chat/completions", {"messages": [{"role": "robot", "content": "hi"}]}),
        ("/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "n": 1.0}),
        (
            "/chat/completions",
            {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 800.0},
        ),
        ("/images/generations", {"prompt": "a cat", "quality": "ultra"}),
        ("/audio/speech", {"input": "hi", "voice": "marin", "speed": "fast"}),
        ("/embeddings", {"input": ["hi"], "dimensions": 256.0}),
        ("/embeddings", {"input": ["hi"], "truncate": True}),
    ],
)
async def test_every_route_checks_the_sdk_types(
    client: openai.AsyncOpenAI, route: str, body: dict[str, Any]
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        await client.post(route, body={"model": "gpt-4o-mini", **body}, cast_to=object)
    assert err.value.status_code == 400


async def test_what_the_api_added_after_the_oldest_sdk_is_taken(
    client: openai.AsyncOpenAI,
) -> None:
    """Pro mode and effort "max" (GPT-5.6 on) postdate openai 2.15's types."""
    response = await client.responses.create(
        model="gpt-6-luna",
        input="hi",
        reasoning={"effort": "max", "mode": "pro"},  # type: ignore[typeddict-unknown-key,typeddict-item,unused-ignore]
    )
    assert response.output_text


async def test_a_valid_request_is_answered(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="gpt-4o-mini", input="hi", max_output_tokens=800, text=_format("weather_report")
    )
    assert response.output_text == '{"kind": "a"}'


async def test_chat_completions_checks_the_schema_name(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(
            model="llama3.2",
            messages=[{"role": "user", "content": "hi"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "Weather report", "schema": STRICT_OBJECT, "strict": True},
            },
        )


DECISION: dict[str, Any] = {
    "model": "gpt-6-luna",
    "input": "The package is at the door.",
    "questions": [
        {"type": "predicate", "name": "delivered", "instructions": "Has it arrived?"},
        {
            "type": "choice",
            "name": "where",
            "instructions": "Where is it?",
            "choices": [{"value": "door"}, {"value": "mailbox"}],
        },
    ],
}
REFUSED_DECISIONS: dict[str, dict[str, Any]] = {
    "an unknown field": {"temperature": 0.5},
    "an assistant message": {
        "input": [{"role": "assistant", "content": [{"type": "input_text", "text": "hi"}]}]
    },
    "an image by URL": {
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_image", "image_url": "https://example.com/a.png"}],
            }
        ]
    },
    "a choice with one option": {
        "questions": [
            {"type": "choice", "name": "c", "instructions": "x", "choices": [{"value": "a"}]}
        ]
    },
    "duplicate names": {
        "questions": [
            {"type": "predicate", "name": "a", "instructions": "x"},
            {"type": "predicate", "name": "a", "instructions": "y"},
        ]
    },
    "a question field of another type": {
        "questions": [{"type": "predicate", "name": "a", "instructions": "x", "levels": []}]
    },
}


@pytest.mark.parametrize("change", REFUSED_DECISIONS.values(), ids=list(REFUSED_DECISIONS))
async def test_decisions_refused_like_openai(
    client: openai.AsyncOpenAI, change: dict[str, Any]
) -> None:
    with pytest.raises(openai.BadRequestError):
        await client.post("/decisions", body={**DECISION, **change}, cast_to=object)


async def test_decisions_answer_in_question_order(client: openai.AsyncOpenAI) -> None:
    decision: Any = await client.post("/decisions", body=DECISION, cast_to=object)
    delivered, where = decision["answers"]
    assert (delivered["type"], delivered["name"]) == ("predicate", "delivered")
    assert where["choice"] in ("door", "mailbox")
    assert sum(p["probability"] for p in where["probabilities"]) == pytest.approx(1)


@pytest.mark.parametrize(
    ("tokens", "cached"), [(1023, 0), (1024, 1024), (1151, 1024), (1152, 1152), (5000, 4992)]
)
def test_prompt_cache_counts_as_openai_bills(tokens: int, cached: int) -> None:
    """From 1,024 shared tokens on, in steps of 128."""
    assert cached_tokens(tokens * 4) == cached


async def test_service_times_pace_a_stream(
    emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    """A benchmark's model: the first token after its delay, then its tokens at its pace."""
    emulator.first_token, emulator.tokens_per_second = 0.2, 40.0
    emulator.queue(Reply([Text("x" * 40, chunk_size=8)]))  # 10 tokens: 0.25 s at 40/s
    start = time.perf_counter()
    stream = await client.responses.create(model="gpt-4o-mini", input="hi", stream=True)
    seen = [
        time.perf_counter() - start
        async for event in stream
        if event.type == "response.output_text.delta"
    ]
    # Lower bounds only: the emulator waits at least this long (no timing of our code).
    assert seen[0] >= 0.2 + 0.05 - 0.01
    assert seen[-1] - seen[0] >= 0.2 - 0.01


async def test_service_times_count_from_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's own work happens inside a service time, as a real server's does.

    A fake clock: 30 ms of handling before the first token, then a late step, then one on time.
    """
    now = iter([10.03, 10.52, 10.52])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    monkeypatch.setattr(pacing, "clock", lambda: next(now))
    monkeypatch.setattr(pacing.asyncio, "sleep", sleep)
    pace = pacing.Pace(10.0)  # the request arrived at 10.0
    await pace.after(0.4)  # first token due at 10.4: 0.37 s left after the handling
    await pace.after(0.1)  # due at 10.5, already past at 10.52: no wait
    await pace.after(0.1)  # due at 10.6: the schedule does not drift by the late step
    assert slept == [0.37, 0.08]


def test_delta_chars_counts_text_and_arguments() -> None:
    responses_event = 'event: x\ndata: {"type": "response.output_text.delta", "delta": "hello"}\n\n'
    chat_chunk = (
        'data: {"choices": [{"delta": {"content": "ab", "tool_calls": '
        '[{"function": {"arguments": "{}"}}]}}]}\n\n'
    )
    assert delta_chars(responses_event) == 5
    assert delta_chars(chat_chunk) == 4
    assert delta_chars("data: [DONE]\n\n") == 0


async def test_transcription_waits_its_service_time(
    emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emulator.transcription_latency = 0.2
    start = time.perf_counter()
    result = await client.audio.transcriptions.create(
        model="gpt-transcribe", file=("a.wav", WAV, "audio/wav")
    )
    assert result.text == "turn on the kitchen light"
    assert time.perf_counter() - start >= 0.2


def test_demo_answers_the_user_not_the_clock() -> None:
    """The clock sent after the conversation is an instruction, not what the user said."""
    body = {
        "input": [
            {"type": "message", "role": "user", "content": "turn on the hall light"},
            {"type": "message", "role": "developer", "content": "Current time is 10:00:00."},
        ],
        "tools": [{"type": "function", "name": "HassTurnOn"}],
    }
    reply = demo_reply(body)
    assert isinstance(reply, Reply)
    assert reply.items == [ToolCall("HassTurnOn", {"name": "hall light"})]


def test_demo_says_what_it_is_told_after_a_tool() -> None:
    body = {
        "input": [
            {
                "type": "function_call_output",
                "call_id": "c",
                "output": '{"data": {"success": [{"name": "Hall light"}]}}',
            }
        ]
    }
    reply = demo_reply(body, after_tool="{done} is on now. Anything else?")
    assert isinstance(reply, Reply)
    assert reply.items == [Text("Hall light is on now. Anything else?")]


async def _first_answer(emulator: OpenAIEmulator, events: list[dict[str, Any]]) -> Any:
    """Open a transcription session, send the events, return the server's first answer."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"{emulator.base_url}/realtime?intent=transcription".replace("http", "ws", 1),
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as ws,
    ):
        assert (await ws.receive_json())["type"] == "session.created"
        for event in events:
            await ws.send_json(event)
        return await ws.receive_json()


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # The Realtime API takes PCM at 24 kHz only; 16 kHz is refused.
        (
            [
                {
                    "type": "session.update",
                    "session": {
                        "type": "transcription",
                        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
                    },
                }
            ],
            "Invalid value",
        ),
        ([{"type": "input_audio_buffer.commit"}], "buffer is empty"),
        ([{"type": "input_audio_buffer.append", "audio": "AAA"}], "not base64"),
        ([{"type": "input_audio_buffer.append", "audio": "AA==", "extra": 1}], "Unknown parameter"),
        ([{"type": "response.create"}], "Invalid value"),
        (
            [
                {
                    "type": "session.update",
                    "session": {
                        "type": "transcription",
                        "audio": {
                            "input": {
                                "transcription": {"model": "gpt-live-transcribe"},
                                "turn_detection": {"type": "server_vad"},
                            }
                        },
                    },
                }
            ],
            "takes no turn_detection",
        ),
    ],
    ids=[
        "16 kHz",
        "empty commit",
        "bad base64",
        "unknown key",
        "conversation event",
        "live model with VAD",
    ],
)
async def test_realtime_transcription_refused_like_openai(
    emulator: OpenAIEmulator, events: list[dict[str, Any]], expected: str
) -> None:
    error = await _first_answer(emulator, events)
    assert error["type"] == "error"
    assert expected in error["error"]["message"]
    RealtimeErrorEvent.model_validate(error)


async def test_realtime_needs_the_key_and_the_intent(emulator: OpenAIEmulator) -> None:
    url = f"{emulator.base_url}/realtime".replace("http", "ws", 1)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url + "?intent=transcription")
        assert refused.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url, headers={"Authorization": f"Bearer {API_KEY}"})
        assert refused.value.status == 400


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"response_format": "JSON"}, "Invalid value: 'JSON'"),
        ({"speed": "1"}, "Unknown parameter: 'speed'"),
    ],
)
async def test_transcriptions_refused_like_openai(
    client: openai.AsyncOpenAI, extra: dict[str, Any], expected: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=expected):
        await client.audio.transcriptions.create(
            model="gpt-transcribe",
            file=("a.wav", WAV, "audio/wav"),
            extra_body=extra,
        )


@pytest.mark.parametrize(
    "data", [b"RIFF0000WAVE", WAV[:-2], WAV[:20]], ids=["no chunks", "cut frame", "cut header"]
)
async def test_undecodable_wav_is_refused_like_openai(
    client: openai.AsyncOpenAI, data: bytes
) -> None:
    with pytest.raises(openai.BadRequestError, match="Audio file might be corrupted"):
        await client.audio.transcriptions.create(
            model="gpt-transcribe", file=("a.wav", data, "audio/wav")
        )


@pytest.mark.parametrize("model", ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
async def test_transcription_models_gone_after_their_shutdown(
    emulator: OpenAIEmulator, client: openai.AsyncOpenAI, model: str
) -> None:
    """Uploads get OpenAI's 404, live sessions its error event; the day before, both work."""
    update = {
        "type": "session.update",
        "session": {
            "type": "transcription",
            "audio": {"input": {"transcription": {"model": model}}},
        },
    }
    emulator.today = date(2027, 2, 25)
    assert (await client.audio.transcriptions.create(model=model, file=("a.wav", WAV))).text
    assert (await _first_answer(emulator, [update]))["type"] == "session.updated"
    emulator.today = date(2027, 2, 26)
    with pytest.raises(openai.NotFoundError) as gone:
        await client.audio.transcriptions.create(model=model, file=("a.wav", WAV))
    assert gone.value.code == "model_not_found"
    error = RealtimeErrorEvent.model_validate(await _first_answer(emulator, [update])).error
    assert error.code == "model_not_found"
    assert f"The model `{model}` has been deprecated" in error.message


@pytest.mark.parametrize("query", ["intent=transcription", "model=gpt-realtime-2.1-mini"])
async def test_realtime_handshake_waits_its_service_time(
    emulator: OpenAIEmulator, query: str
) -> None:
    """Voice and transcription sessions alike accept their upgrade only after the latency."""
    emulator.realtime_handshake = 0.2
    url = f"{emulator.base_url}/realtime?{query}".replace("http", "ws", 1)
    start = time.perf_counter()
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, headers={"Authorization": f"Bearer {API_KEY}"}) as ws,
    ):
        # A lower bound only: the emulator waits at least this long (no timing of our code).
        assert time.perf_counter() - start >= 0.2
        assert (await ws.receive_json())["type"] == "session.created"


def test_realtime_handshake_is_a_command_line_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--help"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--realtime-handshake" in result.stdout
