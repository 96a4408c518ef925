"""Repair issues for what only the user can fix."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator import Error, OpenAIEmulator
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

DOMAIN = "openai_conversation"


async def test_model_not_found_raises_a_repair(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    emulator.queue(
        Error(
            404,
            "The model `gpt-9` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    )
    await hass.async_create_task(
        conversation.async_converse(
            hass, "hi", None, Context(), agent_id="conversation.openai_conversation"
        )
    )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "model_not_found_gpt-9")
    assert issue is not None
    assert issue.translation_key == "model_not_found"
    assert issue.translation_placeholders == {"model": "gpt-9"}
    # The user fixes it in the agent's options; it goes with the next restart.
    assert (issue.severity, issue.is_fixable, issue.is_persistent) == (
        ir.IssueSeverity.ERROR,
        False,
        False,
    )


@pytest.mark.parametrize(
    "message",
    [
        "Your organization must be verified to use the model `gpt-image-1`.",
        "To access gpt-image-1, please Verify Organization on the settings page.",
    ],
    ids=["must be verified", "Verify Organization"],
)
async def test_organization_verification_repair(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator, message: str
) -> None:
    """Either of OpenAI's wordings raises the repair, which links to the fix."""
    emulator.fail_next(
        "/v1/images/generations", Error(403, message, code="organization_not_verified")
    )
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            "generate_image",
            {"config_entry": setup_entry.entry_id, "prompt": "x", "model": "gpt-image-1"},
            blocking=True,
            return_response=True,
        )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "organization_verification_required")
    assert issue is not None
    assert issue.translation_key == "organization_verification_required"
    assert issue.translation_placeholders == {
        "platform_settings": "https://platform.openai.com/settings/organization/general"
    }
    assert issue.learn_more_url == (
        "https://help.openai.com/en/articles/10910291-api-organization-verification"
    )
    assert (issue.severity, issue.is_fixable, issue.is_persistent) == (
        ir.IssueSeverity.WARNING,
        False,
        False,
    )


@pytest.mark.parametrize(
    "subentry_options", [{"recommended": False, "chat_model": "gpt-4o-realtime-preview"}]
)
async def test_unsupported_model_repair(
    hass: HomeAssistant, setup_entry: MockConfigEntry, emulator: OpenAIEmulator
) -> None:
    subentry = next(iter(setup_entry.subentries.values()))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"unsupported_model_{subentry.subentry_id}")
    assert issue is not None
    assert issue.translation_placeholders["model"] == "gpt-4o-realtime-preview"
    hass.config_entries.async_update_subentry(setup_entry, subentry, data={"recommended": True})
    await hass.async_block_till_done()
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"unsupported_model_{subentry.subentry_id}")
        is None
    )


@pytest.mark.parametrize(
    "subentry_options", [{"recommended": False, "chat_model": "gpt-4o-realtime-preview"}]
)
async def test_repairs_go_with_their_subentry_and_entry(
    hass: HomeAssistant, setup_entry: MockConfigEntry
) -> None:
    """A repair about an agent the user then deletes, or about an entry the user removes,
    has nothing left to fix: it goes too."""
    registry = ir.async_get(hass)
    agent = next(iter(setup_entry.subentries))
    assert registry.async_get_issue(DOMAIN, f"unsupported_model_{agent}") is not None
    assert hass.config_entries.async_remove_subentry(setup_entry, agent)
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, f"unsupported_model_{agent}") is None

    ir.async_create_issue(  # as the shutdown check raises it for the entry's own agent
        hass,
        DOMAIN,
        f"recommended_model_moved_{setup_entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="recommended_model_moved",
    )
    await hass.config_entries.async_remove(setup_entry.entry_id)
    await hass.async_block_till_done()
    assert [i for (d, i) in registry.issues if d == DOMAIN] == []
