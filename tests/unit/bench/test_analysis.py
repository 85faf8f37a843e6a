"""Requote and refill latency from a hand-made exchange recording (what each number means)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rocky_bot.bench.analysis import (
    Judge,
    Level,
    Mids,
    Positions,
    band,
    percentile,
    refill_latencies,
    requote_latencies,
    timeline,
)

L1 = Level("mm-l1-buy-05bps", "BTCUSDT", "BUY", Decimal(5), Decimal(2))
KEY = L1.key
CAPS = {L1.account: 150.0}


def ev(t, x, status, oid, price, maker=0, account="mm-l1-buy-05bps", side="BUY"):
    return (t, account, "BTCUSDT", side, x, status, oid, price, maker, 0)


def judge(ticks, window=(0.0, 20.0), positions=()):
    return Judge(window, {KEY: L1}, Positions(positions), Mids(ticks), CAPS)


NEW = ev(10.000, "NEW", "NEW", 1, 99950.0)  # at target for mid 100000
OUT = {"BTCUSDT": [(10.1, 100000.0), (10.2, 100010.0), (10.3, 100030.0), (10.4, 100030.0)]}


@pytest.mark.parametrize(
    ("price", "side", "offset", "drift", "low", "high"),
    [
        (99950.0, "BUY", 5, 2, 99980.0, 100020.0),  # ±2 bps of mid around a 5 bps bid
        (100050.0, "SELL", 5, 2, 99980.0, 100020.0),
        (100010.0, "SELL", 1, 1, 99990.0, 100010.0),
    ],
)
def test_band_is_the_mids_for_which_the_price_is_within_drift_of_target(
    price, side, offset, drift, low, high
):
    got = band(price, side, offset, drift)
    assert got == pytest.approx((low, high), abs=0.05)


def test_requote_runs_from_the_first_tick_out_of_band_to_the_accepted_replacement():
    events = [NEW, ev(10.325, "AMENDMENT", "NEW", 1, 99980.0)]
    got = requote_latencies(timeline(events, {KEY}), judge(OUT))
    assert (got["n"], got["unanswered"]) == (1, 0)
    assert got["p50"] == pytest.approx(25.0, abs=0.01)  # 10.300 → 10.325


def test_an_exit_the_mid_undid_still_counts_from_the_first_exit():
    ticks = {"BTCUSDT": [
        (10.1, 100000.0), (10.2, 100030.0), (10.21, 100000.0),  # out 10 ms, back
        (12.0, 100030.0),  # out again; answered by the amendment at 12.004
    ]}  # fmt: skip
    events = [NEW, ev(12.004, "AMENDMENT", "NEW", 1, 99980.0)]
    got = requote_latencies(timeline(events, {KEY}), judge(ticks))
    assert got["p50"] == pytest.approx(1804.0, abs=0.01)  # from 10.2, the first exit
    assert got["from_last_exit"]["p50"] == pytest.approx(4.0, abs=0.01)
    assert got["transient_exits"]["max"] == pytest.approx(10.0, abs=0.01)


def test_an_exit_never_answered_counts_up_to_the_windows_end():
    got = requote_latencies(timeline([NEW], {KEY}), judge(OUT, window=(0.0, 11.3)))
    assert (got["n"], got["unanswered"]) == (1, 1)
    assert got["p99"] == pytest.approx(1000.0, abs=0.01)  # 10.3 → 11.3


def test_a_quote_pulled_by_the_cap_gate_owes_no_replacement():
    events = [NEW, ev(10.35, "CANCELED", "CANCELED", 1, 99950.0)]
    at_cap = [(9.0, L1.account, "BTCUSDT", 0.0012)]  # +0.0005 at ~100k would be $170 > $150
    got = requote_latencies(timeline(events, {KEY}), judge(OUT, positions=at_cap))
    assert (got["n"], got["cap_gated"]) == (0, 1)


def test_a_quote_within_its_band_is_not_a_requote_sample():
    calm = {"BTCUSDT": [(10.1, 100000.0), (10.2, 100015.0)]}  # 1.5 bps < 2 bps drift
    assert requote_latencies(timeline([NEW], {KEY}), judge(calm))["n"] == 0


FILLED = [
    NEW,
    ev(11.000, "TRADE", "FILLED", 1, 99950.0, maker=1),  # a taker filled it ...
    ev(11.000, "TRADE", "FILLED", 9, 99950.0, account="taker-1", side="SELL"),
]


@pytest.mark.parametrize(
    ("refill_at", "position", "window_end", "n", "p50", "unrefilled", "gated"),
    [
        (11.004, 0.0005, 20.0, 1, 4.0, 0, 0),  # refilled 4 ms later
        (None, 0.0005, 13.0, 1, 2000.0, 1, 0),  # never: counted to the window's end
        (25.0, 0.0005, 13.0, 1, 2000.0, 1, 0),  # after the window: the same
        (None, 0.0012, 20.0, 0, None, 0, 1),  # the fill left the level at its cap
    ],
)
def test_refill_latency(refill_at, position, window_end, n, p50, unrefilled, gated):
    events = FILLED + ([ev(refill_at, "NEW", "NEW", 2, 99950.0)] if refill_at else [])
    positions = [(11.001, L1.account, "BTCUSDT", position)]
    got = refill_latencies(
        timeline(events, {KEY}), judge(OUT, window=(0.0, window_end), positions=positions)
    )
    assert (got["n"], got["unrefilled"], got["cap_gated"]) == (n, unrefilled, gated)
    assert got["p50"] == (None if p50 is None else pytest.approx(p50, abs=0.01))


def test_taker_prints_are_the_trade_tape():
    tl = timeline(FILLED, {KEY})
    assert tl.prints == {"BTCUSDT": [11.0]} and tl.maker_fills[KEY] == [11.0]


def test_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 99) == 99
