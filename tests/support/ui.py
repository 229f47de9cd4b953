"""A signed-in page on a live Hive server, with the waits page tests share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.server import LiveHive


@dataclass
class UI:
    hive: LiveHive
    page: Page

    def sign_in(self) -> None:
        """Open the URL `hive serve` prints; the token becomes a cookie and leaves the URL."""
        self.page.goto(f"{self.hive.url}/?token={self.hive.token}")
        expect(self.page).to_have_url(re.compile(r"/$"))

    def go(self, path: str) -> Page:
        self.page.goto(f"{self.hive.url}{path}")
        return self.page

    def create(self, name: str = "cell", template: str = "basic", **body: Any) -> dict[str, Any]:
        """A cell made through the API (as the CLI would), for tests about other pages."""
        return self.hive.create(name, template, **body)
