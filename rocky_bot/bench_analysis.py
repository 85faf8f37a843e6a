"""From what the exchange recorded to the fleet's figures: latencies, uptime, book, trades.

Pure functions over the probe's document (see `bench_probe.Recorder`); times are `time.time()`
seconds from the exchange process. Only events inside the measurement window are judged, but
the data after it is used to find the replacement of a quote that left its band near the end.

Definitions (DESIGN.md §5, issue 6):
- A maker *segment* is one price an order rested at: from its acceptance (NEW) or amendment to
  its next amendment, fill or cancel. Its *band* is `quoting.band(price, side, offset, drift)`
  with the account's own (jittered) drift: the mids for which the order is within drift.
- Requote latency: the first tick whose mid is outside the segment's band → the next order
  accepted for that level (NEW or AMENDMENT). `from_last_exit` measures from the start of the
  last out-of-band run before the replacement (the mid may have come back in between).
- Refill latency: a maker fill on a level → the next order accepted for that level.
- Uptime: per level and 1-s sample, "an order within 2× the level's drift of target".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from rocky_bot.exchange.models import Side
from rocky_bot.funnel import parse_account_id, qty_for
from rocky_bot.strategies.quoting import band

LevelKey = tuple[str, str, str]  # account, symbol, side


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


def requote_latencies(
    tl: Timeline,
    ticks: dict[str, list[Sequence[float]]],
    levels: dict[LevelKey, Level],
    window: tuple[float, float],
) -> dict[str, Any]:
    times = {s: [t for t, _ in rows] for s, rows in ticks.items()}
    mids = {s: [m for _, m in rows] for s, rows in ticks.items()}
    first: list[float] = []
    last: list[float] = []
    unreplaced = 0
    w0, w1 = window
    for seg in tl.segments:
        level = levels[seg.level]
        low_d, high_d = band(
            Decimal(repr(seg.price)), Side(level.side), level.offset_bps, level.drift_bps
        )
        low, high = float(low_d), float(high_d)
        ts, ms = times.get(level.symbol, []), mids.get(level.symbol, [])
        end = seg.end if seg.end is not None else float("inf")
        i = bisect_right(ts, seg.start)
        while i < len(ts) and ts[i] < end and low <= ms[i] <= high:
            i += 1
        if i >= len(ts) or ts[i] >= end or not w0 <= ts[i] <= w1:
            continue
        exit_t = ts[i]
        replaced = _next_after(tl.accepts[seg.level], exit_t)
        if replaced is None:
            unreplaced += 1
            continue
        run_start = exit_t
        outside = True
        while i < len(ts) and ts[i] < replaced:
            now_out = not low <= ms[i] <= high
            if now_out and not outside:
                run_start = ts[i]
            outside = now_out
            i += 1
        first.append(replaced - exit_t)
        last.append(replaced - run_start)
    return {
        **summary(first, 50, 99, scale=1000),
        "unreplaced": unreplaced,
        "from_last_exit": summary(last, 50, 99, scale=1000),
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


# --- 1-s samples ------------------------------------------------------------------------------


def in_window(samples: list[dict[str, Any]], window: tuple[float, float]) -> list[dict[str, Any]]:
    return [s for s in samples if window[0] <= s["t"] <= window[1]]


def uptime(
    samples: list[dict[str, Any]], levels: list[Level], caps: dict[str, float]
) -> dict[str, Any]:
    """Share of samples each level had an order within 2× its drift of target."""
    up = {lv.key: 0 for lv in levels}
    gated = {lv.key: 0 for lv in levels}
    down_kinds = {"no_order": 0, "off_target": 0, "cap_gated": 0}
    full = 0
    for s in samples:
        all_up = True
        for lv in levels:
            mid = s["mids"][lv.symbol]
            sign = 1 if lv.side == "BUY" else -1
            target = mid * (1 - sign * float(lv.offset_bps) * 1e-4)
            tolerance = 2 * float(lv.drift_bps) * 1e-4
            prices = [
                p
                for sym, side, p in s["orders"].get(lv.account, ())
                if sym == lv.symbol and side == lv.side
            ]
            if any(abs(p - target) / target <= tolerance for p in prices):
                up[lv.key] += 1
                continue
            all_up = False
            position = s["positions"].get(lv.account, {}).get(lv.symbol, 0.0)
            if would_be_cap_gated(lv, position, mid, caps.get(lv.account)):
                down_kinds["cap_gated"] += 1
                gated[lv.key] += 1
            else:
                down_kinds["no_order" if not prices else "off_target"] += 1
        full += all_up
    n = len(samples)
    shares = {k: (v / n if n else None) for k, v in up.items()}
    owed = {k: v / (n - gated[k]) for k, v in up.items() if n - gated[k] > 0}
    worst = sorted((v, "/".join(k)) for k, v in shares.items() if v is not None)[:5]
    return {
        "quote_uptime": round(sum(shares.values()) / len(shares), 5) if n and shares else None,
        "full_funnel_share": round(full / n, 5) if n else None,
        # the same, not counting samples in which the cap gate kept the level empty by design
        "quote_uptime_excl_cap_gated": round(sum(owed.values()) / len(owed), 5) if owed else None,
        "samples": n,
        "levels": len(levels),
        "down_samples": down_kinds,
        "worst_levels": [{"level": k, "uptime": round(v, 4)} for v, k in worst],
    }


def book_figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    spreads: dict[str, list[float]] = {}
    depth: list[int] = []
    one_sided = 0
    for s in samples:
        for symbol, (bid, ask, bid_levels, ask_levels) in s["books"].items():
            depth += [bid_levels, ask_levels]
            if bid is None or ask is None:
                one_sided += 1
                continue
            spreads.setdefault(symbol, []).append((ask - bid) / ((ask + bid) / 2) * 1e4)
    pooled = [v for vs in spreads.values() for v in vs]
    return {
        "inside_spread_bps": {
            **{k: v for k, v in summary(pooled, 50, 95).items() if k in ("p50", "p95", "max")},
            "by_symbol": {sym: summary(vs, 50, 95) for sym, vs in spreads.items()},
            "one_sided_samples": one_sided,
        },
        "levels_per_side": {
            "min": min(depth) if depth else None,
            "p50": percentile(depth, 50),
        },
    }


def trade_figures(
    prints: dict[str, list[float]], symbols: Iterable[str], window: tuple[float, float]
) -> dict[str, Any]:
    w0, w1 = window
    per_symbol = {}
    empty = 0
    minutes = 0
    for symbol in symbols:
        times = sorted(t for t in prints.get(symbol, ()) if w0 <= t <= w1)
        gaps = [b - a for a, b in pairwise(times)]
        edges = [times[0] - w0, w1 - times[-1]] if times else [w1 - w0]
        fig = summary(gaps, 50, 95)
        fig["max"] = round(max([*gaps, *edges]), 3)
        fig["trades_per_min"] = round(len(times) / ((w1 - w0) / 60), 2)
        per_symbol[symbol] = fig
        m = (int(w0) // 60 + 1) * 60
        while m + 60 <= w1:
            minutes += 1
            i = bisect_left(times, m)
            if i >= len(times) or times[i] >= m + 60:
                empty += 1
            m += 60
    return {"trade_interval_s": per_symbol, "empty_kline_minutes": empty, "full_minutes": minutes}


def max_exposure_ratio(samples: list[dict[str, Any]], caps: dict[str, float]) -> dict[str, Any]:
    worst, where = 0.0, None
    for s in samples:
        for account, held in s["positions"].items():
            cap = caps.get(account)
            if not cap:
                continue
            for symbol, amount in held.items():
                ratio = abs(amount * s["mids"][symbol]) / cap
                if ratio > worst:
                    worst, where = ratio, f"{account}/{symbol}"
    return {"max_exposure_ratio": round(worst, 4), "worst": where}
