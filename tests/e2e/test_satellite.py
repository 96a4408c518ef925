"""A voice satellite's turns in a real `hass` process: its device supports timers.

Home Assistant then offers the agent its timer tools, whose parameters OpenAI refuses unless
they are a plain object at the top level; the emulator refuses them as OpenAI does.
"""

from __future__ import annotations

from typing import Any

from tools.hass import HassClient

from .conftest import API_KEY, LiveHass

AGENT = "conversation.openai_conversation"


async def _add_satellite(client: HassClient) -> str:
    """Add the satellite through its config flow; return its device's id."""
    flow = await client.call(
        "POST", "/api/config/config_entries/flow", json={"handler": "voice_satellite"}
    )
    entry_id = flow["result"]["entry_id"]
    devices = await client.ws({"type": "config/device_registry/list"})
    return next(d["id"] for d in devices if entry_id in d["config_entries"])


async def _add_pipeline(client: HassClient) -> str:
    """Add an Assist pipeline whose agent is ours (text in, text out); return its id."""
    pipeline = await client.ws(
        {
            "type": "assist_pipeline/pipeline/create",
            "name": "OpenAI voice",
            "language": "en",
            "conversation_engine": AGENT,
            "conversation_language": "en",
            **dict.fromkeys(
                ("stt_engine", "stt_language", "tts_engine", "tts_language", "tts_voice"), None
            ),
            **dict.fromkeys(("wake_word_entity", "wake_word_id"), None),
        }
    )
    return str(pipeline["id"])


async def _speak(client: HassClient, pipeline: str, text: str, device_id: str) -> dict[str, Any]:
    """Run the pipeline's intent stage as a satellite does, with its device id."""
    events = await client.ws_events(
        {
            "type": "assist_pipeline/run",
            "pipeline": pipeline,
            "start_stage": "intent",
            "end_stage": "intent",
            "input": {"text": text},
            "device_id": device_id,
        },
        lambda event: event is not None and event.get("type") in ("intent-end", "error"),
    )
    assert events[-1]["type"] == "intent-end", events[-1]
    return dict(events[-1]["data"]["intent_output"]["response"])


async def test_satellite_turns_the_light_on_and_starts_a_timer(live_hass: LiveHass) -> None:
    client = live_hass.client
    await client.ensure_openai_entry(API_KEY)
    device_id = await _add_satellite(client)
    pipeline = await _add_pipeline(client)

    response = await _speak(client, pipeline, "Turn on the kitchen light", device_id)
    assert response["speech"]["plain"]["speech"] == "Done: Kitchen light.", response
    assert (await client.call("GET", "/api/states/light.kitchen_light"))["state"] == "on"

    response = await _speak(client, pipeline, "Set a timer for five minutes", device_id)
    assert response["speech"]["plain"]["speech"] == "Done.", response
    timer = await client.call("GET", "/api/states/voice_satellite.kitchen_timer")
    assert timer["state"] == "started"
    assert timer["attributes"]["minutes"] == 5
    assert timer["attributes"]["device_id"] == device_id
    offered = await live_hass.recorded("/v1/responses")
    names = {tool["name"] for tool in offered[-1]["tools"] if tool["type"] == "function"}
    assert any(name.endswith("HassStartTimer") for name in names), names
    assert live_hass.problems() == []
