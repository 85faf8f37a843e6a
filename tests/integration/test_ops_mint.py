"""`rocky-bot mint` and `scripts/mint-30.sh` against a real sandbox: 30 funded accounts in a
mode-600 keys file, never overwritten (not even by two racing runs), the admin token from the
environment, a wrong token as one line; `--top-up` refills wallets at the exchange."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from decimal import Decimal
from pathlib import Path

from rocky_bot.funnel import funnel_ids
from rocky_bot.keys import load_keys

REPO = Path(__file__).resolve().parents[2]
MINT_30 = REPO / "scripts" / "mint-30.sh"
ROCKY_BOT = f"{sys.executable} -m rocky_bot"


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_")}
    return {**env, **extra}


async def run(*argv: str, cwd: Path, env: dict[str, str], timeout: float = 30):
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


async def mint(sandbox, cwd: Path, *args: str, token: str | None = None):
    env = env_with(ROCKY_ADMIN_TOKEN=token or sandbox.admin_token)
    return await run(
        sys.executable, "-m", "rocky_bot", "mint", "--base-url", sandbox.base_url, *args,
        cwd=cwd, env=env,
    )  # fmt: skip


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def exchange_wallet(sandbox, key: str) -> Decimal:
    return sandbox.engine.account_view(sandbox.keys.get(key).account).wallet_balance


async def test_mint_creates_the_30_funded_accounts_in_a_mode_600_file(sandbox, tmp_path):
    code, out, err = await mint(sandbox, tmp_path, "--out", "keys.json")
    assert code == 0, err
    path = tmp_path / "keys.json"
    assert mode(path) == 0o600
    keys = load_keys(path)  # valid for the daemon as written
    assert keys.base_url == sandbox.base_url
    assert [a.account_id for a in keys.accounts] == funnel_ids(30) and len(keys.accounts) == 30
    for account in keys.accounts:
        assert sandbox.keys.get(account.key) is not None  # the exchange knows every key
        assert exchange_wallet(sandbox, account.key) == 100
    printed = [line.strip() for line in out.splitlines()[1:]]
    assert printed == funnel_ids(30)
    assert not any(a.secret in out + err for a in keys.accounts)


async def test_mint_refuses_to_overwrite_keys_unless_forced(sandbox, tmp_path):
    path = tmp_path / "keys.json"
    assert (await mint(sandbox, tmp_path, "--out", "keys.json", "--accounts", "2"))[0] == 0
    before = path.read_text()
    code, _, err = await mint(sandbox, tmp_path, "--out", "keys.json")
    assert code == 78
    assert err.strip().splitlines() == [
        f"rocky-bot: {Path('keys.json')}: already exists; refusing to overwrite (use --force)"
    ]
    assert path.read_text() == before
    code, _, err = await mint(sandbox, tmp_path, "--out", "keys.json", "--force")
    assert code == 0, err
    assert len(load_keys(path).accounts) == 30 and mode(path) == 0o600


async def test_two_racing_mints_create_one_set_of_accounts(sandbox, tmp_path):
    results = await asyncio.gather(
        mint(sandbox, tmp_path, "--out", "keys.json"),
        mint(sandbox, tmp_path, "--out", "keys.json"),
    )
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 78], results
    loser_err = next(err for code, _, err in results if code == 78)
    assert "already exists" in loser_err
    keys = load_keys(tmp_path / "keys.json")
    assert len(keys.accounts) == 30
    assert len(sandbox.keys) == 30  # the loser minted nothing: no orphaned accounts or keys


async def test_a_wrong_admin_token_is_one_line_and_leaves_no_keys_file(sandbox, tmp_path):
    code, out, err = await mint(sandbox, tmp_path, "--out", "keys.json", token="not-the-token")
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "rocky-bot mint: /admin/v1/accounts: admin token refused (HTTP 401)"
    ]
    assert not (tmp_path / "keys.json").exists()  # a later run with the right token works
    assert len(sandbox.keys) == 0

    env = env_with()  # no ROCKY_ADMIN_TOKEN at all
    code, _, err = await run(
        sys.executable, "-m", "rocky_bot", "mint", "--base-url", sandbox.base_url,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert code == 78
    assert err.splitlines() == [
        "rocky-bot: admin token missing: set ROCKY_ADMIN_TOKEN, or ROCKY_ADMIN_TOKEN_FILE to a "
        "mode-600 file holding it (it is never taken from the command line)"
    ]


async def test_the_token_can_come_from_a_mode_600_file_and_never_from_argv(sandbox, tmp_path):
    token_file = tmp_path / "admin-token"
    token_file.write_text(sandbox.admin_token + "\n")
    token_file.chmod(0o644)
    env = env_with(ROCKY_ADMIN_TOKEN_FILE=str(token_file))
    argv = (sys.executable, "-m", "rocky_bot", "mint", "--base-url", sandbox.base_url)
    code, out, err = await run(*argv, "--out", "keys.json", cwd=tmp_path, env=env)
    assert code == 78
    assert err.splitlines() == [
        f"rocky-bot: {token_file}: readable by group or others (mode 644); "
        f"fix with: chmod 600 {token_file}"
    ]
    assert len(sandbox.keys) == 0 and not (tmp_path / "keys.json").exists()

    token_file.chmod(0o600)
    code, out, err = await run(
        *argv, "--out", "keys.json", "--accounts", "2", cwd=tmp_path, env=env
    )
    assert code == 0, err
    assert len(load_keys(tmp_path / "keys.json").accounts) == 2
    assert sandbox.admin_token not in out + err


async def test_a_forced_mint_through_a_planted_symlink_leaves_its_target_alone(sandbox, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "keys.json").symlink_to(victim)
    (tmp_path / "keys.json.tmp").symlink_to(victim)  # where the old code wrote its temp file
    code, _, err = await mint(sandbox, tmp_path, "--out", "keys.json", "--accounts", "2", "--force")
    assert code == 0, err
    assert victim.read_text() == "precious\n"
    keys = tmp_path / "keys.json"
    assert not keys.is_symlink() and mode(keys) == 0o600
    assert len(load_keys(keys).accounts) == 2


async def test_top_up_is_fund_refilling_wallets_under_the_floor(sandbox, tmp_path):
    """`mint --top-up` is `rocky-bot fund`: wallets under half the seed go back to --amount."""
    assert (await mint(sandbox, tmp_path, "--out", "keys.json", "--amount", "15"))[0] == 0
    keys = load_keys(tmp_path / "keys.json")
    assert all(exchange_wallet(sandbox, a.key) == 15 for a in keys.accounts)
    code, out, err = await mint(sandbox, tmp_path, "--out", "keys.json", "--top-up")
    assert code == 0, err
    for account in keys.accounts:
        assert exchange_wallet(sandbox, account.key) == 100
    rows = out.splitlines()
    assert len(rows) == 32 and rows[1].split()[:3] == ["mm-anchor", "15.00", "+85.00"]
    assert rows[-1].startswith("30 funded (+2550.00 USDT)")
    # a wrong token cannot top up either: every account's row says so, exit 1
    env = env_with(ROCKY_ADMIN_TOKEN="x", ROCKY_WALLET_SEED_USD="300")  # floor 150 > 100
    code, out, err = await run(
        sys.executable, "-m", "rocky_bot", "mint", "--base-url", sandbox.base_url, "--out",
        "keys.json", "--top-up", "--amount", "200", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert code == 1 and out.count("admin token refused (HTTP 401)") == 30 and "failed" in err
    assert exchange_wallet(sandbox, keys.accounts[0].key) == 100


async def test_mint_30_script_end_to_end_prints_the_30_ids(sandbox, tmp_path):
    out_path = tmp_path / "fleet-keys.json"
    env = env_with(ROCKY_ADMIN_TOKEN=sandbox.admin_token, ROCKY_BOT_CMD=ROCKY_BOT)
    code, out, err = await run(
        "bash", str(MINT_30), sandbox.base_url, str(out_path), cwd=tmp_path, env=env
    )
    assert code == 0, err
    assert mode(out_path) == 0o600
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("minted 30 accounts on "))
    assert [line.strip() for line in lines[start + 1 :]] == funnel_ids(30)
    doc = json.loads(out_path.read_text())
    assert all(sandbox.keys.get(a["key"]) is not None for a in doc["accounts"])
    assert sandbox.admin_token not in out + err

    code, _, err = await run(
        "bash", str(MINT_30), sandbox.base_url, str(out_path), cwd=tmp_path, env=env
    )
    assert code == 1
    assert "refusing to overwrite" in err
    assert json.loads(out_path.read_text()) == doc
