"""Schemathesis fuzzes every operation of the OpenAPI document against a real server.

Parameters that name things get real ids (a registered workspace, a ready cell with a
running service), so requests get past the 404s into the code behind them; text goes
in risky shapes too (tests/support/fuzzing.py). No answer may be a 5xx.

The operations are looped through schemathesis' Python API rather than its pytest
plugin: `schemathesis.pytest.from_fixture` reads `Node._nodeid`, which pytest 9.2 no
longer has.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation, BaseSchema

from hive.services.process_tag import TAG_VARIABLE, cell_tag, find_tagged
from tests.support.fuzzing import Real, either, failure_messages, mixed, text_sweep
from tests.support.repos import basic_template, git, make_repo
from tests.support.server import LiveHive

APP = Path(__file__).parents[1] / "support" / "service_app.py"

#: Generated requests per operation, after its sweep; the test takes about 30 s on two cores.
MAX_EXAMPLES = 30

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same requests on every run: a failure here is never a fluke
    database=None,
    deadline=None,  # a slow answer is not what this test looks for
    phases=[Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Target:
    """What the fuzzer aims at: a server and the real things it holds."""

    hive: LiveHive
    repo: Path
    workspace_id: str
    cell_id: str
    """A ready cell of the `web` template, its service running."""
    doomed_id: str
    """A ready cell for DELETE: deleted by the first such request, so the others keep theirs."""

    @property
    def headers(self) -> dict[str, str]:
        # Whatever the test client sends (an Authorization header, once there is one).
        return dict(self.hive.http.headers)

    def real(self, operation: APIOperation) -> Real:
        cell = self.doomed_id if operation.method.upper() == "DELETE" else self.cell_id
        # Ids mostly real, so that requests naming several things get past every 404.
        ids = {
            "cell_id": [cell],
            "cellId": [cell],
            "workspaceId": [self.workspace_id],
            "templateId": ["plain"],
            "template_id": ["plain", "web"],
            "name": ["web"],
        }
        return {
            **{key: (values, 3) for key, values in ids.items()},
            "path": ([str(self.repo), str(self.repo / "apps")], 1),
        }

    def call(self, case: Case) -> None:
        case.call_and_validate(headers=self.headers, checks=[not_a_server_error], timeout=60)


def _repo(root: Path) -> Path:
    py = sys.executable
    web = basic_template(
        setup=[],
        includePatterns=[],
        services={"web": {"run": f"{py} service_app.py web $PORT", "ready": {"http": "/health"}}},
    )
    # Cells the fuzzer creates use this one: nothing to set up, nothing to start.
    plain = basic_template(id="plain", setup=[], includePatterns=[])
    repo = make_repo(root, {"web": web, "plain": plain})
    shutil.copy(APP, repo / "service_app.py")
    git(repo, "add", "service_app.py")
    git(repo, "commit", "-q", "-m", "service app")
    return repo


def _tag_of(process: psutil.Process) -> str:
    try:
        return str(process.environ().get(TAG_VARIABLE, ""))
    except psutil.Error:  # gone meanwhile
        return ""


@pytest.fixture
def target(start_hive: Callable[..., LiveHive], tmp_path: Path) -> Iterator[Target]:
    repo = _repo(tmp_path / "repo")
    hive = start_hive([repo])
    cells = [hive.create("fuzzed", template="web"), hive.create("doomed", template="plain")]
    for cell in cells:
        settled = hive.settle(cell["id"])
        assert settled["status"] == "ready", settled["lastSetupError"]
    yield Target(hive, repo, hive.workspace_id(), cells[0]["id"], cells[1]["id"])
    # Every cell, the fuzzer's own included, goes through DELETE: nothing may be left.
    made = hive.http.get("/api/cells").json()["cells"]
    for cell in made:
        response = hive.http.delete(f"/api/cells/{cell['id']}")
        assert response.status_code == 200, response.text
    assert hive.http.get("/api/cells").json()["cells"] == []
    ours = tuple(cell_tag(cell["id"]) for cell in [*made, *cells])
    left = [p for p in find_tagged("cell/", prefix=True) if _tag_of(p).startswith(ours)]
    assert not left, f"processes of deleted cells still run: {left}"


def _schema(target: Target) -> BaseSchema:
    schema = schemathesis.openapi.from_url(
        f"{target.hive.url}/openapi.json", headers=target.headers
    )

    def real(ctx: HookContext) -> Real:
        assert ctx.operation is not None
        return target.real(ctx.operation)

    @schema.hook
    def flatmap_path_parameters(ctx: HookContext, values: Any) -> st.SearchStrategy[Any]:
        return mixed(values, real(ctx), json=False)

    @schema.hook
    def flatmap_query(ctx: HookContext, values: Any) -> st.SearchStrategy[Any]:
        if isinstance(values, dict) and "follow" in values:
            # A followed log streams while the service runs; the fuzzer reads whole bodies.
            values = {**values, "follow": False}
        return mixed(values, real(ctx), json=False)

    @schema.hook
    def flatmap_body(ctx: HookContext, values: Any) -> st.SearchStrategy[Any]:
        return mixed(values, real(ctx), json=True)

    return schema


def _sweep(target: Target, operation: APIOperation, document: dict[str, Any]) -> list[str]:
    failures = []
    for case in text_sweep(operation, document, target.real(operation)):
        try:
            target.call(case)
        except FailureGroup as exc:
            failures += failure_messages(exc)
    return failures


def _fuzz(target: Target, operation: APIOperation) -> list[str]:
    # Requests the schema allows (they get further) and, less often, requests it forbids.
    allowed, forbidden = (operation.as_strategy(generation_mode=mode) for mode in GenerationMode)

    @FUZZ_SETTINGS
    @given(case=either(allowed, forbidden, 3))
    def fuzz(case: Case) -> None:
        target.call(case)

    try:
        fuzz()
    except (Exception, BaseExceptionGroup) as exc:  # the other operations still run
        return failure_messages(exc)
    return []


@pytest.mark.timeout(300)
def test_no_request_gets_a_server_error(target: Target) -> None:
    schema = _schema(target)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/stream"):
            # Live streams never end on their own; test_streams.py covers their bad input.
            continue
        found = _sweep(target, operation, schema.raw_schema) + _fuzz(target, operation)
        failures += [f"{operation.label}: {text}" for text in found]
    assert not failures, "\n\n".join(failures)
