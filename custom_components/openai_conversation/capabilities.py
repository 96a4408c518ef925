"""What each chat model takes: reasoning, verbosity, tools, tiers and prompt caching.

The rules go by model name (first matching prefix) or by the family an agent names, for
deployments and proxies whose names do not tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .const import CONF_MODEL_FAMILY, MODEL_FAMILY_AUTO, REASONING_SUMMARIES, SERVICE_TIERS

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
    ("gpt-5.3-codex", _CODEX_XHIGH),
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
