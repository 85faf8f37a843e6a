"""Keep the trade tape moving: wake a taker when a symbol has gone too long without one.

Five takers per symbol on independent 30 s ± 10 s timers leave gaps of 16 s or more in most
two-minute windows (the tape and the 1-minute klines look dead); waking the next taker after
`max_gap_s` bounds the gap without changing the average cadence much.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence

from rocky_bot.strategies.taker import TakerLoop


def symbols_due(last_order_at: dict[str, float], now: float, max_gap_s: float) -> list[str]:
    """Symbols whose last taker order is older than `max_gap_s` (pure, for the tests)."""
    return [s for s, t in last_order_at.items() if now - t >= max_gap_s]


class TapeKeeper:
    def __init__(
        self,
        takers: Sequence[TakerLoop],
        max_gap_s: float,
        rng: random.Random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._by_symbol: dict[str, list[TakerLoop]] = {}
        for loop in takers:
            self._by_symbol.setdefault(loop.symbol, []).append(loop)
        self._max_gap_s = max_gap_s
        self._rng = rng
        self._clock = clock
        self._since = dict.fromkeys(self._by_symbol, clock())
        self.wakeups = 0

    def last_order_at(self) -> dict[str, float]:
        return {
            symbol: max([self._since[symbol]] + [t.last_order_at or 0.0 for t in loops])
            for symbol, loops in self._by_symbol.items()
        }

    async def run(self) -> None:
        if not self._by_symbol or self._max_gap_s <= 0:
            return
        while True:
            await asyncio.sleep(min(1.0, self._max_gap_s / 4))
            now = self._clock()
            for symbol in symbols_due(self.last_order_at(), now, self._max_gap_s):
                self._rng.choice(self._by_symbol[symbol]).wake()
                self._since[symbol] = now  # give the woken taker a gap's time to trade
                self.wakeups += 1
