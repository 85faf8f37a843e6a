"""A taker's week through the daemon's own upkeep, on virtual time, with the funding timer.

The real `AccountUpkeep.run` (dead-man heartbeat, reconciles, wallet reads), breaker and runway,
against an exchange faked at the client: the wallet bleeds as a taker's does and an hourly
timer (the same `plan_top_ups` as `rocky-bot fund`) credits it. Seven virtual days take a few
seconds. What users rely on: the dead-man countdown is re-armed inside its window all week (a
lapse would empty the book), every top-up is taken as a deposit (never as a trading gain, never
a drawdown trip), and the account never looks unfunded while the timer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from itertools import pairwise
from types import SimpleNamespace

from rocky_bot.account import Account, AccountBreaker, AccountState, PositionRefresher
from rocky_bot.exchange.capabilities import Capabilities
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Balance, OrderStatus, OrderUpdate, Side
from rocky_bot.fleet.build import breaker_config
from rocky_bot.funnel import parse_account_id
from rocky_bot.ops.funding import plan_top_ups
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import CircuitBreaker
from rocky_bot.settings import Settings
from tests.virtual_time import run_virtual

D = Decimal
WEEK = 7 * 86400.0


class BleedingExchange:
    """One account's side of the exchange: a wallet that loses a taker's ≈ $200 a day."""

    capabilities = Capabilities()
    server_clock = SimpleNamespace(synced=True)  # the fleet syncs one client for all

    def __init__(self, clock) -> None:
        self.clock = clock
        self.wallet = D(100)
        self.last = 0.0
        self.arms: dict[str, list[float]] = {}
        self.balance_reads = 0

    def bleed(self) -> None:
        now = self.clock()
        self.wallet -= D(repr(199.0 * (now - self.last) / 86400))
        self.last = now

    async def sync_time(self) -> int:
        return 0

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        return leverage

    async def open_orders(self, symbol: str | None = None) -> list:
        return []

    async def cancel_all_orders(self, symbol: str) -> None:
        return None

    async def position_risk(self, symbol: str | None = None) -> list:
        return []

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        self.arms.setdefault(symbol, []).append(self.clock())

    async def balance(self) -> list[Balance]:
        self.bleed()
        self.balance_reads += 1
        return [Balance("USDT", self.wallet, self.wallet)]

    async def wallet_and_positions(self) -> tuple[list[Balance], list]:
        return await self.balance(), await self.position_risk()


async def taker_fills(upkeep: AccountUpkeep, loop) -> None:
    """A filled IOC order every 20 s (≈ $205,000 a day), on the user stream as on Binance: the
    notional the breaker weighs the bleed against."""
    n = 0
    while True:
        await asyncio.sleep(20)
        n += 1
        upkeep.on_stream_event(OrderUpdate(
            symbol="BTCUSDT", order_id=n, client_order_id=f"rb1-29-0B-{n}", side=Side.BUY,
            exec_type="TRADE", status=OrderStatus.FILLED, price=D("95000"), orig_qty=D("0.0005"),
            executed_qty=D("0.0005"), last_fill_qty=D("0.0005"), last_fill_price=D("95000"),
            event_time_ms=int(loop.time() * 1000),
        ))  # fmt: skip


def test_a_takers_week_of_upkeep_with_hourly_funding() -> None:
    async def week() -> dict:
        loop = asyncio.get_running_loop()
        s = Settings(_env_file=None, taker_ioc=False)  # a GTC taker keeps its dead-man armed
        exchange = BleedingExchange(loop.time)
        spec = parse_account_id("taker-1")
        state = AccountState("taker-1", s.symbols)
        breaker = AccountBreaker("taker-1", CircuitBreaker(breaker_config(s, spec.role), loop.time))
        positions = PositionRefresher(exchange, state, s.position_max_age_s, clock=loop.time)
        account = Account(spec, exchange, state, breaker, positions)  # type: ignore[arg-type]
        upkeep = AccountUpkeep(account, s, WeightGovernor(clock=loop.time), clock=loop.time)
        await upkeep.setup()
        upkeep.stream = SimpleNamespace(connected=True)  # fills come on the stream (below)
        duty = asyncio.create_task(upkeep.run())
        trading = asyncio.create_task(taker_fills(upkeep, loop))
        floor = D(repr(s.wallet_seed_usd * s.fund_floor))
        fundings, unfunded_worst = 0, 0.0
        while loop.time() < WEEK:
            await asyncio.sleep(3600 - loop.time() % 3600)  # the timer, on the hour
            exchange.bleed()
            unfunded = upkeep.wallet_history.unfunded_s(loop.time())
            unfunded_worst = max(unfunded_worst, unfunded or 0.0)
            for top_up in plan_top_ups({"taker-1": exchange.wallet}, floor, D(100)):
                exchange.wallet += top_up.amount
                fundings += 1
        for task in (duty, trading):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return {
            "arms": exchange.arms, "reads": exchange.balance_reads, "fundings": fundings,
            "trips": dict(breaker.trips_by_kind), "unfunded_worst": unfunded_worst,
            "deposits": upkeep.wallet_history.deposited,
            "countdown_s": s.deadman_countdown_s, "heartbeat_s": s.deadman_heartbeat_s,
        }  # fmt: skip

    r = run_virtual(week())
    for symbol, arms in r["arms"].items():
        gaps = [b - a for a, b in pairwise(arms)]
        assert len(arms) > WEEK / (r["heartbeat_s"] + 1), symbol
        assert max(gaps) < r["countdown_s"], symbol  # re-armed before the countdown runs out
    assert 7 * 288 - 5 <= r["reads"] <= 7 * 288 + 5  # the wallet every 5 minutes
    assert r["trips"] == {}  # no drawdown trip: each top-up reset the peak
    assert 22 <= r["fundings"] <= 30
    # every top-up was seen as a deposit (a REST rise trading cannot make), none as income
    assert r["deposits"] > 45 * r["fundings"]
    assert r["unfunded_worst"] < 3600 + 300  # under the floor for at most the timer's hour
