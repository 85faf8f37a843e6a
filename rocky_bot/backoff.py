"""Jittered exponential backoff as a pure generator, shared by every reconnect loop.

Why a generator: the caller owns the policy of *when* to start over. A reconnect loop keeps one
generator while connections keep failing and makes a fresh one after a good connection, so a
blip after a day of uptime waits `initial_s`, not the 30 s ceiling it reached last week.

Why jitter: 61 tasks (and, on Binance, many clients) lose the same connection at the same moment;
without jitter they would all knock again in lock-step. Each delay is drawn from
`[ceiling·(1 - jitter), ceiling]` where the ceiling doubles up to `max_s`: "equal jitter", which
spreads the herd without ever collapsing to a zero wait the way full jitter can.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


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
    if initial_s < 0 or max_s < 0:
        raise ValueError("backoff delays must be non-negative")
    if factor < 1:
        raise ValueError("backoff factor must be >= 1")
    if not 0 <= jitter <= 1:
        raise ValueError("jitter must be within [0, 1]")
    draw = (rng or random.Random()).random
    ceiling = min(initial_s, max_s)
    while True:
        yield ceiling * (1.0 - jitter * draw())
        ceiling = min(ceiling * factor, max_s)
