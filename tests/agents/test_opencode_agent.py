"""OpenCodeAgent, the Agent protocol over the real server with the fake model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hive.agents.models import ModelRef, UnknownModelError
from hive.agents.opencode_agent import OpenCodeAgent
from hive.agents.opencode_client import OpenCodeClient
from hive.agents.protocol import Agent, AgentSession, AgentStatus
from tests.support.fake_llm import MODEL_ID, FakeLLM, ToolCall
from tests.support.opencode import PROVIDER_ID
from tests.support.repos import make_repo

pytestmark = pytest.mark.asyncio(loop_scope="session")

FAKE = ModelRef(PROVIDER_ID, MODEL_ID)


async def wait_for_status(agent: Agent, session: AgentSession, wanted: AgentStatus) -> None:
    async with asyncio.timeout(60):
        while await agent.status(session) != wanted:
            await asyncio.sleep(0.05)


async def test_a_session_lives_and_ends_through_the_protocol(
    client: OpenCodeClient, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    worktree = make_repo(tmp_path / "cell")
    agent: Agent = OpenCodeAgent(client, mode="build")
    session = await agent.ensure_session(worktree, FAKE)
    assert (await agent.ensure_session(worktree, FAKE, session_id=session.session_id)) == session

    await agent.send(session, "you are in a Hive cell", no_reply=True)
    assert await agent.status(session) == AgentStatus.IDLE

    target = worktree / "done.txt"
    fake_llm.script(ToolCall("write", {"filePath": str(target), "content": "ok\n"}))
    await agent.send(session, "write done.txt")
    # The file is written inside the turn; the turn has ended when the status is idle.
    async with asyncio.timeout(60):
        while not target.exists():
            await asyncio.sleep(0.05)
    await wait_for_status(agent, session, AgentStatus.IDLE)

    await agent.close(session)
    assert await agent.status(session) == AgentStatus.STOPPED
    await agent.close(session)  # closing twice is fine
    renewed = await agent.ensure_session(worktree, FAKE, session_id=session.session_id)
    assert renewed.session_id != session.session_id


async def test_ensure_session_refuses_a_model_the_server_does_not_offer(
    client: OpenCodeClient, tmp_path: Path
) -> None:
    agent = OpenCodeAgent(client)
    with pytest.raises(UnknownModelError, match=f"{PROVIDER_ID}: {MODEL_ID}"):
        await agent.ensure_session(tmp_path, ModelRef(PROVIDER_ID, "gpt-nope"))
