"""`hive open`: the address it opens (or prints) signs a browser in, on the front page
or on a cell's page; an unknown cell is an error naming it."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.support.cli import hive_cli
from tests.support.server import LiveHive

#: No display: the only browser Python's `webbrowser` may find is the one in BROWSER.
_HEADLESS = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}


def _signs_in(address: str, landing: str) -> httpx.Response:
    """Visit `address` as a browser would: the token becomes a cookie, the redirect
    drops it from the address, and the page then answers with the cookie alone."""
    with httpx.Client(headers={"Accept": "text/html"}) as browser:
        first = browser.get(address)
        assert first.status_code == 303, first.text
        assert first.headers["location"] == landing
        assert "token" not in first.headers["location"]
        assert browser.cookies, "the answer set the sign-in cookie"
        base = address.split("?", 1)[0].removesuffix(urlsplit(address).path)
        return browser.get(base + landing)


def test_print_gives_the_front_page_with_the_token_and_it_signs_a_browser_in(
    hive: LiveHive, repo: Path
) -> None:
    out = hive_cli("open", "--print", hive=hive, cwd=repo)
    assert out.returncode == 0, out.stderr
    address = out.stdout.strip()
    assert address == f"{hive.url}/?token={hive.token}"
    page = _signs_in(address, "/")
    assert page.status_code == 200 and "<h1>Cells</h1>" in page.text


def test_a_cell_given_by_name_or_id_prefix_is_its_page(hive: LiveHive, repo: Path) -> None:
    cell = hive.settle(hive.create("opened cell")["id"])
    for given in ("opened cell", cell["id"][:8], cell["id"]):
        out = hive_cli("open", given, "--print", hive=hive, cwd=repo)
        assert out.returncode == 0, out.stderr
        address = out.stdout.strip()
        assert address == f"{hive.url}/cells/{cell['id']}?token={hive.token}", given
    _signs_in(address, f"/cells/{cell['id']}")


def test_an_unknown_cell_is_an_error_naming_it(hive: LiveHive, repo: Path) -> None:
    hive.create("somebody")
    out = hive_cli("open", "no-such-cell", "--print", hive=hive, cwd=repo)
    assert out.returncode == 1
    assert "'no-such-cell'" in out.stderr and "hive ls" in out.stderr
    assert hive.token not in out.stdout + out.stderr


def test_without_print_the_default_browser_gets_the_address(
    hive: LiveHive, repo: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf %s "$1" > {seen}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    out = hive_cli("open", hive=hive, cwd=repo, BROWSER=str(browser), **_HEADLESS)
    assert out.returncode == 0, out.stderr
    assert "opened" in out.stdout and hive.token not in out.stdout
    assert seen.read_text() == f"{hive.url}/?token={hive.token}"


def test_when_no_browser_opens_the_address_is_printed_with_a_line_saying_so(
    hive: LiveHive, repo: Path
) -> None:
    out = hive_cli("open", hive=hive, cwd=repo, BROWSER="false", **_HEADLESS)
    assert out.returncode == 0, out.stderr
    said, address = out.stdout.strip().splitlines()[-2:]
    assert "no browser could be opened" in said
    assert address == f"{hive.url}/?token={hive.token}"


def test_no_server_is_a_clear_error(repo: Path) -> None:
    out = hive_cli("open", "--print", url="http://127.0.0.1:9", cwd=repo)
    assert out.returncode == 1
    assert "no Hive server is answering" in out.stderr
