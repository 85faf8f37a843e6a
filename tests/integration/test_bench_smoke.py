"""`rocky-bot bench` end to end for a few seconds: three real processes, a complete report."""

from __future__ import annotations

import json

from rocky_bot.bench.report import format_table
from rocky_bot.bench.run import BenchConfig, run_bench
from rocky_bot.cli import build_parser

ISSUE_KEYS = (
    "weight_per_min", "requests_per_min_by_endpoint", "order_actions_per_min",
    "requote_latency_ms", "quote_uptime", "full_funnel_share", "refill_latency_ms",
    "inside_spread_bps", "levels_per_side", "trade_interval_s", "empty_kline_minutes",
    "fleet_cpu_pct", "fleet_rss_mb", "max_exposure_ratio", "feed_us_per_message",
    "machine", "settings", "duration_s",
)  # fmt: skip


async def test_short_bench_measures_the_fleet_from_the_exchange_side(tmp_path):
    cfg = BenchConfig(
        duration_s=3.0, accounts=30, warmup_s=1.5, feed_bench_frames=2000, ready_timeout_s=60
    )
    report = await run_bench(cfg, tmp_path)

    assert not [k for k in ISSUE_KEYS if k not in report]
    json.dumps(report)  # the report is plain JSON
    # The fleet quoted, was measured from the exchange's side, and stopped cleanly.
    assert report["fleet"]["exit_code"] == 0
    assert report["open_orders_left"] == 0
    assert report["quote_uptime"] is not None and report["quote_uptime"] > 0.5
    assert report["uptime_detail"]["levels"] == 52  # 25 makers × 2 symbols, anchor both sides
    assert report["levels_per_side"]["min"] >= 1
    assert report["inside_spread_bps"]["p50"] is not None
    assert 0 < report["fleet_cpu_pct"] < 100
    assert report["fleet_rss_mb"] > 10
    assert set(report["trade_interval_s"]) == {"BTCUSDT", "ETHUSDT"}
    assert {"p50", "p99", "max"} <= set(report["requote_latency_ms"])
    assert report["feed_us_per_message"]["accounts_300"]["bands"] == 520
    assert report["machine"]["nproc"] >= 1
    # Only the fleet's own steady-state requests are in the window (no set-up, no minting).
    assert not any(k.startswith("POST /admin") for k in report["requests_per_min_by_endpoint"])

    table = format_table(report)
    assert "REST weight / min" in table and "target" in table
    assert {v["measure"] for v in report["verdicts"]} >= {"quote uptime", "fleet RSS peak (MB)"}


def test_bench_subcommand_is_wired_with_the_issue_options():
    args = build_parser().parse_args(
        ["bench", "--duration", "60", "--accounts", "300", "--vol", "0.8", "--tick-rate", "50"]
    )
    assert (args.duration, args.accounts, args.vol, args.tick_rate) == (60.0, 300, 0.8, 50.0)
    assert args.func is not None
