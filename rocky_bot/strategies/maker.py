"""Maker loops: a ladder keeps one order at its offset; the anchor keeps both sides at ±1 bps.

They are the same loop with different sides, offset and drift, so one class serves both.

A side woken because the mid left its band is requoted even if the mid is back inside by the
time the loop looks (drift 0 for that side: re-centred on the current mid). Holding would be
defensible, but then a quote that did leave its band waited for the next exit, seconds later,
and "requote latency from the first band exit" (the README's definition) had a tail of seconds.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import partial

import structlog

from rocky_bot.exchange.models import Side
from rocky_bot.funnel import Role
from rocky_bot.strategies.context import AccountContext
from rocky_bot.strategies.loop import LoopTiming, StrategyLoop
from rocky_bot.strategies.quoting import (
    MakerInputs,
    band,
    band_drift,
    decide_anchor,
    decide_maker_side,
    decide_unwind,
    maker_qty,
    order_exceeds_cap,
    unwind_inputs,
)

log = structlog.get_logger()


class MakerLoop(StrategyLoop):
    def __init__(
        self,
        ctx: AccountContext,
        symbol: str,
        timing: LoopTiming,
        drift_bps: Decimal,
        size_factor: float = 1.0,
    ) -> None:
        super().__init__(ctx.account_id, symbol, timing, ctx.record_failure, ctx.rng)
        self.ctx = ctx
        self.role = ctx.spec.role.value
        self.sides = ctx.spec.sides()
        # A ladder also rests a reduce-only unwind order on the other side while it holds
        # inventory (quoting.decide_unwind); the anchor quotes both sides anyway.
        self.unwind_side = ctx.spec.side.opposite if ctx.spec.side is not None else None
        self.all_sides = self.sides + ((self.unwind_side,) if self.unwind_side else ())
        self.drift_bps = drift_bps
        #: This account's size on the symbol: the layer's × its own factor, set at the first mid
        #: and kept (stable, so requotes never resize; the depth is not a staircase of equals).
        self.size_factor = size_factor
        self.qty: Decimal | None = None
        self._bands: list[object] = []
        self._warned_cap = False
        #: (offset, drift) each side last quoted with (an unwind may rest nearer the mid).
        self._quoted = dict.fromkeys(self.all_sides, (ctx.spec.offset_bps, drift_bps))
        self._exited: set[Side] = set()  # sides whose band the mid left since the last look

    async def iterate(self) -> bool:
        ctx = self.ctx
        feed = ctx.feed
        if not ctx.breaker.allows_trading():
            return await self.pull("breaker_open")
        if not feed.is_live(self.symbol):
            return await self.pull("feed_stale" if feed.is_stale(self.symbol) else "feed_paused")
        mid = feed.mid(self.symbol)
        if mid is None:
            return False
        self._warn_if_cap_below_order(self.quantity(mid), mid)
        if ctx.poll is not None:
            await ctx.poll(self.symbol)
        await ctx.account.positions.ensure_fresh(self.symbol)
        exited, self._exited = self._exited, set()

        def recentred(m: MakerInputs) -> MakerInputs:
            return replace(m, drift_bps=Decimal(0)) if m.side in exited else m

        inputs = {side: self._inputs(side, mid) for side in self.all_sides}
        if self.ctx.spec.role is Role.ANCHOR:
            intents = decide_anchor(recentred(inputs[Side.BUY]), recentred(inputs[Side.SELL]))
        else:
            own = recentred(inputs[self.sides[0]])
            intents = decide_maker_side(own)
            if self.unwind_side is not None:
                unwind = unwind_inputs(inputs[self.unwind_side])
                self._quoted[self.unwind_side] = (unwind.offset_bps, unwind.drift_bps)
                intents += decide_unwind(recentred(unwind))
        if intents:
            await ctx.executor.execute(intents)
        self._watch_bands(mid)
        return ctx.sent(intents)

    def quantity(self, mid: Decimal) -> Decimal:
        if self.qty is None:
            base = self.ctx.layer_qty(self.symbol, mid)
            self.qty = maker_qty(base, self.size_factor, mid, self.ctx.rules[self.symbol])
        return self.qty

    def _inputs(self, side: Side, mid: Decimal) -> MakerInputs:
        ctx = self.ctx
        return MakerInputs(
            symbol=self.symbol,
            side=side,
            mid=mid,
            rules=ctx.rules[self.symbol],
            qty=self.quantity(mid),
            offset_bps=ctx.spec.offset_bps,
            drift_bps=self.drift_bps,
            cap_usd=ctx.cap,
            exposure=ctx.state.exposure(self.symbol),
            live=ctx.state.live_quotes(self.symbol, side),
            can_modify=ctx.can_modify(),
            centred=ctx.spec.role is Role.ANCHOR,
            taken=self._taken(side),
        )

    def _taken(self, side: Side) -> frozenset[Decimal]:
        """A ladder's own level keeps off prices the fleet's other makers rest on. Not the
        anchor (its price is the inside spread), nor an unwind (they share 2 bps by design)."""
        ctx = self.ctx
        if ctx.taken is None or side is self.unwind_side or ctx.spec.role is Role.ANCHOR:
            return frozenset()
        return ctx.taken(self.symbol, side, ctx.account_id)

    def _watch_bands(self, mid: Decimal) -> None:
        feed = self.ctx.feed
        for handle in self._bands:
            feed.unwatch(handle)
        self._bands.clear()
        if not self.ctx.band_wakeups:
            return  # the spec's loop: the timer alone decides when to look again
        if self.ctx.executor.throttled:
            return  # the order-rate guard held an intent back: retry on the heartbeat, not per tick
        rules = self.ctx.rules[self.symbol]
        for side in self.all_sides:
            quotes = self.ctx.state.live_quotes(self.symbol, side)
            if len(quotes) == 1:
                offset, drift = self._quoted[side]
                low, high = band(quotes[0].price, side, offset, band_drift(drift, mid, rules))
                left = partial(self._band_left, side)
                self._bands.append(feed.watch_band(self.symbol, low, high, left))

    def _band_left(self, side: Side) -> None:
        self._exited.add(side)
        self.wake(urgent=False)

    async def pull(self, reason: str) -> bool:
        """Cancel this loop's quotes; True when there were any."""
        pulled = False
        for side in self.all_sides:
            for quote in self.ctx.state.live_quotes(self.symbol, side):
                await self.ctx.executor.cancel(self.symbol, quote.client_order_id, reason)
                pulled = True
        return pulled

    def owns(self, side: Side | None) -> bool:
        return side is None or side in self.all_sides

    def _warn_if_cap_below_order(self, qty: Decimal, mid: Decimal) -> None:
        if not self._warned_cap and order_exceeds_cap(qty, mid, self.ctx.cap):
            self._warned_cap = True
            log.warning(
                "cap_below_order_notional", layer=self.ctx.spec.layer.value,
                qty=str(qty), notional=f"{qty * mid:.2f}", cap=str(self.ctx.cap),
            )  # fmt: skip
