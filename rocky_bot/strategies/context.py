"""What an account's loops share: its client, state, executor, breaker, rules and the feed."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import structlog

from rocky_bot.account import AccountState
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import RateLimitedError, RejectedError
from rocky_bot.exchange.models import Position, SymbolRules
from rocky_bot.feed.binance import BinanceFeed
from rocky_bot.funnel import AccountSpec, qty_for
from rocky_bot.risk import CircuitBreaker, Transition
from rocky_bot.strategies.executor import Executor

log = structlog.get_logger()


@dataclass(eq=False)
class AccountContext:
    spec: AccountSpec
    client: ExchangeClient
    state: AccountState
    executor: Executor
    breaker: CircuitBreaker
    feed: BinanceFeed
    rules: dict[str, SymbolRules]
    cap: Decimal
    rng: random.Random
    use_modify: bool = True
    position_max_age_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    #: True while the user data stream is connected: positions are then pushed, not polled.
    streaming: bool = False
    on_breaker: Callable[[AccountContext, Transition], None] | None = None
    #: Takers only: symbol → lean in [-1, 1] towards BUY (see quoting.taker_side).
    lean: Callable[[str], float] | None = None
    _position_refresh: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def account_id(self) -> str:
        return self.spec.account_id

    def qty(self, symbol: str) -> Decimal:
        return qty_for(self.spec.layer, symbol)

    def can_modify(self) -> bool:
        return self.use_modify and self.client.capabilities.modify is not False

    # --- breaker ------------------------------------------------------------------------------
    def trading_allowed(self) -> bool:
        self._report(self.breaker.poll())
        return self.breaker.allows_trading()

    def record_error(self, exc: BaseException) -> None:
        self.state.last_error = str(exc)[:200]
        if isinstance(exc, RejectedError) and exc.is_margin:
            self._report(self.breaker.record_margin_reject())
        elif not isinstance(exc, RateLimitedError):  # a pause is the governor's job, not a fault
            self._report(self.breaker.record_error(type(exc).__name__))

    def record_margin_reject(self) -> None:
        self._report(self.breaker.record_margin_reject())

    def record_success(self) -> None:
        self._report(self.breaker.record_success())

    def _report(self, transition: Transition | None) -> None:
        if transition is None:
            return
        log.warning(
            "breaker_" + {"open": "tripped", "half_open": "half_open", "closed": "closed"}[
                transition.new.value
            ],
            account=self.account_id, reason=transition.reason, cooldown_s=transition.cooldown_s,
        )  # fmt: skip
        if self.on_breaker is not None:
            self.on_breaker(self, transition)

    # --- positions ----------------------------------------------------------------------------
    async def ensure_fresh_position(self, symbol: str) -> None:
        """Refresh positions over REST when not streamed and older than the bound; single-flight."""
        if self.streaming and self.state.position_time[symbol] > float("-inf"):
            return
        if self.clock() - self.state.position_time[symbol] <= self.position_max_age_s:
            return
        await self.refresh_positions()

    async def refresh_positions(self) -> None:
        """All concurrent callers share one positionRisk call."""
        if self._position_refresh is None or self._position_refresh.done():
            self._position_refresh = asyncio.ensure_future(self._fetch_positions())
        await asyncio.shield(self._position_refresh)

    async def _fetch_positions(self) -> None:
        positions = await self.client.position_risk()
        now = self.clock()
        seen = set()
        for position in positions:
            if position.symbol in self.state.position_time:
                self.state.set_position(position, None, now)
                seen.add(position.symbol)
        for symbol in self.state.symbols:  # v3 omits flat symbols
            if symbol not in seen:
                flat = Position(symbol, Decimal(0), Decimal(0), Decimal(0))
                self.state.set_position(flat, None, now)
