"""The one place SDK errors become translated ones: keys, messages and what is logged."""

from __future__ import annotations

import json
import logging

import httpx
import openai
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.openai_conversation.errors import (
    api_error_message,
    report_error,
    scrub,
    stream_interrupted,
    translate_error,
)
from homeassistant.core import HomeAssistant


def test_scrub_marks_where_the_key_was() -> None:
    assert scrub("Invalid key sk-abc123 given", "sk-abc123") == "Invalid key **REDACTED** given"
    assert scrub("nothing secret", "sk-abc123") == "nothing secret"
    assert scrub("no key configured", None) == "no key configured"


def test_message_of_an_error_without_a_body() -> None:
    """Errors raised by the SDK itself (no server answer) keep their own text."""
    assert api_error_message(openai.OpenAIError("The api_key client option must be set")) == (
        "The api_key client option must be set"
    )


@pytest.mark.parametrize(
    ("error", "key", "message"),
    [
        (json.JSONDecodeError("Expecting value", "data: {", 6), "bad_reply", "Expecting value"),
        (httpx.RemoteProtocolError("peer closed connection"), "cannot_connect", "peer closed"),
        (httpx.ReadError(""), "cannot_connect", "ReadError"),
    ],
    ids=["unreadable line", "connection dropped", "no message"],
)
def test_a_broken_stream_is_named_and_logged(
    caplog: pytest.LogCaptureFixture, error: Exception, key: str, message: str
) -> None:
    """A broken line of the stream is a bad reply; a dropped connection, a connection
    error. The message says which (the error's class where it has no text)."""
    with caplog.at_level(logging.DEBUG):
        err = stream_interrupted(error)
    assert err.translation_key == key
    assert err.translation_domain == "openai_conversation"
    assert err.translation_placeholders is not None
    assert err.translation_placeholders["message"].startswith(message)
    assert "The reply stream broke off or was unreadable: " in caplog.text
    assert str(error) in caplog.text


def _api_error(status: int, body: dict[str, str]) -> openai.APIStatusError:
    response = httpx.Response(status, request=httpx.Request("POST", "https://api.openai.com"))
    return openai.APIStatusError(body["message"], response=response, body=body)


async def test_report_names_the_key_and_hides_the_secret(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The log says what failed in the translation key's words, without the API key."""
    entry = MockConfigEntry(domain="openai_conversation", data={"api_key": "sk-secret-1"})
    entry.add_to_hass(hass)
    error = _api_error(409, {"message": "Conflict for key sk-secret-1", "code": "conflict"})
    caplog.set_level(logging.DEBUG)
    assert report_error(hass, entry, error) == ("api_error", "Conflict for key **REDACTED**")
    assert "OpenAI request failed (api_error): Conflict for key **REDACTED**" in caplog.text
    assert "sk-secret-1" not in caplog.text


async def test_a_raised_error_is_not_also_logged_as_one(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Home Assistant shows a raised error to whoever asked; logging it as an ERROR too
    would report every failure twice. The details stay in the debug log."""
    entry = MockConfigEntry(domain="openai_conversation", data={"api_key": "sk-secret-1"})
    entry.add_to_hass(hass)
    error = _api_error(409, {"message": "Conflict", "code": "conflict"})
    with caplog.at_level(logging.DEBUG, logger="custom_components.openai_conversation"):
        raised = translate_error(hass, entry, error)
        broken = stream_interrupted(httpx.ReadError("gone"))
    assert raised.translation_key == "api_error"
    assert broken.translation_key == "cannot_connect"
    assert [r.levelno for r in caplog.records] == [logging.DEBUG, logging.DEBUG]
