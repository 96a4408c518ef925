"""The speech subentries' forms as the frontend receives them, over HA's flow API.

Each form is compared whole: its fields, which are required, their defaults (what a field
left empty becomes), the suggested values shown, and each selector's settings (the list a
dropdown offers and whether it takes a typed name, its translated labels, a number's range
and step, a multi-line prompt box).
"""

from __future__ import annotations

from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.speech_models import (
    RECOMMENDED_STT_PROMPT,
    STT_MODELS,
    TTS_FORMATS,
    TTS_VOICES,
)
from emulator import OpenAIEmulator
from homeassistant.core import HomeAssistant

from .common import Frontend, dropdown
from .test_providers import _add_compatible

SPEECH_ENDPOINT_MODELS = ["gpt-4o-mini-tts", "tts-1", "tts-1-hd"]


def multiline_text() -> dict[str, Any]:
    """Return the prompt box: several lines of plain text."""
    return {"text": {"multiline": True, "multiple": False}}


def fields(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a form's fields by name, each as the frontend receives it."""
    assert form["type"] == "form", form
    return {
        field["name"]: {k: v for k, v in field.items() if k != "name"}
        for field in form["data_schema"]
    }


async def test_stt_form_on_openai(
    hass: HomeAssistant, setup_entry: MockConfigEntry, frontend: Frontend
) -> None:
    """A new STT: named and prefilled; then the prompt box and OpenAI's live transcription;
    a prompt left empty becomes the recommended one."""
    form = await frontend.add(setup_entry, "stt")
    assert form["step_id"] == "init"
    assert fields(form) == {
        "name": {"type": "string", "required": True, "default": "OpenAI STT"},
        "chat_model": {
            "required": True,
            "selector": dropdown(list(STT_MODELS), custom=True),
            "description": {"suggested_value": "gpt-transcribe"},
        },
    }
    form = await frontend.submit({"name": "Ears", "chat_model": "whisper-1"})
    assert form["step_id"] == "settings"
    assert fields(form) == {
        "prompt": {
            "required": False,
            "optional": True,
            "default": RECOMMENDED_STT_PROMPT,
            "selector": multiline_text(),
            "description": {"suggested_value": RECOMMENDED_STT_PROMPT},
        },
        "live_transcription": {
            "required": False,
            "optional": True,
            "default": True,
            "selector": {"boolean": {}},
        },
    }
    done = await frontend.submit({"live_transcription": False})
    assert done["type"] == "create_entry"
    assert done["title"] == "Ears"
    (added,) = [s for s in setup_entry.subentries.values() if s.title == "Ears"]
    assert dict(added.data) == {
        "chat_model": "whisper-1",
        "prompt": RECOMMENDED_STT_PROMPT,
        "live_transcription": False,
    }


async def test_tts_forms_on_a_compatible_server(
    hass: HomeAssistant, emulator: OpenAIEmulator, frontend: Frontend
) -> None:
    """A compatible server keeps the speech endpoint: its models only, core's suggested
    (not the realtime default); voice, format and speed up to 4x for tts-1; the prompt box
    for the GPT-4o family. Fields left empty become their defaults."""
    entry = await _add_compatible(hass, emulator, "gpt-4o-mini")
    form = await frontend.add(entry, "tts")
    assert fields(form) == {
        "name": {"type": "string", "required": True, "default": "OpenAI TTS"},
        "chat_model": {
            "required": True,
            "selector": dropdown(SPEECH_ENDPOINT_MODELS, custom=True),
            "description": {"suggested_value": "gpt-4o-mini-tts"},
        },
    }
    voice = {
        "required": True,
        "default": "marin",
        "selector": dropdown(list(TTS_VOICES), "voice", custom=True),
        "description": {"suggested_value": "marin"},
    }
    audio_format = {
        "required": True,
        "default": "mp3",
        "selector": dropdown(list(TTS_FORMATS), "audio_format"),
        "description": {"suggested_value": "mp3"},
    }
    form = await frontend.submit({"name": "Speaker", "chat_model": "tts-1"})
    assert fields(form) == {
        "voice": voice,
        "audio_format": audio_format,
        "tts_speed": {
            "required": False,
            "optional": True,
            "default": 1.0,
            "selector": {"number": {"min": 0.25, "max": 4.0, "step": 0.05, "mode": "slider"}},
            "description": {"suggested_value": 1.0},
        },
    }
    done = await frontend.submit({"tts_speed": 3.5})
    assert done["type"] == "create_entry"
    await hass.async_block_till_done()  # the entry reloads with its new TTS

    form = await frontend.add(entry, "tts")
    form = await frontend.submit({"chat_model": "gpt-4o-mini-tts"})
    assert fields(form) == {
        "voice": voice,
        "audio_format": audio_format,
        "prompt": {
            "required": False,
            "optional": True,
            "selector": multiline_text(),
            "description": {"suggested_value": ""},
        },
    }
    done = await frontend.submit({"prompt": "Slowly."})
    assert done["type"] == "create_entry"
    added = {s.title: dict(s.data) for s in entry.subentries.values() if s.subentry_type == "tts"}
    assert added == {
        "Speaker": {
            "chat_model": "tts-1",
            "prompt": "",
            "voice": "marin",
            "tts_speed": 3.5,
            "audio_format": "mp3",
        },
        "OpenAI TTS": {
            "chat_model": "gpt-4o-mini-tts",
            "prompt": "Slowly.",
            "voice": "marin",
            "tts_speed": 1.0,
            "audio_format": "mp3",
        },
    }
