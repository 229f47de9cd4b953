"""follow_opencode against the real `opencode serve` (the fake model scripts its turns),
and against a stand-in stream that breaks on cue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from hive.agents.models import ModelRef
from hive.agents.opencode_client import USERNAME, OpenCodeClient, OpenCodeError
from hive.agents.opencode_server import OpenCodeServer
from hive.agents.protocol import AgentStatus
from hive.agents.status_feed import Backoff, StatusChange, follow_opencode
from tests.support.fake_llm import MODEL_ID, Fail, FakeLLM, Hang, Text, ToolCall
from tests.support.opencode import PROVIDER_ID
from tests.support.repos import make_repo

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAKE = ModelRef(PROVIDER_ID, MODEL_ID)
DEADLINE_S = 30  # only against hangs; nothing is asserted about how long anything takes
FAST = Backoff(initial_s=0.01, max_s=0.05)

WORKING, IDLE, WAITING = AgentStatus.WORKING, AgentStatus.IDLE, AgentStatus.WAITING
ERROR, STOPPED = AgentStatus.ERROR, AgentStatus.STOPPED


class Feed:
    """What a follower reported: each session's changes in order, and its connections."""

    def __init__(self) -> None:
        self._changes: defaultdict[str, asyncio.Queue[StatusChange]] = defaultdict(asyncio.Queue)
        self.connections = 0
        self.log: list[str] = []

    async def on_change(self, change: StatusChange) -> None:
        self.log.append(f"{change.session_id} {change.status}")
        await self._changes[change.session_id].put(change)

    async def on_connected(self) -> None:
        self.connections += 1
        self.log.append("connected")

    async def until(self, session_id: str, status: AgentStatus) -> list[StatusChange]:
        """The session's next changes, up to and including the first with `status`."""
        seen: list[StatusChange] = []
        async with asyncio.timeout(DEADLINE_S):
            while not seen or seen[-1].status is not status:
                seen.append(await self._changes[session_id].get())
        return seen

    async def connected(self, count: int = 1) -> None:
        async with asyncio.timeout(DEADLINE_S):
            while self.connections < count:
                await asyncio.sleep(0.01)


def statuses(changes: list[StatusChange]) -> list[AgentStatus]:
    return [c.status for c in changes]


@contextlib.asynccontextmanager
async def following(
    connect: Callable[[], Awaitable[OpenCodeClient]], feed: Feed
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(
        follow_opencode(connect, feed.on_change, feed.on_connected, backoff=FAST)
    )
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest_asyncio.fixture(loop_scope="session")
async def feed(client: OpenCodeClient) -> AsyncIterator[Feed]:
    """A follower of the real server, subscribed before the test starts any turn."""

    async def connect() -> OpenCodeClient:
        return client

    feed = Feed()
    async with following(connect, feed):
        await feed.connected()
        yield feed


@pytest.fixture(scope="module")
def worktree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One worktree for the module: the server sets up each new directory it is asked
    about (seconds), and the tests tell their sessions apart by id."""
    return make_repo(tmp_path_factory.mktemp("feed") / "cell")


async def test_a_turn_is_working_then_idle_and_a_deleted_session_stopped(
    client: OpenCodeClient, fake_llm: FakeLLM, feed: Feed, worktree: Path
) -> None:
    fake_llm.script(Text("hello from the fake model"))
    session = await client.create_session(worktree)
    await client.prompt_async(session.id, worktree, "say hello", FAKE)

    # The server says `busy` several times a turn and `idle` twice: each change once.
    turn = await feed.until(session.id, IDLE)
    assert statuses(turn) == [WORKING, IDLE]
    assert {c.directory for c in turn} == {str(worktree)}
    assert {c.error for c in turn} == {None}

    await client.delete_session(session.id, worktree)
    assert statuses(await feed.until(session.id, STOPPED)) == [STOPPED]


async def test_a_tool_call_that_needs_permission_waits_for_the_user(
    client: OpenCodeClient,
    fake_llm: FakeLLM,
    feed: Feed,
    worktree: Path,
    opencode_server: OpenCodeServer,
) -> None:
    # A path outside the worktree: the bash tool asks for `external_directory` first.
    outside = f"/tmp/outside-{secrets.token_hex(4)}/notes.txt"
    fake_llm.script(ToolCall("bash", {"command": f"cat {outside}", "description": "read"}))
    session = await client.create_session(worktree)
    await client.prompt_async(session.id, worktree, "read the notes", FAKE)
    assert statuses(await feed.until(session.id, WAITING)) == [WORKING, WAITING]

    # The user allows it once: the turn goes on, runs the tool, and ends.
    headers = {"x-opencode-directory": str(worktree)}
    auth = (USERNAME, opencode_server.spec.password or "")
    async with httpx.AsyncClient(base_url=opencode_server.url, auth=auth, timeout=10) as http:
        pending = (await http.get("/permission", headers=headers)).json()
        asked = [p["id"] for p in pending if p["sessionID"] == session.id]
        assert len(asked) == 1
        reply = await http.post(
            f"/permission/{asked[0]}/reply", headers=headers, json={"reply": "once"}
        )
        assert reply.is_success
    assert statuses(await feed.until(session.id, IDLE)) == [WORKING, IDLE]


async def test_an_aborted_turn_is_idle_not_an_error(
    client: OpenCodeClient, fake_llm: FakeLLM, feed: Feed, worktree: Path
) -> None:
    fake_llm.script(Hang())
    session = await client.create_session(worktree)
    try:
        await client.prompt_async(session.id, worktree, "think forever", FAKE)
        assert await asyncio.to_thread(fake_llm.wait_hanging, DEADLINE_S)
        assert statuses(await feed.until(session.id, WORKING)) == [WORKING]

        assert await client.abort(session.id, worktree)
        # The turn ends with a MessageAbortedError: the next change is idle, no error.
        assert statuses(await feed.until(session.id, IDLE)) == [IDLE]
    finally:
        fake_llm.release()


async def test_a_failed_turn_reports_its_error_and_the_idle_after_it_does_not_hide_it(
    client: OpenCodeClient, fake_llm: FakeLLM, feed: Feed, worktree: Path
) -> None:
    fake_llm.script(Fail(400, "the model refuses"))
    session = await client.create_session(worktree)
    await client.prompt_async(session.id, worktree, "try", FAKE)
    failed = await feed.until(session.id, ERROR)
    assert statuses(failed) == [WORKING, ERROR]
    assert failed[-1].error == "the model refuses"

    # The server ends the failed turn with idle, sent with the error, so before the
    # deletion: had the idle been reported, it would come first.
    await client.delete_session(session.id, worktree)
    assert statuses(await feed.until(session.id, STOPPED)) == [STOPPED]


async def test_each_directory_s_events_go_to_its_own_session(
    client: OpenCodeClient, fake_llm: FakeLLM, feed: Feed, worktree: Path, tmp_path: Path
) -> None:
    fake_llm.script()
    one, two = worktree, make_repo(tmp_path / "two")
    first = await client.create_session(one)
    second = await client.create_session(two)
    await asyncio.gather(
        client.prompt_async(first.id, one, "hi", FAKE),
        client.prompt_async(second.id, two, "hi", FAKE),
    )
    for session, directory in ((first, one), (second, two)):
        turn = await feed.until(session.id, IDLE)
        assert statuses(turn) == [WORKING, IDLE]
        assert {c.directory for c in turn} == {str(directory)}


async def test_the_follower_reconnects_when_its_client_is_closed(
    opencode_server: OpenCodeServer, fake_llm: FakeLLM, worktree: Path
) -> None:
    clients: list[OpenCodeClient] = []

    async def connect() -> OpenCodeClient:
        clients.append(opencode_server.client())
        return clients[-1]

    feed = Feed()
    try:
        async with following(connect, feed):
            await feed.connected()
            await clients[0].aclose()  # the stream under the follower breaks
            await feed.connected(2)

            fake_llm.script()
            session = await clients[-1].create_session(worktree)
            await clients[-1].prompt_async(session.id, worktree, "hi", FAKE)
            assert statuses(await feed.until(session.id, IDLE)) == [WORKING, IDLE]
    finally:
        for c in clients:
            await c.aclose()
    assert len(clients) == 2


class BreakingStream:
    """A stand-in for `GET /global/event`: connection n is sent `scripts[n]` and then
    broken mid-body (no end chunk), except the last, which stays open."""

    def __init__(self, *scripts: list[object]) -> None:
        self._scripts = scripts
        self._server: asyncio.Server | None = None
        self._open: list[asyncio.StreamWriter] = []
        self.connections = 0

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._open:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        index = min(self.connections, len(self._scripts) - 1)
        last = self.connections >= len(self._scripts) - 1
        self.connections += 1
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for message in self._scripts[index]:
            text = message if isinstance(message, str) else f"data: {json.dumps(message)}\n\n"
            body = text.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(body), body))
        await writer.drain()
        if last:
            self._open.append(writer)
        else:
            writer.close()


def event(kind: str, directory: str | None = "/work/cells/a", **properties: object) -> object:
    payload = {"id": "evt_x", "type": kind, "properties": properties}
    return {"directory": directory, "payload": payload} if directory else {"payload": payload}


CONNECTED = event("server.connected", None)


async def test_the_follower_skips_bad_events_and_resyncs_after_the_stream_breaks() -> None:
    first = [
        CONNECTED,
        "data: {not json\n\n",
        [],
        {"payload": "odd"},
        event("session.status", sessionID="ses_1", status="busy"),
        event("session.error", error={"name": "APIError"}),
        event("session.status", sessionID="ses_1", status={"type": "busy"}),
        event("permission.asked", sessionID="ses_2", id="per_1"),
    ]
    second = [CONNECTED, event("session.idle", sessionID="ses_1")]
    feed = Feed()
    failing = True

    async def on_change(change: StatusChange) -> None:
        await feed.on_change(change)
        if change.session_id == "ses_1":
            raise RuntimeError("a handler that fails")

    async with BreakingStream(first, second) as url, OpenCodeClient(url) as client:

        async def connect() -> OpenCodeClient:
            nonlocal failing
            if failing:  # the server is not up yet
                failing = False
                raise OpenCodeError("opencode is away")
            return client

        task = asyncio.create_task(
            follow_opencode(connect, on_change, feed.on_connected, backoff=FAST)
        )
        try:
            assert statuses(await feed.until("ses_1", WORKING)) == [WORKING]
            # The handler failed on ses_1; the next event of that stream is still read.
            assert statuses(await feed.until("ses_2", WAITING)) == [WAITING]
            assert statuses(await feed.until("ses_1", IDLE)) == [IDLE]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # Each connection resyncs before any of its events is handled.
    assert feed.log == [
        "connected",
        "ses_1 working",
        "ses_2 waiting",
        "connected",
        "ses_1 idle",
    ]
