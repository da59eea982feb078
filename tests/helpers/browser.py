"""Pages in headless Chromium (Playwright) that fail the test on JavaScript errors, and widget actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.live import LiveServer

CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ARTIFACTS = Path(__file__).parents[1] / "artifacts"

TIMEOUT_MS = 20_000


async def new_page(browser: Any, *, locale: str = "en-US", token: str | None = None) -> Any:
    """A page in its own context (separate storage: one visitor or one agent) that fails the test on JS errors."""
    context = await browser.new_context(locale=locale, viewport={"width": 1360, "height": 860})
    if token:
        await context.add_init_script(f"sessionStorage.setItem('switchboard.token', {token!r})")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


def no_js_errors(*pages: Any) -> None:
    for page in pages:
        assert page.js_errors == [], page.js_errors


async def open_widget(page: Any, server: LiveServer, widget_token: str) -> None:
    await page.goto(f"{server.url}/demo?widget_token={widget_token}")
    await page.locator("#switchboard-widget .bubble").click()


async def start_chat(page: Any, name: str, email: str | None = None) -> None:
    await page.locator("#switchboard-widget input[name=name]").fill(name)
    if email:
        await page.locator("#switchboard-widget input[name=email]").fill(email)
    await page.locator("#switchboard-widget button.start").click()
    await page.locator("#switchboard-widget textarea[name=message]").wait_for(state="visible")
    await page.locator("#switchboard-widget form.prechat").wait_for(state="hidden")


async def visitor_says(page: Any, text: str) -> None:
    composer = page.locator("#switchboard-widget textarea[name=message]")
    await composer.fill(text)
    await composer.press("Enter")
