"""The soak's figures from made-up tallies: dead minutes, funnel share, RSS slope, the log's
volume and trips, the cost per role at real fees, and the verdict against the targets."""

from __future__ import annotations

import json

import pytest

from rocky_bot.bench.soak import SoakConfig
from rocky_bot.bench.soak_report import (
    dead_minutes,
    funnel_share,
    log_figures,
    per_role,
    rss_slope,
    targets,
)

T0 = 1_800_000_000.0


def test_a_minute_without_a_trade_is_dead_per_symbol() -> None:
    trades = {
        "BTCUSDT": {str(int(T0) + s): 1 for s in range(0, 300, 20)},  # every 20 s
        "ETHUSDT": {str(int(T0) + s): 2 for s in (5, 65, 250)},  # minutes 2 and 3 empty
    }
    dead, minutes = dead_minutes(trades, ["BTCUSDT", "ETHUSDT"], T0, T0 + 300)
    assert minutes == 5 and dead == {"BTCUSDT": 0, "ETHUSDT": 2}
    # a partial last minute is not judged; a symbol with no trade at all is dead throughout
    assert dead_minutes({}, ["BTCUSDT"], T0, T0 + 119) == ({"BTCUSDT": 1}, 1)


def test_the_funnel_is_full_when_no_level_is_missing_inside_the_window() -> None:
    samples = {str(int(T0) + s): [] for s in range(100)}
    samples[str(int(T0) + 7)] = ["mm-anchor/BTCUSDT/BUY"]
    samples[str(int(T0) - 5)] = ["every", "level"]  # before the window: not counted
    doc = funnel_share(samples, T0, T0 + 100)
    assert doc["full_funnel_share"] == 0.99 and doc["samples"] == 100
    assert doc["most_missing"] == {"mm-anchor/BTCUSDT/BUY": 1}


def test_rss_slope_is_fitted_from_minute_five() -> None:
    warmup = [(T0 + s, 40 + s / 10) for s in range(0, 300, 5)]  # start-up growth: ignored
    flat = [(T0 + s, 60 + 0.5 * (s - 300) / 3600) for s in range(300, 3600, 5)]  # +0.5 MB/h
    assert rss_slope(warmup + flat, T0) == pytest.approx(0.5, abs=0.01)
    assert rss_slope(warmup, T0) is None


def test_log_figures_count_trips_over_the_run_and_volume_in_the_window(tmp_path) -> None:
    lines = [
        {"event": "breaker_tripped", "kind": "price_jump"},  # before the window: still a trip
        {"event": "order_placed"},
        {"event": "wallet_deposit_seen"},
        {"event": "breaker_tripped", "kind": "drawdown"},
    ]
    raw = [json.dumps(line).encode() + b"\n" for line in lines]
    log = tmp_path / "fleet.log"
    log.write_bytes(b"".join(raw) + b"not json\n")
    start, end = len(raw[0]), sum(len(r) for r in raw)
    doc = log_figures(log, start, end, window_s=86.4, compression=10)
    assert doc["breaker_trips"] == {"price_jump": 1, "drawdown": 1}
    assert doc["log_top_events"] == {"order_placed": 1, "wallet_deposit_seen": 1,
                                     "breaker_tripped": 1}  # fmt: skip
    assert doc["log_mb_per_day"] == round((end - start) * 1000 / 1e6, 2)
    assert doc["log_mb_per_day_at_hourly_funding"] < doc["log_mb_per_day"]


def test_cost_per_role_divides_the_fee_multiplier_back_out() -> None:
    accounts = {
        "taker-1": {"fees": 840.0, "realized": -5.0, "notional": 10_000.0, "fills": 10},
        "taker-2": {"fees": 840.0, "realized": -5.0, "notional": 10_000.0, "fills": 10},
        "mm-anchor": {"fees": 336.0, "realized": 3.0, "notional": 10_000.0, "fills": 10},
        "not-an-id": {"fees": 1.0, "realized": 0.0, "notional": 1.0, "fills": 1},
    }
    roles = per_role(accounts, fee_multiplier=168, span_s=86400)
    assert set(roles) == {"taker", "anchor"}
    assert roles["taker"]["fees_per_day"] == 5.0  # 840 / 168: Binance's 5 bps
    assert roles["taker"]["change_per_day"] == -10.0 and roles["taker"]["cost_bps"] == 10.0
    assert roles["anchor"]["change_per_day"] == 1.0 and roles["anchor"]["cost_bps"] == -1.0
    # a taker that never traded counts in its role's average, at zero
    three = per_role(accounts, 168, 86400, ids=["taker-1", "taker-2", "taker-3", "mm-anchor"])
    assert three["taker"]["accounts"] == 3
    assert three["taker"]["change_per_day"] == pytest.approx(-20 / 3, abs=0.01)


def report(**overrides) -> dict:
    doc = {
        "dead_minutes": {"BTCUSDT": 0, "ETHUSDT": 0}, "breaker_trips": {"price_jump": 2},
        "full_funnel_share": 0.97, "rss_slope_mb_per_h": 0.4, "exit_code": 0,
        "open_orders_left": 0, "minutes": 60,
    }  # fmt: skip
    return {**doc, **overrides}


@pytest.mark.parametrize(
    ("change", "missed"),
    [
        ({}, []),
        ({"dead_minutes": {"BTCUSDT": 0, "ETHUSDT": 1}}, ["no_dead_minute"]),
        ({"breaker_trips": {"drawdown": 1}}, ["no_drawdown_trip"]),
        ({"full_funnel_share": 0.94}, ["funnel_full_95"]),
        ({"rss_slope_mb_per_h": 1.5}, ["rss_slope_le_1mb_h"]),
        ({"exit_code": 1}, ["exit_0_empty_book"]),
        ({"open_orders_left": 3}, ["exit_0_empty_book"]),
        ({"minutes": 1, "rss_slope_mb_per_h": None}, []),  # too short to judge a slope
    ],
)
def test_the_verdict_names_each_missed_target(change, missed) -> None:
    verdict = targets(report(**change))
    assert [name for name, ok in verdict.items() if not ok] == missed


def test_the_compression_is_days_over_duration_and_the_funding_timer_follows() -> None:
    week = SoakConfig(days=7, duration_s=3600)
    assert week.compression == 168 and week.funding_interval_s == pytest.approx(21.43, abs=0.01)
    assert week.weight_limit == 2400 + 449  # 2.8 rounds a minute of ~160 weight
    assert SoakConfig(days=1, duration_s=60).funding_interval_s == 5.0  # floored
