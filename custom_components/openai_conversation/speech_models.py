"""OpenAI's speech models, voices and languages, and what each speech model takes."""

from __future__ import annotations

from typing import Final

from .const import CONF_AUDIO_FORMAT, CONF_CHAT_MODEL, CONF_PROMPT, CONF_TTS_SPEED, CONF_VOICE

STT_MODELS: Final = ("gpt-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1")
# OpenAI's speech voices since the speech endpoint's models shut down (2027-01-06): Realtime
# API models, read through a session, not /audio/speech.
REALTIME_TTS_MODELS: Final = ("gpt-realtime-2.1-mini", "gpt-realtime-2.1")
TTS_MODELS: Final = (*REALTIME_TTS_MODELS, "gpt-4o-mini-tts", "tts-1", "tts-1-hd")
# The voices the Realtime API speaks in (fewer than the speech endpoint's).
REALTIME_TTS_VOICES: Final = (
    "marin",
    "cedar",
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
)
# The speech endpoint's voices the Realtime API lacks, and the realtime voice nearest each.
REALTIME_VOICE_FOR: Final = {"fable": "ballad", "nova": "coral", "onyx": "cedar"}
# The speed range a Realtime session takes (its audio.output.speed).
REALTIME_SPEED_RANGE: Final = (0.25, 1.5)
TTS_VOICES: Final = (
    "alloy",
    "ash",
    "ballad",
    "cedar",
    "coral",
    "echo",
    "fable",
    "marin",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
)
# Formats HA can play; "wav" streams as PCM behind one WAV header.
TTS_FORMATS: Final = ("mp3", "wav", "opus", "aac", "flac")
# Whisper and the GPT-4o transcription models shut down on 2027-02-26.
RECOMMENDED_STT_MODEL: Final = "gpt-transcribe"
RECOMMENDED_TTS_MODEL: Final = "gpt-realtime-2.1-mini"
# Core's TTS model, which core writes into the TTS subentries it creates.
CORE_TTS_MODEL: Final = "gpt-4o-mini-tts"
# Core's default voice, so a taken-over TTS keeps speaking with the same voice.
RECOMMENDED_TTS_VOICE: Final = "marin"
RECOMMENDED_TTS_SPEED: Final = 1.0
RECOMMENDED_TTS_FORMAT: Final = "mp3"
RECOMMENDED_STT_PROMPT: Final = (
    "A person speaking to their smart home assistant: short commands and questions about "
    "lights, switches, climate, media, timers and the weather, in rooms of a house."
)
RECOMMENDED_STT_OPTIONS: Final = {
    CONF_CHAT_MODEL: RECOMMENDED_STT_MODEL,
    CONF_PROMPT: RECOMMENDED_STT_PROMPT,
}
# OpenAI's model for live audio, which takes over live sessions from a shut-down model.
LIVE_TRANSCRIPTION_MODEL: Final = "gpt-live-transcribe"
RECOMMENDED_TTS_OPTIONS: Final = {
    CONF_CHAT_MODEL: RECOMMENDED_TTS_MODEL,
    CONF_PROMPT: "",
    CONF_VOICE: RECOMMENDED_TTS_VOICE,
    CONF_TTS_SPEED: RECOMMENDED_TTS_SPEED,
    CONF_AUDIO_FORMAT: RECOMMENDED_TTS_FORMAT,
}
# Keys earlier releases of this integration stored in speech subentries, and core's names.
LEGACY_SPEECH_KEYS: Final = {
    "model": CONF_CHAT_MODEL,
    "speed": CONF_TTS_SPEED,
    "instructions": CONF_PROMPT,
}


def tts_takes_instructions(model: str) -> bool:
    """Return whether a speech model follows voice instructions (the GPT-4o family)."""
    return model.startswith("gpt-")


def tts_takes_speed(model: str) -> bool:
    """Return whether a speech model honours a speed (the tts-1 family, realtime models)."""
    return model.startswith(("tts-", "gpt-realtime"))


def tts_is_realtime(model: str) -> bool:
    """Return whether a voice model speaks through the Realtime API."""
    return model.startswith("gpt-realtime")


def realtime_voice(voice: str) -> str:
    """Return the realtime voice for a speech endpoint voice (the same where it exists)."""
    if voice in REALTIME_TTS_VOICES:
        return voice
    return REALTIME_VOICE_FOR.get(voice, RECOMMENDED_TTS_VOICE)


# ISO 639-1 codes of the languages OpenAI's speech models handle.
SPEECH_LANGUAGES: Final = (
    "af",
    "ar",
    "az",
    "be",
    "bg",
    "bs",
    "ca",
    "cs",
    "cy",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fa",
    "fi",
    "fr",
    "gl",
    "he",
    "hi",
    "hr",
    "hu",
    "hy",
    "id",
    "is",
    "it",
    "ja",
    "kk",
    "kn",
    "ko",
    "lt",
    "lv",
    "mi",
    "mk",
    "mr",
    "ms",
    "ne",
    "nl",
    "no",
    "pl",
    "pt",
    "ro",
    "ru",
    "sk",
    "sl",
    "sr",
    "sv",
    "sw",
    "ta",
    "th",
    "tl",
    "tr",
    "uk",
    "ur",
    "vi",
    "zh",
)


# The locales Home Assistant core's OpenAI STT and TTS declare. Voice pipelines built on them
# store these codes, and HA refuses a language an entity does not declare: both forms count.
CORE_SPEECH_LOCALES: Final = (
    "af-ZA",
    "ar-SA",
    "az-AZ",
    "be-BY",
    "bg-BG",
    "bs-BA",
    "ca-ES",
    "cs-CZ",
    "cy-GB",
    "da-DK",
    "de-DE",
    "el-GR",
    "en-US",
    "es-ES",
    "et-EE",
    "fa-IR",
    "fi-FI",
    "fil-PH",
    "fr-FR",
    "gl-ES",
    "he-IL",
    "hi-IN",
    "hr-HR",
    "hu-HU",
    "hy-AM",
    "id-ID",
    "is-IS",
    "it-IT",
    "ja-JP",
    "kk-KZ",
    "kn-IN",
    "ko-KR",
    "lt-LT",
    "lv-LV",
    "mi-NZ",
    "mk-MK",
    "mr-IN",
    "ms-MY",
    "ne-NP",
    "nl-NL",
    "no-NO",
    "pl-PL",
    "pt-PT",
    "ro-RO",
    "ru-RU",
    "sk-SK",
    "sl-SI",
    "sr-RS",
    "sv-SE",
    "sw-KE",
    "ta-IN",
    "th-TH",
    "tr-TR",
    "uk-UA",
    "ur-PK",
    "vi-VN",
    "zh-CN",
)
SPEECH_LANGUAGE_CODES: Final = (*SPEECH_LANGUAGES, *CORE_SPEECH_LOCALES)


def speech_language(code: str) -> str:
    """Return the ISO 639-1 code OpenAI's speech models take for a pipeline language."""
    language = code.split("-", maxsplit=1)[0].lower()
    return "tl" if language == "fil" else language  # Filipino is Tagalog to OpenAI
