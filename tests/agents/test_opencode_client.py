"""The client against a real `opencode serve` whose model is the fake one: a real agent
loop, offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hive.agents.models import Event, ModelRef, UnknownModelError
from hive.agents.opencode_client import OpenCodeClient, OpenCodeError
from hive.agents.opencode_server import OpenCodeServer
from tests.support.fake_llm import MODEL_ID, FakeLLM, Hang, ToolCall
from tests.support.opencode import PROVIDER_ID
from tests.support.repos import make_repo

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAKE = ModelRef(PROVIDER_ID, MODEL_ID)
DEADLINE_S = 60  # only against hangs; nothing is asserted about how long anything takes


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "cell")


async def next_event(events: asyncio.Queue[Event], type_: str, session_id: str) -> Event:
    while True:
        event = await events.get()
        if event.type == type_ and event.session_id == session_id:
            return event


async def collect(client: OpenCodeClient, directory: Path, into: asyncio.Queue[Event]) -> None:
    async for event in client.events(directory):
        await into.put(event)


async def test_health(client: OpenCodeClient) -> None:
    health = await client.health()
    assert health.healthy
    assert health.version


async def test_a_client_without_the_password_is_refused(opencode_server: OpenCodeServer) -> None:
    async with OpenCodeClient(opencode_server.url) as anonymous:
        with pytest.raises(OpenCodeError) as caught:
            await anonymous.health()
    assert caught.value.status == 401


async def test_providers_list_the_fake_model(client: OpenCodeClient, worktree: Path) -> None:
    providers = await client.providers(worktree)
    assert MODEL_ID in providers.available()[PROVIDER_ID]
    assert providers.defaults[PROVIDER_ID] == MODEL_ID


async def test_the_agent_writes_a_file_through_a_tool_call(
    client: OpenCodeClient, fake_llm: FakeLLM, worktree: Path
) -> None:
    target = worktree / "notes" / "hello.txt"
    fake_llm.script(ToolCall("write", {"filePath": str(target), "content": "hello from hive\n"}))
    session = await client.create_session(worktree, title="cell")

    result = await client.send_message(session.id, worktree, "write the file", FAKE)

    assert result.error is None
    assert result.text == "Done."
    assert target.read_text() == "hello from hive\n"
    assert session.directory == str(worktree)
    assert session.id in {s.id for s in await client.list_sessions(worktree)}
    # The fake model saw the tool's result before it finished the turn.
    assert any(r["messages"][-1].get("role") == "tool" for r in fake_llm.requests)


async def test_prompt_async_reports_through_events(
    client: OpenCodeClient, fake_llm: FakeLLM, worktree: Path
) -> None:
    target = worktree / "async.txt"
    fake_llm.script(ToolCall("write", {"filePath": str(target), "content": "async\n"}))
    session = await client.create_session(worktree)
    events: asyncio.Queue[Event] = asyncio.Queue()
    reader = asyncio.create_task(collect(client, worktree, events))
    try:
        async with asyncio.timeout(DEADLINE_S):
            await events.get()  # the server greets a new stream: it is subscribed now
        await client.prompt_async(session.id, worktree, "write it", FAKE)
        async with asyncio.timeout(DEADLINE_S):
            await next_event(events, "session.idle", session.id)
    finally:
        reader.cancel()
    assert target.read_text() == "async\n"


async def test_abort_stops_a_turn_and_delete_removes_the_session(
    client: OpenCodeClient, fake_llm: FakeLLM, worktree: Path
) -> None:
    fake_llm.script(Hang())
    session = await client.create_session(worktree)
    await client.prompt_async(session.id, worktree, "think forever", FAKE)
    assert await asyncio.to_thread(fake_llm.wait_hanging, DEADLINE_S)
    assert (await client.session_statuses(worktree)).get(session.id) == "busy"

    assert await client.abort(session.id, worktree)
    async with asyncio.timeout(DEADLINE_S):
        while session.id in await client.session_statuses(worktree):
            await asyncio.sleep(0.05)

    assert await client.delete_session(session.id, worktree)
    assert session.id not in {s.id for s in await client.list_sessions(worktree)}


async def test_an_unknown_model_fails_before_any_prompt(
    client: OpenCodeClient, fake_llm: FakeLLM, worktree: Path
) -> None:
    session = await client.create_session(worktree)
    before = len(fake_llm.requests)
    with pytest.raises(UnknownModelError) as caught:
        await client.send_message(session.id, worktree, "hi", ModelRef(PROVIDER_ID, "nope"))
    message = str(caught.value)
    assert "fake/nope" in message
    assert MODEL_ID in message
    with pytest.raises(UnknownModelError, match="provider 'elsewhere' is not connected"):
        await client.prompt_async(session.id, worktree, "hi", ModelRef("elsewhere", MODEL_ID))
    assert len(fake_llm.requests) == before


async def test_no_reply_stores_the_message_without_calling_the_model(
    client: OpenCodeClient, fake_llm: FakeLLM, worktree: Path
) -> None:
    session = await client.create_session(worktree)
    before = len(fake_llm.requests)
    await client.send_message(session.id, worktree, "remember this", FAKE, no_reply=True)
    assert len(fake_llm.requests) == before


async def test_a_message_past_its_deadline_is_aborted(
    client: OpenCodeClient, fake_llm: FakeLLM, worktree: Path
) -> None:
    fake_llm.script(Hang())
    session = await client.create_session(worktree)
    with pytest.raises(OpenCodeError, match="no answer within"):
        await client.send_message(session.id, worktree, "hang", FAKE, timeout_s=1)
    async with asyncio.timeout(DEADLINE_S):
        while session.id in await client.session_statuses(worktree):
            await asyncio.sleep(0.05)
