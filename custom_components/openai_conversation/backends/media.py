"""Images, speech, transcription and embeddings: their requests.

Each request is built here once, typed with the SDK's request TypedDicts, and posted by the
entry's seam (backends/seam.py); the platforms and actions only say what they want and
read the SDK's answer.
"""

from __future__ import annotations

from typing import Literal, cast

from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.audio.transcription_create_params import TranscriptionCreateParamsNonStreaming
from openai.types.embedding_create_params import EmbeddingCreateParams
from openai.types.image_generate_params import ImageGenerateParamsNonStreaming

from ..speech_models import tts_takes_instructions, tts_takes_speed

type SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
type ImageSize = Literal["1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792"]
type ImageQuality = Literal["standard", "hd", "low", "medium", "high", "auto"]

# The action's parameters are DALL-E 3's; GPT image models take their own values.
GPT_IMAGE_SIZES = {"1024x1024": "1024x1024", "1792x1024": "1536x1024", "1024x1792": "1024x1536"}
GPT_IMAGE_QUALITY = {"standard": "medium", "hd": "high"}


def image_request(
    model: str, prompt: str, size: str, quality: str, style: str
) -> ImageGenerateParamsNonStreaming:
    """Return the arguments of one images.generate call."""
    request: ImageGenerateParamsNonStreaming = {"model": model, "prompt": prompt, "n": 1}
    if model.startswith("dall-e"):
        request["size"] = cast(ImageSize, size)
        request["quality"] = cast(ImageQuality, quality)
        request["style"] = cast(Literal["vivid", "natural"], style)
        request["response_format"] = "b64_json"
    else:  # GPT image models always return base64 and take no style.
        request["size"] = cast(ImageSize, GPT_IMAGE_SIZES.get(size, size))
        request["quality"] = cast(ImageQuality, GPT_IMAGE_QUALITY.get(quality, quality))
    return request


def speech_request(
    model: str,
    voice: str,
    text: str,
    audio_format: str,
    *,
    bare_pcm: bool = True,
    speed: float | None = None,
    instructions: str | None = None,
) -> SpeechCreateParams:
    """Return the arguments of one audio.speech.create call.

    WAV travels as bare PCM where the server answers it (bare_pcm), so a reply can be
    spoken sentence by sentence behind one header; other servers send a WAV file.
    """
    wire = "pcm" if audio_format == "wav" and bare_pcm else audio_format
    request: SpeechCreateParams = {
        "model": model,
        "voice": voice,
        "input": text,
        "response_format": cast(SpeechFormat, wire),
    }
    if speed is not None and tts_takes_speed(model):
        request["speed"] = float(speed)
    if instructions and tts_takes_instructions(model):
        request["instructions"] = instructions
    return request


def transcription_request(
    model: str, file: tuple[str, bytes, str], *, language: str, prompt: str
) -> TranscriptionCreateParamsNonStreaming:
    """Return the arguments of one audio.transcriptions.create call (JSON: the text)."""
    return {
        "model": model,
        "file": file,
        "language": language,
        "prompt": prompt,
        "response_format": "json",
    }


def embeddings_request(
    model: str, texts: list[str], dimensions: int | None
) -> EmbeddingCreateParams:
    """Return the arguments of one embeddings.create call."""
    request: EmbeddingCreateParams = {"model": model, "input": texts}
    if dimensions is not None:
        request["dimensions"] = int(dimensions)
    return request
