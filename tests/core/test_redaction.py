"""Secret names are recognised in any case; everything else is left alone."""

from __future__ import annotations

import pytest

from hive.core.redaction import REDACTED, is_secret_name, redact_env


@pytest.mark.parametrize(
    "name",
    [
        "API_TOKEN",
        "github_token",
        "Token",
        "CLIENT_SECRET",
        "secret",
        "DB_PASSWORD",
        "db_Password",
        "AWS_ACCESS_KEY_ID",
        "api_key",
        "SSH_PASSWD",
        "GOOGLE_CREDENTIALS",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "APP_MODE", "PORT", "NODE_ENV", "DEBUG", ""])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_redact_env() -> None:
    env = {"APP_MODE": "test", "API_TOKEN": "s3cret", "db_password": "pw", "PORT": "3000"}
    assert redact_env(env) == {
        "APP_MODE": "test",
        "API_TOKEN": REDACTED,
        "db_password": REDACTED,
        "PORT": "3000",
    }
    assert env["API_TOKEN"] == "s3cret"  # the input is not changed
