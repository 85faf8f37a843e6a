"""Feed micro-benchmark: µs per bookTicker message with N accounts' maker bands registered.

DESIGN.md §5 wants ≤ 15 µs per message at 500 msgs/s, and no per-tick work per loop: the cost
with 300 accounts' bands should be the same as with 30. Each band is re-pegged around the mid
when it fires (±drift jittered ±25 %, as the fleet's makers do), so wake-ups and re-registrations
are part of the cost, as in the daemon. No I/O: frames are fed to `handle_message` directly.
"""

from __future__ import annotations

import json
import math
import random
import time
from decimal import Decimal
from typing import Any

from rocky_bot.feed.binance import BinanceFeed, FeedSettings
from rocky_bot.funnel import Role, funnel_ids, parse_account_id

SYMBOLS = ("BTCUSDT", "ETHUSDT")
_STREAMS = {f"{s.lower()}@bookTicker": s for s in SYMBOLS}


def maker_bands(accounts: int) -> int:
    """Bands N accounts register: one per maker loop side (anchor both sides) per symbol."""
    sides = 0
    for account_id in funnel_ids(accounts):
        spec = parse_account_id(account_id)
        if spec.role is not Role.TAKER:
            sides += len(spec.sides())
    return sides * len(SYMBOLS)


def frames(n: int, seed: int = 1, vol: float = 0.6, msgs_per_s: float = 500.0) -> list[str]:
    """Alternating BTC/ETH combined-stream frames, mids on the sandbox's GBM at `vol`.

    `msgs_per_s` is the total over both symbols, so each mid moves by σ·√(2/msgs_per_s years):
    at 0.6 and 500/s that is ~0.1 bps per message, as with real BTC around those rates.
    """
    rng = random.Random(seed)
    sigma = vol * math.sqrt(2 / msgs_per_s / (365 * 24 * 3600))
    mids = {"BTCUSDT": 95_000.0, "ETHUSDT": 3_500.0}
    ticks = {"BTCUSDT": 0.1, "ETHUSDT": 0.01}
    out = []
    for i in range(n):
        symbol = SYMBOLS[i % 2]
        mids[symbol] *= math.exp(sigma * rng.gauss(0.0, 1.0))
        tick = ticks[symbol]
        low = math.floor(mids[symbol] / tick)
        digits = 1 if symbol == "BTCUSDT" else 2
        bid, ask = f"{low * tick:.{digits}f}", f"{(low + 1) * tick:.{digits}f}"
        data = {"e": "bookTicker", "u": i, "E": i, "T": i, "s": symbol, "b": bid, "B": "1"}
        data |= {"a": ask, "A": "2"}
        out.append(json.dumps({"stream": f"{symbol.lower()}@bookTicker", "data": data}))
    return out


def per_message_us(bands: int, stream: list[str]) -> tuple[float, int]:
    """µs per `handle_message` with `bands` bands split over both symbols; and the wake-ups."""
    rng = random.Random(bands)
    feed = BinanceFeed(FeedSettings(url="ws://127.0.0.1:9/unused", streams=_STREAMS,
                                    stale_after_s=3600.0))  # fmt: skip
    feed.handle_message(stream[0])
    feed.handle_message(stream[1])
    wakes = 0

    def peg(symbol: str) -> None:
        mid = feed.mid(symbol)
        assert mid is not None
        half = mid * Decimal(str(round(0.0002 * rng.uniform(0.75, 1.25), 7)))

        def wake() -> None:
            nonlocal wakes
            wakes += 1
            peg(symbol)

        feed.watch_band(symbol, mid - half, mid + half, wake)

    for i in range(bands):
        peg(SYMBOLS[i % 2])
    handle = feed.handle_message
    start = time.perf_counter()
    for frame in stream:
        handle(frame)
    elapsed = time.perf_counter() - start
    return elapsed / len(stream) * 1e6, wakes


def feed_benchmark(n_frames: int = 40_000, accounts: tuple[int, ...] = (30, 300)) -> dict[str, Any]:
    """Best of 3 per account count; CPU share at 500 msgs/s alongside."""
    stream = frames(n_frames)
    per_message_us(maker_bands(accounts[0]), stream[: min(2000, n_frames)])  # warm-up
    out: dict[str, Any] = {"messages": n_frames}
    for n in accounts:
        bands = maker_bands(n)
        results = [per_message_us(bands, stream) for _ in range(3)]
        us, wakes = min(results)
        out[f"accounts_{n}"] = {
            "bands": bands,
            "us_per_message": round(us, 2),
            "cpu_pct_at_500_msgs_s": round(us * 500 / 1e4, 3),
            "wakeups": wakes,
        }
    return out
