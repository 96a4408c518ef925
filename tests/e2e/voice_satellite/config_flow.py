"""Adding the stand-in satellite takes one click."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult


class SatelliteConfigFlow(ConfigFlow, domain="voice_satellite"):
    """Create the satellite's entry."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Create the entry at once."""
        return self.async_create_entry(title="Kitchen satellite", data={})
