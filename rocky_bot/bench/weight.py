"""Request weight from the exchange's record of every request: per minute, at start, at restart.

Weight is counted twice from the one table (`rocky_bot.binance_api.weights`): as the exchange
charged it (Binance's weights: placing and modifying cost 0) and with every order action (place,
modify, cancel) at 1, how Rocky's budget is planned since it does not publish what it charges
(DESIGN.md §7).

Periodic calls are counted honestly however the window falls: a duty with period P done by N
account×symbol pairs costs N·weight·60/P a minute, and each periodic endpoint counts at least
that share of the window (the dead-man heartbeat every 180 s, or the 300 s wallet read, would
otherwise fall inside a 120 s window once or never). N is how many such calls the fleet made
while it set itself up, when every duty runs once.

A request is one row of `probe.Recorder.requests`: (t, method, path, has_symbol, status, account).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rocky_bot.binance_api.weights import COSTS, with_symbol

#: Order actions by (method, path), from the table.
ACTIONS = {key: cost.action for key, cost in COSTS.items() if cost.action}


@dataclass(frozen=True, slots=True)
class Periodic:
    """A duty the fleet repeats every `period_s`; `count_from` names the set-up call that tells
    how many account×symbol pairs do it (a keepalive's count is its listenKey's creation)."""

    method: str
    path: str
    period_s: float
    count_from: tuple[str, str] | None = None


def weights(row: Sequence[Any]) -> tuple[int, int]:
    """(as charged, order actions at 1) of one recorded request; 0 for calls not Binance's."""
    cost = COSTS.get((row[1], row[2]))
    if cost is None:
        return 0, 0
    params = with_symbol(bool(row[3]))
    return cost.ip_weight(params), cost.weight_at_1(params)


def fleet_rows(requests: Iterable[Sequence[Any]], start: float, end: float) -> list[Sequence[Any]]:
    """The fleet's requests in [start, end] (onboarding calls are the bench's, not the fleet's)."""
    return [r for r in requests if start <= r[0] <= end and not r[2].startswith("/admin/")]


def by_source(requests: Iterable[Sequence[Any]]) -> dict[str, list[Sequence[Any]]]:
    """The fleet's requests by the address they came from (one per shard; "" if unrecorded)."""
    out: dict[str, list[Sequence[Any]]] = {}
    for r in requests:
        if not r[2].startswith("/admin/"):
            out.setdefault(r[6] if len(r) > 6 else "", []).append(r)
    return out


def rolling_peak(rows: Sequence[Sequence[Any]], ends: tuple[float, float]) -> dict[str, Any]:
    """The most weight in any 60-s window ending in [ends[0], ends[1]], counted both ways."""
    rows = sorted(rows, key=lambda r: r[0])
    out: dict[str, Any] = {}
    for name, which in (("orders_at_1", 1), ("as_charged", 0)):
        best, best_at, total, lo = 0, None, 0, 0
        for r in rows:
            total += weights(r)[which]
            while rows[lo][0] <= r[0] - 60:
                total -= weights(rows[lo])[which]
                lo += 1
            if ends[0] <= r[0] <= ends[1] and total > best:
                best, best_at = total, r[0]
        out[name] = best
        out[f"{name}_at_s"] = None if best_at is None else round(best_at - ends[0], 1)
    return out


def per_minute(
    requests: Sequence[Sequence[Any]],
    window: tuple[float, float],
    *,
    setup: tuple[float, float],
    periodic: Sequence[Periodic] = (),
) -> dict[str, Any]:
    """The window's weight and requests per minute, periodic duties counted at least pro rata."""
    w0, w1 = window
    minutes = (w1 - w0) / 60
    rows = fleet_rows(requests, w0, w1)
    counts: Counter[tuple[str, str, int]] = Counter((r[1], r[2], r[3]) for r in rows)
    charged = sum(weights(r)[0] for r in rows)
    at_1 = sum(weights(r)[1] for r in rows)
    set_up = Counter((r[1], r[2]) for r in fleet_rows(requests, *setup))
    prorated = {}
    for duty in periodic:
        pairs = set_up[duty.count_from or (duty.method, duty.path)]
        owed = pairs * (w1 - w0) / duty.period_s
        seen = sum(n for (m, p, _), n in counts.items() if (m, p) == (duty.method, duty.path))
        if owed > seen:
            sample = (0.0, duty.method, duty.path, 1)
            charged += (owed - seen) * weights(sample)[0]
            at_1 += (owed - seen) * weights(sample)[1]
            prorated[f"{duty.method} {duty.path}"] = {
                "seen": seen, "counted": round(owed, 1), "pairs": pairs, "period_s": duty.period_s
            }  # fmt: skip
    by_endpoint: dict[str, float] = {}
    actions = dict.fromkeys(("place", "modify", "cancel"), 0)
    for (method, path, has_symbol), n in counts.items():
        name = f"{method} {path}" + (
            "" if has_symbol or path != "/fapi/v1/openOrders" else " (all)"
        )
        by_endpoint[name] = by_endpoint.get(name, 0) + n
        if (method, path) in ACTIONS:
            actions[ACTIONS[(method, path)]] += n
    return {
        "weight_per_min": round(charged / minutes, 1),
        "weight_per_min_orders_at_1": round(at_1 / minutes, 1),
        "requests_per_min": round(len(rows) / minutes, 1),
        "requests_per_min_by_endpoint": {
            k: round(v / minutes, 1) for k, v in sorted(by_endpoint.items())
        },
        "order_actions_per_min": {k: round(v / minutes, 1) for k, v in actions.items()},
        "order_actions": sum(actions.values()),
        "prorated_periodic": prorated,
        "rate_limited_responses": sum(1 for r in rows if r[4] in (418, 429)),
    }


def restart_figures(
    requests: Sequence[Sequence[Any]], killed_at: float, until: float
) -> dict[str, Any]:
    """After SIGKILL and an immediate restart: the 429/418 answers, and the busiest minute the
    IP saw (the dead process's last minute still counts at the exchange)."""
    rows = fleet_rows(requests, killed_at - 60, until)
    after = [r for r in rows if r[0] >= killed_at]
    peak = rolling_peak(rows, (killed_at, until))
    return {
        "http_429": sum(1 for r in after if r[4] == 429),
        "http_418": sum(1 for r in after if r[4] == 418),
        "requests": len(after),
        "weight_peak": peak,
        "observed_s": round(until - killed_at, 1),
    }
