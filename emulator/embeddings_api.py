"""The embeddings API: deterministic unit vectors derived from the text."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}


def _vector(text: str, size: int) -> list[float]:
    digest = b""
    counter = 0
    while len(digest) < size:
        digest += hashlib.sha256(f"{counter}|{text}".encode()).digest()
        counter += 1
    raw = [b / 255 - 0.5 for b in digest[:size]]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def _encode(vector: list[float], as_base64: bool) -> list[float] | str:
    if not as_base64:
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings_response(body: dict[str, Any]) -> dict[str, Any]:
    """Answer /embeddings: one vector per input, of the requested size."""
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else texts
    model = body.get("model", "text-embedding-3-small")
    size = body.get("dimensions") or DIMENSIONS.get(model, 1536)
    tokens = sum(len(t.split()) for t in texts)
    as_base64 = body.get("encoding_format") == "base64"  # what the SDK asks for by default
    return {
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": _encode(_vector(t, size), as_base64)}
            for i, t in enumerate(texts)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
