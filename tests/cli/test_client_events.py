"""HiveClient.events over httpx's transport seam: a stream that drops is resumed with
Last-Event-ID, one that ends is over, and a server that keeps dropping is an error."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hive.access_token import AccessToken
from hive.cli.client import ClientError, HiveClient
from hive.cli.sse import ServerSentEvent


class _Dropping(httpx.SyncByteStream):
    """A body that stops mid-stream, as a connection cut by a restart does."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self._body
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def _client(handler: httpx.MockTransport) -> HiveClient:
    return HiveClient("http://hive.test", token=AccessToken("t0ken", None), transport=handler)


def test_a_dropped_stream_resumes_after_the_last_event() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("last-event-id"))
        assert request.headers["authorization"] == "Bearer t0ken"
        if len(seen) == 1:
            return httpx.Response(200, stream=_Dropping(b"id: 5\nevent: log\ndata: a\n\nid: 9\nda"))
        return httpx.Response(
            200, content=b"id: 9\nevent: log\ndata: b\n\nevent: end\ndata: {}\n\n"
        )

    with _client(httpx.MockTransport(answer)) as client:
        got = list(client.events("/api/x/stream", last_event_id=None))
    assert got == [
        ServerSentEvent("log", "5", "a"),
        ServerSentEvent("log", "9", "b"),
        ServerSentEvent("end", "9", "{}"),
    ]
    assert seen == [None, "5"]


def test_a_stream_that_keeps_dropping_gives_up_with_an_error() -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Dropping(b": ping\n\n"))

    with _client(httpx.MockTransport(answer)) as client, pytest.raises(ClientError) as caught:
        list(client.events("/api/x/stream", reconnect_for_s=0.3))
    assert "kept dropping" in caught.value.message


def test_an_error_answer_is_reported_not_retried() -> None:
    calls = 0

    def answer(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(404, json={"message": "cell 'x' not found", "hint": "hive ls"})

    with _client(httpx.MockTransport(answer)) as client, pytest.raises(ClientError) as caught:
        list(client.events("/api/x/stream"))
    assert caught.value.message == "cell 'x' not found (HTTP 404)" and calls == 1
