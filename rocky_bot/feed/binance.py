"""BinanceFeed: one bookTicker websocket for every symbol, mids, staleness, shocks, band wake-ups.

The feed is the only source of the mid every loop quotes around, so it guards the mid (DESIGN.md
§3.5) and wakes maker loops the moment the mid leaves their band (§3.2):

- **Mid** = (best bid + best ask) / 2 as an exact `Decimal` (pricing rounds it to the tick).
- **Guard**: a symbol is live unless stale, in a shock pause, or in doubt after a tick dropped as
  a jump. The rules, and why, are in `feed_guard.py` (pure, per symbol); this module applies
  them per tick, turns silence into state with a watchdog, and tells listeners of each change.
- **Connection**: one websocket for every symbol, recycled before Binance's 24 h cut, replaced
  when silent, reconnected with jittered backoff; every (re)connect rebases the jump check.

Per tick the work is independent of the number of loops: one JSON parse, two Decimals, a few
comparisons and two heap peeks in the band index (`bands.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidURI, WebSocketException

from rocky_bot.backoff import jittered_backoff
from rocky_bot.feed.bands import BandHandle, SymbolBands
from rocky_bot.feed.frames import IGNORED, STREAM, SYMBOL, read_frame
from rocky_bot.feed.guard import GuardLimits, Shock, SymbolGuard

__all__ = ["BandHandle", "BinanceFeed", "FeedSettings", "FeedStats"]

log = structlog.get_logger()

_BAD_LOG_EVERY_S = 60.0
_DROP_LOG_EVERY_S = 1.0
_RECYCLED, _GOOD, _FAILED = "recycled", "good", "failed"


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


@dataclass(slots=True)
class FeedStats:
    messages: int = 0
    accepted: int = 0
    dropped_jumps: int = 0
    ignored: int = 0
    bad_messages: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    shocks: int = 0


class _Symbol:
    """One symbol's guard, band index and drop-log throttle; only the feed touches it."""

    __slots__ = ("bands", "guard", "last_drop_log", "symbol")

    def __init__(self, symbol: str, limits: GuardLimits) -> None:
        self.symbol = symbol
        self.guard = SymbolGuard(limits)
        self.bands = SymbolBands()
        self.last_drop_log = float("-inf")


class BinanceFeed:
    def __init__(
        self,
        settings: FeedSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.stats = FeedStats()
        self._clock = clock
        self._rng = rng or random.Random()
        limits = GuardLimits.from_pcts(
            stale_after_s=settings.stale_after_s,
            max_jump_pct=settings.max_jump_pct,
            shock_pct=settings.shock_pct,
            shock_window_s=settings.shock_window_s,
            shock_pause_s=settings.shock_pause_s,
        )
        self._by_stream: dict[str, _Symbol] = {}
        self._by_payload: dict[str, _Symbol] = {}  # raw payload "s" -> state
        self._states: dict[str, _Symbol] = {}
        for stream, symbol in settings.streams.items():
            state = self._states.setdefault(symbol, _Symbol(symbol, limits))
            self._by_stream[stream] = state
            self._by_payload[stream.split("@", 1)[0].upper()] = state
        self._listeners: list[Callable[[str], None]] = []
        self._changed = asyncio.Event()
        self._bad_logged: dict[str, float] = {}
        self._ws: ClientConnection | None = None
        self._last_message_t = clock()
        self._closed = asyncio.Event()
        self._rearm = asyncio.Event()  # a new, earlier deadline for the watchdog
        self._closer: asyncio.Task[None] | None = None  # keeps a watchdog close() referenced

    # -- queries -----------------------------------------------------------------------------

    def mid(self, symbol: str) -> Decimal | None:
        state = self._states.get(symbol)
        return None if state is None else state.guard.mid

    def age_s(self, symbol: str) -> float | None:
        state = self._states.get(symbol)
        return None if state is None else state.guard.age_s(self._clock())

    def is_stale(self, symbol: str) -> bool:
        state = self._states.get(symbol)
        return state is None or state.guard.is_stale(self._clock())

    def in_shock_pause(self, symbol: str) -> bool:
        state = self._states.get(symbol)
        return state is not None and state.guard.in_shock_pause(self._clock())

    def in_doubt(self, symbol: str) -> bool:
        """True while the symbol's latest tick was dropped as a jump (see `feed_guard.py`)."""
        state = self._states.get(symbol)
        return state is not None and state.guard.in_doubt()

    def is_live(self, symbol: str) -> bool:
        return (
            not self.is_stale(symbol) and not self.in_shock_pause(symbol)
            and not self.in_doubt(symbol)
        )  # fmt: skip

    async def wait_live(self, symbols: Iterable[str], timeout: float) -> bool:
        """True once every symbol is live; False if `timeout` passes first."""
        wanted = list(symbols)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not all(self.is_live(s) for s in wanted):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            # The event covers transitions; the cap covers a pause ending without a watchdog.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.25))
        return True

    # -- registrations -----------------------------------------------------------------------

    def watch_band(
        self, symbol: str, low: Decimal, high: Decimal, wake: Callable[[], None]
    ) -> BandHandle:
        """Call `wake()` once, from the tick handler, on the first accepted mid outside [low, high].

        A band the mid has already left fires on the next accepted tick.
        """
        state = self._states.get(symbol)
        if state is None:
            raise KeyError(f"feed has no stream for symbol {symbol}")
        if not low <= high:
            raise ValueError(f"band low {low} above high {high}")
        return state.bands.add(BandHandle(symbol, low, high, wake))

    def unwatch(self, handle: BandHandle) -> None:
        state = self._states.get(handle.symbol)
        if state is not None:
            state.bands.remove(handle)

    def on_state_change(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    # -- the tick handler (hot path) ---------------------------------------------------------

    def handle_message(self, raw: str | bytes) -> None:
        """Parse one frame, accept or drop its mid, fire band wake-ups. Never raises."""
        stats = self.stats
        stats.messages += 1
        now = self._clock()
        self._last_message_t = now
        kind, key, mid = read_frame(raw)
        if kind is STREAM or kind is SYMBOL:
            state = (self._by_stream if kind is STREAM else self._by_payload).get(key)
        else:
            state = None
        if state is None:
            if kind is IGNORED or mid is not None or (key is not None and not self._known(key)):
                stats.ignored += 1  # not ours: control replies, other events, other streams
                return None
            return self._bad(kind, raw)
        if state.guard.is_jump(mid, now):
            return self._drop(state, mid, now)
        self._accept(state, mid, now)
        return None

    def _known(self, key: str) -> bool:
        return key in self._by_stream or key in self._by_payload

    def _accept(self, state: _Symbol, mid: Decimal, now: float) -> None:
        self.stats.accepted += 1
        guard = state.guard
        shock = guard.accept(mid, now)
        if shock is not None:
            self._shocked(state, shock)
        if guard.mark_fresh():
            log.info("feed_fresh", symbol=state.symbol, mid=str(mid))
            self._state_changed(state.symbol)
        fired = state.bands.left(mid)
        if fired is not None:
            for handle in fired:
                try:
                    handle.wake()
                except Exception:
                    log.exception("band_wake_failed", symbol=state.symbol)

    def _drop(self, state: _Symbol, mid: Decimal, now: float) -> None:
        self.stats.dropped_jumps += 1
        if state.guard.drop():
            self._state_changed(state.symbol)  # makers pull at once, not after stale_after_s
        if now - state.last_drop_log >= _DROP_LOG_EVERY_S:
            state.last_drop_log = now
            log.warning(
                "feed_tick_dropped",
                symbol=state.symbol,
                mid=str(mid),
                last_mid=str(state.guard.mid),
                reason="jump",
                dropped_total=self.stats.dropped_jumps,
            )

    def _shocked(self, state: _Symbol, shock: Shock) -> None:
        self.stats.shocks += 1
        low, high = shock.low, shock.high
        log.warning(
            "price_shock",
            symbol=state.symbol,
            low=str(low),
            high=str(high),
            move_pct=float((high - low) / low * 100),
            pause_s=self.settings.shock_pause_s,
        )
        if shock.started:
            self._rearm.set()  # the watchdog must wake when the pause ends
            self._state_changed(state.symbol)

    def _bad(self, kind: str, raw: str | bytes) -> None:
        counts = self.stats.bad_messages
        counts[kind] = counts.get(kind, 0) + 1
        now = self._clock()
        if now - self._bad_logged.get(kind, float("-inf")) >= _BAD_LOG_EVERY_S:
            self._bad_logged[kind] = now
            log.warning("feed_bad_message", kind=kind, count=counts[kind], sample=repr(raw[:160]))

    def _state_changed(self, symbol: str) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        for listener in self._listeners:
            try:
                listener(symbol)
            except Exception:
                log.exception("feed_listener_failed", symbol=symbol)

    # -- connection ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, read and reconnect until cancelled or closed."""
        watchdog = asyncio.create_task(self._watchdog(), name="feed-watchdog")
        delays = self._backoff()
        try:
            while not self._closed.is_set():
                outcome = await self._session()
                if self._closed.is_set():
                    break
                self.stats.reconnects += 1
                if outcome != _FAILED:
                    delays = self._backoff()  # a good connection resets the backoff
                if outcome == _RECYCLED:
                    continue  # planned: reconnect at once
                delay = next(delays)
                log.info("feed_reconnect_scheduled", delay_s=round(delay, 3))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), delay)
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def close(self) -> None:
        self._closed.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    def _backoff(self) -> Iterator[float]:
        s = self.settings
        return jittered_backoff(initial_s=s.backoff_initial_s, max_s=s.backoff_max_s, rng=self._rng)

    async def _session(self) -> str:
        s = self.settings
        accepted_before = self.stats.accepted
        try:
            # No permessage-deflate: inflating 200 small frames a second costs more CPU than the
            # bytes it saves on a bookTicker stream.
            async with connect(
                s.url, open_timeout=s.open_timeout_s, close_timeout=s.close_timeout_s,
                compression=None,
            ) as ws:  # fmt: skip
                self._ws = ws
                if self._closed.is_set():  # close() raced the handshake
                    return _GOOD
                for state in self._states.values():
                    state.guard.rebase()
                opened = self._last_message_t = self._clock()
                log.info("feed_connected", url=s.url)
                try:
                    async with asyncio.timeout(s.max_connection_age_s) as age:
                        async for raw in ws:
                            self.handle_message(raw)
                except TimeoutError:
                    if not age.expired():
                        raise
                    log.info("feed_connection_recycled", age_s=round(self._clock() - opened, 1))
                    return _RECYCLED
                if self._closed.is_set():
                    log.info("feed_closed")
                else:
                    log.warning("feed_disconnected", code=ws.close_code, reason=ws.close_reason)
        except InvalidURI:
            raise  # a configuration error: retrying cannot help
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.warning("feed_disconnected", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._ws = None
        return _GOOD if self.stats.accepted > accepted_before else _FAILED

    async def _watchdog(self) -> None:
        """Turn silence into state: stale symbols, ended shock pauses, dead connections."""
        stale_after = self.settings.stale_after_s
        while True:
            now = self._clock()
            wake_at = now + stale_after
            for state in self._states.values():
                guard = state.guard
                if guard.went_stale(now):
                    log.warning(
                        "feed_stale", symbol=state.symbol, age_s=round(now - guard.last_t, 3)
                    )
                    self._state_changed(state.symbol)
                if guard.pause_ended(now):
                    log.info("price_shock_over", symbol=state.symbol)
                    self._state_changed(state.symbol)
                wake_at = min(wake_at, guard.next_deadline())
            ws = self._ws
            if ws is not None and now - self._last_message_t > self.settings.silent_reconnect_s:
                log.warning("feed_silent", silent_s=round(now - self._last_message_t, 3))
                self._last_message_t = now
                self._closer = asyncio.get_running_loop().create_task(ws.close())
            else:
                wake_at = min(wake_at, self._last_message_t + self.settings.silent_reconnect_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rearm.wait(), max(wake_at - now, 0.0) + 0.002)
            self._rearm.clear()
