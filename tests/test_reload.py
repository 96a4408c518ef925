"""Every change through a flow reloads the entry once, by one mechanism (HA 2026.12).

HA 2026.12 refuses an integration that has an update listener and also reloads from its
flows; HA 2026.11 reports it in the log (the autouse fixture fails a test on that report).
Each test counts the entry's loads through HA's own config entry signal.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import pytest

from custom_components.openai_conversation.const import DOMAIN
from emulator import Error, OpenAIEmulator
from homeassistant import config_entries
from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigEntryState,
)
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .conftest import API_KEY

NEW_KEY = "sk-rotated-key"


class Loads:
    """Counts the times an entry enters the loaded state."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Start counting from the entry's current state."""
        self.count = 0
        self._entry_id = entry.entry_id
        self._state = entry.state
        self.stop = async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._changed)

    @callback
    def _changed(self, change: ConfigEntryChange, entry: ConfigEntry) -> None:
        if entry.entry_id != self._entry_id:
            return
        if entry.state is ConfigEntryState.LOADED and self._state is not ConfigEntryState.LOADED:
            self.count += 1
        self._state = entry.state


@pytest.fixture
async def entry(hass: HomeAssistant, emulator: OpenAIEmulator) -> ConfigEntry:
    """An OpenAI entry added through the config flow, as a user adds it, and loaded."""
    emulator.api_keys.add(NEW_KEY)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "openai"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    await hass.async_block_till_done()
    created: ConfigEntry = result["result"]
    assert created.state is ConfigEntryState.LOADED
    return created


@pytest.fixture
def loads(hass: HomeAssistant, entry: ConfigEntry) -> Generator[Loads]:
    """Count the entry's loads from here on."""
    counter = Loads(hass, entry)
    yield counter
    counter.stop()


async def _finish_flow(
    hass: HomeAssistant, result: Mapping[str, Any], answers: Mapping[str, dict[str, Any]]
) -> Mapping[str, Any]:
    """Fill in each form as the frontend does (shown values) plus the answers for its step."""
    while result["type"] is FlowResultType.FORM:
        shown = {
            str(key): key.description["suggested_value"]
            for key in result["data_schema"].schema
            if (key.description or {}).get("suggested_value") is not None
        }
        user_input = shown | answers.get(result["step_id"], {})
        result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
        assert not result.get("errors"), result
    await hass.async_block_till_done()
    return result


async def _subentry_flow(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    answers: Mapping[str, dict[str, Any]],
    subentry_id: str | None = None,
) -> Mapping[str, Any]:
    """Add (or, given its id, reconfigure) a subentry through its flow."""
    context: dict[str, Any] = {"source": config_entries.SOURCE_USER}
    if subentry_id is not None:
        context = {"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": subentry_id}
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, kind), context=context
    )
    return await _finish_flow(hass, result, answers)


def _entity_of(hass: HomeAssistant, entry: ConfigEntry, subentry_id: str) -> str | None:
    """Return the entity id of a subentry's entity (None once it is gone)."""
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if item.config_subentry_id == subentry_id and item.domain != "sensor":
            return item.entity_id
    return None


async def _reconfigure(hass: HomeAssistant, entry: ConfigEntry, key: str) -> Mapping[str, Any]:
    """Reconfigure the entry as the frontend does, submitting this key."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: key})
    await hass.async_block_till_done()
    return result


async def _reauthenticate(hass: HomeAssistant, key: str) -> Mapping[str, Any]:
    """Submit a key to the reauth flow Home Assistant started."""
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == config_entries.SOURCE_REAUTH
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_API_KEY: key})
    await hass.async_block_till_done()
    return result


async def _ask(hass: HomeAssistant, expect: str = "action_done") -> None:
    """One Assist turn through the entry's agent; expect this response type."""
    result = await hass.services.async_call(
        "conversation",
        "process",
        {"text": "hello", "agent_id": "conversation.openai_conversation"},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert result["response"]["response_type"] == expect


@pytest.mark.parametrize(("key", "reloads"), [(API_KEY, 0), (NEW_KEY, 1)])
async def test_reconfigure_reloads_once_when_something_changed(
    hass: HomeAssistant,
    entry: ConfigEntry,
    loads: Loads,
    emulator: OpenAIEmulator,
    key: str,
    reloads: int,
) -> None:
    result = await _reconfigure(hass, entry, key)
    assert result["reason"] == "reconfigure_successful"
    assert loads.count == reloads
    assert entry.state is ConfigEntryState.LOADED
    await _ask(hass)
    assert emulator.requests_to("/v1/responses")[-1].headers["Authorization"] == f"Bearer {key}"


@pytest.mark.parametrize(("key", "reloads"), [(API_KEY, 0), (NEW_KEY, 1)])
async def test_reauth_of_a_loaded_entry_reloads_once_when_the_key_changed(
    hass: HomeAssistant,
    entry: ConfigEntry,
    loads: Loads,
    emulator: OpenAIEmulator,
    key: str,
    reloads: int,
) -> None:
    """A refused key during a turn starts reauth; the entry stays loaded meanwhile."""
    emulator.fail_next("/v1/responses", Error(401, "Incorrect API key", code="invalid_api_key"))
    await _ask(hass, expect="error")
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    result = await _reauthenticate(hass, key)
    assert result["reason"] == "reauth_successful"
    assert loads.count == reloads
    await _ask(hass)
    assert emulator.requests_to("/v1/responses")[-1].headers["Authorization"] == f"Bearer {key}"


async def test_reauth_of_an_entry_that_failed_to_load_loads_it(
    hass: HomeAssistant, entry: ConfigEntry, loads: Loads, emulator: OpenAIEmulator
) -> None:
    """A key refused at setup leaves no listener: the flow itself loads the entry."""
    emulator.api_keys.discard(API_KEY)
    assert not await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    result = await _reauthenticate(hass, NEW_KEY)
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert loads.count == 1
    await _ask(hass)
    assert emulator.requests_to("/v1/responses")[-1].headers["Authorization"] == f"Bearer {NEW_KEY}"


# A change per subentry type, made on the step that asks for it.
EDITS = [
    pytest.param("conversation", {"init": {"prompt": "Answer in French."}}, id="conversation"),
    pytest.param(
        "ai_task_data",
        {"init": {"recommended": False}, "additional": {"max_tokens": 1234}},
        id="ai_task",
    ),
    pytest.param("stt", {"settings": {"prompt": "Kitchen, pantry."}}, id="stt"),
    pytest.param("tts", {"settings": {"voice": "cedar"}}, id="tts"),
]


@pytest.mark.parametrize(("kind", "edit"), EDITS)
async def test_subentry_add_edit_delete_each_reload_once(
    hass: HomeAssistant,
    entry: ConfigEntry,
    loads: Loads,
    kind: str,
    edit: dict[str, dict[str, Any]],
) -> None:
    result = await _subentry_flow(hass, entry, kind, {"init": {CONF_NAME: "Second one"}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry_id = next(s.subentry_id for s in entry.subentries.values() if s.title == "Second one")
    entity_id = _entity_of(hass, entry, subentry_id)
    assert entity_id is not None
    assert hass.states.get(entity_id) is not None
    assert loads.count == 1

    result = await _subentry_flow(hass, entry, kind, edit, subentry_id)
    assert result["reason"] == "reconfigure_successful"
    changed = entry.subentries[subentry_id].data
    assert changed.items() >= list(edit.values())[-1].items()
    assert loads.count == 2
    assert hass.states.get(entity_id) is not None

    assert hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()
    assert loads.count == 3
    assert _entity_of(hass, entry, subentry_id) is None
    assert hass.states.get(entity_id) is None
    assert entry.state is ConfigEntryState.LOADED


async def test_an_edited_agent_speaks_with_its_new_settings(
    hass: HomeAssistant, entry: ConfigEntry, loads: Loads, emulator: OpenAIEmulator
) -> None:
    agent = next(s for s in entry.subentries.values() if s.subentry_type == "conversation")
    edit = {"init": {"prompt": "Answer in French."}}
    await _subentry_flow(hass, entry, "conversation", edit, agent.subentry_id)
    assert loads.count == 1
    await _ask(hass)
    developer = emulator.requests_to("/v1/responses")[-1].body["input"][0]
    assert "Answer in French." in str(developer["content"])
