"""Realtime sessions kept connected, so a reply's first sentence does not wait for a handshake.

Home Assistant asks a TTS for streamed speech only once the agent's reply has begun, so a
session opened then puts the WebSocket handshake (TLS, the upgrade, the server's setup)
right before the first audio of every voice turn. A TTS entity keeps one spare session per
configuration it speaks with (model and the session.update: voice, speed, instructions):
opened after setup and after each reply, reopened when the server ends it, closed after an
idle limit and on unload. Only a request whose settings give the same session.update gets
the spare; any other request, and every request while the server is unreachable, connects
on demand as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import json
import time
from typing import Final

from openai.types.realtime.session_update_event_param import SessionUpdateEventParam

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .backends.realtime_speech import RealtimeSpeech, RealtimeSpeechError
from .const import LOGGER

# A spare nobody used for this long is closed, not reopened: a quiet home holds no
# connection to the server all night; the next reply pays one handshake and leaves a spare.
IDLE_LIMIT: Final = 30 * 60.0
# A spare the server ends sooner than this after its handshake is not reopened, so a server
# that drops every session does not get a reconnection loop.
STEADY: Final = 10.0

type Connect = Callable[[str, SessionUpdateEventParam], RealtimeSpeech]


@dataclass
class _Spare:
    speech: RealtimeSpeech
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class SpareSessions:
    """One connected, configured session per configuration, ready for the next reply."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, connect: Connect) -> None:
        """Keep no spare yet; connect(model, setup) makes an unopened session."""
        self._hass = hass
        self._entry = entry
        self._connect = connect
        self._spares: dict[str, _Spare] = {}
        self._closed = False

    @staticmethod
    def _key(model: str, setup: SessionUpdateEventParam) -> str:
        return json.dumps([model, setup], sort_keys=True)

    @callback
    def prepare(self, model: str, setup: SessionUpdateEventParam) -> None:
        """Open a spare for this configuration in the background, unless one is kept."""
        key = self._key(model, setup)
        if self._closed or key in self._spares:
            return
        spare = _Spare(self._connect(model, setup))
        self._spares[key] = spare
        spare.task = self._entry.async_create_background_task(
            self._hass, self._keep(key, spare), "openai_conversation spare speech session"
        )

    async def _keep(self, key: str, spare: _Spare) -> None:
        """Open the spare and hold it until it is taken (cancelled here), ended or idle."""
        ended = False
        try:
            await spare.speech.open()
            opened = time.monotonic()
            spare.ready.set()
            async with asyncio.timeout(IDLE_LIMIT):
                await spare.speech.wait_closed()
            ended = time.monotonic() - opened >= STEADY
        except RealtimeSpeechError as err:  # unreachable, or these settings are refused
            LOGGER.debug("No spare speech session: %s", err)
        except TimeoutError:
            LOGGER.debug("Closing a speech session unused for %.0f s", IDLE_LIMIT)
        if self._spares.get(key) is spare:
            del self._spares[key]
        await spare.speech.close()
        if ended:  # the server ended a session that had served: keep one ready
            setup = spare.speech.setup
            self.prepare(spare.speech.model, setup)

    async def take(self, model: str, setup: SessionUpdateEventParam) -> RealtimeSpeech | None:
        """Return the open spare for exactly these settings, or None: connect on demand.

        A spare still in its handshake is waited for: it is further along than a new one.
        """
        spare = self._spares.pop(self._key(model, setup), None)
        if spare is None or spare.task is None:
            return None
        task = spare.task
        try:
            if not spare.ready.is_set():
                ready = asyncio.ensure_future(spare.ready.wait())
                await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
                ready.cancel()
            if task.done() or not spare.ready.is_set():  # it failed, or the server ended it
                return None
        except asyncio.CancelledError:
            task.cancel()
            await spare.speech.close()
            raise
        task.cancel()  # its reader stops before the reply reads the session
        await asyncio.wait({task})
        return spare.speech

    async def close(self) -> None:
        """Close every spare and end its task: nothing outlives the entity."""
        self._closed = True
        spares, self._spares = list(self._spares.values()), {}
        tasks = {spare.task for spare in spares if spare.task is not None}
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for spare in spares:
            await spare.speech.close()
