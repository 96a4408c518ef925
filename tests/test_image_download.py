"""Generated images: what a server answers is checked before it is fetched or stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation import images
from emulator import OpenAIEmulator
from emulator.images_api import IMAGE_BLOB_PATH, make_png
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .test_services import call

GPT_IMAGE = "gpt-image-2.6-flare"


async def _generate(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    result: dict[str, str] = await call(
        hass, "generate_image", {"config_entry": entry.entry_id, "prompt": "A", "model": GPT_IMAGE}
    )
    return result


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "http://localhost:{port}" + IMAGE_BLOB_PATH, "ftp://127.0.0.1/a.png"],
    ids=["a file", "plain http on another host", "another scheme"],
)
async def test_image_addresses_outside_the_rule_are_not_fetched(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, url: str
) -> None:
    """https anywhere (OpenAI's storage), plain http only on the server's own host."""
    emulator.image_urls = True
    emulator.image_url = url.format(port=emulator.port)
    with pytest.raises(HomeAssistantError, match="does not fetch"):
        await _generate(hass, setup_entry)
    assert emulator.requests_to(IMAGE_BLOB_PATH) == []


async def test_an_oversized_image_is_refused(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The download stops at the size limit; nothing is stored."""
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 4096)
    emulator.image_urls = True
    emulator.image_blob = make_png() + bytes(8192)
    with pytest.raises(HomeAssistantError, match="larger than"):
        await _generate(hass, setup_entry)
    assert not list(images.image_folder(hass).glob("*"))


async def test_the_file_type_comes_from_the_image(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A made-up output_format names neither the file nor its type."""
    emulator.image_output_format = "../../www/x.html"
    result = await _generate(hass, setup_entry)
    assert Path(result["path"]).suffix == ".png"
    assert Path(result["path"]).parent == images.image_folder(hass)


async def test_what_is_no_image_is_not_stored(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A page instead of an image (a login page, an error) is refused."""
    emulator.image_urls = True
    emulator.image_blob = b"<html>Sign in</html>"
    with pytest.raises(HomeAssistantError, match="PNG, JPEG or WebP"):
        await _generate(hass, setup_entry)
