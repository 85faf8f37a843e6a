"""A shard's user stream: the account's events of other symbols (another shard's) stay out."""

from __future__ import annotations

from decimal import Decimal as D

from rocky_bot.account import Account, AccountBreaker, AccountState, PositionRefresher
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import OrderStatus, OrderUpdate, Side
from rocky_bot.exchange.user_stream import UserStream
from rocky_bot.fleet.shards import own_events
from rocky_bot.funnel import parse_account_id
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import BreakerConfig, CircuitBreaker
from rocky_bot.settings import Settings


def update(symbol: str, filled: str = "0") -> OrderUpdate:
    return OrderUpdate(
        symbol=symbol, order_id=7, client_order_id="other-shard-1", side=Side.BUY,
        exec_type="TRADE" if filled != "0" else "NEW",
        status=OrderStatus.FILLED if filled != "0" else OrderStatus.NEW, price=D(100),
        orig_qty=D(1), executed_qty=D(filled), last_fill_qty=D(filled), last_fill_price=D(100),
        event_time_ms=1,
    )  # fmt: skip


def upkeep_on(symbols: tuple[str, ...]) -> AccountUpkeep:
    spec = parse_account_id("taker-1")
    state = AccountState(spec.account_id, symbols)
    breaker = AccountBreaker(spec.account_id, CircuitBreaker(BreakerConfig(), lambda: 0.0))
    account = Account(spec, None, state, breaker, PositionRefresher(None, state))  # type: ignore[arg-type]
    upkeep = AccountUpkeep(account, Settings(_env_file=None), WeightGovernor())
    upkeep.stream = UserStream(None, "ws://127.0.0.1:9", lambda e: None, lambda: None)  # type: ignore[arg-type]
    return upkeep


def test_another_symbols_orders_never_enter_our_state_but_their_fills_are_counted():
    upkeep = upkeep_on(("BTCUSDT",))
    on_event = own_events(upkeep)
    on_event(update("ETHUSDT"))
    on_event(update("ETHUSDT", filled="1"))
    assert upkeep.account.state.orders == {}
    assert upkeep.account.state.fills == 0  # not our fill ...
    assert upkeep.account.state.traded_notional == D(100)  # ... but the wallet paid for it


def test_the_first_event_of_another_symbol_keeps_the_shared_listen_key_alive_at_stop():
    upkeep = upkeep_on(("BTCUSDT",))
    on_event = own_events(upkeep)
    on_event(update("BTCUSDT"))
    assert upkeep.stream.delete_key  # alone on the account so far: the stop deletes the key
    on_event(update("ETHUSDT"))
    assert not upkeep.stream.delete_key  # another daemon trades it: leave the key to expire
