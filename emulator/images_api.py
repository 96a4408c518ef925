"""The Images API: a real (tiny) PNG, as base64 or as a URL the emulator serves."""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from typing import Any
import zlib

from aiohttp import web

IMAGE_BLOB_PATH = "/blob/image.png"
# What a dripping blob sends at a time.
DRIP_CHUNK = 1024


def make_png(width: int = 4, height: int = 4, rgb: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """Return a valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def image_response(body: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Answer /images/generations as OpenAI does for the requested model and format."""
    model = body.get("model", "dall-e-2")
    prompt = body.get("prompt", "")
    item: dict[str, Any] = {}
    if body.get("response_format") == "url":
        # Like OpenAI's signed storage URLs: another host's path, no API key needed.
        item["url"] = f"{base_url.removesuffix('/v1')}{IMAGE_BLOB_PATH}"
    else:
        item["b64_json"] = base64.b64encode(make_png()).decode()
    response: dict[str, Any] = {"created": int(time.time()), "data": [item]}
    if model.startswith("dall-e-3"):
        item["revised_prompt"] = f"A detailed picture of {prompt}"
    if model.startswith("gpt-image"):
        response |= {
            "output_format": "png",
            "size": body.get("size", "1024x1024"),
            "quality": body.get("quality", "medium"),
        }
    return response


async def drip_blob(
    request: web.Request, blob: bytes, interval: float, hung_up: asyncio.Event
) -> web.StreamResponse:
    """Send an image a chunk at a time, each well within any read timeout: a slow host.

    hung_up is set when the client closes the connection before the last byte.
    """
    response = web.StreamResponse(headers={"Content-Type": "image/png"})
    response.content_length = len(blob)
    await response.prepare(request)
    try:
        for start in range(0, len(blob), DRIP_CHUNK):
            await response.write(blob[start : start + DRIP_CHUNK])
            await asyncio.sleep(interval)
        await response.write_eof()
    except ConnectionResetError:  # the client hung up: nothing more to send
        hung_up.set()
    return response
