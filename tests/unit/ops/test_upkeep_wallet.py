"""The upkeep's wallet reading: the margin asset's wallet, deposits told apart from gains."""

from __future__ import annotations

from decimal import Decimal as D

from rocky_bot.account import Account, AccountBreaker, AccountState, PositionRefresher
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Balance
from rocky_bot.funnel import parse_account_id
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import BreakerConfig, CircuitBreaker
from rocky_bot.settings import Settings


class Wallets:
    """A client whose balance endpoint answers what the test sets."""

    def __init__(self, *balances: Balance) -> None:
        self.balances = list(balances)

    async def balance(self) -> list[Balance]:
        return self.balances


def upkeep_for(client: Wallets, margin_asset: str) -> tuple[AccountUpkeep, list[float]]:
    now = [0.0]
    spec = parse_account_id("taker-1")
    state = AccountState(spec.account_id, ("BTCUSDT",))
    breaker = AccountBreaker(spec.account_id, CircuitBreaker(BreakerConfig(), lambda: now[0]))
    account = Account(spec, client, state, breaker, PositionRefresher(client, state))  # type: ignore[arg-type]
    settings = Settings(_env_file=None)
    upkeep = AccountUpkeep(
        account, settings, WeightGovernor(), lambda: now[0], margin_asset=margin_asset
    )
    return upkeep, now


async def test_the_wallet_is_the_margin_assets_not_the_first_stablecoin_listed():
    client = Wallets(Balance("USDT", D(500), D(500)), Balance("USDC", D(80), D(80)))
    upkeep, _ = upkeep_for(client, "USDC")
    await upkeep.read_wallet()
    assert upkeep.account.state.wallet == D(80)


async def test_a_rise_beyond_what_trading_makes_is_a_deposit_not_a_gain():
    client = Wallets(Balance("USDT", D(60), D(60)))
    upkeep, now = upkeep_for(client, "USDT")
    await upkeep.read_wallet()
    now[0] = 300
    client.balances = [Balance("USDT", D("60.40"), D(60))]  # a maker's profit: not a deposit
    await upkeep.read_wallet()
    assert upkeep.wallet_history.last_deposit_at is None
    now[0] = 600
    client.balances = [Balance("USDT", D(100), D(100))]  # the faucet
    await upkeep.read_wallet()
    assert upkeep.wallet_history.last_deposit_at == 600
    assert upkeep.account.breaker.drawdown_line == D(70)  # the line starts again from 100


async def test_the_streams_balance_change_is_taken_as_the_deposit():
    from rocky_bot.exchange.models import AccountUpdate

    upkeep, now = upkeep_for(Wallets(), "USDT")
    upkeep.note_wallet(D(50))
    now[0] = 10
    event = AccountUpdate((Balance("USDT", D(100), D(100), change=D(50)),), (), 1)
    upkeep.on_stream_event(event)
    assert upkeep.wallet_history.last_deposit_at == 10
    assert upkeep.wallet_history.deposited == D(50)
