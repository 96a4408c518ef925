"""Speech to text: one entity per STT subentry."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from contextlib import aclosing

import openai

from homeassistant.components import stt
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .backends.media import transcription_request
from .backends.realtime import LIVE_RATE, LiveTranscriptionError
from .client import OpenAIConfigEntry, provider
from .const import (
    CONF_CHAT_MODEL,
    CONF_LIVE_TRANSCRIPTION,
    CONF_PROMPT,
    LOGGER,
    PROVIDER_OPENAI,
    SUBENTRY_STT,
)
from .entity import OpenAISubentryEntity, async_add_subentry_entities
from .errors import report_error
from .lifecycle import replacement_in_force
from .pcm import Pcm16, Resampler, wav_file
from .speech_models import (
    LIVE_TRANSCRIPTION_MODEL,
    RECOMMENDED_STT_MODEL,
    RECOMMENDED_STT_PROMPT,
    SPEECH_LANGUAGE_CODES,
    speech_language,
)

# Requests are independent and the server limits them, not Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one STT entity per STT subentry."""
    async_add_subentry_entities(
        entry, async_add_entities, (SUBENTRY_STT,), lambda e, s: [OpenAISTTEntity(e, s)]
    )


def upload_file(metadata: stt.SpeechMetadata, audio: bytes) -> tuple[str, bytes, str]:
    """Return the file to upload: HA streams WAV as bare PCM, so it gets its header here."""
    # == rather than is: older Home Assistant passes the STT API header's values as strings.
    if metadata.format == stt.AudioFormats.OGG:
        return "audio.ogg", audio, "audio/ogg"
    rate, width, channels = pcm_layout(metadata)
    return "audio.wav", wav_file(audio, rate, width, channels), "audio/wav"


def pcm_layout(metadata: stt.SpeechMetadata) -> tuple[int, int, int]:
    """Return the sample rate, the bytes per sample and the channels of PCM audio."""
    return int(metadata.sample_rate), int(metadata.bit_rate) // 8, int(metadata.channel)


class OpenAISTTEntity(stt.SpeechToTextEntity, OpenAISubentryEntity):
    """Transcribes speech with an OpenAI model."""

    _attr_name = None

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity."""
        self._model: str = subentry.data.get(CONF_CHAT_MODEL, RECOMMENDED_STT_MODEL)
        self._prompt: str = subentry.data.get(CONF_PROMPT, RECOMMENDED_STT_PROMPT)
        super().__init__(entry, subentry, self._model)
        self._live_refused = False

    @property
    def supported_languages(self) -> list[str]:
        """Return the languages the models transcribe."""
        return list(SPEECH_LANGUAGE_CODES)

    @property
    def supported_formats(self) -> list[stt.AudioFormats]:
        """Return the containers accepted."""
        return [stt.AudioFormats.WAV, stt.AudioFormats.OGG]

    @property
    def supported_codecs(self) -> list[stt.AudioCodecs]:
        """Return the codecs accepted."""
        return [stt.AudioCodecs.PCM, stt.AudioCodecs.OPUS]

    @property
    def supported_bit_rates(self) -> list[stt.AudioBitRates]:
        """Return the bit depths accepted: all (live audio is converted to 16 bits)."""
        return list(stt.AudioBitRates)

    @property
    def supported_sample_rates(self) -> list[stt.AudioSampleRates]:
        """Return the sample rates accepted."""
        return list(stt.AudioSampleRates)

    @property
    def supported_channels(self) -> list[stt.AudioChannels]:
        """Return the channel layouts accepted (live audio is mixed down to mono)."""
        return list(stt.AudioChannels)

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        """Transcribe the audio; a failure is a failed result, never an exception."""
        audio = aiter(stream)
        captured: list[bytes] = []
        text = None
        if self._live(metadata):
            text = await self._transcribe_live(metadata, audio, captured)
        if text is None:  # no live session, or it failed: the whole recording goes up
            captured += [chunk async for chunk in audio]
            text = await self._upload(metadata, b"".join(captured))
        if not text:
            if text == "":  # the server heard no words: the pipeline must not act on nothing
                LOGGER.debug("%s: the transcript is empty", self.entity_id)
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        return stt.SpeechResult(text, stt.SpeechResultState.SUCCESS)

    def _live(self, metadata: stt.SpeechMetadata) -> bool:
        """Return whether to transcribe while the user speaks (PCM, on OpenAI's servers)."""
        return (
            bool(self.subentry.data.get(CONF_LIVE_TRANSCRIPTION, True))
            and provider(self.entry.data) == PROVIDER_OPENAI
            and not self._live_refused
            and metadata.codec == stt.AudioCodecs.PCM
        )

    def _models(self) -> tuple[str, str]:
        """Return the models for a live session and for an upload.

        Once OpenAI has shut the subentry's model down, its replacement transcribes
        uploads and OpenAI's live transcription model the live audio (a repair says so).
        """
        if provider(self.entry.data) != PROVIDER_OPENAI:
            return self._model, self._model
        replacement = replacement_in_force(self._model, self.entry.runtime_data.shutdowns)
        if replacement is None:
            return self._model, self._model
        return LIVE_TRANSCRIPTION_MODEL, replacement

    async def _transcribe_live(
        self, metadata: stt.SpeechMetadata, audio: AsyncIterator[bytes], captured: list[bytes]
    ) -> str | None:
        """Return the transcript of a live session, or None to upload the audio instead.

        Every chunk read is kept in captured, so a session that breaks off loses nothing.
        """
        rate, width, channels = pcm_layout(metadata)
        pcm16, resampler = Pcm16(width, channels), Resampler(rate, LIVE_RATE)

        async def pcm() -> AsyncGenerator[bytes]:
            async for chunk in audio:
                captured.append(chunk)
                yield resampler.convert(pcm16.convert(chunk))

        try:
            async with aclosing(pcm()) as live_audio:
                return await self.entry.runtime_data.seam.transcribe_live(
                    live_audio,
                    model=self._models()[0],
                    language=speech_language(metadata.language),
                    prompt=self._prompt,
                )
        except LiveTranscriptionError as err:
            # A server without the Realtime API: stop asking it (until the entry reloads).
            self._live_refused = err.unsupported
            LOGGER.warning("Live transcription failed (%s); uploading the recording", err)
            return None

    async def _upload(self, metadata: stt.SpeechMetadata, audio: bytes) -> str | None:
        """Return the transcript of the uploaded recording, or None (reported) on failure."""
        try:
            request = transcription_request(
                self._models()[1],
                upload_file(metadata, audio),
                # Always the pipeline's language: auto-detection mistranscribes short commands.
                language=speech_language(metadata.language),
                prompt=self._prompt,
            )
            return await self.entry.runtime_data.seam.transcribe(request)
        except openai.OpenAIError as err:
            # The pipeline gets a failed result instead of an exception: say why here.
            key, message = report_error(self.hass, self.entry, err)
            LOGGER.error("Transcription failed (%s): %s", key, message)
            return None
