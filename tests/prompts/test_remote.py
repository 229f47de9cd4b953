"""URL prompt sources against a real local HTTP server: fetched, cached, served from
the cache once the server is gone, skipped when never fetched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hive.prompts.remote import PromptFetcher
from tests.support.fragment_server import FragmentServer


@pytest.fixture
def server() -> Iterator[FragmentServer]:
    running = FragmentServer()
    yield running
    running.stop()


async def test_fetched_then_cached_then_served_from_the_cache(
    server: FragmentServer, tmp_path: Path
) -> None:
    fetcher = PromptFetcher(tmp_path / "cache", timeout_s=2)
    url = server.url("/rules.md")
    fetched = await fetcher.fetch(url)
    assert fetched.text == "# Remote rules\n" and fetched.warning is None
    assert fetcher.cache_path(url).read_text() == "# Remote rules\n"

    server.stop()
    again = await fetcher.fetch(url)
    assert again.text == "# Remote rules\n"
    assert again.warning is not None and "cached copy" in again.warning


async def test_never_fetched_is_skipped_with_a_warning(
    server: FragmentServer, tmp_path: Path
) -> None:
    fetched = await PromptFetcher(tmp_path / "cache").fetch(server.url("/missing.md"))
    assert fetched.text is None
    assert fetched.warning is not None and "404" in fetched.warning and "skipped" in fetched.warning


async def test_plain_http_is_refused_off_the_machine(tmp_path: Path) -> None:
    fetched = await PromptFetcher(tmp_path / "cache").fetch("http://example.com/rules.md")
    assert fetched.text is None and fetched.warning is not None and "https" in fetched.warning
