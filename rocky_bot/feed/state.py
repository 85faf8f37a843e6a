"""FeedState: what the feed knows, tick by tick: mids, guards, band wake-ups, listeners, stats.

Apart from the connection (binance.py) so the hot path reads on its own and is driven in tests
by calling `handle_message` with frames, no socket needed:

- **Mid** = (best bid + best ask) / 2 as an exact `Decimal` (pricing rounds it to the tick).
- **Guard**: a symbol is live unless stale, in a shock pause, or in doubt after a tick dropped as
  a jump; the rules, and why, are in `guard.py` (pure, per symbol). This class applies them per
  tick and tells listeners of each change; `check_deadlines` turns silence into state for the
  connection's watchdog.
- **Bands**: a maker registers the band in which its quote is still within drift and is woken
  on the first accepted mid outside it (`bands.py`).
- **Plausible prices**: the jump rule needs a previous mid, and the first tick after a
  (re)connect has none it may trust. What bounds it is the exchange's own PRICE_FILTER
  (`bound_prices`, from exchangeInfo): no order can trade outside [minPrice, maxPrice], so a mid
  there (`1e19` for BTC) is a bad frame (`implausible`), never the mid, first tick or not.

Per tick the work is independent of the number of loops: one JSON parse, two Decimals, a few
comparisons and two heap peeks in the band index.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import structlog

from rocky_bot.feed.bands import BandHandle, SymbolBands
from rocky_bot.feed.frames import IGNORED, STREAM, SYMBOL, read_frame
from rocky_bot.feed.guard import GuardLimits, Shock, SymbolGuard
from rocky_bot.waits import wait_event

__all__ = ["FeedState", "FeedStats"]

log = structlog.get_logger()

_BAD_LOG_EVERY_S = 60.0
_DROP_LOG_EVERY_S = 1.0


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

    __slots__ = ("bands", "guard", "high", "last_drop_log", "low", "symbol")

    def __init__(self, symbol: str, limits: GuardLimits) -> None:
        self.symbol = symbol
        self.guard = SymbolGuard(limits)
        self.bands = SymbolBands()
        self.last_drop_log = float("-inf")
        self.low: Decimal = Decimal(0)  # plausible mids: (low, high]; see the module doc
        self.high: Decimal | None = None

    def plausible(self, mid: Decimal) -> bool:
        return mid >= self.low and (self.high is None or mid <= self.high)


class FeedState:
    def __init__(
        self,
        streams: dict[str, str],
        limits: GuardLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`streams` maps a stream name to its symbol (`btcusdt@bookTicker` → `BTCUSDT`)."""
        self.stats = FeedStats()
        self.clock = clock
        self._limits = limits
        self._by_stream: dict[str, _Symbol] = {}
        self._by_payload: dict[str, _Symbol] = {}  # raw payload "s" -> state
        self._states: dict[str, _Symbol] = {}
        for stream, symbol in streams.items():
            state = self._states.setdefault(symbol, _Symbol(symbol, limits))
            self._by_stream[stream] = state
            self._by_payload[stream.split("@", 1)[0].upper()] = state
        self._listeners: list[Callable[[str], None]] = []
        self._bad_logged: dict[str, float] = {}
        self._changed = asyncio.Event()  # replaced and set on every state change
        #: Set when a deadline moved earlier (a shock pause began): the watchdog re-plans.
        self.deadline_moved = asyncio.Event()
        #: When the last message of any kind arrived (the watchdog's silence check).
        self.last_message_t = clock()

    # -- queries -----------------------------------------------------------------------------

    def mid(self, symbol: str) -> Decimal | None:
        state = self._states.get(symbol)
        return None if state is None else state.guard.mid

    def age_s(self, symbol: str) -> float | None:
        state = self._states.get(symbol)
        return None if state is None else state.guard.age_s(self.clock())

    def is_stale(self, symbol: str) -> bool:
        state = self._states.get(symbol)
        return state is None or state.guard.is_stale(self.clock())

    def in_shock_pause(self, symbol: str) -> bool:
        state = self._states.get(symbol)
        return state is not None and state.guard.in_shock_pause(self.clock())

    def in_doubt(self, symbol: str) -> bool:
        """True while the symbol's latest tick was dropped as a jump (see `guard.py`)."""
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
            await wait_event(self._changed, min(remaining, 0.25))
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

    def bound_prices(self, bounds: dict[str, tuple[Decimal, Decimal | None]]) -> None:
        """Each symbol's PRICE_FILTER [minPrice, maxPrice] (None: no maximum). A mid already
        taken outside them (before exchangeInfo was read) is forgotten: the symbol goes stale."""
        for symbol, (low, high) in bounds.items():
            state = self._states.get(symbol)
            if state is None:
                continue
            state.low, state.high = low, high
            mid = state.guard.mid
            if mid is not None and not state.plausible(mid):
                log.warning("feed_mid_implausible", symbol=symbol, mid=str(mid))
                state.guard.forget()
                self._state_changed(symbol)

    # -- the tick handler (hot path) ---------------------------------------------------------

    def handle_message(self, raw: str | bytes) -> None:
        """Parse one frame, accept or drop its mid, fire band wake-ups. Never raises."""
        stats = self.stats
        stats.messages += 1
        now = self.clock()
        self.last_message_t = now
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
        if not state.plausible(mid):
            return self._bad("implausible", raw)
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
            pause_s=self._limits.shock_pause_s,
        )
        if shock.started:
            self.deadline_moved.set()  # the watchdog must wake when the pause ends
            self._state_changed(state.symbol)

    def _bad(self, kind: str, raw: str | bytes) -> None:
        counts = self.stats.bad_messages
        counts[kind] = counts.get(kind, 0) + 1
        now = self.clock()
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

    # -- silence -------------------------------------------------------------------------------

    def rebase(self) -> None:
        """A new connection: the first tick of each symbol is accepted whatever it is."""
        for state in self._states.values():
            state.guard.rebase()
        self.last_message_t = self.clock()

    def check_deadlines(self, now: float) -> float:
        """Turn silence into state (stale symbols, ended shock pauses), telling listeners;
        returns when the next such change could come due."""
        wake_at = now + self._limits.stale_after_s
        for state in self._states.values():
            guard = state.guard
            if guard.went_stale(now):
                log.warning("feed_stale", symbol=state.symbol, age_s=round(now - guard.last_t, 3))
                self._state_changed(state.symbol)
            if guard.pause_ended(now):
                log.info("price_shock_over", symbol=state.symbol)
                self._state_changed(state.symbol)
            wake_at = min(wake_at, guard.next_deadline())
        return wake_at
