"""A half-open breaker closes on the first order request the exchange accepts.

Found by the fault matrix (reject_margin): nothing ever reported a success to the breaker, so
after any trip every account stayed half-open for good, and each later error re-tripped it with
a doubled cooldown.
"""

from __future__ import annotations

from decimal import Decimal

from rocky_bot.account import AccountState
from rocky_bot.exchange.errors import RejectedError
from rocky_bot.exchange.models import Order, OrderStatus, Side
from rocky_bot.ops.metrics import Metrics
from rocky_bot.risk import BreakerConfig, BreakerState, CircuitBreaker
from rocky_bot.strategies.executor import ClientIds, Executor, OrderRateGuard
from rocky_bot.strategies.intents import Cancel, Place


class Exchange:
    """Answers order requests: accepts them, or refuses new orders for margin."""

    def __init__(self) -> None:
        self.margin_short = False

    async def place_order(self, *, symbol, side, qty, price, client_order_id, **_) -> Order:
        if self.margin_short:
            raise RejectedError(-2019, "Margin is insufficient.", 400)
        return Order(symbol, 1, client_order_id, side, price, qty, Decimal(0), OrderStatus.NEW)

    async def cancel_order(self, symbol, *, client_order_id=None, order_id=None) -> None:
        return None


def setup() -> tuple[Exchange, Executor, CircuitBreaker, list[float]]:
    now = [0.0]
    breaker = CircuitBreaker(BreakerConfig(max_margin_rejects=1, cooldown_s=1), lambda: now[0])
    exchange = Exchange()
    state = AccountState("mm-anchor", ("BTCUSDT",))
    executor = Executor(
        exchange, state, ClientIds("rbtest", 0, ("BTCUSDT",)), OrderRateGuard(100, lambda: 0.0),
        Metrics(), "anchor",
        on_margin_reject=lambda: breaker.record_margin_reject(),
        on_success=lambda: breaker.record_success(),
    )  # fmt: skip
    return exchange, executor, breaker, now


PLACE = Place("BTCUSDT", Side.BUY, Decimal("95000"), Decimal("0.0003"))


async def test_an_accepted_order_closes_a_half_open_breaker():
    exchange, executor, breaker, now = setup()
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
    _, executor, breaker, now = setup()
    breaker.record_margin_reject()
    now[0] = 1.5
    breaker.poll()
    await executor.execute([Cancel("BTCUSDT", "rbtest-0-0B-1", "requote")])
    assert breaker.state is BreakerState.CLOSED
