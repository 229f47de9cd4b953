"""HIVE_COW_CHECKOUT: copy-on-write checkouts on unless set to a false value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.settings import Settings, SettingsError


def test_on_unless_turned_off(tmp_path: Path) -> None:
    assert Settings.from_env({"HIVE_HOME": str(tmp_path)}).cow_checkout is True
    for value in ("0", "false", "off"):
        env = {"HIVE_HOME": str(tmp_path), "HIVE_COW_CHECKOUT": value}
        assert Settings.from_env(env).cow_checkout is False


def test_an_unreadable_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HIVE_COW_CHECKOUT"):
        Settings.from_env({"HIVE_HOME": str(tmp_path), "HIVE_COW_CHECKOUT": "sometimes"})
