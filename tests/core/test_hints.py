"""The known-cause table: each cause recognised in real output and explained with the
command, file or port at fault; no cause for output it does not know."""

from __future__ import annotations

import pytest

from hive.core.errors import StepError
from hive.core.failure_kind import FailureKind
from hive.core.failures import setup_error
from hive.core.hints import Evidence, known_cause

K = FailureKind
SETUP = K.SETUP_COMMAND


def setup(command: str, exit_code: int | None, tail: str) -> Evidence:
    return Evidence(SETUP, f"setup command 1 of 1 failed: {command}", command, exit_code, tail)


@pytest.mark.parametrize(
    ("evidence", "named"),
    [
        # command not found: bash (one line, a script's line), zsh, dash
        (setup("nosuchtool --version", 127, "bash: nosuchtool: command not found"),
         ["`nosuchtool`", "PATH"]),
        (setup("x", 127, "bash: line 3: pnpm: command not found"), ["`pnpm`", "PATH"]),
        (setup("x", 127, "zsh: command not found: yarn"), ["`yarn`", "PATH"]),
        (setup("x", 127, "sh: 1: bun: not found"), ["`bun`", "PATH"]),
        # exit codes of the shell
        (setup("./run.sh", 127, ""), ["exit code 127", "`./run.sh`", "PATH"]),
        (setup("./build.sh", 126, "bash: ./build.sh: Permission denied"),
         ["exit code 126", "`./build.sh`", "chmod +x"]),
        (setup("./build.sh", 126, ""), ["exit code 126", "`./build.sh`"]),
        # a missing file the command mentions
        (setup("./setup.sh", 127, "bash: ./setup.sh: No such file or directory"),
         ["`./setup.sh` does not exist", "includePatterns"]),
        (setup("cat a.txt", 1, "cat: config/local.json: No such file or directory"),
         ["`config/local.json` does not exist"]),
        (setup("python3 m.py", 2,
               "python3: can't open file '/w/m.py': [Errno 2] No such file or directory"),
         ["`/w/m.py` does not exist"]),
        (setup("python3 -c ...", 1,
               "FileNotFoundError: [Errno 2] No such file or directory: 'seed.sql'"),
         ["`seed.sql` does not exist"]),
        (setup("node x", 1, "Error: ENOENT: no such file or directory, open '/w/.env.local'"),
         ["`/w/.env.local` does not exist"]),
        # disk full, whatever the step
        (setup("npm ci", 1, "npm ERR! nospc ENOSPC: no space left on device, write"),
         ["disk is full", "ENOSPC"]),
        (Evidence(K.INCLUDE_COPY, "cannot copy .env: [Errno 28] No space left on device"),
         ["disk is full", "df -h"]),
        # ports: the allocator's words (holder seen through psutil), a server's own
        (Evidence(K.PORT, "port 7000 is already in use by pid 42 (python3 -m http.server 7000)"),
         ["port 7000", "pid 42 (python3 -m http.server 7000)", "port range"]),
        (Evidence(K.PORT, "port 7000 is already in use by pid 42 (python3 -c \nimport x…)"),
         ["port 7000", "pid 42 (python3 -c \nimport x…)"]),
        (Evidence(K.PORT, "port 7000 is already leased to service 'web' of cell 'c1'"),
         ["port 7000", "service 'web' of cell 'c1'"]),
        (Evidence(K.SERVICE_READY, "service 'api' exited with code 1 before it was ready",
                  "node api.js", 1, "Error: listen EADDRINUSE: address already in use :::3000"),
         ["port 3000 is already in use"]),
        (Evidence(K.SERVICE_READY, "service 'web' exited with code 1 before it was ready",
                  "python3 -m http.server", 1, "OSError: [Errno 98] Address already in use"),
         ["the service's port is already in use"]),
        # git worktree refusals
        (Evidence(K.WORKSPACE, "git worktree add -b hive/a -- /c/a abc failed (exit 255): "
                  "fatal: a branch named 'hive/a' already exists"),
         ["branch `hive/a` exists already", "git branch -D hive/a"]),
        (Evidence(K.WORKSPACE, "git worktree add -- /c/a hive/a failed (exit 128): "
                  "fatal: 'hive/a' is already checked out at '/c/old'"),
         ["`hive/a` is checked out", "/c/old", "git worktree remove /c/old"]),
        (Evidence(K.WORKSPACE, "git worktree add -- /c/a hive/a failed (exit 128): "
                  "fatal: 'hive/a' is already used by worktree at '/c/old'"),
         ["`hive/a` is checked out", "/c/old"]),
        (Evidence(K.WORKSPACE, "git worktree add failed (exit 128): fatal: '/c/a' is a missing "
                  "but locked worktree; use 'add -f -f' to override, or 'unlock' and 'prune'"),
         ["/c/a is locked", "git worktree unlock /c/a", "git worktree prune"]),
        (Evidence(K.WORKSPACE, "git worktree add failed (exit 128): fatal: '/c/a' already exists"),
         ["/c/a exists already"]),
        # readiness: the probe and the last log lines
        (Evidence(K.SERVICE_READY, "service 'web' did not get ready: not ready after 5s: "
                  "tcp :20001 refused", "npm run dev", None,
                  "booting\ncompiling\n\nstill compiling"),
         ["`web`", "tcp :20001 refused", "booting / compiling / still compiling"]),
        # transient network trouble: retry it, and `retries` would
        (setup("npm ci", 1, "npm ERR! code ECONNRESET\nnpm ERR! network aborted"),
         ["looks transient", "ECONNRESET", '"retries"', '"run": "npm ci"']),
        (setup("pip install -r r.txt", 1,
               "Temporary failure in name resolution')': /simple/requests/"),
         ["looks transient", "name resolution"]),
        (setup("curl -f x", 22, "curl: (6) Could not resolve host: example.com"),
         ["looks transient"]),
        (setup("npm ci", 1, "npm ERR! code E429\nnpm ERR! 429 Too Many Requests - GET /react"),
         ["looks transient", "429"]),
        (setup("curl x", 22, "curl: (22) The requested URL returned error: 503"),
         ["looks transient", "503"]),
        (setup("git fetch", 128, "fatal: unable to access: Failed to connect: ETIMEDOUT"),
         ["looks transient", "ETIMEDOUT"]),
    ],
)  # fmt: skip
def test_a_known_cause_names_what_is_at_fault(evidence: Evidence, named: list[str]) -> None:
    hint = known_cause(evidence)
    assert hint is not None
    for words in named:
        assert words in hint


@pytest.mark.parametrize(
    "evidence",
    [
        setup("make", 2, "make: *** [all] Error 2"),
        setup("test -f fixed.txt", 1, ""),
        setup("pytest", 1, "FAILED tests/test_x.py::test_503_page - assert 1 == 2"),
        Evidence(K.SETUP_COMMAND, "branch 'x' already exists, says a test's output"),
        Evidence(K.SERVICE_START, "service 'web' could not be started"),
        Evidence(K.INTERNAL, "KeyError: 'x'"),
    ],
)
def test_unknown_output_has_no_cause(evidence: Evidence) -> None:
    assert known_cause(evidence) is None


def test_a_cause_comes_first_and_the_step_hint_and_retry_pointer_after() -> None:
    exc = StepError(
        "setup command 1 of 1 failed with exit code 127: nosuchtool --version",
        command="nosuchtool --version",
        exit_code=127,
        output_tail="bash: line 1: nosuchtool: command not found",
        hint="fix templates.basic.setup[0]; then retry: `hive retry c1`",
    )
    hint = setup_error(exc, step="run_setup", run_id="r", attempt=1, at="t").hint
    assert hint.startswith("`nosuchtool` was not found")
    assert hint.endswith("fix templates.basic.setup[0]; then retry: `hive retry c1`")


def test_a_step_hint_without_a_retry_pointer_gets_one() -> None:
    exc = StepError("port 7000 is already in use", hint="stop whatever listens on port 7000")
    hint = setup_error(exc, step="allocate_ports", run_id="r", attempt=1, at="t").hint
    assert "stop whatever listens" in hint and hint.endswith("or delete it")


def test_without_a_known_cause_the_step_hint_stands_alone() -> None:
    exc = StepError("make failed", command="make", exit_code=2, hint="fix the Makefile")
    assert setup_error(exc, step="run_setup", run_id="r", attempt=1, at="t").hint == (
        "fix the Makefile"
    )
