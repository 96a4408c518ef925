"""AI Task: data with and without structure, attachments, and images, via the emulator."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.compat import vol
from custom_components.openai_conversation.const import RECOMMENDED_AI_TASK_OPTIONS
from emulator import Error, OpenAIEmulator, Reply, Text
from emulator.images_api import make_png
from homeassistant.components import ai_task, conversation
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import selector
from homeassistant.setup import async_setup_component

from .conftest import add_entry
from .test_providers import _add_compatible

ENTITY = "ai_task.openai_ai_task"


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An entry with only an AI Task subentry."""
    return add_entry(hass, {"ai_task_data": RECOMMENDED_AI_TASK_OPTIONS})


@pytest.fixture(autouse=True)
async def media_source(hass: HomeAssistant) -> None:
    """AI Task stores generated images through media_source."""
    assert await async_setup_component(hass, "media_source", {})


async def test_generate_text(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(Reply([Text("It is sunny.")]))
    result = await ai_task.async_generate_data(
        hass, task_name="Weather", entity_id=ENTITY, instructions="Describe the weather"
    )
    assert result.data == "It is sunny."
    body = emulator.requests_to("/v1/responses")[0].body
    assert "format" not in body.get("text", {})


async def test_generate_structured(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    structure = vol.Schema(
        {
            vol.Required("name"): selector.TextSelector(),
            vol.Optional("age"): selector.NumberSelector({"min": 0, "max": 150}),
            vol.Required("pets"): selector.ObjectSelector(),
        }
    )
    reply = {"name": "Ada", "age": None, "pets": {"cat": "Tom"}}
    emulator.queue(Reply([Text(json.dumps(reply))]))
    result = await ai_task.async_generate_data(
        hass, task_name="Person Info", entity_id=ENTITY, instructions="Who?", structure=structure
    )
    assert result.data == {"name": "Ada", "pets": {"cat": "Tom"}}
    fmt = emulator.requests_to("/v1/responses")[0].body["text"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["name"] == "person_info"
    assert fmt["strict"] is True
    assert fmt["schema"]["required"] == ["name", "age", "pets"]
    assert fmt["schema"]["additionalProperties"] is False


@pytest.mark.parametrize("reply", ["not json at all", '{"name": 5}'])
async def test_invalid_structured_reply(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, reply: str
) -> None:
    emulator.queue(Reply([Text(reply)]))
    with pytest.raises(HomeAssistantError, match="does not match the requested structure"):
        await ai_task.async_generate_data(
            hass,
            task_name="t",
            entity_id=ENTITY,
            instructions="x",
            structure=vol.Schema({vol.Required("name"): str}),
        )


async def test_attachments(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    image = tmp_path / "door.jpg"
    image.write_bytes(b"\xff\xd8\xff fake jpeg")
    pdf = tmp_path / "bill.pdf"
    pdf.write_bytes(b"%PDF-1.4 fake")
    # A media source file without a suffix: its MIME type comes with the attachment.
    snapshot = tmp_path / "snapshot"
    snapshot.write_bytes(b"\x89PNG fake png")
    emulator.queue(Reply([Text("A person at the door and a bill.")]))
    chat = conversation.ChatLog(hass, "x")
    chat.async_add_user_content(
        conversation.UserContent(
            "What is this?",
            attachments=[
                conversation.Attachment("media-source://a", "image/jpeg", image),
                conversation.Attachment("media-source://b", "application/pdf", pdf),
                conversation.Attachment("media-source://c", "image/png", snapshot),
            ],
        )
    )
    entity = hass.data[ai_task.DATA_COMPONENT].get_entity(ENTITY)
    result = await entity._async_generate_data(
        ai_task.GenDataTask(name="t", instructions="What is this?"), chat
    )
    assert result.data == "A person at the door and a bill."
    parts = emulator.requests_to("/v1/responses")[0].body["input"][-1]["content"]
    assert [p["type"] for p in parts] == ["input_text", "input_image", "input_file", "input_image"]
    assert parts[3]["image_url"].startswith("data:image/png;base64,")
    assert parts[1]["image_url"].startswith("data:image/jpeg;base64,")
    assert parts[2]["filename"] == "bill.pdf"
    assert parts[2]["file_data"].startswith("data:application/pdf;base64,")


async def test_unsupported_attachment(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    chat = conversation.ChatLog(hass, "x")
    chat.async_add_user_content(
        conversation.UserContent(
            "Read", attachments=[conversation.Attachment("media-source://a", "text/plain", text)]
        )
    )
    entity = hass.data[ai_task.DATA_COMPONENT].get_entity(ENTITY)
    with pytest.raises(HomeAssistantError) as err:
        await entity._async_generate_data(ai_task.GenDataTask(name="t", instructions="x"), chat)
    assert err.value.translation_key == "unsupported_file"
    assert emulator.requests_to("/v1/responses") == []


async def test_attachment_gone_before_it_is_read(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    """A snapshot deleted before the task reads it: a translated error naming the file."""
    gone = tmp_path / "snapshot.jpg"
    chat = conversation.ChatLog(hass, "x")
    chat.async_add_user_content(
        conversation.UserContent(
            "Who?", attachments=[conversation.Attachment("media-source://a", "image/jpeg", gone)]
        )
    )
    entity = hass.data[ai_task.DATA_COMPONENT].get_entity(ENTITY)
    with pytest.raises(HomeAssistantError) as err:
        await entity._async_generate_data(ai_task.GenDataTask(name="t", instructions="x"), chat)
    assert err.value.translation_key == "file_not_found"
    assert err.value.translation_placeholders == {"file": str(gone), "detail": ""}
    assert emulator.requests_to("/v1/responses") == []


async def test_generate_image(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    result = await ai_task.async_generate_image(
        hass, task_name="Art", entity_id=ENTITY, instructions="A red square"
    )
    assert result["mime_type"] == "image/png"
    assert result["model"] == "gpt-image-2.5-flare"
    assert result["width"] == 1024
    body = emulator.requests_to("/v1/images/generations")[0].body
    assert body["model"] == "gpt-image-2.5-flare"
    assert body["prompt"] == "A red square"
    assert "response_format" not in body


async def test_generate_image_reports_what_was_drawn(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The size and the prompt the server says it drew, not the ones asked for."""
    png = base64.b64encode(make_png()).decode()
    emulator.image_data = [{"b64_json": png, "revised_prompt": "A red square, flat"}]
    emulator.image_size = "1536x1024"
    result = await ai_task.async_generate_image(
        hass, task_name="Art", entity_id=ENTITY, instructions="A red square"
    )
    assert (result["width"], result["height"]) == (1536, 1024)
    assert result["revised_prompt"] == "A red square, flat"
    assert emulator.requests_to("/v1/images/generations")[0].body["size"] == "1024x1024"


async def test_generate_image_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.fail_next(
        "/v1/images/generations",
        Error(400, "Your organization must be verified", code="org_not_verified"),
    )
    with pytest.raises(HomeAssistantError, match="organization must be verified"):
        await ai_task.async_generate_image(
            hass, task_name="Art", entity_id=ENTITY, instructions="x"
        )


async def test_attachments_of_dropped_turns_are_not_read(
    hass: HomeAssistant, emulator: OpenAIEmulator, tmp_path: Path
) -> None:
    """Only the files of turns the history limit sends are read: an earlier turn's photo,
    deleted since, must not fail a turn that would leave it out anyway."""
    options = {**RECOMMENDED_AI_TASK_OPTIONS, "history_tokens": 200}
    entry = add_entry(hass, {"ai_task_data": options})
    assert await hass.config_entries.async_setup(entry.entry_id)
    photo = tmp_path / "door.jpg"
    emulator.queue(Reply([Text("Nobody is there now.")]))
    chat = conversation.ChatLog(hass, "x")
    chat.async_add_user_content(
        conversation.UserContent(
            "Who is at the door?",
            attachments=[conversation.Attachment("media-source://a", "image/jpeg", photo)],
        )
    )
    chat.content.append(conversation.AssistantContent(ENTITY, "A courier."))
    chat.async_add_user_content(conversation.UserContent("And now?"))
    entity = hass.data[ai_task.DATA_COMPONENT].get_entity(ENTITY)
    result = await entity._async_generate_data(
        ai_task.GenDataTask(name="t", instructions="And now?"), chat
    )
    assert result.data == "Nobody is there now."
    sent = emulator.requests_to("/v1/responses")[0].body["input"]
    assert [item.get("content") for item in sent] == ["And now?"]


async def test_generate_image_with_a_dall_e_model_asks_for_vivid(
    hass: HomeAssistant, emulator: OpenAIEmulator
) -> None:
    """A server that still serves DALL-E 3 under that name gets the vivid style (AI Task
    has no style of its own to give)."""
    emulator.shutdown_dates.pop("dall-e-3")
    entry = await _add_compatible(hass, emulator, "gpt-4.1")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "ai_task_data"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Painter", "recommended": False}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"chat_model": "gpt-4.1", "image_model": "dall-e-3"}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    image = await ai_task.async_generate_image(
        hass, task_name="Art", entity_id="ai_task.painter", instructions="A red square"
    )
    assert image["mime_type"] == "image/png"
    body = emulator.requests_to("/v1/images/generations")[0].body
    assert (body["model"], body["style"]) == ("dall-e-3", "vivid")
