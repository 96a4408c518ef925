"""Voice turns as satellites make them: from a device that supports timers.

Home Assistant offers the model its timer tools only for turns that carry such a device's id
(Voice PE, the companion app). HassStartTimer's parameters convert to an object with a
top-level anyOf, which OpenAI refuses for the whole request; the emulator refuses it too.
Entries and agents are made through the config and subentry flows, as a user makes them.
"""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.openai_conversation.compat import PROBATIO
from custom_components.openai_conversation.schema import TOP_LEVEL_REFUSED, plain_parameters
from emulator import OpenAIEmulator
from emulator.demo import demo_reply
from homeassistant import config_entries
from homeassistant.components import conversation
from homeassistant.components.intent import TimerEventType
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_LLM_HASS_API, CONF_NAME
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component

from .conftest import API_KEY, Satellite

DOMAIN = "openai_conversation"
# Components whose intents the Assist API can offer as tools.
INTENT_COMPONENTS = (
    "intent",
    "light",
    "climate",
    "media_player",
    "fan",
    "vacuum",
    "todo",
    "weather",
    "lawn_mower",
    "humidifier",
    "shopping_list",
    "cover",
    "valve",
)


async def _add_entry(hass: HomeAssistant, emulator: OpenAIEmulator, wire: str) -> ConfigEntry:
    """Add an entry through the config flow: OpenAI (Responses) or a Chat Completions server."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    if wire == "responses":
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "openai"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"api_key": API_KEY}
        )
    else:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "compatible"}
        )
        server = {"base_url": emulator.base_url, "api_key": API_KEY, "api_mode": wire}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], server)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"default_model": "gpt-4o-mini"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    emulator.requests.clear()
    return result["result"]


async def _add_agent(hass: HomeAssistant, entry: ConfigEntry, name: str, api: str) -> str:
    """Add a recommended agent with this LLM API through the subentry flow; return its id."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "conversation"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_NAME: name, CONF_LLM_HASS_API: [api], "recommended": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    return f"conversation.{name.lower().replace(' ', '_')}"


async def _speak(
    hass: HomeAssistant, agent_id: str, text: str, device_id: str
) -> conversation.ConversationResult:
    """One spoken turn from the satellite, in a task of its own as Assist runs it."""
    return await hass.async_create_task(
        conversation.async_converse(
            hass, text, None, Context(), agent_id=agent_id, device_id=device_id
        )
    )


def _sent_tools(emulator: OpenAIEmulator) -> list[dict[str, Any]]:
    """Return the function tools of the last model request, in either wire format."""
    body = next(r for r in reversed(emulator.requests) if r.method == "POST").body
    return [tool.get("function", tool) for tool in body.get("tools") or []]


@pytest.fixture(params=["responses", "chat_completions"])
async def voice_agent(hass: HomeAssistant, emulator: OpenAIEmulator, request: Any) -> str:
    """An Assist agent answered by the demo model, in each wire format; return its id."""
    emulator.responder = demo_reply
    entry = await _add_entry(hass, emulator, request.param)
    return await _add_agent(hass, entry, "Voice", llm.LLM_API_ASSIST)


async def test_spoken_command_turns_the_light_on(
    hass: HomeAssistant, emulator: OpenAIEmulator, satellite: Satellite, voice_agent: str
) -> None:
    result = await _speak(hass, voice_agent, "Turn on the kitchen light", satellite.device_id)

    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, result
    assert hass.states.get("input_boolean.kitchen_light").state == "on"
    timer_tool = next(t for t in _sent_tools(emulator) if t["name"].endswith("HassStartTimer"))
    assert timer_tool["parameters"]["type"] == "object"
    assert not TOP_LEVEL_REFUSED & timer_tool["parameters"].keys()
    if PROBATIO:  # HA 2026.10's converter writes the anyOf; the rule goes to the description
        assert timer_tool["description"].endswith("Give at least one of: hours, minutes, seconds.")


async def test_spoken_timer_starts_on_the_satellite(
    hass: HomeAssistant, satellite: Satellite, voice_agent: str
) -> None:
    result = await _speak(hass, voice_agent, "Set a timer for five minutes", satellite.device_id)

    assert result.response.speech["plain"]["speech"] == "Done."
    [(event, timer)] = satellite.timers
    assert event is TimerEventType.STARTED
    assert (timer.start_hours, timer.start_minutes, timer.start_seconds) == (None, 5, None)
    assert timer.device_id == satellite.device_id


class EveryIntentAPI(llm.API):
    """Offers every intent Home Assistant has registered, timers included, as a tool."""

    async def async_get_api_instance(self, llm_context: llm.LLMContext) -> llm.APIInstance:
        """Return the tools: one per registered intent handler."""
        tools: list[llm.Tool] = [
            llm.IntentTool(handler.intent_type, handler) for handler in intent.async_get(self.hass)
        ]
        return llm.APIInstance(
            self, "Use the tools.", llm_context, tools, custom_serializer=llm.selector_serializer
        )


@pytest.mark.parametrize("wire", ["responses", "chat_completions"])
async def test_every_intent_tool_is_accepted(
    hass: HomeAssistant, emulator: OpenAIEmulator, satellite: Satellite, wire: str
) -> None:
    """Every intent any of these components registers reaches the strict emulator."""
    for component in INTENT_COMPONENTS:
        assert await async_setup_component(hass, component, {})
    llm.async_register_api(hass, EveryIntentAPI(hass=hass, id="every_intent", name="Every"))
    entry = await _add_entry(hass, emulator, wire)
    agent = await _add_agent(hass, entry, "Everything", "every_intent")

    result = await _speak(hass, agent, "What can you do?", satellite.device_id)

    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, result
    tools = {tool["name"]: tool for tool in _sent_tools(emulator)}
    assert {"HassStartTimer", "HassTurnOn", "HassLightSet", "HassListAddItem"} <= tools.keys()
    for tool in tools.values():
        assert tool["parameters"]["type"] == "object", tool
        assert not TOP_LEVEL_REFUSED & tool["parameters"].keys(), tool


DURATION = {"hours": {"type": "integer"}, "minutes": {"type": "integer"}}


@pytest.mark.parametrize(
    ("schema", "plain", "rule"),
    [
        (  # HassStartTimer as HA 2026.10 converts it
            {
                "type": "object",
                "properties": DURATION,
                "additionalProperties": False,
                "anyOf": [{"required": ["hours"]}, {"required": ["minutes"]}],
            },
            {"type": "object", "properties": DURATION, "additionalProperties": False},
            "Give at least one of: hours, minutes.",
        ),
        (  # branches that bring their own properties, without a top-level type
            {
                "oneOf": [
                    {"properties": {"hours": DURATION["hours"]}, "required": ["hours"]},
                    {"properties": DURATION, "required": ["minutes", "hours"]},
                ]
            },
            {"type": "object", "properties": DURATION},
            "Give exactly one of: hours, minutes and hours.",
        ),
        (  # allOf: every branch holds, so its required properties stay required
            {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
                "allOf": [{"properties": DURATION, "required": ["hours"]}],
                "not": {"required": ["minutes", "hours"]},
                "enum": [{}],
            },
            {
                "type": "object",
                "properties": {"name": {"type": "string"}, **DURATION},
                "required": ["name", "hours"],
            },
            "Do not give all of: minutes, hours.",
        ),
    ],
)
def test_top_level_branches_fold_into_a_plain_object(
    schema: dict[str, Any], plain: dict[str, Any], rule: str
) -> None:
    assert plain_parameters(schema) == (plain, rule)


def test_a_plain_object_is_sent_as_it_is() -> None:
    schema = {"type": "object", "properties": DURATION, "required": ["hours"]}
    assert plain_parameters(schema) == (schema, "")
    assert plain_parameters({}) == ({"type": "object", "properties": {}}, "")
