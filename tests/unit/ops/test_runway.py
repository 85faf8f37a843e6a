"""Runway: burn net of deposits, hours to empty and to the breaker's line (pure, fake time)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.ops.runway import WalletHistory, runway


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
