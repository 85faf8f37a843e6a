"""24-hour rolling statistics of one symbol (GET /ticker/24hr, the ticker and miniTicker streams).

Read from the 1-minute candles rather than the trades themselves, so a busy day costs at most
1440 candles to sum however many trades it had, and nothing beyond the candles is kept. As on
Binance the window is rolling (`now − 24 h` to `now`), not the UTC day; a symbol with no trade in
the window shows its last price with zero volume.
"""

from __future__ import annotations

from dataclasses import dataclass

from rocky_bot.sandbox.klines import DAY_MS, Series
from rocky_bot.sandbox.orders import Trade


@dataclass(frozen=True, slots=True)
class DayStats:
    open_time: int
    close_time: int
    open: int  # ticks (0: never traded)
    high: int
    low: int
    last: int
    last_qty: int  # steps
    volume: int  # steps
    quote_volume: int  # money
    count: int
    first_id: int  # -1 when no trade in the window
    last_id: int

    @property
    def change(self) -> int:
        return self.last - self.open


def rolling_day(minutes: Series, last_trade: Trade | None, now_ms: int) -> DayStats:
    """The 24 h window ending now, from the 1-minute series and the latest trade."""
    since = now_ms - DAY_MS
    window = [k for k in minutes.candles(now_ms, since, now_ms, 1441) if k.count]
    last = last_trade.price_ticks if last_trade is not None else 0
    last_qty = last_trade.qty_steps if last_trade is not None else 0
    if not window:
        return DayStats(since, now_ms, last, last, last, last, last_qty, 0, 0, 0, -1, -1)
    return DayStats(
        open_time=since,
        close_time=now_ms,
        open=window[0].open,
        high=max(k.high for k in window),
        low=min(k.low for k in window),
        last=last,
        last_qty=last_qty,
        volume=sum(k.volume for k in window),
        quote_volume=sum(k.quote_volume for k in window),
        count=sum(k.count for k in window),
        first_id=window[0].first_id,
        last_id=window[-1].last_id,
    )
