"""How Hive decides a service is ready: the check chosen for it, in words a user reads.

`readiness_of` picks the check from the service's fields (pure); `probes.wait_ready`
carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hive.config.schema import ProcessService

ReadinessKind = Literal["tcp", "http", "command", "log", "started", "exit"]


@dataclass(frozen=True)
class Readiness:
    kind: ReadinessKind
    """tcp/http/command/log: a probe; `started`: alive after `grace_s`; `exit`: a
    oneshot that exited 0."""
    target: str | None = None
    """The http path, the command (with `$PORT` resolved) or the log pattern."""
    interval_s: float = 0.1
    grace_s: float = 0.0

    def describe(self, port: int | None) -> str:
        """`tcp :20001`, `http GET /health`, `log /ready in/`, `started, alive after 1s`."""
        match self.kind:
            case "tcp":
                return f"tcp :{port}"
            case "http":
                return f"http GET {self.target}"
            case "command":
                return f"command `{self.target}` exits 0"
            case "log":
                return f"log line matching /{self.target}/"
            case "started":
                return f"started, still alive after {self.grace_s:g}s"
            case "exit":
                return "exits 0 (oneshot)"


def readiness_of(
    service: ProcessService, *, port: int | None, command: str | None, start_grace_s: float
) -> Readiness:
    """The check for `service`; `command` is its ready command with `$PORT` resolved.

    Without a `ready` probe: a oneshot must exit 0, a service with a port must accept
    TCP on it, anything else only has to start and stay up for `start_grace_s`.
    """
    if service.oneshot:
        return Readiness("exit")
    probe = service.ready
    if probe is None:
        return Readiness("tcp") if port is not None else Readiness("started", grace_s=start_grace_s)
    interval = probe.interval_ms / 1000 if probe.interval_ms > 0 else 0.1
    if probe.http is not None:
        return Readiness("http", probe.http, interval)
    if probe.command is not None:
        return Readiness("command", command or probe.command, interval)
    if probe.log is not None:
        return Readiness("log", probe.log, interval)
    return Readiness("tcp", None, interval)
