"""Build the OpenAI SDK client on Home Assistant's shared HTTP client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client

from .backends import Backend
from .const import DEFAULT_REQUEST_TIMEOUT


@dataclass(slots=True)
class OpenAIRuntimeData:
    """What a loaded entry holds: one shared SDK client and the backend using it."""

    client: openai.AsyncOpenAI
    backend: Backend


type OpenAIConfigEntry = ConfigEntry[OpenAIRuntimeData]


def _make_client(data: Mapping[str, Any], http_client: Any) -> openai.AsyncOpenAI:
    """Construct the client; runs in the executor (the SDK reads platform info)."""
    kwargs: dict[str, Any] = {
        "api_key": data[CONF_API_KEY],
        # One retry: a voice satellite waits for the whole retry budget.
        "max_retries": 1,
        "timeout": httpx.Timeout(DEFAULT_REQUEST_TIMEOUT, connect=10.0),
    }
    try:
        client = openai.AsyncOpenAI(http_client=http_client, **kwargs)
    except TypeError:
        # openai 3.x is built on httpx2 and refuses HA's httpx client: use its own.
        client = openai.AsyncOpenAI(**kwargs)
    # Cache the platform headers the SDK adds to every request (reads files once).
    client.platform_headers()
    return client


async def async_create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> openai.AsyncOpenAI:
    """Return an SDK client for an entry's data without blocking the event loop."""
    http_client = get_async_client(hass)
    return await hass.async_add_executor_job(_make_client, data, http_client)
