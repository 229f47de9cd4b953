"""Finding the token: HIVE_TOKEN, else the file in $HIVE_HOME (the server makes it once)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hive.access_token import TokenFileError, client_token, server_token
from hive.settings import Settings, SettingsError


def _settings(home: Path, **env: str) -> Settings:
    return Settings.from_env(env, hive_home=home)


def test_the_server_makes_the_token_once_and_the_client_finds_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    assert client_token(settings) is None, "no file yet, and a client never makes one"
    assert not settings.hive_home.exists()

    made = server_token(settings)
    assert made.file == settings.token_path
    assert not list(settings.hive_home.glob(".token*")), "no staged file left"
    assert len(made.value) >= 40
    assert server_token(settings).value == made.value
    found = client_token(settings)
    assert found is not None and found.value == made.value
    assert made.value not in repr(made) and made.value not in made.where()


def test_hive_token_is_used_and_no_file_is_made(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home", HIVE_TOKEN="from-the-env")
    for token in (server_token(settings), client_token(settings)):
        assert token is not None and token.value == "from-the-env" and token.file is None
        assert "HIVE_TOKEN" in token.where()
    assert not settings.token_path.exists()
    assert "from-the-env" not in repr(settings)


def test_a_bad_hive_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError, match="HIVE_TOKEN") as raised:
        Settings.from_env({"HIVE_TOKEN": "two words"})
    assert "two words" not in str(raised.value)


def test_an_empty_token_file_is_replaced(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    settings.hive_home.mkdir()
    settings.token_path.write_text("\n")
    token = server_token(settings)
    assert token.value and settings.token_path.read_text().strip() == token.value
    assert stat.S_IMODE(settings.token_path.stat().st_mode) == 0o600


def test_a_token_file_that_cannot_be_a_token_names_the_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    settings.hive_home.mkdir()
    settings.token_path.write_text("not a token\n")
    with pytest.raises(TokenFileError, match=str(settings.token_path)):
        server_token(settings)
    assert client_token(settings) is None
