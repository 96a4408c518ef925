"""Constants and model capability rules for the OpenAI integration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import Any, Final

from homeassistant.const import CONF_LLM_HASS_API
from homeassistant.helpers import llm

DOMAIN: Final = "openai_conversation"
LOGGER = logging.getLogger(__package__)

# Config entry version of OpenAI entries: core's own numbering, never one of ours. Core
# 2026.11 writes 2.8; what this integration adds is stored in core's vocabulary (subentry
# types and keys core reads, plus keys it ignores), so it needs no number. Entries of a
# later core minor, and the 2.9 earlier releases of this integration wrote, keep their number.
ENTRY_VERSION: Final = 2
ENTRY_MINOR_VERSION: Final = 8
# Entries of other servers (Azure, compatible) carry a version far above any core's: core
# refuses an entry newer than its own flow in a log line, before its code reads the entry,
# so once this integration is removed, core never sends their keys to OpenAI's servers.
OTHER_SERVER_VERSION: Final = 100
OTHER_SERVER_MINOR_VERSION: Final = 1

DEFAULT_ENTRY_TITLE: Final = "OpenAI"

# Providers and how the entry reaches them.
CONF_PROVIDER: Final = "provider"
CONF_BASE_URL: Final = "base_url"
CONF_ORGANIZATION: Final = "organization"
CONF_PROJECT: Final = "project"
CONF_ENDPOINT: Final = "endpoint"
CONF_API_VERSION: Final = "api_version"
CONF_API_MODE: Final = "api_mode"
# The model (Azure: the deployment) agents use unless they name another.
CONF_DEFAULT_MODEL: Final = "default_model"
PROVIDER_OPENAI: Final = "openai"
PROVIDER_AZURE: Final = "azure"
PROVIDER_COMPATIBLE: Final = "compatible"
API_MODE_RESPONSES: Final = "responses"
API_MODE_CHAT: Final = "chat_completions"
API_MODE_AUTO: Final = "auto"
# Serves the Responses API, including image generation, in every Azure region.
DEFAULT_AZURE_API_VERSION: Final = "2025-04-01-preview"
AZURE_V1: Final = "v1"
DEFAULT_CONVERSATION_NAME: Final = "OpenAI Conversation"
DEFAULT_AI_TASK_NAME: Final = "OpenAI AI Task"

SUBENTRY_CONVERSATION: Final = "conversation"
SUBENTRY_AI_TASK: Final = "ai_task_data"
SUBENTRY_STT: Final = "stt"
SUBENTRY_TTS: Final = "tts"
SUBENTRY_EVALUATION: Final = "ai_task_evaluate"
DEFAULT_STT_NAME: Final = "OpenAI STT"
DEFAULT_TTS_NAME: Final = "OpenAI TTS"
DEFAULT_EVALUATION_NAME: Final = "OpenAI Evaluation"

# Subentry option keys: the same names core uses, so taken-over entries keep their settings.
CONF_CHAT_MODEL: Final = "chat_model"
CONF_CODE_INTERPRETER: Final = "code_interpreter"
CONF_IMAGE_MODEL: Final = "image_model"
CONF_MAX_TOKENS: Final = "max_tokens"
CONF_PROMPT: Final = "prompt"
CONF_REASONING_EFFORT: Final = "reasoning_effort"
CONF_REASONING_SUMMARY: Final = "reasoning_summary"
CONF_RECOMMENDED: Final = "recommended"
CONF_TEMPERATURE: Final = "temperature"
CONF_TOP_P: Final = "top_p"
CONF_VERBOSITY: Final = "verbosity"
# What a model behind an Azure deployment or a proxy name is, where the name cannot tell.
CONF_MODEL_FAMILY: Final = "model_family"
MODEL_FAMILY_AUTO: Final = "auto"
# Each family by a model of it whose name the capability rules know.
MODEL_FAMILIES: Final = (MODEL_FAMILY_AUTO, "gpt-4.1", "o4-mini", "gpt-5", "gpt-5.1", "gpt-6")
CONF_WEB_SEARCH: Final = "web_search"
CONF_WEB_SEARCH_CONTEXT_SIZE: Final = "search_context_size"
CONF_WEB_SEARCH_USER_LOCATION: Final = "user_location"
CONF_WEB_SEARCH_CITY: Final = "city"
CONF_WEB_SEARCH_REGION: Final = "region"
CONF_WEB_SEARCH_COUNTRY: Final = "country"
CONF_WEB_SEARCH_TIMEZONE: Final = "timezone"
CONF_WEB_SEARCH_INLINE_CITATIONS: Final = "inline_citations"
CONF_STORE_RESPONSES: Final = "store_responses"
CONF_SERVICE_TIER: Final = "service_tier"
CONF_PRO_MODE: Final = "pro_mode"

# OpenAI's replacement for GPT-4o mini (core's choice, shut down 2027-01-14): a default must
# never be a model with a shutdown date (lifecycle.RETIREMENTS, checked by a test).
RECOMMENDED_CHAT_MODEL: Final = "gpt-6-luna"
# The recommended model before; agents on "recommended" moved from it by themselves.
PREVIOUS_RECOMMENDED_CHAT_MODEL: Final = "gpt-4o-mini"
# Core 2026.11's choice; OpenAI shut DALL-E down on 2026-05-12 and shuts gpt-image-1-mini
# and gpt-image-1.5 down on 2026-12-01 (its deprecations page).
RECOMMENDED_IMAGE_MODEL: Final = "gpt-image-2.5-flare"
RECOMMENDED_MAX_TOKENS: Final = 3000
RECOMMENDED_TEMPERATURE: Final = 1.0
RECOMMENDED_TOP_P: Final = 1.0
RECOMMENDED_REASONING_EFFORT: Final = "low"
RECOMMENDED_REASONING_SUMMARY: Final = "auto"
# The model of core's evaluation subentry (OpenAI's decisions endpoint).
RECOMMENDED_DECISION_MODEL: Final = "gpt-6-luna"
DECISION_MODELS: Final = (RECOMMENDED_DECISION_MODEL,)
RECOMMENDED_VERBOSITY: Final = "medium"
RECOMMENDED_WEB_SEARCH_CONTEXT_SIZE: Final = "medium"

RECOMMENDED_CONVERSATION_OPTIONS: Final = {
    CONF_RECOMMENDED: True,
    CONF_LLM_HASS_API: [llm.LLM_API_ASSIST],
    CONF_PROMPT: llm.DEFAULT_INSTRUCTIONS_PROMPT,
}
RECOMMENDED_AI_TASK_OPTIONS: Final = {CONF_RECOMMENDED: True}
RECOMMENDED_EVALUATION_OPTIONS: Final = {CONF_CHAT_MODEL: RECOMMENDED_DECISION_MODEL}
IMAGE_MODELS: Final = (
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
)

# Bound on model round trips in one turn, so a model that calls tools forever stops.
MAX_TOOL_ITERATIONS: Final = 10
# Timeout for the live key check in the config flow and at setup.
VALIDATION_TIMEOUT: Final = 10.0
# Per-request timeout for conversation turns; the SDK default (600 s) leaves voice
# satellites "thinking" for minutes when an upstream hangs.
DEFAULT_REQUEST_TIMEOUT: Final = 30.0
# Connecting never takes longer than this, whatever the agent's timeout.
CONNECT_TIMEOUT: Final = 10.0
# How long a reasoning model may think without a word, by effort (seconds): its stream is
# silent meanwhile, so the agent's timeout (for a server that does not answer) would end it.
REASONING_SILENCE: Final[Mapping[str, float]] = {
    "medium": 120.0,
    "high": 300.0,
    "xhigh": 600.0,
    "max": 900.0,
}
PRO_MODE_SILENCE: Final = 900.0
CONF_TIMEOUT: Final = "timeout"
# How much of the conversation (estimated tokens) an agent sends; 0: all of it.
CONF_HISTORY_TOKENS: Final = "history_tokens"
CONF_FALLBACK_MODEL: Final = "fallback_model"
# Another entry (server) of this integration that serves the fallback model.
CONF_FALLBACK_ENTRY: Final = "fallback_entry"
CONF_LIVE_TRANSCRIPTION: Final = "live_transcription"
# Small local models run with small context windows (Ollama's default is 4096 tokens); the
# tools and the reply need room too. OpenAI's and Azure's models take the whole history.
DEFAULT_COMPATIBLE_HISTORY_TOKENS: Final = 3000

VERBOSITY_LEVELS: Final = ("low", "medium", "high")
REASONING_SUMMARIES: Final = ("auto", "concise", "detailed", "off")
SERVICE_TIERS: Final = ("auto", "default", "flex", "priority")
RECOMMENDED_SERVICE_TIER: Final = "auto"
# Models OpenAI serves without the Flex or without the Priority tier (its pricing page lists
# the tiers per model); the form offers only the tiers a model has.
NO_FLEX_MODELS: Final = (
    "gpt-5.3",
    "gpt-5.2-chat",
    "gpt-5.1-chat",
    "gpt-5-chat",
    "gpt-5.2-codex",
    "gpt-5.1-codex",
    "gpt-5-codex",
    "gpt-5.2-pro",
    "gpt-5-pro",
    "gpt-4",
    "o1",
    "o3-pro",
    "o3-deep-research",
    "o4-mini-deep-research",
    "o3-mini",
    "codex-mini",
)
NO_PRIORITY_MODELS: Final = (
    "gpt-5-nano",
    "gpt-5.3-chat",
    "gpt-5.2-chat",
    "gpt-5.1-chat",
    "gpt-5.1-codex-mini",
    "gpt-5-chat",
    "gpt-5.2-pro",
    "gpt-5-pro",
    "o1",
    "o3-pro",
    "o3-deep-research",
    "o4-mini-deep-research",
    "o3-mini",
    "codex-mini",
)
# Said to the model when web search is on and citations are off; links read aloud are noise.
NO_CITATIONS_HINT: Final = "When you search the web, do not include source citations or links."


# Models in OpenAI's list that cannot chat, by what their names say they do.
NON_CHAT_MARKERS: Final = (
    "embedding",
    "tts",
    "whisper",
    "dall-e",
    "transcribe",
    "image",
    "moderation",
    "realtime",
    "audio",
    "search",
    "babbage",
    "davinci",
    "codex-mini",
    "sora",
)


def model_kind(model: str) -> str:
    """Return what a model of OpenAI's list does: "chat", or the marker of its kind."""
    return next((marker for marker in NON_CHAT_MARKERS if marker in model), "chat")


def service_tiers(model: str) -> tuple[str, ...]:
    """Return the processing tiers a model is served in."""
    return tuple(
        tier
        for tier in SERVICE_TIERS
        if not (tier == "flex" and model.startswith(NO_FLEX_MODELS))
        and not (tier == "priority" and model.startswith(NO_PRIORITY_MODELS))
    )


def reasoning_summaries(model: str) -> tuple[str, ...]:
    """Return the reasoning summary levels a model takes (o-series: no "concise")."""
    return tuple(s for s in REASONING_SUMMARIES if s != "concise" or not model.startswith("o"))


WEB_SEARCH_CONTEXT_SIZES: Final = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    """What a model family accepts in a Responses request."""

    reasoning_efforts: tuple[str, ...] = ()
    verbosity: bool = False
    web_search: bool = True
    code_interpreter: bool = True
    supported: bool = True
    # reasoning.mode "pro": deeper reasoning, GPT-5.6 and newer.
    pro_mode: bool = False

    @property
    def reasoning(self) -> bool:
        """Return whether the model is a reasoning model."""
        return bool(self.reasoning_efforts)

    def takes_sampling(self, effort: str | None) -> bool:
        """Return whether temperature and top_p may be sent.

        Reasoning models reject them, except GPT-5.1+ with reasoning turned off.
        """
        return not self.reasoning or effort == "none"


_O_SERIES = ModelCapabilities(reasoning_efforts=("low", "medium", "high"))
_GPT5 = ModelCapabilities(reasoning_efforts=("minimal", "low", "medium", "high"), verbosity=True)
_GPT5_NEWER = ModelCapabilities(reasoning_efforts=("none", "low", "medium", "high"), verbosity=True)
# GPT-5.2 to 5.5 reason up to xhigh; their pro models from medium (OpenAI's model pages).
_GPT5_XHIGH = ModelCapabilities(
    reasoning_efforts=("none", "low", "medium", "high", "xhigh"), verbosity=True
)
_GPT5_PRO_XHIGH = ModelCapabilities(reasoning_efforts=("medium", "high", "xhigh"), verbosity=True)
_CODEX_XHIGH = ModelCapabilities(
    reasoning_efforts=("low", "medium", "high", "xhigh"), verbosity=True, code_interpreter=False
)
# GPT-5.6, GPT-6 Luna and GPT-6.1 Terra: reasoning from none to max; the other GPT-6
# models cannot turn it off.
_PRO_CAPABLE = ModelCapabilities(
    reasoning_efforts=("none", "low", "medium", "high", "xhigh", "max"),
    verbosity=True,
    pro_mode=True,
)
_GPT6_REASONING_ON = ModelCapabilities(
    reasoning_efforts=("low", "medium", "high", "xhigh", "max"), verbosity=True, pro_mode=True
)

# Extended prompt caching (OpenAI's servers): on request, a cached prefix lives up to 24 h
# instead of minutes, which is most of the cache a home gets (its turns are hours apart).
# These models have in-memory caching only; GPT-5.6 and newer keep their cache 30 minutes
# (their only choice, so nothing is asked) and refuse the retention field.
MEMORY_CACHE_ONLY: Final = (
    "o1",
    "o3",
    "o4",
    "gpt-3.5",
    "gpt-4-turbo",
    "gpt-4o",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5-mini",
    "gpt-5-nano",
)
OWN_CACHE_LIFETIME: Final = ("gpt-5.6", "gpt-6")
EXTENDED_CACHE_RETENTION: Final = "24h"


def takes_cache_retention(model: str) -> bool:
    """Return whether OpenAI keeps the model's cached prefixes 24 h when asked."""
    return not model.startswith((*MEMORY_CACHE_ONLY, *OWN_CACHE_LIFETIME))


# First matching prefix wins, so specific prefixes come before general ones.
MODEL_RULES: Final[tuple[tuple[str, ModelCapabilities], ...]] = (
    ("gpt-4o-realtime", ModelCapabilities(supported=False)),
    ("gpt-4o-mini-realtime", ModelCapabilities(supported=False)),
    ("o1-mini", ModelCapabilities(supported=False)),
    ("o1-preview", ModelCapabilities(supported=False)),
    ("o1", ModelCapabilities(reasoning_efforts=("low", "medium", "high"), web_search=False)),
    ("o3-mini", ModelCapabilities(reasoning_efforts=("low", "medium", "high"), web_search=False)),
    ("o3", _O_SERIES),
    ("o4", _O_SERIES),
    (
        "gpt-5-pro",
        ModelCapabilities(reasoning_efforts=("high",), verbosity=True, code_interpreter=False),
    ),
    (
        "gpt-5.2-pro",
        ModelCapabilities(
            reasoning_efforts=_GPT5_PRO_XHIGH.reasoning_efforts,
            verbosity=True,
            code_interpreter=False,
        ),
    ),
    ("gpt-5.4-pro", _GPT5_PRO_XHIGH),
    ("gpt-5.5-pro", _GPT5_PRO_XHIGH),
    (
        "gpt-5-codex",
        ModelCapabilities(
            reasoning_efforts=("low", "medium", "high"), verbosity=True, code_interpreter=False
        ),
    ),
    # Codex models take neither minimal nor none; xhigh came with 5.1-codex-max.
    ("gpt-5.1-codex-max", _CODEX_XHIGH),
    (
        "gpt-5.1-codex",
        ModelCapabilities(
            reasoning_efforts=("low", "medium", "high"), verbosity=True, code_interpreter=False
        ),
    ),
    ("gpt-5.2-codex", _CODEX_XHIGH),
    (
        "gpt-5-nano",
        ModelCapabilities(
            reasoning_efforts=_GPT5.reasoning_efforts, verbosity=True, web_search=False
        ),
    ),
    *((f"gpt-5.{minor}", _PRO_CAPABLE) for minor in range(6, 10)),
    *((f"gpt-5.{minor}", _GPT5_XHIGH) for minor in range(2, 6)),
    ("gpt-5.", _GPT5_NEWER),
    ("gpt-6-luna", _PRO_CAPABLE),
    ("gpt-6.1-terra", _PRO_CAPABLE),
    ("gpt-6", _GPT6_REASONING_ON),
    ("gpt-5", _GPT5),
    ("gpt-4.1-nano", ModelCapabilities(web_search=False)),
    ("gpt-4-turbo", ModelCapabilities(web_search=False)),
    ("gpt-3.5", ModelCapabilities(web_search=False)),
)
DEFAULT_CAPABILITIES: Final = ModelCapabilities()


# Speech subentries store core's keys (the model in chat_model, TTS instructions in prompt,
# speed in tts_speed), so core reads them after this integration is removed; voice and
# audio_format are this integration's own additions, which core's TTS also reads or ignores.
CONF_TTS_SPEED: Final = "tts_speed"
CONF_VOICE: Final = "voice"
CONF_AUDIO_FORMAT: Final = "audio_format"
# Options of a single TTS call (tts.speak's options), a vocabulary of their own.
OPTION_MODEL: Final = "model"
OPTION_SPEED: Final = "speed"
OPTION_INSTRUCTIONS: Final = "instructions"
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


# Options the API types as integers; HA's number selector hands over floats (800.0), which
# OpenAI and servers written in Go refuse.
INTEGER_OPTIONS: Final = (CONF_MAX_TOKENS, CONF_HISTORY_TOKENS)


def with_integers(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return options with the integer ones as ints."""
    return {
        key: int(value) if key in INTEGER_OPTIONS and isinstance(value, float) else value
        for key, value in options.items()
    }


def capability_name(options: Mapping[str, Any], model: str) -> str:
    """Return the name that says what a model takes: the agent's family, else the model's.

    A proxy's "openai/gpt-5" is gpt-5; a deployment named "prod-chat" needs the family.
    """
    family = options.get(CONF_MODEL_FAMILY, MODEL_FAMILY_AUTO)
    return str(family) if family != MODEL_FAMILY_AUTO else model.rsplit("/", 1)[-1]


def model_capabilities(model: str) -> ModelCapabilities:
    """Return the capabilities of a model by its name."""
    for prefix, capabilities in MODEL_RULES:
        if model.startswith(prefix):
            return capabilities
    return DEFAULT_CAPABILITIES
