"""The fault-injection seam's vocabulary (`HIVE_FAULTS`): which step fails or hangs.

A test seam, off unless the variable is set: `run_setup=fail` makes the step raise,
`create_worktree:include_copy=hang` makes the sub-step wait until it is cancelled or
its step times out. Step names are checked against the Step enum (a sub-step's part
after the `:` is free: `run_setup:1`, `ensure_services:start:web`).
"""

from __future__ import annotations

from enum import StrEnum

from hive.core.steps import Step


class FaultAction(StrEnum):
    FAIL = "fail"
    HANG = "hang"


def parse_faults(text: str) -> dict[str, FaultAction]:
    """`step=action,step:part=action` → {step: action}; ValueError names what is wrong."""
    faults: dict[str, FaultAction] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        step, sep, action = (s.strip() for s in item.partition("="))
        if not sep or action not in set(FaultAction):
            choices = "|".join(FaultAction)
            raise ValueError(f"{item!r} is not STEP={choices}")
        check_fault_step(step)
        faults[step] = FaultAction(action)
    return faults


def check_fault_step(step: str) -> None:
    top = step.partition(":")[0]
    if top not in set(Step):
        known = ", ".join(Step)
        raise ValueError(f"unknown step {step!r}; steps are: {known}")
