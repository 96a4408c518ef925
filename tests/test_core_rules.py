"""The agent form's per-model choices against those of the built-in integration installed.

Core's own tests check these choices through core's form; this compares the rules directly,
on the Home Assistant this end installs, so a core release that changes them shows up here.
Where we differ on purpose, docs/compatibility.md ("Core's tests") says why.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib
from types import ModuleType

import pytest

from custom_components.openai_conversation.capabilities import model_capabilities, service_tiers
from custom_components.openai_conversation.const import DOMAIN
from homeassistant import config_entries

MODELS = (
    "gpt-4o-mini",
    "gpt-4.1",
    "o1",
    "o3",
    "o3-mini",
    "o3-pro",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5-pro",
    "gpt-5-chat-latest",
    "gpt-5.1",
    "gpt-5.1-chat-latest",
    "gpt-5.2",
    "gpt-5.2-pro",
    "gpt-5.3",
    "gpt-5.3-chat",
    "gpt-5.4",
    "gpt-5.4-pro",
    "gpt-5.5",
    "gpt-5.5-pro",
    "gpt-5.6",
    "gpt-5.6-sol",
    "gpt-6",
    "gpt-6-astra",
    "gpt-6-luna",
    "gpt-6-sol",
    "gpt-6.1-sol",
)  # Not gpt-6.1-terra: HA 2026.11 let it turn reasoning off, as the form does since.
# OpenAI's model pages: Codex models take neither minimal nor none, and xhigh from
# 5.1-codex-max on; core derives their choices from the GPT-5.x family names.
CODEX = ("gpt-5-codex", "gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5.2-codex", "gpt-5.3-codex")


def _core_flow() -> ModuleType:
    """Import the built-in integration's config flow without letting it take the domain.

    Defining its ConfigFlow registers it as the domain's flow handler, which would replace
    ours in every later test of the session.
    """
    ours = config_entries.HANDLERS.get(DOMAIN)
    try:
        return importlib.import_module("homeassistant.components.openai_conversation.config_flow")
    finally:
        if ours is None:
            config_entries.HANDLERS.pop(DOMAIN, None)
        else:
            config_entries.HANDLERS[DOMAIN] = ours


def _core_rule(name: str) -> Callable[[str], list[str]]:
    """Return one of core's per-model rules, or skip where this HA's core lacks it."""
    method = getattr(_core_flow().OpenAISubentryFlowHandler, name, None)
    if method is None or not method(None, "gpt-6"):
        pytest.skip("this Home Assistant's built-in integration predates GPT-6")
    return lambda model: list(method(None, model))


def _offered_efforts(model: str) -> list[str]:
    """Return the efforts our form offers (none where the model has one only)."""
    efforts = list(model_capabilities(model).reasoning_efforts)
    return efforts if len(efforts) > 1 else []


@pytest.mark.parametrize("model", MODELS)
def test_reasoning_efforts_match_core(model: str) -> None:
    core = _core_rule("_get_reasoning_options")
    assert _offered_efforts(model) == core(model)


@pytest.mark.parametrize("model", CODEX)
def test_codex_efforts_differ_from_core_on_purpose(model: str) -> None:
    core = _core_rule("_get_reasoning_options")
    ours = _offered_efforts(model)
    assert "minimal" not in ours
    assert "none" not in ours
    assert ours != core(model)


@pytest.mark.parametrize("model", [*MODELS, *CODEX])
def test_service_tiers_match_core(model: str) -> None:
    core = _core_rule("_get_service_tiers")
    assert list(service_tiers(model)) == list(core(model))  # in core's order too
