"""The integration in a real `hass` process, driven only through Home Assistant's REST API."""

from __future__ import annotations

from .conftest import API_KEY, LiveHass


async def test_assist_actions_and_tts_over_rest(live_hass: LiveHass) -> None:
    client = live_hass.client
    entry_id = await client.ensure_openai_entry(API_KEY)
    entries = await client.call(
        "GET", "/api/config/config_entries/entry?domain=openai_conversation"
    )
    assert entries[0]["state"] == "loaded"

    assert (await client.call("GET", "/api/states/light.kitchen_light"))["state"] == "off"
    result = await client.call(
        "POST",
        "/api/conversation/process",
        json={"text": "Turn on the kitchen light", "agent_id": "conversation.openai_conversation"},
    )
    assert result["response"]["speech"]["plain"]["speech"] == "Done: Kitchen light."
    assert (await client.call("GET", "/api/states/light.kitchen_light"))["state"] == "on"

    content = await client.call(
        "POST",
        "/api/services/openai_conversation/generate_content?return_response",
        json={"config_entry": entry_id, "prompt": "Say hello"},
    )
    assert content["service_response"]["text"].endswith("You said: Say hello")

    tts = await client.call(
        "POST", "/api/tts_get_url", json={"engine_id": "tts.openai_tts", "message": "Hello there."}
    )
    audio = await client.call("GET", tts["path"])
    assert audio.startswith(b"ID3gpt-4o-mini-tts|coral|")
    assert live_hass.problems() == []
