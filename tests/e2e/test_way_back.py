"""The way back to the built-in integration: it must never load another server's entry."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from .conftest import OTHER_KEYS, LiveHass

ENTRIES = "/api/config/config_entries/entry?domain=openai_conversation"
SETTLED_LIMIT = 120  # seconds for the built-in integration to finish with its entries


async def add_entry_over_rest(live_hass: LiveHass, step: str, *forms: dict[str, Any]) -> None:
    """Add an entry through the config flow over REST, form by form."""
    client = live_hass.client
    flow = await client.call(
        "POST", "/api/config/config_entries/flow", json={"handler": "openai_conversation"}
    )
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    result = await client.call("POST", path, json={"next_step_id": step})
    for form in forms:
        result = await client.call("POST", path, json=form)
    assert result["type"] == "create_entry", result


async def add_azure_and_compatible(live_hass: LiveHass) -> None:
    """Add an Azure entry and a compatible one (Responses API), each with its own key."""
    server = live_hass.emulator
    azure_key, compatible_key, _ = OTHER_KEYS
    await add_entry_over_rest(
        live_hass,
        "azure",
        {"endpoint": server, "api_key": azure_key, "default_model": "gpt-4o-mini"},
    )
    await add_entry_over_rest(
        live_hass,
        "compatible",
        {"base_url": f"{server}/v1", "api_key": compatible_key, "api_mode": "responses"},
        {"default_model": "gpt-4o-mini"},
    )


async def _settled_states(live_hass: LiveHass) -> dict[str, str]:
    """Return the entries' states (by id) once none is still being set up."""
    deadline = asyncio.get_running_loop().time() + SETTLED_LIMIT
    while True:
        entries = await live_hass.client.call("GET", ENTRIES)
        states = {entry["entry_id"]: entry["state"] for entry in entries}
        pending = {"not_loaded", "setup_in_progress", "setup_retry"} & set(states.values())
        if not pending or asyncio.get_running_loop().time() > deadline:
            return states
        await asyncio.sleep(1)


async def test_built_in_integration_leaves_other_servers_alone(live_hass: LiveHass) -> None:
    """Azure and compatible entries (one keyless) are refused by the built-in integration
    in a log line: no request with their keys reaches any server, and no traceback."""
    server = live_hass.emulator
    await add_azure_and_compatible(live_hass)
    await add_entry_over_rest(
        live_hass,
        "compatible",
        {"base_url": f"{server}/v1", "api_mode": "chat_completions"},
        {"default_model": "gpt-4o"},
    )
    before = len(await live_hass.keys())
    await live_hass.restart(
        lambda: shutil.rmtree(live_hass.config_dir / "custom_components" / "openai_conversation")
    )
    manifest = await live_hass.client.ws(
        {"type": "manifest/get", "integration": "openai_conversation"}
    )
    assert manifest["is_built_in"] is True
    states = await _settled_states(live_hass)
    assert len(states) == 3
    assert set(states.values()) == {"migration_error"}, states
    assert (await live_hass.keys())[before:] == []
    assert live_hass.problems(live_hass.logs[1:]) == []
