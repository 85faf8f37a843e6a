"""What an account's loops share: the account itself, its executor, the feed and its limits.

A plain bundle, built once by the fleet: the breaker's consequences live in
`account.AccountBreaker`, position reads in `account.PositionRefresher`, order sending in the
`Executor`. The loops read from here and call those; nothing here performs I/O itself.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.account import Account
from rocky_bot.exchange.models import Side, SymbolRules
from rocky_bot.feed.binance import BinanceFeed
from rocky_bot.sizing import SymbolSizes
from rocky_bot.strategies.executor import Executor


@dataclass(frozen=True, eq=False)
class AccountContext:
    account: Account
    executor: Executor
    feed: BinanceFeed
    rules: dict[str, SymbolRules]
    sizes: SymbolSizes  # the fleet's: each symbol's size per layer, fixed at its first mid
    cap: Decimal
    rng: random.Random
    use_modify: bool = True
    #: Takers only: symbol → lean in [-1, 1] towards BUY (see taking.taker_side).
    lean: Callable[[str], float] | None = None
    #: Makers wake when the mid leaves their band (False: the timer only, as the spec).
    band_wakeups: bool = True
    #: The spec's iteration (setting poll_each_iteration): symbol → read balance, positions and
    #: open orders over REST before deciding. None: state comes from acks, stream and reconcile.
    poll: Callable[[str], Awaitable[None]] | None = None
    #: Takers: the spread of their sizes around the layer's (settings.taker_size_sigma).
    size_sigma: float = 0.0
    size_max: float = 0.0  # ... and their largest, × the layer's (settings.taker_size_max)
    #: Ladders: (symbol, side, own id) → prices the fleet's other makers rest there.
    taken: Callable[[str, Side, str], frozenset[Decimal]] | None = None

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def spec(self):  # AccountSpec
        return self.account.spec

    @property
    def state(self):  # AccountState
        return self.account.state

    @property
    def breaker(self):  # AccountBreaker
        return self.account.breaker

    def layer_qty(self, symbol: str, mid: Decimal) -> Decimal:
        """This account's layer size on `symbol` (fixed fleet-wide at the symbol's first mid)."""
        return self.sizes.qty(self.spec.layer, symbol, mid)

    def sent(self, intents: Sequence[object]) -> bool:
        """Whether a look that executed `intents` sent the exchange something: an order action,
        or the spec profile's poll, which it makes on every look (`loop.requote_gap`)."""
        return bool(intents) or self.poll is not None

    def can_modify(self) -> bool:
        return self.use_modify and self.account.client.capabilities.usable("modify")

    def record_failure(self, exc: BaseException) -> None:
        """A loop iteration failed: shown on /status and counted by the breaker."""
        self.account.state.note_error(exc)
        self.account.breaker.record_error(exc)
