"""Bodies of `GET /api/cells/timings/choices`: what the global timings can be filtered by."""

from __future__ import annotations

from hive.api.bodies import _Body
from hive.store.timing_choices import TimingChoices


class ChosenWorkspaceOut(_Body):
    id: str
    label: str | None
    """None for a workspace no longer registered."""


class ChosenCellOut(_Body):
    id: str
    name: str
    workspace_id: str
    template_id: str
    deleted: bool
    """Gone (or being deleted): only its timing rows are left."""
    last_at: str
    """When its newest timing row was recorded."""


class TimingChoicesOut(_Body):
    """Every value that occurs in the timing rows, for `workspaceId`, `templateId`,
    `cellId` and `step` of `/api/cells/timings/global`."""

    workspaces: list[ChosenWorkspaceOut]
    templates: list[str]
    cells: list[ChosenCellOut]
    """Newest activity first, deleted cells included."""
    steps: list[str]

    @classmethod
    def of(cls, choices: TimingChoices) -> TimingChoicesOut:
        return cls.model_validate(choices, from_attributes=True)
