"""URL prompt sources against a real local HTTP server: fetched, cached, served from
the cache once the server is gone, skipped when never fetched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hive.prompts.remote import PromptFetcher


class _Fragment(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/rules.md":
            self.send_error(404)
            return
        body = b"# Remote rules\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Fragment)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url_of(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


async def test_fetched_then_cached_then_served_from_the_cache(
    server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    fetcher = PromptFetcher(tmp_path / "cache", timeout_s=2)
    url = url_of(server, "/rules.md")
    fetched = await fetcher.fetch(url)
    assert fetched.text == "# Remote rules\n" and fetched.warning is None
    assert fetcher.cache_path(url).read_text() == "# Remote rules\n"

    server.shutdown()
    server.server_close()
    again = await fetcher.fetch(url)
    assert again.text == "# Remote rules\n"
    assert again.warning is not None and "cached copy" in again.warning


async def test_never_fetched_is_skipped_with_a_warning(
    server: ThreadingHTTPServer, tmp_path: Path
) -> None:
    fetched = await PromptFetcher(tmp_path / "cache").fetch(url_of(server, "/missing.md"))
    assert fetched.text is None
    assert fetched.warning is not None and "404" in fetched.warning and "skipped" in fetched.warning


async def test_plain_http_is_refused_off_the_machine(tmp_path: Path) -> None:
    fetched = await PromptFetcher(tmp_path / "cache").fetch("http://example.com/rules.md")
    assert fetched.text is None and fetched.warning is not None and "https" in fetched.warning
