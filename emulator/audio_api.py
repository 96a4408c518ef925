"""The audio API: transcriptions (multipart) and speech (chunked audio)."""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

PCM_RATE = 24000
BYTES_PER_CHAR = 400  # enough audio per character that long replies take many chunks


def speech_audio(body: dict[str, Any]) -> bytes:
    """Return audio for a speech request, different for every voice, model and option.

    PCM is a real tone; other formats are an ID3-tagged payload derived from the request,
    so a test can tell which voice spoke.
    """
    text = body.get("input", "")
    size = max(BYTES_PER_CHAR * len(text), 2)
    if body.get("response_format") == "pcm":
        samples = size // 2
        return b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / PCM_RATE)))
            for i in range(samples)
        )
    signature = "|".join(
        str(body.get(key)) for key in ("model", "voice", "speed", "instructions", "response_format")
    )
    seed = hashlib.sha256(f"{signature}|{text}".encode()).digest()
    payload = (seed * (size // len(seed) + 1))[:size]
    return b"ID3" + signature.encode() + b"\x00" + payload
