"""Concurrency and lifecycle: many conversations at once, reload and unload mid-stream."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent

AGENT = "conversation.openai_conversation"


def echo(body: dict[str, Any]) -> Reply:
    """Answer with the last user message, slowly enough that turns overlap."""
    last = next(i for i in reversed(body["input"]) if i.get("role") == "user")
    return Reply([Text(f"echo: {last['content']}", chunk_size=3)], chunk_delay=0.002)


async def test_fifty_concurrent_conversations(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.responder = echo

    async def converse(n: int) -> tuple[int, str, str]:
        first = await conversation.async_converse(
            hass, f"first {n}", None, Context(), agent_id=AGENT
        )
        second = await conversation.async_converse(
            hass, f"second {n}", first.conversation_id, Context(), agent_id=AGENT
        )
        return (
            n,
            first.response.speech["plain"]["speech"],
            second.response.speech["plain"]["speech"],
        )

    results = await asyncio.gather(*(hass.async_create_task(converse(n)) for n in range(50)))
    for n, first, second in results:
        assert (first, second) == (f"echo: first {n}", f"echo: second {n}")
    # No cross-talk in the history either: each second turn saw only its own first turn.
    for request in emulator.requests_to("/v1/responses"):
        users = [i["content"] for i in request.body["input"] if i.get("role") == "user"]
        assert len({u.split()[1] for u in users}) == 1


SLOW_REPLY = "a slow reply " * 40


async def _streaming_turn(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> tuple[asyncio.Task[Any], asyncio.Event]:
    """Start a turn whose reply streams slowly; return it once the stream has begun."""
    started = asyncio.Event()

    def slow(_body: dict[str, Any]) -> Reply:
        hass.loop.call_soon_threadsafe(started.set)
        return Reply([Text(SLOW_REPLY, chunk_size=4)], chunk_delay=0.01)

    emulator.responder = slow
    task = hass.async_create_task(
        conversation.async_converse(hass, "hi", None, Context(), agent_id=AGENT)
    )
    # Bounded: a refused request never reaches the responder, and must fail, not hang.
    waiting = hass.async_create_task(started.wait())
    await asyncio.wait([task, waiting], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    assert started.is_set(), task.result() if task.done() else "no request reached the server"
    await asyncio.sleep(0.05)
    return task, started


async def test_unload_during_a_streaming_turn(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A turn in flight when the entry unloads finishes with its whole reply.

    The stream belongs to the turn, not to the entity: unloading must neither cut it off
    (partial text passed off as the answer) nor turn it into an error.
    """
    task, _ = await _streaming_turn(hass, emulator)
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    assert not task.done()  # the unload did not wait for the turn, nor end it
    result = await asyncio.wait_for(task, 10)
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert result.response.speech["plain"]["speech"] == SLOW_REPLY
    assert setup_entry.state is ConfigEntryState.NOT_LOADED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_reload_during_a_streaming_turn(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    task, _ = await _streaming_turn(hass, emulator)
    assert await hass.config_entries.async_reload(setup_entry.entry_id)
    first = await asyncio.wait_for(task, 10)
    assert first.response.speech["plain"]["speech"] == SLOW_REPLY
    assert setup_entry.state is ConfigEntryState.LOADED
    emulator.responder = lambda _body: Reply([Text("after reload")])
    result = await conversation.async_converse(hass, "again", None, Context(), agent_id=AGENT)
    assert result.response.speech["plain"]["speech"] == "after reload"
