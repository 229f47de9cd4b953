"""A client of the session's `opencode serve` (tests/conftest.py starts it, with the
fake model); each test scripts the fake model's replies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from hive.agents.opencode_client import OpenCodeClient
from hive.agents.opencode_server import OpenCodeServer
from tests.support.fake_llm import FakeLLM


@pytest_asyncio.fixture(loop_scope="session")
async def client(
    opencode_server: OpenCodeServer, fake_llm: FakeLLM
) -> AsyncIterator[OpenCodeClient]:
    fake_llm.script()
    async with opencode_server.client() as c:
        yield c
