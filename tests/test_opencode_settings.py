"""The HIVE_OPENCODE_* variables: read into Settings, and a bad value is refused with an
error naming its variable (never echoing the password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.settings import OPENCODE_OFF, Settings, SettingsError


def _from(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"HIVE_HOME": str(tmp_path), **env})


def test_unset_means_opencode_from_path_and_the_users_home(tmp_path: Path) -> None:
    settings = _from(tmp_path)
    assert settings.opencode_bin is None and settings.opencode_url is None
    assert settings.opencode_password is None and settings.opencode_home is None


def test_the_variables_are_read(tmp_path: Path) -> None:
    settings = _from(
        tmp_path,
        HIVE_OPENCODE_BIN="~/bin/opencode",
        HIVE_OPENCODE_URL="http://127.0.0.1:4096/",
        HIVE_OPENCODE_PASSWORD="s3cret",
        HIVE_OPENCODE_HOME="~/oc-home",
    )
    assert settings.opencode_bin == str(Path.home() / "bin" / "opencode")
    assert settings.opencode_url == "http://127.0.0.1:4096"
    assert settings.opencode_password is not None
    assert settings.opencode_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.opencode_home == Path.home() / "oc-home"


def test_none_turns_opencode_off(tmp_path: Path) -> None:
    assert _from(tmp_path, HIVE_OPENCODE_BIN="None").opencode_bin == OPENCODE_OFF


@pytest.mark.parametrize("url", ["localhost:4096", "ftp://host", "http://"])
def test_a_url_that_is_no_http_url_is_refused_naming_the_variable(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match=r"HIVE_OPENCODE_URL: .*http"):
        _from(tmp_path, HIVE_OPENCODE_URL=url)


def test_a_blank_binary_is_refused_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"HIVE_OPENCODE_BIN: .*`none`"):
        _from(tmp_path, HIVE_OPENCODE_BIN="  ")
