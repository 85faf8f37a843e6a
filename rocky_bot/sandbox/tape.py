"""One symbol's public trade tape and 1-minute klines, bounded so a long run stays flat in memory.

Minutes without trades are not stored; `klines()` fills them as flat zero-volume candles at the
previous close, which is what Binance shows for a quiet minute.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass

from rocky_bot.sandbox.orders import Trade

MINUTE_MS = 60_000
TRADE_HISTORY = 1000
KLINE_HISTORY = 1500


@dataclass(slots=True)
class Kline:
    open_time: int
    open: int  # ticks
    high: int
    low: int
    close: int
    volume: int  # steps
    quote_volume: int  # money
    count: int
    taker_buy_volume: int
    taker_buy_quote: int

    @property
    def close_time(self) -> int:
        return self.open_time + MINUTE_MS - 1


class Tape:
    def __init__(self) -> None:
        self.trades: deque[Trade] = deque(maxlen=TRADE_HISTORY)
        self._klines: deque[Kline] = deque(maxlen=KLINE_HISTORY)

    @property
    def last_price(self) -> int | None:
        return self.trades[-1].price_ticks if self.trades else None

    def record(self, trade: Trade) -> None:
        self.trades.append(trade)
        minute = trade.time_ms - trade.time_ms % MINUTE_MS
        taker_buys = not trade.buyer_maker
        k = self._klines[-1] if self._klines else None
        if k is None or k.open_time != minute:
            k = Kline(minute, *(trade.price_ticks,) * 4, 0, 0, 0, 0, 0)
            self._klines.append(k)
        k.high = max(k.high, trade.price_ticks)
        k.low = min(k.low, trade.price_ticks)
        k.close = trade.price_ticks
        k.volume += trade.qty_steps
        k.quote_volume += trade.quote_money
        k.count += 1
        if taker_buys:
            k.taker_buy_volume += trade.qty_steps
            k.taker_buy_quote += trade.quote_money

    def count_since(self, since_ms: int) -> int:
        """Trades at or after `since_ms` (the live view's 'trades in the last minute')."""
        n = 0
        for trade in reversed(self.trades):
            if trade.time_ms < since_ms:
                break
            n += 1
        return n

    def recent(self, limit: int) -> list[Trade]:
        if limit >= len(self.trades):
            return list(self.trades)
        return list(self.trades)[-limit:]

    def klines(
        self, now_ms: int, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[Kline]:
        """1m candles, oldest first, with quiet minutes filled in; newest `limit` unless a start."""
        if not self._klines:
            return []
        stored = list(self._klines)
        last_minute = now_ms - now_ms % MINUTE_MS
        if end_ms is not None:
            last_minute = min(last_minute, end_ms - end_ms % MINUTE_MS)
        first_minute = stored[0].open_time
        if start_ms is not None:
            first_minute = max(first_minute, start_ms + (-start_ms) % MINUTE_MS)
        elif last_minute - first_minute >= limit * MINUTE_MS:
            first_minute = last_minute - (limit - 1) * MINUTE_MS
        out: list[Kline] = []
        i = bisect_left([k.open_time for k in stored], first_minute)
        prev_close = stored[i - 1].close if i > 0 else stored[0].open
        minute = first_minute
        while minute <= last_minute and len(out) < limit:
            if i < len(stored) and stored[i].open_time == minute:
                k = stored[i]
                i += 1
            else:
                k = Kline(minute, prev_close, prev_close, prev_close, prev_close, 0, 0, 0, 0, 0)
            out.append(k)
            prev_close = k.close
            minute += MINUTE_MS
        return out
