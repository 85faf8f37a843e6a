"""Order lifecycle inside the engine: crossing the book, booking trades, resting and closing.

Split from `engine.py` (which validates and answers) so each stays readable; `Engine` inherits
these helpers and provides the state they work on.
"""

from __future__ import annotations

from collections.abc import Callable

from rocky_bot.sandbox.book import Book
from rocky_bot.sandbox.events import EventSink, account_update, order_trade_update
from rocky_bot.sandbox.grid import Grid
from rocky_bot.sandbox.ledger import Account, round_div
from rocky_bot.sandbox.orders import BUY, SIDE_NAME, Fill, Order, Trade
from rocky_bot.sandbox.tape import Tape


class Matcher:
    """Mixin: the state below is created by `Engine.__init__`."""

    asset: str
    grids: dict[str, Grid]
    books: dict[str, Book]
    tapes: dict[str, Tape]
    marks: dict[str, int]
    accounts: dict[str, Account]
    maker_fee: tuple[int, int]
    taker_fee: tuple[int, int]
    clock_ms: Callable[[], int]
    sink: EventSink
    _next_trade_id: dict[str, int]

    def _match(self, taker: Order, limit: int | None) -> None:
        """Trade `taker` against the opposite side, best price first, oldest first."""
        book = self.books[taker.symbol]
        opposite = -taker.side
        taker_holding = self.accounts[taker.account].holdings[taker.symbol]
        while taker.filled < taker.qty:
            level = book.best(opposite)
            if level is None or (limit is not None and (level.price - limit) * taker.side > 0):
                return
            maker = level.first()
            steps = min(taker.qty - taker.filled, maker.qty - maker.filled)
            if maker.reduce_only:
                room = self.accounts[maker.account].holdings[maker.symbol].reducible(maker.side)
                if room == 0:  # its position is gone: a reduce-only order cannot open one
                    self._unrest(maker)
                    self._finish(maker, "EXPIRED")
                    continue
                steps = min(steps, room)
            if taker.reduce_only:
                steps = min(steps, taker_holding.reducible(taker.side))
                if steps == 0:
                    return
            self._trade(maker, taker, level.price, steps)

    def _trade(self, maker: Order, taker: Order, ticks: int, steps: int) -> None:
        symbol = maker.symbol
        grid = self.grids[symbol]
        now = self.clock_ms()
        money_per_step = ticks * grid.money_per_tick_step
        money = steps * money_per_step
        trade_id = self._next_trade_id[symbol]
        self._next_trade_id[symbol] = trade_id + 1

        self.books[symbol].filled(maker, steps)
        maker_holding = self.accounts[maker.account].holdings[symbol]
        if maker.side == BUY:
            maker_holding.buy_open -= money
        else:
            maker_holding.sell_open -= money
        maker.margin -= money

        for order, (num, den), is_maker in (
            (maker, self.maker_fee, True),
            (taker, self.taker_fee, False),
        ):
            acct = self.accounts[order.account]
            holding = acct.holdings[symbol]
            order.filled += steps
            order.filled_money += money
            order.update_ms = now
            order.status = "FILLED" if order.filled == order.qty else "PARTIALLY_FILLED"
            realized = holding.apply_fill(order.side, steps, money_per_step)
            fee = round_div(money * num, den)
            acct.wallet += realized - fee
            holding.update_ms = now
            acct.fills[symbol].append(
                Fill(grid, trade_id, order.order_id, SIDE_NAME[order.side], ticks, steps,
                     money, fee, realized, is_maker, now)
            )  # fmt: skip
            if is_maker and order.status == "FILLED":
                self._forget_open(order)
                acct.remember_closed(order)
            if self.sink.wants(order.account):
                self.sink.emit(
                    order.account,
                    order_trade_update(
                        order, grid, holding, now, "TRADE", asset=self.asset,
                        last_steps=steps, last_ticks=ticks, commission=fee,
                        trade_id=trade_id, maker=is_maker, realized=realized,
                    ),
                )  # fmt: skip
                self.sink.emit(
                    order.account,
                    account_update(acct.wallet, grid, holding, self.marks[symbol], now,
                                   asset=self.asset),
                )  # fmt: skip
        self.tapes[symbol].record(
            Trade(trade_id, ticks, steps, money, now, buyer_maker=maker.side == BUY)
        )

    def _settle(self, order: Order, may_rest: bool) -> None:
        """After matching: rest the remainder, expire it, or file the order as filled."""
        if not order.remaining:
            self.accounts[order.account].remember_closed(order)
        elif may_rest:
            self._rest(order)
        else:
            self._finish(order, "EXPIRED")

    def _rest(self, order: Order) -> None:
        acct = self.accounts[order.account]
        holding = acct.holdings[order.symbol]
        self.books[order.symbol].add(order)
        holding.orders[order.order_id] = order
        acct.open_by_client[order.client_id] = order
        order.margin = order.remaining * order.price * self.grids[order.symbol].money_per_tick_step
        if order.side == BUY:
            holding.buy_open += order.margin
        else:
            holding.sell_open += order.margin

    def _unrest(self, order: Order) -> None:
        """Take a resting order out of the book and its holding (before cancel or amend)."""
        self.books[order.symbol].remove(order)
        holding = self.accounts[order.account].holdings[order.symbol]
        if order.side == BUY:
            holding.buy_open -= order.margin
        else:
            holding.sell_open -= order.margin
        order.margin = 0
        self._forget_open(order)

    def _forget_open(self, order: Order) -> None:
        acct = self.accounts[order.account]
        del acct.holdings[order.symbol].orders[order.order_id]
        if acct.open_by_client.get(order.client_id) is order:
            del acct.open_by_client[order.client_id]

    def _finish(self, order: Order, status: str) -> None:
        """Close an order that is out of the book (CANCELED / EXPIRED) and tell its owner."""
        order.status = status
        order.update_ms = self.clock_ms()
        self.accounts[order.account].remember_closed(order)
        self._emit_order(order, status)

    def _emit_order(self, order: Order, exec_type: str) -> None:
        if self.sink.wants(order.account):
            holding = self.accounts[order.account].holdings[order.symbol]
            grid = self.grids[order.symbol]
            payload = order_trade_update(
                order, grid, holding, self.clock_ms(), exec_type, asset=self.asset
            )
            self.sink.emit(order.account, payload)
