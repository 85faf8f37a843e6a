"""Accounts, one-way positions and cross-margin arithmetic, all in integer money units (1e-8).

Prices enter this module as *money per step* (price × step size × 1e8), so a notional is just
`steps × money_per_step` and no division happens outside the three rounding points documented
below (proportional cost on a partial close, fees, initial margin). Realized PnL over a full round
trip is exact because a full close removes the whole cost basis.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.sandbox.grid import Grid, money_decimal
from rocky_bot.sandbox.orders import Fill, Income, Order

CLOSED_HISTORY = 1000  # closed orders kept per account (query by id after the fact)
FILL_HISTORY = 1000  # fills kept per account and symbol (userTrades' max limit)
INCOME_HISTORY = 1000  # income lines kept per account (GET /income's max limit)
MAINT_MARGIN_RATE = (4, 1000)  # 0.4 %: Binance's first BTCUSDT bracket


def round_div(num: int, den: int) -> int:
    """num / den rounded half away from zero (den > 0)."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def ceil_div(num: int, den: int) -> int:
    return -((-num) // den)


class Holding:
    """One account's position and resting orders on one symbol."""

    __slots__ = (
        "amt",
        "buy_open",
        "cost",
        "leverage",
        "orders",
        "realized",
        "sell_open",
        "update_ms",
    )

    def __init__(self, leverage: int) -> None:
        self.amt = 0  # signed steps, negative = short
        self.cost = 0  # money paid for |amt| at entry (≥ 0); entry price = cost / |amt|
        self.realized = 0  # cumulative realized PnL before fees (ACCOUNT_UPDATE "cr")
        self.leverage = leverage
        self.buy_open = 0  # Σ notional of resting buy orders (money)
        self.sell_open = 0
        self.orders: dict[int, Order] = {}
        self.update_ms = 0

    def reducible(self, side: int) -> int:
        """Steps an order on `side` can trade while only reducing the position."""
        return abs(self.amt) if self.amt * side < 0 else 0

    def unrealized(self, mark: int) -> int:
        if self.amt > 0:
            return self.amt * mark - self.cost
        if self.amt < 0:
            return self.amt * mark + self.cost
        return 0

    def initial_margin(self, mark: int, buy_extra: int = 0, sell_extra: int = 0) -> int:
        """Binance-style IM: position at mark, plus whichever side's orders would grow it most.

        Orders on the closing side first eat the position, so a quoting account that rests on both
        sides pays for the worse side only, never for both.
        """
        pos = abs(self.amt) * mark
        buys, sells = self.buy_open + buy_extra, self.sell_open + sell_extra
        long_side = self.amt >= 0
        worst = max(pos + buys, sells - pos) if long_side else max(pos + sells, buys - pos)
        return ceil_div(worst, self.leverage)

    def apply_fill(self, side: int, steps: int, money_per_step: int) -> int:
        """Move the position by a trade and return the PnL it realized (before fees)."""
        realized = 0
        if self.amt and (self.amt > 0) != (side > 0):
            held = abs(self.amt)
            closing = min(steps, held)
            removed = self.cost if closing == held else round_div(self.cost * closing, held)
            direction = 1 if self.amt > 0 else -1
            realized = (closing * money_per_step - removed) * direction
            self.cost -= removed
            self.amt += side * closing
            steps -= closing
        if steps:
            self.cost += steps * money_per_step
            self.amt += side * steps
        self.realized += realized
        return realized


class Account:
    """A wallet in the margin asset and its holdings; `fills` and `closed` keep bounded history."""

    __slots__ = (
        "closed",
        "closed_by_client",
        "fills",
        "holdings",
        "incomes",
        "name",
        "open_by_client",
        "wallet",
    )

    def __init__(self, name: str, symbols: list[str], leverage: int) -> None:
        self.name = name
        self.wallet = 0
        self.holdings = {s: Holding(leverage) for s in symbols}
        self.open_by_client: dict[str, Order] = {}
        self.closed: OrderedDict[int, Order] = OrderedDict()
        self.closed_by_client: dict[tuple[str, str], int] = {}
        self.fills: dict[str, deque[Fill]] = {s: deque(maxlen=FILL_HISTORY) for s in symbols}
        self.incomes: deque[Income] = deque(maxlen=INCOME_HISTORY)

    def available(self, marks: dict[str, int]) -> int:
        """Cross margin: wallet + unrealized PnL − initial margin of positions and orders."""
        total = self.wallet
        for symbol, h in self.holdings.items():
            mark = marks[symbol]
            total += h.unrealized(mark) - h.initial_margin(mark)
        return total

    def remember_closed(self, order: Order) -> None:
        self.closed[order.order_id] = order
        self.closed_by_client[(order.symbol, order.client_id)] = order.order_id
        if len(self.closed) > CLOSED_HISTORY:
            _, old = self.closed.popitem(last=False)
            key = (old.symbol, old.client_id)
            if self.closed_by_client.get(key) == old.order_id:
                del self.closed_by_client[key]


@dataclass(frozen=True, slots=True)
class PositionView:
    """One account's position on one symbol, valued at the mark when asked."""

    grid: Grid
    amt_steps: int
    cost_money: int
    mark_money_per_step: int
    mark_price: Decimal
    leverage: int
    unrealized_money: int
    position_im_money: int
    order_im_money: int
    maint_money: int
    bid_notional_money: int
    ask_notional_money: int
    realized_money: int
    open_orders: int
    update_time_ms: int

    @property
    def symbol(self) -> str:
        return self.grid.symbol

    @property
    def amount(self) -> Decimal:
        return self.grid.qty(abs(self.amt_steps)) * (1 if self.amt_steps >= 0 else -1)

    @property
    def entry_price(self) -> Decimal:
        return self.grid.price_from_money(self.cost_money, self.amt_steps)

    @property
    def notional_money(self) -> int:
        return self.amt_steps * self.mark_money_per_step

    @property
    def unrealized_pnl(self) -> Decimal:
        return money_decimal(self.unrealized_money)


@dataclass(frozen=True, slots=True)
class AccountView:
    name: str
    asset: str
    wallet_money: int
    unrealized_money: int
    position_im_money: int
    order_im_money: int
    maint_money: int
    available_money: int
    positions: tuple[PositionView, ...]
    update_time_ms: int

    @property
    def wallet_balance(self) -> Decimal:
        return money_decimal(self.wallet_money)

    @property
    def available_balance(self) -> Decimal:
        return money_decimal(self.available_money)

    @property
    def margin_balance_money(self) -> int:
        return self.wallet_money + self.unrealized_money


def account_view(
    acct: Account,
    asset: str,
    grids: dict[str, Grid],
    marks: dict[str, int],
    mark_prices: dict[str, Decimal],
) -> AccountView:
    positions = tuple(
        position_view(h, grids[s], marks[s], mark_prices[s]) for s, h in acct.holdings.items()
    )
    unrealized = sum(p.unrealized_money for p in positions)
    pos_im = sum(p.position_im_money for p in positions)
    order_im = sum(p.order_im_money for p in positions)
    return AccountView(
        name=acct.name,
        asset=asset,
        wallet_money=acct.wallet,
        unrealized_money=unrealized,
        position_im_money=pos_im,
        order_im_money=order_im,
        maint_money=sum(p.maint_money for p in positions),
        available_money=acct.wallet + unrealized - pos_im - order_im,
        positions=positions,
        update_time_ms=max((p.update_time_ms for p in positions), default=0),
    )


def position_view(h: Holding, grid: Grid, mark: int, mark_price: Decimal) -> PositionView:
    total_im = h.initial_margin(mark)
    pos_im = ceil_div(abs(h.amt) * mark, h.leverage)
    num, den = MAINT_MARGIN_RATE
    return PositionView(
        grid=grid,
        amt_steps=h.amt,
        cost_money=h.cost,
        mark_money_per_step=mark,
        mark_price=mark_price,
        leverage=h.leverage,
        unrealized_money=h.unrealized(mark),
        position_im_money=pos_im,
        order_im_money=total_im - pos_im,
        maint_money=ceil_div(abs(h.amt) * mark * num, den),
        bid_notional_money=h.buy_open,
        ask_notional_money=h.sell_open,
        realized_money=h.realized,
        open_orders=len(h.orders),
        update_time_ms=h.update_ms,
    )
