"""The sandbox's matching engine: pure, synchronous, integer-only, no I/O.

Price-time priority per symbol; LIMIT (GTC/IOC/FOK/GTX), MARKET, reduceOnly; one-way positions on
a cross-margin wallet. Every method either changes state and returns a snapshot, or raises a
`SandboxError` carrying Binance's code and changes nothing.

Self-trade: two different accounts trading with each other is the product. An account crossing
its *own* resting order is matched too (Binance's default `selfTradePreventionMode` NONE): both
fills are booked and charged, the position nets out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from rocky_bot.sandbox import errors
from rocky_bot.sandbox.book import Book, BookSummary
from rocky_bot.sandbox.config import SymbolSpec
from rocky_bot.sandbox.events import EventSink, NullSink, balance_update
from rocky_bot.sandbox.grid import Grid, money_decimal, to_money
from rocky_bot.sandbox.ledger import Account, AccountView, account_view
from rocky_bot.sandbox.matching import Matcher
from rocky_bot.sandbox.orders import BUY, SELL, SIDE_OF, Order, OrderRequest, OrderView
from rocky_bot.sandbox.tape import Tape

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK", "GTX"})
MAX_LEVERAGE = 125


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine(Matcher):
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
        self.maker_fee = maker_fee.as_integer_ratio()
        self.taker_fee = taker_fee.as_integer_ratio()
        self.default_leverage = default_leverage
        self.clock_ms = clock_ms
        self.sink: EventSink = sink or NullSink()
        self._next_order_id = 1
        self._next_trade_id = {s.symbol: 1 for s in symbols}
        self._countdowns: dict[tuple[str, str], tuple[int, int]] = {}  # → (deadline, countdown)

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
        if self.sink.wants(name):
            self.sink.emit(
                name, balance_update(acct.wallet, delta, self.clock_ms(), asset=self.asset)
            )
        return money_decimal(acct.wallet)

    def set_leverage(self, name: str, symbol: str, leverage: int) -> int:
        self._grid(symbol)
        if not 1 <= leverage <= MAX_LEVERAGE:
            raise errors.bad_leverage(leverage)
        self._account(name).holdings[symbol].leverage = leverage
        return leverage

    def account_view(self, name: str) -> AccountView:
        """Wallet, margin and every position of one account, valued at the current marks."""
        acct = self._account(name)
        return account_view(acct, self.asset, self.grids, self.marks, self.mark_prices)

    # -- market summaries (live view, tests) ----------------------------------------------
    def book_summary(self, symbol: str) -> BookSummary:
        grid, book = self._grid(symbol), self.books[symbol]
        bid, ask = book.best_price(BUY), book.best_price(SELL)
        return BookSummary(
            symbol=symbol,
            best_bid=None if bid is None else grid.price(bid),
            best_ask=None if ask is None else grid.price(ask),
            bid_levels=book.level_count(BUY),
            ask_levels=book.level_count(SELL),
        )

    def trades_since(self, symbol: str, since_ms: int) -> int:
        """Public trades on `symbol` at or after `since_ms` (e.g. 'trades in the last minute')."""
        self._grid(symbol)
        return self.tapes[symbol].count_since(since_ms)

    # -- marks --------------------------------------------------------------------------
    def set_mark(self, symbol: str, mid: Decimal) -> None:
        """The synthetic mid becomes the mark price (margin and unrealized PnL use it)."""
        self.marks[symbol] = self._grid(symbol).mark_money_per_step(mid)
        self.mark_prices[symbol] = mid

    def mark(self, symbol: str) -> Decimal:
        self._grid(symbol)
        return self.mark_prices[symbol]

    # -- orders -----------------------------------------------------------------------
    def submit(self, name: str, req: OrderRequest) -> OrderView:
        acct = self._account(name)
        grid = self._grid(req.symbol)
        side = SIDE_OF.get(req.side)
        if side is None:
            raise errors.rejected(errors.BAD_SIDE)
        if req.type not in ("LIMIT", "MARKET"):
            raise errors.rejected(errors.BAD_TYPE)
        qty = grid.qty_steps(req.quantity)
        mark = self.marks[req.symbol]
        if req.type == "LIMIT":
            if req.price is None:
                raise errors.missing("price")
            tif = req.time_in_force or "GTC"
            if tif not in TIME_IN_FORCE:
                raise errors.rejected(errors.BAD_TIF)
            price = grid.price_ticks(req.price)
            money_per_step = price * grid.money_per_tick_step
        else:
            if req.price is not None:
                raise errors.not_required("price")
            tif, price, money_per_step = "GTC", 0, mark
        client_id = req.client_order_id or f"autoclient-{self._next_order_id}"
        if not CLIENT_ID_RE.match(client_id):
            raise errors.rejected(errors.BAD_CLIENT_ID)
        if client_id in acct.open_by_client:
            raise errors.rejected(errors.DUPLICATE_CLIENT_ID)
        holding = acct.holdings[req.symbol]
        if req.reduce_only:
            if not holding.reducible(side):
                raise errors.rejected(errors.REDUCE_ONLY)
        elif qty * money_per_step < grid.min_notional_money:
            raise errors.min_notional(f"{grid.spec.min_notional}")
        book = self.books[req.symbol]
        if tif == "GTX" and book.crosses(side, price):
            raise errors.rejected(errors.POST_ONLY_REJECTED)
        if tif == "FOK" and book.fillable(side, price, qty) < qty:
            raise errors.rejected(errors.FOK_REJECTED)
        self._check_margin(acct, req.symbol, side, qty * money_per_step)

        now = self.clock_ms()
        order = Order(
            self._next_order_id, name, req.symbol, client_id, side, req.type, tif,
            price, qty, req.reduce_only, now, now,
        )  # fmt: skip
        self._next_order_id += 1
        self._emit_order(order, "NEW")
        self._match(order, None if req.type == "MARKET" else price)
        self._settle(order, may_rest=req.type == "LIMIT" and tif in ("GTC", "GTX"))
        return order.view(grid)

    def cancel(
        self, name: str, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> OrderView:
        order = self._find_open(name, symbol, order_id, client_id)
        if order is None:
            raise errors.rejected(errors.CANCEL_REJECTED)
        self._unrest(order)
        self._finish(order, "CANCELED")
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
        if SIDE_OF.get(side) != order.side:
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
        if (
            not order.reduce_only
            and (qty - order.filled) * money_per_step < grid.min_notional_money
        ):
            raise errors.min_notional(f"{grid.spec.min_notional}")
        new_notional = (qty - order.filled) * money_per_step
        self._check_margin(self.accounts[name], symbol, order.side, new_notional - order.margin)
        self._unrest(order)
        order.qty, order.price, order.update_ms = qty, ticks, self.clock_ms()
        self._emit_order(order, "AMENDMENT")
        self._match(order, ticks)
        self._settle(order, may_rest=True)
        return order.view(grid)

    def query(
        self, name: str, symbol: str, order_id: int | None = None, client_id: str | None = None
    ) -> OrderView:
        """An open order, or a closed one still in the account's bounded history."""
        order = self._find_open(name, symbol, order_id, client_id)
        if order is None:
            acct = self._account(name)
            if order_id is None and client_id is not None:
                order_id = acct.closed_by_client.get((symbol, client_id))
            order = acct.closed.get(order_id) if order_id is not None else None
            if order is None or order.symbol != symbol:
                raise errors.rejected(errors.UNKNOWN_ORDER)
        return order.view(self.grids[symbol])

    def open_order_count(self) -> int:
        """Every live order of every account (the sandbox's "nothing left behind" check)."""
        return sum(len(self.open_orders(name)) for name in self.accounts)

    def open_orders(self, name: str, symbol: str | None = None) -> list[OrderView]:
        acct = self._account(name)
        symbols: Iterable[str] = acct.holdings if symbol is None else (self._grid(symbol).symbol,)
        return [o.view(self.grids[s]) for s in symbols for o in acct.holdings[s].orders.values()]

    # -- dead-man switch ----------------------------------------------------------------
    def countdown_cancel_all(self, name: str, symbol: str, countdown_ms: int) -> None:
        """Arm (or with 0, disarm) the account's dead-man switch on one symbol."""
        self._account(name)
        self._grid(symbol)
        if countdown_ms < 0:
            raise errors.invalid_data("countdownTime")
        if countdown_ms == 0:
            self._countdowns.pop((name, symbol), None)
        else:
            self._countdowns[(name, symbol)] = (self.clock_ms() + countdown_ms, countdown_ms)

    def expire_countdowns(self, now_ms: int) -> int:
        """Cancel everything under switches that ran out; returns how many orders it cancelled."""
        due = [key for key, (deadline, _) in self._countdowns.items() if deadline <= now_ms]
        cancelled = 0
        for name, symbol in due:
            del self._countdowns[(name, symbol)]
            cancelled += len(self.cancel_all(name, symbol))
        return cancelled

    # -- lookups ----------------------------------------------------------------------
    def grid(self, symbol: str) -> Grid:
        return self._grid(symbol)

    def _grid(self, symbol: str) -> Grid:
        grid = self.grids.get(symbol)
        if grid is None:
            raise errors.rejected(errors.INVALID_SYMBOL)
        return grid

    def _account(self, name: str) -> Account:
        acct = self.accounts.get(name)
        if acct is None:
            raise errors.SandboxError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return acct

    def _find_open(
        self, name: str, symbol: str, order_id: int | None, client_id: str | None
    ) -> Order | None:
        self._grid(symbol)
        holding = self._account(name).holdings[symbol]
        if order_id is not None:
            return holding.orders.get(order_id)
        if client_id is None:
            raise errors.missing("orderId")
        order = self.accounts[name].open_by_client.get(client_id)
        return order if order is not None and order.symbol == symbol else None

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
