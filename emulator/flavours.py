"""OpenAI-compatible servers as they behave: each departure from OpenAI, with its report.

A flavour is applied on top of the emulator's OpenAI strictness (a request OpenAI refuses
stays refused). Error wordings follow the reports where they quote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .replies import Error


@dataclass(frozen=True, slots=True)
class Flavour:
    """What one kind of server does differently from OpenAI."""

    name: str
    references: tuple[str, ...]
    # /v1/responses exists but ignores text.format: structured output comes back free.
    partial_responses: bool = False
    # /v1/responses does not exist at all (404).
    responses_api: bool = True
    # Every streamed parallel tool call arrives at index 0.
    same_tool_index: bool = False
    # A model name the server does not serve is a 404 (others ignore the name).
    known_models_only: bool = False
    # Chat messages carry text and images only: a file (PDF) part is a 400 saying this.
    file_part_error: str = "Invalid content part type: file"
    # response_format {"type": "json_object"} is refused (only json_schema or text).
    json_object: bool = True


FLAVOURS: dict[str, Flavour] = {
    flavour.name: flavour
    for flavour in (
        Flavour(
            "ollama",
            (
                # Parallel tool calls all at index 0 (and clients merging them).
                "https://github.com/ollama/ollama/issues/15457",
                "https://github.com/vercel/ai/pull/14277",
                # PDF file parts refused with 400 on /v1/chat/completions.
                "https://github.com/GD4AI/obsidian-llm-wiki/pull/573",
            ),
            responses_api=False,
            same_tool_index=True,
            known_models_only=True,
        ),
        Flavour(
            "vllm",
            # "The model `...` does not exist." (404, NotFoundError) for unserved names.
            ("https://github.com/vllm-project/vllm/issues/3485",),
            responses_api=False,
            known_models_only=True,
        ),
        Flavour(
            "lmstudio",
            (
                # 400 "'response_format.type' must be 'json_schema' or 'text'".
                "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/189",
                # /v1/responses answers structured requests with markdown, not JSON.
                "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/2403",
            ),
            partial_responses=True,
            json_object=False,
        ),
        Flavour(
            "llamacpp",
            # Seen here with llama.cpp 0.7.0 (Debian forky): /v1/responses took a request
            # constrained by text.format and answered free text (the same server constrains
            # response_format json_schema on /v1/chat/completions); a PDF part is a 400.
            ("tests/test_real_server.py",),
            partial_responses=True,
            file_part_error="unsupported content[].type",
        ),
    )
}


def flavour_problem(
    flavour: Flavour, models: tuple[str, ...], body: dict[str, Any]
) -> Error | None:
    """Return the error this server answers a chat or responses request with, if any."""
    model = str(body.get("model", ""))
    if flavour.known_models_only and model not in models:
        return Error(404, f"The model `{model}` does not exist.", code="model_not_found")
    fmt = body.get("response_format") or {}
    if not flavour.json_object and fmt.get("type") == "json_object":
        return Error(400, "'response_format.type' must be 'json_schema' or 'text'")
    if any(
        part.get("type") == "file"
        for message in body.get("messages") or ()
        if isinstance(message.get("content"), list)
        for part in message["content"]
    ):
        return Error(400, flavour.file_part_error)
    return None


def as_served(flavour: Flavour, body: dict[str, Any]) -> dict[str, Any]:
    """Return the request as the server acts on it (what it ignores left out)."""
    if flavour.partial_responses and "text" in body:
        text = {k: v for k, v in body["text"].items() if k != "format"}
        return {**body, "text": text}
    return body
