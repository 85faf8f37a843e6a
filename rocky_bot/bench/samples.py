"""The bench's figures from the exchange's 1-s samples, its trade prints and its fills.

Uptime per funnel level, inside spread and depth (a sample with one side of the book empty is a
miss, worse than any spread), trade intervals and empty klines, and the worst position against
its cap from the position the exchange reported after every fill. Pure functions over the
probe's document (`probe.Recorder`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from rocky_bot.bench.analysis import Level, Mids, percentile, summary, would_be_cap_gated


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


MISS = float("inf")


def spread_summary(spreads: list[float]) -> dict[str, Any]:
    """p50/p95 where a miss (`inf`: a side empty) ranks above every spread; a percentile that
    lands on a miss is None (no spread to show, and the target is missed)."""
    out = {}
    for q in (50, 95):
        v = percentile(spreads, q)
        out[f"p{q}"] = None if v is None or v == MISS else round(v, 3)
    real = [v for v in spreads if v != MISS]
    out["max"] = round(max(real), 3) if real else None
    out["n"] = len(spreads)
    out["misses"] = len(spreads) - len(real)
    return out


def depth_summary(depth: list[int]) -> dict[str, Any]:
    return {
        "min": min(depth) if depth else None,
        "p5": percentile(depth, 5),
        "p50": percentile(depth, 50),
    }


def book_figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    spreads: dict[str, list[float]] = {}
    depths: dict[str, list[int]] = {}
    for s in samples:
        for symbol, (bid, ask, bid_levels, ask_levels) in s["books"].items():
            depths.setdefault(symbol, []).extend((bid_levels, ask_levels))
            one_sided = bid is None or ask is None
            spread = MISS if one_sided else (ask - bid) / ((ask + bid) / 2) * 1e4
            spreads.setdefault(symbol, []).append(spread)
    pooled = [v for vs in spreads.values() for v in vs]
    depth = [n for ns in depths.values() for n in ns]
    return {
        "inside_spread_bps": {
            **spread_summary(pooled),
            "by_symbol": {sym: spread_summary(vs) for sym, vs in spreads.items()},
            "one_sided_samples": sum(v == MISS for v in pooled),
        },
        # Fewest distinct prices on a side: adjacent L1 levels are 1 bps apart and each may drift
        # 2 bps, so two of them sometimes share a tick for a second; p5 says how often.
        "levels_per_side": {
            **depth_summary(depth),
            "by_symbol": {sym: depth_summary(ns) for sym, ns in depths.items()},
        },
    }


def trade_figures(
    prints: dict[str, list[float]], symbols: Iterable[str], window: tuple[float, float]
) -> dict[str, Any]:
    w0, w1 = window
    per_symbol = {}
    empty = 0
    minutes = 0
    empty_by_symbol: dict[str, int] = {}
    for symbol in symbols:
        empty_before = empty
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
        empty_by_symbol[symbol] = empty - empty_before
    return {
        "trade_interval_s": per_symbol, "empty_kline_minutes": empty, "full_minutes": minutes,
        "empty_kline_minutes_by_symbol": empty_by_symbol,
    }  # fmt: skip


def max_exposure_ratio(
    positions: list[Sequence[Any]], mids: Mids, caps: dict[str, float], window: tuple[float, float]
) -> dict[str, Any]:
    """The worst |position · mid| / cap, over every position the exchange reported after a fill
    inside the window (not a 1-s sample that can fall between a fill and its unwind)."""
    worst, where, seen = 0.0, None, 0
    for t, account, symbol, amount in positions:
        cap = caps.get(account)
        mid = mids.at(symbol, t)
        if not cap or mid is None or not window[0] <= t <= window[1]:
            continue
        seen += 1
        ratio = abs(amount * mid) / cap
        if ratio > worst:
            worst, where = ratio, f"{account}/{symbol}"
    return {"max_exposure_ratio": round(worst, 4), "worst": where, "position_updates": seen}
