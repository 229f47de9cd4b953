"""HIVE_FAULTS, the test seam: off by default, parsed into Settings, and an unknown
step or action is refused with an error naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive.core.faults import FaultAction
from hive.settings import Settings, SettingsError


def _from(faults: str, tmp_path: Path) -> Settings:
    return Settings.from_env({"HIVE_HOME": str(tmp_path), "HIVE_FAULTS": faults})


def test_no_fault_unless_the_variable_names_one(tmp_path: Path) -> None:
    assert Settings.from_env({"HIVE_HOME": str(tmp_path)}).faults == {}


def test_steps_and_sub_steps_get_their_action(tmp_path: Path) -> None:
    settings = _from(" run_setup=fail, create_worktree:include_copy=hang ,", tmp_path)
    assert settings.faults == {
        "run_setup": FaultAction.FAIL,
        "create_worktree:include_copy": FaultAction.HANG,
    }


@pytest.mark.parametrize(
    ("faults", "says"),
    [
        ("run_setpu=fail", "unknown step 'run_setpu'"),
        ("nope:part=hang", "unknown step 'nope:part'"),
        ("run_setup=explode", "is not STEP=fail|hang"),
        ("run_setup", "is not STEP=fail|hang"),
    ],
)
def test_an_unknown_step_or_action_is_refused_naming_the_variable(
    tmp_path: Path, faults: str, says: str
) -> None:
    with pytest.raises(SettingsError, match="HIVE_FAULTS") as raised:
        _from(faults, tmp_path)
    assert says in str(raised.value)


def test_short_cleanup_step_timeouts_for_tests(tmp_path: Path) -> None:
    env = {"HIVE_HOME": str(tmp_path), "HIVE_CLEANUP_STEP_TIMEOUT": "0.5"}
    assert Settings.from_env(env).cleanup_step_timeout_s == 0.5
    with pytest.raises(SettingsError, match="HIVE_CLEANUP_STEP_TIMEOUT"):
        Settings.from_env({**env, "HIVE_CLEANUP_STEP_TIMEOUT": "0"})
