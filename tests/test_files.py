"""Files sent to the model: the size limit, the cache and its memory budget; audio
resampling."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation import files
from custom_components.openai_conversation.files import FileCache
from custom_components.openai_conversation.pcm import Resampler
from emulator import OpenAIEmulator, Reply, Text
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError


async def describe(hass: HomeAssistant, entry: MockConfigEntry, path: Path) -> Any:
    """Ask generate_content about one file in an allowed folder, as an automation does."""
    hass.config.allowlist_external_dirs = {str(path.parent)}
    return await hass.services.async_call(
        "openai_conversation",
        "generate_content",
        {"config_entry": entry.entry_id, "prompt": "What is this?", "filenames": [str(path)]},
        blocking=True,
        return_response=True,
    )


async def test_a_file_of_exactly_the_limit_is_sent_whole(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limit is the largest size sent, not the first size refused (a smaller limit
    stands in for 32 MB, so the test does not post 43 MB of base64)."""
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 3000)
    photo = tmp_path / "photo.png"
    photo.write_bytes(bytes(range(250)) * 12)
    emulator.queue(Reply([Text("A photo.")]))
    await describe(hass, setup_entry, photo)
    part = emulator.requests_to("/v1/responses")[0].body["input"][0]["content"][1]
    assert base64.b64decode(part["image_url"].split(",", 1)[1]) == photo.read_bytes()


async def test_a_file_that_grows_after_the_check_is_refused(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file still being written can pass the size check and be larger when it is read:
    what is read is measured too, and the user sees the same error as for a large file."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG small")
    check, checks = files.check_file, []

    def check_then_grow(path: Path, mime_type: str | None) -> str:
        checked = check(path, mime_type)
        checks.append(path)
        if len(checks) == 2:  # checked when the name is resolved, and again before the read
            os.truncate(path, 32 * 1024 * 1024 + 1)  # sparse: nothing is written
        return checked

    monkeypatch.setattr(files, "check_file", check_then_grow)
    with pytest.raises(ServiceValidationError) as err:
        await describe(hass, setup_entry, photo)
    assert checks == [photo, photo]
    assert err.value.translation_key == "file_too_large"
    assert err.value.translation_placeholders == {"file": str(photo), "detail": "32"}
    assert str(err.value).startswith(f"{photo} is larger than 32 MB,")
    assert emulator.requests_to("/v1/responses") == []


async def test_a_file_used_again_is_not_read_again(hass: HomeAssistant, tmp_path: Path) -> None:
    """The tool loop sends the history, attachments included, once per model call: a file
    whose size and modification time are unchanged comes from the cache."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(bytes(1000))
    cache = FileCache(pdfs=True)
    first = await cache.async_encode(hass, photo, None)
    stat = photo.stat()
    photo.write_bytes(b"\x01" * 1000)  # other content, the same size and time: not read
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert await cache.async_encode(hass, photo, None) is first
    assert (len(cache), cache.size) == (1, len(first.data_url))


async def test_the_cache_drops_the_file_used_longest_ago(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that fill the budget exactly all stay; a new one drops the file used longest
    ago, not the one read first."""
    cache, encoded = FileCache(pdfs=True), {}
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / name).write_bytes(bytes(1000))  # data URLs of one length
    encoded["a"] = await cache.async_encode(hass, tmp_path / "a.png", None)
    monkeypatch.setattr(files, "CACHE_BYTES", 2 * len(encoded["a"].data_url))
    encoded["b"] = await cache.async_encode(hass, tmp_path / "b.png", None)
    assert (len(cache), cache.size) == (2, files.CACHE_BYTES)
    assert await cache.async_encode(hass, tmp_path / "a.png", None) is encoded["a"]
    await cache.async_encode(hass, tmp_path / "c.png", None)  # b goes
    assert len(cache) == 2
    assert await cache.async_encode(hass, tmp_path / "a.png", None) is encoded["a"]
    assert await cache.async_encode(hass, tmp_path / "b.png", None) is not encoded["b"]


async def test_the_cache_holds_at_most_its_budget(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight 32 MB files, a third larger in base64, would hold about 340 MB: the cache
    keeps what fits its byte budget (and always the file just read)."""
    monkeypatch.setattr(files, "CACHE_BYTES", 3000)
    cache = FileCache(pdfs=True)
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
