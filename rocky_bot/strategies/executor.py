"""Turns an account's intents into signed requests and records the outcome in AccountState.

One executor per account. It owns the client order ids (a per-process prefix, so a retried
request reuses its id and never doubles an order), the per-account order-rate guard, and the
fleet's order gate: once the fleet begins to stop, no new order or modify leaves this process,
whatever a loop that has not noticed the stop yet decides (cancels still go out).
"""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from collections.abc import Callable

import structlog

from rocky_bot.account import AccountBreaker, AccountState
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import RejectedError, UnknownStatusError
from rocky_bot.exchange.models import Order
from rocky_bot.ops.metrics import Metrics
from rocky_bot.strategies.intents import Cancel, Intent, Modify, Place

log = structlog.get_logger()


def process_prefix() -> str:
    """A short random prefix per process: orders of this run are recognisable at the exchange."""
    return "rb" + secrets.token_hex(3)


class ClientIds:
    """`{prefix}-{account#}-{symbol#}{B|S}-{seq}`: ≤ 36 chars of Binance's allowed alphabet."""

    def __init__(self, prefix: str, account_index: int, symbols: tuple[str, ...]) -> None:
        self._head = f"{prefix}-{account_index}-"
        self._symbols = {s: i for i, s in enumerate(symbols)}
        self._seq = itertools.count(1)

    def next(self, symbol: str, side_letter: str) -> str:
        return f"{self._head}{self._symbols.get(symbol, 9)}{side_letter}-{next(self._seq)}"


class OrderRateGuard:
    """At most `limit` order actions per 10 s per account: a requote storm cannot run away."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._clock = clock
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        now = self._clock()
        while self._times and now - self._times[0] > 10.0:
            self._times.popleft()
        if len(self._times) >= self._limit:
            return False
        self._times.append(now)
        return True


class OrderGate:
    """Open while the fleet trades; closed (for good) the moment it begins to stop.

    Shared by every executor of the fleet. Closing it is synchronous, so the stop can close it
    before it logs `fleet_stopping`: no order request starts after that line.
    """

    __slots__ = ("held_back", "is_open")

    def __init__(self) -> None:
        self.is_open = True
        self.held_back = 0  # order actions refused because the fleet was stopping

    def close(self) -> None:
        self.is_open = False


class Executor:
    def __init__(
        self,
        client: ExchangeClient,
        state: AccountState,
        breaker: AccountBreaker,
        ids: ClientIds,
        guard: OrderRateGuard,
        metrics: Metrics,
        role: str,
        *,
        gate: OrderGate | None = None,
        on_unknown_outcome: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.state = state
        self._breaker = breaker
        self._ids = ids
        self._guard = guard
        self._metrics = metrics
        self._labels = {"account": state.account_id, "role": role}
        self._gate = gate or OrderGate()
        #: An order request ended without an answer: the account's picture needs a reconcile.
        self._on_unknown_outcome = on_unknown_outcome
        #: True while the order-rate guard is holding intents back (logged once per episode).
        self.throttled = False

    async def execute(self, intents: list[Intent]) -> None:
        """Run intents in order; cancels always run, new orders only within the rate guard."""
        was_throttled, self.throttled = self.throttled, False
        for intent in intents:
            if isinstance(intent, Cancel):
                await self.cancel(intent.symbol, intent.client_order_id, intent.reason)
            elif not self._gate.is_open:
                self._gate.held_back += 1
            elif isinstance(intent, Modify):
                await self._modify(intent)
            elif self._guard.allow():
                order = await self._place(intent)
                if order is not None and intent.replaces:
                    await self.cancel(intent.symbol, intent.replaces, "replaced")
            else:
                self.throttled = True
        if self.throttled and not was_throttled:
            log.warning("order_rate_limited", account=self.state.account_id)

    async def cancel(self, symbol: str, client_order_id: str, reason: str) -> None:
        order = await self.client.cancel_order(symbol, client_order_id=client_order_id)
        self._breaker.record_success()
        tracked = self.state.orders.get(client_order_id)
        if order is not None:
            self.state.apply_order(order, from_ack=True)
        self.state.forget(client_order_id)
        self._metrics.orders_cancelled.labels(**self._labels, reason=reason).inc()
        log.info(
            "order_cancelled", symbol=symbol, client_order_id=client_order_id, reason=reason,
            side=tracked.side.value if tracked else None,
            price=str(tracked.price) if tracked else None,
            gone=order is None,
        )  # fmt: skip

    async def _place(self, place: Place) -> Order | None:
        cid = self._ids.next(place.symbol, place.side.value[0])
        # In flight until answered: the cap gate counts it, so a concurrent decision cannot
        # place past the cap while this request is on the wire.
        self.state.begin_place(cid, place)
        try:
            order = await self.client.place_order(
                symbol=place.symbol, side=place.side, qty=place.qty, price=place.price,
                client_order_id=cid, time_in_force=place.time_in_force,
                reduce_only=place.reduce_only,
            )  # fmt: skip
        except UnknownStatusError:
            # It may rest on the book: tracked as live until a reconcile says otherwise.
            self.state.end_place(cid, None, unknown=True)
            self._on_unknown_outcome()
            raise
        except RejectedError as exc:
            self.state.end_place(cid, None)
            self.state.forget(cid)
            self._reject(place, exc)
            return None
        except BaseException:
            # Transport failures are raised only when the order surely was not placed.
            self.state.end_place(cid, None)
            raise
        self.state.end_place(cid, order)
        self._breaker.record_success()
        self._metrics.orders_placed.labels(**self._labels).inc()
        log.info(
            "order_placed", symbol=place.symbol, side=place.side.value, price=str(place.price),
            qty=str(place.qty), order_id=order.order_id, client_order_id=cid,
            status=order.status.value, tif=place.time_in_force.value,
        )  # fmt: skip
        return order

    async def _modify(self, modify: Modify) -> None:
        tracked = self.state.orders.get(modify.client_order_id)
        if tracked is None or tracked.order_id is None:
            return
        if not self._guard.allow():
            self.throttled = True
            return
        try:
            order = await self.client.modify_order(
                modify.symbol, order_id=tracked.order_id, side=modify.side, qty=modify.qty,
                price=modify.price,
            )  # fmt: skip
        except RejectedError as exc:
            if exc.order_gone:  # filled or cancelled meanwhile: the next iteration re-decides
                self.state.forget(modify.client_order_id)
                return
            if self.client.capabilities.missing("modify"):
                await self.cancel(modify.symbol, modify.client_order_id, "modify_unsupported")
                return
            self._reject(Place(modify.symbol, modify.side, modify.price, modify.qty), exc)
            await self.cancel(modify.symbol, modify.client_order_id, "modify_rejected")
            return
        self.state.apply_order(order, from_ack=True)
        self._breaker.record_success()
        self._metrics.orders_modified.labels(**self._labels).inc()
        log.debug(  # a routine requote, ~20/s across the fleet: too chatty for journald at info
            "order_modified", symbol=modify.symbol, side=modify.side.value,
            price=str(modify.price), qty=str(modify.qty), order_id=order.order_id,
            client_order_id=modify.client_order_id,
        )  # fmt: skip

    def _reject(self, place: Place, exc: RejectedError) -> None:
        reason = self._metrics.bounded("reject_reason", f"code_{exc.code}")
        self._metrics.orders_rejected.labels(**self._labels, reason=reason).inc()
        self.state.note_error(f"[{exc.code}] {exc.msg}")
        log.warning(
            "order_rejected", symbol=place.symbol, side=place.side.value, price=str(place.price),
            qty=str(place.qty), code=exc.code, reason=exc.msg,
        )  # fmt: skip
        if exc.is_margin:
            self._breaker.record_margin_reject()
