"""Band index: which maker loops must wake because the mid left their band (DESIGN.md §3.2).

Every maker registers the band `[low, high]` within which its resting order is still within
drift. On each accepted tick the feed asks the index for the bands the mid has left. With 60 (or
600) registrations and hundreds of ticks a second, scanning every band per tick is the per-loop
work §5 forbids, so per symbol the index keeps

- a max-heap of lows: the mid left a band downwards iff `mid < low`, and the band with the
  *highest* low is the first to go;
- a min-heap of highs: the mid left a band upwards iff `mid > high`, lowest high first.

A tick therefore costs two peeks when nothing fires (O(1)), and O(log n) per band that fires.
A band lives in both heaps; removing it (it fired, or its owner unwatched it) only marks the
handle dead, and dead entries are dropped when they reach a heap top ("lazy deletion"). Dead
entries buried inside a heap (a band that fired low leaves its high entry behind) are reclaimed
by rebuilding both heaps once they outnumber the live ones, which keeps memory O(live) and the
cost amortized O(1) per removal.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal
from itertools import count

Wake = Callable[[], None]

#: Rebuild the heaps when dead entries exceed this many *and* outnumber the live handles.
_COMPACT_MIN_DEAD = 64


class BandHandle:
    """One registration. Opaque to callers: keep it to `unwatch`, or drop it once it fired."""

    __slots__ = ("alive", "high", "low", "symbol", "wake")

    def __init__(self, symbol: str, low: Decimal, high: Decimal, wake: Wake) -> None:
        self.symbol = symbol
        self.low = low
        self.high = high
        self.wake = wake
        self.alive = True

    def __repr__(self) -> str:
        state = "alive" if self.alive else "done"
        return f"BandHandle({self.symbol} [{self.low}, {self.high}] {state})"


class SymbolBands:
    """The bands of one symbol. Not thread-safe; lives on the event loop like the feed."""

    __slots__ = ("_dead", "_highs", "_live", "_lows", "_seq")

    def __init__(self) -> None:
        # Entries are (key, seq, handle); seq breaks ties so handles are never compared.
        self._lows: list[tuple[Decimal, int, BandHandle]] = []  # key = -low (max-heap)
        self._highs: list[tuple[Decimal, int, BandHandle]] = []  # key = high (min-heap)
        self._seq = count()
        self._live = 0
        self._dead = 0  # dead entries still sitting in either heap

    def __len__(self) -> int:
        return self._live

    def add(self, handle: BandHandle) -> BandHandle:
        seq = next(self._seq)
        heapq.heappush(self._lows, (-handle.low, seq, handle))
        heapq.heappush(self._highs, (handle.high, seq, handle))
        self._live += 1
        return handle

    def remove(self, handle: BandHandle) -> None:
        if not handle.alive:
            return
        handle.alive = False
        self._live -= 1
        self._dead += 2
        self._maybe_compact()

    def left(self, mid: Decimal) -> list[BandHandle] | None:
        """Retire and return the bands `mid` lies outside of; None (no allocation) if none.

        The caller calls the wakes *after* this returns, so a wake that re-registers a band
        cannot be fired again by the same tick.
        """
        fired: list[BandHandle] | None = None
        lows = self._lows
        while lows:
            handle = lows[0][2]
            if not handle.alive:
                heapq.heappop(lows)
                self._dead -= 1
            elif mid < handle.low:
                heapq.heappop(lows)
                handle.alive = False
                self._live -= 1
                self._dead += 1  # its entry in the highs heap
                if fired is None:
                    fired = []
                fired.append(handle)
            else:
                break
        highs = self._highs
        while highs:
            handle = highs[0][2]
            if not handle.alive:
                heapq.heappop(highs)
                self._dead -= 1
            elif mid > handle.high:
                heapq.heappop(highs)
                handle.alive = False
                self._live -= 1
                self._dead += 1  # its entry in the lows heap
                if fired is None:
                    fired = []
                fired.append(handle)
            else:
                break
        if fired is not None:
            self._maybe_compact()
        return fired

    def _maybe_compact(self) -> None:
        if self._dead > _COMPACT_MIN_DEAD and self._dead > self._live:
            self._lows = [e for e in self._lows if e[2].alive]
            self._highs = [e for e in self._highs if e[2].alive]
            heapq.heapify(self._lows)
            heapq.heapify(self._highs)
            self._dead = 0

    def entries(self) -> int:
        """Heap entries held, live or dead (for tests of the memory bound)."""
        return len(self._lows) + len(self._highs)
