"""The sandbox's price source: a synthetic (or replayed) best bid/ask per symbol.

The sandbox stands in for Binance's price feed (the reference price, reference.py), so something
has to move the mid; the mid is also the venue's mark and index price. By default
that is a geometric Brownian motion per symbol; alternatively a recorded bookTicker file is
replayed. Either way one task drives every symbol and hands each `Tick` to `on_tick`
synchronously (the app feeds it to the engine's mark price and to `ReferenceFeed.publish`).

Synthetic mode
    mid(t+dt) = mid(t) · exp(σ·√dt·Z − σ²·dt/2), Z ~ N(0,1) from `random.Random(seed)`, with
    dt = 1/msgs_per_s seconds as a fraction of a 365-day year. The −σ²dt/2 term makes the mid a
    martingale (no drift in expectation). The published book is one tick wide around the
    continuous mid: bid = floor(mid/tick)·tick, ask = bid + tick, and `Tick.mid` = (bid+ask)/2,
    an exact Decimal on the half-tick grid. Quantities are random (0.001–9.999, 3 decimals) from
    a second generator, so the mid path for a seed never depends on how many ticks were emitted.

Replay mode (`replay_path`, file format in replay.py)
    Lines are replayed at the recorded pace and the file loops, with 1/msgs_per_s between its
    last and first line. Emitted ticks carry the driver's own clock as event time and its own
    increasing update id, because consumers check staleness and ordering against those and the
    recording is old.

Pacing
    One task, absolute deadlines `start + k·period` (no accumulated drift). When it wakes late
    it advances through every missed step (so the path for a seed is the same whatever the
    timing) and emits only the newest tick per symbol. Beyond `MAX_CATCH_UP_S` of lateness (a
    suspended host, a clock jump) it skips ahead instead of computing the backlog.

Faults
    `jump(pct)` multiplies every mid by 1 + pct/100 and emits at once (in replay mode the factor
    applies to all later replayed prices too). While `frozen` is true nothing is emitted, but the
    mid keeps evolving — a feed outage does not stop the market — so `mid()` (the mark price)
    stays live and the first tick after the freeze shows wherever the price went.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import structlog

from rocky_bot.sandbox.replay import Recorded, load_recording

log = structlog.get_logger()

SECONDS_PER_YEAR = 365 * 24 * 3600
MAX_CATCH_UP_S = 1.0
_QTY_EXP = -3


@dataclass(frozen=True, slots=True)
class Tick:
    """One best bid/ask update for one symbol, as the market stream publishes it."""

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_qty: Decimal
    ask_qty: Decimal
    mid: Decimal
    event_time_ms: int
    update_id: int


class PriceDriver:
    """Moves every symbol's mid and emits its ticks from a single paced task."""

    def __init__(
        self,
        starts: dict[str, Decimal],
        ticks: dict[str, Decimal],
        *,
        annual_vol: float,
        msgs_per_s: float,
        on_tick: Callable[[Tick], None],
        seed: int | None = None,
        replay_path: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if msgs_per_s <= 0:
            raise ValueError("msgs_per_s must be positive")
        if annual_vol < 0:
            raise ValueError("annual_vol must not be negative")
        missing = sorted(set(starts) - set(ticks))
        if missing:
            raise ValueError(f"no tick size for {missing}")
        self._symbols = sorted(starts)
        self._tick = {s: Decimal(ticks[s]) for s in self._symbols}
        if any(t <= 0 for t in self._tick.values()):
            raise ValueError("tick sizes must be positive")
        self._tick_f = {s: float(t) for s, t in self._tick.items()}
        self._period = 1.0 / msgs_per_s
        dt = self._period / SECONDS_PER_YEAR
        self._sigma = annual_vol * math.sqrt(dt)
        self._drift = -0.5 * annual_vol * annual_vol * dt
        self._on_tick = on_tick
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._qty_rng = random.Random(None if seed is None else f"{seed}/qty")
        self._mid_f = {s: float(starts[s]) for s in self._symbols}
        self._book: dict[str, tuple[Decimal, Decimal]] = {}
        self._recorded_qty: dict[str, tuple[Decimal, Decimal]] = {}
        for s in self._symbols:
            self._quote_from_mid(s)
        self._replay: list[Recorded] | None = None
        if replay_path is not None:
            self._replay = load_recording(replay_path, set(self._symbols), self._period)
        self._replay_factor = 1.0
        self._update_id = 0
        self._handler_errors = 0
        self.frozen = False

    # -- public --------------------------------------------------------------------------

    async def run(self) -> None:
        """Emit ticks for every symbol at msgs_per_s each (or the recorded pace) until cancelled."""
        log.info(
            "price_driver_started",
            mode="replay" if self._replay is not None else "gbm",
            symbols=self._symbols,
            msgs_per_s=1.0 / self._period,
        )
        if self._replay is not None:
            await self._run_replay(self._replay)
        else:
            await self._run_gbm()

    def mid(self, symbol: str) -> Decimal:
        """The current mid, (bid+ask)/2 of the current book, evolving even while frozen."""
        bid, ask = self._book[symbol]
        return (bid + ask) / 2

    def jump(self, pct: float) -> None:
        """Move every symbol's mid by +pct % at once (negative = down) and emit unless frozen."""
        factor = 1.0 + pct / 100.0
        if factor <= 0:
            raise ValueError("a jump cannot take prices to zero or below")
        log.info("price_jumped", pct=pct)
        if self._replay is not None:
            self._replay_factor *= factor
        for s in self._symbols:
            if s in self._recorded_qty:  # replayed prices: move the recorded book itself
                bid, ask = self._book[s]
                self._book[s] = self._scaled(s, bid, ask, factor)
            else:
                self._mid_f[s] *= factor
                self._quote_from_mid(s)
        self._emit(self._symbols)

    # -- synthetic -----------------------------------------------------------------------

    async def _run_gbm(self) -> None:
        period = self._period
        start = self._clock()
        step = 0
        while True:
            step += 1
            delay = start + step * period - self._clock()
            if delay > 2 * period:  # the clock went backwards: re-anchor one period ahead
                start = self._clock() - (step - 1) * period
                delay = period
            await self._sleep(max(delay, 0.0))
            late = int((self._clock() - (start + step * period)) / period)
            if late * period > MAX_CATCH_UP_S:
                log.warning("price_driver_behind", skipped_s=round(late * period, 3))
                start += late * period
            elif late > 0:
                self._evolve(late)
                step += late
            self._evolve(1)
            self._emit(self._symbols)

    def _evolve(self, steps: int) -> None:
        gauss, sigma, drift, mids = self._rng.gauss, self._sigma, self._drift, self._mid_f
        symbols = self._symbols
        for _ in range(steps):  # step-major, so the path is the same however steps are batched
            for s in symbols:
                mids[s] *= math.exp(drift + sigma * gauss(0.0, 1.0))
        for s in symbols:
            self._quote_from_mid(s)

    def _quote_from_mid(self, symbol: str) -> None:
        tick = self._tick[symbol]
        n = max(1, math.floor(self._mid_f[symbol] / self._tick_f[symbol]))
        self._book[symbol] = (tick * n, tick * (n + 1))

    # -- replay --------------------------------------------------------------------------

    async def _run_replay(self, lines: list[Recorded]) -> None:
        start = self._clock()
        due = 0.0  # offset from start of the next line
        i = 0
        while True:
            delay = start + due - self._clock()
            if delay > 2 * self._period + lines[i].delay_s:  # clock went backwards
                start = self._clock() - due
                delay = 0.0
            await self._sleep(max(delay, 0.0))
            now = self._clock()
            if now - (start + due) > MAX_CATCH_UP_S:
                log.warning("price_driver_behind", skipped_s=round(now - start - due, 3))
                start = now - due
            touched: dict[str, None] = {}
            while start + due <= now:
                line = lines[i]
                self._recorded_qty[line.symbol] = (line.bid_qty, line.ask_qty)
                self._book[line.symbol] = self._scaled(
                    line.symbol, line.bid, line.ask, self._replay_factor
                )
                touched[line.symbol] = None
                i = (i + 1) % len(lines)
                due += lines[i].delay_s if i else self._period
            self._emit(list(touched))

    def _scaled(
        self, symbol: str, bid: Decimal, ask: Decimal, factor: float
    ) -> tuple[Decimal, Decimal]:
        """The recorded book moved by `factor`, widened outwards to the tick grid."""
        if factor == 1.0:
            return bid, ask
        tick, f = self._tick[symbol], Decimal(repr(factor))
        new_bid = (bid * f / tick).to_integral_value(ROUND_FLOOR) * tick
        new_ask = (ask * f / tick).to_integral_value(ROUND_CEILING) * tick
        return new_bid, max(new_ask, new_bid + tick)

    # -- emission ------------------------------------------------------------------------

    def _emit(self, symbols: list[str]) -> None:
        if self.frozen or not symbols:
            return
        now_ms = int(self._clock() * 1000)
        for s in symbols:
            bid, ask = self._book[s]
            recorded = self._recorded_qty.get(s)
            if recorded is not None:
                bid_qty, ask_qty = recorded
            else:
                bid_qty, ask_qty = self._random_qty(), self._random_qty()
            self._update_id += 1
            tick = Tick(s, bid, ask, bid_qty, ask_qty, (bid + ask) / 2, now_ms, self._update_id)
            try:
                self._on_tick(tick)
            except Exception:
                # A broken subscriber must not stop the market; say so without flooding the log.
                self._handler_errors += 1
                if self._handler_errors & (self._handler_errors - 1) == 0:
                    log.exception("price_tick_handler_failed", count=self._handler_errors)

    def _random_qty(self) -> Decimal:
        return Decimal(self._qty_rng.randint(1, 9999)).scaleb(_QTY_EXP)
