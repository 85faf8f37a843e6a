"""Order lifecycle inside the engine: crossing the book, booking trades, resting and closing.

Split from `engine.py` (which validates and answers) so each stays readable; `Engine` inherits
these helpers and provides the state they work on.

A reduce-only order reserves no initial margin (it can only shrink a position), so it adds
nothing to its holding's open-order sums. Each fill books a COMMISSION and, when the position
shrank, a REALIZED_PNL line in the account's income history.
"""

from __future__ import annotations

from collections.abc import Callable

from rocky_bot.sandbox.book import Book
from rocky_bot.sandbox.events import EventSink, account_update, order_trade_update
from rocky_bot.sandbox.grid import Grid
from rocky_bot.sandbox.ledger import Account, round_div
from rocky_bot.sandbox.orders import BUY, SIDE_NAME, Fill, Income, Order, Trade
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
    _next_tran_id: int

    def _income(
        self,
        acct: Account,
        symbol: str,
        kind: str,
        money: int,
        now: int,
        trade_id: int | None = None,
    ) -> None:
        acct.incomes.append(Income(symbol, kind, money, now, self._next_tran_id, trade_id))
        self._next_tran_id += 1

    def _match(self, taker: Order, limit: int | None) -> bool:
        """Trade `taker` against the opposite side, best price first, oldest first.

        True when self-trade prevention expired the taker (its remainder must not rest).
        """
        book = self.books[taker.symbol]
        opposite = -taker.side
        taker_holding = self.accounts[taker.account].holdings[taker.symbol]
        while taker.filled < taker.qty:
            level = book.best(opposite)
            if level is None or (limit is not None and (level.price - limit) * taker.side > 0):
                return False
            maker = level.first()
            if maker.account == taker.account and taker.stp != "NONE":
                if taker.stp in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
                    self._unrest(maker)
                    self._finish(maker, "EXPIRED_IN_MATCH")
                if taker.stp in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
                    return True
                continue
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
                    return False
            self._trade(maker, taker, level.price, steps)
        return False

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
        released = min(money, maker.margin)  # 0 for a reduce-only maker: it reserved nothing
        if maker.side == BUY:
            maker_holding.buy_open -= released
        else:
            maker_holding.sell_open -= released
        maker.margin -= released

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
            if realized:
                self._income(acct, symbol, "REALIZED_PNL", realized, now, trade_id)
            self._income(acct, symbol, "COMMISSION", -fee, now, trade_id)
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
            Trade(trade_id, ticks, steps, money, now, buyer_maker=maker.side == BUY),
            taker.order_id,
        )

    def _settle(self, order: Order, may_rest: bool, stp_expired: bool = False) -> None:
        """After matching: rest the remainder, expire it, or file the order as filled."""
        if not order.remaining:
            self.accounts[order.account].remember_closed(order)
        elif stp_expired:
            self._finish(order, "EXPIRED_IN_MATCH")
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
        if not order.reduce_only:
            mpts = self.grids[order.symbol].money_per_tick_step
            order.margin = order.remaining * order.price * mpts
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
        """Close an order that is out of the book (CANCELED / EXPIRED[_IN_MATCH]) and say so."""
        order.status = status
        order.update_ms = self.clock_ms()
        self.accounts[order.account].remember_closed(order)
        self._emit_order(order, "EXPIRED" if status == "EXPIRED_IN_MATCH" else status)

    def _emit_order(self, order: Order, exec_type: str) -> None:
        if self.sink.wants(order.account):
            holding = self.accounts[order.account].holdings[order.symbol]
            grid = self.grids[order.symbol]
            payload = order_trade_update(
                order, grid, holding, self.clock_ms(), exec_type, asset=self.asset
            )
            self.sink.emit(order.account, payload)
