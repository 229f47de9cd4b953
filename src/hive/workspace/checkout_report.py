"""What a cell's checkout did, for its timing row: `checkout: cow | git`, why, and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckoutReport:
    """How a cell's tracked files were made; `metadata()` goes on the timing row."""

    checkout: str
    """`cow` or `git`."""
    reason: str
    files_cloned: int = 0
    files_checked_out: int | None = 0
    """Files git wrote (all of them when `checkout` is `git`; None if unknown)."""
    from_git: dict[str, int] = field(default_factory=dict)
    """Why files of a cow checkout came from git: differs, untrusted, racy, changed."""
    byte_copies: int = 0
    reflinked_bytes: int = 0
    """Bytes of the cloned files: shared with the main checkout until either changes."""
    racy: int = 0
    clone_processes: int = 0
    """Processes that cloned: one, or two when a helper took half of a large checkout."""
    plan_ms: float = 0.0
    add_ms: float = 0.0
    clone_ms: float = 0.0
    git_ms: float = 0.0
    index_ms: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckoutReport:
        """From `dataclasses.asdict` of one (a worker process sends it so)."""
        return cls(**data)

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "checkout": self.checkout,
            "checkoutReason": self.reason,
            "filesCloned": self.files_cloned,
            "filesCheckedOut": self.files_checked_out,
        }
        if self.checkout == "cow":
            data.update(
                fromGit=dict(self.from_git),
                byteCopies=self.byte_copies,
                reflinkedBytes=self.reflinked_bytes,
                racyEntries=self.racy,
                cloneProcesses=self.clone_processes,
                planMs=round(self.plan_ms, 3),
                addMs=round(self.add_ms, 3),
                cloneMs=round(self.clone_ms, 3),
                gitMs=round(self.git_ms, 3),
                indexMs=round(self.index_ms, 3),
            )
        return data
