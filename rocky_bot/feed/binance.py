"""BinanceFeed: one bookTicker websocket for every symbol, kept open, and a watchdog over it.

The feed is the only source of the mid every loop quotes around. What it knows, tick by tick
(mids, guards, band wake-ups), is `FeedState` (state.py); this module adds the connection:

- **One websocket** for every symbol, kept open by the shared `Reconnector` (jittered backoff,
  recycled before Binance's 24 h cut); every (re)connect rebases the jump check, since the
  market may have moved while we were away.
- **A watchdog** that turns silence into state: symbols go stale and shock pauses end even when
  no message arrives at all, and a connection silent for `silent_reconnect_s` (no message of
  any kind: presumed dead, as a half-open TCP connection looks) is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from websockets.asyncio.client import ClientConnection

from rocky_bot.backoff import Backoff
from rocky_bot.feed.bands import BandHandle
from rocky_bot.feed.guard import GuardLimits
from rocky_bot.feed.state import FeedState, FeedStats
from rocky_bot.reconnect import LinkSettings, Outcome, Reconnector
from rocky_bot.waits import wait_event

__all__ = ["BandHandle", "BinanceFeed", "FeedSettings", "FeedStats"]

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class FeedSettings:
    url: str
    streams: dict[str, str]  # "btcusdt@bookTicker" -> "BTCUSDT"
    stale_after_s: float = 5.0
    max_jump_pct: float = 5.0
    shock_pct: float = 2.0
    shock_window_s: float = 10.0
    shock_pause_s: float = 30.0
    max_connection_age_s: float = 23 * 3600  # Binance drops connections at 24 h
    open_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    #: An open connection silent this long (no message at all) is presumed dead and replaced.
    silent_reconnect_s: float = 30.0
    close_timeout_s: float = 2.0
    ping_interval_s: float | None = 20.0  # websockets' keepalive ping

    def guard_limits(self) -> GuardLimits:
        return GuardLimits.from_pcts(
            stale_after_s=self.stale_after_s, max_jump_pct=self.max_jump_pct,
            shock_pct=self.shock_pct, shock_window_s=self.shock_window_s,
            shock_pause_s=self.shock_pause_s,
        )  # fmt: skip

    def link(self) -> LinkSettings:
        """The connection's settings: a connection counts as good once it delivered a tick."""
        return LinkSettings(
            open_timeout_s=self.open_timeout_s, close_timeout_s=self.close_timeout_s,
            max_age_s=self.max_connection_age_s,
            backoff=Backoff(initial_s=self.backoff_initial_s, max_s=self.backoff_max_s),
            ping_interval_s=self.ping_interval_s,
        )  # fmt: skip


class BinanceFeed(FeedState):
    def __init__(
        self,
        settings: FeedSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(settings.streams, settings.guard_limits(), clock=clock)
        self.settings = settings
        self._link = Reconnector(
            "feed", settings.link(), progress=lambda: self.stats.accepted, rng=rng, clock=clock
        )
        self._dialled = False

    async def run(self) -> None:
        """Connect, read and reconnect until cancelled or closed."""
        watchdog = asyncio.create_task(self._watchdog(), name="feed-watchdog")
        try:
            await self._link.run(self._dial, self._serve, on_message=self.handle_message)
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def close(self) -> None:
        await self._link.close()

    async def _dial(self) -> str:
        """Always the same URL; every dial after the first is a reconnect, and rebases the
        jump check here, before the connection's first frame can reach `handle_message`."""
        if self._dialled:
            self.stats.reconnects += 1
        self._dialled = True
        self.rebase()
        return self.settings.url

    async def _serve(self, ws: ClientConnection) -> Outcome | None:
        """Frames go to `handle_message` as they are read (`on_message`): this only waits for
        the connection to end (an abnormal end raises, as websockets' `recv` does)."""
        async for raw in ws:
            self.handle_message(raw)
        return None  # judged by whether a tick was accepted

    async def _watchdog(self) -> None:
        """Turn silence into state: stale symbols, ended shock pauses, dead connections."""
        silent_after = self.settings.silent_reconnect_s
        while True:
            now = self.clock()
            wake_at = self.check_deadlines(now)
            if self._link.connection is not None and now - self.last_message_t > silent_after:
                log.warning("feed_silent", silent_s=round(now - self.last_message_t, 3))
                self.last_message_t = now
                self._link.drop()
            else:
                wake_at = min(wake_at, self.last_message_t + silent_after)
            await wait_event(self.deadline_moved, max(wake_at - now, 0.0) + 0.002)
            self.deadline_moved.clear()
