"""Reasoning items sent back to a Responses server: only its own, to a reasoning model."""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Any

from .replies import Error

ENCRYPTED = re.compile(r'"encrypted_content":\s*"([^"]+)"')
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")


@dataclass
class IssuedReasoning:
    """The encrypted reasoning this server handed out; it decrypts nothing else."""

    issued: set[str] = field(default_factory=set)

    def record(self, sent: str) -> None:
        """Remember the encrypted reasoning in what the server sent."""
        self.issued.update(ENCRYPTED.findall(sent))

    def problem(self, body: dict[str, Any]) -> Error | None:
        """Return OpenAI's 400 for reasoning items it cannot take, if any."""
        model = str(body.get("model", ""))
        items = body.get("input")
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict) or item.get("type") != "reasoning":
                continue
            if not model.startswith(REASONING_PREFIXES) or "-chat" in model:
                return Error(
                    400,
                    "Reasoning input items can only be provided to a reasoning or computer use "
                    "model. Remove reasoning items from your input and try again.",
                )
            content = item.get("encrypted_content")
            if content is not None and content not in self.issued:
                return Error(
                    400,
                    f"The encrypted content {content[:4]}...{content[-4:]} could not be verified.",
                    code="invalid_encrypted_content",
                )
        return None
