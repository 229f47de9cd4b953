"""The cell page's failure view, rendered alone: Retry says why it cannot be used yet."""

from __future__ import annotations

from typing import Any

from hive.web.rendering import PageRenderer
from tests.web.test_cell_checklist import cell

FAILURE: dict[str, Any] = {
    "kind": "setup_command",
    "step": "run_setup",
    "message": "setup command 1 of 1 exited with 3",
    "run_id": "run1",
    "attempt": 1,
    "at": "2026-12-02T10:00:00Z",
    "occurred_at": "2026-12-02T10:00:00Z",
    "hint": "fix it, then retry",
    "command": "make setup",
    "exit_code": 3,
    "output_tail": "make: *** no rule",
    "rollback": [{"step": "release_ports", "status": "ok"}],
}


def render(run_id: str | None) -> str:
    failed = cell("error", run_id=run_id, last_setup_error=FAILURE)
    template = PageRenderer().env.get_template("cell/_failure.html")
    return template.render(cell=failed, rows=[], provisioning=False)


def test_retry_is_disabled_with_its_reason_while_the_failed_run_is_still_active() -> None:
    html = render("run1")
    assert '<button type="button" class="primary" disabled aria-describedby="retry-reason">' in html
    assert "A run is still active" in html
    assert "/retry" not in html


def test_retry_calls_the_api_once_the_run_is_over() -> None:
    html = render(None)
    assert 'data-api="POST /api/cells/c1/retry"' in html
    assert "disabled" not in html
