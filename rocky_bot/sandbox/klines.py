"""Candles for every Binance interval, built as trades (or mark samples) arrive. Pure, integers.

Binance's intervals are 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M, opening on UTC
boundaries (weeks on Monday, months on the 1st). Each interval keeps its own bounded series
(`HISTORY` stored candles), so a 1-day chart still has weeks of history after a long soak while
memory stays flat; only intervals that saw a trade are stored, and quiet ones are filled in when
read: a flat zero-volume candle at the previous close, which is what Binance shows for a quiet
interval. Prices are whatever integer unit the owner chose (ticks for trades, 1e-8 for marks).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; weeks open on Monday 00:00 UTC
HISTORY = 1500  # Binance's largest `limit` for klines

#: Interval → fixed length in ms (None: calendar month).
INTERVALS: dict[str, int | None] = {
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS, "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS, "8h": 8 * HOUR_MS, "12h": 12 * HOUR_MS, "1d": DAY_MS, "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS, "1M": None,
}  # fmt: skip


def open_of(interval: str, ms: int) -> int:
    """Open time of the `interval` candle that contains instant `ms`."""
    length = INTERVALS[interval]
    if length is None:
        t = datetime.fromtimestamp(ms / 1000, UTC)
        return int(datetime(t.year, t.month, 1, tzinfo=UTC).timestamp() * 1000)
    if interval == "1w":
        return ms - (ms - WEEK_OFFSET_MS) % length
    return ms - ms % length


def next_open(interval: str, open_ms: int) -> int:
    length = INTERVALS[interval]
    if length is not None:
        return open_ms + length
    t = datetime.fromtimestamp(open_ms / 1000, UTC)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


@dataclass(slots=True)
class Kline:
    open_time: int
    close_time: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0  # steps
    quote_volume: int = 0  # money
    count: int = 0
    taker_buy_volume: int = 0
    taker_buy_quote: int = 0
    first_id: int = -1
    last_id: int = -1

    @classmethod
    def flat(cls, open_time: int, close_time: int, price: int) -> Kline:
        return cls(open_time, close_time, price, price, price, price)


class Series:
    """One interval's candles, oldest first, bounded."""

    __slots__ = ("_stored", "interval")

    def __init__(self, interval: str) -> None:
        self.interval = interval
        self._stored: deque[Kline] = deque(maxlen=HISTORY)

    def record(
        self, ms: int, price: int, qty: int = 0, quote: int = 0, taker_buy: bool = False,
        trade_id: int = -1,
    ) -> None:  # fmt: skip
        last = self._stored[-1] if self._stored else None
        if last is None or ms > last.close_time:
            start = open_of(self.interval, ms)
            last = Kline.flat(start, next_open(self.interval, start) - 1, price)
            last.first_id = trade_id
            self._stored.append(last)
        last.high = max(last.high, price)
        last.low = min(last.low, price)
        last.close = price
        last.volume += qty
        last.quote_volume += quote
        last.count += 1
        last.last_id = trade_id
        if taker_buy:
            last.taker_buy_volume += qty
            last.taker_buy_quote += quote

    @property
    def empty(self) -> bool:
        return not self._stored

    def at(self, open_time: int) -> Kline | None:
        """The candle opening at `open_time` (filled if quiet), None before the first trade."""
        found = self.candles(open_time, open_time, open_time, 1)
        return found[0] if found else None

    def candles(
        self, now_ms: int, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[Kline]:
        """Candles with open ≥ start (else the newest `limit`), up to `end`/now, quiet filled."""
        stored = self._stored
        if not stored:
            return []
        last_open = open_of(self.interval, now_ms if end_ms is None else min(now_ms, end_ms))
        first_open = stored[0].open_time
        if start_ms is not None:
            aligned = open_of(self.interval, start_ms)
            first_open = max(first_open, aligned if aligned == start_ms else self._next(aligned))
        else:
            first_open = max(first_open, self._back(last_open, limit - 1))
        opens = [k.open_time for k in stored]
        i = bisect_left(opens, first_open)
        prev_close = stored[i - 1].close if i > 0 else stored[0].open
        out: list[Kline] = []
        at = first_open
        while at <= last_open and len(out) < limit:
            if i < len(stored) and stored[i].open_time == at:
                k = stored[i]
                i += 1
            else:
                k = Kline.flat(at, self._next(at) - 1, prev_close)
            out.append(k)
            prev_close = k.close
            at = self._next(at)
        return out

    def _next(self, open_ms: int) -> int:
        return next_open(self.interval, open_ms)

    def _back(self, open_ms: int, steps: int) -> int:
        """The open time `steps` intervals before `open_ms` (never before the first stored)."""
        length = INTERVALS[self.interval]
        if length is not None:
            return open_ms - steps * length
        first = self._stored[0].open_time
        at = open_ms
        for _ in range(steps):
            if at <= first:
                break
            at = open_of(self.interval, at - 1)
        return at


class Candles:
    """Every interval's series for one price source (a symbol's trades, or its mark)."""

    def __init__(self) -> None:
        self.series = {interval: Series(interval) for interval in INTERVALS}

    def record(
        self, ms: int, price: int, qty: int = 0, quote: int = 0, taker_buy: bool = False,
        trade_id: int = -1,
    ) -> None:  # fmt: skip
        for series in self.series.values():
            series.record(ms, price, qty, quote, taker_buy, trade_id)

    def __getitem__(self, interval: str) -> Series:
        return self.series[interval]
