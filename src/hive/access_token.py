"""The access token: `HIVE_TOKEN` when set, else one generated once into `$HIVE_HOME/token`.

The server and the CLI find it the same way, so nobody has to type it. `$HIVE_HOME`
is kept 0700 and the token file 0600: only the user who runs Hive may read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hive.secret_files import create_secret, read_secret
from hive.settings import Settings, SettingsError, usable_token

PRIVATE_DIR_MODE = 0o700


class TokenFileError(SettingsError):
    """The token file exists but holds something that cannot be a token."""


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    file: Path | None
    """Where the token was read from; None when it came from `HIVE_TOKEN`."""

    def where(self) -> str:
        """Where a user finds the token, in words; never the token itself."""
        if self.file is None:
            return "the token is the HIVE_TOKEN the server was started with"
        return f"the token is in {self.file}"


def make_private_dir(path: Path) -> None:
    """Create `path` (0700) or tighten it to 0700 if others may enter it."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_DIR_MODE)


def make_home_private(settings: Settings) -> None:
    """`$HIVE_HOME` and its logs directory 0700: they hold the token, the database, logs."""
    make_private_dir(settings.hive_home)
    make_private_dir(settings.logs_root)


def server_token(settings: Settings) -> AccessToken:
    """The token a server checks; makes `$HIVE_HOME` private and the file if needed."""
    make_home_private(settings)
    if settings.token is not None:
        return AccessToken(settings.token.get_secret_value(), None)
    path = settings.token_path
    value = _read(path)
    if value is None:
        value = _create(path)
    return AccessToken(value, path)


def client_token(settings: Settings) -> AccessToken | None:
    """The token a client sends, or None when there is none to find (never creates one)."""
    if settings.token is not None:
        return AccessToken(settings.token.get_secret_value(), None)
    try:
        value = _read(settings.token_path, tighten=False)
    except (OSError, TokenFileError):
        return None  # the server's 401 then says where its token lives
    return AccessToken(value, settings.token_path) if value else None


def _read(path: Path, *, tighten: bool = True) -> str | None:
    """The token in `path`; None when there is no file or it is empty."""
    value = read_secret(path, tighten=tighten)
    if value is not None and not usable_token(value):
        raise TokenFileError(
            f"{path} does not hold a usable token (printable ASCII without spaces): "
            "fix it, or delete it and Hive makes a new one"
        )
    return value


def _create(path: Path) -> str:
    """Write a new token; when another server wrote one first, theirs is kept."""
    return create_secret(path, _read)
