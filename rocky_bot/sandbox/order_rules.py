"""Binance's rules for a new or amended order, checked before the engine touches any state. Pure.

Each rule raises the `SandboxError` Binance answers with: type (-1116; conditional types -4120,
as Binance now sends them to its algo-order API), time in force (-1115), side (-1117), client id
(-4015), self-trade-prevention mode (-5039), the grid (-4014/-4023/-1111, price and quantity
filters -4001/-4002/-4013, -4003/-4004/-4005), PERCENT_PRICE against the mark (-4016 for a buy
above mark × multiplierUp, -4024 for a sell below mark × multiplierDown), MIN_NOTIONAL (-4164,
reduce-only exempt; MARKET orders valued at the mark). A MARKET order also gets the price it may
not trade beyond, mark ± `marketTakeBound`, and -4131 when the best opposite price already fails
PERCENT_PRICE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rocky_bot.sandbox import errors
from rocky_bot.sandbox.book import Book
from rocky_bot.sandbox.grid import Grid
from rocky_bot.sandbox.orders import BUY, SIDE_OF, STP_MODES, OrderRequest

#: Binance's pattern; matched with `fullmatch` (`re.match` with `$` lets a trailing "\n" in).
CLIENT_ID_RE = re.compile(r"[\.A-Z\:/a-z0-9_-]{1,36}")
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK", "GTX"})
CONDITIONAL = frozenset(
    {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"}
)


@dataclass(frozen=True, slots=True)
class Checked:
    """A new order that passed every rule, in the engine's integers."""

    side: int
    qty: int  # steps
    price: int  # ticks; 0 for MARKET
    tif: str
    money_per_step: int  # the order's price (the mark for MARKET) as money per step
    limit: int | None  # the worst price it may trade at (ticks); None: no bound


def side_of(name: str) -> int:
    side = SIDE_OF.get(name)
    if side is None:
        raise errors.rejected(errors.BAD_SIDE)
    return side


def check_new(req: OrderRequest, grid: Grid, mark: int, book: Book) -> Checked:
    """Every rule for POST /order; `mark` is the mark as money per step."""
    side = side_of(req.side)
    if req.type in CONDITIONAL:
        raise errors.rejected(errors.CONDITIONAL_TYPE)
    if req.type not in ("LIMIT", "MARKET"):
        raise errors.rejected(errors.BAD_TYPE)
    if req.stp_mode not in STP_MODES:
        raise errors.rejected(errors.BAD_STP_MODE)
    qty = grid.qty_steps(req.quantity)
    if req.type == "LIMIT":
        if req.price is None:
            raise errors.missing("price")
        tif = req.time_in_force or "GTC"
        if tif not in TIME_IN_FORCE:
            raise errors.rejected(errors.BAD_TIF)
        price = grid.price_ticks(req.price)
        money_per_step = price * grid.money_per_tick_step
        check_percent_price(grid, side, money_per_step, mark)
        limit: int | None = price
    else:
        if req.price is not None:
            raise errors.not_required("price")
        tif, price, money_per_step = "GTC", 0, mark
        limit = market_limit(grid, side, mark, book)
    if req.client_order_id is not None and not CLIENT_ID_RE.fullmatch(req.client_order_id):
        raise errors.rejected(errors.BAD_CLIENT_ID)
    if not req.reduce_only:
        check_min_notional(grid, qty, money_per_step)
    if tif == "GTX" and book.crosses(side, price):
        raise errors.rejected(errors.POST_ONLY_REJECTED)
    if tif == "FOK" and book.fillable(side, limit, qty) < qty:
        raise errors.rejected(errors.FOK_REJECTED)
    return Checked(side, qty, price, tif, money_per_step, limit)


def check_min_notional(grid: Grid, qty: int, money_per_step: int) -> None:
    if qty * money_per_step < grid.min_notional_money:
        raise errors.min_notional(f"{grid.spec.min_notional}")


def check_percent_price(grid: Grid, side: int, money_per_step: int, mark: int) -> None:
    """PERCENT_PRICE: a buy no higher than mark × up, a sell no lower than mark × down."""
    if side == BUY:
        num, den = grid.up
        if money_per_step * den > mark * num:
            raise errors.rejected(errors.ABOVE_MULTIPLIER_UP)
    else:
        num, den = grid.down
        if money_per_step * den < mark * num:
            raise errors.rejected(errors.BELOW_MULTIPLIER_DOWN)


def market_limit(grid: Grid, side: int, mark: int, book: Book) -> int:
    """The furthest price (ticks) a MARKET order may trade at: mark ± marketTakeBound.

    -4131 when the best opposite price is already outside PERCENT_PRICE (Binance refuses the
    order rather than filling it at a price the filter would not let a limit order name).
    """
    best = book.best_price(-side)
    if best is not None:
        try:
            check_percent_price(grid, side, best * grid.money_per_tick_step, mark)
        except errors.SandboxError:
            raise errors.rejected(errors.MARKET_REJECTED) from None
    num, den = grid.take_bound
    step = grid.money_per_tick_step
    if side == BUY:
        return mark * (den + num) // (den * step)
    return -(-(mark * (den - num)) // (den * step))  # ceiling
