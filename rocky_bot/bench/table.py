"""The README's performance table, regenerated from committed bench reports (never typed in).

    python -m rocky_bot.bench table docs/bench/*.json [--write README.md]

Reports are grouped by profile (`ours`, `spec`); each cell is the median over the seeds, the
spec column is measured by `rocky-bot bench --profile spec` on the same price paths, and the
ratio is spec ÷ ours. `--write` replaces what lies between the README's `<!-- bench-table -->`
markers, so the table in the README is exactly what these reports say.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from rocky_bot.bench.report import get
from rocky_bot.binance_api.weights import COSTS, with_symbol

BEGIN, END = "<!-- bench-table -->", "<!-- /bench-table -->"

#: (label, report path, target, lower is better, scale, decimals)
ROWS: list[tuple[str, str, str, bool, float, int]] = [
    ("REST weight / min, every order action at 1", "weight_per_min_orders_at_1", "≤ 1,200",
     True, 1, 0),
    ("REST weight / min, as the exchange charged it", "weight_per_min", "≤ 1,200", True, 1, 0),
    ("busiest rolling minute from start, set-up included (at 1)", "startup_weight_peak",
     "≤ 1,800", True, 1, 0),
    ("429/418 answers after SIGKILL + immediate restart", "restart.rate_limited", "0", True, 1, 0),
    ("busiest minute the IP saw across that restart (at 1)", "restart.weight_peak.orders_at_1",
     "≤ 2,400", True, 1, 0),
    ("first tick outside a quote's band → next order accepted, p99 (ms)",
     "requote_latency_ms.p99", "≤ 25", True, 1, 1),
    ("maker fill → level's next order accepted, p99 (ms)", "refill_latency_ms.p99", "≤ 50",
     True, 1, 1),
    ("quote uptime, % of level × 1-s samples within 2× drift", "quote_uptime", "≥ 99.5", False,
     100, 2),
    ("inside spread p95 (bps), empty side = miss", "inside_spread_bps.p95", "≤ 2.5", True, 1, 2),
    ("price levels per side, p5 of side × 1-s samples", "levels_per_side.p5", "≥ 13", False, 1, 0),
    ("price levels per side, fewest in any sample", "levels_per_side.min", "—", False, 1, 0),
    ("seconds between trades p95, BTC", "trade_interval_s.BTCUSDT.p95", "≤ 15", True, 1, 1),
    ("seconds between trades p95, ETH", "trade_interval_s.ETHUSDT.p95", "≤ 15", True, 1, 1),
    ("empty 1-minute klines", "empty_kline_minutes", "0", True, 1, 0),
    ("fleet CPU, % of one core", "fleet_cpu_pct", "≤ 3", True, 1, 2),
    ("fleet CPU per order action (ms)", "cpu_ms_per_order_action", "≤ 1", True, 1, 2),
    ("fleet RSS peak (MB)", "fleet_rss_mb", "≤ 80", True, 1, 1),
    ("worst \\|position · mark\\| / cap, every fill", "max_exposure_ratio", "≤ 1", True, 1, 2),
    ("order actions / min (place + modify + cancel)", "order_actions_total", "—", True, 1, 0),
    ("REST requests / min", "requests_per_min", "—", True, 1, 0),
]  # fmt: skip


def median_of(reports: list[dict[str, Any]], path: str, lower_better: bool) -> float | None:
    """The median over seeds; a missing figure (a miss, e.g. an empty side) ranks worst."""
    if path == "order_actions_total":
        values = [sum(r["order_actions_per_min"].values()) for r in reports]
    else:
        values = [get(r, path) for r in reports]
    if all(v is None for v in values):
        return None
    worst = float("inf") if lower_better else float("-inf")
    return statistics.median([worst if v is None else float(v) for v in values])


def load(report: dict[str, Any]) -> str:
    """The 1-minute load average when a run started: a busy machine shows here."""
    avg = report["machine"].get("loadavg_at_start")
    return f"{avg[0]:.1f}" if avg else "?"


def cell(value: float | None, scale: float, decimals: int) -> str:
    if value is None:
        return "n/a"
    if value in (float("inf"), float("-inf")):
        return "miss"
    return f"{value * scale:,.{decimals}f}"


def render(reports: list[dict[str, Any]]) -> str:
    by_profile: dict[str, list[dict[str, Any]]] = {}
    for r in reports:
        by_profile.setdefault(r.get("profile", "ours"), []).append(r)
    ours, spec = by_profile.get("ours", []), by_profile.get("spec", [])
    first = (ours or spec)[0]
    s, m = first["settings"], first["machine"]
    seeds = sorted({r["settings"]["seed"] for r in reports})
    lines = [
        f"Medians of {len(seeds)} runs (seeds {', '.join(map(str, seeds))}) of "
        f"{first['duration_s']:.0f} s each: {s['accounts']} accounts, "
        f"{len(s.get('symbols') or (0, 0))} symbols, vol {s['vol']}, "
        f"{s['tick_rate']:g} bookTicker msgs/s per symbol; {m['nproc']} × {m['cpu_model']}, "
        f"Python {m['python']}; load average at the runs' starts "
        f"{', '.join(load(r) for r in reports)}.",
        "",
        "| measure | spec design (measured) | ours | spec ÷ ours | target |",
        "|---|---|---|---|---|",
    ]
    for label, path, target, lower, scale, decimals in ROWS:
        a = median_of(spec, path, lower) if spec else None
        b = median_of(ours, path, lower) if ours else None
        ratio = "—"
        if a not in (None, float("inf")) and b not in (None, 0, float("inf")):
            ratio = f"{a / b:,.1f}×"
        lines.append(
            f"| {label} | {cell(a, scale, decimals)} | **{cell(b, scale, decimals)}** | "
            f"{ratio} | {target} |"
        )
    return "\n".join(lines)


def weight_breakdown(reports: list[dict[str, Any]]) -> str:
    """Where one profile's weight goes, per endpoint: medians of calls/min and weight/min."""
    calls: dict[str, list[float]] = {}
    for r in reports:
        seen = dict(r["requests_per_min_by_endpoint"])
        for name, doc in r.get("prorated_periodic", {}).items():
            minutes = r["duration_s"] / 60
            seen[name] = max(seen.get(name, 0.0), doc["counted"] / minutes)
        for name, per_min in seen.items():
            calls.setdefault(name, []).append(per_min)
    lines = [
        "| call | calls / min | weight / min as charged | at 1 | Binance's page |",
        "|---|---|---|---|---|",
    ]
    rows = []
    for name, values in calls.items():
        method, path = name.split(" ")[:2]
        cost = COSTS.get((method, path))
        if cost is None:
            continue
        per_min = statistics.median(values + [0.0] * (len(reports) - len(values)))
        params = with_symbol(not name.endswith("(all)"))
        charged, at_1 = per_min * cost.ip_weight(params), per_min * cost.weight_at_1(params)
        rows.append((at_1, f"| `{name}` | {per_min:,.1f} | {charged:,.0f} | {at_1:,.0f} | "
                           f"[{cost.doc.split('#')[1]}]({cost.url}) |"))  # fmt: skip
    return "\n".join(lines + [row for _, row in sorted(rows, reverse=True)])


def write_into(readme: Path, table: str) -> None:
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: no {BEGIN} … {END} markers")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")


def table_main(argv: list[str]) -> int:
    target = None
    if "--write" in argv:
        i = argv.index("--write")
        target, argv = Path(argv[i + 1]), argv[:i] + argv[i + 2 :]
    if not argv:
        print("usage: python -m rocky_bot.bench table REPORT.json... [--write README.md]")
        return 2
    reports = [json.loads(Path(p).read_text()) for p in argv]
    ours = [r for r in reports if r.get("profile", "ours") == "ours"]
    table = render(reports)
    if ours:
        table += "\n\nWhere `ours`' weight goes (medians per minute; a periodic call counts at "
        table += "least its share of the window):\n\n" + weight_breakdown(ours)
    if target is not None:
        write_into(target, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(table_main(sys.argv[1:]))
