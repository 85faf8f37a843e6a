"""Shards by symbol with one keys file, against the real sandbox: two daemons run the same 30
accounts, one on BTCUSDT and one on ETHUSDT, and neither touches the other's orders.

Shard A (BTC) is started first and held still (no requotes, no taker trades), so its orders on
the exchange are a fixed set of ids: anything shard B does to them shows. Shard B (ETH) then
starts (its set-up cancels leftovers), trades, and stops (its stop cancels every order it has),
and A's orders are still the same, A's state never held one of B's, and A's user streams were
never cut (Binance gives both shards the same listenKey; B must not delete it on its stop).
"""

from __future__ import annotations

import asyncio

from fleet_harness import mint_keys, running_fleet
from waiting import wait_for

from rocky_bot.exchange.errors import RejectedError
from rocky_bot.funnel import funnel_ids

#: Shard A, held still: timers that never come round, band wake-ups off, takers capped at $1.
STILL = dict(
    symbols=("BTCUSDT",), band_wakeups=False, anchor_interval_s=600, ladder_interval_s=600,
    taker_interval_s=600, stagger=False, tape_max_gap_s=0, cap_taker_usd=1,
    symbol_shard=True,
)  # fmt: skip


def orders_on(handle, symbol: str) -> set[int]:
    engine = handle.sandbox.engine
    return {o.order_id for name in handle.account_names.values()
            for o in engine.open_orders(name, symbol)}  # fmt: skip


async def test_two_shards_on_one_keys_file_never_touch_each_others_orders(sandbox, tmp_path):
    keys = await mint_keys(sandbox, tmp_path / "keys.json", funnel_ids(30))
    async with running_fleet(sandbox, tmp_path, keys_path=keys, **STILL) as a:
        # A quotes its 26 levels on BTC, and nothing moves them
        assert await wait_for(lambda: len(orders_on(a, "BTCUSDT")) >= 26, 10, interval=0.1)
        await asyncio.sleep(0.5)
        before = orders_on(a, "BTCUSDT")
        taker = next(c for c in a.fleet.contexts if c.account_id == "taker-1")
        key_before = await taker.account.client.new_listen_key()  # the account's shared key
        traded_before = taker.state.traded_notional

        async with running_fleet(
            sandbox, tmp_path, keys_path=keys, symbols=("ETHUSDT",), symbol_shard=True
        ) as b:
            # B set itself up (cancelling its leftovers on ETH) and quotes and trades ETH
            assert await wait_for(lambda: len(orders_on(b, "ETHUSDT")) >= 26, 10, interval=0.1)
            assert await wait_for(
                lambda: taker.state.traded_notional > traded_before, 10, interval=0.1
            ), "A's taker-1 never counted B's taker-1 fills (the wallet they share)"
            assert orders_on(a, "BTCUSDT") == before
            # B's order events reach A's streams (same accounts) and stay out of A's state
            assert all(
                order.symbol == "BTCUSDT"
                for c in a.fleet.contexts
                for order in c.state.orders.values()
            )
            assert all(
                order.symbol == "ETHUSDT"
                for c in b.fleet.contexts
                for order in c.state.orders.values()
            )
            code = await b.stop_and_wait()
        assert code == 0
        assert orders_on(b, "ETHUSDT") == set()  # B left nothing behind on its symbol ...
        assert orders_on(a, "BTCUSDT") == before  # ... and touched nothing on A's
        # B's stop left the shared listenKey alive: A's streams were never cut
        assert await taker.account.client.new_listen_key() == key_before
        streams = [u.upkeep.stream for u in a.fleet.units]
        assert all(s is not None and s.connected for s in streams)
        try:
            await taker.account.client.keepalive_listen_key()
        except RejectedError as exc:  # -1125: the key is gone
            raise AssertionError(f"A's listenKey was deleted: {exc}") from None
