"""`restart: on-failure`: how many restarts a service has left, and how long to wait.

As supervisord's `startsecs`: a crash soon after a start uses up budget; a service that
stayed up for `stable_s` has its budget whole again, so one crash a day never spends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: A service up this long before it crashes starts again with its whole budget.
DEFAULT_STABLE_S = 60.0


@dataclass(frozen=True)
class RestartPolicy:
    stable_s: float = DEFAULT_STABLE_S
    first_delay_s: float = 0.5
    max_delay_s: float = 10.0

    def delay_s(self, failures: int) -> float:
        """Pause before restart number `failures`: doubles each time, up to the cap."""
        return float(min(self.first_delay_s * 2 ** max(failures - 1, 0), self.max_delay_s))


@dataclass
class RestartBudgets:
    """Crashes counted per (cell, service) while this server runs."""

    policy: RestartPolicy
    _failures: dict[tuple[str, str], int] = field(default_factory=dict)

    def crashed(self, key: tuple[str, str], uptime_s: float) -> int:
        """Count one crash after `uptime_s` of running; how many count now (≥ 1)."""
        before = 0 if uptime_s >= self.policy.stable_s else self._failures.get(key, 0)
        self._failures[key] = before + 1
        return before + 1

    def seed(self, key: tuple[str, str], failures: int) -> None:
        """What a restarted server read from the database (an adopted service)."""
        if failures > 0:
            self._failures[key] = failures

    def renew(self, key: tuple[str, str]) -> None:
        """A start or restart by hand: the budget is whole again."""
        self._failures.pop(key, None)
