"""WorkflowSpec: the order of its steps and which of them every attempt runs again."""

from __future__ import annotations

from typing import Any

from hive.core.steps import Step
from hive.provisioning.engine.context import RunContext
from hive.provisioning.engine.workflow import StepSpec, WorkflowSpec, never_done


async def body(ctx: RunContext, metadata: dict[str, Any]) -> None:
    del ctx, metadata


async def done_when_present(ctx: RunContext) -> bool:
    del ctx
    return True


def test_names_and_steps_run_on_every_attempt() -> None:
    workflow = WorkflowSpec(
        steps=(
            StepSpec(Step.CREATE_WORKTREE, body, done=done_when_present),
            StepSpec(Step.ALLOCATE_PORTS, body, done=never_done),
            StepSpec(Step.RUN_SETUP, body),
            StepSpec(Step.ENSURE_SERVICES, body, done=never_done),
        )
    )
    assert workflow.names() == ("create_worktree", "allocate_ports", "run_setup", "ensure_services")
    assert workflow.every_attempt() == {"allocate_ports", "ensure_services"}
