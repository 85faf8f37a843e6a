"""The request weight a configuration will cost, planned before the start: against the bench's
own measurements, and the refusal of a configuration one IP cannot carry."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from rocky_bot.budget import BUDGET_SHARE, plan_for, refuse_over_budget
from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import funnel_ids, parse_account_id
from rocky_bot.settings import Settings

BENCH = Path(__file__).resolve().parents[2] / "docs" / "bench"
FUNNEL = [parse_account_id(i) for i in funnel_ids(30)]
FIVE = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")


def settings_of(report: dict, **extra) -> Settings:
    """The settings a committed bench report ran with (its profile's and the recorded ones)."""
    recorded = report["settings"]
    env = {k[6:].lower(): v for k, v in recorded["profile_env"].items()}
    return Settings(
        _env_file=None, **env, budget_annual_vol=recorded["vol"],
        weight_limit_per_min=recorded["exchange"]["weight_limit_per_min"],
        taker_size_sigma=0, maker_size_jitter=0,  # the reports predate varied sizes
        **extra,
    )  # fmt: skip


@pytest.mark.parametrize(("profile", "slack"), [("ours", 0.10), ("spec", 0.15)])
def test_the_plan_matches_what_the_bench_measured(profile, slack):
    reports = [json.loads(p.read_text()) for p in sorted(BENCH.glob(f"{profile}-seed*.json"))]
    assert len(reports) == 3
    measured = [r["weight_per_min_orders_at_1"] for r in reports]
    planned = plan_for(settings_of(reports[0]), FUNNEL).total
    assert min(measured) * (1 - slack) <= planned <= max(measured) * (1 + slack), (
        planned, measured,
    )  # fmt: skip
    if profile == "ours":  # 30 accounts × 2 symbols: ≈ 1,130 planned, 1,022–1,167 measured
        assert abs(planned - statistics.median(measured)) < 0.1 * statistics.median(measured)


def test_each_shard_of_the_five_symbol_bench_is_planned_within_a_tenth():
    """The fine-grid plan said 1,676 for BTC,SOL,DOGE where the bench measured 2,000 (issue 13):
    SOL's and DOGE's ticks are half a bps, and their quotes requote more (tick_grid.py)."""
    report = json.loads((BENCH / "extra" / "five-symbols-seed1.json").read_text())
    s = settings_of(report)
    shards = report["fleet"]["shards"]
    measured = [f["weight_per_min_orders_at_1"] for f in report["by_shard"].values()]
    assert len(shards) == len(measured) == 2
    for shard, weight in zip(shards, measured, strict=True):
        planned = plan_for(s, FUNNEL, shard).total
        assert abs(planned - weight) <= 0.1 * weight, (shard, planned, weight)


def test_a_coarse_grid_costs_more_than_a_fine_one():
    plan = plan_for(Settings(_env_file=None, symbols=FIVE), FUNNEL)
    costs = plan.symbol_costs()
    assert costs["SOLUSDT"] > 1.1 * costs["BTCUSDT"]
    assert costs["BTCUSDT"] == pytest.approx(plan_for(Settings(_env_file=None), FUNNEL,
                                                      ["BTCUSDT"], grid=[1.0]).total
                                             - plan.fixed, rel=0.01)  # fmt: skip


def test_shards_pack_by_cost_into_as_few_as_fit():
    plan = plan_for(Settings(_env_file=None, symbols=FIVE), FUNNEL, grid=[1, 1, 2, 2, 2])
    shards = plan.shards()
    assert len(shards) == 3 and sorted(sum(shards, ())) == sorted(FIVE)
    for shard in shards:
        grid = [2 if s in FIVE[2:] else 1 for s in shard]
        refuse_over_budget(plan_for(Settings(_env_file=None), FUNNEL, shard, grid=grid))


def test_every_periodic_call_is_counted_per_account_and_symbol():
    lines = {line.what: line for line in plan_for(Settings(_env_file=None), FUNNEL).lines}
    # 25 makers × 10 weight every 180 s, per symbol; 30 × openOrders (1) every 120 s, per symbol
    assert lines["dead-man heartbeat"].per_symbol == pytest.approx(25 * 10 * 60 / 180)
    assert lines["reconcile"].per_symbol == pytest.approx(30 * 60 / 120)
    # per account whatever the symbols: the wallet (5 every 300 s) and the keepalive (1 / 30 min)
    assert lines["wallet"].fixed == pytest.approx(30 * 5 * 60 / 300)
    assert lines["listenKey keepalive"].fixed == pytest.approx(30 * 60 / 1800)


def test_requotes_grow_with_the_square_of_volatility_and_shrink_with_drift():
    base = plan_for(Settings(_env_file=None), FUNNEL).lines[0].per_symbol
    calmer = plan_for(Settings(_env_file=None, budget_annual_vol=0.3), FUNNEL).lines[0].per_symbol
    assert calmer == pytest.approx(base / 4)
    wider = Settings(_env_file=None, anchor_drift_bps=2, ladder_drift_bps=4, deep_drift_share=0.4)
    assert plan_for(wider, FUNNEL).lines[0].per_symbol == pytest.approx(base / 4)


def test_three_symbols_fit_one_ip_and_four_do_not():
    fits = plan_for(Settings(_env_file=None, symbols=FIVE[:3]), FUNNEL)
    refuse_over_budget(fits)
    assert fits.total <= BUDGET_SHARE * 2400 and fits.max_symbols() == 3


def test_five_symbols_are_refused_in_one_line_naming_the_weight_and_sharding():
    plan = plan_for(Settings(_env_file=None, symbols=FIVE), FUNNEL)
    with pytest.raises(ConfigError) as refused:
        refuse_over_budget(plan)
    line = str(refused.value)
    assert "\n" not in line
    assert f"{plan.total:,.0f} request weight a minute" in line
    assert "ROCKY_WEIGHT_LIMIT_PER_MIN=2400" in line and "shard by symbol" in line
    assert "BTCUSDT,ETHUSDT,SOLUSDT | XRPUSDT,DOGEUSDT" in line  # a split that fits


def test_the_suggested_shards_each_fit():
    plan = plan_for(Settings(_env_file=None, symbols=FIVE), FUNNEL)
    for shard in plan.shards():
        refuse_over_budget(plan_for(Settings(_env_file=None, symbols=shard), FUNNEL))
    assert sorted(s for shard in plan.shards() for s in shard) == sorted(FIVE)


def test_a_larger_ip_limit_carries_more_symbols():
    plan = plan_for(Settings(_env_file=None, symbols=FIVE, weight_limit_per_min=4800), FUNNEL)
    refuse_over_budget(plan)
