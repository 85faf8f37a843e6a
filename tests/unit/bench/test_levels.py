"""The levels the bench judges: the fleet's published drift, checked against the settings."""

from __future__ import annotations

from decimal import Decimal

from rocky_bot.bench.levels import judged_levels, nominal_drift

SETTINGS = {"anchor_drift_bps": 1.0, "ladder_drift_bps": 2.0, "deep_drift_share": 0.2,
            "drift_jitter": 0.25}  # fmt: skip


def row(account, drift, offset, side="BUY"):
    return {"account": account, "symbol": "BTCUSDT", "side": side, "offset_bps": str(offset),
            "drift_bps": str(drift)}  # fmt: skip


def test_nominal_drift_by_layer_from_the_settings_alone():
    assert nominal_drift("mm-anchor", SETTINGS) == 1.0
    assert nominal_drift("mm-l1-buy-10bps", SETTINGS) == 2.0
    assert nominal_drift("mm-l2-sell-25bps", SETTINGS) == 5.0
    assert nominal_drift("mm-l3-buy-100bps", SETTINGS) == 20.0


def test_a_published_drift_within_the_jitter_is_used_as_published():
    levels, wrong = judged_levels([row("mm-l2-sell-25bps", 5.9, 25, "SELL")], SETTINGS)
    assert wrong == [] and levels[0].drift_bps == Decimal("5.9")


def test_a_published_drift_the_settings_do_not_explain_is_reported_and_not_trusted():
    levels, wrong = judged_levels([row("mm-l1-buy-05bps", 9.0, 5)], SETTINGS)
    assert wrong[0]["expected_drift_bps"] == 2.0
    assert levels[0].drift_bps == Decimal("2.0")
