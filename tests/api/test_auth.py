"""The token: every `/api` call and page needs it (Bearer header or the cookie a
`?token=` URL sets); `/health` stays open; a refusal says where the token lives."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import httpx
from pydantic import SecretStr

from hive.settings import Settings
from tests.support.server import LiveHive


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _refused(response: httpx.Response, message: str) -> dict[str, str]:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"] == "UnauthorizedError"
    assert message in body["message"]
    return dict(body)


def test_api_without_a_token_is_401_with_where_the_token_lives(hive: LiveHive) -> None:
    response = httpx.get(f"{hive.url}/api/workspaces")
    body = _refused(response, "carries no Hive token")
    assert str(hive.settings.token_path) in body["hint"]
    assert "Authorization: Bearer" in body["hint"]
    assert hive.token not in response.text


def test_a_wrong_token_is_401(hive: LiveHive) -> None:
    for headers in (
        {"Authorization": f"Bearer {hive.token}x"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {hive.token}"},
        {"Cookie": f"hive-auth-{hive.url.rsplit(':', 1)[1]}={hive.token}"},
    ):
        response = httpx.get(f"{hive.url}/api/workspaces", headers=headers)
        assert hive.token not in _refused(response, "not this server's")["hint"]


def test_the_bearer_token_opens_the_api_and_pages(hive: LiveHive) -> None:
    assert hive.http.get("/api/workspaces").status_code == 200
    assert hive.http.get("/openapi.json").json()["info"]["title"] == "Hive"
    # The scheme is case-insensitive (RFC 9110).
    lower = httpx.get(f"{hive.url}/api/cells", headers={"Authorization": f"bearer {hive.token}"})
    assert lower.status_code == 200


def test_pages_need_the_token_too_and_health_does_not(hive: LiveHive) -> None:
    for page in ("/", "/docs", "/redoc", "/openapi.json"):
        _refused(httpx.get(f"{hive.url}{page}"), "carries no Hive token")
    assert httpx.get(f"{hive.url}/health").json()["status"] == "ok"


def test_a_token_in_a_page_url_becomes_a_cookie_that_opens_pages_and_the_api(
    hive: LiveHive,
) -> None:
    with httpx.Client(base_url=hive.url) as browser:
        first = browser.get("/docs", params={"a": "1", "token": hive.token, "b": "x y"})
        assert first.status_code == 303
        assert first.headers["location"] == "/docs?a=1&b=x+y", "the token leaves the URL"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert hive.token not in cookie, "the cookie holds a value derived from the token"
        assert browser.cookies, "the client kept the cookie"

        docs = browser.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert browser.get("/openapi.json").status_code == 200
        assert browser.get("/api/workspaces").json()["workspaces"]
        home = browser.get("/")
        assert home.status_code == 200 and "<h1>Cells</h1>" in home.text


def test_the_redirect_stays_on_this_server(hive: LiveHive) -> None:
    response = httpx.get(f"{hive.url}//elsewhere.example/docs", params={"token": hive.token})
    assert response.status_code == 303
    assert response.headers["location"] == "/elsewhere.example/docs"


def test_the_printed_url_lands_on_the_cells_page(hive: LiveHive) -> None:
    with httpx.Client(follow_redirects=True) as browser:
        landed = browser.get(f"{hive.url}/?token={hive.token}")
    assert landed.status_code == 200
    assert str(landed.url) == f"{hive.url}/"
    assert hive.token not in landed.text


def test_a_browser_without_the_token_is_told_how_to_get_the_url(hive: LiveHive) -> None:
    response = httpx.get(f"{hive.url}/", headers={"Accept": "text/html,*/*"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "hive open" in response.text and "hive serve" in response.text
    # Its stylesheet is served without the token; the API still answers JSON.
    assert httpx.get(f"{hive.url}/static/hive.css").status_code == 200
    api = httpx.get(f"{hive.url}/api/cells", headers={"Accept": "text/html"})
    assert api.status_code == 401 and api.json()["error"] == "UnauthorizedError"


def test_a_wrong_token_in_a_url_sets_no_cookie(hive: LiveHive) -> None:
    response = httpx.get(f"{hive.url}/docs", params={"token": "guess"})
    _refused(response, "token in the URL is not this server's")
    assert "set-cookie" not in response.headers


def test_the_api_takes_no_token_from_its_url(hive: LiveHive) -> None:
    # Query strings end up in histories and logs: /api wants the header (or the cookie).
    response = httpx.get(f"{hive.url}/api/workspaces", params={"token": hive.token})
    _refused(response, "carries no Hive token")


def test_foreign_hosts_are_refused_before_the_token_is_asked_for(hive: LiveHive) -> None:
    response = httpx.get(f"{hive.url}/api/workspaces", headers={"Host": "evil.example.com"})
    assert response.status_code == 403


def test_the_token_file_is_private_and_outlives_the_server(
    start_hive: Callable[..., LiveHive], repo: Path
) -> None:
    first = start_hive([repo])
    home, token_path = first.settings.hive_home, first.settings.token_path
    assert _mode(home) == 0o700 and _mode(token_path) == 0o600
    assert token_path.read_text().strip() == first.token
    first.stop()

    second = start_hive([repo])
    assert second.token == first.token
    with httpx.Client(base_url=second.url, headers=first.auth) as old_client:
        assert old_client.get("/api/workspaces").status_code == 200


def test_a_loose_home_and_token_file_are_tightened_at_start(
    start_hive: Callable[..., LiveHive], settings: Settings, repo: Path
) -> None:
    home = settings.hive_home
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / "token").write_text("my-own-token\n")
    (home / "token").chmod(0o644)
    hive = start_hive([repo])
    assert _mode(home) == 0o700
    assert _mode(home / "token") == 0o600
    assert hive.token == "my-own-token", "a token put in the file by hand is used"


def test_hive_token_wins_over_the_file(
    start_hive: Callable[..., LiveHive], settings: Settings, repo: Path
) -> None:
    home = settings.hive_home
    home.mkdir(mode=0o700)
    (home / "token").write_text("the-file-token\n")
    hive = start_hive([repo], token=SecretStr("the-env-token"))
    assert hive.token == "the-env-token"
    assert hive.http.get("/api/workspaces").status_code == 200
    response = httpx.get(
        f"{hive.url}/api/workspaces", headers={"Authorization": "Bearer the-file-token"}
    )
    hint = _refused(response, "not this server's")["hint"]
    assert "HIVE_TOKEN" in hint and str(home) not in hint
    assert "the-env-token" not in response.text
