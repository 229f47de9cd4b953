"""Where the OpenCode binary `make test` installs lives, and the config that points a
server at the fake model."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from tests.support.fake_llm import MODEL_ID

REPO_ROOT = Path(__file__).resolve().parents[2]
# scripts/opencode.sh installs it here; HIVE_TEST_OPENCODE names another binary.
DEFAULT_BINARY = REPO_ROOT / ".cache/opencode/node_modules/opencode-linux-x64/bin/opencode"
PROVIDER_ID = "fake"


def opencode_binary() -> Path | None:
    path = Path(os.environ.get("HIVE_TEST_OPENCODE") or DEFAULT_BINARY)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def config_content(base_url: str) -> str:
    """OPENCODE_CONFIG_CONTENT: one provider through the openai-compatible SDK built into
    the binary, nothing fetched, nothing shared."""
    return json.dumps(
        {
            "$schema": "https://opencode.ai/config.json",
            "autoupdate": False,
            "share": "disabled",
            "model": f"{PROVIDER_ID}/{MODEL_ID}",
            "small_model": f"{PROVIDER_ID}/{MODEL_ID}",
            "provider": {
                PROVIDER_ID: {
                    "npm": "@ai-sdk/openai-compatible",
                    "name": "Fake LLM",
                    "options": {"baseURL": base_url, "apiKey": "not-a-secret"},
                    "models": {MODEL_ID: {"name": "Fake model", "tool_call": True}},
                }
            },
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
