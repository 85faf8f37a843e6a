"""The bench report: every figure as JSON (issue 6's keys, issue 14's added) and a table of each
figure against its target (DESIGN.md §5).

`report_from(workdir)` turns the exchange's recording (`probe.json`) and the bench's notes
(`measure.json`) into the report, so a kept work directory can be analysed again
(`python -m rocky_bot.bench report DIR`). Definitions live with the code that computes them:
weight.py (weight), analysis.py (latencies), samples.py (book, uptime, exposure).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rocky_bot.bench.analysis import (
    Judge,
    Mids,
    Positions,
    refill_latencies,
    requote_latencies,
    timeline,
)
from rocky_bot.bench.levels import judged_levels
from rocky_bot.bench.samples import (
    book_figures,
    in_window,
    max_exposure_ratio,
    trade_figures,
    uptime,
)
from rocky_bot.bench.weight import (
    Periodic,
    by_source,
    fleet_rows,
    per_minute,
    restart_figures,
    rolling_peak,
)


def report_from(workdir: Path) -> dict[str, Any]:
    probe = json.loads((workdir / "probe.json").read_text())
    ctx = json.loads((workdir / "measure.json").read_text())
    return build_report(probe, ctx)


def build_report(probe: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    w0, w1 = window = tuple(ctx["window"])
    seconds = w1 - w0
    levels, unexplained = judged_levels(ctx["published_levels"], ctx["settings"])
    by_key = {lv.key: lv for lv in levels}
    symbols = sorted({lv.symbol for lv in levels} | set(probe["ticks"]))
    mids = Mids(probe["ticks"])
    judge = Judge(window, by_key, Positions(probe.get("positions", ())), mids, ctx["caps"])
    tl = timeline(probe["events"], set(by_key))
    window_samples = in_window(probe["samples"], window)
    up = uptime(window_samples, levels, ctx["caps"])
    fleet = ctx["fleet"]
    weight = weight_figures(probe["requests"], ctx)
    actions = weight.pop("order_actions")
    report: dict[str, Any] = {
        "profile": ctx["settings"].get("profile", "ours"),
        "duration_s": round(seconds, 2),
        **weight,
        "requote_latency_ms": requote_latencies(tl, judge),
        "quote_uptime": up.pop("quote_uptime"),
        "full_funnel_share": up.pop("full_funnel_share"),
        "uptime_detail": up,
        "refill_latency_ms": refill_latencies(tl, judge),
        **book_figures(window_samples),
        **trade_figures(tl.prints, symbols, window),
        "fleet_cpu_pct": round(fleet["cpu_s"] / seconds * 100, 3),
        "cpu_ms_per_order_action": round(fleet["cpu_s"] * 1000 / actions, 3) if actions else None,
        "fleet_cpu_split_pct": {
            "user": round(fleet.get("cpu_user_s", 0.0) / seconds * 100, 3),
            "system": round(fleet.get("cpu_system_s", 0.0) / seconds * 100, 3),
        },
        "fleet_rss_mb": round(fleet["rss_mb_peak"] or 0.0, 1),
        **max_exposure_ratio(probe.get("positions", []), mids, ctx["caps"], window),
        "levels_judged": len(levels),
        "levels_unexplained": unexplained,
        "feed_us_per_message": ctx.get("feed"),
        "exchange_cpu_pct": round(ctx["exchange_cpu_s"] / seconds * 100, 2),
        "ticks_per_s": {
            s: round(sum(1 for t, _ in rows if w0 <= t <= w1) / seconds, 1)
            for s, rows in probe["ticks"].items()
        },
        "open_orders_left": probe.get("open_orders_at_end"),
        "fleet": fleet,
        "machine": ctx["machine"],
        "settings": {**ctx["settings"], "exchange": probe.get("config")},
    }
    n = max(1, ctx["accounts"])
    report["per_account"] = {
        "weight_per_min": round(report["weight_per_min"] / n, 2),
        "weight_per_min_orders_at_1": round(report["weight_per_min_orders_at_1"] / n, 2),
        "fleet_cpu_pct": round(report["fleet_cpu_pct"] / n, 4),
    }
    report["verdicts"] = [
        {"measure": label, "value": value, "target": target, "pass": ok}
        for label, value, target, ok in rows(report)
    ]
    return report


def weight_figures(requests: list[Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """Weight a minute, the busiest minute from start and across the restart. Per shard (the
    address its requests came from) when there are several: the budget is one IP's, so the
    targets judge the busiest shard; order actions and requests stay the fleet's."""
    window = tuple(ctx["window"])
    setup = (ctx["launched"], window[0])  # set-up and warm-up: every duty has run once
    periodic = [Periodic(*d[:3], tuple(d[3]) if d[3] else None) for d in ctx["periodic"]]

    def figures(rows: list[Any]) -> dict[str, Any]:
        weight = per_minute(rows, window, setup=setup, periodic=periodic)
        launch_to_stop = fleet_rows(rows, ctx["launched"], ctx["stop_at"])
        start = rolling_peak(launch_to_stop, (setup[0], window[1]))
        restart = restart_report(rows, ctx.get("restart") or {})
        return {**weight, "startup_weight_peak": start["orders_at_1"], "startup": start,
                "restart": restart}  # fmt: skip

    whole = figures(requests)
    shards = {ip: figures(rows) for ip, rows in by_source(requests).items()}
    if len(shards) <= 1:
        return whole
    busiest = max(shards.values(), key=lambda f: f["weight_per_min_orders_at_1"])
    out = {**busiest, "startup_weight_peak": max(f["startup_weight_peak"] for f in
                                                  shards.values())}  # fmt: skip
    for key in ("order_actions", "order_actions_per_min", "requests_per_min",
                "requests_per_min_by_endpoint"):  # fmt: skip
        out[key] = whole[key]
    if busiest["restart"] is not None:
        out["restart"] = {
            **max((f["restart"] for f in shards.values()),
                  key=lambda r: r["weight_peak"]["orders_at_1"]),
            "rate_limited": sum(f["restart"]["rate_limited"] for f in shards.values()),
        }  # fmt: skip
    out["by_shard"] = {
        ip: {"weight_per_min": f["weight_per_min"],
             "weight_per_min_orders_at_1": f["weight_per_min_orders_at_1"],
             "startup_weight_peak": f["startup_weight_peak"],
             "restart_peak_orders_at_1": (f["restart"] or {}).get("weight_peak", {}).get(
                 "orders_at_1")}
        for ip, f in sorted(shards.items())
    }  # fmt: skip
    out["fleet_total"] = {k: whole[k] for k in ("weight_per_min", "weight_per_min_orders_at_1")}
    return out


def restart_report(requests: list[Any], restart: dict[str, Any]) -> dict[str, Any] | None:
    if not restart:
        return None
    out = restart_figures(requests, restart["killed_at"], restart["until"])
    out["ready_after_s"] = round(restart["ready_at"] - restart["killed_at"], 2)
    out["rate_limited"] = out["http_429"] + out["http_418"]
    return out


def get(report: dict[str, Any], path: str) -> Any:
    value: Any = report
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check(value: Any, op: str, bound: float) -> bool | None:
    if value is None:
        return None
    return value <= bound if op == "<=" else value >= bound if op == ">=" else value == bound


#: (label, report path, op, bound): DESIGN.md §5.
TARGETS: list[tuple[str, str, str, float]] = [
    ("weight/min, order actions at 1", "weight_per_min_orders_at_1", "<=", 1200),
    ("weight/min, as charged", "weight_per_min", "<=", 1200),
    ("busiest minute from start (at 1)", "startup_weight_peak", "<=", 1800),
    ("429/418 after SIGKILL + restart", "restart.rate_limited", "==", 0),
    ("restart: busiest minute at 1", "restart.weight_peak.orders_at_1", "<=", 2400),
    ("requote p99 from first exit (ms)", "requote_latency_ms.p99", "<=", 25),
    ("refill p99 (ms)", "refill_latency_ms.p99", "<=", 50),
    ("quote uptime", "quote_uptime", ">=", 0.995),
    ("inside spread p95 (bps)", "inside_spread_bps.p95", "<=", 2.5),
    ("levels per side, p5", "levels_per_side.p5", ">=", 13),
    ("empty 1-min klines", "empty_kline_minutes", "==", 0),
    ("fleet CPU (% of a core)", "fleet_cpu_pct", "<=", 3),
    ("fleet CPU ms / order action", "cpu_ms_per_order_action", "<=", 1),
    ("fleet RSS peak (MB)", "fleet_rss_mb", "<=", 80),
    ("max exposure / cap", "max_exposure_ratio", "<=", 1.0),
    ("feed µs/msg, 30 accts", "feed_us_per_message.accounts_30.us_per_message", "<=", 15),
    ("feed µs/msg, 300 accts", "feed_us_per_message.accounts_300.us_per_message", "<=", 15),
    ("fleet exit code on SIGTERM", "fleet.exit_code", "==", 0),
    ("open orders left after stop", "open_orders_left", "==", 0),
]

DETAILS: list[tuple[str, str]] = [
    ("requote p50 / max (ms)", "requote_latency_ms.p50|requote_latency_ms.max"),
    ("band exits / unanswered / cap-gated",
     "requote_latency_ms.n|requote_latency_ms.unanswered|requote_latency_ms.cap_gated"),
    ("requote p99 from first exit", "requote_latency_ms.from_first_exit.p99"),
    ("requote p99 from last exit", "requote_latency_ms.from_last_exit.p99"),
    ("transient exits n / p99 (ms)",
     "requote_latency_ms.transient_exits.n|requote_latency_ms.transient_exits.p99"),
    ("refill p50 (ms) / fills / unrefilled",
     "refill_latency_ms.p50|refill_latency_ms.n|refill_latency_ms.unrefilled"),
    ("fills cap-gated (no refill owed)", "refill_latency_ms.cap_gated"),
    ("uptime excl. cap-gated samples", "uptime_detail.quote_uptime_excl_cap_gated"),
    ("full funnel share", "full_funnel_share"),
    ("inside spread p50 (bps) / misses", "inside_spread_bps.p50|inside_spread_bps.misses"),
    ("levels per side min / p50", "levels_per_side.min|levels_per_side.p50"),
    ("order actions / min", "order_actions_per_min"),
    ("requests / min", "requests_per_min"),
    ("busiest minute as charged", "startup.as_charged"),
    ("restart: busiest minute as charged", "restart.weight_peak.as_charged"),
    ("fleet CPU user / system %", "fleet_cpu_split_pct.user|fleet_cpu_split_pct.system"),
    ("levels judged / unexplained drift", "levels_judged|levels_unexplained"),
    ("exchange CPU (% of a core)", "exchange_cpu_pct"),
    ("shards (weight judged on the busiest)", "fleet.shards"),
    ("fleet total weight/min, at 1",
     "fleet_total.weight_per_min|fleet_total.weight_per_min_orders_at_1"),
]  # fmt: skip


def per_symbol_targets(report: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """The book's targets for each symbol on its own (issue 13: they hold per symbol)."""
    out = []
    for symbol in report.get("trade_interval_s", {}):
        name = symbol.removesuffix("USDT")
        out += [
            (f"trade interval p95 (s) {name}", f"trade_interval_s.{symbol}.p95", "<=", 15),
            (f"inside spread p95 (bps) {name}", f"inside_spread_bps.by_symbol.{symbol}.p95",
             "<=", 2.5),
            (f"levels per side p5 {name}", f"levels_per_side.by_symbol.{symbol}.p5", ">=", 13),
            (f"empty 1-min klines {name}", f"empty_kline_minutes_by_symbol.{symbol}", "==", 0),
        ]  # fmt: skip
    return out


def rows(report: dict[str, Any]) -> list[tuple[str, Any, str, bool | None]]:
    out = []
    for label, path, op, bound in TARGETS + per_symbol_targets(report):
        value = get(report, path)
        shown = {"<=": "≤", ">=": "≥", "==": "="}[op]
        out.append((label, value, f"{shown} {bound:g}", check(value, op, bound)))
    return out


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, dict):
        return " ".join(f"{k}={fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):  # shards: their symbols
            return " | ".join(",".join(v) for v in value)
        return str(len(value))
    return str(value)


def format_table(report: dict[str, Any], fmt: Callable[[Any], str] = fmt) -> str:
    s = report["settings"]
    machine = report["machine"]
    lines = [
        f"profile {report.get('profile')}: {s['accounts']} accounts, {report['duration_s']:g} s "
        f"measured, vol {s['vol']}, {s['tick_rate']:g} msgs/s per symbol, seed {s.get('seed')} — "
        f"{machine['nproc']} × {machine['cpu_model']}, Python {machine['python']}, "
        f"load average {machine.get('loadavg_at_start')}",
        "",
        f"{'measure':<36} {'value':>14}  {'target':<10} verdict",
        "-" * 72,
    ]
    for label, value, target, ok in rows(report):
        verdict = "n/a" if ok is None else ("pass" if ok else "MISS")
        lines.append(f"{label:<36} {fmt(value):>14}  {target:<10} {verdict}")
    lines.append("")
    for label, paths in DETAILS:
        values = " / ".join(fmt(get(report, p)) for p in paths.split("|"))
        lines.append(f"{label:<36} {values}")
    return "\n".join(lines)
