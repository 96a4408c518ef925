"""Fixtures: a real Home Assistant, the OpenAI emulator, and a loaded entry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
import gc
import logging
from pathlib import Path
from typing import Any

from freezegun import freeze_time
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

# Imported before the hass fixture runs, so HA finds this repo's custom_components
# package instead of the one pytest-homeassistant-custom-component ships for its tests.
import custom_components  # noqa: F401
from custom_components.openai_conversation import backends
from custom_components.openai_conversation.const import (
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    RECOMMENDED_CONVERSATION_OPTIONS,
)
from custom_components.openai_conversation.migration import DEFAULT_SUBENTRIES
from emulator import OpenAIEmulator
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.intent import TimerEventType, TimerInfo, async_register_timer_handler
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from tools.hass import reports_deprecated_use

from .common import Frontend

API_KEY = "sk-test-key"
# A day before OpenAI's first audio shutdown (2027-01-06). Tests of the speech and
# transcription models that shut down pin both clocks here, so they pass on any date.
BEFORE_THE_SHUTDOWNS = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def verify_cleanup(verify_cleanup: None) -> Generator[None]:
    """Finish the SDK's abandoned stream readers before HA's lingering-task check.

    After "[DONE]" the openai SDK leaves its SSE reader, an async generator, unfinished;
    HA's HTTP client holds it until Home Assistant stops. When the collector finalizes it,
    the loop schedules its aclose() as a task, which the check would count as lingering.
    This runs after the hass fixture's teardown and before the check.
    """
    yield
    loop = asyncio.get_event_loop()
    gc.collect()
    for _ in range(3):
        loop.run_until_complete(asyncio.sleep(0))


@pytest.fixture(autouse=True)
def fresh_tool_specs() -> None:
    """Each test converts its tools itself.

    The converted tool specs are cached for the process; a spec an earlier test left there
    would hide whether this test's conversion works (mutation testing found tests passing
    with the conversion broken).
    """
    backends._SPECS.clear()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load the integration from custom_components."""


@pytest.fixture(autouse=True)
async def ha_core(hass: HomeAssistant, tmp_path: Path) -> None:
    """Give each test its own config folder, and set up HA's core integration.

    The default test config folder lies inside the installed test package and is shared
    by all tests: TTS caches and generated images written there would leak between tests.
    """
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, "homeassistant", {})


class _UsageReports(logging.Handler):
    """Collects Home Assistant's reports of deprecated API use by this integration."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if reports_deprecated_use(message):
            self.reports.append(message)


@pytest.fixture(autouse=True)
def no_deprecated_api_use() -> Generator[None]:
    """Fail a test in which HA reports this integration using a deprecated API."""
    handler = _UsageReports()
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    assert not handler.reports, handler.reports


@pytest.fixture
async def kitchen_light(hass: HomeAssistant) -> str:
    """One exposed switchable entity that HassTurnOn can control (a small Assist prompt)."""
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"kitchen_light": {"name": "Kitchen light"}}}
    )
    async_expose_entity(hass, "conversation", "input_boolean.kitchen_light", True)
    return "input_boolean.kitchen_light"


@dataclass
class Satellite:
    """A voice satellite's device, and the timer events Home Assistant sent it."""

    device_id: str
    timers: list[tuple[TimerEventType, TimerInfo]] = field(default_factory=list)


@pytest.fixture
async def satellite(hass: HomeAssistant, kitchen_light: str) -> AsyncGenerator[Satellite]:
    """A device that supports timers, registered as a satellite integration does.

    Turns spoken through such a device (Voice PE, the companion app) carry its device_id,
    and Home Assistant then offers the model its timer tools too.
    """
    entry = MockConfigEntry(domain="voice_satellite", title="Kitchen satellite")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("voice_satellite", "kitchen")},
        name="Kitchen satellite",
    )
    found = Satellite(device.id)
    unregister = async_register_timer_handler(
        hass, device.id, lambda event, timer: found.timers.append((event, timer))
    )
    yield found
    unregister()


@pytest.fixture
async def emulator(
    monkeypatch: pytest.MonkeyPatch, socket_enabled: None
) -> AsyncGenerator[OpenAIEmulator]:
    """Start the OpenAI emulator; the SDK reaches it through its base-URL variable."""
    emu = OpenAIEmulator(api_keys={API_KEY})
    await emu.start()
    monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url)
    yield emu
    await emu.stop()


@pytest.fixture
def clock_before_the_shutdowns() -> Generator[None]:
    """Home Assistant's clock before the audio shutdowns, ticking on from there."""
    day = BEFORE_THE_SHUTDOWNS
    with freeze_time(datetime(day.year, day.month, day.day, 12, tzinfo=dt_util.UTC), tick=True):
        yield


@pytest.fixture
def before_the_shutdowns(clock_before_the_shutdowns: None, emulator: OpenAIEmulator) -> date:
    """Move Home Assistant's clock and OpenAI's (the emulator's) before the audio shutdowns.

    The clock is set before the emulator starts and moved back after it stopped: the event
    loop's timers of its requests run on the moved clock, and would wait past the test.
    """
    emulator.today = BEFORE_THE_SHUTDOWNS
    return BEFORE_THE_SHUTDOWNS


def conversation_subentry(
    data: dict[str, Any] | None = None, title: str = "Agent"
) -> ConfigSubentryData:
    """Return subentry data for a conversation agent."""
    return ConfigSubentryData(
        data=data if data is not None else dict(RECOMMENDED_CONVERSATION_OPTIONS),
        subentry_type="conversation",
        title=title,
        unique_id=None,
    )


@pytest.fixture
def subentry_options() -> dict[str, Any]:
    """Options of the conversation subentry (override in a test module)."""
    return dict(RECOMMENDED_CONVERSATION_OPTIONS)


TITLES = {"conversation": "OpenAI Conversation"} | {k: t for k, t, _ in DEFAULT_SUBENTRIES}


def all_subentries(**options: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every subentry type a new entry gets, by type; keyword arguments replace options."""
    defaults = {kind: data for kind, _title, data in DEFAULT_SUBENTRIES}
    return {"conversation": RECOMMENDED_CONVERSATION_OPTIONS, **defaults, **options}


def add_entry(hass: HomeAssistant, subentries: Mapping[str, Mapping[str, Any]]) -> MockConfigEntry:
    """Add an entry as our config flow creates it, with these subentries (type -> options)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="OpenAI",
        data={"api_key": API_KEY},
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
        subentries_data=[
            ConfigSubentryData(
                data=dict(data), subentry_type=kind, title=TITLES[kind], unique_id=None
            )
            for kind, data in subentries.items()
        ],
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def config_entry(hass: HomeAssistant, subentry_options: dict[str, Any]) -> MockConfigEntry:
    """An entry with one conversation agent."""
    return add_entry(hass, {"conversation": subentry_options})


@pytest.fixture
async def setup_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> MockConfigEntry:
    """Set up Home Assistant with the entry loaded against the emulator."""
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """After a run that included the fault suite, print its table and keep a copy."""
    from . import test_faults  # noqa: PLC0415 - only when the suite ran

    if not test_faults.OUTCOMES:
        return
    table = test_faults.pytest_fault_table()
    artifacts = Path(__file__).parent.parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "faults.md").write_text(table + "\n")
    terminalreporter.write_sep("=", "fault suite: fault x surface -> outcome")
    terminalreporter.write_line(table)


@pytest.fixture
def frontend(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> Frontend:
    """The frontend's side of the config and subentry flows, over HA's HTTP API."""
    return Frontend(hass, hass_client)
