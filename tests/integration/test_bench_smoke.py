"""`rocky-bot bench` end to end for a few seconds: three real processes, SIGKILL and a restart,
and figures that must hold by definition whatever the machine's speed."""

from __future__ import annotations

import json

from rocky_bot.bench.phases import BenchConfig, run_bench
from rocky_bot.bench.report import format_table
from rocky_bot.bench.weight import fleet_rows, weights
from rocky_bot.cli import build_parser

ISSUE_KEYS = (
    "weight_per_min", "requote_latency_ms", "refill_latency_ms", "quote_uptime",
    "inside_spread_bps", "fleet_cpu_pct", "fleet_rss_mb", "max_exposure_ratio",
    "weight_per_min_orders_at_1", "startup_weight_peak", "cpu_ms_per_order_action",
)  # fmt: skip


async def test_short_bench_judges_every_level_and_counts_every_request(tmp_path):
    cfg = BenchConfig(
        duration_s=4.0, accounts=30, warmup_s=1.0, restart_s=3.0, feed_bench_frames=2000,
        ready_timeout_s=60,
    )  # fmt: skip
    report = await run_bench(cfg, tmp_path)

    assert not [k for k in ISSUE_KEYS if k not in report]
    json.dumps(report, allow_nan=False)  # plain JSON, no Infinity
    # Every maker level (25 makers × 2 symbols, the anchor both sides) was judged, with the
    # drift the fleet published and the settings explain.
    assert report["levels_judged"] == report["uptime_detail"]["levels"] == 52
    assert report["levels_unexplained"] == []
    # Order actions at 1 never weigh less than as charged (Binance charges them 0).
    assert report["weight_per_min_orders_at_1"] >= report["weight_per_min"] > 0
    assert report["order_actions_per_min"]["place"] > 0
    # The run is shorter than a minute, so its busiest minute is every request of the first
    # fleet from launch to the SIGKILL: set-up included, nothing dropped.
    probe = json.loads((tmp_path / "probe.json").read_text())
    measure = json.loads((tmp_path / "measure.json").read_text())
    rows = fleet_rows(probe["requests"], measure["launched"], measure["stop_at"])
    assert report["startup_weight_peak"] == sum(weights(r)[1] for r in rows)
    assert report["startup"]["as_charged"] == sum(weights(r)[0] for r in rows)
    # Every band exit is a sample: answered, or counted to the window's end.
    requote = report["requote_latency_ms"]
    assert requote["n"] >= requote["unanswered"] and requote["n"] == requote["from_first_exit"]["n"]
    # SIGKILL, an immediate restart: no 429, and that fleet stopped cleanly on SIGTERM.
    assert report["restart"]["rate_limited"] == 0 and report["restart"]["ready_after_s"] > 0
    assert report["fleet"]["exit_code"] == 0 and report["open_orders_left"] == 0
    assert report["cpu_ms_per_order_action"] > 0 and report["fleet_rss_mb"] > 10

    table = format_table(report)
    assert "weight/min, order actions at 1" in table and "target" in table


def test_bench_subcommand_is_wired_with_the_issue_options():
    args = build_parser().parse_args(
        ["bench", "--duration", "60", "--accounts", "300", "--vol", "0.8", "--tick-rate", "50",
         "--profile", "both", "--seeds", "1,2,3", "--out-dir", "docs/bench"]
    )  # fmt: skip
    assert (args.duration, args.accounts, args.vol, args.tick_rate) == (60.0, 300, 0.8, 50.0)
    assert (args.profile, args.seeds, str(args.out_dir)) == ("both", "1,2,3", "docs/bench")
    assert args.func is not None
