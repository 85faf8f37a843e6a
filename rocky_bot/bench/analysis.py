"""From what the exchange recorded to the fleet's latencies: requote and refill.

Pure functions over the probe's document (see `probe.Recorder`); times are `time.time()` seconds
from the exchange process. Only events inside the measurement window are judged; an event whose
answer never came is counted up to the window's end, never dropped.

The bench judges bands with its own arithmetic (`band` below), never with the bot's
`quoting.band`: a bug in the bot must not hide in its own judge.

Definitions (README, Performance):
- A maker *segment* is one price an order rested at: from its acceptance (NEW) or amendment to
  its next amendment, fill or cancel. Its *band* is the mids for which that price is within the
  level's drift of its target `mid·(1 ∓ offset)`.
- Requote latency: from the first tick whose mid leaves the segment's band to the exchange
  accepting the level's next order (NEW or AMENDMENT). An exit with no answer by the window's end
  counts as (window end − exit). A level whose order was cancelled and that was then cap-gated
  (seen from outside: one more order would pass its cap) owes no replacement; those are counted
  apart. Detail: `from_last_exit` measures from the last exit before the answer instead (the
  mid may have come back in and gone out again), and `transient_exits` are excursions the mid
  undid before any answer.
- Refill latency: a maker fill on a level → the level's next accepted order; unrefilled fills
  count up to the window's end; fills after which the level is cap-gated owe no refill.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rocky_bot.funnel import parse_account_id, qty_for

LevelKey = tuple[str, str, str]  # account, symbol, side
#: A fill's ACCOUNT_UPDATE is emitted right after its ORDER_TRADE_UPDATE: within this, it is
#: the position that fill left.
UPDATE_LAG_S = 0.05


@dataclass(frozen=True, slots=True)
class Level:
    account: str
    symbol: str
    side: str  # "BUY" | "SELL"
    offset_bps: Decimal
    drift_bps: Decimal
    qty: Decimal | None = None  # its own size, as the fleet published it (None: the spec's)

    @property
    def key(self) -> LevelKey:
        return (self.account, self.symbol, self.side)


@dataclass(slots=True)
class Segment:
    level: LevelKey
    start: float
    price: float
    end: float | None = None
    how: str = "open"  # amended | filled | cancelled | open


def band(price: float, side: str, offset_bps: float, drift_bps: float) -> tuple[float, float]:
    """The mids for which an order at `price` is within `drift_bps` of its target.

    target = mid·k with k = 1 − offset (BUY) or 1 + offset (SELL); |price − target| ≤ d·target
    ⇔ price/(k(1+d)) ≤ mid ≤ price/(k(1−d)).
    """
    k = 1 - (1 if side == "BUY" else -1) * offset_bps * 1e-4
    d = drift_bps * 1e-4
    return price / (k * (1 + d)), price / (k * (1 - d))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


def summary(values: Sequence[float], *qs: float, scale: float = 1.0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in qs:
        v = percentile(values, q)
        out[f"p{q:g}"] = None if v is None else round(v * scale, 3)
    out["max"] = round(max(values) * scale, 3) if values else None
    out["n"] = len(values)
    return out


# --- order events -------------------------------------------------------------------------------


@dataclass(slots=True)
class Timeline:
    segments: list[Segment]
    accepts: dict[LevelKey, list[float]]  # times an order was accepted/amended, per level
    maker_fills: dict[LevelKey, list[float]]
    prints: dict[str, list[float]]  # symbol → time of each taker order's first fill


def timeline(events: Iterable[Sequence[Any]], levels: set[LevelKey]) -> Timeline:
    open_segments: dict[int, Segment] = {}
    segments: list[Segment] = []
    accepts: dict[LevelKey, list[float]] = {k: [] for k in levels}
    fills: dict[LevelKey, list[float]] = {k: [] for k in levels}
    prints: dict[str, list[float]] = {}
    printed: set[tuple[str, int]] = set()
    for t, account, symbol, side, x, status, oid, price, maker, _trade in events:
        if x == "TRADE" and not maker and (symbol, oid) not in printed:
            printed.add((symbol, oid))
            prints.setdefault(symbol, []).append(t)
        key = (account, symbol, side)
        if key not in accepts:
            continue
        if x in ("NEW", "AMENDMENT"):
            old = open_segments.pop(oid, None)
            if old is not None:
                old.end, old.how = t, "amended"
            seg = Segment(key, t, price)
            segments.append(seg)
            open_segments[oid] = seg
            accepts[key].append(t)
        elif x == "TRADE":
            if maker:
                fills[key].append(t)
            if status == "FILLED":
                seg = open_segments.pop(oid, None)
                if seg is not None:
                    seg.end, seg.how = t, "filled"
        elif x in ("CANCELED", "EXPIRED"):
            seg = open_segments.pop(oid, None)
            if seg is not None:
                seg.end, seg.how = t, "cancelled"
    return Timeline(segments, accepts, fills, prints)


def _next_after(times: list[float], t: float) -> float | None:
    i = bisect_right(times, t)
    return times[i] if i < len(times) else None


def _exits(
    ts: list[float], ms: list[float], low: float, high: float, i: int, end: float
) -> list[tuple[float, float | None]]:
    """Runs of ticks with the mid outside [low, high] among ts[i:] before `end`: (out, back)."""
    runs: list[tuple[float, float | None]] = []
    start = None
    while i < len(ts) and ts[i] < end:
        outside = not low <= ms[i] <= high
        if outside and start is None:
            start = ts[i]
        elif not outside and start is not None:
            runs.append((start, ts[i]))
            start = None
        i += 1
    if start is not None:
        runs.append((start, None))
    return runs


def would_be_cap_gated(level: Level, position: float, mid: float, cap: float | None) -> bool:
    """The cap gate, seen from outside: would one more order on this side pass the cap?"""
    sign = 1 if level.side == "BUY" else -1
    qty = float(level.qty or qty_for(parse_account_id(level.account).layer, level.symbol))
    return cap is not None and sign * (position + sign * qty) * mid > cap


class Positions:
    """Each account's position per symbol over time (the exchange's ACCOUNT_UPDATEs)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._times: dict[tuple[str, str], list[float]] = {}
        self._amounts: dict[tuple[str, str], list[float]] = {}
        for t, account, symbol, amount in rows:
            self._times.setdefault((account, symbol), []).append(t)
            self._amounts.setdefault((account, symbol), []).append(amount)

    def at(self, account: str, symbol: str, t: float) -> float:
        """The position at `t`, counting the update a fill at `t` sends right after it."""
        times = self._times.get((account, symbol))
        i = bisect_right(times, t + UPDATE_LAG_S) - 1 if times else -1
        return self._amounts[(account, symbol)][i] if i >= 0 else 0.0


class Mids:
    """The reference mid at any time, from the recorded ticks."""

    def __init__(self, ticks: dict[str, list[Sequence[float]]]) -> None:
        self.times = {s: [r[0] for r in rows] for s, rows in ticks.items()}
        self.values = {s: [r[1] for r in rows] for s, rows in ticks.items()}

    def at(self, symbol: str, t: float) -> float | None:
        i = bisect_right(self.times.get(symbol, []), t) - 1
        return self.values[symbol][i] if i >= 0 else None


@dataclass(frozen=True, slots=True)
class Judge:
    """What every latency needs: the window, the levels, positions, mids and caps."""

    window: tuple[float, float]
    levels: dict[LevelKey, Level]
    positions: Positions
    mids: Mids
    caps: dict[str, float]

    def gated(self, key: LevelKey, t: float) -> bool:
        level, mid = self.levels[key], self.mids.at(key[1], t)
        position = self.positions.at(key[0], key[1], t)
        return mid is not None and would_be_cap_gated(level, position, mid, self.caps.get(key[0]))


def requote_latencies(tl: Timeline, judge: Judge) -> dict[str, Any]:
    """First band exit → the level's next accepted order (see the module docstring)."""
    w0, w1 = judge.window
    first: list[float] = []
    last: list[float] = []
    transient: list[float] = []
    unanswered = gated = 0
    for seg in tl.segments:
        level = judge.levels[seg.level]
        low, high = band(seg.price, level.side, float(level.offset_bps), float(level.drift_bps))
        ts, ms = judge.mids.times.get(level.symbol, []), judge.mids.values.get(level.symbol, [])
        end = seg.end if seg.end is not None else float("inf")
        runs = _exits(ts, ms, low, high, bisect_right(ts, seg.start), end)
        if not runs or not w0 <= runs[0][0] <= w1:
            continue
        exit_at = runs[0][0]
        answer = _next_after(tl.accepts[seg.level], exit_at)
        pulled = seg.how == "cancelled" and (answer is None or answer > end)
        if pulled and judge.gated(seg.level, end):
            gated += 1
            continue
        if answer is None or answer > w1:
            unanswered += 1
            first.append(w1 - exit_at)
            continue
        first.append(answer - exit_at)
        before = [r for r in runs if r[0] < answer]
        last.append(answer - before[-1][0])
        transient += [b - a for a, b in before[:-1] if b is not None]
    return {
        **summary(first, 50, 99, scale=1000),
        "unanswered": unanswered,
        "cap_gated": gated,
        "from_first_exit": summary(first, 50, 99, scale=1000),
        "from_last_exit": summary(last, 50, 99, scale=1000),
        "transient_exits": summary(transient, 50, 99, scale=1000),
    }


def refill_latencies(tl: Timeline, judge: Judge) -> dict[str, Any]:
    """Maker fill → the level's next accepted order; unrefilled fills count to the window's end;
    fills after which the level is cap-gated owe no refill (DESIGN.md §1) and are counted apart."""
    w0, w1 = judge.window
    lat: list[float] = []
    unrefilled = gated = 0
    for key, fills in tl.maker_fills.items():
        accepts = tl.accepts[key]
        for t in fills:
            if not w0 <= t <= w1:
                continue
            if judge.gated(key, t):
                gated += 1
                continue
            nxt = _next_after(accepts, t)
            if nxt is None or nxt > w1:
                unrefilled += 1
                lat.append(w1 - t)
            else:
                lat.append(nxt - t)
    return {**summary(lat, 50, 99, scale=1000), "unrefilled": unrefilled, "cap_gated": gated}
