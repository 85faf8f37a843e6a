"""One account's view of itself, shared by its loops: orders, in-flight requests, positions, wallet.

Order state comes from our own acks, the user data stream and a periodic `openOrders` reconcile;
all three land here, keyed by clientOrderId, and a terminal status (filled, cancelled) is final so
a late ack can never resurrect an order. Positions: the user stream's ACCOUNT_UPDATE is
authoritative; fills seen on ORDER_TRADE_UPDATE before it are held as unconfirmed deltas so the
cap gate never under-counts in between.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.exchange.models import Order, OrderStatus, Position, Side
from rocky_bot.strategies.intents import Exposure, LiveQuote, Place

ZERO = Decimal(0)


@dataclass(slots=True)
class TrackedOrder:
    symbol: str
    client_order_id: str
    side: Side
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal
    order_id: int | None
    status: OrderStatus | None  # None: placed with an unknown outcome, not yet confirmed
    seq: int = 0  # AccountState's change counter when we last heard of this order

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    def quote(self) -> LiveQuote:
        return LiveQuote(
            self.client_order_id, self.side, self.price, self.remaining, self.executed_qty == 0
        )


#: Client ids of finished orders remembered, so a late echo of one is not taken for a new order.
#: A late echo is a reply or a reconcile snapshot in flight when the order ended: seconds (the
#: request timeout), so ten minutes is ample. Kept by age, not only by count: 4096 ids × 30
#: accounts (~140 B each) took days to fill and grew the daemon ~0.5 MB an hour meanwhile.
CLOSED_TTL_S = 600.0
#: ...and never more than this many, should an account finish orders at the rate guard's pace.
CLOSED_IDS = 4096


class AccountState:
    def __init__(
        self, account_id: str, symbols: Iterable[str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.account_id = account_id
        self._clock = clock
        self.symbols = tuple(symbols)
        self.orders: dict[str, TrackedOrder] = {}
        self.inflight: dict[str, Place] = {}
        #: Recently final client ids → when they ended, oldest first.
        self._closed: OrderedDict[str, float] = OrderedDict()
        self._position: dict[str, Decimal] = dict.fromkeys(self.symbols, ZERO)
        self._unconfirmed: dict[str, list[tuple[int, Decimal]]] = {s: [] for s in self.symbols}
        self.position_time: dict[str, float] = dict.fromkeys(self.symbols, float("-inf"))
        self.wallet: Decimal | None = None
        self.available: Decimal | None = None
        self.fills = 0
        self.fills_by_symbol: dict[str, int] = dict.fromkeys(self.symbols, 0)
        #: Notional of every fill of ours seen so far (the breaker judges losses against it).
        self.traded_notional = ZERO
        self._seq = 0
        self.last_error: str | None = None
        self._listeners: list[Callable[[str, Side | None], None]] = []

    # --- listeners ------------------------------------------------------------------------------
    def on_change(self, listener: Callable[[str, Side | None], None]) -> None:
        """Called with (symbol, side) when an order of ours changes outside our own request."""
        self._listeners.append(listener)

    def _notify(self, symbol: str, side: Side | None) -> None:
        for listener in self._listeners:
            listener(symbol, side)

    # --- reading ------------------------------------------------------------------------------
    def live_quotes(self, symbol: str, side: Side) -> list[LiveQuote]:
        return [o.quote() for o in self.orders.values() if o.symbol == symbol and o.side is side]

    def live_orders(self, symbol: str | None = None) -> list[TrackedOrder]:
        return [o for o in self.orders.values() if symbol is None or o.symbol == symbol]

    def footprint(self) -> dict[str, int]:
        """How much this state holds (for the steady-state tests: weeks must not grow it).
        Live and in-flight orders are bounded by the loops; closed ids by `CLOSED_TTL_S` (and
        `CLOSED_IDS`); unconfirmed fills by the position update that confirms them."""
        return {
            "orders": len(self.orders), "inflight": len(self.inflight),
            "closed_ids": len(self._closed),
            "unconfirmed_fills": sum(len(v) for v in self._unconfirmed.values()),
        }  # fmt: skip

    def position(self, symbol: str) -> Decimal:
        return self._position.get(symbol, ZERO) + sum(
            (d for _, d in self._unconfirmed.get(symbol, ())), ZERO
        )

    def exposure(self, symbol: str) -> Exposure:
        resting = {Side.BUY: ZERO, Side.SELL: ZERO}
        for o in self.orders.values():
            if o.symbol == symbol:
                resting[o.side] += o.remaining
        inflight = {Side.BUY: ZERO, Side.SELL: ZERO}
        for p in self.inflight.values():
            if p.symbol == symbol:
                inflight[p.side] += p.qty
        return Exposure(
            self.position(symbol), resting[Side.BUY], resting[Side.SELL],
            inflight[Side.BUY], inflight[Side.SELL],
        )  # fmt: skip

    # --- our own requests ---------------------------------------------------------------------
    def begin_place(self, client_order_id: str, place: Place) -> None:
        self.inflight[client_order_id] = place

    def end_place(
        self, client_order_id: str, order: Order | None, *, unknown: bool = False
    ) -> None:
        """The POST finished: with its order, with a rejection (None), or an unknown outcome."""
        place = self.inflight.pop(client_order_id, None)
        if order is not None:
            self.apply_order(order, from_ack=True)
        elif unknown and place is not None and client_order_id not in self._closed:
            # It may exist: count it as live until a lookup or reconcile says otherwise.
            self._seq += 1
            self.orders[client_order_id] = TrackedOrder(
                place.symbol, client_order_id, place.side, place.price, place.qty, ZERO, None,
                None, self._seq,
            )  # fmt: skip

    def apply_order(self, order: Order, *, from_ack: bool = False) -> None:
        cid = order.client_order_id
        if cid in self._closed:
            return
        tracked = self.orders.get(cid)
        known_fill = tracked.executed_qty if tracked is not None else ZERO
        if order.executed_qty < known_fill:
            return  # stale reply: we already know of more fills
        filled = order.executed_qty > known_fill
        if filled:
            self.fills += 1  # also an IOC taker order that is already filled in its first ack
            if order.symbol in self.fills_by_symbol:
                self.fills_by_symbol[order.symbol] += 1
            self.traded_notional += (order.executed_qty - known_fill) * order.price
        self._seq += 1
        if order.is_live:
            self.orders[cid] = TrackedOrder(
                order.symbol, cid, order.side, order.price, order.orig_qty,
                order.executed_qty, order.order_id, order.status, self._seq,
            )  # fmt: skip
        else:
            self.forget(cid)
        # Wake the owning loop only for news: a fill, or the order gone. An echo of our own
        # request (a NEW for an order we just placed) changes nothing worth an iteration.
        if not from_ack and (filled or not order.is_live):
            self._notify(order.symbol, order.side)

    def forget(self, client_order_id: str) -> None:
        """The order is gone for good (filled, cancelled, expired, or never existed)."""
        self.orders.pop(client_order_id, None)
        now = self._clock()
        closed = self._closed
        closed[client_order_id] = now
        closed.move_to_end(client_order_id)
        while len(closed) > CLOSED_IDS or now - next(iter(closed.values())) > CLOSED_TTL_S:
            closed.popitem(last=False)

    # --- the exchange's word --------------------------------------------------------------------
    def apply_fill(self, symbol: str, side: Side, qty: Decimal, event_time_ms: int) -> None:
        """A fill seen on the order stream, before the position update that confirms it."""
        self._unconfirmed.setdefault(symbol, []).append((event_time_ms, side.sign * qty))

    def set_position(self, position: Position, event_time_ms: int | None, now: float) -> None:
        symbol = position.symbol
        self._position[symbol] = position.amount
        self.position_time[symbol] = now
        pending = self._unconfirmed.get(symbol, [])
        self._unconfirmed[symbol] = (
            [] if event_time_ms is None else [(t, d) for t, d in pending if t > event_time_ms]
        )

    def note_other_fill(self, notional: Decimal) -> None:
        """A fill of this account on a symbol another daemon trades (shards by symbol): it is
        not our order, but it costs the wallet we share, so the breaker's allowance counts it."""
        self.traded_notional += notional

    def note_error(self, what: object) -> None:
        """The last error this account met, for /status (bounded: it is shown, not stored)."""
        self.last_error = str(what)[:200]

    def set_wallet(self, wallet: Decimal, available: Decimal | None = None) -> None:
        self.wallet = wallet
        self.available = available

    def snapshot_mark(self) -> int:
        """Take before requesting openOrders: orders heard of after it are newer than the reply."""
        return self._seq

    def replace_open_orders(self, symbol: str, orders: Iterable[Order], mark: int) -> list[str]:
        """Reconcile with the exchange's openOrders for `symbol`; return client ids that vanished.

        Orders in flight, or acked after the request left (`mark`), are left alone: the reply
        cannot know of them, and dropping them would make the loop place a duplicate.
        """
        seen = set()
        for order in orders:
            seen.add(order.client_order_id)
            if order.client_order_id not in self._closed:
                self.apply_order(order, from_ack=True)
        vanished = [
            cid for cid, o in self.orders.items()
            if o.symbol == symbol and cid not in seen and cid not in self.inflight and o.seq <= mark
        ]  # fmt: skip
        for cid in vanished:
            side = self.orders[cid].side
            self.forget(cid)
            self._notify(symbol, side)
        return vanished
