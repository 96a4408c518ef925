"""Request fields OpenAI's own servers want: safety_identifier, extended prompt caching."""

from __future__ import annotations

import openai
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant

from .test_providers import _add_compatible
from .test_subentry_forms import agent_through_the_form

CACHE_FIELDS = ("prompt_cache_retention", "prompt_cache_options")


async def _ask(hass: HomeAssistant, emulator: OpenAIEmulator, agent: str) -> dict[str, object]:
    """Ask the agent once; return the body of its request."""
    emulator.queue(Reply([Text("Hi.")]))
    result = await conversation.async_converse(hass, "Hello", None, Context(), agent_id=agent)
    assert result.response.speech["plain"]["speech"] == "Hi.", result.response.speech
    body: dict[str, object] = emulator.requests[-1].body
    body["conversation_id"] = result.conversation_id
    return body


@pytest.mark.parametrize(
    ("model", "cache"),
    [
        ("gpt-4.1", {"prompt_cache_retention": "24h"}),
        ("gpt-5.1", {"prompt_cache_retention": "24h"}),
        # In-memory caching only.
        ("gpt-4o", {}),
        ("gpt-5-mini", {}),
        # Keeps its cache 30 minutes by default, the only choice; refuses the retention.
        ("gpt-6-luna", {}),
    ],
)
async def test_openai_requests_ask_for_what_the_model_takes(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    model: str,
    cache: dict[str, str],
) -> None:
    """safety_identifier instead of user; extended caching where the model has it."""
    advanced = {"chat_model": model}
    await agent_through_the_form(hass, setup_entry, {}, advanced)
    body = await _ask(hass, emulator, "conversation.sampler")
    assert body["safety_identifier"] == body["conversation_id"]
    assert "user" not in body
    assert {k: body[k] for k in CACHE_FIELDS if k in body} == cache


async def test_other_servers_get_no_openai_fields(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A compatible server gets neither field, whatever its model's name."""
    await _add_compatible(hass, emulator, "gpt-4.1")
    await hass.async_block_till_done()
    body = await _ask(hass, emulator, "conversation.openai_conversation")
    assert not {"safety_identifier", *CACHE_FIELDS} & body.keys()


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-6-luna"])
async def test_emulator_refuses_retention_where_openai_does(
    emulator: OpenAIEmulator, model: str
) -> None:
    """As OpenAI: "prompt_cache_retention is not supported on this model"."""
    client = openai.AsyncOpenAI(api_key="sk-test-key", base_url=emulator.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="not supported on this model"):
        await client.responses.create(
            model=model, input="Hi", extra_body={"prompt_cache_retention": "24h"}
        )
