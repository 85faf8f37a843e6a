"""Uptime, spread, depth, trade gaps and exposure from the exchange's samples and fills."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rocky_bot.bench.analysis import Level, Mids
from rocky_bot.bench.samples import book_figures, max_exposure_ratio, trade_figures, uptime

L1 = Level("mm-l1-buy-05bps", "BTCUSDT", "BUY", Decimal(5), Decimal(2))


def test_uptime_counts_a_level_live_only_within_twice_its_drift_of_target():
    def sample(price):
        orders = {} if price is None else {L1.account: [["BTCUSDT", "BUY", price]]}
        return {"t": 1.0, "mids": {"BTCUSDT": 100000.0}, "orders": orders, "positions": {}}

    # target 99950; 2 × 2 bps = ±~20: 99935 is live, 99900 is not, None is empty
    got = uptime([sample(99950.0), sample(99935.0), sample(99900.0), sample(None)], [L1], {})
    assert got["quote_uptime"] == 0.5
    assert got["full_funnel_share"] == 0.5
    assert got["down_samples"] == {"no_order": 1, "off_target": 1, "cap_gated": 0}


def test_samples_where_the_cap_gate_empties_a_level_are_told_apart():
    at_cap = {"t": 1.0, "mids": {"BTCUSDT": 100000.0}, "orders": {},
              "positions": {L1.account: {"BTCUSDT": 0.0012}}}  # fmt: skip
    got = uptime([at_cap], [L1], {L1.account: 150.0})
    assert got["quote_uptime"] == 0.0 and got["down_samples"]["cap_gated"] == 1


def book(bid, ask):
    return {"books": {"BTCUSDT": [bid, ask, 13, 12]}}


@pytest.mark.parametrize(
    ("books", "p50", "p95", "misses"),
    [
        ([book(99990.0, 100010.0)] * 2, 2.0, 2.0, 0),
        # one sample in 20 with an empty side: p95 still lands on a real spread ...
        ([book(99990.0, 100010.0)] * 19 + [book(None, 100010.0)], 2.0, 2.0, 1),
        # ... two in 20 and p95 is a miss: no spread to show, and the target is missed
        ([book(99990.0, 100010.0)] * 18 + [book(None, 100010.0)] * 2, 2.0, None, 2),
    ],
)
def test_a_sample_with_an_empty_side_is_a_miss_not_dropped(books, p50, p95, misses):
    got = book_figures(books)["inside_spread_bps"]
    assert got["p50"] == pytest.approx(p50, abs=0.001)
    assert got["p95"] == (None if p95 is None else pytest.approx(p95, abs=0.001))
    assert got["misses"] == misses


def test_depth_is_the_fewest_levels_on_either_side():
    got = book_figures([book(1.0, 2.0)])["levels_per_side"]
    assert {k: got[k] for k in ("min", "p5", "p50")} == {"min": 12, "p5": 12, "p50": 12}


def test_spread_and_depth_are_also_judged_per_symbol():
    sample = {"books": {"BTCUSDT": [99990.0, 100010.0, 14, 13], "SOLUSDT": [179.96, 180.0, 12, 13]}}
    got = book_figures([sample] * 3)
    assert got["levels_per_side"]["by_symbol"]["SOLUSDT"]["p5"] == 12
    assert got["levels_per_side"]["by_symbol"]["BTCUSDT"]["p5"] == 13
    assert got["inside_spread_bps"]["by_symbol"]["SOLUSDT"]["p95"] == pytest.approx(2.22, abs=0.01)


def test_trade_intervals_and_empty_minutes_per_symbol():
    prints = {"BTCUSDT": [60.0, 66.0, 72.0, 100.0]}
    got = trade_figures(prints, ["BTCUSDT", "ETHUSDT"], (55.0, 185.0))
    btc = got["trade_interval_s"]["BTCUSDT"]
    assert (btc["p50"], btc["max"]) == (6.0, 85.0)  # max includes the silent tail 100 → 185
    assert got["full_minutes"] == 4  # 60-120 and 120-180, for each symbol
    assert got["empty_kline_minutes"] == 3  # BTC 120-180, ETH both
    assert got["empty_kline_minutes_by_symbol"] == {"BTCUSDT": 1, "ETHUSDT": 2}


def test_exposure_is_judged_on_every_position_the_exchange_reported_after_a_fill():
    mids = Mids({"BTCUSDT": [(0.0, 100000.0)]})
    positions = [
        (5.0, L1.account, "BTCUSDT", 0.0015),  # $150: at the cap, between two 1-s samples
        (5.2, L1.account, "BTCUSDT", 0.0005),
        (50.0, L1.account, "BTCUSDT", 0.003),  # outside the window
    ]
    got = max_exposure_ratio(positions, mids, {L1.account: 150.0}, (0.0, 10.0))
    assert got["max_exposure_ratio"] == pytest.approx(1.0)
    assert (got["worst"], got["position_updates"]) == (f"{L1.account}/BTCUSDT", 2)
