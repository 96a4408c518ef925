"""The one WebSocket handshake of both Realtime uses: live transcription and Realtime TTS.

Where a provider's Realtime sessions connect and how they authenticate is resolved once per
entry (client.py), from the same settings as the SDK client, so a session presents what the
SDK's own requests present: the key in the provider's header, and OpenAI's organization and
project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp


class HandshakeError(Exception):
    """The server refused the upgrade, or did not answer it in time."""

    def __init__(self, message: str, status: int | None = None, *, timed_out: bool = False) -> None:
        """Initialize; status: the HTTP status the server refused the upgrade with."""
        super().__init__(message)
        self.status = status
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class RealtimeRoute:
    """A provider's Realtime endpoint: its URL, its headers, and how a session names a model."""

    url: str
    headers: Mapping[str, str]
    # What every session's URL carries (Azure's api-version).
    query: Mapping[str, str] = field(default_factory=dict)
    # Azure's versioned route names a deployment; OpenAI and the v1 routes a model.
    model_param: str = "model"

    def session_url(self, params: Mapping[str, str]) -> str:
        """Return one session's URL: the route's query, then the session's own."""
        return f"{self.url}?{urlencode({**self.query, **params})}"


def websocket_url(base_url: str) -> str:
    """Return a server's Realtime URL (ws, or wss where the server speaks https)."""
    scheme, rest = base_url.rstrip("/").split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/realtime"


async def async_handshake(
    session: aiohttp.ClientSession,
    route: RealtimeRoute,
    params: Mapping[str, str],
    limit: float,
) -> aiohttp.ClientWebSocketResponse:
    """Open a Realtime session's WebSocket, or raise HandshakeError.

    A server (or proxy) that takes the connection and never answers the upgrade must not
    hold the caller: past limit (seconds) it gives up.
    """
    try:
        async with asyncio.timeout(limit):
            return await session.ws_connect(
                route.session_url(params),
                headers=dict(route.headers),
                timeout=aiohttp.ClientWSTimeout(ws_close=5),
            )
    except aiohttp.WSServerHandshakeError as err:
        raise HandshakeError(f"the server refused the session ({err.status})", err.status) from err
    except TimeoutError as err:
        message = f"no answer to the handshake within {limit:g} s"
        raise HandshakeError(message, timed_out=True) from err
    except aiohttp.ClientError as err:
        raise HandshakeError(str(err) or type(err).__name__) from err
