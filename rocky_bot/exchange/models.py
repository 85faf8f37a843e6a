"""Typed exchange values, parsed once from Binance's string fields.

Prices and quantities stay `Decimal` end to end: Binance sends them as strings precisely so that
nobody rounds them through a float, and the tick/step arithmetic below relies on exactness.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderStatus(enum.StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"

    @property
    def is_live(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class TimeInForce(enum.StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"


@dataclass(frozen=True, slots=True)
class Order:
    symbol: str
    order_id: int
    client_order_id: str
    side: Side
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal
    status: OrderStatus
    time_in_force: str = "GTC"
    order_type: str = "LIMIT"
    reduce_only: bool = False
    update_time_ms: int = 0

    @property
    def remaining_qty(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_live(self) -> bool:
        return self.status.is_live


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    amount: Decimal  # signed: negative is short
    entry_price: Decimal
    mark_price: Decimal

    @property
    def notional(self) -> Decimal:
        return self.amount * self.mark_price


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    wallet: Decimal
    available: Decimal
    #: On the user stream (`bc`): the change that is neither PnL nor commission — a deposit
    #: (> 0) or withdrawal (< 0). Zero where the source does not say (REST).
    change: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """The exchange's filters for one symbol (PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL)."""

    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    #: The asset the symbol's margin and PnL are booked in (exchangeInfo `marginAsset`).
    margin_asset: str = "USDT"
    #: PRICE_FILTER's bounds: no price outside them can trade, so no mid outside them is
    #: plausible (the feed's guard uses them). `max_price` None: no maximum.
    min_price: Decimal = Decimal(0)
    max_price: Decimal | None = None

    def round_price(self, price: Decimal, side: Side) -> Decimal:
        """Round onto the tick grid *away* from the mid, so an offset never shrinks below target."""
        rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
        ticks = (price / self.tick_size).to_integral_value(rounding=rounding)
        return (ticks * self.tick_size).quantize(self.tick_size)

    def round_qty(self, qty: Decimal) -> Decimal:
        steps = (qty / self.step_size).to_integral_value(rounding=ROUND_FLOOR)
        return (steps * self.step_size).quantize(self.step_size)

    def nearest_qty(self, qty: Decimal) -> Decimal:
        """The step-grid quantity nearest `qty` (a size drawn around a grid value keeps it as
        its median, which flooring would not)."""
        steps = (qty / self.step_size).to_integral_value(rounding=ROUND_HALF_EVEN)
        return (steps * self.step_size).quantize(self.step_size)

    def least_qty(self, price: Decimal) -> Decimal:
        """The smallest step-grid quantity that passes minQty and MIN_NOTIONAL at `price`."""
        by_notional = (self.min_notional / price / self.step_size).to_integral_value(ROUND_CEILING)
        by_qty = (self.min_qty / self.step_size).to_integral_value(ROUND_CEILING)
        return (max(by_notional, by_qty, Decimal(1)) * self.step_size).quantize(self.step_size)

    def check(self, price: Decimal, qty: Decimal) -> str | None:
        """Return why an order of this size would be rejected, or None if it is acceptable."""
        if qty < self.min_qty:
            return f"qty {qty} below minQty {self.min_qty}"
        if price * qty < self.min_notional:
            return f"notional {price * qty:.4f} below minNotional {self.min_notional}"
        return None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One ORDER_TRADE_UPDATE from the user data stream: an order's new state, and a fill if any."""

    symbol: str
    order_id: int
    client_order_id: str
    side: Side
    exec_type: str  # NEW, TRADE, CANCELED, EXPIRED, CALCULATED, AMENDMENT
    status: OrderStatus
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal
    last_fill_qty: Decimal
    last_fill_price: Decimal
    event_time_ms: int

    def as_order(self) -> Order:
        """The order as this event leaves it, for the account's order map."""
        return Order(
            symbol=self.symbol, order_id=self.order_id, client_order_id=self.client_order_id,
            side=self.side, price=self.price, orig_qty=self.orig_qty,
            executed_qty=self.executed_qty, status=self.status, update_time_ms=self.event_time_ms,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """One ACCOUNT_UPDATE: only the assets and positions that changed.

    The event carries no mark price, so each position's `mark_price` is its entry price; take the
    mark from the feed's mid rather than from here.
    """

    balances: tuple[Balance, ...]
    positions: tuple[Position, ...]
    event_time_ms: int
