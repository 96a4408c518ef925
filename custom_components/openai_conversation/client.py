"""Build the SDK client and backend for a provider, on Home Assistant's shared HTTP client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import openai

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client

from .backends import Backend
from .backends.chat_completions import ChatCompletionsBackend
from .backends.handshake import RealtimeRoute, websocket_url
from .backends.responses import ResponsesBackend
from .backends.seam import Seam
from .const import (
    API_MODE_CHAT,
    API_MODE_RESPONSES,
    AZURE_V1,
    CONF_API_MODE,
    CONF_API_VERSION,
    CONF_BASE_URL,
    CONF_CHAT_MODEL,
    CONF_DEFAULT_MODEL,
    CONF_ENDPOINT,
    CONF_HISTORY_TOKENS,
    CONF_ORGANIZATION,
    CONF_PROJECT,
    CONF_PROVIDER,
    DEFAULT_COMPATIBLE_HISTORY_TOKENS,
    DEFAULT_REQUEST_TIMEOUT,
    PROVIDER_AZURE,
    PROVIDER_COMPATIBLE,
    PROVIDER_OPENAI,
    RECOMMENDED_CHAT_MODEL,
    VALIDATION_TIMEOUT,
)
from .lifecycle import shutdown_dates

# Every SDK resource the integration calls.
SDK_RESOURCES = ("audio", "chat", "embeddings", "images", "models", "responses")
# Resources only newer SDKs have (decisions: openai 3.2x, for ai_task.evaluate).
OPTIONAL_SDK_RESOURCES = ("decisions",)


class SpokenCount(Protocol):
    """What a Realtime voice session counted."""

    sentences: int
    reworded: int


@dataclass(slots=True)
class OpenAIRuntimeData:
    """What a loaded entry holds: the seam every call to its server goes through."""

    seam: Seam
    # The server's model list, and the shutdown dates it carries (OpenAI only).
    models: list[str] = field(default_factory=list)
    shutdowns: dict[str, date] = field(default_factory=dict)
    # Per TTS entity: sentences a Realtime voice read, and those it read differently.
    speech: dict[str, dict[str, int]] = field(default_factory=dict)

    def count_speech(self, name: str | None, spoken: SpokenCount) -> None:
        """Add one Realtime session's sentences to an entity's counts (for diagnostics)."""
        counts = self.speech.setdefault(name or "", {"sentences": 0, "reworded": 0})
        counts["sentences"] += spoken.sentences
        counts["reworded"] += spoken.reworded

    def read_model_list(self, listed: Iterable[Any]) -> None:
        """Keep the models a server listed, and the shutdown dates it gave them."""
        listed = list(listed)
        self.models = [model.id for model in listed]
        self.shutdowns = shutdown_dates(listed)


type OpenAIConfigEntry = ConfigEntry[OpenAIRuntimeData]


def provider(data: Mapping[str, Any]) -> str:
    """Return an entry's provider; core's entries are OpenAI's."""
    return str(data.get(CONF_PROVIDER, PROVIDER_OPENAI))


def api_mode(data: Mapping[str, Any]) -> str:
    """Return the wire format an entry speaks."""
    return str(data.get(CONF_API_MODE, API_MODE_RESPONSES))


def default_model(data: Mapping[str, Any]) -> str:
    """Return the model agents of the entry use unless they name one."""
    return str(data.get(CONF_DEFAULT_MODEL) or RECOMMENDED_CHAT_MODEL)


def resolve_model(data: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """Return the model a subentry uses."""
    return str(options.get(CONF_CHAT_MODEL) or default_model(data))


def history_tokens(data: Mapping[str, Any], options: Mapping[str, Any]) -> int:
    """Return how many tokens of conversation an agent sends (0: all of it)."""
    default = DEFAULT_COMPATIBLE_HISTORY_TOKENS if provider(data) == PROVIDER_COMPATIBLE else 0
    return int(options.get(CONF_HISTORY_TOKENS, default))


def fallback_history_tokens(data: Mapping[str, Any], options: Mapping[str, Any]) -> int:
    """Return the history limit of a fallback to another server (entry data: that one's).

    The tighter of the agent's own limit and that server's default: an OpenAI agent's 0
    (all of it) would overflow a local model's context.
    """
    own = int(options.get(CONF_HISTORY_TOKENS, 0))
    limits = [limit for limit in (own, history_tokens(data, {})) if limit > 0]
    return min(limits, default=0)


def normalize_azure(url: str) -> tuple[str, str | None, str | None]:
    """Split what a user pasted into (resource root, deployment, api-version).

    Accepts the resource root, a full /openai/deployments/<name>/...?api-version= URL, or
    the /openai/v1 route.
    """
    parts = urlsplit(url.strip())
    root = f"{parts.scheme or 'https'}://{parts.netloc or parts.path.split('/')[0]}"
    path = parts.path if parts.netloc else "/" + "/".join(parts.path.split("/")[1:])
    segments = [s for s in path.split("/") if s]
    deployment = None
    version = parse_qs(parts.query).get("api-version", [None])[0]
    if segments[:2] == ["openai", "deployments"] and len(segments) > 2:
        deployment = segments[2]
    elif segments[:2] == ["openai", AZURE_V1]:
        version = AZURE_V1
    return root, deployment, version


def _make_client(data: Mapping[str, Any], http_client: Any) -> openai.AsyncOpenAI:
    """Construct the client; runs in the executor (the SDK reads platform info)."""
    common: dict[str, Any] = {
        # One retry: a voice satellite waits for the whole retry budget.
        "max_retries": 1,
        "timeout": openai.Timeout(DEFAULT_REQUEST_TIMEOUT, connect=10.0),
        "http_client": http_client,
    }
    key = data.get(CONF_API_KEY) or None
    client: openai.AsyncOpenAI
    if provider(data) == PROVIDER_AZURE:
        endpoint = data[CONF_ENDPOINT].rstrip("/")
        if data[CONF_API_VERSION] == AZURE_V1:
            client = openai.AsyncOpenAI(
                api_key=key,
                base_url=f"{endpoint}/openai/v1",
                default_headers={"api-key": key or ""},
                **common,
            )
        else:
            client = openai.AsyncAzureOpenAI(
                api_key=key, azure_endpoint=endpoint, api_version=data[CONF_API_VERSION], **common
            )
    elif provider(data) == PROVIDER_COMPATIBLE:
        # Local servers often need no key; the SDK insists on one.
        client = openai.AsyncOpenAI(api_key=key or "no-key", base_url=data[CONF_BASE_URL], **common)
    else:
        client = openai.AsyncOpenAI(
            api_key=key,
            organization=data.get(CONF_ORGANIZATION) or None,
            project=data.get(CONF_PROJECT) or None,
            **common,
        )
    # Cache the platform headers the SDK adds to every request (reads files once).
    client.platform_headers()
    # The SDK imports a resource's module on first use; import them here, not in the loop.
    for resource in SDK_RESOURCES:
        getattr(client, resource)
    for resource in OPTIONAL_SDK_RESOURCES:
        getattr(client, resource, None)
    return client


def realtime_route(data: Mapping[str, Any], client: openai.AsyncOpenAI) -> RealtimeRoute:
    """Return where the provider's Realtime sessions connect, authenticated as the client is.

    Azure takes its key in the api-key header; its versioned route names a deployment and
    the API version, the v1 route a model. OpenAI's sessions carry the organization and
    project the SDK's requests carry.
    """
    url = websocket_url(str(client.base_url))
    if provider(data) == PROVIDER_AZURE:
        headers = {"api-key": client.api_key}
        if data[CONF_API_VERSION] == AZURE_V1:
            return RealtimeRoute(url, headers)
        query = {"api-version": data[CONF_API_VERSION]}
        return RealtimeRoute(url, headers, query, model_param="deployment")
    headers = {"Authorization": f"Bearer {client.api_key}"}
    if client.organization:
        headers["OpenAI-Organization"] = client.organization
    if client.project:
        headers["OpenAI-Project"] = client.project
    return RealtimeRoute(url, headers)


async def async_create_seam(
    hass: HomeAssistant, data: Mapping[str, Any], *, check: bool = False
) -> Seam:
    """Return the seam for an entry's data, built without blocking the event loop.

    check: for the config flow's checks, which someone waits on (short, no retries).
    """
    client = await hass.async_add_executor_job(_make_client, data, get_async_client(hass))
    if check:
        client = client.with_options(timeout=VALIDATION_TIMEOUT, max_retries=0)
    return Seam(hass, client, create_backend(hass, client, data), realtime_route(data, client))


def create_backend(
    hass: HomeAssistant, client: openai.AsyncOpenAI, data: Mapping[str, Any]
) -> Backend:
    """Return the backend for an entry's provider and API mode."""
    if api_mode(data) == API_MODE_CHAT:
        return ChatCompletionsBackend(
            hass,
            client,
            openai_server=provider(data) != PROVIDER_COMPATIBLE,
            azure_api_version=data.get(CONF_API_VERSION)
            if provider(data) == PROVIDER_AZURE
            else None,
        )
    return ResponsesBackend(
        hass,
        client,
        server_tools=provider(data) == PROVIDER_OPENAI,
        pdfs=provider(data) != PROVIDER_COMPATIBLE,
    )
