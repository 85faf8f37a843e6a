"""The soak's figures and verdict, from the exchange's tally, the fleet's log and /proc samples.

Pure functions (no I/O but reading the fleet's log file), so the report of a kept run can be
computed again and each figure is tested on made-up data. Targets (issue 10, DESIGN.md §5) for
`--days 7 --duration 3600`: no dead minute, no drawdown trip, the funnel full in ≥ 95 % of the
1-s samples, RSS slope ≤ 1 MB/h from minute 5, exit 0 with an empty book.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import Counter
from pathlib import Path
from typing import Any

from rocky_bot.funnel import parse_account_id

FULL_FUNNEL_TARGET = 0.95
RSS_SLOPE_TARGET_MB_H = 1.0
RSS_SLOPE_FROM_S = 300.0


def dead_minutes(trades: dict[str, dict[str, int]], symbols: list[str], t0: float, t1: float):
    """Per symbol, how many whole 1-minute windows of [t0, t1) saw no trade at all."""
    minutes = int((t1 - t0) // 60)
    out = {}
    for symbol in symbols:
        seconds = sorted(int(s) for s, n in trades.get(symbol, {}).items() if n > 0)
        dead = 0
        for k in range(minutes):
            start, end = t0 + 60 * k, t0 + 60 * (k + 1)
            i = bisect_left(seconds, start)
            if i == len(seconds) or seconds[i] >= end:
                dead += 1
        out[symbol] = dead
    return out, minutes


def funnel_share(samples: dict[str, list[str]], t0: float, t1: float) -> dict[str, Any]:
    """Share of the window's 1-s samples in which every maker level rested an order on its side,
    and the levels missing most often."""
    inside = {int(t): missing for t, missing in samples.items() if t0 <= int(t) < t1}
    missing = Counter(name for names in inside.values() for name in names)
    full = sum(1 for names in inside.values() if not names)
    return {
        "full_funnel_share": round(full / len(inside), 5) if inside else None,
        "samples": len(inside),
        "most_missing": dict(missing.most_common(5)),
    }


def rss_slope(points: list[tuple[float, float]], t0: float, from_s: float = RSS_SLOPE_FROM_S):
    """Least-squares slope of RSS (MB) against time, in MB per hour, from `t0 + from_s` on."""
    pts = [(t, mb) for t, mb in points if t >= t0 + from_s]
    if len(pts) < 3:
        return None
    n = len(pts)
    mean_t = sum(t for t, _ in pts) / n
    mean_m = sum(m for _, m in pts) / n
    var = sum((t - mean_t) ** 2 for t, _ in pts)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (m - mean_m) for t, m in pts)
    return round(cov / var * 3600, 3)


#: Log events that come with each funding: the soak funds `compression` times as often as
#: production, so their share of the volume is scaled back for the production estimate.
FUNDING_EVENTS = frozenset({"wallet_deposit_seen", "wallet_low"})


def log_figures(
    log: Path, start: int, end: int, window_s: float, compression: float = 1.0
) -> dict[str, Any]:
    """The fleet's log: trips per kind over the whole run; volume and top events in the window
    (bytes `start`..`end` of the file), and the volume at production's funding pace."""
    trips: Counter[str] = Counter()
    events: Counter[str] = Counter()
    lines = 0
    funding_bytes = 0
    offset = 0
    with log.open("rb") as f:
        for raw in f:
            line_start, offset = offset, offset + len(raw)
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = {}
            if doc.get("event") == "breaker_tripped":
                trips[str(doc.get("kind"))] += 1
            if start <= line_start < end:
                lines += 1
                events[str(doc.get("event", "?"))] += 1
                if doc.get("event") in FUNDING_EVENTS:
                    funding_bytes += len(raw)
    per_day = 86400 / window_s if window_s > 0 else 0.0
    production = end - start - funding_bytes + funding_bytes / compression
    return {
        "breaker_trips": dict(trips),
        "log_mb_per_day": round((end - start) * per_day / 1e6, 2),
        "log_mb_per_day_at_hourly_funding": round(production * per_day / 1e6, 2),
        "log_lines_per_min": round(lines * per_day / 1440, 1),
        "log_kb_per_min": round((end - start) * per_day / 1440 / 1e3, 1),
        "log_top_events": dict(events.most_common(8)),
    }


def per_role(
    accounts: dict[str, dict[str, float]],
    fee_multiplier: float,
    span_s: float,
    ids: list[str] | None = None,
):
    """What each role gains or loses per account per day *at the exchange's real fees*: the
    soak charged fees × `fee_multiplier`, so its fees are divided back; PnL is realized PnL.
    `ids`: every account of the fleet (one that never traded counts, at zero)."""
    zero = {"fees": 0.0, "realized": 0.0, "notional": 0.0, "fills": 0}
    everyone = {**dict.fromkeys(ids or (), zero), **accounts}
    groups: dict[str, list[dict[str, float]]] = {}
    for name, row in everyone.items():
        try:
            layer = parse_account_id(name).layer.value
        except ValueError:
            continue
        groups.setdefault(layer, []).append(row)
    per_day = 86400 / span_s if span_s > 0 else 0.0
    out = {}
    for layer, rows in sorted(groups.items()):
        n = len(rows)
        fees = sum(r["fees"] for r in rows) / fee_multiplier / n * per_day
        pnl = sum(r["realized"] for r in rows) / n * per_day
        notional = sum(r["notional"] for r in rows) / n * per_day
        out[layer] = {
            "accounts": n,
            "notional_per_day": round(notional, 0),
            "fees_per_day": round(fees, 2),
            "realized_pnl_per_day": round(pnl, 2),
            "change_per_day": round(pnl - fees, 2),
            "cost_bps": round((fees - pnl) / notional * 1e4, 2) if notional else None,
        }
    return out


def targets(report: dict[str, Any]) -> dict[str, bool]:
    """Each target met or not; the RSS slope is judged only on runs long enough to have one
    (it is measured from minute 5)."""
    slope = report["rss_slope_mb_per_h"]
    share = report["full_funnel_share"]
    judged = {
        "no_dead_minute": sum(report["dead_minutes"].values()) == 0,
        "no_drawdown_trip": report["breaker_trips"].get("drawdown", 0) == 0,
        "funnel_full_95": share is not None and share >= FULL_FUNNEL_TARGET,
        "exit_0_empty_book": report["exit_code"] == 0 and report["open_orders_left"] == 0,
    }
    if report["minutes"] * 60 >= RSS_SLOPE_FROM_S + 600:
        judged["rss_slope_le_1mb_h"] = slope is not None and slope <= RSS_SLOPE_TARGET_MB_H
    return judged


def format_table(report: dict[str, Any]) -> str:
    rows = [
        ("simulated days", report["simulated_days"]),
        ("dead minutes (per symbol)", report["dead_minutes"]),
        ("breaker trips (per kind)", report["breaker_trips"] or "none"),
        ("fundings", report["fundings"]),
        ("min wallet (USD)", report["min_wallet_usd"]),
        ("RSS max / slope from min 5", f"{report['rss_mb_max']} MB / "
                                        f"{report['rss_slope_mb_per_h']} MB/h"),
        ("log volume", f"{report['log_mb_per_day']} MB/day, "
                       f"{report['log_lines_per_min']} lines/min"),
        ("full funnel share", report["full_funnel_share"]),
        ("exit code / orders left", f"{report['exit_code']} / {report['open_orders_left']}"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    missed = [name for name, ok in report["targets"].items() if not ok]
    lines.append("targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)))
    return "\n".join(lines)
