"""What the engine shows without changing anything: orders, accounts, books, lookups.

A mixin of `Engine` (state created by `Engine.__init__`), split off so the engine proper reads as
the list of things that change the market.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rocky_bot.sandbox import errors
from rocky_bot.sandbox.book import Book, BookSummary
from rocky_bot.sandbox.grid import Grid
from rocky_bot.sandbox.ledger import Account, AccountView, account_view
from rocky_bot.sandbox.orders import BUY, SELL, Income, Order, OrderView
from rocky_bot.sandbox.tape import Tape


def _order_id(order: Order) -> int:
    return order.order_id


class EngineViews:
    asset: str
    grids: dict[str, Grid]
    books: dict[str, Book]
    tapes: dict[str, Tape]
    marks: dict[str, int]
    mark_prices: dict[str, Decimal]
    accounts: dict[str, Account]

    def leverage(self, name: str, symbol: str) -> int:
        return self._account(name).holdings[self._grid(symbol).symbol].leverage

    def account_view(self, name: str) -> AccountView:
        """Wallet, margin and every position of one account, valued at the current marks."""
        acct = self._account(name)
        return account_view(acct, self.asset, self.grids, self.marks, self.mark_prices)

    def incomes(self, name: str) -> list[Income]:
        return list(self._account(name).incomes)

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

    def all_orders(self, name: str, symbol: str) -> list[OrderView]:
        """Open orders and the bounded closed history on one symbol, by order id."""
        acct, grid = self._account(name), self._grid(symbol)
        closed = [o for o in acct.closed.values() if o.symbol == symbol]
        orders = sorted([*acct.holdings[symbol].orders.values(), *closed], key=_order_id)
        return [o.view(grid) for o in orders]

    def open_order_count(self) -> int:
        """Every live order of every account (the sandbox's "nothing left behind" check)."""
        return sum(len(self.open_orders(name)) for name in self.accounts)

    def open_orders(self, name: str, symbol: str | None = None) -> list[OrderView]:
        acct = self._account(name)
        symbols: Iterable[str] = acct.holdings if symbol is None else (self._grid(symbol).symbol,)
        return [o.view(self.grids[s]) for s in symbols for o in acct.holdings[s].orders.values()]

    def open_interest(self, symbol: str) -> int:
        """Σ of every long position on `symbol`, in steps (= Σ of the shorts)."""
        self._grid(symbol)
        return sum(max(0, a.holdings[symbol].amt) for a in self.accounts.values())

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

    def mark(self, symbol: str) -> Decimal:
        self._grid(symbol)
        return self.mark_prices[symbol]
