"""A stand-in for a voice satellite integration (Voice PE's ESPHome, the companion app).

It registers its device as able to run timers, as those integrations do; Home Assistant then
offers the conversation agent its timer tools for turns that carry this device's id. Timer
events are written to a state, where the end-to-end tests read them over REST.
"""

from __future__ import annotations

from homeassistant.components.intent import TimerEventType, TimerInfo, async_register_timer_handler
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

DOMAIN = "voice_satellite"


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Register the satellite's device and its timer handler."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name="Kitchen satellite",
    )

    @callback
    def on_timer(event: TimerEventType, timer: TimerInfo) -> None:
        hass.states.async_set(
            f"{DOMAIN}.kitchen_timer",
            event.value,
            {
                "hours": timer.start_hours,
                "minutes": timer.start_minutes,
                "seconds": timer.start_seconds,
                "device_id": timer.device_id,
            },
        )

    entry.async_on_unload(async_register_timer_handler(hass, device.id, on_timer))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Nothing to unload beyond the timer handler."""
    return True
