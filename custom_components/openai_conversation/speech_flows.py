"""Subentry flows of the speech subentries: STT and TTS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    TextSelector,
    TextSelectorConfig,
)

from .client import provider
from .compat import vol
from .const import (
    CONF_AUDIO_FORMAT,
    CONF_CHAT_MODEL,
    CONF_LIVE_TRANSCRIPTION,
    CONF_PROMPT,
    CONF_TTS_SPEED,
    CONF_VOICE,
    DEFAULT_STT_NAME,
    DEFAULT_TTS_NAME,
    PROVIDER_OPENAI,
)
from .speech_models import (
    CORE_TTS_MODEL,
    REALTIME_SPEED_RANGE,
    REALTIME_TTS_VOICES,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_STT_PROMPT,
    RECOMMENDED_TTS_FORMAT,
    RECOMMENDED_TTS_OPTIONS,
    RECOMMENDED_TTS_SPEED,
    RECOMMENDED_TTS_VOICE,
    STT_MODELS,
    TTS_FORMATS,
    TTS_MODELS,
    TTS_VOICES,
    realtime_voice,
    tts_is_realtime,
    tts_takes_instructions,
    tts_takes_speed,
)
from .subentry_flows import BaseSubentryFlow, dropdown


class SpeechFlowHandler(BaseSubentryFlow):
    """Add or reconfigure a speech subentry: model first, then what that model takes."""

    models: tuple[str, ...]
    # Keys core's entity reads unconditionally, stored even where the model ignores them.
    core_defaults: Mapping[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Name and model."""
        if user_input is not None:
            self.options.update(user_input)
            return await self.async_step_settings()
        schema: dict[Any, Any] = {}
        if self._is_new:
            schema[vol.Required(CONF_NAME, default=self.default_name)] = str
        schema[vol.Required(CONF_CHAT_MODEL)] = dropdown(self._models(), custom=True)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(schema), self.options),
        )

    def _models(self) -> tuple[str, ...]:
        """Return the models offered (a custom name is always possible)."""
        return self.models

    def _settings_fields(self, model: str) -> dict[Any, Any]:
        raise NotImplementedError

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """What the chosen model takes."""
        if user_input is not None:
            options = {**self.core_defaults, **self.options, **user_input}
            return self._save(options)
        schema = vol.Schema(self._settings_fields(self.options[CONF_CHAT_MODEL]))
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(schema, self.options),
        )


class STTFlowHandler(SpeechFlowHandler):
    """Speech to text: a model and the prompt that steers it (no templates)."""

    default_name = DEFAULT_STT_NAME
    recommended = RECOMMENDED_STT_OPTIONS
    models = STT_MODELS

    def _settings_fields(self, model: str) -> dict[Any, Any]:
        fields: dict[Any, Any] = {
            vol.Optional(CONF_PROMPT, default=RECOMMENDED_STT_PROMPT): TextSelector(
                TextSelectorConfig(multiline=True)
            )
        }
        if provider(self._get_entry().data) == PROVIDER_OPENAI:  # the Realtime API
            fields[vol.Optional(CONF_LIVE_TRANSCRIPTION, default=True)] = BooleanSelector()
        return fields


class TTSFlowHandler(SpeechFlowHandler):
    """Text to speech: voice and format; speed or instructions where the model takes them."""

    default_name = DEFAULT_TTS_NAME
    recommended = RECOMMENDED_TTS_OPTIONS
    models = TTS_MODELS
    core_defaults = {CONF_PROMPT: ""}

    def _models(self) -> tuple[str, ...]:
        """Realtime voices for OpenAI's own servers; the speech endpoint's elsewhere.

        Azure deployments and compatible speech servers (Speaches, Kokoro) keep
        /audio/speech, where realtime models are not served.
        """
        if provider(self._get_entry().data) == PROVIDER_OPENAI:
            return self.models
        if tts_is_realtime(str(self.options.get(CONF_CHAT_MODEL, ""))):
            self.options[CONF_CHAT_MODEL] = CORE_TTS_MODEL
        return tuple(model for model in self.models if not tts_is_realtime(model))

    def _settings_fields(self, model: str) -> dict[Any, Any]:
        # Realtime voices are fewer, their speed range narrower, and they speak PCM only
        # (HA converts it where a player wants another format): offer what the model takes.
        realtime = tts_is_realtime(model)
        if realtime:  # moved from the speech endpoint: suggest what this model takes
            self.options[CONF_VOICE] = realtime_voice(
                str(self.options.get(CONF_VOICE, RECOMMENDED_TTS_VOICE))
            )
            if (speed := self.options.get(CONF_TTS_SPEED)) is not None:
                low, high = REALTIME_SPEED_RANGE
                self.options[CONF_TTS_SPEED] = min(max(float(speed), low), high)
        fields: dict[Any, Any] = {
            vol.Required(CONF_VOICE, default=RECOMMENDED_TTS_VOICE): dropdown(
                REALTIME_TTS_VOICES if realtime else TTS_VOICES, CONF_VOICE, custom=not realtime
            ),
        }
        if not realtime:
            fields[vol.Required(CONF_AUDIO_FORMAT, default=RECOMMENDED_TTS_FORMAT)] = dropdown(
                TTS_FORMATS, CONF_AUDIO_FORMAT
            )
        if tts_takes_speed(model):
            low, high = REALTIME_SPEED_RANGE if realtime else (0.25, 4.0)
            fields[vol.Optional(CONF_TTS_SPEED, default=RECOMMENDED_TTS_SPEED)] = NumberSelector(
                NumberSelectorConfig(min=low, max=high, step=0.05)
            )
        if tts_takes_instructions(model):
            fields[vol.Optional(CONF_PROMPT)] = TextSelector(TextSelectorConfig(multiline=True))
        return fields
