"""Parsing and request shapes, offline against httpx's mock transport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from hive.agents.models import ModelRef, Providers, UnknownModelError
from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.core.errors import InvalidInputError

PROVIDERS = {
    "providers": [
        {"id": "fake", "name": "Fake", "models": {"b": {}, "a": {}}},
        {"id": "empty", "name": "Empty", "models": {}},
    ],
    "default": {"fake": "a"},
}


def test_unknown_model_names_it_and_lists_what_is_offered() -> None:
    providers = Providers.parse(PROVIDERS)
    providers.check(ModelRef("fake", "a"))
    with pytest.raises(UnknownModelError) as caught:
        providers.check(ModelRef("fake", "z"))
    assert str(caught.value) == (
        "unknown model fake/z: provider 'fake' has no model 'z'; "
        "available: fake: a, b; empty: (none)"
    )
    assert isinstance(caught.value, InvalidInputError)


async def test_calls_name_the_directory_and_send_the_documented_body() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/config/providers":
            return httpx.Response(200, json=PROVIDERS)
        return httpx.Response(204)

    directory = Path("/tmp/cells/ünïcode cell")
    transport = httpx.MockTransport(answer)
    async with OpenCodeClient("http://oc", password="pw", transport=transport) as client:
        await client.prompt_async("ses_1", directory, "go", ModelRef("fake", "a"), agent="plan")
    check, prompt = seen
    assert check.headers["x-opencode-directory"] == "/tmp/cells/%C3%BCn%C3%AFcode%20cell"
    assert prompt.url.path == "/session/ses_1/prompt_async"
    assert prompt.headers["authorization"].startswith("Basic ")
    assert json.loads(prompt.content) == {
        "parts": [{"type": "text", "text": "go"}],
        "model": {"providerID": "fake", "modelID": "a"},
        "noReply": False,
        "agent": "plan",
    }


async def test_a_relative_directory_is_refused_before_any_request() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    async with OpenCodeClient("http://oc", transport=transport) as client:
        with pytest.raises(InvalidInputError, match="absolute"):
            await client.create_session(Path("relative"))


async def test_an_error_answer_carries_its_status_and_body() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404, text="no session"))
    async with OpenCodeClient("http://oc", transport=transport) as client:
        with pytest.raises(OpenCodeError, match="HTTP 404 no session") as caught:
            await client.delete_session("ses_x", Path("/tmp"))
    assert caught.value.status == 404


async def test_events_are_parsed_from_the_sse_stream() -> None:
    body = (
        'data: {"type":"server.connected","properties":{}}\n\n'
        ": a comment\n"
        'data: {"type":"session.idle",\n'
        'data: "properties":{"sessionID":"ses_1"}}\n\n'
    )
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, text=body, headers={"content-type": "text/event-stream"}
        )
    )
    async with OpenCodeClient("http://oc", transport=transport) as client:
        events = [e async for e in client.events(Path("/tmp"))]
    assert [(e.type, e.session_id) for e in events] == [
        ("server.connected", None),
        ("session.idle", "ses_1"),
    ]
