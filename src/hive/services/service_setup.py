"""A service's own `setup` commands, run before it starts, into its log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hive.core.errors import StepError
from hive.services.plan import ServicePlan
from hive.services.process_tag import setup_tag
from hive.services.shell import ProcessTracker, run_shell_command


async def run_service_setup(
    cell_id: str,
    cwd: Path,
    plan: ServicePlan,
    *,
    log_path: Path,
    timeout_s: float,
    grace_s: float,
    track: Callable[[str], ProcessTracker] | None,
    still_wanted: Callable[[], None],
) -> None:
    """Run the commands in order; StepError naming the command when one fails.

    `track(command)` keeps each command's process group on record, so a server killed
    mid-setup leaves nothing a restart cannot stop; `still_wanted()` raises when the
    service's cell is being stopped, so no further command starts.
    """
    for index, command in enumerate(plan.setup):
        still_wanted()
        result = await run_shell_command(
            command,
            cwd=cwd,
            env=plan.env,
            log_path=log_path,
            timeout=timeout_s,
            grace=grace_s,
            track=track(command) if track else None,
            tag=setup_tag(cell_id, plan.name),
        )
        if result.exit_code != 0:
            what = "timed out" if result.timed_out else f"failed with exit code {result.exit_code}"
            raise StepError(
                f"service '{plan.name}': setup command {index + 1} {what}: {command}",
                command=command,
                exit_code=result.exit_code,
                output_tail=result.output_tail,
                hint=f"fix services.{plan.name}.setup[{index}] in hive.config.json, then retry",
            )
