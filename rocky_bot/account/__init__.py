"""One account's picture of itself and the parts that keep it true, shared by its loops.

- `state.py`: `AccountState`, orders, in-flight requests, positions, wallet (no I/O);
- `positions.py`: `PositionRefresher`, REST position reads when the stream cannot be trusted;
- `breaker.py`: `AccountBreaker`, the circuit breaker with its transitions logged and announced.

`Account` bundles them with the account's client and funnel spec: what the executor, the loops
and the upkeep of one account share.
"""

from __future__ import annotations

from dataclasses import dataclass

from rocky_bot.account.breaker import AccountBreaker
from rocky_bot.account.positions import PositionRefresher
from rocky_bot.account.state import AccountState, TrackedOrder
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.funnel import AccountSpec

__all__ = ["Account", "AccountBreaker", "AccountState", "PositionRefresher", "TrackedOrder"]


@dataclass(frozen=True, eq=False)
class Account:
    spec: AccountSpec
    client: ExchangeClient
    state: AccountState
    breaker: AccountBreaker
    positions: PositionRefresher

    @property
    def account_id(self) -> str:
        return self.spec.account_id
