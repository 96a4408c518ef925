"""Generated images: what a server answers is checked before it is fetched or stored."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path
from typing import Any
import wave

from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.openai_conversation import images
from custom_components.openai_conversation.backends import seam
from custom_components.openai_conversation.const import DOMAIN
from emulator import OpenAIEmulator
from emulator.images_api import IMAGE_BLOB_PATH, make_png
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .test_services import call

GPT_IMAGE = "gpt-image-2.6-flare"
FETCH_FAILED = "The generated image could not be fetched: "


async def _generate(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    result: dict[str, str] = await call(
        hass, "generate_image", {"config_entry": entry.entry_id, "prompt": "A", "model": GPT_IMAGE}
    )
    return result


async def _refused(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Generate an image whose download must fail; return what the user reads.

    Nothing may be stored.
    """
    with pytest.raises(HomeAssistantError) as err:
        await _generate(hass, entry)
    assert not list(images.image_folder(hass).glob("*"))
    return str(err.value)


REFUSED = (
    "The server answered with an image address this integration does not fetch ({}): "
    "only https, or http from the server itself"
)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("file:///etc/passwd", "file://"),
        ("http://localhost:{port}" + IMAGE_BLOB_PATH, "http://localhost"),
        ("ftp://127.0.0.1/a.png", "ftp://127.0.0.1"),
    ],
    ids=["a file", "plain http on another host", "another scheme"],
)
async def test_image_addresses_outside_the_rule_are_not_fetched(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    url: str,
    address: str,
) -> None:
    """https anywhere (OpenAI's storage), plain http only on the server's own host."""
    emulator.image_urls = True
    emulator.image_url = url.format(port=emulator.port)
    with pytest.raises(HomeAssistantError) as err:
        await _generate(hass, setup_entry)
    assert str(err.value) == REFUSED.format(address)
    assert emulator.requests_to(IMAGE_BLOB_PATH) == []


async def test_an_https_address_is_fetched(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """https passes the rule: the download is tried (and here fails).

    The emulator speaks plain HTTP, so the TLS handshake fails: what the user reads is
    the download's error, not the address rule's.
    """
    emulator.image_urls = True
    emulator.image_url = f"https://127.0.0.1:{emulator.port}{IMAGE_BLOB_PATH}"
    with pytest.raises(HomeAssistantError) as err:
        await _generate(hass, setup_entry)
    assert str(err.value).startswith(FETCH_FAILED)


async def test_an_oversized_image_is_refused(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The download stops at the size limit, counted over all its chunks; nothing is stored.

    3 MB arrive in many network reads (the HTTP client reads at most 64 KB at a time), so
    only the sum of the chunks passes the limit.
    """
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 3 * 2**20)
    emulator.image_urls = True
    emulator.image_blob = make_png() + bytes(3 * 2**20)
    message = await _refused(hass, setup_entry)
    assert message == "The generated image is larger than 3 MB; it was not stored"


async def test_an_image_of_the_largest_size_is_stored(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limit itself is allowed: only a larger image is refused."""
    blob = make_png() + bytes(4096)
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", len(blob))
    emulator.image_urls = True
    emulator.image_blob = blob
    result = await _generate(hass, setup_entry)
    assert Path(result["path"]).read_bytes() == blob


async def test_a_redirect_is_not_followed(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The address rule is checked on the answered address, so no redirect is followed.

    Here it would lead to an image the emulator serves: following it would succeed.
    """
    emulator.image_urls = True
    emulator.image_redirect = f"{emulator.base_url.removesuffix('/v1')}{IMAGE_BLOB_PATH}"
    message = await _refused(hass, setup_entry)
    assert message.startswith(f"{FETCH_FAILED}Redirect response '302 Found'")
    assert len(emulator.requests_to(IMAGE_BLOB_PATH)) == 1


async def test_a_stalled_download_ends_in_an_error(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A storage host that does not answer within the download's timeout is given up.

    The image would come after a second, beyond the (shortened) timeout and within the
    HTTP client's default one: only the download's own timeout ends the wait.
    """
    monkeypatch.setattr(seam, "DOWNLOAD_TIMEOUT", 0.2)
    emulator.image_urls = True
    emulator.image_blob_latency = 1.0
    message = await _refused(hass, setup_entry)
    assert message == f"{FETCH_FAILED}ReadTimeout"


async def test_a_dripping_download_ends_at_its_deadline(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A host that sends the image slowly but steadily is given up at the download's deadline.

    Each chunk comes well within the (shortened) per-read timeout, which starts again with
    every read: only a deadline for the whole download ends it, and closes the connection.
    Without one, this image arrives after 5 s; a hostile host sending a byte now and then
    would hold the action for hours.
    """
    monkeypatch.setattr(seam, "DOWNLOAD_TIMEOUT", 2.0)
    monkeypatch.setattr(images, "DOWNLOAD_DEADLINE", 0.5)
    emulator.image_urls = True
    emulator.image_blob = make_png() + bytes(100 * 1024)
    emulator.image_blob_drip = 0.05
    message = await _refused(hass, setup_entry)
    assert message == "The generated image did not arrive within 0.5 seconds; it was not stored"
    async with asyncio.timeout(5):
        await emulator.image_blob_hung_up.wait()
    assert not [r for r in caplog.records if r.exc_info]


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


def _encoded(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 80, 40)).save(buffer, image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(("image_format", "suffix"), [("JPEG", ".jpeg"), ("WEBP", ".webp")])
async def test_jpeg_and_webp_are_stored_as_what_they_are(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    image_format: str,
    suffix: str,
) -> None:
    """The file's name says what its bytes are, whatever the server called it."""
    emulator.image_urls = True
    emulator.image_blob = _encoded(image_format)
    result = await _generate(hass, setup_entry)
    assert Path(result["path"]).suffix == suffix
    assert Path(result["path"]).read_bytes() == emulator.image_blob


async def test_other_riff_files_are_not_webp(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """WebP is one kind of RIFF file; a sound (WAVE) is another, and is refused."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(16000)
        sound.writeframes(bytes(320))
    emulator.image_urls = True
    emulator.image_blob = buffer.getvalue()
    message = await _refused(hass, setup_entry)
    assert message == "The server's answer is not a PNG, JPEG or WebP image"


async def test_only_generated_images_are_served(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """Another file in the image folder is not served, even to a logged-in user."""
    result = await _generate(hass, setup_entry)
    (images.image_folder(hass) / "notes.txt").write_text("not an image")
    client = await hass_client()
    assert (await client.get(f"{images.IMAGE_URL_PATH}/notes.txt")).status == 404
    assert (await client.get(f"{images.IMAGE_URL_PATH}/{Path(result['path']).name}")).status == 200


async def test_a_signed_url_outlives_the_session_that_asked(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_access_token: str,
) -> None:
    """The URL is signed for HA's content user, not for the user who ran the action.

    A notification or a dashboard shows it later: it works after that user logs out.
    """
    ws = await hass_ws_client(hass, hass_access_token)
    await ws.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "generate_image",
            "service_data": {"config_entry": setup_entry.entry_id, "prompt": "A"},
            "return_response": True,
        }
    )
    answer = await ws.receive_json()
    await ws.close()
    await hass.async_block_till_done()
    assert answer["success"], answer
    url: str = answer["result"]["response"]["url"]
    refresh_token = hass.auth.async_validate_access_token(hass_access_token)
    assert refresh_token is not None
    hass.auth.async_remove_refresh_token(refresh_token)
    client = await hass_client_no_auth()
    response = await client.get(url[url.index("/api/") :])
    assert response.status == 200


@pytest.mark.parametrize("data", [[], [{"revised_prompt": "A"}]], ids=["no item", "no image"])
async def test_an_answer_without_an_image_is_an_error(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    data: list[dict[str, Any]],
) -> None:
    """An answer with neither base64 nor a URL says so; nothing is fetched or stored."""
    emulator.image_data = data
    message = await _refused(hass, setup_entry)
    assert message == "OpenAI returned no image"
    assert emulator.requests_to(IMAGE_BLOB_PATH) == []


async def test_the_revised_prompt_reaches_the_user(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """The action answers with the prompt the server says it drew from."""
    png = base64.b64encode(make_png()).decode()
    emulator.image_data = [{"b64_json": png, "revised_prompt": "A red square, flat"}]
    result = await _generate(hass, setup_entry)
    assert result["revised_prompt"] == "A red square, flat"
