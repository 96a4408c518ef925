"""Images, speech, transcription and embeddings on the wire.

Each request is built here once, typed with the SDK's request TypedDicts, and sent here;
the platforms and actions only say what they want and read the SDK's answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, cast

import openai
from openai.types import CreateEmbeddingResponse, ImagesResponse
from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.embedding_create_params import EmbeddingCreateParams
from openai.types.image_generate_params import ImageGenerateParamsNonStreaming

from ..speech_models import tts_takes_instructions, tts_takes_speed

type SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
type ImageSize = Literal["1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792"]
type ImageQuality = Literal["standard", "hd", "low", "medium", "high", "auto"]

# GPT image models take a minute or two, and each attempt is billed: wait, never retry.
IMAGE_TIMEOUT = 180.0  # seconds

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


async def async_create_image(
    client: openai.AsyncOpenAI, request: ImageGenerateParamsNonStreaming
) -> ImagesResponse:
    """Generate an image with its own long timeout and no automatic retry."""
    client = client.with_options(timeout=IMAGE_TIMEOUT, max_retries=0)
    return await client.images.generate(**request)


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


async def async_stream_speech(
    client: openai.AsyncOpenAI, request: SpeechCreateParams
) -> AsyncIterator[bytes]:
    """Yield the audio as the server sends it."""
    async with client.audio.speech.with_streaming_response.create(**request) as response:
        async for chunk in response.iter_bytes():
            yield chunk


async def async_transcribe(
    client: openai.AsyncOpenAI,
    model: str,
    file: tuple[str, bytes, str],
    *,
    language: str,
    prompt: str,
) -> str:
    """Return the text of the uploaded speech.

    Keyword arguments rather than a TypedDict: the SDK picks the result type by the
    literal response format, which a TypedDict cannot carry.
    """
    result = await client.audio.transcriptions.create(
        model=model, file=file, language=language, prompt=prompt, response_format="json"
    )
    return result.text


def embeddings_request(
    model: str, texts: list[str], dimensions: int | None
) -> EmbeddingCreateParams:
    """Return the arguments of one embeddings.create call."""
    request: EmbeddingCreateParams = {"model": model, "input": texts}
    if dimensions is not None:
        request["dimensions"] = int(dimensions)
    return request


async def async_embed(
    client: openai.AsyncOpenAI, request: EmbeddingCreateParams
) -> CreateEmbeddingResponse:
    """Return the embeddings of the texts."""
    return await client.embeddings.create(**request)
