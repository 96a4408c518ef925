"""The seam: every call an entry makes to its server goes through its one Seam.

client.py builds one per config entry (and one for each config-flow check), with what the
provider resolves once: the SDK client (authentication, base URL, API version), the chat
backend for the entry's wire format, and the Realtime route. Platforms, actions and flows
hand the seam a request typed with the SDK's TypedDicts and read the SDK's answer; no other
module calls the SDK's resources or opens a connection (tests/test_seam.py checks).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Final

import openai
from openai.types import CreateEmbeddingResponse, ImagesResponse, Model
from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.audio.transcription_create_params import TranscriptionCreateParamsNonStreaming
from openai.types.embedding_create_params import EmbeddingCreateParams
from openai.types.image_generate_params import ImageGenerateParamsNonStreaming
from openai.types.realtime.session_update_event_param import SessionUpdateEventParam

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.httpx_client import get_async_client

from ..compat import EVALUATION
from ..const import VALIDATION_TIMEOUT
from . import Backend, Delta, TurnRequest
from .handshake import RealtimeRoute
from .probes import answers_probe, async_probe_turn, responses_probe
from .realtime import async_transcribe_live
from .realtime_speech import RealtimeSpeech

if TYPE_CHECKING and EVALUATION:
    from openai.types.decision import Decision
    from openai.types.decision_create_params import DecisionCreateParams

# GPT image models take a minute or two, and each attempt is billed: wait, never retry.
IMAGE_TIMEOUT: Final = 180.0  # seconds
# An image a server answered with as a URL: the download's own limit.
DOWNLOAD_TIMEOUT: Final = 60.0  # seconds


class Seam:
    """One entry's server: chat turns, media, Realtime sessions, model lists and probes."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: openai.AsyncOpenAI,
        backend: Backend,
        realtime: RealtimeRoute,
    ) -> None:
        """Keep the provider's resolved parts; nothing is sent yet."""
        self._hass = hass
        self._client = client
        self.backend = backend
        self.realtime = realtime

    @property
    def server_host(self) -> str:
        """Return the host the SDK's requests go to."""
        return self._client.base_url.host

    def stream_turn(
        self, chat_log: conversation.ChatLog, request: TurnRequest
    ) -> AsyncIterator[Delta]:
        """Stream one model turn in the entry's wire format."""
        return self.backend.stream_turn(chat_log, request)

    async def list_models(self, *, retry: bool = False) -> list[Model]:
        """Return every model the server lists; someone waits on it, so it is quick."""
        client = self._client.with_options(
            timeout=VALIDATION_TIMEOUT, max_retries=self._client.max_retries if retry else 0
        )
        # The list comes in one page (the SDK's models page has no next page); awaiting
        # it as core does, not iterating it, keeps core's own test doubles working.
        page = await client.models.list()
        return list(page.data)

    async def speaks_responses(self, model: str) -> bool:
        """Return whether the server's Responses API works in full for this model."""
        client = self._client.with_options(timeout=VALIDATION_TIMEOUT, max_retries=0)
        try:
            response = await client.responses.create(**responses_probe(model))
        except openai.OpenAIError:
            return False
        return answers_probe(response)

    async def probe_turn(self, model: str) -> None:
        """Send the request a new agent sends, only short (see probes.async_probe_turn)."""
        await async_probe_turn(self._hass, self.backend, model)

    async def generate_image(self, request: ImageGenerateParamsNonStreaming) -> ImagesResponse:
        """Generate an image with its own long timeout and no automatic retry."""
        client = self._client.with_options(timeout=IMAGE_TIMEOUT, max_retries=0)
        return await client.images.generate(**request)

    async def download(self, url: str) -> AsyncGenerator[bytes]:
        """Yield a file a server answered with as a URL (signed: no API key goes along).

        No redirects: the caller checked the address, a redirect could lead past its rule.
        """
        async with get_async_client(self._hass).stream(
            "GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=False
        ) as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                yield chunk

    async def stream_speech(self, request: SpeechCreateParams) -> AsyncGenerator[bytes]:
        """Yield the audio as the server sends it."""
        speech = self._client.audio.speech.with_streaming_response
        async with speech.create(**request) as response:
            async for chunk in response.iter_bytes():
                yield chunk

    async def transcribe(self, request: TranscriptionCreateParamsNonStreaming) -> str:
        """Return the text of the uploaded speech.

        The fields one by one: the SDK picks the result type by the literal response
        format, which an unpacked TypedDict does not carry.
        """
        result = await self._client.audio.transcriptions.create(
            model=request["model"],
            file=request["file"],
            language=request["language"],
            prompt=request["prompt"],
            response_format="json",
        )
        return result.text

    async def transcribe_live(
        self, audio: AsyncIterable[bytes], *, model: str, language: str, prompt: str
    ) -> str:
        """Return the transcript of audio streamed to a Realtime transcription session."""
        return await async_transcribe_live(
            async_get_clientsession(self._hass),
            self.realtime,
            audio,
            model=model,
            language=language,
            prompt=prompt,
        )

    def realtime_speech(self, model: str, setup: SessionUpdateEventParam) -> RealtimeSpeech:
        """Return a Realtime voice session (not yet open) in this model and setup."""
        return RealtimeSpeech(async_get_clientsession(self._hass), self.realtime, model, setup)

    async def embed(self, request: EmbeddingCreateParams) -> CreateEmbeddingResponse:
        """Return the embeddings of the texts."""
        return await self._client.embeddings.create(**request)

    @property
    def has_decisions(self) -> bool:
        """Return whether the SDK has the decisions API (openai 3.2x)."""
        return hasattr(self._client, "decisions")

    if EVALUATION:  # Home Assistant 2026.11: ai_task.evaluate

        async def decide(self, request: DecisionCreateParams) -> Decision:
            """Ask the decisions API every question of an evaluation at once."""
            return await self._client.decisions.create(**request)
