"""`rocky-bot sandbox` as a real process, on what it does with secrets: the admin token it makes
is written to a mode-600 file and never printed (and that file is what `mint` then reads), a
token given through the environment is used and not written anywhere, and listening beyond
loopback is announced with one warning line."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import sys
from pathlib import Path

import pytest

from rocky_bot.demo import warn_if_reachable_from_outside
from rocky_bot.keys import load_keys

TOKEN = "adm-given-by-the-operator-0123456789"


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_")}
    return {**env, "ROCKY_LOG_LEVEL": "warning", **extra}


async def start_sandbox(tmp_path: Path, *args: str, env: dict[str, str]):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot", "sandbox", "--port", "0", "--no-fleet", *args,
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def read_until(proc, pattern: str, lines: list[str]) -> re.Match[str]:
    async with asyncio.timeout(30):
        while line := (await proc.stdout.readline()).decode():
            lines.append(line)
            if m := re.search(pattern, line):
                return m
    raise AssertionError(f"no line matching {pattern!r} in {''.join(lines)!r}")


async def stop(proc) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, out.decode(), err.decode()


async def test_a_generated_token_is_written_600_never_printed_and_mint_can_use_it(tmp_path):
    token_path = tmp_path / "state" / "admin-token"
    proc = await start_sandbox(tmp_path, "--token-out", str(token_path), env=cli_env())
    lines: list[str] = []
    try:
        base_url = (await read_until(proc, r"sandbox exchange\s+(http://\S+)", lines))[1]
        shown = await read_until(proc, r"admin token\s+(.*)", lines)
        assert shown[1] == f"written to {token_path} (mode 600)"
        assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
        token = token_path.read_text().strip()
        assert len(token) >= 16

        mint = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rocky_bot", "mint", "--base-url", base_url, "--out",
            "keys.json", "--accounts", "2", cwd=tmp_path,
            env=cli_env(ROCKY_ADMIN_TOKEN_FILE=str(token_path)),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        mint_out, mint_err = await asyncio.wait_for(mint.communicate(), 30)
        assert mint.returncode == 0, mint_err.decode()
        assert len(load_keys(tmp_path / "keys.json").accounts) == 2
        assert token not in (mint_out + mint_err).decode()
    finally:
        code, out, err = await stop(proc)
    assert code == 0, err
    everything = "".join(lines) + out + err
    assert token not in everything
    assert "warning" not in err  # 127.0.0.1 is no cause for one


async def test_a_token_from_the_environment_is_used_and_not_written(tmp_path):
    token_path = tmp_path / "admin-token"
    env = cli_env(ROCKY_ADMIN_TOKEN=TOKEN)
    proc = await start_sandbox(tmp_path, "--token-out", str(token_path), env=env)
    lines: list[str] = []
    try:
        shown = await read_until(proc, r"admin token\s+(.*)", lines)
        assert shown[1] == "from ROCKY_ADMIN_TOKEN"
    finally:
        code, out, err = await stop(proc)
    assert code == 0, err
    assert not token_path.exists()
    assert TOKEN not in "".join(lines) + out + err


async def test_a_token_file_that_others_can_read_stops_the_sandbox_with_one_line(tmp_path):
    token_path = tmp_path / "admin-token"
    token_path.write_text(TOKEN)
    token_path.chmod(0o644)
    proc = await start_sandbox(tmp_path, env=cli_env(ROCKY_ADMIN_TOKEN_FILE=str(token_path)))
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 78
    assert err.decode().splitlines() == [
        f"rocky-bot: {token_path}: readable by group or others (mode 644); "
        f"fix with: chmod 600 {token_path}"
    ]
    assert TOKEN not in (out + err).decode()


async def test_a_host_beyond_loopback_is_warned_about_before_anything_listens(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes first, then the bind
    # fails, so the test never opens a socket beyond loopback.
    proc = await start_sandbox(tmp_path, "--host", "192.0.2.1", env=cli_env())
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    first = err.decode().splitlines()[0]
    assert first.startswith("rocky-bot sandbox: warning: listening on 192.0.2.1, not loopback: ")
    assert "no TLS" in first
    assert proc.returncode != 0


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("localhost", False),
        ("0.0.0.0", True), ("::", True), ("", True), ("10.0.0.5", True), ("bot.example.org", True),
    ],
)  # fmt: skip
def test_only_loopback_hosts_go_without_a_warning(capsys, host, warned):
    warn_if_reachable_from_outside(host)
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == (1 if warned else 0)
    if warned:
        assert "no TLS" in err and "keys" in err
