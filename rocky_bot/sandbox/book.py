"""One symbol's limit order book: price levels in integer ticks, FIFO within a level.

Price-time priority with O(1) order removal (each level is an insertion-ordered dict keyed by
order id) and O(log L) level lookup over a sorted key list per side. The key list is ordered so the
best level is always last (bids by +price, asks by -price): taking or emptying the best level,
the hot path of matching, is then a pop from the end.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.sandbox.orders import BUY, SELL, Order


@dataclass(frozen=True, slots=True)
class BookSummary:
    """Top of one book and how deep it is (what the live view prints per symbol)."""

    symbol: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    bid_levels: int
    ask_levels: int

    @property
    def spread_bps(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        mid = (self.best_bid + self.best_ask) / 2
        return (self.best_ask - self.best_bid) / mid * 10_000


class Level:
    __slots__ = ("orders", "price", "qty")

    def __init__(self, price: int) -> None:
        self.price = price
        self.qty = 0  # Σ remaining steps
        self.orders: dict[int, Order] = {}

    def first(self) -> Order:
        return next(iter(self.orders.values()))


class Book:
    """Resting orders of one symbol. `update_id` grows on every change (depth's lastUpdateId)."""

    def __init__(self) -> None:
        self._levels: dict[int, dict[int, Level]] = {BUY: {}, SELL: {}}
        self._keys: dict[int, list[int]] = {BUY: [], SELL: []}  # price × side, best last
        self.update_id = 0

    # -- queries ----------------------------------------------------------------------
    def best(self, side: int) -> Level | None:
        keys = self._keys[side]
        if not keys:
            return None
        return self._levels[side][keys[-1] * side]

    def best_price(self, side: int) -> int | None:
        keys = self._keys[side]
        return keys[-1] * side if keys else None

    def levels(self, side: int, limit: int | None = None) -> Iterator[Level]:
        """Levels of one side, best first."""
        keys = self._keys[side]
        levels = self._levels[side]
        stop = 0 if limit is None else max(0, len(keys) - limit)
        for i in range(len(keys) - 1, stop - 1, -1):
            yield levels[keys[i] * side]

    def level_count(self, side: int) -> int:
        return len(self._keys[side])

    def fillable(self, taker_side: int, limit_price: int | None, wanted: int) -> int:
        """Steps a taker could fill right now up to `wanted` (for FOK), None price = market."""
        got = 0
        for level in self.levels(-taker_side):
            if limit_price is not None and (level.price - limit_price) * taker_side > 0:
                break
            got += level.qty
            if got >= wanted:
                return wanted
        return got

    def crosses(self, side: int, price: int) -> bool:
        """Would a limit order at `price` on `side` trade on arrival (what GTX must not do)?"""
        best = self.best_price(-side)
        return best is not None and (best - price) * side <= 0

    # -- changes ----------------------------------------------------------------------
    def add(self, order: Order) -> None:
        side, price = order.side, order.price
        level = self._levels[side].get(price)
        if level is None:
            level = Level(price)
            self._levels[side][price] = level
            insort(self._keys[side], price * side)
        level.orders[order.order_id] = order
        level.qty += order.remaining
        self.update_id += 1

    def remove(self, order: Order) -> None:
        """Take a resting order out (cancel, or fully filled); its remaining leaves the level."""
        side = order.side
        level = self._levels[side][order.price]
        del level.orders[order.order_id]
        level.qty -= order.remaining
        if not level.orders:
            self._drop_level(side, level.price)
        self.update_id += 1

    def filled(self, order: Order, steps: int) -> None:
        """Book `steps` of a resting order as traded (call before updating `order.filled`)."""
        level = self._levels[order.side][order.price]
        level.qty -= steps
        if steps == order.remaining:
            del level.orders[order.order_id]
            if not level.orders:
                self._drop_level(order.side, order.price)
        self.update_id += 1

    def _drop_level(self, side: int, price: int) -> None:
        del self._levels[side][price]
        keys = self._keys[side]
        key = price * side
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]
