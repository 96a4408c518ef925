"""An in-process Home Assistant for the benchmarks: a kitchen light and one OpenAI entry.

Ours (the custom integration) or the built-in one, each with the entry version it writes
today, so neither migrates (and adds subentries) on setup.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import contextlib
from importlib import import_module
import tempfile
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant

from homeassistant import loader
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame
from homeassistant.setup import async_setup_component

KEY = "sk-bench"


def flow_handler(custom: bool) -> Any:
    """Return the config flow class of ours (custom) or of the built-in integration."""
    package = "custom_components" if custom else "homeassistant.components"
    flow = import_module(f"{package}.openai_conversation.config_flow")
    return next(
        v
        for v in vars(flow).values()
        if isinstance(v, type) and v.__module__ == flow.__name__ and hasattr(v, "MINOR_VERSION")
    )


def entry_version(custom: bool) -> tuple[int, int]:
    """Return the version each integration writes today for an OpenAI entry.

    Ours writes core's version for OpenAI entries; its flow's VERSION is the one of
    other servers' entries, which core refuses.
    """
    if custom:
        migration = import_module("custom_components.openai_conversation.migration")
        version: tuple[int, int] = migration.entry_version({"api_key": KEY})
        return version
    handler = flow_handler(custom)
    return int(handler.VERSION), int(handler.MINOR_VERSION)


def subentry(kind: str, title: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return one subentry's data for a MockConfigEntry."""
    return {"data": data, "subentry_type": kind, "title": title, "unique_id": None}


@contextlib.asynccontextmanager
async def home_assistant(
    custom: bool,
    subentries: list[dict[str, Any]],
    *,
    entities: int = 1,
    domains: tuple[str, ...] = (),
) -> AsyncGenerator[tuple[HomeAssistant, MockConfigEntry]]:
    """Yield a Home Assistant with the light, more lights up to `entities`, and the entry.

    The integrations reach the emulator through OPENAI_BASE_URL.
    """
    # HA may still write its storage as it stops; the folder outlives it.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # As HA's bootstrap does; code that reports its callers (the aiohttp session's
            # creation among it) needs it, and the test harness only sets it in pytest.
            previous = frame._hass.hass  # noqa: SLF001 - restored when this instance stops
            frame.async_setup(hass)
            if custom:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            for domain in ("homeassistant", "intent", *domains):
                assert await async_setup_component(hass, domain, {})
            assert await async_setup_component(
                hass,
                "input_boolean",
                {"input_boolean": {"kitchen_light": {"name": "Kitchen light"}}},
            )
            async_expose_entity(hass, "conversation", "input_boolean.kitchen_light", True)
            for i in range(entities - 1):  # lights are exposed to Assist by default
                hass.states.async_set(
                    f"light.bench_{i}", "off", {"friendly_name": f"Bench light {i}"}
                )
            version, minor = entry_version(custom)
            entry = MockConfigEntry(
                domain="openai_conversation",
                data={"api_key": KEY},
                version=version,
                minor_version=minor,
                subentries_data=subentries,
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            try:
                yield hass, entry
            finally:
                frame.async_setup(previous)  # type: ignore[arg-type]
