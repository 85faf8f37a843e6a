"""The bench report: the figures as JSON (issue 6's keys) and a table of figure vs target.

`build_report` turns the exchange's recording plus the bench's own samples into the report;
`format_table` prints it with DESIGN.md §5's computed spec figure and our target beside each.
Request weights come from `rocky_bot.binance_api.weights`, the table the client and the sandbox
read too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rocky_bot.bench.analysis import (
    Level,
    Positions,
    refill_latencies,
    requote_latencies,
    timeline,
)
from rocky_bot.bench.samples import (
    book_figures,
    in_window,
    max_exposure_ratio,
    trade_figures,
    uptime,
)
from rocky_bot.binance_api.weights import COSTS, with_symbol

__all__ = ["Level", "MeasureContext", "build_report", "format_table", "request_weight"]


def request_weight(method: str, path: str, has_symbol: bool) -> int:
    """IP weight of one request as the table charges it (onboarding calls are not Binance's: 0)."""
    cost = COSTS.get((method, path))
    return 0 if cost is None else cost.ip_weight(with_symbol(has_symbol))


@dataclass(frozen=True, slots=True)
class MeasureContext:
    window: tuple[float, float]
    levels: list[Level]
    caps: dict[str, float]
    accounts: int


def request_figures(requests: list[list[Any]], window: tuple[float, float]) -> dict[str, Any]:
    w0, w1 = window
    minutes = (w1 - w0) / 60
    by_endpoint: dict[str, int] = {}
    weight = 0
    actions = {"place": 0, "modify": 0, "cancel": 0, "cancel_all": 0}
    for t, method, path, has_symbol in requests:
        if not w0 <= t <= w1 or path.startswith("/admin/"):
            continue
        name = f"{method} {path}"
        if path == "/fapi/v1/openOrders":
            name += "" if has_symbol else " (all symbols)"
        by_endpoint[name] = by_endpoint.get(name, 0) + 1
        weight += request_weight(method, path, bool(has_symbol))
        if path == "/fapi/v1/order":
            kind = {"POST": "place", "PUT": "modify", "DELETE": "cancel"}.get(method)
            if kind:
                actions[kind] += 1
        elif path == "/fapi/v1/allOpenOrders" and method == "DELETE":
            actions["cancel_all"] += 1
    per_min = {k: round(v / minutes, 1) for k, v in sorted(by_endpoint.items())}
    return {
        "weight_per_min": round(weight / minutes, 1),
        "requests_per_min": round(sum(by_endpoint.values()) / minutes, 1),
        "requests_per_min_by_endpoint": per_min,
        "order_actions_per_min": {k: round(v / minutes, 1) for k, v in actions.items()},
    }


def build_report(
    probe: dict[str, Any],
    m: MeasureContext,
    *,
    fleet: dict[str, Any],
    exchange_cpu_s: float,
    machine: dict[str, Any],
    settings: dict[str, Any],
    feed: dict[str, Any] | None,
) -> dict[str, Any]:
    w0, w1 = m.window
    seconds = w1 - w0
    levels = {lv.key: lv for lv in m.levels}
    symbols = sorted({lv.symbol for lv in m.levels} | set(probe["ticks"]))
    tl = timeline(probe["events"], set(levels))
    window_samples = in_window(probe["samples"], m.window)
    positions = Positions(probe.get("positions", ()))
    up = uptime(window_samples, m.levels, m.caps)
    report: dict[str, Any] = {
        "duration_s": round(seconds, 2),
        **request_figures(probe["requests"], m.window),
        "requote_latency_ms": requote_latencies(tl, probe["ticks"], levels, m.window),
        "quote_uptime": up.pop("quote_uptime"),
        "full_funnel_share": up.pop("full_funnel_share"),
        "uptime_detail": up,
        "refill_latency_ms": refill_latencies(
            tl, m.window, levels=levels, positions=positions, ticks=probe["ticks"], caps=m.caps
        ),
        **book_figures(window_samples),
        **trade_figures(tl.prints, symbols, m.window),
        "fleet_cpu_pct": round(fleet["cpu_s"] / seconds * 100, 3),
        "fleet_rss_mb": round(fleet["rss_mb_peak"] or 0.0, 1),
        **max_exposure_ratio(probe["samples"], m.caps),
        "feed_us_per_message": feed,
        "exchange_cpu_pct": round(exchange_cpu_s / seconds * 100, 2),
        "ticks_per_s": {
            s: round(sum(1 for t, _ in rows if w0 <= t <= w1) / seconds, 1)
            for s, rows in probe["ticks"].items()
        },
        "open_orders_left": probe.get("open_orders_at_end"),
        "fleet": fleet,
        "machine": machine,
        "settings": {**settings, "exchange": probe.get("config")},
    }
    n = max(1, m.accounts)
    report["per_account"] = {
        "weight_per_min": round(report["weight_per_min"] / n, 2),
        "fleet_cpu_pct": round(report["fleet_cpu_pct"] / n, 4),
        "fleet_rss_mb": round(report["fleet_rss_mb"] / n, 3),
    }
    report["verdicts"] = [
        {"measure": name, "value": value, "target": target, "pass": ok}
        for name, value, _spec, target, ok in _rows(report)
    ]
    return report


def _get(report: dict[str, Any], path: str) -> Any:
    value: Any = report
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _check(value: Any, op: str, bound: float) -> bool | None:
    if value is None:
        return None
    return value <= bound if op == "<=" else value >= bound if op == ">=" else value == bound


#: (label, report path, spec's computed figure, op, bound)
_TARGETS: list[tuple[str, str, str, str, float]] = [
    ("REST weight / min (fleet)", "weight_per_min", "≈ 11,000", "<=", 1200),
    ("requote latency p99 (ms)", "requote_latency_ms.p99", "≈ 4,000 (poll)", "<=", 50),
    ("quote uptime", "quote_uptime", "not measured", ">=", 0.995),
    ("refill latency p99 (ms)", "refill_latency_ms.p99", "up to 3,000", "<=", 100),
    ("inside spread p95 (bps)", "inside_spread_bps.p95", "2", "<=", 2.5),
    ("trade interval p95 (s) BTC", "trade_interval_s.BTCUSDT.p95", "~6 mean", "<=", 15),
    ("trade interval p95 (s) ETH", "trade_interval_s.ETHUSDT.p95", "~6 mean", "<=", 15),
    ("empty 1-min klines", "empty_kline_minutes", "—", "==", 0),
    ("fleet CPU (% of a core)", "fleet_cpu_pct", "—", "<=", 3),
    ("fleet RSS peak (MB)", "fleet_rss_mb", "—", "<=", 80),
    ("max exposure / cap", "max_exposure_ratio", "—", "<=", 1.0),
    ("feed µs/msg, 30 accts", "feed_us_per_message.accounts_30.us_per_message", "—", "<=", 15),
    ("feed µs/msg, 300 accts", "feed_us_per_message.accounts_300.us_per_message", "—", "<=", 15),
    ("fleet exit code on SIGTERM", "fleet.exit_code", "—", "==", 0),
    ("open orders left after stop", "open_orders_left", "—", "==", 0),
]

_INFO: list[tuple[str, str]] = [
    ("requote latency p50 / max (ms)", "requote_latency_ms.p50|requote_latency_ms.max"),
    ("requotes measured / unreplaced", "requote_latency_ms.n|requote_latency_ms.unreplaced"),
    ("requote p99 from first band exit", "requote_latency_ms.from_first_exit.p99"),
    (
        "transient band exits n / p99 (ms)",
        "requote_latency_ms.transient_exits.n|requote_latency_ms.transient_exits.p99",
    ),
    ("refill latency p50 (ms) / fills", "refill_latency_ms.p50|refill_latency_ms.n"),
    ("fills cap-gated (no refill owed)", "refill_latency_ms.cap_gated"),
    ("uptime excl. cap-gated samples", "uptime_detail.quote_uptime_excl_cap_gated"),
    ("full funnel share", "full_funnel_share"),
    ("inside spread p50 (bps)", "inside_spread_bps.p50"),
    ("levels per side min / p50", "levels_per_side.min|levels_per_side.p50"),
    ("order actions / min", "order_actions_per_min"),
    ("requests / min", "requests_per_min"),
    ("per account: weight/min, CPU %", "per_account.weight_per_min|per_account.fleet_cpu_pct"),
    ("exchange CPU (% of a core)", "exchange_cpu_pct"),
]


def _rows(report: dict[str, Any]) -> list[tuple[str, Any, str, str, bool | None]]:
    rows = []
    for label, path, spec, op, bound in _TARGETS:
        value = _get(report, path)
        shown = {"<=": "≤", ">=": "≥", "==": "="}[op]
        rows.append((label, value, spec, f"{shown} {bound:g}", _check(value, op, bound)))
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, dict):
        return " ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return str(value)


def format_table(report: dict[str, Any], fmt: Callable[[Any], str] = _fmt) -> str:
    s = report["settings"]
    machine = report["machine"]
    lines = [
        f"{s['accounts']} accounts, {report['duration_s']:g} s measured, vol {s['vol']}, "
        f"{s['tick_rate']:g} msgs/s per symbol, seed {s.get('seed')} — {machine['nproc']} × "
        f"{machine['cpu_model']}, Python {machine['python']}, "
        f"load average {machine.get('loadavg_at_start')}",
        "",
        f"{'measure':<32} {'ours':>14}  {'spec (computed)':<16} {'target':<10} verdict",
        "-" * 86,
    ]
    for label, value, spec, target, ok in _rows(report):
        verdict = "n/a" if ok is None else ("pass" if ok else "MISS")
        lines.append(f"{label:<32} {fmt(value):>14}  {spec:<16} {target:<10} {verdict}")
    lines.append("")
    for label, paths in _INFO:
        values = " / ".join(fmt(_get(report, p)) for p in paths.split("|"))
        lines.append(f"{label:<32} {values}")
    return "\n".join(lines)
