"""How `hive timings` shows steps, critical chains and per-template summaries (Rich).

Every table fits 80 columns: step names fold onto more lines, numbers and bars never
wrap, and bars are a fixed width so that long names keep their room.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

BAR_WIDTH = 20
_SLOWEST = "bold yellow"


def duration(ms: float) -> str:
    """`850 ms`, `12.3 s`, `2m 05s`: as long as it needs, never more."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes}m {seconds:02d}s"


def bar(ms: float, longest: float, width: int = BAR_WIDTH) -> str:
    """A bar in proportion to `longest`; anything measurable gets at least one cell."""
    if longest <= 0 or ms <= 0:
        return ""
    return "█" * max(1, round(width * ms / longest))


def gantt(offset: float, ms: float, total: float, width: int = BAR_WIDTH) -> str:
    """Where a link ran within its run: spaces until it started, then its bar."""
    if total <= 0:
        return ""
    lead = min(width - 1, int(width * offset / total))
    return " " * lead + "█" * max(1, min(width - lead, round(width * ms / total)))


def parents_first(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each step followed by its sub-steps. Rows are recorded as steps end, so a step's
    parts come before it; a table reads better with the step on top. Parts whose step
    has no row (still running) stay at the end, in their order."""
    pending: dict[str, list[dict[str, Any]]] = {}
    ordered: list[dict[str, Any]] = []
    for step in steps:
        name = step["step"]
        if ":" in name:
            pending.setdefault(name.split(":", 1)[0], []).append(step)
        else:
            ordered.append(step)
            ordered.extend(pending.pop(name, []))
    for parts in pending.values():
        ordered.extend(parts)
    return ordered


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _status(status: str) -> Text:
    return Text(status, style="green" if status == "ok" else "red")


def _name(step: str, depth: int) -> Text:
    # Names as written (never markup), sub-steps indented under their step.
    return Text("  " * depth + step)


def run_heading(run: dict[str, Any]) -> Text:
    line = Text(f"{run['workflow']} run {run['runId']} (attempt {run['attempt']}): ")
    line.append(duration(run["totalMs"]))
    if run["status"] == "ok":
        line.append(", ok", style="green")
    else:
        line.append(f", failed at {run['failedStep']}", style="red")
    return line


def steps_table(steps: list[dict[str, Any]]) -> Table:
    """One run's steps with a bar each; the slowest top-level step is highlighted."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("STEP", overflow="fold", ratio=1)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("TOOK", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, width=BAR_WIDTH)
    longest = max((s["durationMs"] for s in steps), default=0.0)
    top = [s for s in steps if ":" not in s["step"]]
    slowest = max(top, key=lambda s: s["durationMs"], default=None)
    for step in parents_first(steps):
        style = _SLOWEST if step is slowest else ""
        table.add_row(
            _name(step["step"], 1 if ":" in step["step"] else 0),
            _status(step["status"]),
            duration(step["durationMs"]),
            bar(step["durationMs"], longest),
            style=style,
        )
    return table


def chain_heading(chain: dict[str, Any]) -> Text:
    if chain["runId"] is None:
        return Text("no create or retry run recorded yet")
    line = Text(f"critical chain of {chain['workflow']} run {chain['runId']} ")
    line.append(f"(attempt {chain['attempt']}): {duration(chain['totalMs'])}")
    if chain["status"] != "ok":
        line.append(", failed", style="red")
    return line


def chain_table(chain: dict[str, Any]) -> Table:
    """`+AT` is the offset from the run's start; the bar shows where in the run it ran."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("STEP", overflow="fold", ratio=1)
    table.add_column("AT", justify="right", no_wrap=True)
    table.add_column("TOOK", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, width=BAR_WIDTH)
    links = chain["links"]
    top = [link for link in links if link["depth"] == 0]
    slowest = max(top, key=lambda link: link["durationMs"], default=None)
    for link in links:
        table.add_row(
            _name(link["step"], link["depth"]),
            "+" + duration(link["offsetMs"]),
            duration(link["durationMs"]),
            gantt(link["offsetMs"], link["durationMs"], chain["totalMs"]),
            style=_SLOWEST if link is slowest else ("dim" if link["depth"] else ""),
        )
    return table


def summary_heading(template: dict[str, Any]) -> Text:
    line = Text(template["templateId"], style="bold")
    for run in template["runs"]:
        line.append(
            f"  {run['workflow']}: {_plural(run['count'], 'run')}, p50 {duration(run['p50Ms'])}, "
            f"p90 {duration(run['p90Ms'])}, {run['failureRate']:.0%} failed"
        )
    return line


def summary_table(template: dict[str, Any]) -> Table:
    """Per step of one template: rows, nearest-rank p50/p90, max, failure rate; the
    step with the highest p90 is highlighted."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("STEP", overflow="fold", ratio=1)
    for column in ("N", "P50", "P90", "MAX", "FAIL"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, width=BAR_WIDTH // 2)
    steps = template["steps"]
    longest = max((s["p90Ms"] for s in steps), default=0.0)
    top = [s for s in steps if ":" not in s["step"]]
    slowest = max(top, key=lambda s: s["p90Ms"], default=None)
    for step in parents_first(steps):
        table.add_row(
            _name(step["step"], 1 if ":" in step["step"] else 0),
            str(step["count"]),
            duration(step["p50Ms"]),
            duration(step["p90Ms"]),
            duration(step["maxMs"]),
            Text(f"{step['failureRate']:.0%}", style="red" if step["failureRate"] else ""),
            bar(step["p90Ms"], longest, BAR_WIDTH // 2),
            style=_SLOWEST if step is slowest else "",
        )
    return table
