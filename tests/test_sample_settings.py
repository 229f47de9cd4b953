"""HIVE_SAMPLE_INTERVAL: seconds between resource samples, 5 by default, above zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.settings import Settings, SettingsError


def test_five_seconds_unless_set(tmp_path: Path) -> None:
    assert Settings.from_env({"HIVE_HOME": str(tmp_path)}).sample_interval_s == 5.0
    env = {"HIVE_HOME": str(tmp_path), "HIVE_SAMPLE_INTERVAL": "0.5"}
    assert Settings.from_env(env).sample_interval_s == 0.5


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_an_unusable_interval_names_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="HIVE_SAMPLE_INTERVAL"):
        Settings.from_env({"HIVE_HOME": str(tmp_path), "HIVE_SAMPLE_INTERVAL": value})
