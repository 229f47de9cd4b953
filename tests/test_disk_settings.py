"""The disk meter's settings, and the free-space test seam no variable can set."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.core.disk_space import DiskSpace
from hive.settings import Settings, SettingsError


def test_hourly_measurements_within_ten_seconds_by_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"HIVE_HOME": str(tmp_path)})
    assert (settings.disk_interval_s, settings.disk_budget_s) == (3600.0, 10.0)
    assert settings.free_space is None


def test_the_variables_set_them_and_bad_values_name_the_variable(tmp_path: Path) -> None:
    env = {"HIVE_HOME": str(tmp_path), "HIVE_DISK_INTERVAL": "60", "HIVE_DISK_BUDGET": "2.5"}
    settings = Settings.from_env(env)
    assert (settings.disk_interval_s, settings.disk_budget_s) == (60.0, 2.5)
    for variable in ("HIVE_DISK_INTERVAL", "HIVE_DISK_BUDGET"):
        with pytest.raises(SettingsError, match=variable):
            Settings.from_env({**env, variable: "0"})


def test_the_free_space_seam_is_code_only(tmp_path: Path) -> None:
    assert (
        Settings.from_env({"HIVE_HOME": str(tmp_path), "HIVE_FREE_SPACE": "1"}).free_space is None
    )

    def reading(_path: Path) -> DiskSpace:
        return DiskSpace(1, 2)

    settings = Settings(hive_home=tmp_path, free_space=reading)
    assert settings.free_space is reading
    assert "free_space" not in settings.model_dump()
