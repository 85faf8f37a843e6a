"""One symbol's public record: its trade tape, aggregated trades, candles and mark history.

Everything is bounded so a weeks-long run stays flat in memory: `TRADE_HISTORY` trades and
aggregated trades (Binance's largest `limit` for /trades and /aggTrades), `klines.HISTORY`
candles per interval, `FUNDING_HISTORY` funding instants.

Aggregated trades follow Binance's rule ("trades that fill at the same time, the same price and
the same taking side"): here, the fills of one taker order at one price level are one aggTrade,
so a taker that sweeps three levels makes three.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rocky_bot.sandbox.klines import Candles
from rocky_bot.sandbox.orders import Trade

TRADE_HISTORY = 1000
FUNDING_HISTORY = 1000
MARK_SCALE = 10**8  # marks are kept as integers of 1e-8 (Binance prints marks with 8 decimals)


@dataclass(slots=True)
class AggTrade:
    agg_id: int
    price_ticks: int
    qty_steps: int
    first_id: int
    last_id: int
    time_ms: int
    buyer_maker: bool
    taker_order_id: int


@dataclass(frozen=True, slots=True)
class FundingMark:
    """A funding instant (every 8 h) and the mark then; the sandbox charges no funding."""

    time_ms: int
    mark_units: int


class Tape:
    def __init__(self) -> None:
        self.trades: deque[Trade] = deque(maxlen=TRADE_HISTORY)
        self.aggs: deque[AggTrade] = deque(maxlen=TRADE_HISTORY)
        self.candles = Candles()
        self.marks = Candles()  # mark price, sampled (markPriceKlines / indexPriceKlines)
        self.fundings: deque[FundingMark] = deque(maxlen=FUNDING_HISTORY)
        self._next_agg_id = 1

    @property
    def last_price(self) -> int | None:
        return self.trades[-1].price_ticks if self.trades else None

    @property
    def last_agg_id(self) -> int:
        return self._next_agg_id - 1

    def record(self, trade: Trade, taker_order_id: int) -> None:
        self.trades.append(trade)
        agg = self.aggs[-1] if self.aggs else None
        if agg is not None and (agg.taker_order_id, agg.price_ticks) == (
            taker_order_id, trade.price_ticks,
        ):  # fmt: skip
            agg.qty_steps += trade.qty_steps
            agg.last_id = trade.trade_id
        else:
            self.aggs.append(
                AggTrade(self._next_agg_id, trade.price_ticks, trade.qty_steps, trade.trade_id,
                         trade.trade_id, trade.time_ms, trade.buyer_maker, taker_order_id)
            )  # fmt: skip
            self._next_agg_id += 1
        self.candles.record(
            trade.time_ms, trade.price_ticks, trade.qty_steps, trade.quote_money,
            not trade.buyer_maker, trade.trade_id,
        )  # fmt: skip

    def record_mark(self, ms: int, mark_units: int) -> None:
        self.marks.record(ms, mark_units)

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

    def aggs_after(self, agg_id: int) -> list[AggTrade]:
        """Aggregated trades with an id above `agg_id`, oldest first (the stream's backlog)."""
        out: list[AggTrade] = []
        for agg in reversed(self.aggs):
            if agg.agg_id <= agg_id:
                break
            out.append(agg)
        out.reverse()
        return out

    def find_aggs(
        self, from_id: int | None, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[AggTrade]:
        """GET /aggTrades: from an id, or within a time window, else the newest `limit`."""
        if from_id is None and start_ms is None and end_ms is None:
            return list(self.aggs)[-limit:]
        out = [
            a
            for a in self.aggs
            if (from_id is None or a.agg_id >= from_id)
            and (start_ms is None or a.time_ms >= start_ms)
            and (end_ms is None or a.time_ms <= end_ms)
        ]
        return out[:limit] if from_id is not None or start_ms is not None else out[-limit:]
