"""The one retry policy: jittered exponential backoff, for requests, reconnects and set-up alike.

Why one: three copies had drifted apart (one jittered, one not, one doubling inline), and the
un-jittered ones made thirty accounts that failed together retry together, in lock-step, against
an exchange that was just coming back.

- `jittered_backoff` is the pure generator of delays.
- `Backoff` is a policy as a value (where delays start, how they grow, where they stop, how much
  jitter); the named policies below are the ones the daemon uses.
- `Retrier` is one caller's walk along a policy: the next delay, a reset after a success, and an
  await of that delay that a stop event cuts short (`waits.wait_event`). Randomness and sleep
  are injected, so tests never wait.

Why jitter: many tasks (and, on Binance, many clients) lose the same connection at the same
moment; without jitter they knock again in lock-step. Each delay is drawn from
`[ceiling·(1 - jitter), ceiling]` where the ceiling grows by `factor` up to `max_s`: "equal
jitter", which spreads the herd without ever collapsing to a zero wait the way full jitter can.

Why reset: a caller keeps walking while attempts keep failing and starts over after a success,
so a blip after a day of uptime waits `initial_s`, not the ceiling reached last week.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from rocky_bot.waits import wait_event

__all__ = [
    "RECONNECT",
    "REQUEST_RETRY",
    "SETUP_RETRY",
    "Backoff",
    "Retrier",
    "jittered_backoff",
]

Sleep = Callable[[float], Awaitable[object]]


def jittered_backoff(
    *,
    initial_s: float = 0.5,
    max_s: float = 30.0,
    factor: float = 2.0,
    jitter: float = 0.5,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Yield delays forever: ceiling `initial_s·factor**n` capped at `max_s`, jittered down.

    Pure apart from `rng`: pass a seeded `random.Random` and the sequence is reproducible.
    """
    _check(initial_s, max_s, factor, jitter)
    draw = (rng or random.Random()).random
    ceiling = min(initial_s, max_s)
    while True:
        yield ceiling * (1.0 - jitter * draw())
        ceiling = min(ceiling * factor, max_s)


def _check(initial_s: float, max_s: float, factor: float, jitter: float) -> None:
    if initial_s < 0 or max_s < 0:
        raise ValueError("backoff delays must be non-negative")
    if factor < 1:
        raise ValueError("backoff factor must be >= 1")
    if not 0 <= jitter <= 1:
        raise ValueError("jitter must be within [0, 1]")


@dataclass(frozen=True, slots=True)
class Backoff:
    """A retry policy as a value; `retrier()` starts one caller's walk along it."""

    initial_s: float = 0.5
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        _check(self.initial_s, self.max_s, self.factor, self.jitter)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        return jittered_backoff(
            initial_s=self.initial_s, max_s=self.max_s, factor=self.factor, jitter=self.jitter,
            rng=rng,
        )  # fmt: skip

    def retrier(self, rng: random.Random | None = None, sleep: Sleep = asyncio.sleep) -> Retrier:
        """A fresh walk. Without `rng` each retrier draws its own seed, so two callers that
        failed at the same moment do not retry at the same moment."""
        return Retrier(self, rng, sleep)


#: A request repeated (a read after a 5xx or a refused connection) or an order looked up after
#: an unknown outcome: 25–50 ms first, up to 1 s; callers bound the number of attempts.
REQUEST_RETRY = Backoff(initial_s=0.05, max_s=1.0)
#: A websocket reconnecting (market feed, user data stream): 0.25–0.5 s first, up to 30 s.
RECONNECT = Backoff(initial_s=0.5, max_s=30.0)
#: The fleet's set-up calls (exchangeInfo, each account's set-up), retried until they succeed
#: or the daemon is stopped.
SETUP_RETRY = Backoff(initial_s=0.5, max_s=30.0)


class Retrier:
    """One caller's walk along a `Backoff`: `next_delay()`, `reset()` after a success, and
    `wait()` to await the next delay."""

    __slots__ = ("_delays", "_rng", "_sleep", "policy")

    def __init__(
        self, policy: Backoff, rng: random.Random | None = None, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.policy = policy
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._delays = policy.delays(self._rng)

    def next_delay(self) -> float:
        return next(self._delays)

    def reset(self) -> None:
        """A success: the next failure waits about `initial_s` again."""
        self._delays = self.policy.delays(self._rng)

    async def wait(self, stop: asyncio.Event | None = None) -> float:
        """Await the next delay, through the injected sleep; with `stop`, on the loop's clock
        and cut short once `stop` is set. Returns the delay drawn."""
        delay = self.next_delay()
        if stop is None:
            await self._sleep(delay)
        else:
            await wait_event(stop, delay)  # never swallows a cancellation (see waits.py)
        return delay
