"""The fault matrix, combined scenarios: the exchange down, a storm of 503s and timeouts, and a
feed that drops while the price jumps.

Compressed (scenario.MATRIX timings, so the daemon's reactions shrink with them):
- "exchange down 30 s" is down 8 s: longer than the dead-man countdown (6 s here; 300 s by
  default since issue 14, which 30 s would no longer exceed), so the exchange empties the book by
  itself while the daemon cannot reach it;
- "503 + timeouts at 20 % for 60 s" runs 10 s: ~1,000 requests, each breaker's 60 s error window
  still covers the whole storm.
"""

from __future__ import annotations

import asyncio
import time

from scenario import eventually, run_scenario

DOWN_S = 8.0


async def test_exchange_down_then_back(tmp_path):
    """Listener closed and every connection cut (REST, market data, user streams) for 8 s."""
    emptied: list[float] = []

    async def inject(inv):
        sandbox = inv.sandbox
        went_down = time.monotonic()

        async def watch_book() -> None:
            await eventually(lambda: not sandbox.engine.open_order_count(), DOWN_S + 5)
            emptied.append(time.monotonic() - went_down)

        asyncio.get_running_loop().create_task(watch_book())
        await sandbox.fault_injector.go_down(DOWN_S)

    async def back(inv):  # it comes back by itself; clear() would only hurry it
        assert inv.sandbox.fault_injector.snapshot()["down_remaining_s"] is None

    out = await run_scenario(
        tmp_path, inject=inject, hold_s=DOWN_S + 0.2, clear=back, grace_s=1.0, refuses=True,
        deadman_countdown_s=6.0,
    )  # fmt: skip
    # The dead-man switch emptied the book within its countdown (+ the sandbox's 100 ms poll).
    assert emptied and emptied[0] <= 6.0 + 0.5, emptied
    assert '"breaker_tripped"' in out.log and '"feed_disconnected"' in out.log
    print(f"\nexchange down {DOWN_S:g}s: book emptied by the dead-man after {emptied[0]:.2f}s, "
          f"funnel back {out.recovery_s:.2f}s after the exchange")  # fmt: skip


async def test_503_and_timeouts_at_20_percent(tmp_path):
    """Both faults together for 10 s: unknown outcomes everywhere, never a doubled order."""

    async def inject(inv):
        await inv.sandbox.fault_injector.apply(seed=11, error_rate=0.2, timeout_rate=0.2)

    out = await run_scenario(tmp_path, inject=inject, hold_s=10, grace_s=1.0, refuses=True)
    assert out.injected["error"] > 50 and out.injected["timeout"] > 50, out.injected
    print(f"\n503+timeouts: injected {out.injected}, {out.orders} orders, "
          f"funnel back {out.recovery_s:.2f}s")  # fmt: skip


async def test_feed_drop_and_price_jump_on_reconnect(tmp_path):
    """The market socket drops, the price jumps 4 % while the daemon is blind, and the first
    tick after the reconnect is the new price: taken as the new base (not dropped forever as a
    'jump'), seen as a shock (quoting paused, MATRIX: 3 s), then quoted around."""

    async def inject(inv):
        inv.feed_down()
        await inv.sandbox.fault_injector.apply(feed_drop=True)
        await asyncio.sleep(3.0)
        await inv.sandbox.fault_injector.apply(price_jump_pct=4.0)

    async def back(inv):
        await inv.sandbox.fault_injector.clear()
        inv.feed_up()

    out = await run_scenario(tmp_path, inject=inject, hold_s=3.5, clear=back, grace_s=0.6)
    reconnect = out.log.rindex('"feed_connected"')
    assert '"price_shock"' in out.log[reconnect:]
    print(f"\nfeed drop + jump: funnel back {out.recovery_s:.2f}s after the feed")
