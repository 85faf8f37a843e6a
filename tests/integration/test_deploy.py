"""deploy/deploy.sh end to end against a local "host".

HOST is a directory: a fake ssh (DEPLOY_SSH) records every remote command and runs it locally
with HOME set to a fake remote home, where fake `uv`, `systemctl`, `journalctl` and `loginctl`
record their arguments. rsync is the real one, tunnelled through the fake ssh exactly as it
would be through ssh, so what lands on the "host" is what a real deploy would copy.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "bot-host"

FAKE_SSH = """#!/usr/bin/env bash
set -euo pipefail
while [[ "$1" == -* ]]; do  # ssh options rsync may pass (-l user, ...)
  if [[ "$1" == -l || "$1" == -p || "$1" == -o || "$1" == -i ]]; then shift; fi
  shift
done
host="$1"
shift
printf '%s\\t%s\\n' "$host" "$*" >>"$FAKE_SSH_LOG"
cd "$FAKE_REMOTE_HOME"
HOME="$FAKE_REMOTE_HOME" exec sh -c "$*"
"""

# A fake tool: records "name args..." and fails when FAKE_FAIL names its first real argument.
FAKE_TOOL = """#!/usr/bin/env bash
name="$(basename "$0")"
printf '%s %s\\n' "$name" "$*" >>"$FAKE_CMD_LOG"
for arg in "$@"; do
  case "$arg" in --*) ;; *) if [[ "$name $arg" == "${FAKE_FAIL:-}" ]]; then
    echo "$name: $arg failed (fake)" >&2; exit 1; fi; break ;; esac
done
case "$name" in
  uv) mkdir -p .venv/bin && printf '#!/bin/sh\\n' >.venv/bin/rocky-bot ;;
  journalctl) echo '{"event": "fleet_ready", "level": "info"}' ;;
  loginctl) echo yes ;;
esac
"""


@dataclass
class Env:
    src: Path
    remote_home: Path
    ssh_log: Path
    cmd_log: Path
    env: dict[str, str]

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.src / "deploy" / "deploy.sh"), *args],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def commands(self) -> list[str]:
        if not self.cmd_log.exists():
            return []
        return [line for line in self.cmd_log.read_text().splitlines() if line]

    def remote(self, rel: str = "") -> Path:
        """A path in the host's DEPLOY_DIR (default ~/rocky-bot)."""
        return self.remote_home / "rocky-bot" / rel


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


@pytest.fixture
def deploy_env(tmp_path: Path) -> Env:
    # A small source tree with the real deploy files, plus everything that must never be shipped.
    src = tmp_path / "src"
    for name in ("deploy.sh", *UNIT_FILES):
        _write(src / "deploy" / name, (REPO / "deploy" / name).read_text(), 0o755)
    _write(src / "pyproject.toml", "[project]\nname = 'rocky-bot'\n")
    _write(src / "uv.lock", "version = 1\n")
    _write(src / "rocky_bot" / "__init__.py", "")
    _write(src / "rocky_bot" / "keys.py", "# code, not a secret\n")
    _write(src / "README.md", "# rocky-bot\n")
    _write(src / "scripts" / "mint-30.sh", "#!/usr/bin/env bash\n", 0o755)
    for junk in (*NOT_NEEDED, *SECRETS_LYING_AROUND):
        _write(src / junk, "junk\n")
    _write(src / ".keys.json", '{"accounts": []}\n', 0o600)
    _write(src / "keys" / "eu-1.json", '{"accounts": []}\n', 0o600)
    _write(src / "keys" / "eu-2.json", '{"accounts": []}\n', 0o600)

    bin_dir = tmp_path / "bin"
    _write(bin_dir / "fake-ssh", FAKE_SSH, 0o755)
    for tool in ("uv", "systemctl", "journalctl", "loginctl"):
        _write(bin_dir / tool, FAKE_TOOL, 0o755)
    remote_home = tmp_path / "remote-home"
    remote_home.mkdir()
    # the funding timer's admin token, put there by hand once (README, Funding)
    _write(remote_home / ".config" / "rocky-bot" / "admin-token", "token\n", 0o600)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path / "local-home"),
        "LANG": "C.UTF-8",
        "DEPLOY_SSH": str(bin_dir / "fake-ssh"),
        "FAKE_SSH_LOG": str(tmp_path / "ssh.log"),
        "FAKE_CMD_LOG": str(tmp_path / "cmd.log"),
        "FAKE_REMOTE_HOME": str(remote_home),
    }
    return Env(src, remote_home, tmp_path / "ssh.log", tmp_path / "cmd.log", env)


UNIT_FILES = (
    "rocky-bot.service", "rocky-bot@.service", "rocky-bot-fund.service", "rocky-bot-fund.timer",
    "rocky-bot-fund@.service", "rocky-bot-fund@.timer",
)  # fmt: skip

#: In a working tree, not needed by the service: never shipped (an allow-list decides).
NOT_NEEDED = (
    ".git/HEAD",
    ".venv/bin/python",
    ".sandbox/state.json",
    "rocky_bot/__pycache__/keys.cpython-311.pyc",
    ".pytest_cache/v/x",
    ".ruff_cache/x",
    "tests/test_x.py",
    "notes.txt",
    "docs/page.png",
)
#: Secrets that end up in a working tree: never shipped, not even with --with-keys.
SECRETS_LYING_AROUND = (
    ".env",
    ".env.local",
    "keys.json",
    "prod.keys.json",
    "x.keys.json.tmp",
    ".keys.json.bak",
    ".keys.example.json",
    "scripts/prod.keys.json",
    "rocky_bot/.env.dev",
    "deploy/staging.keys.json",
)

needs_rsync = pytest.mark.skipif(
    shutil.which("rsync") is None,
    reason="rsync is not installed (apt-get install rsync; .ci/run installs it)",
)


@needs_rsync
def test_deploy_copies_the_tree_and_restarts_the_unit_in_order(deploy_env: Env) -> None:
    _write(deploy_env.remote(".keys.json"), "{}", 0o600)  # minted on the host earlier
    result = deploy_env.run(HOST)
    assert result.returncode == 0, result.stderr

    remote = deploy_env.remote()
    assert (remote / "rocky_bot" / "keys.py").read_text() == "# code, not a secret\n"
    for needed in ("pyproject.toml", "uv.lock", "README.md", "scripts/mint-30.sh"):
        assert (remote / needed).exists(), needed
    assert os.access(remote / "deploy" / "deploy.sh", os.X_OK)
    for never in (*NOT_NEEDED, "rocky_bot/__pycache__", ".pytest_cache", "tests", "docs", "keys"):
        assert not (remote / never).exists(), never
    assert (remote / ".keys.json").read_text() == "{}", "the host's own keys are left alone"
    assert not (remote / ".venv" / "bin" / "python").exists()  # the host builds its own venv

    for name in ("rocky-bot.service", "rocky-bot-fund.service", "rocky-bot-fund.timer"):
        unit = deploy_env.remote_home / ".config/systemd/user" / name
        assert unit.read_text() == (REPO / "deploy" / name).read_text(), name
    assert not (deploy_env.remote_home / ".config/systemd/user/rocky-bot@.service").exists()
    assert deploy_env.commands() == [
        f"loginctl show-user {pwd.getpwuid(os.getuid()).pw_name} -p Linger --value",
        "uv sync --frozen --no-dev",
        "systemctl --user daemon-reload",
        "systemctl --user enable rocky-bot.service rocky-bot-fund.timer",
        "systemctl --user restart rocky-bot.service",
        "systemctl --user restart rocky-bot-fund.timer",
        "systemctl --user --no-pager --full status rocky-bot.service",
        "journalctl --user -u rocky-bot.service -n 30 --no-pager",
    ]
    assert "fleet_ready" in result.stdout  # the journal lines are shown


@needs_rsync
def test_keys_are_never_copied_without_with_keys(deploy_env: Env) -> None:
    result = deploy_env.run(HOST)
    assert result.returncode != 0
    assert not deploy_env.remote(".keys.json").exists()
    assert not deploy_env.remote("keys").exists()
    assert "check keys" in result.stderr and "--with-keys" in result.stderr
    assert not any(c.startswith("systemctl --user restart") for c in deploy_env.commands())


@needs_rsync
@pytest.mark.parametrize("with_keys", [False, True])
def test_secrets_lying_around_are_never_shipped(deploy_env: Env, with_keys: bool) -> None:
    if not with_keys:
        _write(deploy_env.remote(".keys.json"), "{}", 0o600)
    result = deploy_env.run(HOST, *(["--with-keys"] if with_keys else []))
    assert result.returncode == 0, result.stderr
    shipped = {str(p.relative_to(deploy_env.remote())) for p in deploy_env.remote().rglob("*")}
    assert not shipped & set(SECRETS_LYING_AROUND), shipped & set(SECRETS_LYING_AROUND)
    assert not [p for p in shipped if "keys" in p and p.endswith(".json") and p != ".keys.json"]
    assert (".keys.json" in shipped) is True  # the host's own, or the one --with-keys copied


@needs_rsync
def test_keys_files_others_can_read_on_the_host_are_set_to_600_and_reported(
    deploy_env: Env,
) -> None:
    # left by hand or by an older deploy.sh that shipped them with their local mode
    for name, mode in ((".keys.json", 0o644), ("prod.keys.json", 0o640), (".env.local", 0o604)):
        _write(deploy_env.remote(name), "{}", mode)
    _write(deploy_env.remote("keys/eu-1.json"), "{}", 0o600)
    deploy_env.remote("keys").chmod(0o755)
    _write(deploy_env.remote("rocky_bot/ok.keys.json"), "{}", 0o600)
    result = deploy_env.run(HOST)
    assert result.returncode == 0, result.stderr
    for name in (".keys.json", "prod.keys.json", ".env.local", "keys/eu-1.json"):
        assert stat.S_IMODE(deploy_env.remote(name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(deploy_env.remote("keys").stat().st_mode) == 0o700
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert sorted(warnings) == [
        "warning: ./.env.local was mode 604 on this host, others could read it: set to 600 "
        "(rotate what it holds if they may have read it)",
        "warning: ./.keys.json was mode 644 on this host, others could read it: set to 600 "
        "(rotate what it holds if they may have read it)",
        "warning: ./prod.keys.json was mode 640 on this host, others could read it: set to 600 "
        "(rotate what it holds if they may have read it)",
        "warning: keys/ was open to others on this host: set to 700",
    ]
    assert deploy_env.run(HOST).stderr.count("warning: ") == 0  # said once, then fixed


@needs_rsync
def test_a_keys_file_whose_mode_cannot_be_fixed_stops_the_deploy(deploy_env: Env) -> None:
    _write(deploy_env.remote(".keys.json"), "{}", 0o644)
    bin_dir = Path(deploy_env.env["DEPLOY_SSH"]).parent
    fake_chmod = (
        '#!/bin/sh\n[ "$1" = 600 ] || exec /bin/chmod "$@"\necho "chmod: EPERM" >&2\nexit 1\n'
    )
    _write(bin_dir / "chmod", fake_chmod, 0o755)  # as for a file owned by someone else
    result = deploy_env.run(HOST)
    assert result.returncode != 0
    assert "./.keys.json is mode 644 on this host and cannot be set to 600" in result.stderr
    assert "step 'check keys' failed" in result.stderr
    assert not any(c.startswith("systemctl --user restart") for c in deploy_env.commands())


@needs_rsync
def test_a_host_without_the_admin_token_file_is_warned_that_funding_will_fail(
    deploy_env: Env,
) -> None:
    (deploy_env.remote_home / ".config" / "rocky-bot" / "admin-token").unlink()
    result = deploy_env.run(HOST, "--with-keys")
    assert result.returncode == 0, result.stderr  # the daemon runs; funding waits for the token
    assert "warning: no ~/.config/rocky-bot/admin-token on this host" in result.stderr
    assert "systemctl --user restart rocky-bot-fund.timer" in deploy_env.commands()


@needs_rsync
def test_with_keys_sends_a_symlinked_keys_file_as_the_file(deploy_env: Env, tmp_path) -> None:
    real = tmp_path / "vault" / "fleet.json"
    _write(real, '{"accounts": ["real"]}\n', 0o600)
    (deploy_env.src / ".keys.json").unlink()
    (deploy_env.src / ".keys.json").symlink_to(real)
    result = deploy_env.run(HOST, "--with-keys")
    assert result.returncode == 0, result.stderr
    keys = deploy_env.remote(".keys.json")
    assert not keys.is_symlink() and keys.read_text() == '{"accounts": ["real"]}\n'
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600


@needs_rsync
def test_with_keys_lands_the_keys_file_with_mode_600(deploy_env: Env) -> None:
    (deploy_env.src / ".keys.json").chmod(0o644)  # even a carelessly readable local copy
    result = deploy_env.run(HOST, "--with-keys")
    assert result.returncode == 0, result.stderr
    keys = deploy_env.remote(".keys.json")
    assert keys.read_text() == '{"accounts": []}\n'
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert not deploy_env.remote("keys").exists()  # shards' keys only for shards


@needs_rsync
def test_shards_install_the_template_and_only_their_keys(deploy_env: Env) -> None:
    result = deploy_env.run(HOST, "--with-keys", "--shard", "eu-1")
    assert result.returncode == 0, result.stderr
    keys = deploy_env.remote("keys/eu-1.json")
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(deploy_env.remote("keys").stat().st_mode) == 0o700
    assert not deploy_env.remote("keys/eu-2.json").exists()
    assert not deploy_env.remote(".keys.json").exists()
    for name in ("rocky-bot@.service", "rocky-bot-fund@.service", "rocky-bot-fund@.timer"):
        template = deploy_env.remote_home / ".config/systemd/user" / name
        assert template.read_text() == (REPO / "deploy" / name).read_text(), name
    assert "systemctl --user restart rocky-bot@eu-1.service" in deploy_env.commands()
    assert "systemctl --user enable rocky-bot@eu-1.service rocky-bot-fund@eu-1.timer" in (
        deploy_env.commands()
    )
    assert "systemctl --user restart rocky-bot-fund@eu-1.timer" in deploy_env.commands()


@needs_rsync
def test_deploy_dir_is_honoured_and_written_into_the_unit(deploy_env: Env, tmp_path: Path) -> None:
    target = tmp_path / "opt" / "bot"
    result = deploy_env.run(HOST, "--with-keys", DEPLOY_DIR=str(target))
    assert result.returncode == 0, result.stderr
    assert (target / "rocky_bot" / "keys.py").exists()
    assert stat.S_IMODE((target / ".keys.json").stat().st_mode) == 0o600
    unit = (deploy_env.remote_home / ".config/systemd/user/rocky-bot.service").read_text()
    assert f"ExecStart={target}/.venv/bin/rocky-bot run --keys {target}/.keys.json" in unit
    assert "%h/rocky-bot" not in unit
    fund = (deploy_env.remote_home / ".config/systemd/user/rocky-bot-fund.service").read_text()
    assert f"ExecStart={target}/.venv/bin/rocky-bot fund --keys {target}/.keys.json" in fund
    assert "%h/rocky-bot/" not in fund


@needs_rsync
def test_a_second_deploy_deletes_removed_files_but_keeps_the_venv(deploy_env: Env) -> None:
    assert deploy_env.run(HOST, "--with-keys").returncode == 0
    (deploy_env.src / "rocky_bot" / "keys.py").unlink()
    assert deploy_env.run(HOST).returncode == 0
    remote = deploy_env.remote()
    assert not (remote / "rocky_bot" / "keys.py").exists()
    assert (remote / ".venv" / "bin" / "rocky-bot").exists()
    assert (remote / ".keys.json").exists()


@needs_rsync
@pytest.mark.parametrize("failing", ["daemon-reload", "restart"])
def test_a_failing_step_stops_the_deploy_and_names_the_step(deploy_env: Env, failing) -> None:
    _write(deploy_env.remote(".keys.json"), "{}", 0o600)
    result = deploy_env.run(HOST, FAKE_FAIL=f"systemctl {failing}")
    assert result.returncode != 0
    assert f"step '{failing}' failed" in result.stderr
    commands = deploy_env.commands()
    assert commands[-1].startswith("journalctl" if failing == "restart" else "systemctl")
    assert not any(" status " in c for c in commands), "nothing after the failing step runs"
    if failing == "daemon-reload":
        assert not any("restart" in c for c in commands)


@needs_rsync
def test_missing_uv_on_the_host_fails_before_copying(deploy_env: Env) -> None:
    if shutil.which("uv", path="/usr/bin:/bin"):
        pytest.skip("a system-wide uv is installed in /usr/bin or /bin here")
    bin_dir = Path(deploy_env.env["DEPLOY_SSH"]).parent
    (bin_dir / "uv").unlink()
    result = deploy_env.run(HOST, PATH=f"{bin_dir}:/usr/bin:/bin")
    assert result.returncode != 0
    assert "step 'prepare' failed" in result.stderr
    assert "uv is not installed" in result.stderr
    assert not deploy_env.remote("pyproject.toml").exists()


def test_dry_run_prints_the_plan_and_changes_nothing(deploy_env: Env) -> None:
    result = deploy_env.run(HOST, "--dry-run", "--with-keys")
    assert result.returncode == 0, result.stderr
    assert "uv sync --frozen --no-dev" in result.stdout
    assert "systemctl --user restart rocky-bot.service" in result.stdout
    assert "--chmod=F600" in result.stdout
    assert not deploy_env.ssh_log.exists()
    assert deploy_env.commands() == []
    before = [deploy_env.remote_home / ".config" / "rocky-bot" / "admin-token"]
    assert [p for p in deploy_env.remote_home.rglob("*") if p.is_file()] == before


def test_usage_errors_exit_non_zero_without_touching_the_host(deploy_env: Env) -> None:
    assert deploy_env.run().returncode == 2
    assert deploy_env.run(HOST, "--bogus").returncode != 0
    assert deploy_env.run(HOST, "--shard", "../etc").returncode != 0
    assert deploy_env.run(HOST, DEPLOY_DIR="~/with space").returncode != 0
    assert not deploy_env.ssh_log.exists()


def test_a_tree_without_the_package_is_not_deployed(deploy_env: Env) -> None:
    (deploy_env.src / "uv.lock").unlink()  # e.g. run from the wrong directory
    result = deploy_env.run(HOST)
    assert result.returncode != 0 and "no " in result.stderr and "uv.lock" in result.stderr
    assert not deploy_env.ssh_log.exists()
