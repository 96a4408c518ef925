"""Map OpenAI SDK exceptions to translated Home Assistant errors, in one place."""

from __future__ import annotations

import re
from typing import Final

import openai

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from .compat import SDK_HTTP, TIMEOUT_ERRORS
from .const import DOMAIN, LOGGER
from .lifecycle import retirement

# Entries are taken as plain ConfigEntry: only their data and reauth are used here, and the
# typed entry (client.OpenAIConfigEntry) sits above the backends that import this module.


def _api_code(err: openai.APIError) -> str | None:
    """Return OpenAI's error code (or type) from an API error body."""
    code = err.code or err.type
    return str(code) if code else None


def error_key(err: openai.OpenAIError) -> str:
    """Return the translation key that describes an SDK error."""
    # Order matters: the SDK's timeout error is a connection error.
    if isinstance(err, openai.APITimeoutError):
        return "timeout"
    if isinstance(err, openai.APIConnectionError):
        return "cannot_connect"
    if isinstance(err, openai.AuthenticationError):
        return "invalid_auth"
    if isinstance(err, openai.PermissionDeniedError):
        return "permission_denied"
    if isinstance(err, openai.NotFoundError):
        return "not_found"
    if isinstance(err, openai.APIError) and _api_code(err) == "insufficient_quota":
        # OpenAI sends 429 for both; only the code tells "no credit" from "slow down".
        return "insufficient_quota"
    if isinstance(err, openai.RateLimitError):
        return "rate_limited"
    if isinstance(err, openai.InternalServerError):
        return "server_error"
    return "api_error"


# The SDK's error for each HTTP status (others: APIStatusError), for answers the SDK did not
# read itself: a refused WebSocket handshake, an error inside a Realtime session.
STATUS_ERRORS: Final[dict[int, type[openai.APIStatusError]]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}
# A Realtime session reports in events what other endpoints answer with a status: the code
# gives the status the same failure has there, so it is translated (and acted on) alike.
SESSION_CODE_STATUS: Final = {
    "invalid_api_key": 401,
    "insufficient_quota": 429,
    "rate_limit_exceeded": 429,
    "model_not_found": 404,
    "server_error": 500,
}


def status_error(
    url: str, status: int | None, message: str, code: str | None = None
) -> openai.APIStatusError | None:
    """Return the SDK's error for a status, or for a session's error code; None if neither."""
    if status is None and (status := SESSION_CODE_STATUS.get(code or "")) is None:
        return None
    kind = STATUS_ERRORS.get(status, openai.APIStatusError)
    if status >= 500:
        kind = openai.InternalServerError
    response = SDK_HTTP.Response(status, request=SDK_HTTP.Request("GET", url))
    body = {"message": message, "type": code, "code": code}
    return kind(message, response=response, body=body)


def scrub(text: str, secret: str | None) -> str:
    """Remove a secret from a text that may be shown or logged."""
    if secret and secret in text:
        return text.replace(secret, "**REDACTED**")
    return text


def api_error_message(err: openai.OpenAIError) -> str:
    """Return the message OpenAI sent with an error, without the SDK's prefixes."""
    if isinstance(err, openai.APIError):
        body = err.body
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return str(body["message"])
        return err.message
    return str(err)


async def async_log_reason(hass: HomeAssistant, err: Exception) -> str:
    """Return an error's text for a log line, as HA renders it once setup cached the strings.

    A first entry's flow runs before any setup, where str() gives this project's errors as
    their bare keys (HA renders them in English, whatever the language).
    """
    if not isinstance(err, HomeAssistantError) or err.translation_domain != DOMAIN:
        return str(err)
    texts = await async_get_translations(hass, "en", "exceptions", {DOMAIN})
    text = texts.get(f"component.{DOMAIN}.exceptions.{err.translation_key}.message")
    try:
        return text.format(**(err.translation_placeholders or {})) if text else str(err)
    except KeyError:  # a placeholder the text names but the error lacks
        return str(err)


def stream_interrupted(err: Exception) -> HomeAssistantError:
    """Return the error for a reply stream that broke off or could not be read."""
    # Raised to whoever asked, who sees it; the details are for the debug log.
    LOGGER.debug("The reply stream broke off or was unreadable: %s", err)
    key = "cannot_connect"
    if isinstance(err, ValueError):
        key = "bad_reply"
    elif isinstance(err, TIMEOUT_ERRORS):
        key = "timeout"  # silent beyond the agent's timeout (its effort's allowance)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"message": str(err) or type(err).__name__},
    )


MODEL_IN_MESSAGE = re.compile(r"model `([^`]+)`")
ORG_VERIFICATION_URL = "https://platform.openai.com/settings/organization/general"


def shut_down_model(err: openai.OpenAIError, message: str) -> tuple[str, str] | None:
    """Return (model, replacement) when a request failed on a model OpenAI shut down."""
    if not isinstance(err, openai.NotFoundError):
        return None
    if (match := MODEL_IN_MESSAGE.search(message)) is None:
        return None
    if (found := retirement(match.group(1))) is None:
        return None
    return match.group(1), found.replacement


def raise_repairs(hass: HomeAssistant, err: openai.OpenAIError, message: str) -> None:
    """Create a repair issue for errors only the user can fix on OpenAI's side."""
    if "must be verified" in message or "Verify Organization" in message:
        ir.async_create_issue(
            hass,
            DOMAIN,
            "organization_verification_required",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            learn_more_url="https://help.openai.com/en/articles/10910291-api-organization-verification",
            translation_key="organization_verification_required",
            translation_placeholders={"platform_settings": ORG_VERIFICATION_URL},
        )
    elif shut_down_model(err, message):
        pass  # the model's shutdown repair (lifecycle) already offers the fix
    elif isinstance(err, openai.NotFoundError) and (match := MODEL_IN_MESSAGE.search(message)):
        model = match.group(1)
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"model_not_found_{model}",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="model_not_found",
            translation_placeholders={"model": model},
        )


# Failures another model may not share: this model's limits, quota or capacity, or its
# slowness. A refused request (400), key (401) or missing model (404) would fail again.
FALLBACK_KEYS = frozenset({"timeout", "rate_limited", "insufficient_quota", "server_error"})
# The same, reported inside a response stream that had begun (response.failed, error).
FALLBACK_CODES = frozenset({"server_error", "rate_limit_exceeded", "insufficient_quota"})


def fallback_reason(entry: ConfigEntry, err: Exception) -> str | None:
    """Return why a failed request should go to the fallback model (key scrubbed), or None."""
    if isinstance(err, ResponseFailedError):
        return f"{err.code}: {err}" if err.code in FALLBACK_CODES else None
    if not isinstance(err, openai.OpenAIError) or (key := error_key(err)) not in FALLBACK_KEYS:
        return None
    return f"{key}: {scrub(api_error_message(err), entry.data.get(CONF_API_KEY))}"


def report_error(
    hass: HomeAssistant, entry: ConfigEntry, err: openai.OpenAIError
) -> tuple[str, str]:
    """Debug-log an SDK error (key scrubbed), start reauth or raise repairs.

    Return its translation key and message. Callers raise it or report it themselves:
    logged here as an error too, Home Assistant would show it twice.
    """
    key = error_key(err)
    message = scrub(api_error_message(err), entry.data.get(CONF_API_KEY))
    if key == "invalid_auth":
        entry.async_start_reauth(hass)
    raise_repairs(hass, err, message)
    LOGGER.debug("OpenAI request failed (%s): %s", key, message)
    return key, message


def translate_error(
    hass: HomeAssistant, entry: ConfigEntry, err: openai.OpenAIError
) -> HomeAssistantError:
    """Report an SDK error and return it as a translated Home Assistant error."""
    key, message = report_error(hass, entry, err)
    if shut_down := shut_down_model(err, message):
        model, replacement = shut_down
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="model_shut_down",
            translation_placeholders={"model": model, "replacement": replacement},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"message": message},
    )


def response_error(key: str, message: str) -> HomeAssistantError:
    """Return a translated error for a failed or incomplete response."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"message": message},
    )


class ResponseFailedError(HomeAssistantError):
    """A streamed response the server ended as failed, with OpenAI's error code."""

    def __init__(self, message: str, code: str | None) -> None:
        """Initialize the translated error and keep the code."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key="response_failed",
            translation_placeholders={"message": message},
        )
        self.code = code
