"""Repairs: move a subentry off a model OpenAI shuts down, in one step; drop stale ones."""

from __future__ import annotations

import re
from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import SelectSelector, SelectSelectorConfig, SelectSelectorMode

from .compat import FixFlowResult, vol
from .const import CONF_CHAT_MODEL, CONF_VOICE, DOMAIN, SUBENTRY_TTS
from .speech_models import RECOMMENDED_TTS_VOICE, realtime_voice, tts_is_realtime


class ModelReplacementFlow(RepairsFlow):
    """Confirm the suggested replacement, or pick another model; nothing else changes."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Remember which subentry option the issue is about."""
        self._data = data

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> FixFlowResult:
        """Start with the choice of the replacement."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> FixFlowResult:
        """Show the replacement; on confirmation, switch the subentry and reload."""
        entry = self.hass.config_entries.async_get_entry(self._data["entry_id"])
        subentry = entry.subentries.get(self._data["subentry_id"]) if entry else None
        if entry is None or subentry is None:
            return self.async_abort(reason="subentry_removed")
        key: str = self._data["key"]
        if user_input is not None:
            # The entry reloads on the change; its check then clears this issue.
            data = {**subentry.data, key: user_input[CONF_CHAT_MODEL]}
            if subentry.subentry_type == SUBENTRY_TTS and tts_is_realtime(data[key]):
                # A realtime voice that sounds like the old one, where it has no such voice.
                data[CONF_VOICE] = realtime_voice(data.get(CONF_VOICE, RECOMMENDED_TTS_VOICE))
            self.hass.config_entries.async_update_subentry(entry, subentry, data=data)
            return self.async_create_entry(data={})
        replacement: str = self._data["replacement"]
        # The server's models that have no shutdown date (none while the entry is unloaded).
        runtime = getattr(entry, "runtime_data", None)
        live = [m for m in runtime.models if m not in runtime.shutdowns] if runtime else []
        options = [replacement, *sorted(m for m in live if m != replacement)]
        schema = vol.Schema(
            {
                vol.Required(CONF_CHAT_MODEL, default=replacement): SelectSelector(
                    SelectSelectorConfig(
                        options=options, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="confirm",
            data_schema=schema,
            description_placeholders={"name": subentry.title, "replacement": replacement},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the fix flow of a model shutdown issue."""
    return ModelReplacementFlow(data or {})


# Repairs about one subentry or entry name it after their kind (see lifecycle.py and
# __init__.py); subentry and entry ids are ULIDs, which hold no underscore.
_OWNED_ISSUES = re.compile(
    r"^(?:unsupported_model_|model_shutdown_|recommended_model_moved_)([0-9A-Z]+)(?:_|$)"
)


@callback
def async_drop_stale_issues(hass: HomeAssistant, removed: str | None = None) -> None:
    """Delete repairs whose subentry or entry no longer exists (or is being removed)."""
    alive = {
        owner
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id != removed
        for owner in (entry.entry_id, *entry.subentries)
    }
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain != DOMAIN or not (match := _OWNED_ISSUES.match(issue_id)):
            continue
        if match.group(1) not in alive:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
