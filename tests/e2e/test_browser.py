"""The integration in HA's real frontend, driven by headless Chromium (Debian's build).

Screenshots of each step go to artifacts/browser/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
import os
from pathlib import Path
import re
import shutil

import pytest

from tools.hass import PASSWORD, USERNAME

from .conftest import API_KEY, LiveHass

CHROMIUM = os.environ.get("OPENAI_HA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing(reason: str) -> None:
    """Skip where the browser cannot run, with the reason; under CI that is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: the browser test cannot run (scripts/setup installs it)")
    pytest.skip(reason, allow_module_level=True)


try:
    from playwright import async_api as playwright_api
except ImportError:  # pragma: no cover - scripts/setup installs it
    _missing("playwright is not installed")


@pytest.fixture
async def page() -> AsyncGenerator[playwright_api.Page]:
    """A Chromium page; skipped where Chromium cannot run (failed under CI)."""
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM} (scripts/setup installs Debian's chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with playwright_api.async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        except playwright_api.Error as err:
            _missing(f"Chromium does not start here: {err}")
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        # Actions and assertions alike wait up to 30 s (an assertion's own default is 5 s,
        # less than a loaded machine's frontend may take to render a dialog).
        page.set_default_timeout(30000)
        playwright_api.expect.set_options(timeout=30000)
        try:
            yield page
        finally:
            await browser.close()


async def shot(page: playwright_api.Page, name: str) -> None:
    await page.screenshot(path=ARTIFACTS / f"{name}.png")


@asynccontextmanager
async def explained(page: playwright_api.Page) -> AsyncIterator[None]:
    """On failure, say where the browser was and what it showed (CI prints only the tail)."""
    try:
        yield
    except Exception as err:
        await shot(page, "failed")
        # The accessibility tree: HA's frontend is in shadow roots, which inner_text misses.
        tree = " ".join((await page.locator("body").aria_snapshot(timeout=5000)).split())
        first = str(err).splitlines()[0]
        raise AssertionError(f"at {page.url}: {first}; the page showed: {tree[:800]}") from err


def field(page: playwright_api.Page, label: str, name: str) -> playwright_api.Locator:
    """Return a form field: by its label up to the 2026.9 frontend, by its name after."""
    return page.get_by_label(label).or_(page.locator(f"input[name={name}]")).first


async def test_add_integration_subentry_and_assist(
    live_hass: LiveHass, page: playwright_api.Page
) -> None:
    async with explained(page):
        await log_in(page, live_hass.base)
        await add_integration(page, live_hass.base)
        await add_agent(page, live_hass.base)
        # Assist, with a pipeline that uses the new agent.
        await live_hass.client.use_agent_for_assist("conversation.kitchen_helper")
        await assist(page, live_hass.base)
    state = await live_hass.client.call("GET", "/api/states/light.kitchen_light")
    assert state["state"] == "on"
    assert live_hass.problems() == []


async def log_in(page: playwright_api.Page, base: str) -> None:
    await page.goto(base + "/")
    await page.get_by_label("Username").fill(USERNAME)
    await page.locator("input[type=password]").fill(PASSWORD)
    await shot(page, "01-login")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/(home|lovelace)/"))


async def add_integration(page: playwright_api.Page, base: str) -> None:
    """Settings -> Devices & services -> Add integration -> OpenAI -> OpenAI -> key."""
    expect = playwright_api.expect
    await page.goto(base + "/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    # The search field is labelled up to the 2026.9 frontend, only a placeholder after.
    search = "Search for a brand name"
    await page.get_by_label(search).or_(page.get_by_placeholder(search)).first.fill("OpenAI")
    await page.locator("lit-virtualizer").get_by_text("OpenAI", exact=True).click()
    await expect(page.get_by_title("Choose a server")).to_be_visible()
    await shot(page, "02-choose-server")
    await page.get_by_text("OpenAI", exact=True).last.click()
    await field(page, "API key", "api_key").fill(API_KEY)
    await shot(page, "03-api-key")
    await page.get_by_role("button", name="Submit").click()
    # The devices dialog ("Devices created", "Name and assign" since 2026.10).
    skip = page.get_by_role("button", name="Skip and finish")
    await expect(skip).to_be_visible()
    await shot(page, "04-created")
    await skip.click()


async def add_agent(page: playwright_api.Page, base: str) -> None:
    """The entry's page: every subentry type can be added; add a conversation agent."""
    expect = playwright_api.expect
    await page.goto(base + "/config/integrations/integration/openai_conversation")
    for label in (
        "Add conversation agent",
        "Add AI Task",
        "Add speech-to-text",
        "Add text-to-speech",
    ):
        await expect(page.get_by_role("button", name=label)).to_be_visible()
    await shot(page, "05-entry")
    await page.get_by_role("button", name="Add conversation agent").click()
    await field(page, "Name", "name").fill("Kitchen helper")
    # A checkbox up to the 2026.9 frontend, a labelled ha-switch in 2026.10, the form's only
    # switch (unlabelled) in 2026.11.
    recommended = (
        page.get_by_label("Recommended model settings").or_(page.get_by_role("switch")).first
    )
    if not await recommended.evaluate("e => Boolean(e.checked)"):
        await recommended.click()
    await page.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("Created configuration for Kitchen helper.")).to_be_visible()
    await shot(page, "06-agent-added")
    await page.get_by_role("button", name="Finish").click()


async def assist(page: playwright_api.Page, base: str) -> None:
    """Ask Assist, typed into its dialog, to turn the kitchen light on."""
    expect = playwright_api.expect
    await page.goto(base + "/home/overview")
    # Wait for the toolbar: a shortcut key pressed before the frontend has loaded is lost.
    await expect(page.get_by_role("button", name="Add to Home Assistant")).to_be_visible()
    # The toolbar's Assist button is named "Assist (A)" since the 2026.10 frontend; before,
    # it is unnamed and HA's "a" shortcut opens the dialog instead.
    named = page.get_by_role("button", name=re.compile(r"^Assist\b"))
    if await named.count():
        await named.first.click()
    else:
        await page.keyboard.press("a")
    # The dialog opens with its request field focused (unlabelled in the 2026.10 frontend).
    await expect(page.get_by_text("How can I assist?")).to_be_visible()
    await page.keyboard.type("Turn on the kitchen light")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Done: Kitchen light.")).to_be_visible()
    await shot(page, "07-assist")
