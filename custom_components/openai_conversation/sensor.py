"""Usage sensors: tokens and estimated cost per conversation agent and AI Task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import OpenAIConfigEntry, resolve_model
from .const import SUBENTRY_AI_TASK, SUBENTRY_CONVERSATION
from .entity import OpenAISubentryEntity, async_add_subentry_entities
from .usage import UsageReport, usage_signal


@dataclass(frozen=True, kw_only=True)
class UsageSensorDescription(SensorEntityDescription):
    """A running total of one figure of usage."""

    amount: Callable[[UsageReport], float | None]


SENSORS = (
    UsageSensorDescription(
        key="input_tokens",
        translation_key="input_tokens",
        native_unit_of_measurement="tokens",
        state_class=SensorStateClass.TOTAL_INCREASING,
        amount=lambda report: report.usage.input_tokens,
    ),
    UsageSensorDescription(
        key="output_tokens",
        translation_key="output_tokens",
        native_unit_of_measurement="tokens",
        state_class=SensorStateClass.TOTAL_INCREASING,
        amount=lambda report: report.usage.output_tokens,
    ),
    UsageSensorDescription(
        key="cached_input_tokens",
        translation_key="cached_input_tokens",
        native_unit_of_measurement="tokens",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=False,
        amount=lambda report: report.usage.cached_tokens,
    ),
    UsageSensorDescription(
        key="cost",
        translation_key="cost",
        native_unit_of_measurement="USD",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=4,
        amount=lambda report: report.cost,
    ),
    # Requests answered by the fallback model because the agent's own failed.
    UsageSensorDescription(
        key="fallbacks",
        translation_key="fallbacks",
        state_class=SensorStateClass.TOTAL_INCREASING,
        amount=lambda report: report.fallbacks,
    ),
)

# Sensors only add up what responses report; nothing to poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OpenAIConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add usage sensors to each agent and AI Task."""
    async_add_subentry_entities(
        entry,
        async_add_entities,
        (SUBENTRY_CONVERSATION, SUBENTRY_AI_TASK),
        lambda e, s: [UsageSensor(e, s, description) for description in SENSORS],
    )


class UsageSensor(RestoreSensor, OpenAISubentryEntity):
    """Adds up one figure of a subentry's usage; the total survives restarts."""

    entity_description: UsageSensorDescription
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    # Totals change when a response reports usage (a dispatcher signal), never on a timer.
    _attr_should_poll = False

    def __init__(
        self,
        entry: OpenAIConfigEntry,
        subentry: ConfigSubentry,
        description: UsageSensorDescription,
    ) -> None:
        """Initialize the sensor on the subentry's device."""
        super().__init__(entry, subentry, resolve_model(entry.data, subentry.data))
        self.entity_description = description
        self._attr_unique_id = f"{subentry.subentry_id}_{description.key}"
        self._total = 0.0

    async def async_added_to_hass(self) -> None:
        """Restore the total and follow new usage."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None and isinstance(
            last.native_value, (int, float)
        ):
            self._total = float(last.native_value)
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, usage_signal(self.subentry.subentry_id), self._async_add
            )
        )

    @callback
    def _async_add(self, report: UsageReport) -> None:
        if not (amount := self.entity_description.amount(report)):
            return  # nothing to add (or no price for the model)
        self._total += amount
        self.async_write_ha_state()

    @property
    def native_value(self) -> float | int:
        """Return the running total (whole tokens; dollars to 8 decimals)."""
        if self.entity_description.key == "cost":
            return round(self._total, 8)
        return int(self._total)
