"""Fixtures of the gateway's tests: a headless browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.helpers.browser import ARTIFACTS, CHROMIUM_ARGS, ensure_chromium


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    path = ensure_chromium()
    if path is None:
        pytest.skip("no Chromium at /usr/bin/chromium and it cannot be installed here (needs root and apt-get)")
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()
