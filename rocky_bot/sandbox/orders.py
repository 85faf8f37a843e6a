"""The sandbox's own order and trade values (it imports nothing of the bot, so it defines its own).

`Order` is the engine's mutable working record, all integers; everything handed out of the engine
is a frozen snapshot (`OrderView`, `Fill`, `Trade`) so callers can never change the book under it.
Snapshots keep integers plus their `Grid` and offer `Decimal` properties for people and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.sandbox.grid import Grid, money_decimal

BUY = 1
SELL = -1
SIDE_NAME = {BUY: "BUY", SELL: "SELL"}
SIDE_OF = {"BUY": BUY, "SELL": SELL}

LIVE = frozenset({"NEW", "PARTIALLY_FILLED"})
#: selfTradePreventionMode: what happens when an account's order would trade with its own.
#: The taker's mode decides (Binance's rule); NONE lets the trade happen.
STP_MODES = frozenset({"NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as the REST layer parsed it (strings already turned into `Decimal`)."""

    symbol: str
    side: str  # BUY | SELL
    type: str  # LIMIT | MARKET
    quantity: Decimal
    price: Decimal | None = None
    time_in_force: str | None = None  # LIMIT: GTC | IOC | FOK | GTX (default GTC)
    reduce_only: bool = False
    client_order_id: str | None = None
    stp_mode: str = "NONE"


@dataclass(slots=True, eq=False)
class Order:
    """One order's working state inside the engine (mutable, integers only)."""

    order_id: int
    account: str
    symbol: str
    client_id: str
    side: int  # BUY / SELL
    type: str
    tif: str
    price: int  # ticks; 0 for MARKET
    qty: int  # steps
    reduce_only: bool
    time_ms: int
    update_ms: int
    filled: int = 0  # steps
    filled_money: int = 0  # Σ fill price × qty, money units
    status: str = "NEW"
    margin: int = 0  # this order's notional inside its holding's open-order sums (money)
    stp: str = "NONE"

    @property
    def remaining(self) -> int:
        return self.qty - self.filled

    def view(self, grid: Grid) -> OrderView:
        return OrderView(
            grid=grid,
            order_id=self.order_id,
            client_order_id=self.client_id,
            side=SIDE_NAME[self.side],
            type=self.type,
            time_in_force=self.tif,
            price_ticks=self.price,
            qty_steps=self.qty,
            filled_steps=self.filled,
            filled_money=self.filled_money,
            status=self.status,
            reduce_only=self.reduce_only,
            time_ms=self.time_ms,
            update_time_ms=self.update_ms,
            stp_mode=self.stp,
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as it stood when the engine answered."""

    grid: Grid
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price_ticks: int
    qty_steps: int
    filled_steps: int
    filled_money: int
    status: str
    reduce_only: bool
    time_ms: int
    update_time_ms: int
    stp_mode: str = "NONE"

    @property
    def symbol(self) -> str:
        return self.grid.symbol

    @property
    def price(self) -> Decimal:
        return self.grid.price(self.price_ticks)

    @property
    def orig_qty(self) -> Decimal:
        return self.grid.qty(self.qty_steps)

    @property
    def executed_qty(self) -> Decimal:
        return self.grid.qty(self.filled_steps)

    @property
    def cum_quote(self) -> Decimal:
        return money_decimal(self.filled_money)

    @property
    def avg_price(self) -> Decimal:
        return self.grid.price_from_money(self.filled_money, self.filled_steps)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE


@dataclass(frozen=True, slots=True)
class Fill:
    """One account's side of one trade (what `userTrades` lists)."""

    grid: Grid
    trade_id: int
    order_id: int
    side: str
    price_ticks: int
    qty_steps: int
    quote_money: int
    commission_money: int
    realized_money: int
    maker: bool
    time_ms: int

    @property
    def price(self) -> Decimal:
        return self.grid.price(self.price_ticks)

    @property
    def qty(self) -> Decimal:
        return self.grid.qty(self.qty_steps)

    @property
    def commission(self) -> Decimal:
        return money_decimal(self.commission_money)

    @property
    def realized_pnl(self) -> Decimal:
        return money_decimal(self.realized_money)


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade on the tape."""

    trade_id: int
    price_ticks: int
    qty_steps: int
    quote_money: int
    time_ms: int
    buyer_maker: bool


@dataclass(frozen=True, slots=True)
class Income:
    """One line of an account's income history (GET /fapi/v1/income), in money units."""

    symbol: str  # "" for a transfer
    kind: str  # REALIZED_PNL | COMMISSION | TRANSFER
    money: int
    time_ms: int
    tran_id: int
    trade_id: int | None = None
