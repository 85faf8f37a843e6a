"""Fleet behaviours a user relies on, each against the real sandbox with compressed timings."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from fleet_harness import running_fleet
from waiting import wait_for

from rocky_bot.fleet import Fleet


async def test_a_mid_move_requotes_at_once_not_on_the_next_heartbeat(sandbox, tmp_path):
    """The loop's timer is 30 s here: only the band wake-up can explain a prompt requote."""
    async with running_fleet(
        sandbox, tmp_path, ids=["mm-l1-buy-05bps"], ladder_interval_s=30, ladder_jitter_s=0,
        stagger=False, drift_jitter=0,
    ) as handle:  # fmt: skip
        name = handle.account_names["mm-l1-buy-05bps"]

        def btc_order():
            orders = [o for o in sandbox.engine.open_orders(name, "BTCUSDT")]
            return orders[0] if len(orders) == 1 else None

        assert await wait_for(lambda: btc_order() is not None, 5, interval=0.02)
        before = btc_order().price
        sandbox.prices.jump(0.3)  # +30 bps: far outside the 2 bps drift band
        moved = time.monotonic()
        target = sandbox.prices.mid("BTCUSDT") * Decimal("0.9995")
        assert await wait_for(
            lambda: btc_order() is not None and abs(btc_order().price - target) / target < 2e-4,
            3,
            interval=0.02,
        ), (before, btc_order(), target)
        assert time.monotonic() - moved < 3  # vs a 30 s heartbeat


async def test_takers_without_ioc_cancel_their_leftovers(sandbox, tmp_path):
    """With IOC off (the spec's mode) a taker's unfilled GTC rest is cancelled next iteration."""
    async with running_fleet(
        sandbox, tmp_path, ids=["taker-1"], taker_ioc=False, taker_interval_s=0.5,
        taker_jitter_s=0, stagger=False,
    ) as handle:  # fmt: skip
        name = handle.account_names["taker-1"]
        # no makers: every taker order rests unfilled; at most one per symbol may be live
        peak = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            peak = max(peak, len(sandbox.engine.open_orders(name, "BTCUSDT")))
            await asyncio.sleep(0.05)
        placed = handle.fleet.metrics.registry.get_sample_value(
            "rocky_orders_placed_total", {"account": "taker-1", "role": "taker"}
        )
        assert placed >= 4
        assert peak == 1
        tif = {o.time_in_force for o in sandbox.engine.open_orders(name)}
        assert tif <= {"GTC"}


async def test_a_crashed_task_is_logged_and_restarted(sandbox, tmp_path):
    async with running_fleet(sandbox, tmp_path, ids=["mm-anchor"]) as handle:
        fleet: Fleet = handle.fleet
        runs = []

        async def flaky() -> None:
            runs.append(time.monotonic())
            if len(runs) < 3:
                raise RuntimeError("boom")
            await asyncio.Event().wait()

        fleet.spawn("flaky[test]", flaky)
        assert await wait_for(lambda: len(runs) == 3, 5, interval=0.02)
        assert fleet.restarts >= 2


async def test_an_implausible_first_tick_after_a_reconnect_is_never_the_mid(sandbox, tmp_path):
    """With nothing to compare it with, the first tick after a reconnect is bounded by the
    exchange's own PRICE_FILTER (maxPrice 4529764 for the sandbox's BTCUSDT), read from
    exchangeInfo by the fleet: a 9,000,000 tick is a bad frame, not the mid."""
    async with running_fleet(sandbox, tmp_path, ids=["mm-anchor"]) as handle:
        feed = handle.fleet.feed
        before = feed.mid("BTCUSDT")
        await sandbox.fault_injector.apply(feed_freeze=True)  # no real tick gets in first
        reconnects = feed.stats.reconnects
        await sandbox.reference.drop_all()
        assert await wait_for(
            lambda: feed.stats.reconnects > reconnects and sandbox.reference.connection_count,
            5, interval=0.01,
        )  # fmt: skip
        sandbox.reference.publish_raw(
            "BTCUSDT",
            '{"e":"bookTicker","u":1,"E":1,"T":1,"s":"BTCUSDT","b":"9000000","B":"1",'
            '"a":"9000000","A":"1"}',
        )
        assert await wait_for(
            lambda: feed.stats.bad_messages.get("implausible") == 1, 3, interval=0.01
        )
        assert feed.mid("BTCUSDT") == before
        await sandbox.fault_injector.apply(feed_freeze=False)
        assert await wait_for(lambda: feed.mid("BTCUSDT") != before, 3, interval=0.01)
