"""The whole daemon against the real sandbox: the funnel forms, trades happen, caps hold, and a
clean stop leaves nothing on the book."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from fleet_harness import (
    mint_keys,
    one_order_per_side_violations,
    running_fleet,
    total_open_orders,
    worst_exposure_ratio,
)
from waiting import wait_for

from rocky_bot.keys import load_keys
from rocky_bot.sandbox.orders import OrderRequest

SYMBOLS = ("BTCUSDT", "ETHUSDT")


def funnel_formed(sandbox) -> bool:
    for symbol in SYMBOLS:
        book = sandbox.engine.book_summary(symbol)
        if book.bid_levels < 13 or book.ask_levels < 13:
            return False
        if book.spread_bps is None or book.spread_bps > 2.5:
            return False
    return True


async def test_funnel_forms_trades_happen_caps_hold_and_stop_leaves_nothing(sandbox, tmp_path):
    started_ms = int(time.time() * 1000)
    async with running_fleet(sandbox, tmp_path) as handle:
        assert await wait_for(lambda: funnel_formed(sandbox), 15, interval=0.1), [
            sandbox.engine.book_summary(s) for s in SYMBOLS
        ]
        violations: list[str] = []
        worst = 0.0
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            violations += one_order_per_side_violations(handle)
            worst = max(worst, worst_exposure_ratio(handle))
            await asyncio.sleep(0.2)
        assert await wait_for(
            lambda: all(sandbox.engine.trades_since(s, started_ms) > 0 for s in SYMBOLS),
            10,
            interval=0.1,
        )
        # make-before-break may show two orders for an instant; never persistently
        assert len(violations) <= 2, violations
        # worst case: the cap plus at most one order's notional
        assert worst <= 1.0 + 0.7, worst
        code = await handle.stop_and_wait()
        assert code == 0
        assert total_open_orders(sandbox) == 0


async def test_leftover_orders_from_an_earlier_run_are_cancelled_before_quoting(sandbox, tmp_path):
    keys_path = await mint_keys(sandbox, tmp_path / "keys.json", ["mm-l1-buy-05bps"])
    name = sandbox.keys.get(load_keys(keys_path).accounts[0].key).account
    for cid in ("earlier-run-1", "earlier-run-2"):  # an earlier run's orders, left behind
        sandbox.engine.submit(name, OrderRequest(
            "BTCUSDT", "BUY", "LIMIT", Decimal("0.0005"), Decimal("90000"), "GTC",
            client_order_id=cid,
        ))  # fmt: skip
    assert len(sandbox.engine.open_orders(name)) == 2
    async with running_fleet(sandbox, tmp_path, keys_path=keys_path):
        assert await wait_for(lambda: len(sandbox.engine.open_orders(name)) == 2, 10, interval=0.1)
        now = {o.client_order_id for o in sandbox.engine.open_orders(name)}
        assert not now & {"earlier-run-1", "earlier-run-2"}
        assert {o.symbol for o in sandbox.engine.open_orders(name)} == {"BTCUSDT", "ETHUSDT"}
