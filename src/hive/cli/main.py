"""`hive`: serve a workspace, and create, inspect and remove cells through the HTTP API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from hive.cli import agent_commands, open_command, resource_commands, snapshot_commands
from hive.cli.agent_commands import split_model
from hive.cli.cell_resolution import cell_id_of
from hive.cli.client import ClientError, HiveClient
from hive.cli.deletion_views import print_deletion, print_failed
from hive.cli.render import (
    cells_table,
    findings_table,
    print_cell,
    print_checks,
    print_template_problems,
    problem_line,
    services_table,
    status_text,
    templates_table,
)
from hive.cli.resource_views import service_figures
from hive.cli.session import client_session as _client
from hive.cli.timing_views import (
    chain_heading,
    chain_table,
    run_heading,
    steps_table,
    summary_heading,
    summary_table,
)
from hive.cli.watch import CellWatch, Interrupted, StoppedWatchingError
from hive.cli.workspace_resolution import resolve_workspace
from hive.core.time_bounds import parse_bound
from hive.settings import SettingsError

app = typer.Typer(
    help="Hive: an isolated cell (worktree, env, setup) for every coding agent.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
workspace_app = typer.Typer(help="Register and list workspaces.", no_args_is_help=True)
config_app = typer.Typer(help="Work with hive.config.json.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(config_app, name="config")

UrlOption = Annotated[
    str | None, typer.Option("--url", envvar="HIVE_URL", help="Address of the Hive server.")
]
CellArgument = Annotated[str, typer.Argument(help="Cell id (or a unique prefix).")]
NoWaitOption = Annotated[bool, typer.Option("--no-wait", help="Return without following.")]
JsonEventsOption = Annotated[
    bool, typer.Option("--json", help="Print the stream's events as JSON lines, for scripts.")
]
DetachOption = Annotated[
    bool, typer.Option("--detach", help="On Ctrl-C, stop watching and leave it running.")
]
WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", help="Workspace id, label or path (default: the current repository)."
    ),
]


def _console() -> Console:
    return Console(highlight=False)


def _cell_id(client: HiveClient, given: str) -> str:
    return cell_id_of(client, given)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 4483).")] = None,
) -> None:
    """Run the Hive server; the repository you run it in is registered as a workspace."""
    from hive.cli.serving import serve_forever

    serve_forever(host=host, port=port, cwd=Path.cwd())


@app.command()
def demo(
    check: Annotated[bool, typer.Option("--check", help="Exit 0 after cleaning up.")] = False,
) -> None:
    """Make a sample repository, serve it, create a cell and follow it to ready."""
    from hive.cli.demo import run_demo

    raise typer.Exit(run_demo(check=check, console=_console()))


@app.command()
def templates(
    url: UrlOption = None,
    workspace: WorkspaceOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Also check each valid template here (exit 1 if any check fails)."
        ),
    ] = False,
) -> None:
    """List the workspace's templates (requirements, options), with errors for invalid
    ones and warnings; --check runs each one's checks."""
    console = _console()
    with _client(url) as client:
        workspace_id = resolve_workspace(client, workspace)
        body = client.get("/api/templates", workspaceId=workspace_id)
        validations = [
            client.request(
                "POST", f"/api/templates/{t['id']}/validate", params={"workspaceId": workspace_id}
            )
            for t in body["templates"]
            if check and t["valid"]
        ]
    console.print(templates_table(body["templates"], body["defaults"].get("templateId")))
    print_template_problems(console, body["templates"])
    for kind in ("error", "warning"):
        for problem in body.get(f"{kind}s", []):
            console.print(problem_line(kind, "config", problem))
    for validation in validations:
        console.print()
        print_checks(console, validation)
    if not all(validation["ok"] for validation in validations):
        raise typer.Exit(1)


@app.command()
def new(
    template: Annotated[str, typer.Argument(help="Template id (see `hive templates`).")],
    name: Annotated[str, typer.Argument(help="A name for the cell; free text.")],
    brief: Annotated[
        str | None, typer.Option("--brief", "-b", help="What the agent should do.")
    ] = None,
    base_ref: Annotated[
        str | None, typer.Option("--base", help="Branch, tag or commit to start from.")
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Return once the cell exists.")
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="PROVIDER/MODEL (or MODEL) for the agent; see `hive models`."
        ),
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="Start the OpenCode agent in `plan` or `build`.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="NAME=VALUE: a template option's value (repeatable)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Create it even if the template fails its checks.")
    ] = False,
    as_json: JsonEventsOption = False,
    detach: DetachOption = False,
    url: UrlOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Create a cell from a template and show its provisioning live until it is ready
    (exit 0) or failed (exit 1). Ctrl-C asks whether to cancel it."""
    console = _console()
    provider_id, model_id = split_model(model)
    options = _options(option or [])
    with _client(url) as client:
        body: dict[str, Any] = {
            "workspaceId": resolve_workspace(client, workspace),
            "templateId": template,
            "name": name,
            "description": brief,
            "baseRef": base_ref,
            "providerId": provider_id,
            "modelId": model_id,
            "startMode": mode,
            "options": options or None,
            "force": force or None,
        }
        cell = client.post("/api/cells", {k: v for k, v in body.items() if v is not None})
        if not as_json:
            console.print(f"cell [bold]{cell['id']}[/] ({cell['branchName']}) {cell['status']}")
        for warning in cell.get("warnings", []):  # on stderr: `--json` keeps stdout for events
            Console(stderr=True, highlight=False).print(
                f"warning: {warning}", style="yellow", markup=False
            )
        if no_wait:
            return
        _follow_run(client, console, cell, as_json=as_json, ask=not detach)


def _options(given: list[str]) -> dict[str, str]:
    """`--option database=postgres` (repeatable) as `{"database": "postgres"}`."""
    options: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            Console(stderr=True, highlight=False).print(
                f"[red bold]error:[/] --option {escape(item)}: write NAME=VALUE, "
                "e.g. --option database=postgres"
            )
            raise typer.Exit(2)
        options[name.strip()] = value.strip()
    return options


def _follow_run(
    client: HiveClient, console: Console, cell: dict[str, Any], *, as_json: bool, ask: bool
) -> NoReturn:
    """Show the run the request started until the cell settles; exit 0 when ready."""
    on_interrupt = (lambda: _ask_cancel(cell["id"])) if ask else None
    final = _watch(client, console, cell["id"], cell.get("runId"), as_json, on_interrupt)
    raise typer.Exit(0 if final["status"] == "ready" else 1)


def _ask_cancel(cell_id: str) -> Interrupted:
    """Ctrl-C while a cell is made: cancel it, or leave it running (the default)."""
    console = Console(stderr=True, highlight=False)
    console.print()
    try:
        answer = console.input(f"Cancel the provisioning of cell {cell_id[:12]}? [y/N] ")
    except (EOFError, KeyboardInterrupt):
        answer = ""
    return "cancel" if answer.strip().lower() in ("y", "yes") else "detach"


def _watch(
    client: HiveClient,
    console: Console,
    cell_id: str,
    run_id: str | None,
    as_json: bool,
    on_interrupt: Callable[[], Interrupted] | None,
) -> dict[str, Any]:
    watch = CellWatch(
        client, console, cell_id, run_id=run_id, as_json=as_json, on_interrupt=on_interrupt
    )
    try:
        return watch.run()
    except StoppedWatchingError:
        Console(stderr=True, highlight=False).print(
            f"\nleft running; follow it with `hive watch {cell_id[:12]}`"
        )
        raise typer.Exit(0) from None


@app.command()
def watch(cell: CellArgument, as_json: JsonEventsOption = False, url: UrlOption = None) -> None:
    """Show a cell's provisioning live (its latest run) until it is ready (exit 0) or
    failed (exit 1); Ctrl-C stops watching, the cell goes on."""
    console = _console()
    with _client(url) as client:
        final = _watch(client, console, _cell_id(client, cell), None, as_json, None)
    raise typer.Exit(0 if final["status"] == "ready" else 1)


@app.command("ls")
def list_cells(
    url: UrlOption = None,
    workspace: WorkspaceOption = None,
    every: Annotated[bool, typer.Option("--all", "-a", help="Cells of every workspace.")] = False,
) -> None:
    """List cells."""
    with _client(url) as client:
        workspace_id = None if every else resolve_workspace(client, workspace)
        cells = client.get("/api/cells", workspaceId=workspace_id)["cells"]
    _console().print(cells_table(cells) if cells else "no cells")


@app.command()
def show(
    cell: CellArgument,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
) -> None:
    """Show one cell, including its last setup error."""
    with _client(url) as client:
        body = client.get(f"/api/cells/{_cell_id(client, cell)}")
    if as_json:
        print(json.dumps(body, indent=2))
    else:
        print_cell(_console(), body)


@app.command()
def prompt(cell: CellArgument, url: UrlOption = None) -> None:
    """Print the cell's assembled first prompt (.hive/PROMPT.md)."""
    with _client(url) as client:
        body = client.get(f"/api/cells/{_cell_id(client, cell)}/prompt")
    sys.stdout.write(body["prompt"])


@app.command()
def rm(
    cells: Annotated[list[str], typer.Argument(help="Cell ids (or unique prefixes).")],
    url: UrlOption = None,
) -> None:
    """Delete cells: their worktrees (uncommitted work kept as a snapshot first), and
    their branches unless they hold new commits. Exit 1 if any was not deleted."""
    console = _console()
    with _client(url) as client:
        if len(cells) == 1:
            outcome = client.delete(f"/api/cells/{_cell_id(client, cells[0])}")
            results = [{"ok": True, **outcome}]
        else:
            ids = [_cell_id_or_given(client, cell) for cell in cells]
            results = client.delete("/api/cells", {"ids": ids})["results"]
    for result in results:
        (print_deletion if result["ok"] else print_failed)(console, result)
    raise typer.Exit(0 if all(result["ok"] for result in results) else 1)


def _cell_id_or_given(client: HiveClient, given: str) -> str:
    """The id a prefix names; an unknown one is the server's to report with the rest."""
    try:
        return _cell_id(client, given)
    except ClientError:
        return given


@app.command()
def retry(
    cell: CellArgument,
    url: UrlOption = None,
    no_wait: NoWaitOption = False,
    as_json: JsonEventsOption = False,
    detach: DetachOption = False,
) -> None:
    """Resume a failed cell from the step that failed, or run a ready cell's setup and
    services again (to apply a changed template), shown live like `hive new`."""
    console = _console()
    with _client(url) as client:
        body = client.post(f"/api/cells/{_cell_id(client, cell)}/setup/retry")
        if not as_json:
            console.print(f"retrying cell [bold]{body['id']}[/] (attempt {body['attempt']})")
        if no_wait:
            return
        _follow_run(client, console, body, as_json=as_json, ask=not detach)


@app.command()
def cancel(
    cell: CellArgument,
    url: UrlOption = None,
    discard: Annotated[
        bool,
        typer.Option(
            "--discard", help="Also remove the worktree (and the branch if it has no new commits)."
        ),
    ] = False,
) -> None:
    """Stop a cell's running provisioning; it ends in error, its worktree kept."""
    query = "?discard=1" if discard else ""
    with _client(url) as client:
        body = client.post(f"/api/cells/{_cell_id(client, cell)}/cancel{query}")
    _console().print(f"cancelled cell {body['id']}: {status_text(body['status'])}")
    if discard and body.get("lastSetupError"):
        _console().print(body["lastSetupError"]["message"], markup=False)


@app.command()
def archive(cell: CellArgument, url: UrlOption = None) -> None:
    """Put a ready cell away: services stopped, ports given back; worktree, branch,
    logs and timings kept (`hive restore ID` brings it back)."""
    with _client(url) as client:
        body = client.post(f"/api/cells/{_cell_id(client, cell)}/archive")
    _console().print(f"archived cell {body['id']}; its worktree stays at {body['worktreePath']}")


@app.command()
def restore(
    cell: CellArgument,
    url: UrlOption = None,
    no_wait: NoWaitOption = False,
    as_json: JsonEventsOption = False,
) -> None:
    """Bring an archived cell back (its ports as before when free, its services started),
    shown live like `hive new`."""
    console = _console()
    with _client(url) as client:
        body = client.post(f"/api/cells/{_cell_id(client, cell)}/restore")
        if not as_json:
            console.print(f"restoring cell [bold]{body['id']}[/]")
        if no_wait:
            return
        _follow_run(client, console, body, as_json=as_json, ask=False)


@app.command()
def cleanup(
    archived_before: Annotated[
        str,
        typer.Option(
            "--archived-before", help="Archived cells not touched since: 14d, 2h or ISO 8601."
        ),
    ],
    apply: Annotated[bool, typer.Option("--apply", help="Delete them (default: list).")] = False,
    url: UrlOption = None,
    workspace: WorkspaceOption = None,
    every: Annotated[bool, typer.Option("--all", "-a", help="Cells of every workspace.")] = False,
) -> None:
    """Delete archived cells archived before a moment; lists them unless --apply."""
    console = _console()
    try:
        cutoff = parse_bound(archived_before, datetime.now(UTC))
    except ValueError as exc:
        console.print(f"[red bold]error:[/] --archived-before: {exc}")
        raise typer.Exit(2) from None
    with _client(url) as client:
        workspace_id = None if every else resolve_workspace(client, workspace)
        cells = client.get("/api/cells", workspaceId=workspace_id)["cells"]
        old = [c for c in cells if c["status"] == "archived" and c["updatedAt"] < cutoff]
        if not old:
            console.print(f"no cell archived before {cutoff}")
            return
        console.print(cells_table(old))
        if not apply:
            console.print(f"{len(old)} archived cell(s); run again with --apply to delete them")
            return
        for found in old:
            outcome = client.delete(f"/api/cells/{found['id']}")
            console.print(f"deleted cell {outcome['id']}")
            for warning in outcome.get("warnings", []):
                console.print(f"  [yellow]warning:[/] {warning}")


@app.command()
def gc(
    apply: Annotated[bool, typer.Option("--apply", help="Remove what is found.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --apply: also what could lose work.")
    ] = False,
    snapshots_older_than: Annotated[
        str | None,
        typer.Option(
            "--snapshots-older-than",
            help="Also the snapshots deletes kept, taken before this (30d, 12h or ISO 8601).",
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Find what Hive made that no cell accounts for (worktrees, worktree entries,
    branches, port leases, processes; old snapshots with --snapshots-older-than);
    lists it, removes it with --apply."""
    console = _console()
    with _client(url) as client:
        if apply:
            body = client.request("POST", "/api/gc", json={"force": force}, timeout=900)
        else:
            body = client.get("/api/gc")
        _print_findings(console, body["findings"], apply=apply)
        if snapshots_older_than is not None:
            snapshot_commands.prune_snapshots(client, snapshots_older_than, apply=apply)


def _print_findings(console: Console, findings: list[dict[str, Any]], *, apply: bool) -> None:
    if not findings:
        console.print("no leftovers")
        return
    console.print(findings_table(findings))
    if not apply:
        console.print(f"{len(findings)} leftover(s); run again with --apply to remove them")
    elif any(f["outcome"].startswith("kept") for f in findings):
        console.print("some were kept: they could hold work; --force removes them too")


@app.command()
def services(cell: CellArgument, url: UrlOption = None) -> None:
    """Show a cell's services: status, URL, pid, CPU, memory, exit code."""
    with _client(url) as client:
        cell_id = _cell_id(client, cell)
        body = client.get(f"/api/cells/{cell_id}/services")
        try:
            figures = service_figures(client.get(f"/api/cells/{cell_id}/resources"))
        except ClientError:  # the figures are extra: the services are still worth showing
            figures = {}
    _console().print(
        services_table(body["services"], figures) if body["services"] else "no services"
    )
    for service in body["services"]:
        if service.get("lastError") and service["status"] in ("crashed", "error"):
            _console().print(f"[red]{service['name']}[/]: {service['lastError']['message']}")


@app.command()
def logs(
    cell: CellArgument,
    service: Annotated[
        str | None,
        typer.Argument(help="Service name (see `hive services ID`); not with --setup."),
    ] = None,
    setup: Annotated[
        bool, typer.Option("--setup", help="The setup log: every command of every attempt.")
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing what is written.")
    ] = False,
    tail: Annotated[
        int | None,
        typer.Option("--tail", "-n", help="Lines of history (a service: 200; setup: all)."),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Print a service's log (its stdout and stderr), or with --setup the cell's setup log."""
    with _client(url) as client:
        if setup == (service is not None):
            raise ClientError(
                "name a service or give --setup (one of the two)",
                hint="`hive logs ID SERVICE` or `hive logs ID --setup`",
            )
        cell_id = _cell_id(client, cell)
        if service is None:
            _setup_log(client, cell_id, tail=tail, follow=follow)
            return
        path = f"/api/cells/{cell_id}/services/{service}/logs"
        lines = 200 if tail is None else tail
        if not follow:
            sys.stdout.write(client.text(path, tail=lines))
            return
        try:
            for chunk in client.stream_text(path, tail=lines, follow="true"):
                sys.stdout.write(chunk)
                sys.stdout.flush()
        except KeyboardInterrupt:
            pass


def _setup_log(client: HiveClient, cell_id: str, *, tail: int | None, follow: bool) -> None:
    """Print the setup log; following, until the cell settles (the stream's end)."""
    path = f"/api/cells/{cell_id}/setup-log"
    params = {} if tail is None else {"tail": tail}
    if not follow:
        sys.stdout.write(client.text(path, **params))
        return
    # With a tail: print it, then go on from the byte it reaches. Without: the stream
    # itself begins with the whole log.
    after = None
    if tail is not None:
        answer = client.text_response(path, **params)
        sys.stdout.write(answer.text)
        after = answer.headers.get("hive-log-end")
    try:
        for event in client.events(f"{path}/stream", last_event_id=after):
            if event.event == "log":
                sys.stdout.write(json.loads(event.data)["text"])
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass


@app.command()
def restart(
    cell: CellArgument,
    service: Annotated[str, typer.Argument(help="Service name.")],
    url: UrlOption = None,
) -> None:
    """Restart a service on the same port and wait until it is ready again."""
    with _client(url) as client:
        body = client.post(f"/api/cells/{_cell_id(client, cell)}/services/{service}/restart")
    _console().print(
        f"{body['name']} {status_text(body['status'])} on {body['url'] or 'no port'} "
        f"(pid {body['pid']})"
    )


@app.command()
def timings(
    cell: Annotated[
        str | None, typer.Argument(help="Cell id or prefix; without it, the summary per template.")
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="Only this template.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only rows since: 1d, 2h, 30m or ISO 8601.")
    ] = None,
    chain: Annotated[
        bool, typer.Option("--chain", help="The steps that decided when the cell was ready.")
    ] = False,
    url: UrlOption = None,
) -> None:
    """Step durations of a cell's runs, its critical chain, or p50/p90 per template."""
    console = _console()
    with _client(url) as client:
        if cell is None:
            if chain:
                raise ClientError("--chain needs a cell", hint="`hive timings ID --chain`")
            summary = client.get(
                "/api/cells/timings/global", summary="1", templateId=template, since=since
            )
        elif chain:
            cell_id = _cell_id(client, cell)
            body = client.get(f"/api/cells/{cell_id}/timings", view="chain")
        elif since is None:
            body = client.get(f"/api/cells/{_cell_id(client, cell)}/timings")
        else:
            body = client.get(
                "/api/cells/timings/global",
                cellId=_cell_id(client, cell),
                since=since,
                limit=10_000,
            )
    if cell is None:
        _print_summary(console, summary["templates"])
    elif chain:
        console.print(chain_heading(body))
        if body["links"]:
            console.print(chain_table(body))
    else:
        _print_runs(console, body)


def _print_summary(console: Console, templates: list[dict[str, Any]]) -> None:
    if not templates:
        console.print("no timings recorded")
    for index, template in enumerate(templates):
        if index:
            console.print()
        console.print(summary_heading(template))
        console.print(summary_table(template))


def _print_runs(console: Console, body: dict[str, Any]) -> None:
    if not body["steps"]:
        console.print("no timings recorded")
    for index, run in enumerate(body["runs"]):
        if index:
            console.print()
        console.print(run_heading(run))
        console.print(steps_table([s for s in body["steps"] if s["runId"] == run["runId"]]))


@workspace_app.command("add")
def workspace_add(
    path: Annotated[Path, typer.Argument(help="A git repository with hive.config.json.")],
    label: Annotated[str | None, typer.Option(help="Display name.")] = None,
    url: UrlOption = None,
) -> None:
    """Register a repository as a workspace."""
    with _client(url) as client:
        body = client.post("/api/workspaces", {"path": str(path.resolve()), "label": label})
    _console().print(f"workspace [bold]{body['label']}[/] {body['id']} {body['path']}")


@workspace_app.command("ls")
def workspace_ls(url: UrlOption = None) -> None:
    """List registered workspaces."""
    with _client(url) as client:
        body = client.get("/api/workspaces")
    for workspace in body["workspaces"]:
        _console().print(f"{workspace['id']}  {workspace['label']}  {workspace['path']}")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of hive.config.json (for editors)."""
    from hive.config.export import config_json_schema

    json.dump(config_json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")


snapshot_commands.register(app)
agent_commands.register(app)
resource_commands.register(app)
open_command.register(app)


def run() -> None:
    try:
        app()
    except SettingsError as exc:
        Console(stderr=True).print(f"[red bold]error:[/] {exc}")
        raise SystemExit(2) from None
