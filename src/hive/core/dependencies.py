"""Service dependency graphs: validation and start order. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Set


class DependencyError(ValueError):
    """An unknown service name or a cycle in `dependsOn`."""


def start_levels(depends_on: Mapping[str, Set[str]]) -> list[list[str]]:
    """Services grouped by start wave: each wave depends only on earlier waves.

    Raises DependencyError naming the unknown service or the services of a cycle.
    """
    for name, needs in depends_on.items():
        for needed in sorted(needs):
            if needed == name:
                raise DependencyError(f"service '{name}' depends on itself")
            if needed not in depends_on:
                known = ", ".join(sorted(depends_on)) or "none"
                raise DependencyError(
                    f"service '{name}' depends on '{needed}', which is not a service of this "
                    f"template (services: {known})"
                )
    remaining = {name: set(needs) for name, needs in depends_on.items()}
    levels: list[list[str]] = []
    while remaining:
        ready = sorted(name for name, needs in remaining.items() if not needs)
        if not ready:
            cycle = " -> ".join(_a_cycle(remaining))
            raise DependencyError(f"services depend on each other in a cycle: {cycle}")
        levels.append(ready)
        for name in ready:
            del remaining[name]
        for needs in remaining.values():
            needs.difference_update(ready)
    return levels


def _a_cycle(graph: Mapping[str, Set[str]]) -> list[str]:
    """One cycle in a graph where every node has an unresolved dependency."""
    start = min(graph)
    path, seen = [start], {start: 0}
    while True:
        following = min(graph[path[-1]])
        if following in seen:
            return [*path[seen[following] :], following]
        seen[following] = len(path)
        path.append(following)
