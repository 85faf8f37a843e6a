"""What a strategy wants done, as values. One executor per account turns them into requests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.exchange.models import Side, TimeInForce


@dataclass(frozen=True, slots=True)
class Place:
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    #: client id of a live order this one replaces: cancel it once this one is accepted
    #: (make-before-break, so the level never leaves the book).
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    symbol: str
    client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Modify:
    symbol: str
    client_order_id: str
    side: Side
    qty: Decimal
    price: Decimal


Intent = Place | Cancel | Modify


@dataclass(frozen=True, slots=True)
class LiveQuote:
    """One of our live orders as the decision needs it."""

    client_order_id: str
    side: Side
    price: Decimal
    remaining_qty: Decimal
    #: Nothing of it has filled: a modify may then set any size (it sets the total quantity).
    unfilled: bool = True


@dataclass(frozen=True, slots=True)
class Exposure:
    """Worst-case inputs of the cap gate: position plus everything that could still fill."""

    position: Decimal = Decimal(0)
    resting_buy: Decimal = Decimal(0)
    resting_sell: Decimal = Decimal(0)
    inflight_buy: Decimal = Decimal(0)
    inflight_sell: Decimal = Decimal(0)

    def pending(self, side: Side) -> Decimal:
        if side is Side.BUY:
            return self.resting_buy + self.inflight_buy
        return self.resting_sell + self.inflight_sell

    def worst_case(self, side: Side, extra: Decimal = Decimal(0)) -> Decimal:
        """Signed position if every pending order of `side`, plus `extra`, filled."""
        return self.position + side.sign * (self.pending(side) + extra)
