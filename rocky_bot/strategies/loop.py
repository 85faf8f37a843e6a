"""The loop skeleton shared by every strategy: stagger, iterate, count failures, sleep or wake.

A loop sleeps `max(min_sleep, interval ± jitter)` as the spec says, but anything that makes its
quote wrong (the mid leaving the quote's band, a fill, the feed going stale) wakes it at once;
the timer is only the heartbeat. A minimum requote interval keeps a flapping mid from thrashing
the exchange: it holds the iteration after one that sent something (`requote_gap`). News that
is the exchange's doing (a fill, an order gone) or a safety matter (the breaker, the feed's
state) cuts the hold short; only the mid leaving a band waits it out.
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from rocky_bot.exchange.errors import ExchangeError, MalformedReplyError
from rocky_bot.exchange.models import Side
from rocky_bot.waits import wait_event

log = structlog.get_logger()


def requote_gap(min_interval_s: float, since_start_s: float, acted: bool) -> float:
    """How long the next iteration waits: what is left of the minimum interval since the start
    of an iteration that sent the exchange something, and nothing after one that did not.

    Only sending can thrash the exchange. Held after every iteration, a heartbeat that found its
    quotes in place held the band exit that came in the next 50 ms: a no-op iteration just
    before the exit was behind most bench requotes over 25 ms (p99 34 ms; issue 14)."""
    return max(0.0, min_interval_s - since_start_s) if acted else 0.0


@dataclass(frozen=True, slots=True)
class LoopTiming:
    interval_s: float
    jitter_s: float
    min_sleep_s: float = 0.5
    min_requote_interval_s: float = 0.05
    stagger: bool = True


class StrategyLoop(ABC):
    role: str = "loop"

    def __init__(
        self,
        account_id: str,
        symbol: str,
        timing: LoopTiming,
        on_error: Callable[[BaseException], None],
        rng: random.Random,
        clock: Callable[[], float] = time.monotonic,
        hold: Callable[[asyncio.Event, float], Awaitable[object]] = wait_event,
    ) -> None:
        self.account_id = account_id
        self.symbol = symbol
        self.timing = timing
        self._on_error = on_error
        self._rng = rng
        self._clock = clock
        self._hold = hold
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()
        self.iterations = 0
        self.last_iteration_at: float | None = None
        self.started_at: float | None = None
        self.last_iteration_s = 0.0
        #: Called after each iteration (the fleet feeds its latency histogram from it).
        self.on_iteration: Callable[[StrategyLoop], None] | None = None

    @property
    def name(self) -> str:
        return f"{self.role}[{self.account_id},{self.symbol}]"

    def wake(self, *, urgent: bool = True) -> None:
        """Look again now. Urgent news also cuts a requote gap short; the mid leaving a band is
        not urgent (`urgent=False`): a trending mid would be requoted on every tick, and holding
        those looks is what the gap is for. A fill cannot trend, and waiting out the gap made
        its refill the bench's slowest (63 ms against ≤ 50)."""
        self._wake.set()
        if urgent:
            self._urgent.set()

    def next_delay(self) -> float:
        t = self.timing
        return max(t.min_sleep_s, t.interval_s + self._rng.uniform(-t.jitter_s, t.jitter_s))

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(
            account=self.account_id, symbol=self.symbol, role=self.role
        )
        self.started_at = self._clock()
        if self.timing.stagger:
            # A plain sleep: wake-ups (the feed going live wakes every loop) must not undo
            # the stagger and send 60 loops' first orders in the same millisecond.
            await asyncio.sleep(self._rng.uniform(0, self.timing.interval_s))
        while True:
            self._wake.clear()
            self._urgent.clear()
            started = self._clock()
            acted = True  # a failed iteration is held as one that sent: an error must not spin
            try:
                acted = await self.iterate()
            except ExchangeError as exc:
                # A malformed reply is reported by the client, once per kind per minute.
                if not isinstance(exc, MalformedReplyError):
                    log.warning("loop_iteration_failed", error=str(exc), kind=type(exc).__name__)
                self._on_error(exc)
            except Exception as exc:  # a bug must not kill the loop; it is counted and logged
                log.exception("loop_iteration_crashed", error=repr(exc))
                self._on_error(exc)
            self.iterations += 1
            self.last_iteration_at = self._clock()
            self.last_iteration_s = self.last_iteration_at - started
            if self.on_iteration is not None:
                self.on_iteration(self)
            await self._wait(self.next_delay())
            # Measured from the last start, so a wake-up after a quiet spell is not delayed.
            since = self._clock() - started
            gap = requote_gap(self.timing.min_requote_interval_s, since, acted)
            if gap > 0 and not self._urgent.is_set():
                await self._hold(self._urgent, gap)  # until urgent news, or the gap is over

    async def _wait(self, delay: float) -> None:
        """Sleep until woken or `delay` passes; a cancellation always gets through (waits.py:
        with `wait_for`, a burst of band wake-ups kept a stopping fleet's loops quoting)."""
        await wait_event(self._wake, delay)

    @abstractmethod
    async def iterate(self) -> bool:
        """One look at the market; True when it sent the exchange something (an order action,
        or the spec profile's poll), which `requote_gap` holds the next look after."""

    def owns(self, side: Side | None) -> bool:
        """Whether news of this account's order on `side` (a fill, a vanished order; None: any
        side) should wake this loop. Default: no, the loop keeps its own cadence."""
        return False
