"""Speech to text: one entity per STT subentry."""

from __future__ import annotations

from collections.abc import AsyncIterable

import openai

from homeassistant.components import stt
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .backends.media import async_transcribe
from .client import OpenAIConfigEntry
from .const import (
    CONF_CHAT_MODEL,
    CONF_PROMPT,
    RECOMMENDED_STT_MODEL,
    RECOMMENDED_STT_PROMPT,
    SPEECH_LANGUAGE_CODES,
    SUBENTRY_STT,
    speech_language,
)
from .entity import OpenAISubentryEntity, async_add_subentry_entities
from .errors import report_error
from .tts import wav_header

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
    if metadata.format is stt.AudioFormats.OGG:
        return "audio.ogg", audio, "audio/ogg"
    return "audio.wav", wav_header(metadata.sample_rate.value, len(audio)) + audio, "audio/wav"


class OpenAISTTEntity(stt.SpeechToTextEntity, OpenAISubentryEntity):
    """Transcribes speech with an OpenAI model."""

    _attr_name = None

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity."""
        super().__init__(entry, subentry, subentry.data.get(CONF_CHAT_MODEL, RECOMMENDED_STT_MODEL))

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
        """Return the bit depths accepted."""
        return [stt.AudioBitRates.BITRATE_16]

    @property
    def supported_sample_rates(self) -> list[stt.AudioSampleRates]:
        """Return the sample rates accepted."""
        return list(stt.AudioSampleRates)

    @property
    def supported_channels(self) -> list[stt.AudioChannels]:
        """Return the channel layouts accepted."""
        return [stt.AudioChannels.CHANNEL_MONO]

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        """Transcribe the audio; a failure is a failed result, never an exception."""
        audio = b"".join([chunk async for chunk in stream])
        # Always the pipeline's language: auto-detection mistranscribes short commands.
        language = speech_language(metadata.language)
        try:
            text = await async_transcribe(
                self.entry.runtime_data.client,
                self.subentry.data.get(CONF_CHAT_MODEL, RECOMMENDED_STT_MODEL),
                upload_file(metadata, audio),
                language=language,
                prompt=self.subentry.data.get(CONF_PROMPT, RECOMMENDED_STT_PROMPT),
            )
        except openai.OpenAIError as err:
            # The pipeline gets a failed result instead of an exception.
            report_error(self.hass, self.entry, err)
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        return stt.SpeechResult(text, stt.SpeechResultState.SUCCESS)
