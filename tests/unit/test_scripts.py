"""The operator's shell scripts: strict mode, --help, shellcheck, and the wrappers' promises.

The wrappers run a fake `rocky-bot` (ROCKY_BOT_CMD) that records its argv and environment, so
these tests pin what the scripts hand to the CLI without an exchange.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rocky_bot.funnel import funnel_ids

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*REPO.glob("scripts/*.sh"), *REPO.glob("deploy/*.sh")])
TOKEN = "adm-5f2c-not-for-argv"

FAKE_ROCKY_BOT = f"""#!{sys.executable}
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({{
        "argv": args,
        "token": os.environ.get("ROCKY_ADMIN_TOKEN"),
        "token_file": os.environ.get("ROCKY_ADMIN_TOKEN_FILE"),
    }}) + "\\n")
if args[:1] == ["mint"] and "--out" in args:
    out = Path(args[args.index("--out") + 1])
    ids = {funnel_ids()!r}
    out.write_text(json.dumps({{
        "base_url": args[args.index("--base-url") + 1],
        "accounts": [{{"id": i, "key": "k-" + i, "secret": "s3cret-" + i}} for i in ids],
    }}))
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def test_every_script_is_found() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"mint-30.sh", "reset.sh", "deploy.sh"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_is_strict_bash(script: Path) -> None:
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    code = [line.strip() for line in lines[1:] if line.strip() and not line.startswith("#")]
    assert code[0] == "set -euo pipefail", "strict mode must come before any command"
    assert os.access(script, os.X_OK)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_exits_zero_with_usage(script: Path) -> None:
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=10, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")


@pytest.mark.skipif(
    shutil.which("shellcheck") is None,
    reason="shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)",
)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_is_clean(script: Path) -> None:
    result = subprocess.run(
        ["shellcheck", "--shell=bash", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout


@pytest.fixture
def fake_bot(tmp_path: Path) -> dict[str, str]:
    fake = tmp_path / "fake-rocky-bot"
    fake.write_text(FAKE_ROCKY_BOT)
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_ADMIN_TOKEN")}
    return {**env, "ROCKY_BOT_CMD": str(fake), "FAKE_LOG": str(tmp_path / "calls.log")}


def _calls(env: dict[str, str]) -> list[dict]:
    log = Path(env["FAKE_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _run(script: str, *args: str, env: dict[str, str], cwd: Path | None = None):
    return subprocess.run(
        [str(REPO / "scripts" / script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_mint_passes_the_token_by_environment_only_and_prints_the_ids(fake_bot, tmp_path) -> None:
    out = tmp_path / "keys.json"
    result = _run(
        "mint-30.sh",
        "http://127.0.0.1:8080",
        str(out),
        env={**fake_bot, "ROCKY_ADMIN_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr
    [call] = _calls(fake_bot)
    assert call["argv"] == ["mint", "--base-url", "http://127.0.0.1:8080", "--out", str(out)]
    assert call["token"] == TOKEN
    assert TOKEN not in " ".join(call["argv"])
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    printed = [line.strip() for line in result.stdout.splitlines()[1:]]
    assert printed == funnel_ids()
    assert len(printed) == 30
    assert "s3cret" not in result.stdout + result.stderr


def test_mint_passes_a_token_file_by_environment_only(fake_bot, tmp_path) -> None:
    token_file = tmp_path / "admin-token"
    out = tmp_path / "keys.json"
    env = {**fake_bot, "ROCKY_ADMIN_TOKEN_FILE": str(token_file)}
    result = _run("mint-30.sh", "http://127.0.0.1:8080", str(out), env=env)
    assert result.returncode == 0, result.stderr
    [call] = _calls(fake_bot)
    assert call["token_file"] == str(token_file) and call["token"] is None
    assert call["argv"] == ["mint", "--base-url", "http://127.0.0.1:8080", "--out", str(out)]


def test_mint_refuses_to_overwrite_keys(fake_bot, tmp_path) -> None:
    out = tmp_path / "keys.json"
    out.write_text("precious")
    result = _run(
        "mint-30.sh",
        "http://127.0.0.1:8080",
        str(out),
        env={**fake_bot, "ROCKY_ADMIN_TOKEN": TOKEN},
    )
    assert result.returncode != 0
    assert "refusing to overwrite" in result.stderr
    assert out.read_text() == "precious"
    assert _calls(fake_bot) == []


def test_mint_without_a_token_mints_nothing(fake_bot, tmp_path) -> None:
    result = _run("mint-30.sh", "http://127.0.0.1:8080", str(tmp_path / "k.json"), env=fake_bot)
    assert result.returncode != 0
    assert "ROCKY_ADMIN_TOKEN" in result.stderr and "ROCKY_ADMIN_TOKEN_FILE" in result.stderr
    assert _calls(fake_bot) == []


def test_mint_reports_a_failed_mint(fake_bot, tmp_path) -> None:
    env = {**fake_bot, "ROCKY_ADMIN_TOKEN": TOKEN, "FAKE_EXIT": "3"}
    result = _run("mint-30.sh", "http://127.0.0.1:8080", str(tmp_path / "k.json"), env=env)
    assert result.returncode != 0
    assert "rocky-bot mint failed (exit 3)" in result.stderr


def test_mint_defaults_to_the_repository_keys_file(fake_bot, tmp_path) -> None:
    # A copy of the script in a scratch "repository", so the default OUT is scratch/.keys.json.
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "mint-30.sh", repo / "scripts" / "mint-30.sh")
    result = subprocess.run(
        [str(repo / "scripts" / "mint-30.sh"), "https://demo.example"],
        env={**fake_bot, "ROCKY_ADMIN_TOKEN": TOKEN},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((repo / ".keys.json").read_text())["base_url"] == "https://demo.example"


def test_mint_rejects_a_base_url_that_is_not_a_url(fake_bot, tmp_path) -> None:
    result = _run(
        "mint-30.sh", "demo", str(tmp_path / "k"), env={**fake_bot, "ROCKY_ADMIN_TOKEN": "t"}
    )
    assert result.returncode != 0
    assert _calls(fake_bot) == []


def test_reset_passes_its_arguments_through(fake_bot, tmp_path) -> None:
    keys = str(tmp_path / "k.json")
    result = _run("reset.sh", "--keys", keys, "--flatten", "--yes", env=fake_bot)
    assert result.returncode == 0, result.stderr
    assert _calls(fake_bot)[0]["argv"] == ["reset", "--keys", keys, "--flatten", "--yes"]


def test_reset_defaults_to_the_repository_keys_file(fake_bot, tmp_path) -> None:
    result = _run("reset.sh", "--yes", env=fake_bot, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _calls(fake_bot)[0]["argv"] == ["reset", "--yes", "--keys", str(REPO / ".keys.json")]


def test_reset_exit_status_is_the_cli_s(fake_bot) -> None:
    result = _run("reset.sh", "--yes", env={**fake_bot, "FAKE_EXIT": "4"})
    assert result.returncode == 4
