"""What every page shares: the token handshake, errors as pages, assets served locally."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.support.ui import UI


def test_the_printed_url_signs_the_browser_in_and_drops_the_token(ui: UI) -> None:
    page = ui.page
    assert ui.hive.token not in page.url
    expect(page.get_by_role("heading", name="Cells")).to_be_visible()
    # The cookie is HttpOnly: the page's scripts cannot read it.
    assert page.evaluate("document.cookie") == ""


def test_without_the_token_a_page_says_how_to_get_the_url(ui: UI, browser: Browser) -> None:
    stranger = browser.new_context().new_page()
    try:
        response = stranger.goto(f"{ui.hive.url}/")
        assert response is not None and response.status == 401
        expect(stranger.get_by_role("heading")).to_have_text(re.compile("needs its token"))
        expect(stranger.locator("main")).to_contain_text("hive open")
    finally:
        stranger.context.close()


def test_an_unknown_page_part_is_a_page_with_the_message(ui: UI) -> None:
    response = ui.page.goto(f"{ui.hive.url}/?part=nonesuch")
    assert response is not None and response.status == 404
    expect(ui.page.get_by_role("heading")).to_contain_text("does not exist")


def test_pages_load_nothing_from_elsewhere(ui: UI) -> None:
    requested: list[str] = []
    ui.page.on("request", lambda request: requested.append(request.url))
    ui.go("/")
    expect(ui.page.get_by_role("heading", name="Cells")).to_be_visible()
    assert requested and all(url.startswith(ui.hive.url) for url in requested), requested
