"""The executor: what reaches the exchange, and what the account believes afterwards.

Each test guards a property a user relies on: a half-open breaker closes on the first accepted
request (found by the fault matrix: nothing reported success, so a tripped account stayed
half-open for good); an order on the wire already counts against the cap; an order whose outcome
is unknown counts as live (no duplicate is placed beside it) and asks for a reconcile; once the
fleet stops, no order or modify leaves, while cancels still do.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from rocky_bot.account import AccountBreaker, AccountState
from rocky_bot.exchange.capabilities import Capabilities, Support
from rocky_bot.exchange.errors import RejectedError, UnknownStatusError
from rocky_bot.exchange.models import Order, OrderStatus, Side, SymbolRules
from rocky_bot.ops.metrics import Metrics
from rocky_bot.risk import BreakerConfig, BreakerState, CircuitBreaker
from rocky_bot.strategies.executor import ClientIds, Executor, OrderGate, OrderRateGuard
from rocky_bot.strategies.intents import Cancel, Modify, Place
from rocky_bot.strategies.quoting import MakerInputs, decide_maker_side

RULES = SymbolRules("BTCUSDT", Decimal("0.1"), Decimal("0.0001"), Decimal("0.0001"), Decimal(5))


class Exchange:
    """A stand-in client that records every request and answers as told."""

    def __init__(self) -> None:
        self.margin_short = False
        self.unknown = False
        self.hold: asyncio.Event | None = None  # set: place_order waits for it
        self.sent: list[str] = []
        self.placing = asyncio.Event()  # set once a place request is on the wire
        self.capabilities = Capabilities(modify=Support.PRESENT)

    async def place_order(self, *, symbol, side, qty, price, client_order_id, **_) -> Order:
        self.sent.append("place")
        self.placing.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.margin_short:
            raise RejectedError(-2019, "Margin is insufficient.", 400)
        if self.unknown:
            raise UnknownStatusError(0, "timed out: the order may exist", 0)
        return Order(symbol, 1, client_order_id, side, price, qty, Decimal(0), OrderStatus.NEW)

    async def modify_order(self, symbol, *, order_id, side, qty, price) -> Order:
        self.sent.append("modify")
        return Order(symbol, order_id, "x", side, price, qty, Decimal(0), OrderStatus.NEW)

    async def cancel_order(self, symbol, *, client_order_id=None, order_id=None) -> None:
        self.sent.append("cancel")
        return None


def setup(gate: OrderGate | None = None, reconciles: list[int] | None = None):
    now = [0.0]
    asked = reconciles if reconciles is not None else []
    breaker = CircuitBreaker(BreakerConfig(max_margin_rejects=1, cooldown_s=1), lambda: now[0])
    exchange = Exchange()
    state = AccountState("mm-anchor", ("BTCUSDT",))
    executor = Executor(
        exchange, state, AccountBreaker("mm-anchor", breaker), ClientIds("rbtest", 0, ("BTCUSDT",)),
        OrderRateGuard(100, lambda: 0.0), Metrics(), "anchor", gate=gate,
        on_unknown_outcome=lambda: asked.append(1),
    )  # fmt: skip
    return exchange, executor, breaker, state, now


PLACE = Place("BTCUSDT", Side.BUY, Decimal("94952.5"), Decimal("0.001"))  # the 5 bps target


def buy_decision(state: AccountState, cap: Decimal = Decimal(150)):
    """A maker's decision for its BUY level at mid 95,000 and a $150 cap, from `state`."""
    return decide_maker_side(
        MakerInputs(
            symbol="BTCUSDT", side=Side.BUY, mid=Decimal(95000), rules=RULES, qty=Decimal("0.001"),
            offset_bps=Decimal(5), drift_bps=Decimal(2), cap_usd=cap,
            exposure=state.exposure("BTCUSDT"), live=state.live_quotes("BTCUSDT", Side.BUY),
        )
    )  # fmt: skip


async def test_an_accepted_order_closes_a_half_open_breaker():
    exchange, executor, breaker, _, now = setup()
    exchange.margin_short = True
    await executor.execute([PLACE])
    assert breaker.state is BreakerState.OPEN
    now[0] = 1.5
    breaker.poll()
    assert breaker.state is BreakerState.HALF_OPEN
    exchange.margin_short = False
    await executor.execute([PLACE])
    assert breaker.state is BreakerState.CLOSED


async def test_a_cancel_that_goes_through_also_counts_as_success():
    _, executor, breaker, _, now = setup()
    breaker.record_margin_reject()
    now[0] = 1.5
    breaker.poll()
    await executor.execute([Cancel("BTCUSDT", "rbtest-0-0B-1", "requote")])
    assert breaker.state is BreakerState.CLOSED


async def test_an_order_on_the_wire_already_counts_against_the_cap():
    exchange, executor, _, state, _ = setup()
    exchange.hold = asyncio.Event()
    placing = asyncio.create_task(executor.execute([PLACE]))
    await exchange.placing.wait()
    # 0.001 BTC ≈ $95 is in flight: a second one would carry the worst case to $190 > $150,
    # so the next order is trimmed to the room left (0.0005 ≈ $47.5), not the layer's 0.001.
    assert state.exposure("BTCUSDT").inflight_buy == Decimal("0.001")
    assert [i.qty for i in buy_decision(state) if isinstance(i, Place)] == [Decimal("0.0005")]
    exchange.hold.set()
    await placing
    assert state.exposure("BTCUSDT").inflight_buy == 0
    assert state.exposure("BTCUSDT").resting_buy == Decimal("0.001")


async def test_an_order_of_unknown_outcome_counts_as_live_and_asks_for_a_reconcile():
    reconciles: list[int] = []
    exchange, executor, _, state, _ = setup(reconciles=reconciles)
    exchange.unknown = True
    try:
        await executor.execute([PLACE])
    except UnknownStatusError:
        pass
    live = state.live_quotes("BTCUSDT", Side.BUY)
    assert [q.price for q in live] == [Decimal("94952.5")]
    assert reconciles == [1]
    # The level is taken: the next decision moves or keeps it, never places a second order.
    assert not [i for i in buy_decision(state, cap=Decimal(10_000)) if isinstance(i, Place)]


async def test_once_the_gate_closes_no_order_or_modify_leaves_but_cancels_do():
    gate = OrderGate()
    exchange, executor, _, state, _ = setup(gate=gate)
    await executor.execute([PLACE])
    cid = next(iter(state.orders))
    gate.close()
    await executor.execute(
        [
            PLACE,
            Modify("BTCUSDT", cid, Side.BUY, Decimal("0.001"), Decimal("94990")),
            Cancel("BTCUSDT", cid, "stopping"),
        ]
    )
    assert exchange.sent == ["place", "cancel"]
    assert gate.held_back == 2
