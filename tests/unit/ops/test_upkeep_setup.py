"""What an account's set-up reads, and what the user stream's first snapshot then need not.

Set-up is most of the start-up minute's weight (issue 14: ≤ 1,800 with every order action at 1).
Users rely on: the wallet and the positions known before the first quote, read in one account
call where the exchange has it (5 weight, where balance + positionRisk are 10), with the two
calls as the fallback on an exchange without it (learnt once); and the stream's first snapshot
reading nothing when nothing was ordered since set-up emptied the book.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from decimal import Decimal

import pytest

from rocky_bot.account import Account, AccountBreaker, AccountState, PositionRefresher
from rocky_bot.exchange.capabilities import Capabilities, with_capability
from rocky_bot.exchange.errors import RejectedError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Balance, Position
from rocky_bot.fleet.build import breaker_config
from rocky_bot.funnel import parse_account_id
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import CircuitBreaker
from rocky_bot.settings import Settings

D = Decimal
HELD = Position("BTCUSDT", D("-0.002"), D("95000"), D("95000"))
WALLETS = [Balance("USDC", D(7), D(7)), Balance("USDT", D(80), D(75))]


class CountingExchange:
    """An account's side of the exchange that counts each call; `account_endpoint=False` answers
    the account call with a 404, as an exchange without it would."""

    def __init__(self, *, account_endpoint: bool = True) -> None:
        self.calls: Counter[str] = Counter()
        self.capabilities = Capabilities()
        self.server_clock = type("Clock", (), {"synced": True})()
        self._account_endpoint = account_endpoint

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        self.calls["leverage"] += 1
        return leverage

    async def open_orders(self, symbol: str | None = None) -> list:
        self.calls["open_orders"] += 1
        return []

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        self.calls["countdown"] += 1

    async def balance(self) -> list[Balance]:
        self.calls["balance"] += 1
        return WALLETS

    async def position_risk(self, symbol: str | None = None) -> list[Position]:
        self.calls["position_risk"] += 1
        return [HELD]

    async def wallet_and_positions(self) -> tuple[list[Balance], list[Position]]:
        async def read() -> tuple[list[Balance], list[Position]]:
            self.calls["account"] += 1
            if not self._account_endpoint:
                raise RejectedError(-1000, "GET /fapi/v2/account is not a known endpoint.", 404)
            return WALLETS, [HELD]

        return await with_capability(self.capabilities, "account", read, frozenset())


def upkeep_on(exchange: CountingExchange) -> AccountUpkeep:
    s = Settings(_env_file=None)
    spec = parse_account_id("mm-anchor")
    state = AccountState("mm-anchor", s.symbols)
    breaker = AccountBreaker(
        "mm-anchor", CircuitBreaker(breaker_config(s, spec.role), time.monotonic)
    )
    positions = PositionRefresher(exchange, state, s.position_max_age_s)  # type: ignore[arg-type]
    account = Account(spec, exchange, state, breaker, positions)  # type: ignore[arg-type]
    return AccountUpkeep(account, s, WeightGovernor())


@pytest.mark.parametrize("account_endpoint", [True, False])
def test_set_up_knows_wallet_and_positions_and_the_first_snapshot_reads_nothing(
    account_endpoint,
):
    async def set_up() -> tuple[AccountUpkeep, CountingExchange]:
        exchange = CountingExchange(account_endpoint=account_endpoint)
        upkeep = upkeep_on(exchange)
        await upkeep.setup()
        await upkeep.on_stream_connected()
        return upkeep, exchange

    upkeep, exchange = asyncio.run(set_up())
    state = upkeep.account.state
    assert state.wallet == D(80)  # the margin asset's, not the first listed
    assert state.position("BTCUSDT") == D("-0.002") and state.position("ETHUSDT") == 0
    reads = {k: exchange.calls[k] for k in ("account", "balance", "position_risk")}
    if account_endpoint:
        assert reads == {"account": 1, "balance": 0, "position_risk": 0}
    else:  # refused once, then the two calls; never asked again
        assert reads == {"account": 1, "balance": 1, "position_risk": 1}
        assert exchange.capabilities.missing("account")
    assert exchange.calls["open_orders"] == 2  # set-up's leftover check per symbol, no more


def test_a_snapshot_after_orders_were_sent_reads_orders_and_positions_again():
    async def set_up() -> CountingExchange:
        exchange = CountingExchange()
        upkeep = upkeep_on(exchange)
        await upkeep.setup()
        upkeep.account.state.snapshot_mark = lambda: -1  # something changed since set-up
        await upkeep.on_stream_connected()
        return exchange

    exchange = asyncio.run(set_up())
    assert exchange.calls["open_orders"] == 4 and exchange.calls["position_risk"] == 1
