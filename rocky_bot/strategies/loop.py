"""The loop skeleton shared by every strategy: stagger, iterate, count failures, sleep or wake.

A loop sleeps `max(min_sleep, interval ± jitter)` as the spec says, but anything that makes its
quote wrong (the mid leaving the quote's band, a fill, the feed going stale) wakes it at once;
the timer is only the heartbeat. A minimum requote interval keeps a flapping mid from thrashing.
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from rocky_bot.exchange.errors import ExchangeError, MalformedReplyError
from rocky_bot.exchange.models import Side
from rocky_bot.waits import wait_event

log = structlog.get_logger()


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
    ) -> None:
        self.account_id = account_id
        self.symbol = symbol
        self.timing = timing
        self._on_error = on_error
        self._rng = rng
        self._clock = clock
        self._wake = asyncio.Event()
        self.iterations = 0
        self.last_iteration_at: float | None = None
        self.started_at: float | None = None
        self.last_iteration_s = 0.0
        #: Called after each iteration (the fleet feeds its latency histogram from it).
        self.on_iteration: Callable[[StrategyLoop], None] | None = None

    @property
    def name(self) -> str:
        return f"{self.role}[{self.account_id},{self.symbol}]"

    def wake(self) -> None:
        self._wake.set()

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
            started = self._clock()
            try:
                await self.iterate()
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
            # A minimum gap between iterations, so a flapping mid cannot thrash the exchange;
            # measured from the last start, so a wake-up after a quiet spell is not delayed.
            gap = self.timing.min_requote_interval_s - (self._clock() - started)
            if gap > 0:
                await asyncio.sleep(gap)

    async def _wait(self, delay: float) -> None:
        """Sleep until woken or `delay` passes; a cancellation always gets through (waits.py:
        with `wait_for`, a burst of band wake-ups kept a stopping fleet's loops quoting)."""
        await wait_event(self._wake, delay)

    @abstractmethod
    async def iterate(self) -> None: ...

    def owns(self, side: Side | None) -> bool:
        """Whether news of this account's order on `side` (a fill, a vanished order; None: any
        side) should wake this loop. Default: no, the loop keeps its own cadence."""
        return False
