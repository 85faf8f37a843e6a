"""The bench's figures from a hand-made exchange recording (what each number means)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rocky_bot.bench.analysis import (
    Level,
    Positions,
    percentile,
    refill_latencies,
    requote_latencies,
    timeline,
)
from rocky_bot.bench.report import request_weight
from rocky_bot.bench.samples import book_figures, trade_figures, uptime

L1 = Level("mm-l1-buy-05bps", "BTCUSDT", "BUY", Decimal(5), Decimal(2))
KEY = L1.key


def ev(t, x, status, oid, price, maker=0, account="mm-l1-buy-05bps", side="BUY"):
    return (t, account, "BTCUSDT", side, x, status, oid, price, maker, 0)


EVENTS = [
    ev(10.000, "NEW", "NEW", 1, 99950.0),  # at target for mid 100000
    ev(10.325, "AMENDMENT", "NEW", 1, 99980.0),  # requoted 25 ms after the exit tick
    ev(11.000, "TRADE", "FILLED", 1, 99980.0, maker=1),  # a taker filled it ...
    ev(11.000, "TRADE", "FILLED", 9, 99980.0, account="taker-1", side="SELL"),
    ev(11.004, "NEW", "NEW", 2, 99980.0),  # ... and the level was refilled 4 ms later
]
TICKS = {"BTCUSDT": [(10.1, 100000.0), (10.2, 100010.0), (10.3, 100030.0), (10.4, 100030.0)]}


def test_requote_latency_runs_from_the_tick_leaving_the_band_to_the_accepted_replacement():
    tl = timeline(EVENTS, {KEY})
    got = requote_latencies(tl, TICKS, {KEY: L1}, (0.0, 20.0))
    assert got["n"] == 1
    assert got["p50"] == pytest.approx(25.0, abs=0.01)
    assert got["unreplaced"] == 0


def test_a_band_exit_the_mid_undoes_before_any_reaction_is_transient_not_a_late_requote():
    ticks = {"BTCUSDT": [
        (10.1, 100000.0), (10.2, 100030.0), (10.21, 100000.0),  # out for 10 ms, then back
        (12.0, 100030.0),  # out again: answered by the amendment at 12.004
    ]}  # fmt: skip
    events = [EVENTS[0], ev(12.004, "AMENDMENT", "NEW", 1, 99980.0)]
    got = requote_latencies(timeline(events, {KEY}), ticks, {KEY: L1}, (0.0, 20.0))
    assert got["n"] == 1 and got["p50"] == pytest.approx(4.0, abs=0.01)
    assert got["transient_exits"]["n"] == 1
    assert got["transient_exits"]["max"] == pytest.approx(10.0, abs=0.01)
    assert got["from_first_exit"]["max"] == pytest.approx(1804.0, abs=0.01)


def test_a_quote_within_its_band_is_not_a_requote_sample():
    calm = {"BTCUSDT": [(10.1, 100000.0), (10.2, 100015.0)]}  # 1.5 bps < 2 bps drift
    tl = timeline(EVENTS[:1], {KEY})
    assert requote_latencies(tl, calm, {KEY: L1}, (0.0, 20.0))["n"] == 0


def _refills(position_after_fill: float) -> dict:
    return refill_latencies(
        timeline(EVENTS, {KEY}), (0.0, 20.0), levels={KEY: L1},
        positions=Positions([(11.0, L1.account, "BTCUSDT", position_after_fill)]),
        ticks=TICKS, caps={L1.account: 150.0},
    )  # fmt: skip


def test_refill_latency_runs_from_the_maker_fill_to_the_next_accepted_order():
    got = _refills(0.0005)
    assert got["n"] == 1 and got["p50"] == pytest.approx(4.0, abs=0.01)
    assert got["cap_gated"] == 0


def test_a_fill_that_leaves_the_level_cap_gated_owes_no_refill():
    got = _refills(0.0012)  # + 0.0005 more at ~100k would be $170 > $150
    assert got["n"] == 0 and got["cap_gated"] == 1


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
    assert got["quote_uptime"] == 0.0
    assert got["down_samples"]["cap_gated"] == 1
    assert got["quote_uptime_excl_cap_gated"] is None  # no sample in which a quote was owed


def test_trade_intervals_and_empty_minutes_per_symbol():
    prints = {"BTCUSDT": [60.0, 66.0, 72.0, 100.0]}
    got = trade_figures(prints, ["BTCUSDT", "ETHUSDT"], (55.0, 185.0))
    btc = got["trade_interval_s"]["BTCUSDT"]
    assert (btc["p50"], btc["max"]) == (6.0, 85.0)  # max includes the silent tail 100 → 185
    assert got["full_minutes"] == 4  # 60-120 and 120-180, for each symbol
    assert got["empty_kline_minutes"] == 3  # BTC 120-180, ETH both


def test_inside_spread_and_depth_come_from_the_top_of_book_samples():
    s = {"books": {"BTCUSDT": [99990.0, 100010.0, 13, 12]}}
    got = book_figures([s, s])
    assert got["inside_spread_bps"]["p50"] == pytest.approx(2.0, abs=0.001)
    assert got["levels_per_side"] == {"min": 12, "p50": 12}


def test_request_weights_are_binance_usdm_ip_weights():
    assert request_weight("POST", "/fapi/v1/order", False) == 0
    assert request_weight("PUT", "/fapi/v1/order", False) == 0
    assert request_weight("DELETE", "/fapi/v1/order", False) == 1
    assert request_weight("GET", "/fapi/v1/openOrders", True) == 1
    assert request_weight("GET", "/fapi/v1/openOrders", False) == 40
    assert request_weight("GET", "/fapi/v2/positionRisk", False) == 5
    assert request_weight("GET", "/fapi/v1/balance", False) == 5
    assert request_weight("POST", "/fapi/v1/countdownCancelAll", False) == 10
    assert request_weight("PUT", "/fapi/v1/listenKey", False) == 1
    assert request_weight("POST", "/admin/v1/accounts", False) == 0


def test_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 99) == 99
