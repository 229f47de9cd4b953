"""The exception tree every layer raises; the API maps it to HTTP in one place.

HiveError                 base: message + hint (what to do next)
├── NotFoundError         an id or name that does not exist          → 404
├── InvalidInputError     a request or argument that cannot be used  → 422
├── ConflictError         valid input, wrong moment (status, busy)   → 409
│   └── TransitionError   a status change the transition table forbids
├── ConfigError           hive.config.json cannot be read or used    → 422 (file, line,
│                         column, or the field `path` that is wrong)
├── StepError             a step or a service action failed          → 502 with details
│                         (command, exit code, output tail); in a run, the cell's
│                         lastSetupError
└── GitError              (workspace/git.py) git failed at its own   → 502 (command,
                          work; a caller's bad path or ref is an       exit code, stderr)
                          InvalidInputError instead
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hive.core.failure_kind import FailureKind


class HiveError(Exception):
    """Base of every error Hive raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        return body


class NotFoundError(HiveError):
    """Something named by the caller does not exist."""


class InvalidInputError(HiveError):
    """The caller's input cannot be used as given."""


class ConflictError(HiveError):
    """The input is valid, but the target's current state forbids the action."""


class TransitionError(ConflictError):
    """A status change that the transition table does not allow."""


class ConfigError(HiveError):
    """A workspace's hive.config.json is missing, malformed or inconsistent."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        """The field at fault, as a JSON path: `templates.web.services.api.port`."""

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        for key in ("file", "line", "column", "path"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body


class StepError(HiveError):
    """A provisioning step failed; `details` is what the cell's lastSetupError shows."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        command: str | None = None,
        exit_code: int | None = None,
        output_tail: str | None = None,
        kind: FailureKind | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.command = command
        self.exit_code = exit_code
        self.output_tail = output_tail
        self.kind = kind
        """Said only where the step cannot tell it (a cancel); else derived from the step."""

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.command is not None:
            body.update(command=self.command, exitCode=self.exit_code)
        if self.output_tail:
            body["outputTail"] = self.output_tail
        return body
