"""Runway: burn net of deposits, hours to empty and to the breaker's line (pure, fake time)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.ops.runway import AccountRunway, RunwayPolicy, WalletHistory, fleet_runway, runway


def test_a_deposit_in_the_window_does_not_hide_the_burn():
    history = WalletHistory()
    history.note(0, D(100), D(0))
    history.note(1800, D(60), D(0))  # $40 lost in half an hour
    history.note(1801, D(100), D(0), deposit=D(40))  # the funding timer refills it
    history.note(3600, D(60), D(0))
    assert history.burn_per_day(3600) == pytest.approx(80 / 3600 * 86400)
    assert history.last_deposit_at == 1801


def test_the_window_is_the_last_hour_and_the_history_is_bounded():
    history = WalletHistory(maxlen=10)
    for t in range(0, 100_000, 300):
        history.note(t, D(100) - D(t) / 10_000, D(0))
    assert len(history) == 10
    assert history.burn_per_day(99_900) == pytest.approx(8.64)


def test_a_busy_stream_is_judged_over_the_whole_hour():
    """A wallet update every second (a busy maker's fills): $10 lost in the hour's first half,
    none in the second. The burn is the hour's ($240 a day), not the last minutes' (none)."""
    history = WalletHistory()
    for t in range(3601):
        wallet = D(100) - D(10) * min(t, 1800) / 1800
        history.note(float(t), wallet, D(t))
    assert history.burn_per_day(3600.0) == pytest.approx(240, rel=0.02)
    assert history.notional_per_hour(3600.0) == pytest.approx(3600, rel=0.02)


def test_a_burn_from_the_second_reading_on_even_within_a_step():
    """A new daemon reports a burn seconds after its second reading, not a minute later."""
    history = WalletHistory()
    history.note(0.0, D(100), D(0))
    history.note(5.0, D(99), D(500))
    history.note(10.0, D(98), D(1000))  # the middle one is dropped: neither first nor newest
    assert len(history) == 2
    assert history.burn_per_day(10.0) == pytest.approx(2 / 10 * 86400)


def test_no_runway_while_not_burning_or_unknown():
    assert runway(D(100), D(70), None).hours is None
    assert runway(D(100), D(70), -5.0).hours is None
    assert runway(None, D(70), 10.0).hours is None


def test_hours_to_empty_and_to_the_line():
    r = runway(D(100), D(70), burn_per_day=48.0)  # $2 an hour
    assert r.hours_to_empty == pytest.approx(50)
    assert r.hours_to_line == pytest.approx(15)
    assert r.hours == pytest.approx(15)


def test_a_line_that_recedes_as_fast_as_the_burn_is_never_reached():
    """A taker losing exactly its expected cost: the line moves down with the wallet."""
    r = runway(D(100), D(70), burn_per_day=48.0, allowance_per_hour=2.0)
    assert r.hours_to_line is None
    assert r.hours == pytest.approx(50)  # it still runs dry without funding
    assert runway(D(100), D(70), 48.0, allowance_per_hour=1.0).hours_to_line == pytest.approx(30)


# --- when a short runway is a problem -------------------------------------------------------------

POLICY = RunwayPolicy(alert_h=24, quiet_s=7200, fund_floor_usd=50)


def taker(wallet: float, runway_h: float | None = 8.0) -> AccountRunway:
    return AccountRunway("taker-1", wallet, 180.0, runway_h)


def maker(wallet: float = 100.0) -> AccountRunway:
    return AccountRunway("mm-l1-buy-05bps", wallet, -5.0, None)  # a ladder earns


def test_a_taker_with_a_day_short_runway_is_normal_while_above_the_funding_floor():
    doc = fleet_runway([taker(90), maker()], None, started_at=0, now=10 * 3600, policy=POLICY)
    assert doc["runway_low"] is None


def test_under_the_floor_and_unfunded_for_two_hours_is_a_problem():
    doc = fleet_runway([taker(40, 5.0), maker()], None, started_at=0, now=3 * 3600, policy=POLICY)
    assert doc["runway_low"] == "runway low, unfunded for 2 h: taker-1 5.0 h"


def test_a_recent_funding_or_a_recent_start_is_not():
    accounts = [taker(40, 5.0), maker(1000)]  # the fleet as a whole lasts days
    assert fleet_runway(accounts, 2 * 3600, 0, 3 * 3600, POLICY)["runway_low"] is None
    assert fleet_runway(accounts, None, 2 * 3600, 3 * 3600, POLICY)["runway_low"] is None


def test_a_fleet_that_will_be_dry_within_a_day_is_a_problem_even_when_funded():
    accounts = [AccountRunway(f"taker-{n}", 60.0, 400.0, 3.6) for n in range(1, 6)]
    doc = fleet_runway(accounts, 3 * 3600, 0, 3 * 3600 + 1, POLICY)
    assert doc["runway_low"] == "fleet runway low: 3.6 h"
    assert doc["wallet"] == 300 and doc["burn_per_day"] == 2000 and doc["runway_h"] == 3.6


def test_the_check_can_be_turned_off():
    off = RunwayPolicy(alert_h=0)
    assert fleet_runway([taker(1, 0.1)], None, 0, 10**6, off)["runway_low"] is None
