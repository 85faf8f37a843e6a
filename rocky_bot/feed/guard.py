"""SymbolGuard: what the feed may believe about one symbol's mid. Decisions only, no I/O.

The feed is the only source of the mid every loop quotes around, so each symbol's mid is guarded
(DESIGN.md §3.5). The rules live here, apart from the websocket, so they can be tested with
plain numbers; every method takes `now` (the feed's monotonic clock) instead of reading a clock.

- **Stale**: no accepted tick for `stale_after_s` → not live (makers cancel, takers skip) until a
  tick is accepted again. The feed's watchdog asks `went_stale` so silence turns into state even
  when nothing arrives at all.
- **Jumps**: a tick more than `max_jump` from the last accepted mid is dropped. The check is
  skipped for the first tick after a (re)connect (`rebase`) or after the symbol went stale. Why:
  a real move that happened while we were blind would otherwise look like a jump *forever*, and
  the feed would freeze on the old price. Nor can dropping freeze the feed: dropped ticks do not
  refresh the symbol, so a market that really moved goes stale after `stale_after_s` (makers
  pull their quotes meanwhile) and its next tick is accepted as the new base. A bad first tick
  after a reconnect is repaired the same way, and it usually trips the shock pause besides.
  While the latest tick of a symbol was dropped the symbol is *in doubt* and not live: either
  the feed is wrong or the market really moved, and in neither case may the last accepted mid
  be quoted (it could be 5 % off the market for the whole `stale_after_s`).
- **Shock**: accepted mids spreading more than `shock` within `shock_window_s` pause the symbol
  for `shock_pause_s` (spec 003's price-shock rule); the window's max and min are kept in
  monotonic deques, so that check is O(1) amortized per tick.

`stale` and `paused` are the states last *reported* (to the feed's listeners): the transitions
(`went_stale`, `mark_fresh`, a `Shock` that `started`, `pause_ended`) each return True exactly
once per change, so the feed tells its listeners once per change.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["GuardLimits", "Shock", "SymbolGuard"]


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """The guard's thresholds; `max_jump` and `shock` are fractions of a mid (0.05 = 5 %)."""

    stale_after_s: float
    max_jump: Decimal
    shock: Decimal
    shock_window_s: float
    shock_pause_s: float

    @classmethod
    def from_pcts(
        cls,
        *,
        stale_after_s: float,
        max_jump_pct: float,
        shock_pct: float,
        shock_window_s: float,
        shock_pause_s: float,
    ) -> GuardLimits:
        """From the settings' percents; `repr` keeps 2.0 exactly 0.02, not a binary float."""
        return cls(
            stale_after_s=stale_after_s,
            max_jump=Decimal(repr(max_jump_pct)) / 100,
            shock=Decimal(repr(shock_pct)) / 100,
            shock_window_s=shock_window_s,
            shock_pause_s=shock_pause_s,
        )


@dataclass(frozen=True, slots=True)
class Shock:
    """Accepted mids spread from `low` to `high` within the window: paused until `pause_until`.

    `started` is False when the symbol was already paused (the pause was only extended).
    """

    low: Decimal
    high: Decimal
    pause_until: float
    started: bool


class SymbolGuard:
    """Mutable per-symbol state and the decisions on it; only the feed touches it."""

    __slots__ = (
        "doubt",
        "last_t",
        "limits",
        "maxq",
        "mid",
        "minq",
        "pause_until",
        "paused",
        "rebasing",
        "stale",
    )

    def __init__(self, limits: GuardLimits) -> None:
        self.limits = limits
        self.mid: Decimal | None = None
        self.last_t = 0.0
        self.rebasing = True  # next tick skips the jump check
        self.stale = True  # last state reported to listeners
        self.paused = False  # last shock state reported to listeners
        self.doubt = False  # the latest tick was dropped as a jump
        self.pause_until = float("-inf")
        self.maxq: deque[tuple[float, Decimal]] = deque()
        self.minq: deque[tuple[float, Decimal]] = deque()

    # -- queries -----------------------------------------------------------------------------

    def age_s(self, now: float) -> float | None:
        return None if self.mid is None else now - self.last_t

    def is_stale(self, now: float) -> bool:
        return self.mid is None or now - self.last_t > self.limits.stale_after_s

    def in_shock_pause(self, now: float) -> bool:
        return now < self.pause_until

    def in_doubt(self) -> bool:
        """True while the latest tick was dropped as a jump (see the module doc)."""
        return self.doubt

    def is_live(self, now: float) -> bool:
        return not self.is_stale(now) and not self.in_shock_pause(now) and not self.doubt

    # -- per tick ----------------------------------------------------------------------------

    def rebase(self) -> None:
        """A (re)connect: the next tick becomes the base without a jump check."""
        self.rebasing = True

    def forget(self) -> None:
        """Drop the mid (it turned out implausible): stale, and the next tick is a new base."""
        self.mid = None
        self.rebasing = self.stale = True
        self.doubt = False
        self.maxq.clear()
        self.minq.clear()

    def is_jump(self, mid: Decimal, now: float) -> bool:
        """Drop `mid`? Only against a fresh base from this connection (see the module doc)."""
        last = self.mid
        limits = self.limits
        return (
            last is not None
            and not self.rebasing
            and now - self.last_t <= limits.stale_after_s
            and abs(mid - last) > last * limits.max_jump
        )

    def drop(self) -> bool:
        """The tick was dropped as a jump; True if that put the symbol in doubt just now."""
        if self.doubt:
            return False
        self.doubt = True
        return True

    def accept(self, mid: Decimal, now: float) -> Shock | None:
        """Take `mid` as the symbol's mid; a `Shock` if the window's spread tripped the pause.

        Staleness and doubt are cleared separately (`mark_fresh`), after the shock is reported.
        """
        self.mid = mid
        self.last_t = now
        self.rebasing = False
        # Sliding-window max/min of accepted mids: monotonic deques, O(1) amortized.
        limits = self.limits
        horizon = now - limits.shock_window_s
        maxq = self.maxq
        while maxq and maxq[-1][1] <= mid:
            maxq.pop()
        maxq.append((now, mid))
        while maxq[0][0] < horizon:
            maxq.popleft()
        minq = self.minq
        while minq and minq[-1][1] >= mid:
            minq.pop()
        minq.append((now, mid))
        while minq[0][0] < horizon:
            minq.popleft()
        high = maxq[0][1]
        low = minq[0][1]
        if high - low > low * limits.shock:
            return self._start_shock(low, high, now)
        return None

    def mark_fresh(self) -> bool:
        """After an accepted tick: True if the symbol was stale or in doubt until now."""
        if self.stale or self.doubt:
            self.stale = self.doubt = False
            return True
        return False

    def _start_shock(self, low: Decimal, high: Decimal, now: float) -> Shock:
        self.pause_until = now + self.limits.shock_pause_s
        # Restart the window at this mid, so the same move does not re-trigger the pause.
        for q in (self.maxq, self.minq):
            last = q[-1]
            q.clear()
            q.append(last)
        started = not self.paused
        self.paused = True
        return Shock(low, high, self.pause_until, started)

    # -- for the watchdog --------------------------------------------------------------------

    def went_stale(self, now: float) -> bool:
        """True once when `stale_after_s` passes without an accepted tick."""
        if (
            self.mid is not None
            and not self.stale
            and now > self.last_t + self.limits.stale_after_s
        ):
            self.stale = True
            return True
        return False

    def pause_ended(self, now: float) -> bool:
        """True once when a shock pause is over."""
        if self.paused and now >= self.pause_until:
            self.paused = False
            return True
        return False

    def next_deadline(self) -> float:
        """When `went_stale` or `pause_ended` may next turn True; +inf if neither can."""
        at = float("inf")
        if self.mid is not None and not self.stale:
            at = self.last_t + self.limits.stale_after_s
        if self.paused:
            at = min(at, self.pause_until)
        return at
