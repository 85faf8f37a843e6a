"""From what the exchange recorded to the fleet's figures: latencies, uptime, book, trades.

Pure functions over the probe's document (see `bench_probe.Recorder`); times are `time.time()`
seconds from the exchange process. Only events inside the measurement window are judged, but
the data after it is used to find the replacement of a quote that left its band near the end.

Definitions (DESIGN.md §5, issue 6):
- A maker *segment* is one price an order rested at: from its acceptance (NEW) or amendment to
  its next amendment, fill or cancel. Its *band* is `quoting.band(price, side, offset, drift)`
  with the account's own (jittered) drift: the mids for which the order is within drift.
- Requote latency: from the first tick of an *out-of-band episode* (a run of ticks whose mid is
  outside the segment's band) to the next order accepted for that level (NEW or AMENDMENT),
  for the last episode before that replacement. An earlier episode that ended with the mid
  back inside the band before any reaction is *transient*: holding was right (the fleet waits
  `min_requote_interval_s` between iterations), and its duration is reported separately, so a
  fleet that sat on drifted quotes shows up there. `from_first_exit` measures from the first
  episode instead (an upper bound).
- Refill latency: a maker fill on a level → the next order accepted for that level.
- Uptime: per level and 1-s sample, "an order within 2× the level's drift of target".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rocky_bot.exchange.models import Side
from rocky_bot.funnel import parse_account_id, qty_for
from rocky_bot.strategies.quoting import band

LevelKey = tuple[str, str, str]  # account, symbol, side
#: A replacement accepted this soon after the mid came back still answers that band exit
#: (the fleet decided while the mid was outside; its request was on the way).
ANSWER_GRACE_S = 0.5


@dataclass(frozen=True, slots=True)
class Level:
    account: str
    symbol: str
    side: str  # "BUY" | "SELL"
    offset_bps: Decimal
    drift_bps: Decimal

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


def _episodes(
    ts: list[float], ms: list[float], low: float, high: float, i: int, end: float
) -> list[tuple[float, float | None]]:
    """Runs of ticks with the mid outside [low, high] among ts[i:] before `end`: (start, back)."""
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


def requote_latencies(
    tl: Timeline,
    ticks: dict[str, list[Sequence[float]]],
    levels: dict[LevelKey, Level],
    window: tuple[float, float],
) -> dict[str, Any]:
    """Band exit → accepted replacement, per out-of-band episode (see the module docstring).

    The replacement answers the *last* episode before it; earlier episodes of the same quote
    ended with the mid back inside the band before the fleet requoted ("transient": holding
    was right, and their durations show how long the fleet let a drifted quote stand).
    """
    times = {s: [t for t, _ in rows] for s, rows in ticks.items()}
    mids = {s: [m for _, m in rows] for s, rows in ticks.items()}
    first: list[float] = []
    last: list[float] = []
    transient: list[float] = []
    unreplaced = 0
    w0, w1 = window
    for seg in tl.segments:
        level = levels[seg.level]
        low_d, high_d = band(
            Decimal(repr(seg.price)), Side(level.side), level.offset_bps, level.drift_bps
        )
        ts, ms = times.get(level.symbol, []), mids.get(level.symbol, [])
        end = seg.end if seg.end is not None else float("inf")
        runs = _episodes(ts, ms, float(low_d), float(high_d), bisect_right(ts, seg.start), end)
        if not runs:
            continue
        start, back = runs[-1]
        replaced = _next_after(tl.accepts[seg.level], start)
        answered = replaced is not None and (back is None or replaced <= back + ANSWER_GRACE_S)
        for a, b in runs if not answered else runs[:-1]:
            if b is not None and w0 <= a <= w1:
                transient.append(b - a)
        if not w0 <= start <= w1:
            continue
        if answered:
            assert replaced is not None
            last.append(replaced - start)
            first.append(replaced - runs[0][0])
        elif back is None:
            unreplaced += 1
    return {
        **summary(last, 50, 99, scale=1000),
        "unreplaced": unreplaced,
        "from_first_exit": summary(first, 50, 99, scale=1000),
        "transient_exits": summary(transient, 50, 99, scale=1000),
    }


def would_be_cap_gated(level: Level, position: float, mid: float, cap: float | None) -> bool:
    """The cap gate, seen from outside: would one more order on this side pass the cap?"""
    sign = 1 if level.side == "BUY" else -1
    qty = float(qty_for(parse_account_id(level.account).layer, level.symbol))
    return cap is not None and sign * (position + sign * qty) * mid > cap


class Positions:
    """Each account's position per symbol over time (the exchange's ACCOUNT_UPDATEs)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._times: dict[tuple[str, str], list[float]] = {}
        self._amounts: dict[tuple[str, str], list[float]] = {}
        for t, account, symbol, amount in rows:
            self._times.setdefault((account, symbol), []).append(t)
            self._amounts.setdefault((account, symbol), []).append(amount)

    def after_fill(self, account: str, symbol: str, t: float) -> float:
        """The position the fill at `t` left (its ACCOUNT_UPDATE follows the fill at once)."""
        times = self._times.get((account, symbol))
        if not times:
            return 0.0
        i = bisect_left(times, t)
        return self._amounts[(account, symbol)][min(i, len(times) - 1)]


def mid_at(ticks: dict[str, list[Sequence[float]]], symbol: str, t: float) -> float | None:
    rows = ticks.get(symbol) or []
    i = bisect_right([r[0] for r in rows], t) - 1
    return rows[i][1] if i >= 0 else None


def refill_latencies(
    tl: Timeline,
    window: tuple[float, float],
    *,
    levels: dict[LevelKey, Level],
    positions: Positions,
    ticks: dict[str, list[Sequence[float]]],
    caps: dict[str, float],
) -> dict[str, Any]:
    """Fill → next accepted order on the level; fills that leave the level cap-gated are not
    refills the fleet owes (DESIGN.md §1: the gate places nothing) and are counted apart."""
    w0, w1 = window
    lat: list[float] = []
    unrefilled = gated = 0
    for key, fills in tl.maker_fills.items():
        level = levels[key]
        accepts = tl.accepts[key]
        for t in fills:
            if not w0 <= t <= w1:
                continue
            mid = mid_at(ticks, level.symbol, t)
            position = positions.after_fill(level.account, level.symbol, t)
            if mid is not None and would_be_cap_gated(level, position, mid, caps.get(key[0])):
                gated += 1
                continue
            nxt = _next_after(accepts, t)
            if nxt is None:
                unrefilled += 1
            else:
                lat.append(nxt - t)
    return {**summary(lat, 50, 99, scale=1000), "unrefilled": unrefilled, "cap_gated": gated}
