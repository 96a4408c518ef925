"""The cache of files sent to the model stays within a memory budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.openai_conversation import files
from custom_components.openai_conversation.files import FileCache
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
