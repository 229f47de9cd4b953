"""Page tests: a real uvicorn server, a real repository and real Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import CHROMIUM_ARGS, chromium_binary
from tests.support.server import LiveHive
from tests.support.ui import UI


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Playwright's sync API keeps its event loop marked
    running on this thread while it is open, so it must close before a later module's
    asyncio tests start."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(binary), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def open_ui(start_hive: Callable[..., LiveHive], page: Page) -> Callable[..., UI]:
    """A server on the given repositories and a page signed in to it (token → cookie).
    The page closes before the server stops: its open streams would hold the stop up."""

    def open(register: list[Path], **overrides: object) -> UI:
        hive = start_hive(register, **overrides)
        ui = UI(hive, page)
        ui.sign_in()
        return ui

    return open


@pytest.fixture
def ui(open_ui: Callable[..., UI], repo: Path) -> UI:
    return open_ui([repo])
