"""The cache of files sent to the model stays within a memory budget; audio resampling."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.openai_conversation import files
from custom_components.openai_conversation.files import FileCache
from custom_components.openai_conversation.pcm import Resampler
from homeassistant.core import HomeAssistant


async def test_the_cache_holds_at_most_its_budget(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight 32 MB files, a third larger in base64, would hold about 340 MB: the cache
    keeps what fits its byte budget (and always the file just read)."""
    monkeypatch.setattr(files, "CACHE_BYTES", 3000)
    cache = FileCache()
    for number in range(4):
        image = tmp_path / f"photo{number}.png"
        image.write_bytes(bytes(1000))  # about 1,360 bytes as a data URL
        assert (await cache.async_encode(hass, image, None)).name == image.name
        assert cache.size <= 3000
    assert cache.size > 2000  # the last two files, not only the last one

    big = tmp_path / "big.png"
    big.write_bytes(bytes(4000))
    await cache.async_encode(hass, big, None)
    assert cache.size > 3000  # one file over the budget is still kept while it is used
    assert len(cache) == 1


def test_resampling_is_continuous_across_chunks() -> None:
    """Chunks of any size, odd ones included, give the same audio as one piece."""
    ramp = b"".join(int(i * 7 - 9000).to_bytes(2, "little", signed=True) for i in range(3000))
    whole = Resampler(16000, 24000).convert(ramp)
    chunked, resampler = b"", Resampler(16000, 24000)
    for start in range(0, len(ramp), 333):
        chunked += resampler.convert(ramp[start : start + 333])
    assert chunked == whole
    assert len(whole) // 2 == 4499  # 1.5 output samples per input, up to the last input
    first = [int.from_bytes(whole[i : i + 2], "little", signed=True) for i in (0, 2, 4)]
    assert first == [-9000, -8995, -8991]  # 7 per input sample, two-thirds of it per output
