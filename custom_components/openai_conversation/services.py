"""Actions: generate_image and generate_content (kept for existing automations)."""

from __future__ import annotations

from typing import Any

import openai

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.util import dt as dt_util
from homeassistant.util.ulid import ulid_now

from .backends import TurnRequest
from .backends.media import embeddings_request
from .client import OpenAIConfigEntry, provider, resolve_model
from .compat import vol
from .const import (
    CONF_PROMPT,
    DOMAIN,
    LOGGER,
    PROVIDER_OPENAI,
    RECOMMENDED_CONVERSATION_OPTIONS,
    RECOMMENDED_IMAGE_MODEL,
    SUBENTRY_CONVERSATION,
)
from .entity import async_run_chat_log
from .errors import translate_error
from .files import resolve_file
from .images import async_generate_image, async_store_image
from .lifecycle import retirement
from .usage import TurnReporter

SERVICE_GENERATE_IMAGE = "generate_image"
SERVICE_GENERATE_CONTENT = "generate_content"
SERVICE_GENERATE_EMBEDDINGS = "generate_embeddings"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
ATTR_CONFIG_ENTRY = "config_entry"
ATTR_FILENAMES = "filenames"
ATTR_IMAGE_FILENAME = "image_filename"  # the name older automations use

_ENTRY = selector.ConfigEntrySelector({"integration": DOMAIN})
GENERATE_IMAGE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): _ENTRY,
        vol.Required(CONF_PROMPT): cv.string,
        vol.Optional("size", default="1024x1024"): vol.In(("1024x1024", "1792x1024", "1024x1792")),
        vol.Optional("quality", default="standard"): vol.In(("standard", "hd")),
        vol.Optional("style", default="vivid"): vol.In(("vivid", "natural")),
        vol.Optional("model", default=RECOMMENDED_IMAGE_MODEL): cv.string,
    }
)
GENERATE_CONTENT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): _ENTRY,
        vol.Required(CONF_PROMPT): cv.string,
        vol.Optional(ATTR_FILENAMES, default=list): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_IMAGE_FILENAME, default=list): vol.All(cv.ensure_list, [cv.string]),
    }
)

GENERATE_EMBEDDINGS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): _ENTRY,
        vol.Required("input"): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1)),
        vol.Optional("model", default=DEFAULT_EMBEDDING_MODEL): cv.string,
        vol.Optional("dimensions"): vol.All(vol.Coerce(int), vol.Range(min=1, max=3072)),
    }
)


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> OpenAIConfigEntry:
    """Return the loaded entry an action names, or a translated error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_config_entry",
            translation_placeholders={"config_entry": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"entry": entry.title},
        )
    return entry


async def _attachments(hass: HomeAssistant, names: list[str]) -> list[conversation.Attachment]:
    """Check each file (allowed, present, a supported type) and describe it."""
    attachments = []
    for name in names:
        path, mime_type = await hass.async_add_executor_job(resolve_file, hass, name)
        attachments.append(conversation.Attachment(f"file://{path}", mime_type, path))
    return attachments


async def _generate_image(call: ServiceCall) -> ServiceResponse:
    """Generate an image, store it locally, return a URL that keeps working."""
    hass = call.hass
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
    model = call.data["model"]
    found = retirement(model)
    if found and found.shutdown <= dt_util.now().date() and provider(entry.data) == PROVIDER_OPENAI:
        # Automations written for the action's old default (dall-e-3) keep working.
        LOGGER.warning(
            "%s was shut down by OpenAI; %s draws the image instead", model, found.replacement
        )
        model = found.replacement
    try:
        image = await async_generate_image(
            entry.runtime_data.seam,
            model,
            call.data[CONF_PROMPT],
            size=call.data["size"],
            quality=call.data["quality"],
            style=call.data["style"],
        )
    except openai.OpenAIError as err:
        raise translate_error(hass, entry, err) from err
    path, url = await async_store_image(hass, image)
    return {"url": url, "revised_prompt": image.revised_prompt, "path": str(path)}


async def _generate_content(call: ServiceCall) -> ServiceResponse:
    """Answer a prompt (with images or PDFs) with the entry's first agent's model."""
    hass = call.hass
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
    names = call.data[ATTR_FILENAMES] + call.data[ATTR_IMAGE_FILENAME]
    attachments = await _attachments(hass, names)
    agent = next(
        (s for s in entry.subentries.values() if s.subentry_type == SUBENTRY_CONVERSATION), None
    )
    options: Any = agent.data if agent else RECOMMENDED_CONVERSATION_OPTIONS
    model = resolve_model(entry.data, options)
    chat_log = conversation.ChatLog(hass, ulid_now())
    chat_log.async_add_user_content(
        conversation.UserContent(call.data[CONF_PROMPT], attachments=attachments or None)
    )
    request = TurnRequest(options=options, model=model, user=call.context.user_id)
    # The agent's usage sensors count what the action used.
    reporter = TurnReporter(hass, chat_log, agent.subentry_id if agent else None)
    await async_run_chat_log(
        hass, entry, chat_log, f"{DOMAIN}.{SERVICE_GENERATE_CONTENT}", request, reporter
    )
    last = chat_log.content[-1]
    return {"text": last.content if isinstance(last, conversation.AssistantContent) else ""}


async def _generate_embeddings(call: ServiceCall) -> ServiceResponse:
    """Return one embedding vector per input text."""
    hass = call.hass
    entry = _loaded_entry(hass, call.data[ATTR_CONFIG_ENTRY])
    request = embeddings_request(
        call.data["model"], call.data["input"], call.data.get("dimensions")
    )
    try:
        response = await entry.runtime_data.seam.embed(request)
    except openai.OpenAIError as err:
        raise translate_error(hass, entry, err) from err
    vectors: list[Any] = [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
    return {
        "model": response.model,
        "embeddings": vectors,
        "usage": {
            "prompt_tokens": response.usage.prompt_tokens,
            "total_tokens": response.usage.total_tokens,
        },
    }


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for all entries)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GENERATE_IMAGE,
        _generate_image,
        schema=GENERATE_IMAGE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GENERATE_EMBEDDINGS,
        _generate_embeddings,
        schema=GENERATE_EMBEDDINGS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GENERATE_CONTENT,
        _generate_content,
        schema=GENERATE_CONTENT_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
