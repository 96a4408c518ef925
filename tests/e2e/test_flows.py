"""A user's flows in a real `hass` process: reauth, reconfigure, subentries (HA 2026.12).

HA 2026.11 logs a report when an integration with an update listener also reloads from its
flows, and HA 2026.12 refuses it. This walks the forms as the frontend does, over REST and
the websocket, counts the entry's loads as the integrations page sees them, and fails on
any report naming this integration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
import json
from typing import Any, Self

import aiohttp

from tools.hass import HassClient

from .conftest import API_KEY, LiveHass

DOMAIN = "openai_conversation"
FLOW = "/api/config/config_entries/flow"
SUBENTRY_FLOW = "/api/config/config_entries/subentries/flow"
WAIT = 120  # seconds; a cold machine reloads slowly, a healthy one at once


class EntryLoads:
    """Counts an entry's loads through `config_entries/subscribe`, as the frontend follows it."""

    def __init__(self, client: HassClient, entry_id: str) -> None:
        """Follow this entry of the instance the client drives."""
        self.client = client
        self.entry_id = entry_id
        self.count = 0
        self.state: str | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        """Subscribe; the current state is not a load."""
        self._ws = await self.client.session.ws_connect(f"{self.client.base}/api/websocket")
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": self.client.token})
        assert (await self._ws.receive_json())["type"] == "auth_ok"
        await self._ws.send_json({"id": 1, "type": "config_entries/subscribe"})
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Unsubscribe."""
        assert self._ws is not None
        assert self._task is not None
        await self._ws.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _follow(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            data = json.loads(message.data)
            for change in data.get("event") or []:
                if change["entry"]["entry_id"] != self.entry_id:
                    continue
                state = change["entry"]["state"]
                if state == "loaded" and self.state not in (None, "loaded"):
                    self.count += 1
                self.state = state

    async def reach(self, count: int) -> None:
        """Wait until the entry has loaded this often and is loaded."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while self.count < count or self.state != "loaded":
            assert asyncio.get_running_loop().time() < deadline, (self.count, self.state)
            await asyncio.sleep(0.1)


async def _wait_loaded(client: HassClient, entry_id: str) -> None:
    """Wait until the entry is loaded (a reload in progress would abort a subentry flow)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        entry = await client.call("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
        if next(e for e in entry if e["entry_id"] == entry_id)["state"] == "loaded":
            return
        assert asyncio.get_running_loop().time() < deadline, entry
        await asyncio.sleep(0.1)


def _shown(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a form shows filled in: its suggested values (defaults apply anyway)."""
    return {
        field["name"]: field["description"]["suggested_value"]
        for field in result.get("data_schema") or []
        if (field.get("description") or {}).get("suggested_value") is not None
    }


async def _walk(
    client: HassClient, base: str, result: dict[str, Any], answers: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """Submit each form with what it shows plus this test's answers for its step."""
    while result["type"] == "form":
        assert not result.get("errors"), result
        body = _shown(result) | answers.get(result["step_id"], {})
        result = await client.call("POST", f"{base}/{result['flow_id']}", json=body)
    return result


async def _subentry_flow(
    client: HassClient,
    entry_id: str,
    kind: str,
    answers: Mapping[str, dict[str, Any]],
    subentry_id: str | None = None,
) -> dict[str, Any]:
    """Add a subentry, or reconfigure the one given, through its forms."""
    start: dict[str, Any] = {"handler": [entry_id, kind]}
    if subentry_id is not None:
        start["subentry_id"] = subentry_id
    result = await client.call("POST", SUBENTRY_FLOW, json=start)
    return await _walk(client, SUBENTRY_FLOW, result, answers)


async def _subentries(client: HassClient, entry_id: str) -> dict[str, str]:
    """Return the entry's subentry ids by title."""
    listed = await client.ws({"type": "config_entries/subentries/list", "entry_id": entry_id})
    return {item["title"]: item["subentry_id"] for item in listed}


async def _last_request(live_hass: LiveHass) -> dict[str, Any]:
    return dict((await live_hass.recorded("/v1/responses"))[-1])


async def _assist_answers(client: HassClient) -> None:
    """Assist still works: the agent turns the kitchen light on."""
    result = await client.call(
        "POST",
        "/api/conversation/process",
        json={"text": "Turn on the kitchen light", "agent_id": "conversation.openai_conversation"},
    )
    assert result["response"]["speech"]["plain"]["speech"] == "Done: Kitchen light."
    assert (await client.call("GET", "/api/states/light.kitchen_light"))["state"] == "on"


async def _reconfigure_with_the_same_key(live_hass: LiveHass, entry_id: str) -> None:
    """Reconfigure and submit the form unchanged: nothing changed, so nothing reloads."""
    client = live_hass.client
    result = await client.call("POST", FLOW, json={"handler": DOMAIN, "entry_id": entry_id})
    result = await _walk(client, FLOW, result, {"openai": {"api_key": API_KEY}})
    assert result["reason"] == "reconfigure_successful"
    await _wait_loaded(client, entry_id)
    assert live_hass.problems() == []  # HA 2026.11 reported a reload here


async def _edit_agent_and_task(live_hass: LiveHass, entry_id: str, loads: EntryLoads) -> None:
    """Edit the agent's prompt and the AI Task's token budget; each takes effect."""
    client = live_hass.client
    subentries = await _subentries(client, entry_id)
    before = loads.count
    edit = {"init": {"prompt": "Answer like a butler."}}
    sid = subentries["OpenAI Conversation"]
    result = await _subentry_flow(client, entry_id, "conversation", edit, sid)
    assert result["reason"] == "reconfigure_successful"
    await loads.reach(before + 1)
    await _assist_answers(client)
    assert "Answer like a butler." in json.dumps((await _last_request(live_hass))["input"][0])

    edit = {"init": {"recommended": False}, "additional": {"max_tokens": 1234}}
    sid = subentries["OpenAI AI Task"]
    result = await _subentry_flow(client, entry_id, "ai_task_data", edit, sid)
    assert result["reason"] == "reconfigure_successful"
    await loads.reach(before + 2)
    task = {
        "task_name": "hello",
        "instructions": "Say hello",
        "entity_id": "ai_task.openai_ai_task",
    }
    await client.call("POST", "/api/services/ai_task/generate_data?return_response", json=task)
    assert (await _last_request(live_hass))["max_output_tokens"] == 1234


async def _add_and_remove(
    client: HassClient, entry_id: str, loads: EntryLoads, kind: str, entity_id: str
) -> None:
    """Add a subentry named Extra, see its entity, delete it, see the entity go."""
    before = loads.count
    added = await _subentry_flow(client, entry_id, kind, {"init": {"name": "Extra"}})
    assert added["type"] == "create_entry"
    await loads.reach(before + 1)
    assert (await client.call("GET", f"/api/states/{entity_id}"))["state"]
    extra = (await _subentries(client, entry_id))["Extra"]
    delete = {"type": "config_entries/subentries/delete", "entry_id": entry_id}
    await client.ws({**delete, "subentry_id": extra})
    await loads.reach(before + 2)
    states = await client.call("GET", "/api/states")
    assert entity_id not in {state["entity_id"] for state in states}


async def _reconfigure_and_edit(live_hass: LiveHass, entry_id: str) -> None:
    """Reconfigure, edit the agent and the AI Task, add and remove subentries."""
    client = live_hass.client
    async with EntryLoads(client, entry_id) as loads:
        await _reconfigure_with_the_same_key(live_hass, entry_id)
        await _edit_agent_and_task(live_hass, entry_id, loads)
        await _add_and_remove(client, entry_id, loads, "conversation", "conversation.extra")
        changes = 4
        if "OpenAI Evaluation" in await _subentries(client, entry_id):  # HA 2026.11+
            await _add_and_remove(client, entry_id, loads, "ai_task_evaluate", "ai_task.extra")
            changes += 2
        await _assist_answers(client)
        assert loads.count == changes  # each change reloaded the entry once


def _revoke_stored_key(live_hass: LiveHass) -> None:
    """The key the entry holds stops working (rotated at OpenAI): store one the server refuses."""
    path = live_hass.config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text())
    for entry in stored["data"]["entries"]:
        if entry["domain"] == DOMAIN:
            entry["data"]["api_key"] = "sk-rotated-away"
    path.write_text(json.dumps(stored))


async def _reauth_flow(client: HassClient) -> dict[str, Any]:
    """Wait for the reauth flow Home Assistant starts for a refused key."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        flows = await client.ws({"type": "config_entries/flow/progress"})
        for flow in flows:
            if flow["handler"] == DOMAIN and flow["context"]["source"] == "reauth":
                return dict(flow)
        assert asyncio.get_running_loop().time() < deadline, flows
        await asyncio.sleep(0.2)


async def test_reauth_reconfigure_and_subentry_edits_reload_once(live_hass: LiveHass) -> None:
    client = live_hass.client
    entry_id = await client.ensure_openai_entry(API_KEY)
    await _reconfigure_and_edit(live_hass, entry_id)

    await live_hass.restart(lambda: _revoke_stored_key(live_hass))
    flow = await _reauth_flow(client)
    async with EntryLoads(client, entry_id) as loads:
        result = await client.call("GET", f"{FLOW}/{flow['flow_id']}")
        result = await _walk(client, FLOW, result, {"reauth_confirm": {"api_key": API_KEY}})
        assert result["reason"] == "reauth_successful"
        await loads.reach(1)
        await _assist_answers(client)
        assert loads.count == 1
    assert live_hass.problems() == []
