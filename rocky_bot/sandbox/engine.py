"""The sandbox's matching engine: pure, synchronous, integer-only, no I/O.

Price-time priority per symbol; LIMIT (GTC/IOC/FOK/GTX), MARKET, reduceOnly; one-way positions on
a cross-margin wallet. Every method either changes state and returns a snapshot, or raises a
`SandboxError` carrying Binance's code and changes nothing (the rules are in order_rules.py).

Self-trade: two different accounts trading with each other is the product. An account crossing
its *own* resting order follows the `selfTradePreventionMode` its new order carries (the taker's
mode decides, as on Binance): NONE (the default here) matches both sides and books both fills,
EXPIRE_TAKER / EXPIRE_MAKER / EXPIRE_BOTH expire the named side(s) as EXPIRED_IN_MATCH.

`on_change(symbol)`, when set, is called after every change to a book (the venue's market
streams listen there); the engine never waits on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from rocky_bot.sandbox import errors, order_rules
from rocky_bot.sandbox.book import Book
from rocky_bot.sandbox.config import SymbolSpec
from rocky_bot.sandbox.deadman import Countdowns
from rocky_bot.sandbox.engine_views import EngineViews
from rocky_bot.sandbox.events import EventSink, NullSink, account_config_update, balance_update
from rocky_bot.sandbox.grid import Grid, money_decimal, to_money
from rocky_bot.sandbox.ledger import Account
from rocky_bot.sandbox.matching import Matcher
from rocky_bot.sandbox.orders import Order, OrderRequest, OrderView
from rocky_bot.sandbox.tape import Tape

MAX_LEVERAGE = 125


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine(Matcher, EngineViews):
    """All books, accounts and marks of one sandbox. Not thread-safe: one event loop drives it."""

    def __init__(
        self,
        symbols: Sequence[SymbolSpec],
        *,
        margin_asset: str = "USDT",
        maker_fee: Decimal = Decimal("0.0002"),
        taker_fee: Decimal = Decimal("0.0005"),
        default_leverage: int = 20,
        clock_ms: Callable[[], int] = wall_clock_ms,
        sink: EventSink | None = None,
    ) -> None:
        self.asset = margin_asset
        self.grids = {s.symbol: Grid.of(s) for s in symbols}
        self.books = {s.symbol: Book() for s in symbols}
        self.tapes = {s.symbol: Tape() for s in symbols}
        self.marks = {
            s.symbol: self.grids[s.symbol].mark_money_per_step(s.start_price) for s in symbols
        }
        self.mark_prices = {s.symbol: s.start_price for s in symbols}
        self.accounts: dict[str, Account] = {}
        self.maker_fee_rate, self.taker_fee_rate = maker_fee, taker_fee
        self.maker_fee = maker_fee.as_integer_ratio()
        self.taker_fee = taker_fee.as_integer_ratio()
        self.default_leverage = default_leverage
        self.clock_ms = clock_ms
        self.sink: EventSink = sink or NullSink()
        self.on_change: Callable[[str], None] | None = None
        self._next_order_id = 1
        self._next_trade_id = {s.symbol: 1 for s in symbols}
        self._next_tran_id = 1
        self._countdowns = Countdowns()

    # -- accounts ---------------------------------------------------------------------
    def open_account(self, name: str) -> None:
        if name not in self.accounts:
            self.accounts[name] = Account(name, list(self.grids), self.default_leverage)

    def credit(self, name: str, amount: Decimal) -> Decimal:
        """Faucet: add `amount` of the margin asset to the wallet; returns the new balance."""
        acct = self._account(name)
        delta = to_money(amount)
        if delta <= 0:
            raise errors.invalid_data("amount")
        acct.wallet += delta
        now = self.clock_ms()
        self._income(acct, "", "TRANSFER", delta, now)
        if self.sink.wants(name):
            self.sink.emit(name, balance_update(acct.wallet, delta, now, asset=self.asset))
        return money_decimal(acct.wallet)

    def set_leverage(self, name: str, symbol: str, leverage: int) -> int:
        self._grid(symbol)
        if not 1 <= leverage <= MAX_LEVERAGE:
            raise errors.bad_leverage(leverage)
        self._account(name).holdings[symbol].leverage = leverage
        if self.sink.wants(name):
            self.sink.emit(name, account_config_update(symbol, leverage, self.clock_ms()))
        return leverage

    # -- marks --------------------------------------------------------------------------
    def set_mark(self, symbol: str, mid: Decimal) -> None:
        """The synthetic mid becomes the mark price (margin and unrealized PnL use it)."""
        self.marks[symbol] = self._grid(symbol).mark_money_per_step(mid)
        self.mark_prices[symbol] = mid

    # -- orders -----------------------------------------------------------------------
    def submit(self, name: str, req: OrderRequest) -> OrderView:
        acct = self._account(name)
        grid = self._grid(req.symbol)
        book = self.books[req.symbol]
        checked = order_rules.check_new(req, grid, self.marks[req.symbol], book)
        if len(acct.holdings[req.symbol].orders) >= grid.spec.max_num_orders:
            raise errors.rejected(errors.MAX_OPEN_ORDERS)  # exchangeInfo's MAX_NUM_ORDERS
        client_id = req.client_order_id or f"autoclient-{self._next_order_id}"
        if client_id in acct.open_by_client:
            raise errors.rejected(errors.DUPLICATE_CLIENT_ID)
        if req.reduce_only:
            if not acct.holdings[req.symbol].reducible(checked.side):
                raise errors.rejected(errors.REDUCE_ONLY)
        else:  # a reduce-only order can only shrink the position: it reserves no margin
            self._check_margin(acct, req.symbol, checked.side, checked.qty * checked.money_per_step)
        now = self.clock_ms()
        order = Order(
            self._next_order_id, name, req.symbol, client_id, checked.side, req.type,
            checked.tif, checked.price, checked.qty, req.reduce_only, now, now, stp=req.stp_mode,
        )  # fmt: skip
        self._next_order_id += 1
        self._emit_order(order, "NEW")
        expired = self._match(order, checked.limit)
        may_rest = req.type == "LIMIT" and checked.tif in ("GTC", "GTX")
        self._settle(order, may_rest=may_rest, stp_expired=expired)
        self._changed(req.symbol)
        return order.view(grid)

    def cancel(
        self, name: str, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> OrderView:
        order = self._find_open(name, symbol, order_id, client_id)
        if order is None:
            raise errors.rejected(errors.CANCEL_REJECTED)
        self._unrest(order)
        self._finish(order, "CANCELED")
        self._changed(symbol)
        return order.view(self.grids[symbol])

    def cancel_all(self, name: str, symbol: str) -> list[OrderView]:
        holding = self._account(name).holdings[self._grid(symbol).symbol]
        return [self.cancel(name, symbol, oid) for oid in list(holding.orders)]

    def modify(
        self,
        name: str,
        symbol: str,
        *,
        side: str,
        quantity: Decimal,
        price: Decimal,
        order_id: int | None = None,
        client_id: str | None = None,
    ) -> OrderView:
        """Binance's PUT /fapi/v1/order: new price/qty, same id, back of the queue.

        As on Binance, an amendment that breaks a filter is rejected and the order stays; one
        that would leave qty ≤ executed, or make a GTX order take, cancels the order.
        """
        grid = self._grid(symbol)
        order = self._find_open(name, symbol, order_id, client_id)
        if order is None:
            raise errors.rejected(errors.UNKNOWN_ORDER)
        if order_rules.side_of(side) != order.side:
            raise errors.rejected(errors.BAD_SIDE)
        if order.type != "LIMIT":
            raise errors.rejected(errors.BAD_TYPE)
        qty, ticks = grid.qty_steps(quantity), grid.price_ticks(price)
        if qty == order.qty and ticks == order.price:
            raise errors.rejected(errors.NO_NEED_TO_MODIFY)
        book = self.books[symbol]
        if qty <= order.filled or (order.tif == "GTX" and book.crosses(order.side, ticks)):
            return self.cancel(name, symbol, order.order_id)
        money_per_step = ticks * grid.money_per_tick_step
        order_rules.check_percent_price(grid, order.side, money_per_step, self.marks[symbol])
        if not order.reduce_only:
            order_rules.check_min_notional(grid, qty - order.filled, money_per_step)
            extra = (qty - order.filled) * money_per_step - order.margin
            self._check_margin(self.accounts[name], symbol, order.side, extra)
        self._unrest(order)
        order.qty, order.price, order.update_ms = qty, ticks, self.clock_ms()
        self._emit_order(order, "AMENDMENT")
        expired = self._match(order, ticks)
        self._settle(order, may_rest=True, stp_expired=expired)
        self._changed(symbol)
        return order.view(grid)

    # -- dead-man switch ----------------------------------------------------------------
    def countdown_cancel_all(self, name: str, symbol: str, countdown_ms: int) -> None:
        """Arm (or with 0, disarm) the account's dead-man switch on one symbol."""
        self._account(name)
        self._grid(symbol)
        self._countdowns.arm(name, symbol, countdown_ms, self.clock_ms())

    def expire_countdowns(self, now_ms: int) -> int:
        """Cancel everything under switches that ran out; returns how many orders it cancelled."""
        due = self._countdowns.pop_due(now_ms)
        return sum(len(self.cancel_all(name, symbol)) for name, symbol in due)

    def _changed(self, symbol: str) -> None:
        if self.on_change is not None:
            self.on_change(symbol)

    def _check_margin(self, acct: Account, symbol: str, side: int, notional: int) -> None:
        """-2019 when the order's extra initial margin exceeds what the wallet has available."""
        holding, mark = acct.holdings[symbol], self.marks[symbol]
        before = holding.initial_margin(mark)
        if side > 0:
            after = holding.initial_margin(mark, buy_extra=notional)
        else:
            after = holding.initial_margin(mark, sell_extra=notional)
        if after > before and acct.available(self.marks) < after - before:
            raise errors.rejected(errors.MARGIN)
