"""Taking over entries written by core's integration: version 1 and 2.1 to 2.8."""

from __future__ import annotations

import importlib
from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation import async_migrate_entry
from custom_components.openai_conversation.compat import EVALUATION
from custom_components.openai_conversation.const import DOMAIN, SUBENTRY_EVALUATION
from custom_components.openai_conversation.migration import async_migrate_integration
from emulator import OpenAIEmulator, Reply, Text
from homeassistant.components import assist_pipeline, stt
from homeassistant.components.assist_pipeline.pipeline import KEY_ASSIST_PIPELINE
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState, ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component

from .common import chunks, device_owners, metadata, tone
from .conftest import API_KEY
from .core_entries import CoreEntry, add_core_entry, core_subentries, subentry_shapes

V1_OPTIONS = {
    "recommended": False,
    "chat_model": "gpt-4o",
    "prompt": "Speak like a pirate",
    "llm_hass_api": ["assist"],
}


def _v1_agent(
    hass: HomeAssistant, title: str, key: str = API_KEY, disabled: ConfigEntryDisabler | None = None
) -> tuple[MockConfigEntry, str, str]:
    """Register a version 1 entry with its device and conversation entity, as core did."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={"api_key": key},
        options=V1_OPTIONS | {"name": title},
        version=1,
        disabled_by=disabled,
    )
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name=title,
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    entity = er.async_get(hass).async_get_or_create(
        "conversation",
        DOMAIN,
        entry.entry_id,
        config_entry=entry,
        device_id=device.id,
        suggested_object_id=title.lower().replace(" ", "_"),
    )
    # What the user set on the entity must survive: a recreated entity would lose it.
    er.async_get(hass).async_update_entity(entity.entity_id, name=f"{title} (mine)")
    return entry, device.id, entity.entity_id


async def test_v1_entries_merge_per_key(hass: HomeAssistant, emulator: OpenAIEmulator) -> None:
    emulator.api_keys.add("sk-second")
    first, first_device, first_entity = _v1_agent(hass, "Pirate")
    _second, second_device, second_entity = _v1_agent(hass, "Butler")
    other, _, other_entity = _v1_agent(hass, "Other key", key="sk-second")

    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    entries = hass.config_entries.async_entries(DOMAIN)
    assert [e.entry_id for e in entries] == [first.entry_id, other.entry_id]
    assert all((e.version, e.minor_version) == (2, 8) for e in entries)
    assert all(e.options == {} and e.title == "OpenAI" for e in entries)
    conversations = [s for s in first.subentries.values() if s.subentry_type == "conversation"]
    assert sorted(s.title for s in conversations) == ["Butler", "Pirate"]
    kinds = [s.subentry_type for s in first.subentries.values()]
    assert all(kinds.count(kind) == 1 for kind in ("ai_task_data", "stt", "tts"))
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    for entity_id, device_id, title in (
        (first_entity, first_device, "Pirate"),
        (second_entity, second_device, "Butler"),
    ):
        subentry = next(s for s in conversations if s.title == title)
        assert dict(subentry.data)["prompt"] == "Speak like a pirate"
        entity = ent_reg.async_get(entity_id)
        assert entity.unique_id == subentry.subentry_id
        assert entity.name == f"{title} (mine)"
        assert (entity.config_entry_id, entity.config_subentry_id) == (
            first.entry_id,
            subentry.subentry_id,
        )
        device = dev_reg.async_get(device_id)
        assert device.identifiers == {(DOMAIN, subentry.subentry_id)}
        assert device_owners(device) == {first.entry_id: {subentry.subentry_id}}
    assert ent_reg.async_get(other_entity).config_entry_id == other.entry_id
    # Core's own 2.x steps ran after the merge: the evaluation subentry exists too.
    assert kinds.count("ai_task_evaluate") == 1
    assert first.state is ConfigEntryState.LOADED

    # A second start changes nothing.
    before = [(e.entry_id, subentry_shapes(e), e.minor_version) for e in entries]
    for entry in entries:
        assert await hass.config_entries.async_reload(entry.entry_id)
    await async_migrate_integration(hass)
    await hass.async_block_till_done()
    entries = hass.config_entries.async_entries(DOMAIN)
    assert [(e.entry_id, subentry_shapes(e), e.minor_version) for e in entries] == before
    # The agents answer under their old entity ids.
    assert hass.states.get(first_entity) is not None
    assert hass.states.get(second_entity) is not None


async def test_v1_disabled_agent_stays_disabled(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    first, _, _ = _v1_agent(hass, "Enabled")
    _, device_id, entity_id = _v1_agent(hass, "Disabled", disabled=ConfigEntryDisabler.USER)
    dr.async_get(hass).async_update_device(
        device_id, disabled_by=dr.DeviceEntryDisabler.CONFIG_ENTRY
    )
    er.async_get(hass).async_update_entity(
        entity_id, disabled_by=er.RegistryEntryDisabler.CONFIG_ENTRY
    )
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert [e.entry_id for e in hass.config_entries.async_entries(DOMAIN)] == [first.entry_id]
    assert dr.async_get(hass).async_get(device_id).disabled_by is dr.DeviceEntryDisabler.USER
    assert er.async_get(hass).async_get(entity_id).disabled_by is er.RegistryEntryDisabler.DEVICE


async def test_registry_is_moved_before_any_entry_loads(hass: HomeAssistant) -> None:
    """Right after the merge, not only once the agents load and re-register themselves.

    A server that is down at startup leaves the entry unloaded; its agents must still be
    where the merge put them, with the disabled flags the user meant.
    """
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    first, _, enabled = _v1_agent(hass, "Enabled")
    _, device_id, disabled = _v1_agent(hass, "Disabled", disabled=ConfigEntryDisabler.USER)
    _, lone_device, deviceless = _v1_agent(hass, "Lone", disabled=ConfigEntryDisabler.USER)
    other, other_device, other_entity = _v1_agent(
        hass, "Other", key="sk-other", disabled=ConfigEntryDisabler.USER
    )
    # The flags HA sets on a disabled entry's device and entities.
    for device in (device_id, other_device):
        dev_reg.async_update_device(device, disabled_by=dr.DeviceEntryDisabler.CONFIG_ENTRY)
    for entity_id in (disabled, deviceless, other_entity):
        ent_reg.async_update_entity(
            entity_id, disabled_by=er.RegistryEntryDisabler.CONFIG_ENTRY, device_id=None
        )
    ent_reg.async_update_entity(disabled, device_id=device_id)
    dev_reg.async_remove_device(lone_device)

    await async_migrate_integration(hass)

    subentries = {s.title: s.subentry_id for s in first.subentries.values()}
    expected = {
        enabled: (first.entry_id, subentries["Enabled"], None),
        disabled: (first.entry_id, subentries["Disabled"], er.RegistryEntryDisabler.DEVICE),
        deviceless: (first.entry_id, subentries["Lone"], er.RegistryEntryDisabler.USER),
        # Every agent of that key is disabled: the flags stay as the entry's.
        other_entity: (other.entry_id, None, er.RegistryEntryDisabler.CONFIG_ENTRY),
    }
    for entity_id, (entry_id, subentry_id, disabled_by) in expected.items():
        entity = ent_reg.async_get(entity_id)
        if subentry_id is None:
            subentry_id = next(iter(other.subentries))
        assert (entity.config_entry_id, entity.config_subentry_id, entity.unique_id) == (
            entry_id,
            subentry_id,
            subentry_id,
        ), entity_id
        assert entity.disabled_by is disabled_by, entity_id
    device = dev_reg.async_get(device_id)
    assert device.disabled_by is dr.DeviceEntryDisabler.USER
    assert device_owners(device) == {first.entry_id: {subentries["Disabled"]}}
    assert device.identifiers == {(DOMAIN, subentries["Disabled"])}
    assert dev_reg.async_get(other_device).disabled_by is dr.DeviceEntryDisabler.CONFIG_ENTRY


async def test_core_devices_leave_the_entry_before_it_loads(hass: HomeAssistant) -> None:
    """Core's 2.1 devices, linked to the entry itself too, end up with their subentry alone."""
    core = add_core_entry(hass, 1)
    assert await async_migrate_entry(hass, core.entry)
    dev_reg = dr.async_get(hass)
    for subentry_id, device_id in core.device_ids.items():
        device = dev_reg.async_get(device_id)
        assert device is not None, subentry_id
        assert device_owners(device) == {core.entry.entry_id: {subentry_id}}


async def test_core_entity_flag_is_repaired_on_its_own(hass: HomeAssistant) -> None:
    """Core's 2.4 step: an entity left CONFIG_ENTRY-disabled under an enabled device."""
    core = add_core_entry(hass, 3)
    ent_reg = er.async_get(hass)
    entity_id = next(iter(core.entity_ids.values()))
    ent_reg.async_update_entity(entity_id, disabled_by=er.RegistryEntryDisabler.CONFIG_ENTRY)
    if ent_reg.async_get(entity_id).disabled_by is None:
        pytest.skip("this HA's registry refuses the flag on an enabled entry")
    assert await async_migrate_entry(hass, core.entry)
    assert ent_reg.async_get(entity_id).disabled_by is er.RegistryEntryDisabler.DEVICE
    others = [e for e in core.entity_ids.values() if e != entity_id]
    assert all(ent_reg.async_get(e).disabled_by is None for e in others)


def _registry_snapshot(hass: HomeAssistant, core: CoreEntry) -> list[Any]:
    """What a user sees of each subentry: entity id, unique id, owner, device, disabled."""
    dev_reg, ent_reg = dr.async_get(hass), er.async_get(hass)
    snapshot: list[Any] = []
    for subentry_id, entity_id in core.entity_ids.items():
        entity = ent_reg.async_get(entity_id)
        assert entity is not None, entity_id
        device = dev_reg.async_get(core.device_ids[subentry_id])
        assert device is not None
        snapshot.append(
            (
                entity_id,
                entity.unique_id,
                entity.config_subentry_id,
                entity.device_id,
                entity.disabled_by,
                entity.name,
                device_owners(device),
                device.disabled_by,
            )
        )
    return snapshot


def _expected_after_takeover(minor: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Core's own 2.8 entry: takeover adds nothing core would not have added itself."""
    expected = core_subentries(8)
    if minor < 3:  # the user's image task was added after core introduced AI Task
        expected = [s for s in expected if s["title"] != "Images"]
    return sorted(((s["subentry_type"], s["title"], dict(s["data"])) for s in expected), key=repr)


@pytest.mark.parametrize("minor", range(1, 9))
async def test_core_entries_are_taken_over(
    hass: HomeAssistant, emulator: OpenAIEmulator, minor: int
) -> None:
    """Each minor version core wrote keeps every entity, device, option and voice setting."""
    core = add_core_entry(hass, minor)
    entry = core.entry
    butler = next(s for s in entry.subentries.values() if s.title == "Butler")
    dev_reg = dr.async_get(hass)
    if minor == 3:
        # Core's 2.3 left an enabled entry's device disabled by CONFIG_ENTRY; HA 2026.10's
        # registry refuses that state, so there it cannot arise and nothing is repaired.
        dev_reg.async_update_device(
            core.device_ids[butler.subentry_id], disabled_by=dr.DeviceEntryDisabler.CONFIG_ENTRY
        )
        er.async_get(hass).async_update_entity(
            core.entity_ids[butler.subentry_id],
            disabled_by=er.RegistryEntryDisabler.CONFIG_ENTRY,
        )
    broken = (
        dev_reg.async_get(core.device_ids[butler.subentry_id]).disabled_by
        is dr.DeviceEntryDisabler.CONFIG_ENTRY
    )

    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (2, 8)
    assert subentry_shapes(entry) == _expected_after_takeover(minor)
    snapshot = _registry_snapshot(hass, core)
    assert {row[1] for row in snapshot} <= set(entry.subentries)  # unique id = subentry id
    assert all(row[5].endswith("(mine)") for row in snapshot)  # the user's names are kept
    device = dev_reg.async_get(core.device_ids[butler.subentry_id])
    assert device.disabled_by is (dr.DeviceEntryDisabler.USER if broken else None)
    butler_entity = er.async_get(hass).async_get(core.entity_ids[butler.subentry_id])
    assert butler_entity.disabled_by is (er.RegistryEntryDisabler.DEVICE if broken else None)
    # Each device belongs to its subentry alone (core's 2.1 devices also linked the entry).
    for subentry_id, device_id in core.device_ids.items():
        owners = device_owners(dev_reg.async_get(device_id))
        assert owners == {entry.entry_id: {subentry_id}}, subentry_id
    for subentry_id, entity_id in core.entity_ids.items():
        kind = entry.subentries[subentry_id].subentry_type
        if subentry_id == butler.subentry_id and broken:
            continue  # its device stays disabled, as core's own 2.4 step leaves it
        if kind != SUBENTRY_EVALUATION or EVALUATION:
            assert hass.states.get(entity_id) is not None, entity_id

    # A second start changes nothing.
    shapes = subentry_shapes(entry)
    assert await async_migrate_entry(hass, entry)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (subentry_shapes(entry), entry.minor_version) == (shapes, 8)
    assert _registry_snapshot(hass, core) == snapshot

    if minor >= 6:  # core's STT and TTS exist: a pipeline saved on them still works
        await assert_voice_turn(hass, emulator, core, language="en-US")


async def assert_voice_turn(
    hass: HomeAssistant, emulator: OpenAIEmulator, core: CoreEntry, language: str
) -> None:
    """Run a voice pipeline saved on core's STT, agent and TTS with these languages."""
    by_type = {s.subentry_type: s.subentry_id for s in core.entry.subentries.values()}
    agent = next(s for s in core.entry.subentries.values() if s.title == "OpenAI Conversation")
    assert await async_setup_component(hass, "assist_pipeline", {})
    pipeline = await hass.data[KEY_ASSIST_PIPELINE].pipeline_store.async_create_item(
        {
            "conversation_engine": core.entity_ids[agent.subentry_id],
            "conversation_language": "en",
            "language": "en",
            "name": "OpenAI",
            "stt_engine": core.entity_ids[by_type["stt"]],
            "stt_language": language,
            "tts_engine": core.entity_ids[by_type["tts"]],
            "tts_language": language,
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
            "prefer_local_intents": False,
        }
    )
    emulator.queue(Reply([Text("Hello from the pipeline.")]))
    events: list[Any] = []
    await assist_pipeline.async_pipeline_from_audio_stream(
        hass,
        context=Context(),
        event_callback=events.append,
        stt_metadata=metadata(stt.AudioFormats.WAV, language),
        stt_stream=chunks(tone(1.0)),
        pipeline_id=pipeline.id,
    )
    by_event = {e.type: e.data for e in events}
    assert "error" not in by_event, by_event.get("error")
    assert by_event["stt-end"]["stt_output"]["text"] == "turn on the kitchen light"
    assert "tts-end" in by_event
    # Core's STT subentry transcribes while the user speaks here (the option's default).
    assert emulator.live_sessions[-1].transcription["language"] == "en"


@pytest.mark.parametrize("minor", range(1, 8))
async def test_reproduction_matches_cores_own_migration(hass: HomeAssistant, minor: int) -> None:
    """Core's migration, as shipped with the test HA, turns each entry into the next one.

    This checks `core_entries` against core's code: migrating a reproduced 2.<minor> entry
    with core's own async_migrate_entry gives exactly the reproduced entry of the version
    core stops at (2.4 in HA 2026.2, 2.7 in HA 2026.10).
    """
    core_integration = importlib.import_module("homeassistant.components.openai_conversation")
    # Read, not imported: importing core's flow would register it over this integration's.
    flow_source = (Path(core_integration.__file__).parent / "config_flow.py").read_text()
    cores_minor = int(re.findall(r"MINOR_VERSION = (\d+)", flow_source)[0])
    entry = add_core_entry(hass, minor).entry
    await core_integration.async_migrate_entry(hass, entry)
    reached = entry.minor_version
    assert reached == max(minor, cores_minor)
    expected = core_subentries(reached)
    if minor < 3:
        expected = [s for s in expected if s["title"] != "Images"]
    assert subentry_shapes(entry) == sorted(
        ((s["subentry_type"], s["title"], dict(s["data"])) for s in expected), key=repr
    )


async def test_later_minor_versions_are_kept(hass: HomeAssistant, emulator: OpenAIEmulator) -> None:
    """A newer core's entry, or 2.9 from earlier releases, is taken as is and never lowered."""
    future = {"recommended": True, "some_future_key": "kept"}
    entry = _v2_entry(
        hass,
        12,
        _subentry("conversation", future, "Agent"),
        _subentry("ai_task_future", {"x": 1}, "Future"),
    )
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 12
    assert sorted((s.subentry_type, dict(s.data)) for s in entry.subentries.values()) == [
        ("ai_task_future", {"x": 1}),
        ("conversation", future),
    ]


async def test_earlier_releases_speech_keys_become_cores(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """Entries this integration wrote as 2.9 get core's speech keys, so core can read them."""
    entry = _v2_entry(
        hass,
        9,
        _subentry("conversation", {"recommended": True}, "Agent"),
        _subentry("tts", {"voice": "nova"}, "Defaults"),  # saved with defaults left out
        _subentry(
            "tts",
            {"model": "tts-1", "voice": "onyx", "speed": 1.5, "audio_format": "wav"},
            "OpenAI TTS",
        ),
        _subentry("stt", {"model": "whisper-1", "prompt": "Kitchen talk"}, "OpenAI STT"),
    )
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 9
    data = {s.title: dict(s.data) for s in entry.subentries.values()}
    assert data == {
        "Agent": {"recommended": True},
        "Defaults": {"voice": "nova", "chat_model": "gpt-4o-mini-tts", "prompt": ""},
        "OpenAI TTS": {
            "chat_model": "tts-1",
            "prompt": "",
            "voice": "onyx",
            "tts_speed": 1.5,
            "audio_format": "wav",
        },
        "OpenAI STT": {"chat_model": "whisper-1", "prompt": "Kitchen talk"},
    }


async def test_newer_version_is_refused(
    hass: HomeAssistant, emulator: OpenAIEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, title="Tomorrow's", data={"api_key": API_KEY}, version=3, minor_version=1
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    assert entry.state.name == "MIGRATION_ERROR"
    # HA 2026.10 and newer refuse it before asking the integration, in words of their own.
    refusals = {
        "Entry Tomorrow's comes from a newer version; downgrade refused",
        "Config entry Tomorrow's for openai_conversation has version 3 which is higher than "
        "the current version 2",
    }
    assert refusals & set(caplog.messages)


async def test_merge_reads_only_version_1_entries_of_ours(hass: HomeAssistant) -> None:
    """A newer entry listed first does not end the merge; other integrations' entries
    (version 1 by default) are not ours to touch."""
    newer = _v2_entry(hass, 8, data={"api_key": "sk-newer"})
    foreign = MockConfigEntry(domain="anthropic", data={"api_key": "sk-ant"}, version=1)
    foreign.add_to_hass(hass)
    old, _, entity_id = _v1_agent(hass, "Pirate")
    await async_migrate_integration(hass)
    assert (old.version, old.minor_version) == (2, 4)
    (agent,) = [s for s in old.subentries.values() if s.subentry_type == "conversation"]
    assert er.async_get(hass).async_get(entity_id).config_subentry_id == agent.subentry_id
    assert (newer.version, newer.minor_version, newer.subentries) == (2, 8, {})
    assert (foreign.version, foreign.subentries, foreign.title) == (1, {}, "Mock Title")


async def test_version_1_entry_is_left_to_the_merge(hass: HomeAssistant) -> None:
    """Only the integration's setup, which sees every version 1 entry, may merge one."""
    entry, _, _ = _v1_agent(hass, "Late")
    assert not await async_migrate_entry(hass, entry)
    assert (entry.version, entry.subentries) == (1, {})


def _subentry(kind: str, data: dict[str, Any], title: str = "") -> ConfigSubentryData:
    return ConfigSubentryData(data=data, subentry_type=kind, title=title or kind, unique_id=None)


def _v2_entry(
    hass: HomeAssistant,
    minor: int,
    *subentries: ConfigSubentryData,
    data: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Add a version 2.<minor> entry with these subentries (not set up)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data=data or {"api_key": API_KEY},
        version=2,
        minor_version=minor,
        subentries_data=list(subentries),
    )
    entry.add_to_hass(hass)
    return entry


async def test_core_summary_step_on_every_kind_of_agent(hass: HomeAssistant) -> None:
    """Core's 2.7: "short" is "concise", and only the GPT-5 family keeps it."""
    entry = _v2_entry(
        hass,
        6,
        _subentry("tts", {"chat_model": "tts-1", "prompt": ""}),
        _subentry("conversation", {"chat_model": "gpt-4o", "reasoning_summary": "short"}, "a"),
        _subentry("conversation", {"reasoning_summary": "concise"}, "b"),
        _subentry("conversation", {"chat_model": "o3", "reasoning_summary": "concise"}, "c"),
        _subentry("ai_task_data", {"chat_model": "gpt-5", "reasoning_summary": "short"}),
        _subentry("conversation", {"chat_model": "gpt-5-nano"}, "d"),
    )
    assert await async_migrate_entry(hass, entry)
    summaries = {
        s.title: s.data.get("reasoning_summary")
        for s in entry.subentries.values()
        if s.subentry_type != "tts"
    }
    assert summaries == {
        "a": "auto",
        "b": "auto",
        "c": "auto",
        "ai_task_data": "concise",
        "d": None,
        "OpenAI Evaluation": None,
    }


async def test_compatible_entry_gets_only_what_it_can_use(hass: HomeAssistant) -> None:
    """Core's steps add speech and evaluation subentries; they need OpenAI's own models."""
    entry = _v2_entry(
        hass,
        2,
        _subentry("conversation", {"chat_model": "qwen3"}),
        data={"provider": "compatible", "base_url": "http://127.0.0.1:1/v1", "api_key": ""},
    )
    assert await async_migrate_entry(hass, entry)
    assert sorted(s.subentry_type for s in entry.subentries.values()) == [
        "ai_task_data",
        "conversation",
    ]
    # Then it leaves core's numbering (tests/test_way_back.py).
    assert (entry.version, entry.minor_version) == (100, 1)
