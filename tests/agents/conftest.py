"""One fake model server and one `opencode serve` for the whole test session (the
server takes seconds to start); each test scripts the fake model's replies."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from hive.agents.opencode_client import OpenCodeClient
from hive.agents.opencode_server import OpenCodeServer, OpenCodeServerSpec
from tests.support.fake_llm import FakeLLM
from tests.support.opencode import config_content, free_port, opencode_binary


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM().start()
    yield llm
    llm.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def opencode_server(
    fake_llm: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCodeServer]:
    binary = opencode_binary()
    if binary is None:
        pytest.skip("no OpenCode binary: `make opencode` installs it (needs npm)")
    root = tmp_path_factory.mktemp("opencode")
    spec = OpenCodeServerSpec(
        binary=binary,
        port=free_port(),
        home=root / "home",
        log_path=root / "opencode.log",
        password=secrets.token_hex(8),
        env={
            "PATH": os.environ["PATH"],
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_CONFIG_CONTENT": config_content(fake_llm.base_url),
        },
    )
    server = await OpenCodeServer.start(spec)
    yield server
    await server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def client(
    opencode_server: OpenCodeServer, fake_llm: FakeLLM
) -> AsyncIterator[OpenCodeClient]:
    fake_llm.script()
    async with opencode_server.client() as c:
        yield c
