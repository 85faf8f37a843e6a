"""Taker loop: every 30 s ± 10 s, cross 50 bps past mid so fills, klines and the tape move."""

from __future__ import annotations

from rocky_bot.exchange.models import Side
from rocky_bot.strategies.context import AccountContext
from rocky_bot.strategies.intents import Place
from rocky_bot.strategies.loop import LoopTiming, StrategyLoop
from rocky_bot.strategies.taking import TakerInputs, decide_taker, taker_side


class TakerLoop(StrategyLoop):
    role = "taker"

    def __init__(self, ctx: AccountContext, symbol: str, timing: LoopTiming, ioc: bool) -> None:
        super().__init__(ctx.account_id, symbol, timing, ctx.record_failure, ctx.rng)
        self.ctx = ctx
        self.ioc = ioc
        self.last_order_at: float | None = None

    async def iterate(self) -> bool:
        ctx = self.ctx
        if not ctx.breaker.allows_trading() or not ctx.feed.is_live(self.symbol):
            return False  # takers skip; they keep nothing resting to pull
        mid = ctx.feed.mid(self.symbol)
        if mid is None:
            return False
        if ctx.poll is not None:
            await ctx.poll(self.symbol)
        await ctx.account.positions.ensure_fresh(self.symbol)
        leftovers = [
            *ctx.state.live_quotes(self.symbol, Side.BUY),
            *ctx.state.live_quotes(self.symbol, Side.SELL),
        ]
        intents = decide_taker(
            TakerInputs(
                symbol=self.symbol,
                mid=mid,
                rules=ctx.rules[self.symbol],
                qty=ctx.layer_qty(self.symbol, mid),
                cross_bps=ctx.spec.offset_bps,
                cap_usd=ctx.cap,
                exposure=ctx.state.exposure(self.symbol),
                coin=self._coin(),
                leftovers=leftovers,
                ioc=self.ioc and ctx.account.client.capabilities.usable("ioc"),
                # drawn here, decided in quoting.taker_qty: sizes vary like people's do
                size_z=self._rng.gauss(0.0, 1.0) if ctx.size_sigma > 0 else 0.0,
                size_sigma=ctx.size_sigma,
                size_max=ctx.size_max,
            )
        )
        await ctx.executor.execute(intents)
        if any(isinstance(i, Place) for i in intents):
            self.last_order_at = self._clock()
        return ctx.sent(intents)

    def _coin(self) -> Side:
        fair = self._rng.choice((Side.BUY, Side.SELL))
        lean = self.ctx.lean(self.symbol) if self.ctx.lean else 0.0
        return taker_side(fair, lean, self._rng.random())
