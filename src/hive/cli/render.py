"""How the CLI shows cells, templates and timings (Rich)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hive.cli.estimate_views import estimate_text

#: How much of a cell id `hive ls` shows; every command taking a cell accepts it.
ID_PREFIX = 12

_STATUS_STYLE = {
    "ready": "green",
    "error": "red",
    "spawning": "yellow",
    "pending": "yellow",
    "archived": "dim",
    "deleting": "dim",
    "starting": "yellow",
    "completed": "green",
    "stopped": "dim",
    "crashed": "red",
    "backoff": "yellow",
    "stopping": "yellow",
    # an agent's
    "working": "cyan",
    "idle": "green",
    "waiting": "magenta bold",
}


def status_text(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def agent_text(agent: dict[str, Any] | None) -> str:
    """`working`, `waiting`, `idle`, ... of the cell's agent; `-` without one."""
    if not agent or agent.get("type") == "none" or not agent.get("status"):
        return "[dim]-[/]"
    status = str(agent["status"])
    if status == "waiting":
        return f"{status_text(status)} [magenta](for you)[/]"
    if status == "stopped" and agent.get("exitCode") is not None:
        return f"{status_text(status)} ({agent['exitCode']})"
    return status_text(status)


def relative_age(stamp: str, now: datetime) -> str:
    """`stamp` (ISO 8601) as "just now", "3 min ago", "2 h ago" or "5 d ago"."""
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return "just now"  # also a clock a little ahead of ours
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 24 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} d ago"


def cells_table(cells: list[dict[str, Any]], now: datetime | None = None) -> Table:
    """The ID (the prefix other commands take), status, agent and age never wrap; on a
    narrow terminal names, templates and branches fold onto more lines instead."""
    now = now or datetime.now(UTC)
    table = Table(box=None, header_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column("NAME", overflow="fold")
    table.add_column("STATUS", no_wrap=True)
    # Only when some cell has an agent: a column of dashes would cost 80 columns' room.
    with_agents = any((c.get("agent") or {}).get("type") not in (None, "none") for c in cells)
    if with_agents:
        table.add_column("AGENT", no_wrap=True)
    table.add_column("TEMPLATE", overflow="fold")
    table.add_column("BRANCH", overflow="fold")
    table.add_column("CREATED", no_wrap=True)
    for cell in cells:
        agent = [agent_text(cell.get("agent"))] if with_agents else []
        table.add_row(
            cell["id"][:ID_PREFIX],
            Text(cell["name"]),
            status_text(cell["status"]),
            *agent,
            Text(cell["templateId"]),
            Text(cell["branchName"]),
            relative_age(cell["createdAt"], now),
        )
    return table


def templates_table(templates: list[dict[str, Any]], default_id: str | None) -> Table:
    table = Table(box=None, header_style="bold")
    columns = ("ID", "LABEL", "VALID", "SETUP", "REQUIRES", "OPTIONS", "DESCRIPTION", "EST")
    for column in columns:
        table.add_column(column, overflow="fold")
    for template in templates:
        marker = " (default)" if template["id"] == default_id else ""
        valid = "[green]yes[/]" if template["valid"] else "[red]no[/]"
        table.add_row(
            Text(template["id"] + marker),
            Text(str(template.get("label", ""))),
            valid,
            _setup_count(template.get("setup")),
            Text(requirements_text(template.get("requires"))),
            Text(options_text(template.get("options"))),
            Text(str(template.get("description", "") or "")),
            Text(estimate_text(template.get("estimate"))),
        )
    return table


def requirements_text(requires: Any) -> str:
    """`cmd: node, pg_ctl` / `file: package.json` / `env: OPENAI_API_KEY`, a line each."""
    if not isinstance(requires, dict):
        return ""
    lines = []
    for key, prefix in (("commands", "cmd"), ("files", "file"), ("env", "env")):
        names = requires.get(key)
        if isinstance(names, list) and names:
            lines.append(f"{prefix}: {', '.join(str(n) for n in names)}")
    return "\n".join(lines)


def options_text(options: Any) -> str:
    """`database=sqlite (postgres|sqlite)`: each option's default, then its choices."""
    if not isinstance(options, dict):
        return ""
    lines = []
    for name, option in options.items():
        if not isinstance(option, dict):
            continue  # an invalid template, shown as written
        choices = option.get("choices")
        listed = "|".join(str(c) for c in choices) if isinstance(choices, dict) else "?"
        lines.append(f"{name}={option.get('default', '?')} ({listed})")
    return "\n".join(lines)


def print_checks(console: Console, validation: dict[str, Any]) -> None:
    """A template's checks (`hive templates --check`): ✓ or ✗, name and message."""
    verdict = "[green]ok[/]" if validation["ok"] else "[red]fails checks[/]"
    console.print(f"[bold]{escape(validation['templateId'])}[/]: {verdict}")
    for check in validation["checks"]:
        mark = "[green]✓[/]" if check["ok"] else "[red]✗[/]"
        console.print(f"  {mark} {escape(check['name'])}: {escape(check['message'])}")


def _setup_count(setup: Any) -> str:
    # An invalid template is shown as written: its `setup` may be anything.
    if setup is None:
        return "0"
    return str(len(setup)) if isinstance(setup, list) else "-"


def problem_line(kind: str, where: str, problem: dict[str, Any]) -> str:
    """`error web: templates.web.setup: …`; config text is never taken as markup."""
    style = "red" if kind == "error" else "yellow"
    return (
        f"[{style}]{kind}[/] [bold]{escape(where)}[/]: "
        f"{escape(problem['path'])}: {escape(problem['message'])}"
    )


def print_template_problems(console: Console, templates: list[dict[str, Any]]) -> None:
    """Errors, then warnings (unknown keys, which do not make a template invalid)."""
    for kind in ("error", "warning"):
        for template in templates:
            for problem in template.get(f"{kind}s", []):
                console.print(problem_line(kind, template["id"], problem))


def print_cell(console: Console, cell: dict[str, Any]) -> None:
    base = cell["baseRef"] or "HEAD"
    rows = [
        ("id", cell["id"]),
        ("name", cell["name"]),
        ("status", status_text(cell["status"])),
        ("template", cell["templateId"]),
        ("worktree", cell["workspacePath"]),
        ("branch", cell["branchName"]),
        ("base commit", f"{(cell['baseCommit'] or 'not resolved yet')[:12]} ({base})"),
        ("created", cell["createdAt"]),
        ("updated", cell["updatedAt"]),
    ]
    if cell.get("options"):
        chosen = ", ".join(f"{name}={value}" for name, value in cell["options"].items())
        rows.insert(4, ("options", chosen))  # after the template
    if cell.get("description"):
        rows.insert(2, ("brief", cell["description"]))
    for key, value in rows:
        shown = value if key == "status" else escape(str(value))  # text as written
        console.print(f"[bold]{key:>12}[/]  {shown}")
    agent = cell.get("agent")
    if agent:
        print_agent(console, agent)
    if cell.get("lastSetupError"):
        print_setup_error(console, cell["lastSetupError"])


def print_agent(console: Console, agent: dict[str, Any]) -> None:
    """The agent lines of `hive show`: what it is, what it does, how to attach."""
    kind = agent["type"]
    if kind == "none":
        console.print(f"[bold]{'agent':>12}[/]  none")
    else:
        model = agent.get("model")
        what = f"{kind} {agent_text(agent)}"
        if model:
            what += f"  {escape(model['providerId'])}/{escape(model['modelId'])}"
        if agent.get("mode"):
            what += f" ({escape(agent['mode'])})"
        console.print(f"[bold]{'agent':>12}[/]  {what}")
        if agent.get("attach"):
            console.print(f"[bold]{'attach':>12}[/]  {escape(agent['attach'])}")
    for key in ("error", "warning"):
        if agent.get(key):
            style = "red" if key == "error" else "yellow"
            console.print(f"[bold]{'agent ' + key:>12}[/]  [{style}]{escape(agent[key])}[/]")


def print_setup_error(console: Console, error: dict[str, Any]) -> None:
    step, message = escape(str(error.get("step"))), escape(str(error.get("message")))
    kind = f" [dim]({escape(str(error['kind']))})[/]" if error.get("kind") else ""
    console.print(f"[red bold]failed at {step}[/]{kind}: {message}")
    if error.get("command"):
        command = escape(str(error["command"]))
        console.print(f"  command: {command} (exit code {error.get('exitCode')})")
    if error.get("outputTail"):
        console.print("  output (tail):", style="dim")
        for line in str(error["outputTail"]).splitlines():
            console.print(f"    {line}", style="dim", markup=False, highlight=False)
    if error.get("rollback"):
        # One line: what was undone matters less than what to do, which comes last.
        undone = ", ".join(f"{r['step']} {r['status']}" for r in error["rollback"])
        console.print(f"  undone: {escape(undone)}")
    if error.get("hint"):
        console.print(f"  [bold]what to do:[/] {escape(str(error['hint']))}")


def services_table(
    services: list[dict[str, Any]], figures: Mapping[str, tuple[str, str]] | None = None
) -> Table:
    """`figures`: each service's CPU and memory as text, by name (`-` when missing)."""
    table = Table(box=None, header_style="bold")
    # The port is in the URL, and exit codes and restarts get a column only when a
    # service has one: the room goes to the check that decides readiness.
    exits = any(service["exitCode"] is not None for service in services)
    restarts = any(service["restarts"] for service in services)
    for column in ("SERVICE", "STATUS", "URL", "PID"):
        table.add_column(column, no_wrap=True)
    for column in ("CPU", "MEM"):
        table.add_column(column, no_wrap=True, justify="right")
    for column, shown in (("EXIT", exits), ("RESTARTS", restarts)):
        if shown:
            table.add_column(column, no_wrap=True)
    table.add_column("READY WHEN", overflow="fold", min_width=14)
    for service in services:
        cpu, mem = (figures or {}).get(service["name"], ("-", "-"))
        exit_code = "-" if service["exitCode"] is None else str(service["exitCode"])
        table.add_row(
            service["name"],
            status_text(service["status"]),
            service["url"] or "-",
            str(service["pid"] or "-"),
            cpu,
            mem,
            *([exit_code] if exits else []),
            *([str(service["restarts"])] if restarts else []),
            escape(service.get("readiness") or "-"),
        )
    return table


def findings_table(findings: list[dict[str, Any]]) -> Table:
    """`hive gc`: what was found, why, and what was (or would be) done."""
    table = Table(box=None, header_style="bold")
    table.add_column("KIND", no_wrap=True)
    table.add_column("WHAT", overflow="fold")
    table.add_column("WHY", overflow="fold")
    table.add_column("ACTION", overflow="fold")
    for finding in findings:
        action = (
            escape(finding["outcome"])
            if finding.get("outcome")
            else (
                f"[yellow]kept unless --force: {escape(finding['keptUnlessForced'])}[/]"
                if finding.get("keptUnlessForced")
                else "remove"
            )
        )
        table.add_row(finding["kind"], Text(finding["target"]), Text(finding["reason"]), action)
    return table
