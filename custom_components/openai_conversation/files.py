"""Files sent to the model: checked, read off the event loop, and cached."""

from __future__ import annotations

import base64
from collections import OrderedDict
from dataclasses import dataclass
from mimetypes import guess_file_type
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
PDF_TYPE = "application/pdf"
# Encoded files kept between model calls (the tool loop resends the history each time),
# up to this many bytes of data URLs: one file of the largest size, or several smaller.
CACHE_BYTES = 48 * 1024 * 1024
# OpenAI's file-input guide allows 32 MB of file content per request; a bigger file is
# refused here, before it is read into memory and base64-encoded (a third larger).
MAX_FILE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EncodedFile:
    """A file as a data URL, ready for the wire."""

    name: str
    mime_type: str
    data_url: str

    @property
    def is_image(self) -> bool:
        """Return whether the file is an image (else a PDF)."""
        return self.mime_type in IMAGE_TYPES


def _file_error(key: str, path: Path, detail: str = "") -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"file": str(path), "detail": detail},
    )


def check_file(path: Path, mime_type: str | None) -> str:
    """Return the file's MIME type, or raise a translated error naming the file."""
    if not path.is_file():
        raise _file_error("file_not_found", path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _file_error("file_too_large", path, str(MAX_FILE_BYTES // (1024 * 1024)))
    mime_type = mime_type or guess_file_type(path)[0]
    if mime_type not in IMAGE_TYPES and mime_type != PDF_TYPE:
        raise _file_error("unsupported_file", path, mime_type or "unknown")
    return mime_type


def resolve_file(hass: HomeAssistant, name: str) -> tuple[Path, str]:
    """Resolve a file an action names, once, and check it; runs in the executor.

    The resolved path is the one checked against allowlist_external_dirs and the one
    read later, so a symlink changed in between cannot lead elsewhere.
    """
    try:
        path = Path(name).resolve(strict=True)
    except (OSError, RuntimeError) as err:  # missing, or a symlink loop
        raise _file_error("file_not_found", Path(name)) from err
    if not hass.config.is_allowed_path(str(path)):
        raise _file_error("path_not_allowed", Path(name))
    return path, check_file(path, None)


def _encode(path: Path, mime_type: str | None) -> EncodedFile:
    mime_type = check_file(path, mime_type)
    with path.open("rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)  # the file may have grown since the check
    if len(raw) > MAX_FILE_BYTES:
        raise _file_error("file_too_large", path, str(MAX_FILE_BYTES // (1024 * 1024)))
    data = base64.b64encode(raw).decode()
    return EncodedFile(path.name, mime_type, f"data:{mime_type};base64,{data}")


class FileCache:
    """Encodes files in the executor and keeps the last few."""

    def __init__(self, *, pdfs: bool) -> None:
        """Initialize an empty cache; pdfs: the server reads PDFs (local servers do not)."""
        self._files: OrderedDict[tuple[Path, int, int], EncodedFile] = OrderedDict()
        self._pdfs = pdfs
        self.size = 0  # bytes of the data URLs held

    def __len__(self) -> int:
        """Return how many files are held."""
        return len(self._files)

    async def async_encode(
        self, hass: HomeAssistant, path: Path, mime_type: str | None
    ) -> EncodedFile:
        """Return a file encoded for the wire; a changed file is read again."""
        stat = await hass.async_add_executor_job(_stat, path)
        key = (path, *stat)
        if (cached := self._files.get(key)) is not None:
            self._files.move_to_end(key)
            return cached
        encoded = await hass.async_add_executor_job(_encode, path, mime_type)
        if not self._pdfs and not encoded.is_image:
            raise _file_error("pdf_not_supported", path)
        self._files[key] = encoded
        self.size += len(encoded.data_url)
        while self.size > CACHE_BYTES and len(self._files) > 1:  # the newest one stays
            self.size -= len(self._files.popitem(last=False)[1].data_url)
        return encoded


def _stat(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError as err:
        raise _file_error("file_not_found", path) from err
    return stat.st_mtime_ns, stat.st_size
