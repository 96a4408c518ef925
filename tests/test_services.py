"""The generate_image and generate_content actions, called as automations call them."""

from __future__ import annotations

import base64
from datetime import timedelta
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.openai_conversation.backends import media, seam
from custom_components.openai_conversation.files import FileCache
from emulator import Error, OpenAIEmulator, Reply, Text
from emulator.images_api import IMAGE_BLOB_PATH, make_png
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

DOMAIN = "openai_conversation"


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


@pytest.fixture
def allowed_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    return tmp_path


async def test_generate_image_saves_and_serves(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    result = await call(
        hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "A cat"}
    )
    body = emulator.requests_to("/v1/images/generations")[0].body
    # DALL-E 3, the action's old default, was shut down: a current model draws instead.
    assert body == {
        "model": "gpt-image-2.5-flare",
        "prompt": "A cat",
        "size": "1024x1024",
        "quality": "medium",
        "n": 1,
    }
    assert result["revised_prompt"] is None
    path = Path(result["path"])
    assert path.read_bytes() == make_png()
    assert path.parent == Path(hass.config.path("openai_conversation/images"))
    # The signed URL works without OpenAI and without a login; the bare path does not.
    client = await hass_client_no_auth()
    url = result["url"]
    signed = url[url.index("/api/openai_conversation/") :]
    assert "authSig=" in signed
    response = await client.get(signed)
    assert response.status == 200
    assert await response.read() == make_png()
    assert (await client.get(signed.split("?")[0])).status == 401


async def test_generated_images_expire(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A signed URL lasts a day; an image is kept 30 days; nothing else is served."""
    first = await call(
        hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "A"}
    )
    signed = first["url"][first["url"].index("/api/") :]
    logged_in = await hass_client()
    assert (await logged_in.get(signed.split("?")[0])).status == 200
    for name in ("..%2Fsecret.png", "notes.txt", "0" * 32 + ".png"):
        response = await logged_in.get(f"/api/openai_conversation/images/{name}")
        assert response.status in (400, 404)  # HA's filter stops traversal first
    freezer.tick(timedelta(days=1, minutes=1))
    assert (await (await hass_client_no_auth()).get(signed)).status == 401
    old = Path(first["path"])
    month_ago = (dt_util.utcnow() - timedelta(days=31)).timestamp()
    os.utime(old, (month_ago, month_ago))
    second = await call(
        hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "B"}
    )
    assert not old.exists()
    assert Path(second["path"]).exists()


async def test_generate_image_gpt_image_model(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    result = await call(
        hass,
        "generate_image",
        {
            "config_entry": setup_entry.entry_id,
            "prompt": "A dog",
            "size": "1792x1024",
            "quality": "hd",
            "model": "gpt-image-2.6-sunburst",
        },
    )
    body = emulator.requests_to("/v1/images/generations")[0].body
    assert body == {
        "model": "gpt-image-2.6-sunburst",
        "prompt": "A dog",
        "n": 1,
        "size": "1536x1024",
        "quality": "high",
    }
    assert result["revised_prompt"] is None
    assert Path(result["path"]).exists()


async def test_generate_image_schema(hass: HomeAssistant, setup_entry: MockConfigEntry) -> None:
    with pytest.raises(Exception, match="size"):
        await call(
            hass,
            "generate_image",
            {"config_entry": setup_entry.entry_id, "prompt": "x", "size": "10x10"},
        )


async def test_actions_refuse_other_entries(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "generate_content", {"config_entry": "nope", "prompt": "x"})
    assert err.value.translation_key == "invalid_config_entry"
    await hass.config_entries.async_unload(setup_entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "x"})
    assert err.value.translation_key == "entry_not_loaded"


async def test_auth_error_starts_reauth_rate_limit_does_not(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    limited = Error(429, "Rate limit reached", type="requests", code="rate_limit_exceeded")
    emulator.fail_next("/v1/images/generations", limited, limited)
    with pytest.raises(HomeAssistantError, match="rate limiting"):
        await call(hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "x"})
    await hass.async_block_till_done()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    emulator.api_keys.clear()
    with pytest.raises(HomeAssistantError, match="refused the API key"):
        await call(hass, "generate_content", {"config_entry": setup_entry.entry_id, "prompt": "x"})
    await hass.async_block_till_done()
    assert [
        f["context"]["source"] for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ] == ["reauth"]


async def test_generate_content_text(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(Reply([Text("Forty-two")]))
    result = await call(
        hass,
        "generate_content",
        {"config_entry": setup_entry.entry_id, "prompt": "Meaning of life?"},
    )
    assert result == {"text": "Forty-two"}
    body = emulator.requests_to("/v1/responses")[0].body
    assert body["input"] == [{"type": "message", "role": "user", "content": "Meaning of life?"}]
    assert "tools" not in body


async def test_generate_content_with_files(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, allowed_dir: Path
) -> None:
    (allowed_dir / "a.png").write_bytes(make_png())
    (allowed_dir / "b.webp").write_bytes(b"RIFF fake webp")
    (allowed_dir / "c.pdf").write_bytes(b"%PDF-1.4")
    emulator.queue(Reply([Text("Two images and a document.")]))
    result = await call(
        hass,
        "generate_content",
        {
            "config_entry": setup_entry.entry_id,
            "prompt": "What are these?",
            "filenames": [str(allowed_dir / "a.png"), str(allowed_dir / "c.pdf")],
            "image_filename": str(allowed_dir / "b.webp"),
        },
    )
    assert result == {"text": "Two images and a document."}
    parts = emulator.requests_to("/v1/responses")[0].body["input"][0]["content"]
    assert [p["type"] for p in parts] == ["input_text", "input_image", "input_file", "input_image"]
    assert parts[3]["image_url"].startswith("data:image/webp;base64,")


@pytest.mark.parametrize(
    ("name", "content", "key", "detail", "message"),
    [
        ("notes.txt", b"hi", "unsupported_file", "text/plain", "is of type text/plain; only"),
        ("notes", b"hi", "unsupported_file", "unknown", "is of type unknown; only"),
        ("missing.png", None, "file_not_found", "", "does not exist or is not a file"),
        ("folder", "dir", "file_not_found", "", "does not exist or is not a file"),
    ],
)
async def test_generate_content_bad_files(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    allowed_dir: Path,
    name: str,
    content: bytes | str | None,
    key: str,
    detail: str,
    message: str,
) -> None:
    """The error names the file and, for a type that cannot be sent, the type (a name
    without a suffix has none); a folder is not a file either."""
    if content == "dir":
        (allowed_dir / name).mkdir()
    elif isinstance(content, bytes):
        (allowed_dir / name).write_bytes(content)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "generate_content",
            {
                "config_entry": setup_entry.entry_id,
                "prompt": "x",
                "filenames": [str(allowed_dir / name)],
            },
        )
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == {"file": str(allowed_dir / name), "detail": detail}
    assert str(err.value).startswith(f"{allowed_dir / name} {message}")
    assert emulator.requests_to("/v1/responses") == []


async def test_generate_content_dangling_link(
    hass: HomeAssistant, setup_entry: MockConfigEntry, allowed_dir: Path, tmp_path_factory: Any
) -> None:
    """A link in an allowed folder to a file that is gone: the file does not exist, whatever
    folder the link points to, and the error names the link the user gave."""
    link = allowed_dir / "photo.png"
    link.symlink_to(tmp_path_factory.mktemp("elsewhere") / "gone.png")
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "generate_content",
            {"config_entry": setup_entry.entry_id, "prompt": "x", "filenames": [str(link)]},
        )
    assert err.value.translation_key == "file_not_found"
    assert err.value.translation_placeholders == {"file": str(link), "detail": ""}


async def test_generate_content_path_not_allowed(
    hass: HomeAssistant, setup_entry: MockConfigEntry, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(make_png())
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "generate_content",
            {"config_entry": setup_entry.entry_id, "prompt": "x", "filenames": [str(secret)]},
        )
    assert err.value.translation_key == "path_not_allowed"
    assert err.value.translation_placeholders == {"file": str(secret), "detail": ""}
    assert str(err.value).startswith(f"Cannot read {secret}: the folder is not allowed.")


async def test_generate_content_reads_the_file_it_checked(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A symlink switched to a file outside the allowed folder after the check is not
    followed: the file checked (the link's target then) is the file sent."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    hass.config.allowlist_external_dirs = {str(allowed)}
    (allowed / "photo.png").write_bytes(make_png())
    secret = tmp_path / "secret.png"
    secret.write_bytes(make_png() + b"secret")
    link = allowed / "link.png"
    link.symlink_to(allowed / "photo.png")
    encode = FileCache.async_encode

    async def swap_then_encode(self: FileCache, *args: Any) -> Any:
        link.unlink()
        link.symlink_to(secret)  # after the check, before the read
        return await encode(self, *args)

    monkeypatch.setattr(FileCache, "async_encode", swap_then_encode)
    emulator.queue(Reply([Text("A photo.")]))
    await call(
        hass,
        "generate_content",
        {"config_entry": setup_entry.entry_id, "prompt": "x", "filenames": [str(link)]},
    )
    parts = emulator.requests_to("/v1/responses")[0].body["input"][0]["content"]
    sent = base64.b64decode(parts[1]["image_url"].split(",", 1)[1])
    assert sent == make_png()


async def test_generate_content_file_too_large(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, allowed_dir: Path
) -> None:
    big = allowed_dir / "big.png"
    with big.open("wb") as file:  # sparse: no 33 MB written
        file.truncate(33 * 1024 * 1024)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "generate_content",
            {"config_entry": setup_entry.entry_id, "prompt": "x", "filenames": [str(big)]},
        )
    assert err.value.translation_key == "file_too_large"
    assert err.value.translation_placeholders == {"file": str(big), "detail": "32"}
    assert emulator.requests_to("/v1/responses") == []


async def test_generate_embeddings(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    result = await call(
        hass,
        "generate_embeddings",
        {
            "config_entry": setup_entry.entry_id,
            "input": ["kitchen light on", "garage open"],
            "dimensions": 8,
        },
    )
    assert result["model"] == "text-embedding-3-small"
    assert [len(v) for v in result["embeddings"]] == [8, 8]
    assert result["embeddings"][0] != result["embeddings"][1]
    assert result["usage"] == {"prompt_tokens": 5, "total_tokens": 5}
    body = emulator.requests_to("/v1/embeddings")[0].body
    assert body == {
        "encoding_format": "base64",  # the SDK decodes it
        "model": "text-embedding-3-small",
        "input": ["kitchen light on", "garage open"],
        "dimensions": 8,
    }
    single = await call(
        hass,
        "generate_embeddings",
        {"config_entry": setup_entry.entry_id, "input": "one", "model": "text-embedding-3-large"},
    )
    assert len(single["embeddings"]) == 1
    assert len(single["embeddings"][0]) == 3072


async def test_generate_embeddings_error(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.fail_next(
        "/v1/embeddings", Error(404, "The model `nope` does not exist", code="model_not_found")
    )
    with pytest.raises(HomeAssistantError, match="does not know"):
        await call(
            hass,
            "generate_embeddings",
            {"config_entry": setup_entry.entry_id, "input": "x", "model": "nope"},
        )


async def test_generate_image_from_a_url_answer(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """A server that answers with a URL instead of base64: the image is fetched."""
    emulator.image_urls = True
    result = await call(
        hass,
        "generate_image",
        {"config_entry": setup_entry.entry_id, "prompt": "A cat", "model": "gpt-image-2.6-flare"},
    )
    assert Path(result["path"]).read_bytes() == make_png()
    # The image host gets no API key: it is not the API.
    fetch = emulator.requests_to(IMAGE_BLOB_PATH)[0]
    assert "authorization" not in {name.lower() for name in fetch.headers}


async def test_generate_image_is_not_retried(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    """Image requests are slow and billed: a failure is reported, never sent twice."""
    emulator.fail_next("/v1/images/generations", Error(500, "The server had an error"))
    with pytest.raises(HomeAssistantError):
        await call(hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "A"})
    assert len(emulator.requests_to("/v1/images/generations")) == 1


async def test_generate_image_waits_its_own_timeout_once(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Image requests have their own timeout (not the agents'), and a timeout is not
    retried: the slow, billed request is made once."""
    monkeypatch.setattr(seam, "IMAGE_TIMEOUT", 0.3)
    emulator.image_latency = 2
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "generate_image", {"config_entry": setup_entry.entry_id, "prompt": "A"})
    assert err.value.translation_key == "timeout"
    assert len(emulator.requests_to("/v1/images/generations")) == 1


@pytest.mark.parametrize(
    ("model", "size", "quality", "expected"),
    [
        (
            "dall-e-3",
            "1792x1024",
            "hd",
            {
                "size": "1792x1024",
                "quality": "hd",
                "style": "natural",
                "response_format": "b64_json",
            },
        ),
        # GPT image models: DALL-E's sizes and qualities mapped, their own passed on; no
        # style and no response_format (they always answer base64).
        ("gpt-image-2.6-flare", "1792x1024", "hd", {"size": "1536x1024", "quality": "high"}),
        ("gpt-image-2.6-flare", "1536x1024", "low", {"size": "1536x1024", "quality": "low"}),
    ],
    ids=["dall-e-3", "gpt-image mapped", "gpt-image own values"],
)
def test_image_request_body(model: str, size: str, quality: str, expected: dict[str, Any]) -> None:
    assert media.image_request(model, "A lamp", size, quality, "natural") == {
        "model": model,
        "prompt": "A lamp",
        "n": 1,
        **expected,
    }


@pytest.mark.parametrize("model", ["dall-e-3", "dall-e-2"])
async def test_generate_image_with_a_shut_down_model(
    hass: HomeAssistant,
    setup_entry: MockConfigEntry,
    emulator: OpenAIEmulator,
    caplog: pytest.LogCaptureFixture,
    model: str,
) -> None:
    """Automations written for DALL-E keep working: the current model draws, with a note."""
    result = await call(
        hass,
        "generate_image",
        {
            "config_entry": setup_entry.entry_id,
            "prompt": "A cat",
            "model": model,
            "style": "natural",
            "quality": "hd",
        },
    )
    assert Path(result["path"]).read_bytes() == make_png()
    body = emulator.requests_to("/v1/images/generations")[0].body
    assert body["model"] == "gpt-image-2.5-flare"
    assert body["quality"] == "high"
    assert "style" not in body
    assert f"{model} was shut down" in caplog.text
