"""Image generation, and storage that outlives OpenAI's expiring URLs (for a while)."""

from __future__ import annotations

import asyncio
import base64
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
import re
from urllib.parse import urlsplit
import uuid

from aiohttp import web

from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import network
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util

from .backends.media import image_request
from .backends.seam import Seam
from .compat import HTTP_ERRORS
from .const import DOMAIN, LOGGER

# Served to logged-in users, and to anyone with a signed URL until it expires: the action
# returns one, so a notification or a dashboard can show the image without a login.
IMAGE_URL_PATH = f"/api/{DOMAIN}/images"
IMAGE_URL_VALIDITY = timedelta(days=1)
IMAGE_FOLDER = f"{DOMAIN}/images"
IMAGE_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpeg|webp)")
# The largest image a download may bring: a 4096 x 4096 PNG, GPT image models' largest,
# stays well below it.
MAX_IMAGE_BYTES = 64 * 2**20
# The whole download's limit (seconds); the per-read timeout (DOWNLOAD_TIMEOUT) starts again
# with every chunk, so a host sending a byte now and then would otherwise hold the action for
# hours. Five minutes bring MAX_IMAGE_BYTES over a line of 1.8 Mbit/s, and a 1024 x 1024
# PNG (2-3 MB) over one of 100 kbit/s.
DOWNLOAD_DEADLINE = 300.0
# Generated images are deleted this long after they were made.
IMAGE_RETENTION = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """An image the API returned."""

    data: bytes
    mime_type: str
    revised_prompt: str | None
    size: str | None


def image_folder(hass: HomeAssistant) -> Path:
    """Return the folder generated images are stored in."""
    return Path(hass.config.path(IMAGE_FOLDER))


class GeneratedImageView(HomeAssistantView):
    """Serves generated images; HA's auth checks the login or the URL's signature."""

    url = f"{IMAGE_URL_PATH}/{{name}}"
    name = f"api:{DOMAIN}:images"
    requires_auth = True

    def __init__(self, folder: Path) -> None:
        """Initialize with the image folder."""
        self._folder = folder

    async def get(self, request: web.Request, name: str) -> web.StreamResponse:
        """Return one image; names are checked, so no other file can be asked for."""
        path = self._folder / name
        if not IMAGE_NAME.fullmatch(name) or not await request.app[KEY_HASS].async_add_executor_job(
            path.is_file
        ):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.FileResponse(path)


def _prune(folder: Path, now: float) -> None:
    """Delete the images older than the retention time (and create the folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = now - IMAGE_RETENTION.total_seconds()
    for path in folder.iterdir():
        if IMAGE_NAME.fullmatch(path.name) and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


async def async_setup_images(hass: HomeAssistant) -> None:
    """Serve the generated images and delete those past their retention time."""
    folder = image_folder(hass)
    await hass.async_add_executor_job(_prune, folder, dt_util.utcnow().timestamp())
    hass.http.register_view(GeneratedImageView(folder))


async def async_generate_image(
    seam: Seam,
    model: str,
    prompt: str,
    *,
    size: str = "1024x1024",
    quality: str = "standard",
    style: str = "vivid",
) -> GeneratedImage:
    """Generate one image; SDK errors are left to the caller's error mapping."""
    request = image_request(model, prompt, size, quality, style)
    response = await seam.generate_image(request)
    image = response.data[0] if response.data else None
    if image is not None and image.b64_json:
        data = base64.b64decode(image.b64_json)
    elif image is not None and image.url:
        data = await _async_download(seam, image.url)
    else:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_image")
    # The file's type comes from its bytes: output_format names the file and is the
    # server's word only.
    return GeneratedImage(
        data=data,
        mime_type=f"image/{image_format(data)}",
        revised_prompt=image.revised_prompt,
        size=getattr(response, "size", None) or size,
    )


def image_format(data: bytes) -> str:
    """Return the format of an image's bytes: png, jpeg or webp (the ones stored)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise HomeAssistantError(translation_domain=DOMAIN, translation_key="not_an_image")


def _check_address(url: str, server_host: str) -> None:
    """Refuse an image address outside the rule.

    https anywhere (OpenAI's storage), plain http only from the server's own host (a local
    server serving its images); nothing else (files, other schemes, other hosts).
    """
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname == server_host):
        return
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="image_address_refused",
        translation_placeholders={"address": f"{parts.scheme}://{parts.hostname or ''}"},
    )


async def _async_download(seam: Seam, url: str) -> bytes:
    """Fetch an image a server answered with as a URL (signed: no API key goes along).

    No redirects (they could lead past the address rule), no more than MAX_IMAGE_BYTES,
    and no longer than DOWNLOAD_DEADLINE in all.
    """
    _check_address(url, seam.server_host)
    try:
        async with asyncio.timeout(DOWNLOAD_DEADLINE):
            return await _async_read(seam, url)
    except HTTP_ERRORS as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="image_download_failed",
            translation_placeholders={"message": str(err) or type(err).__name__},
        ) from err
    except TimeoutError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="image_download_too_slow",
            translation_placeholders={"limit": f"{DOWNLOAD_DEADLINE:g}"},
        ) from err


async def _async_read(seam: Seam, url: str) -> bytes:
    """Read the download's chunks, up to MAX_IMAGE_BYTES."""
    data = bytearray()
    # Closed as a limit is passed: the connection is not left open.
    async with aclosing(seam.download(url)) as chunks:
        async for chunk in chunks:
            data += chunk
            if len(data) > MAX_IMAGE_BYTES:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="image_too_large",
                    translation_placeholders={"limit": str(MAX_IMAGE_BYTES // 2**20)},
                )
    return bytes(data)


async def async_store_image(hass: HomeAssistant, image: GeneratedImage) -> tuple[Path, str]:
    """Save an image; return its path and a signed URL that works for a day."""
    extension = image.mime_type.removeprefix("image/")
    name = f"{uuid.uuid4().hex}.{extension}"
    path = image_folder(hass) / name

    now = dt_util.utcnow().timestamp()

    def write() -> None:
        _prune(path.parent, now)
        path.write_bytes(image.data)

    await hass.async_add_executor_job(write)
    url = async_sign_path(
        hass, f"{IMAGE_URL_PATH}/{name}", IMAGE_URL_VALIDITY, use_content_user=True
    )
    try:
        url = network.get_url(hass) + url
    except network.NoURLAvailableError:
        LOGGER.debug("No external or internal URL configured; returning a relative URL")
    return path, url
