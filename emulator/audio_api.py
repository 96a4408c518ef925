"""The audio API: transcriptions (multipart) and speech (chunked audio)."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import io
import math
import struct
from typing import Any
import wave

PCM_RATE = 24000
BYTES_PER_CHAR = 400  # enough audio per character that long replies take many chunks
PRIV_OWNER = b"openai-emulator\x00"
# MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz: 417 bytes each, so parsers can sync.
MP3_HEADER = b"\xff\xfb\x90\x64"
MP3_FRAME = 417


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
    frame = (seed * (MP3_FRAME // len(seed) + 1))[: MP3_FRAME - len(MP3_HEADER)]
    return _id3_tag(signature) + (MP3_HEADER + frame) * -(-size // MP3_FRAME)


def _id3_tag(signature: str) -> bytes:
    """Return a valid ID3v2.3 tag holding the signature in a PRIV frame.

    Home Assistant's TTS cache parses and rewrites the tags of MP3 audio, so the tag must
    be one a real parser accepts.
    """
    data = PRIV_OWNER + signature.encode()
    frame = b"PRIV" + len(data).to_bytes(4, "big") + b"\x00\x00" + data
    size = len(frame)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frame


def signature_of(audio: bytes) -> str:
    """Return the model|voice|speed|instructions|format that made emulator audio."""
    start = audio.index(b"PRIV")
    length = int.from_bytes(audio[start + 4 : start + 8], "big")
    data = audio[start + 10 : start + 10 + length]
    return data.removeprefix(PRIV_OWNER).decode()


# The transcription endpoint's form fields (multipart, so outside the SDK's TypedDicts) and
# the response formats OpenAI's API reference lists.
TRANSCRIPTION_FIELDS = frozenset(
    {
        "file",
        "model",
        "language",
        "prompt",
        "response_format",
        "temperature",
        "timestamp_granularities[]",
        "include[]",
        "chunking_strategy",
        "stream",
        "known_speaker_names[]",
        "known_speaker_references[]",
    }
)
TRANSCRIPTION_FORMATS = frozenset({"json", "text", "srt", "verbose_json", "vtt", "diarized_json"})


def transcription_problem(form: Mapping[str, Any]) -> str | None:
    """Return OpenAI's complaint about a transcription upload, or None."""
    if unknown := sorted(set(form) - TRANSCRIPTION_FIELDS):
        return f"Unknown parameter: '{unknown[0]}'."
    for required in ("file", "model"):
        if required not in form:
            return f"Missing required parameter: '{required}'."
    if (fmt := form.get("response_format", "json")) not in TRANSCRIPTION_FORMATS:
        return f"Invalid value: '{fmt}'. Supported values are: {sorted(TRANSCRIPTION_FORMATS)}."
    return None


def audio_decodes(filename: str, data: bytes) -> bool:
    """Return whether an uploaded WAV file holds whole PCM frames, as its header says.

    OpenAI decodes the audio and refuses what it cannot; other formats pass unchecked.
    """
    if not filename.endswith(".wav"):
        return True
    try:
        with wave.open(io.BytesIO(data)) as wav:
            frames = wav.readframes(wav.getnframes())
            frame = wav.getsampwidth() * wav.getnchannels()
            return len(frames) == wav.getnframes() * frame and wav.getsampwidth() in (1, 2, 3, 4)
    except (wave.Error, EOFError):
        return False
