"""The exchange's admin token: from the environment or a file named there, never argv or stdout.

A token on the command line is readable by every local user (`ps`, /proc/PID/cmdline) and stays
in shell history, so every command that needs it (`mint`, `sandbox`, `fund`) takes it from
`ROCKY_ADMIN_TOKEN`, or from the file named by `ROCKY_ADMIN_TOKEN_FILE`: a regular, mode-600
file of at most 4 KiB, like the keys file (what a systemd unit or timer should use, so the token
is in no environment block either). A command that needs the token calls `admin_token_from_env()`;
every problem is a ConfigError line naming the variable or the file, and none shows the token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from rocky_bot.config_errors import ConfigError
from rocky_bot.private_files import read_private_file, write_private_file

TOKEN_ENV = "ROCKY_ADMIN_TOKEN"
TOKEN_FILE_ENV = "ROCKY_ADMIN_TOKEN_FILE"
MAX_TOKEN_BYTES = 4096


def admin_token_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The admin token, from `ROCKY_ADMIN_TOKEN` or `ROCKY_ADMIN_TOKEN_FILE`; ConfigError if
    neither is set, both are, or the file or the value is unusable."""
    token = admin_token_if_given(environ)
    if token is None:
        raise ConfigError(
            f"admin token missing: set {TOKEN_ENV}, or {TOKEN_FILE_ENV} to a mode-600 file "
            "holding it (it is never taken from the command line)"
        )
    return token


def admin_token_if_given(environ: Mapping[str, str] | None = None) -> str | None:
    """The admin token if the environment gives one, else None (the sandbox then makes one)."""
    env = os.environ if environ is None else environ
    value, file = env.get(TOKEN_ENV) or None, env.get(TOKEN_FILE_ENV) or None
    if value and file:
        raise ConfigError(f"both {TOKEN_ENV} and {TOKEN_FILE_ENV} are set: unset one of them")
    if file:
        return read_token_file(Path(file))
    if value:
        return _checked(value, TOKEN_ENV)
    return None


def token_source(environ: Mapping[str, str] | None = None) -> str:
    """Where `admin_token_if_given` found the token, for a line saying so (never the token)."""
    env = os.environ if environ is None else environ
    return env.get(TOKEN_FILE_ENV) or TOKEN_ENV


def read_token_file(path: Path) -> str:
    raw = read_private_file(path, what="admin token file", max_bytes=MAX_TOKEN_BYTES)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the admin token is not ASCII text") from None
    return _checked(text.rstrip("\r\n"), str(path))  # the newline `echo` and editors add


def write_token_file(path: Path, token: str) -> None:
    """Write `token` to `path`: mode 600 from the first byte, atomically, never via a symlink."""
    write_private_file(path, (token + "\n").encode("ascii"), what="admin token file")


def _checked(token: str, where: str) -> str:
    if not token:
        raise ConfigError(f"{where}: the admin token is empty")
    if len(token) > MAX_TOKEN_BYTES:
        raise ConfigError(f"{where}: the admin token is longer than {MAX_TOKEN_BYTES} characters")
    if not all(" " < c <= "~" for c in token):  # it is sent as an HTTP header
        raise ConfigError(
            f"{where}: the admin token must be printable ASCII without spaces or line breaks"
        )
    return token
