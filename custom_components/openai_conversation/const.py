"""Constants and model capability rules for the OpenAI integration."""

from __future__ import annotations

from collections.abc import Mapping
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
REASONING_SUMMARIES: Final = ("off", "auto", "concise", "detailed")  # in the order core offers them
SERVICE_TIERS: Final = ("auto", "flex", "default", "priority")  # likewise
RECOMMENDED_SERVICE_TIER: Final = "auto"
# Said to the model when web search is on and citations are off; links read aloud are noise.
NO_CITATIONS_HINT: Final = "When you search the web, do not include source citations or links."


WEB_SEARCH_CONTEXT_SIZES: Final = ("low", "medium", "high")


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
# Options the API types as integers; HA's number selector hands over floats (800.0), which
# OpenAI and servers written in Go refuse.
INTEGER_OPTIONS: Final = (CONF_MAX_TOKENS, CONF_HISTORY_TOKENS)


def with_integers(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return options with the integer ones as ints."""
    return {
        key: int(value) if key in INTEGER_OPTIONS and isinstance(value, float) else value
        for key, value in options.items()
    }
