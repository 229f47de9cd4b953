"""Which configuration values are secrets and must not leave the server."""

from __future__ import annotations

import re
from collections.abc import Mapping

REDACTED = "********"

_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def redact_values(text: str, env: Mapping[str, str]) -> str:
    """`text` with the value of every secret-named variable of `env` masked (a prompt
    file may quote one; short values would mask ordinary words, so they stay)."""
    for name, value in env.items():
        if is_secret_name(name) and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    return {name: REDACTED if is_secret_name(name) else value for name, value in env.items()}
