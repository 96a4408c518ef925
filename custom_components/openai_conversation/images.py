"""Image generation, and storage that outlives OpenAI's expiring URLs."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
import uuid

import openai

# Re-exported without __all__ since HA 2026.10, which strict mypy counts as private there.
from homeassistant.components.http import (  # type: ignore[attr-defined,unused-ignore]
    StaticPathConfig,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import network
from homeassistant.helpers.httpx_client import get_async_client

from .backends.media import async_create_image, image_request
from .compat import HTTP_ERRORS
from .const import DOMAIN, LOGGER

# Served without authentication under an unguessable name, like HA's /local folder,
# so a URL given to a notification or a dashboard keeps working.
IMAGE_URL_PATH = f"/{DOMAIN}/images"
IMAGE_FOLDER = f"{DOMAIN}/images"


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


async def async_register_image_path(hass: HomeAssistant) -> None:
    """Serve the image folder (created if missing)."""
    folder = image_folder(hass)
    await hass.async_add_executor_job(lambda: folder.mkdir(parents=True, exist_ok=True))
    await hass.http.async_register_static_paths(
        [StaticPathConfig(IMAGE_URL_PATH, str(folder), cache_headers=False)]
    )


async def async_generate_image(
    hass: HomeAssistant,
    client: openai.AsyncOpenAI,
    model: str,
    prompt: str,
    *,
    size: str = "1024x1024",
    quality: str = "standard",
    style: str = "vivid",
) -> GeneratedImage:
    """Generate one image; SDK errors are left to the caller's error mapping."""
    request = image_request(model, prompt, size, quality, style)
    response = await async_create_image(client, request)
    image = response.data[0] if response.data else None
    if image is not None and image.b64_json:
        data = base64.b64decode(image.b64_json)
    elif image is not None and image.url:
        data = await _async_download(hass, image.url)
    else:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_image")
    output_format = getattr(response, "output_format", None) or "png"
    return GeneratedImage(
        data=data,
        mime_type=f"image/{output_format}",
        revised_prompt=image.revised_prompt,
        size=getattr(response, "size", None) or size,
    )


async def _async_download(hass: HomeAssistant, url: str) -> bytes:
    """Fetch an image a server answered with as a URL (signed: no API key goes along)."""
    try:
        response = await get_async_client(hass).get(url, timeout=60)
        response.raise_for_status()
    except HTTP_ERRORS as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="image_download_failed",
            translation_placeholders={"message": str(err) or type(err).__name__},
        ) from err
    return response.content


async def async_store_image(hass: HomeAssistant, image: GeneratedImage) -> tuple[Path, str]:
    """Save an image; return its path and a URL that keeps working."""
    extension = image.mime_type.removeprefix("image/")
    name = f"{uuid.uuid4().hex}.{extension}"
    path = image_folder(hass) / name

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image.data)

    await hass.async_add_executor_job(write)
    url = f"{IMAGE_URL_PATH}/{name}"
    try:
        url = network.get_url(hass) + url
    except network.NoURLAvailableError:
        LOGGER.debug("No external or internal URL configured; returning a relative URL")
    return path, url
