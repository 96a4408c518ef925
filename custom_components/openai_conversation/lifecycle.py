"""Model lifecycle: warn before OpenAI shuts a model down, and move subentries off it.

OpenAI publishes each model's shutdown date on its deprecations page and, since 2026, as
`shutdown_date` in the model list. The list is read at setup and once a day; the table
below covers models the list no longer shows (already shut down) and names replacements.
Only entries on OpenAI's own servers are checked: Azure deployments keep their own names
and compatible servers do not publish dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
import logging
import re
from typing import Any, Final

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .capabilities import model_kind
from .const import (
    CONF_CHAT_MODEL,
    CONF_IMAGE_MODEL,
    CONF_RECOMMENDED,
    DOMAIN,
    PREVIOUS_RECOMMENDED_CHAT_MODEL,
    RECOMMENDED_CHAT_MODEL,
    RECOMMENDED_DECISION_MODEL,
    RECOMMENDED_IMAGE_MODEL,
    SUBENTRY_AI_TASK,
    SUBENTRY_CONVERSATION,
    SUBENTRY_EVALUATION,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from .speech_models import RECOMMENDED_STT_MODEL, RECOMMENDED_TTS_MODEL

_LOGGER = logging.getLogger(__name__)

DEPRECATIONS_URL: Final = "https://platform.openai.com/docs/deprecations"
# Warn this long before a shutdown.
WARNING_PERIOD: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Retirement:
    """When OpenAI shuts a model down, and what it recommends instead."""

    shutdown: date
    replacement: str
    reference: str = DEPRECATIONS_URL


def _retire(shutdown: date, replacement: str, *models: str) -> dict[str, Retirement]:
    return dict.fromkeys(models, Retirement(shutdown, replacement))


# OpenAI's deprecations page, November 2026 (each row's announcement is on that page).
RETIREMENTS: Final[Mapping[str, Retirement]] = {
    **_retire(date(2026, 5, 12), "gpt-image-2.5-flare", "dall-e-2", "dall-e-3"),
    **_retire(date(2026, 10, 23), "gpt-image-2.5-flare", "gpt-image-1"),
    **_retire(
        date(2026, 12, 1),
        "gpt-image-2.6-flare",
        "gpt-image-1-mini",
        "gpt-image-1.5",
        "chatgpt-image-latest",
    ),
    **_retire(date(2026, 12, 11), "gpt-6.1-sol", "gpt-5", "gpt-5-pro", "o3", "o3-pro"),
    **_retire(date(2026, 12, 11), "gpt-6.1-terra", "gpt-5-mini"),
    **_retire(date(2026, 12, 11), "gpt-6-luna", "gpt-5-nano"),
    **_retire(date(2027, 1, 14), "gpt-6-luna", "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"),
    # The speech endpoint's models (OpenAI's text-to-speech guide): their replacement
    # speaks through the Realtime API, which the TTS entity then uses.
    **_retire(date(2027, 1, 6), "gpt-realtime-2.1-mini", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"),
    **_retire(date(2027, 1, 20), "gpt-realtime-2.1", "gpt-realtime"),
    **_retire(date(2027, 1, 20), "gpt-realtime-2.1-mini", "gpt-realtime-mini"),
    **_retire(
        date(2027, 2, 26),
        "gpt-transcribe",
        "whisper-1",
        "gpt-4o-transcribe",
        "gpt-4o-mini-transcribe",
    ),
}
# A dated snapshot shares its model's schedule: gpt-4o-mini-2024-07-18 is gpt-4o-mini.
SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")
# Subentries that use the replacement by themselves once their model is shut down (the
# repair then says so): speech must not go silent.
SELF_REPLACING: Final = frozenset({SUBENTRY_STT, SUBENTRY_TTS})
# The model each subentry type uses when it names none.
DEFAULT_MODELS: Final = {
    SUBENTRY_CONVERSATION: RECOMMENDED_CHAT_MODEL,
    SUBENTRY_AI_TASK: RECOMMENDED_CHAT_MODEL,
    SUBENTRY_STT: RECOMMENDED_STT_MODEL,
    SUBENTRY_TTS: RECOMMENDED_TTS_MODEL,
    SUBENTRY_EVALUATION: RECOMMENDED_DECISION_MODEL,
}


def retirement(model: str, live: Mapping[str, date] | None = None) -> Retirement | None:
    """Return a model's shutdown: the server's date where it lists one, else the table's."""
    known = RETIREMENTS.get(model) or RETIREMENTS.get(SNAPSHOT.sub("", model))
    if live and (shutdown := live.get(model)) is not None:
        return Retirement(shutdown, known.replacement if known else "")
    return known


def replacement_in_force(model: str, live: Mapping[str, date] | None = None) -> str | None:
    """Return the replacement of a model OpenAI has shut down (today or before), or None."""
    found = retirement(model, live)
    if found is None or not found.replacement or dt_util.now().date() < found.shutdown:
        return None
    return found.replacement


def speaking_model(model: str, live: Mapping[str, date] | None = None) -> str:
    """Return the model a TTS speaks with: from the shutdown on, OpenAI's replacement.

    A voice must not go silent on the day; the repair says the model was replaced.
    """
    return replacement_in_force(model, live) or model


def shutdown_dates(models: Iterable[Any]) -> dict[str, date]:
    """Return the shutdown dates a model list carries (OpenAI's optional shutdown_date)."""
    dates: dict[str, date] = {}
    for model in models:
        value = getattr(model, "shutdown_date", None)
        if isinstance(value, str):
            try:
                dates[model.id] = date.fromisoformat(value)
            except ValueError:
                _LOGGER.debug("Unreadable shutdown_date %r of %s", value, model.id)
    return dates


@dataclass(frozen=True, slots=True)
class ModelUse:
    """One model a subentry names, and the option that holds it."""

    subentry: ConfigSubentry
    key: str
    model: str

    @property
    def issue_id(self) -> str:
        """Return the repair issue's id for this use."""
        return f"model_shutdown_{self.subentry.subentry_id}_{self.key}"


def models_in_use(subentries: Iterable[ConfigSubentry]) -> Iterator[ModelUse]:
    """Yield every model the subentries use, their defaults included."""
    for subentry in subentries:
        if (default := DEFAULT_MODELS.get(subentry.subentry_type)) is None:
            continue
        yield ModelUse(subentry, CONF_CHAT_MODEL, subentry.data.get(CONF_CHAT_MODEL) or default)
        if subentry.subentry_type == SUBENTRY_AI_TASK:
            image_model = subentry.data.get(CONF_IMAGE_MODEL) or RECOMMENDED_IMAGE_MODEL
            yield ModelUse(subentry, CONF_IMAGE_MODEL, image_model)


def suggest_replacement(model: str, found: Retirement, candidates: Iterable[str]) -> str:
    """Return the table's replacement, or the live model most like the retiring one.

    Only a model of its kind qualifies: a chat model for an agent, not a voice model.
    """
    if found.replacement:
        return found.replacement
    kind = model_kind(model)
    others = [c for c in candidates if c != model and model_kind(c) == kind]
    if not others:
        return model

    def likeness(candidate: str) -> tuple[int, str]:
        shared = next(
            (i for i, (a, b) in enumerate(zip(model, candidate, strict=False)) if a != b),
            min(len(model), len(candidate)),
        )
        return shared, candidate  # ties: the lexically newest name

    return max(others, key=likeness)


@callback
def async_check_models(
    hass: HomeAssistant,
    entry_id: str,
    subentries: Iterable[ConfigSubentry],
    models: Iterable[str],
    live: Mapping[str, date],
) -> None:
    """Raise or clear the shutdown repair of every model the subentries use.

    models: the server's model list; live: the shutdown dates it carries.
    """
    today = dt_util.now().date()
    lasting = [model for model in models if model not in live]
    for use in models_in_use(subentries):
        found = retirement(use.model, live)
        if found is None or today < found.shutdown - WARNING_PERIOD:
            ir.async_delete_issue(hass, DOMAIN, use.issue_id)
            continue
        past = today >= found.shutdown
        # STT and TTS past the date already use the replacement by themselves.
        replaced = past and use.subentry.subentry_type in SELF_REPLACING
        replacement = suggest_replacement(use.model, found, lasting)
        ir.async_create_issue(
            hass,
            DOMAIN,
            use.issue_id,
            is_fixable=True,
            is_persistent=False,
            learn_more_url=found.reference,
            severity=ir.IssueSeverity.CRITICAL
            if past and not replaced
            else ir.IssueSeverity.WARNING,
            translation_key=_issue_key(use.subentry.subentry_type, past, replaced),
            translation_placeholders={
                "name": use.subentry.title,
                "model": use.model,
                "date": found.shutdown.isoformat(),
                "replacement": replacement,
            },
            data={
                "entry_id": entry_id,
                "subentry_id": use.subentry.subentry_id,
                "key": use.key,
                "replacement": replacement,
            },
        )


# When the recommended model changed: entries made before then had agents on the old one.
RECOMMENDED_MODEL_CHANGED: Final = date(2026, 11, 29)


@callback
def async_note_recommended_move(
    hass: HomeAssistant, entry_id: str, created: date, subentries: Iterable[ConfigSubentry]
) -> None:
    """Tell (once, dismissably) that agents on "recommended" moved to the new model."""
    moved = [
        s.title
        for s in subentries
        if s.subentry_type in (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK)
        and s.data.get(CONF_RECOMMENDED)
    ]
    issue_id = f"recommended_model_moved_{entry_id}"
    if not moved or created >= RECOMMENDED_MODEL_CHANGED:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    old = RETIREMENTS[PREVIOUS_RECOMMENDED_CHAT_MODEL]
    _LOGGER.info(
        "%s use the recommended model, now %s: %s shuts down on %s",
        ", ".join(moved),
        RECOMMENDED_CHAT_MODEL,
        PREVIOUS_RECOMMENDED_CHAT_MODEL,
        old.shutdown,
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=False,
        learn_more_url=old.reference,
        severity=ir.IssueSeverity.WARNING,
        translation_key="recommended_model_moved",
        translation_placeholders={
            "names": ", ".join(moved),
            "old": PREVIOUS_RECOMMENDED_CHAT_MODEL,
            "new": RECOMMENDED_CHAT_MODEL,
            "date": old.shutdown.isoformat(),
        },
    )


def _issue_key(subentry_type: str, past: bool, replaced: bool) -> str:
    """Return the repair's translation key: coming, shut down, or already replaced."""
    if replaced:
        # A TTS's repair also says its voice was mapped to one the replacement has.
        return "speech_model_replaced" if subentry_type == SUBENTRY_TTS else "model_replaced"
    return "model_shut_down" if past else "model_shutting_down"
