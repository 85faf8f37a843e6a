"""`rocky-bot reset` against a real sandbox holding a fleet's leftovers: every open order and (with
--flatten) every position really gone at the exchange, a table per account, non-zero when an
account could not be reset, and no action without --yes unless a person answers on a terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import sys
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from helpers import mint

from rocky_bot.keys import write_keys
from rocky_bot.sandbox.orders import OrderRequest

REPO = Path(__file__).resolve().parents[2]
TICK = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01")}
QTY = {"BTCUSDT": Decimal("0.0005"), "ETHUSDT": Decimal("0.01")}


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_")}
    return {**env, **extra}


async def run(*argv: str, cwd: Path, stdin=asyncio.subprocess.DEVNULL, timeout: float = 30):
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env_with(ROCKY_BOT_CMD=f"{sys.executable} -m rocky_bot"),
        stdin=stdin, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def reset_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rocky_bot", "reset", "--keys", "keys.json", *args]


def price(sandbox, symbol: str, factor: str) -> Decimal:
    raw = sandbox.prices.mid(symbol) * Decimal(factor)
    return raw.quantize(TICK[symbol], rounding=ROUND_DOWN)


def limit(sandbox, name: str, symbol: str, side: str, factor: str, qty: Decimal | None = None):
    return sandbox.engine.submit(
        name,
        OrderRequest(
            symbol, side, "LIMIT", qty or QTY[symbol], price(sandbox, symbol, factor), "GTC"
        ),
    )


def position(sandbox, name: str, symbol: str) -> Decimal:
    view = sandbox.engine.account_view(name)
    return next((p.amount for p in view.positions if p.symbol == symbol), Decimal(0))


async def fleet_leftovers(sandbox, tmp_path: Path, ids: list[str]) -> Path:
    """Accounts (sandbox name = bot id) with what a killed fleet leaves: resting orders on both
    symbols, and positions from makers and a taker that traded each other; plus a liquidity
    provider outside the keys file, as on a real venue, for the flattening orders to trade with."""
    minted = [(i, *(await mint(sandbox, i, 1000))) for i in ids]
    write_keys(tmp_path / "keys.json", sandbox.base_url, minted)
    for symbol in TICK:  # maker buys, the taker sells into it: both hold a position
        limit(sandbox, "mm-l1-buy-05bps", symbol, "BUY", "1")
        limit(sandbox, "taker-1", symbol, "SELL", "1")
        assert position(sandbox, "mm-l1-buy-05bps", symbol) == QTY[symbol]
        assert position(sandbox, "taker-1", symbol) == -QTY[symbol]
    await mint(sandbox, "liquidity", 100_000)
    for symbol in TICK:
        limit(sandbox, "liquidity", symbol, "BUY", "0.99", QTY[symbol] * 20)
        limit(sandbox, "liquidity", symbol, "SELL", "1.01", QTY[symbol] * 20)
    for name in ids:  # resting quotes far from the liquidity, as ladders leave them
        for symbol in TICK:
            limit(sandbox, name, symbol, "BUY", "0.97")
            limit(sandbox, name, symbol, "SELL", "1.03")
    return tmp_path / "keys.json"


async def test_reset_flatten_leaves_no_order_and_no_position_at_the_exchange(sandbox, tmp_path):
    ids = ["mm-anchor", "mm-l1-buy-05bps", "taker-1"]
    await fleet_leftovers(sandbox, tmp_path, ids)
    assert all(len(sandbox.engine.open_orders(i)) == 4 for i in ids)

    code, out, err = await run(*reset_cli("--flatten", "--yes"), cwd=tmp_path)

    assert code == 0, out + err
    for name in ids:
        assert sandbox.engine.open_orders(name) == []
        for symbol in TICK:
            assert position(sandbox, name, symbol) == 0
    assert len(sandbox.engine.open_orders("liquidity")) == 4  # not ours: untouched
    lines = out.splitlines()
    assert lines[0].split() == ["account", "cancelled", "closed", "result"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows == {
        "mm-anchor": ["4", "0", "ok"],
        "mm-l1-buy-05bps": ["4", "2", "ok"],
        "taker-1": ["4", "2", "ok"],
    }


async def test_reset_without_flatten_cancels_orders_and_keeps_positions(sandbox, tmp_path):
    ids = ["mm-l1-buy-05bps", "taker-1"]
    await fleet_leftovers(sandbox, tmp_path, ids)
    code, out, err = await run(*reset_cli("--yes"), cwd=tmp_path)
    assert code == 0, out + err
    assert all(sandbox.engine.open_orders(i) == [] for i in ids)
    assert position(sandbox, "taker-1", "BTCUSDT") == -QTY["BTCUSDT"]


async def test_an_account_the_exchange_does_not_know_makes_reset_exit_non_zero(sandbox, tmp_path):
    key, secret = await mint(sandbox, "mm-anchor", 1000)
    write_keys(
        tmp_path / "keys.json", sandbox.base_url,
        [("mm-anchor", key, secret), ("mm-l2-buy-15bps", "unknown-key", "unknown-secret")],
    )  # fmt: skip
    limit(sandbox, "mm-anchor", "BTCUSDT", "BUY", "0.97")

    code, out, err = await run(*reset_cli("--yes"), cwd=tmp_path)

    assert code == 1
    assert sandbox.engine.open_orders("mm-anchor") == []  # the others are still reset
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert rows["mm-anchor"].split()[1:] == ["1", "0", "ok"]
    assert "-2015" in rows["mm-l2-buy-15bps"]
    assert err.strip() == "1 account(s) could not be reset"
    assert "unknown-secret" not in out + err


async def test_reset_refuses_without_yes_off_a_terminal_and_asks_on_one(sandbox, tmp_path):
    key, secret = await mint(sandbox, "mm-anchor", 1000)
    write_keys(tmp_path / "keys.json", sandbox.base_url, [("mm-anchor", key, secret)])
    limit(sandbox, "mm-anchor", "BTCUSDT", "BUY", "0.97")

    for argv in (reset_cli(), ["bash", str(REPO / "scripts/reset.sh"), "--keys", "keys.json"]):
        code, out, err = await run(*argv, cwd=tmp_path)  # stdin is /dev/null
        assert code == 2, argv
        assert "refusing without --yes" in err
        assert len(sandbox.engine.open_orders("mm-anchor")) == 1

    # on a terminal it asks; "n" does nothing, "y" resets
    for answer, expected_code, left in (("n", 1, 1), ("y", 0, 0)):
        controller, terminal = pty.openpty()
        try:
            os.write(controller, f"{answer}\n".encode())
            code, out, _ = await run(*reset_cli(), cwd=tmp_path, stdin=terminal)
        finally:
            os.close(terminal)
            os.close(controller)
        assert code == expected_code, out
        assert "cancel every open order of 1 accounts on" in out
        assert len(sandbox.engine.open_orders("mm-anchor")) == left
