"""A URL's answer in a few words, never raw HTML."""

from __future__ import annotations

import httpx

from hive.cli.answer import summarize


def _answer(body: bytes, kind: str | None, status: int = 200) -> httpx.Response:
    headers = {"content-type": kind} if kind else {}
    return httpx.Response(status, content=body, headers=headers)


def test_a_page_is_told_by_its_first_heading() -> None:
    page = b"<html><head><style>h1{}</style><script>x()</script></head><body><p>intro</p>"
    page += b"<h1>Hello <b>from</b>\n  cell &amp; co</h1><h2>later</h2></body></html>"
    assert summarize(_answer(page, "text/html; charset=utf-8")) == (
        '200 OK, text/html, "Hello from cell & co"'
    )


def test_a_page_without_headings_is_told_by_its_visible_text() -> None:
    page = b"<script>hidden()</script><p>just   some</p><div>text</div>"
    assert summarize(_answer(page, "text/html")) == '200 OK, text/html, "just some text"'


def test_other_text_is_shortened_and_binary_is_counted() -> None:
    said = summarize(_answer(b'{"greeting": "' + b"a" * 100 + b'"}', "application/json"), 40)
    assert said.startswith('200 OK, application/json, "{"greeting": "aaa') and said.endswith('…"')
    assert len(said.split(", ", 2)[2]) == 42  # 40 characters and the quotes
    assert summarize(_answer(b"\x89PNG\r\n", "image/png")) == "200 OK, image/png, 6 bytes"
    assert summarize(_answer(b"", None, 404)) == "404 Not Found, no type, empty"
