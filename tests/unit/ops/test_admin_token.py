"""The admin token from the environment or a private file: one line per mistake, naming the
variable or the file, never the token; and never accepted on the command line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rocky_bot.cli import main
from rocky_bot.config_errors import ConfigError
from rocky_bot.ops.admin_token import (
    MAX_TOKEN_BYTES,
    admin_token_from_env,
    admin_token_if_given,
    token_source,
    write_token_file,
)

TOKEN = "adm-7c1e-0123456789abcdef"


def token_file(path: Path, content: str | bytes, mode: int = 0o600) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(mode)
    return path


def refused(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        admin_token_from_env(environ)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and TOKEN not in message, message
    return message


def test_the_token_comes_from_the_environment():
    assert admin_token_from_env({"ROCKY_ADMIN_TOKEN": TOKEN}) == TOKEN
    assert token_source({"ROCKY_ADMIN_TOKEN": TOKEN}) == "ROCKY_ADMIN_TOKEN"


@pytest.mark.parametrize("content", [TOKEN, TOKEN + "\n", TOKEN + "\r\n", TOKEN + "\n\n"])
def test_or_from_a_private_file_with_its_trailing_newline_dropped(tmp_path, content):
    path = token_file(tmp_path / "token", content)
    env = {"ROCKY_ADMIN_TOKEN_FILE": str(path)}
    assert admin_token_from_env(env) == TOKEN
    assert token_source(env) == str(path)


def test_a_missing_token_names_both_ways_to_give_it():
    message = refused({})
    assert "ROCKY_ADMIN_TOKEN" in message and "ROCKY_ADMIN_TOKEN_FILE" in message
    assert admin_token_if_given({"ROCKY_ADMIN_TOKEN": ""}) is None  # empty is unset


def test_both_ways_at_once_is_ambiguous(tmp_path):
    path = token_file(tmp_path / "token", TOKEN)
    message = refused({"ROCKY_ADMIN_TOKEN": TOKEN, "ROCKY_ADMIN_TOKEN_FILE": str(path)})
    assert message == "both ROCKY_ADMIN_TOKEN and ROCKY_ADMIN_TOKEN_FILE are set: unset one of them"


def _fifo(path: Path) -> Path:
    os.mkfifo(path, 0o600)
    return path


def _sparse(path: Path) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p, "admin token file not found"),
        (lambda p: (p.mkdir(), p)[1], "admin token file is a directory, not a regular file"),
        (_fifo, "admin token file is a named pipe (FIFO), not a regular file"),
        (_sparse, "admin token file is 52428800 bytes, more than the 4096"),
        (lambda p: token_file(p, TOKEN, 0o644), "(mode 644); fix with: chmod 600"),
        (lambda p: token_file(p, TOKEN, 0o640), "(mode 640); fix with: chmod 600"),
        (lambda p: token_file(p, ""), "the admin token is empty"),
        (lambda p: token_file(p, "\n"), "the admin token is empty"),
        (lambda p: token_file(p, TOKEN + "\nsecond-line"), "printable ASCII without spaces"),
        (lambda p: token_file(p, TOKEN + " "), "printable ASCII without spaces"),
        (lambda p: token_file(p, TOKEN.encode() + b"\xff"), "the admin token is not ASCII text"),
    ],
    ids=[
        "missing", "directory", "fifo", "huge", "644", "640", "empty", "newline only",
        "two lines", "trailing space", "not ascii",
    ],
)  # fmt: skip
def test_a_bad_token_file_is_one_line_naming_it(tmp_path, make, says):
    path = make(tmp_path / "token")
    message = refused({"ROCKY_ADMIN_TOKEN_FILE": str(path)})
    assert message.startswith(f"{path}: ") and says in message, message


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (TOKEN + "\r\nX-Injected: 1", "printable ASCII without spaces or line breaks"),
        ("x" * (MAX_TOKEN_BYTES + 1), "longer than 4096 characters"),
        ("tökén", "printable ASCII"),
    ],
)
def test_a_bad_token_in_the_environment_names_the_variable(value, says):
    message = refused({"ROCKY_ADMIN_TOKEN": value})
    assert message.startswith("ROCKY_ADMIN_TOKEN: ") and says in message
    assert value not in message


def test_a_written_token_file_is_600_and_reads_back(tmp_path):
    path = tmp_path / ".sandbox" / "admin-token"
    old_umask = os.umask(0)
    try:
        write_token_file(path, TOKEN)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert admin_token_from_env({"ROCKY_ADMIN_TOKEN_FILE": str(path)}) == TOKEN


@pytest.mark.parametrize(
    "argv",
    [
        ["mint", "--base-url", "http://127.0.0.1:9", "--admin-token", TOKEN],
        ["mint", "--base-url", "http://127.0.0.1:9", f"--admin-token={TOKEN}"],
        ["sandbox", "--admin-token", TOKEN],
    ],
)
def test_the_token_is_refused_on_the_command_line_without_being_echoed(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert "--admin-token is no longer accepted" in err and "ROCKY_ADMIN_TOKEN_FILE" in err
    assert TOKEN not in out + err
