"""A protocol-level OpenAI emulator for tests, benchmarks and the offline demo."""

from .audio_api import signature_of
from .flavours import FLAVOURS, Flavour
from .replies import Cut, Error, Hang, Reasoning, Reply, Text, ToolCall
from .server import OpenAIEmulator
from .state import RecordedRequest

__all__ = [
    "FLAVOURS",
    "Cut",
    "Error",
    "Flavour",
    "Hang",
    "OpenAIEmulator",
    "Reasoning",
    "RecordedRequest",
    "Reply",
    "Text",
    "ToolCall",
    "signature_of",
]
