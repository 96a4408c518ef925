"""Text to speech: one entity per TTS subentry, streaming audio as OpenAI sends it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
import re
import struct
from typing import Any

import openai
from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.realtime.session_update_event_param import SessionUpdateEventParam

from homeassistant.components import tts
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .backends.media import speech_request
from .backends.realtime_speech import RealtimeSpeech, RealtimeSpeechError, session_update
from .client import OpenAIConfigEntry, provider
from .const import (
    CONF_AUDIO_FORMAT,
    CONF_CHAT_MODEL,
    CONF_PROMPT,
    CONF_TTS_SPEED,
    CONF_VOICE,
    DOMAIN,
    LOGGER,
    OPTION_INSTRUCTIONS,
    OPTION_MODEL,
    OPTION_SPEED,
    PROVIDER_COMPATIBLE,
    PROVIDER_OPENAI,
    SUBENTRY_TTS,
)
from .entity import OpenAISubentryEntity, async_add_subentry_entities
from .errors import translate_error
from .lifecycle import speaking_model
from .speech_models import (
    REALTIME_TTS_VOICES,
    RECOMMENDED_TTS_FORMAT,
    RECOMMENDED_TTS_MODEL,
    RECOMMENDED_TTS_SPEED,
    RECOMMENDED_TTS_VOICE,
    SPEECH_LANGUAGE_CODES,
    TTS_VOICES,
    realtime_voice,
    tts_is_realtime,
)
from .speech_spares import SpareSessions

# OpenAI's raw PCM: 24 kHz, 16-bit, mono.
PCM_RATE = 24000
# A sentence ends at . ! ? followed by whitespace, right after CJK full stops, or at a newline.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])|\n+")
# Formats whose streams may simply be concatenated, so sentences can be spoken one by one.
CONCATENATING_FORMATS = frozenset({"mp3", "aac", "wav", "pcm"})
# What the speech endpoint answers in, by the extension HA asks for (Ogg is OpenAI's Opus
# container; HA's "raw" is bare PCM): asking for it spares HA an ffmpeg transcode.
SERVER_FORMATS = {
    "mp3": "mp3",
    "opus": "opus",
    "ogg": "opus",
    "oga": "opus",
    "aac": "aac",
    "flac": "flac",
    "wav": "wav",
    "pcm": "pcm",
    "raw": "pcm",
}

# Requests are independent and the server limits them, not Home Assistant.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one TTS entity per TTS subentry."""
    async_add_subentry_entities(
        entry, async_add_entities, (SUBENTRY_TTS,), lambda e, s: [OpenAITTSEntity(e, s)]
    )


def wav_header(rate: int, data_size: int | None = None) -> bytes:
    """Return a 16-bit mono WAV header; without a size, for a stream of unknown length."""
    riff_size = 0xFFFFFFFF if data_size is None else 36 + data_size
    data_size = 0xFFFFFFFF if data_size is None else data_size
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )


async def one(text: str) -> AsyncGenerator[str]:
    """Yield a whole message as a stream of one chunk."""
    yield text


async def sentences(chunks: AsyncIterator[str]) -> AsyncGenerator[str]:
    """Regroup streamed text into whole sentences, so speech can start early."""
    pending = ""
    async for chunk in chunks:
        pending += chunk
        *done, pending = SENTENCE_END.split(pending)
        for sentence in done:
            if sentence.strip():
                yield sentence.strip()
    if pending.strip():
        yield pending.strip()


class OpenAITTSEntity(tts.TextToSpeechEntity, OpenAISubentryEntity):
    """Speaks with an OpenAI voice."""

    # HA's TTS manager needs a name of the entity itself, not one borrowed from its device.
    _attr_has_entity_name = False
    _attr_supported_languages = list(SPEECH_LANGUAGE_CODES)
    _attr_default_language = "en"
    _spares: SpareSessions
    _attr_supported_options = [
        CONF_VOICE,
        OPTION_SPEED,
        OPTION_INSTRUCTIONS,
        OPTION_MODEL,
        tts.ATTR_PREFERRED_FORMAT,
    ]

    def __init__(self, entry: OpenAIConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialize the entity from the subentry's voice settings."""
        data = subentry.data
        model = data.get(CONF_CHAT_MODEL, RECOMMENDED_TTS_MODEL)
        super().__init__(entry, subentry, model)
        self._attr_name = subentry.title
        self._format: str = data.get(CONF_AUDIO_FORMAT, RECOMMENDED_TTS_FORMAT)
        # OpenAI's and Azure's speech endpoints answer bare 24 kHz PCM, which streams behind
        # one WAV header; other servers (Kokoro, Speaches) refuse it or differ in rate.
        self._bare_pcm = provider(entry.data) != PROVIDER_COMPATIBLE
        self._voice: tuple[str, str] = (model, data.get(CONF_VOICE, RECOMMENDED_TTS_VOICE))
        self._shaping: dict[str, Any] = {
            OPTION_SPEED: data.get(CONF_TTS_SPEED, RECOMMENDED_TTS_SPEED),
            CONF_AUDIO_FORMAT: self._format,
        }
        if data.get(CONF_PROMPT):
            self._shaping[OPTION_INSTRUCTIONS] = data[CONF_PROMPT]

    @property
    def default_options(self) -> Mapping[str, Any]:
        """Return everything that shapes the audio, so HA's cache key changes with it.

        Read on every request: from a shutdown date on (which may pass while Home
        Assistant runs) OpenAI's replacement speaks, in the nearest voice it has.
        """
        model, voice = self._voice
        if provider(self.entry.data) == PROVIDER_OPENAI:
            model = speaking_model(model, self.entry.runtime_data.shutdowns)
            if tts_is_realtime(model):
                voice = realtime_voice(voice)
        return {OPTION_MODEL: model, CONF_VOICE: voice, **self._shaping}

    @callback
    def async_get_supported_voices(self, language: str) -> list[tts.Voice]:
        """Return the voices the model speaks in; each speaks every supported language."""
        realtime = self._realtime(dict(self.default_options or {}))
        return [
            tts.Voice(voice, voice.title())
            for voice in (REALTIME_TTS_VOICES if realtime else TTS_VOICES)
        ]

    def _realtime(self, options: dict[str, Any]) -> bool:
        """Return whether the model speaks through a Realtime session (OpenAI's own)."""
        return provider(self.entry.data) == PROVIDER_OPENAI and tts_is_realtime(
            str(options[OPTION_MODEL])
        )

    def _extension(self, options: dict[str, Any]) -> tuple[str, str]:
        """Return the extension HA gets and the format the server is asked for.

        HA's preferred format (a satellite's, a media player's) wins over the subentry's
        where the server makes it; otherwise HA transcodes the subentry's format. Realtime
        sessions speak PCM only: raw where HA wants it raw, else behind a WAV header.
        """
        preferred = str(options.get(tts.ATTR_PREFERRED_FORMAT) or "")
        if self._realtime(options):
            return (preferred, "pcm") if preferred in ("pcm", "raw") else ("wav", "wav")
        if (server := SERVER_FORMATS.get(preferred)) is not None and (
            self._bare_pcm or server != "pcm"
        ):
            return preferred, server
        return self._format, self._format

    def _request(self, text: str, options: dict[str, Any]) -> SpeechCreateParams:
        return speech_request(
            options[OPTION_MODEL],
            options[CONF_VOICE],
            text,
            self._extension(options)[1],
            bare_pcm=self._bare_pcm,
            speed=options.get(OPTION_SPEED),
            instructions=options.get(OPTION_INSTRUCTIONS),
        )

    async def _audio(self, text: str, options: dict[str, Any]) -> AsyncGenerator[bytes]:
        """Yield audio bytes as OpenAI sends them."""
        seam = self.entry.runtime_data.seam
        try:
            async for chunk in seam.stream_speech(self._request(text, options)):
                yield chunk
        except openai.OpenAIError as err:
            raise translate_error(self.hass, self.entry, err) from err

    async def async_added_to_hass(self) -> None:
        """Open a spare session for the default settings: the first reply skips the handshake."""
        await super().async_added_to_hass()
        self._spares = SpareSessions(self.hass, self.entry, self._connect)
        options = dict(self.default_options or {})
        if self._realtime(options):
            self._spares.prepare(str(options[OPTION_MODEL]), self._session_update(options))

    async def async_will_remove_from_hass(self) -> None:
        """Close the spare sessions (unload, removal)."""
        await self._spares.close()
        await super().async_will_remove_from_hass()

    def _connect(self, model: str, setup: SessionUpdateEventParam) -> RealtimeSpeech:
        return self.entry.runtime_data.seam.realtime_speech(model, setup)

    @staticmethod
    def _session_update(options: dict[str, Any]) -> SessionUpdateEventParam:
        return session_update(
            realtime_voice(str(options[CONF_VOICE])),
            options.get(OPTION_SPEED),
            options.get(OPTION_INSTRUCTIONS),
        )

    async def _open(self, model: str, setup: SessionUpdateEventParam) -> RealtimeSpeech:
        """Return the spare session for these settings, or a session opened now."""
        if (speech := await self._spares.take(model, setup)) is not None:
            return speech
        speech = self._connect(model, setup)
        try:
            await speech.open()
        except BaseException:
            await speech.close()
            raise
        return speech

    async def _realtime_audio(
        self, texts: AsyncIterator[str], options: dict[str, Any]
    ) -> AsyncGenerator[bytes]:
        """Yield the PCM of each sentence from one Realtime session."""
        model, setup = str(options[OPTION_MODEL]), self._session_update(options)
        # The session is ready (a spare), or opens while the agent writes its first sentence.
        opening = asyncio.ensure_future(self._open(model, setup))
        try:
            async for sentence in sentences(texts):
                speech = await opening
                async for pcm in speech.speak(sentence):
                    yield pcm
            # For the next reply; not after a failure, so a server that is down is not
            # asked again in the background.
            self._spares.prepare(model, setup)
        except RealtimeSpeechError as err:
            if err.api_error is not None:  # a key, quota, rate limit: said as elsewhere
                raise translate_error(self.hass, self.entry, err.api_error) from err
            raise self._speech_failed(err) from err
        except (TimeoutError, ConnectionError) as err:
            # A session that went silent past its time or dropped the connection.
            raise self._speech_failed(err) from err
        finally:
            # No sentence came, or one failed: the handshake ends before the session does.
            opening.cancel()
            await asyncio.wait({opening})
            if opening.cancelled():
                pass
            elif (failed := opening.exception()) is not None:
                LOGGER.debug("The voice session did not open: %s", failed)
            else:
                speech = opening.result()
                await speech.close()
                self.entry.runtime_data.count_speech(self._attr_name, speech)

    @staticmethod
    def _speech_failed(err: Exception) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="speech_failed",
            translation_placeholders={"message": str(err) or type(err).__name__},
        )

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> tts.TtsAudioType:
        """Return the whole audio of a message."""
        extension, server = self._extension(options)
        if self._realtime(options):
            chunks = self._realtime_audio(one(message), options)
        else:
            chunks = self._audio(message, options)
        audio = b"".join([chunk async for chunk in chunks])
        if server == "wav" and (self._bare_pcm or self._realtime(options)):
            audio = wav_header(PCM_RATE, len(audio)) + audio
        return extension, audio

    async def async_stream_tts_audio(self, request: TTSAudioRequest) -> tts.TTSAudioResponse:
        """Speak text while it is still being written, sentence by sentence."""
        options = request.options
        extension, server = self._extension(options)

        # A WAV file from another server has its own header: one request, passed through.
        glued = server in CONCATENATING_FORMATS and (server != "wav" or self._bare_pcm)

        async def audio() -> AsyncGenerator[bytes]:
            if server == "wav" and (self._bare_pcm or self._realtime(options)):
                yield wav_header(PCM_RATE)
            if self._realtime(options):
                async for chunk in self._realtime_audio(request.message_gen, options):
                    yield chunk
                return
            if glued:
                async for sentence in sentences(request.message_gen):
                    async for chunk in self._audio(sentence, options):
                        yield chunk
                return
            # Other containers cannot be glued together: one request, still streamed out.
            text = "".join([chunk async for chunk in request.message_gen])
            if not text.strip():
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="no_text_to_speak"
                )
            async for chunk in self._audio(text, options):
                yield chunk

        return tts.TTSAudioResponse(extension, audio())
