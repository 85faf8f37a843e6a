"""The fault matrix, market-data faults: a frozen feed, a dropped feed, a price jump.

Invariant 4 is the point here: while the feed is stale, nothing is placed once `feed_stale_s`
has passed and no maker order rests after `feed_stale_s` + 3 s (checked from the exchange's
side, scenario.MATRIX: stale after 1.5 s), and quoting is back within 5 s of the feed's return.
Each fault is held for stale + 3 s + 1.5 s, so the "nothing resting" window is really observed.
"""

from __future__ import annotations

import pytest
from invariants import funnel_gaps
from scenario import run_scenario

FEED_RESUMES_WITHIN_S = 5.0


def feed_fault(**changes):
    async def inject(inv):
        inv.feed_down()
        await inv.sandbox.fault_injector.apply(**changes)

    return inject


async def feed_back(inv) -> None:
    await inv.sandbox.fault_injector.clear()
    inv.feed_up()


def hold(settings_stale_s: float = 1.5) -> float:
    return settings_stale_s + 3 + 1.5


async def test_feed_freeze(tmp_path):
    """Sockets stay open and silent: the staleness watchdog, not a disconnect, must notice."""
    out = await run_scenario(
        tmp_path, inject=feed_fault(feed_freeze=True), hold_s=hold(),
        clear=feed_back, recovery_within_s=FEED_RESUMES_WITHIN_S,
    )  # fmt: skip
    assert '"feed_stale"' in out.log
    print(f"\nfeed_freeze: quoting back {out.recovery_s:.2f}s after the feed, {out.checks} checks")


async def test_feed_drop(tmp_path):
    """Every market socket closed and reconnects refused: the feed keeps knocking (backoff
    capped, so it is back within a few seconds of the feed's return), the makers pull."""
    out = await run_scenario(
        tmp_path, inject=feed_fault(feed_drop=True), hold_s=hold(),
        clear=feed_back, recovery_within_s=FEED_RESUMES_WITHIN_S,
    )  # fmt: skip
    assert out.log.count('"feed_disconnected"') >= 2  # the drop, then refused reconnects
    print(f"\nfeed_drop: quoting back {out.recovery_s:.2f}s after the feed, {out.checks} checks")


@pytest.mark.parametrize("pct", [-3.0, 8.0])
async def test_price_jump(tmp_path, pct):
    """One step of the synthetic mid. -3 %: accepted, but a > 2 % move within 10 s pauses
    quoting (MATRIX: 3 s) and cancels the makers. +8 %: over the 5 % jump filter, so ticks are
    dropped until the symbol goes stale and the next one is taken as the new base."""

    async def inject(inv):
        inv.exempt_prices(1.0)  # orders decided on the old mid may still be arriving
        await inv.sandbox.fault_injector.apply(price_jump_pct=pct)

    async def pulled(handle, inv):  # the jump emptied the makers' side of the book
        assert funnel_gaps(handle.sandbox, handle.account_names, handle.settings)

    out = await run_scenario(tmp_path, inject=inject, hold_s=1.0, grace_s=0.6, check=pulled)
    assert '"price_shock"' in out.log
    if pct > 5:
        assert '"feed_tick_dropped"' in out.log
    print(f"\nprice_jump {pct:+}%: funnel back {out.recovery_s + 1:.2f}s after the jump")
