"""An account's positions over REST, refreshed only when they may be wrong, one call at a time.

The user data stream pushes positions (ACCOUNT_UPDATE); while it is connected a symbol's
position, once known, is never polled. Without it, a position older than `max_age_s` is read
again before a decision needs it. Concurrent callers (an account's loops, its upkeep) share one
`positionRisk` call: 5 weight each, 30 accounts, it adds up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

from rocky_bot.account.state import AccountState
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.models import Position


class PositionRefresher:
    def __init__(
        self,
        client: ExchangeClient,
        state: AccountState,
        max_age_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._state = state
        self._max_age_s = max_age_s
        self._clock = clock
        self._inflight: asyncio.Future[None] | None = None
        self._streamed = False
        self._connected: Callable[[], bool] | None = None

    @property
    def streamed(self) -> bool:
        """True while the user data stream is connected: positions are then pushed, not polled."""
        connected = self._connected
        return self._streamed if connected is None else connected()

    @streamed.setter
    def streamed(self, value: bool) -> None:
        self._streamed = value

    def follow(self, connected: Callable[[], bool]) -> None:
        """Ask the stream itself from now on: a drop counts at once, and nobody has to wake
        every few seconds to copy the flag over (issue 14: 30 accounts' upkeep did, 6 wake-ups
        a second)."""
        self._connected = connected

    async def ensure_fresh(self, symbol: str) -> None:
        """Refresh when not streamed and older than the bound (never when streamed and known)."""
        known_at = self._state.position_time[symbol]
        if self.streamed and known_at > float("-inf"):
            return
        if self._clock() - known_at <= self._max_age_s:
            return
        await self.refresh()

    async def refresh(self) -> None:
        """Read every position; all concurrent callers share one positionRisk call."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._fetch())
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        self.apply(await self._client.position_risk())

    def apply(self, positions: list[Position]) -> None:
        """Every position of the account, as read over REST (positionRisk or account)."""
        state, now = self._state, self._clock()
        seen = set()
        for position in positions:
            if position.symbol in state.position_time:
                state.set_position(position, None, now)
                seen.add(position.symbol)
        for symbol in state.symbols:  # v3 omits flat symbols
            if symbol not in seen:
                state.set_position(Position(symbol, Decimal(0), Decimal(0), Decimal(0)), None, now)
