"""Cell records for tests that fill a database by hand (no create flow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hive.core.status import CellStatus
from hive.store.records import CellRecord

_CREATED = "2024-01-01T00:00:00.000Z"


def cell_record(
    workspace_id: str, cells_root: Path, cell_id: str = "c", **fields: Any
) -> CellRecord:
    """A `pending` cell of template `basic` with its worktree under `cells_root`; any
    field can be given."""
    values: dict[str, Any] = {
        "id": cell_id,
        "workspace_id": workspace_id,
        "name": "cell",
        "description": None,
        "template_id": "basic",
        "status": CellStatus.PENDING,
        "worktree_path": cells_root / cell_id,
        "branch_name": "hive/cell",
        "base_ref": None,
        "base_commit": "0" * 40,
        "last_setup_error": None,
        "completed_steps": (),
        "run_id": "run1",
        "attempt": 1,
        "created_at": _CREATED,
        "updated_at": _CREATED,
    }
    return CellRecord(**{**values, **fields})
