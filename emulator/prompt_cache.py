"""Token counts as OpenAI bills them, with the prompt cache's discount.

OpenAI caches the longest prefix a request shares with earlier ones routed alike (the
same prompt_cache_key), from 1,024 tokens on and in steps of 128 tokens. Tools come first
in the prompt, then the instructions and the conversation. Tokens are estimated as four
characters each: the share that is cached is what matters here, not the exact count.
"""

from __future__ import annotations

from collections import defaultdict, deque
import json
import os
from typing import Any

CHARS_PER_TOKEN = 4
MIN_CACHED = 1024
CACHE_STEP = 128
REMEMBERED = 16  # earlier prompts kept per key


def prompt_text(body: dict[str, Any]) -> str:
    """Return the prompt as the model reads it, in the order the cache sees it."""
    parts = [body.get("tools") or [], body.get("instructions") or ""]
    parts.append(body.get("input") or body.get("messages") or [])
    return json.dumps(parts, sort_keys=True)


def cached_tokens(shared_chars: int) -> int:
    """Return the tokens billed as cached for a shared prefix of this many characters."""
    tokens = shared_chars // CHARS_PER_TOKEN
    if tokens < MIN_CACHED:
        return 0
    return MIN_CACHED + (tokens - MIN_CACHED) // CACHE_STEP * CACHE_STEP


class PromptCache:
    """Remembers recent prompts per cache key and counts what a new one can reuse."""

    def __init__(self) -> None:
        """Start empty."""
        self._prompts: defaultdict[str, deque[str]] = defaultdict(lambda: deque(maxlen=REMEMBERED))

    def usage(self, body: dict[str, Any], output_tokens: int) -> tuple[int, int, int]:
        """Return (input, output, cached input) tokens for a request, and remember it."""
        text = prompt_text(body)
        key = str(body.get("prompt_cache_key") or body.get("model"))
        earlier = self._prompts[key]
        shared = max((len(os.path.commonprefix([text, seen])) for seen in earlier), default=0)
        earlier.append(text)
        tokens = len(text) // CHARS_PER_TOKEN
        return tokens, output_tokens, min(cached_tokens(shared), tokens)
