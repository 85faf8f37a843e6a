"""The per-symbol mid guard on plain numbers: which ticks are jumps, when a symbol is stale, in a
shock pause or in doubt, and that each change is reported once."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from rocky_bot.feed.guard import GuardLimits, SymbolGuard

LIMITS = GuardLimits.from_pcts(
    stale_after_s=5.0, max_jump_pct=5.0, shock_pct=2.0, shock_window_s=10.0, shock_pause_s=30.0
)


def guard_at(mid: str, t: float = 0.0) -> SymbolGuard:
    """A guard whose last accepted mid is `mid` at time `t`, fresh on this connection."""
    guard = SymbolGuard(LIMITS)
    guard.accept(D(mid), t)
    guard.mark_fresh()
    return guard


def test_limits_are_exact_fractions_of_the_percents():
    assert LIMITS.max_jump == D("0.05")
    assert LIMITS.shock == D("0.02")


@pytest.mark.parametrize(
    ("setup", "mid", "now", "jump"),
    [
        ("first", "1000", 1.0, False),  # nothing to compare with yet
        ("fresh", "104.99", 1.0, False),
        ("fresh", "105", 1.0, False),  # exactly 5 % is still accepted
        ("fresh", "105.01", 1.0, True),
        ("fresh", "94.99", 1.0, True),
        ("fresh", "105.01", 5.0, True),  # exactly stale_after_s: the base is still fresh
        ("fresh", "105.01", 5.01, False),  # the base is stale: the move happened while blind
        ("rebased", "200", 1.0, False),  # first tick after a reconnect is the new base
    ],
)
def test_a_tick_is_a_jump_only_against_a_fresh_base(setup, mid, now, jump):
    if setup == "first":
        guard = SymbolGuard(LIMITS)
    else:
        guard = guard_at("100")
        if setup == "rebased":
            guard.rebase()
    assert guard.is_jump(D(mid), now) is jump


def test_a_dropped_tick_puts_the_symbol_in_doubt_once_until_a_tick_is_accepted():
    guard = guard_at("100")
    assert guard.is_live(1.0)
    assert guard.drop() is True  # reported
    assert guard.drop() is False  # already in doubt: not reported again
    assert guard.in_doubt() and not guard.is_live(1.0)
    assert guard.mid == D("100")  # a dropped tick never moves the mid
    guard.accept(D("100.5"), 2.0)
    assert guard.mark_fresh() is True
    assert guard.mark_fresh() is False
    assert guard.is_live(2.0)


@pytest.mark.parametrize(
    ("ticks", "shocks"),
    [
        # (t, mid) accepted in order -> indexes of the ticks that trip the pause
        ([(0, "100"), (1, "101"), (2, "101.99")], []),
        ([(0, "100"), (1, "101"), (2, "102.01")], [2]),
        ([(0, "100"), (1, "97.9")], [1]),  # down moves too
        ([(0, "100"), (11, "102.5")], []),  # outside the 10 s window
        # the window restarts at the shock's mid: the same move does not trip it again
        ([(0, "100"), (1, "102.5"), (2, "102.4"), (3, "102.6")], [1]),
        ([(0, "100"), (1, "102.5"), (2, "104.6")], [1, 2]),  # a further 2 % does
    ],
)
def test_mids_spreading_past_the_shock_pct_within_the_window_trip_the_pause(ticks, shocks):
    guard = SymbolGuard(LIMITS)
    tripped = [i for i, (t, mid) in enumerate(ticks) if guard.accept(D(mid), t) is not None]
    assert tripped == shocks


def test_a_shock_pauses_the_symbol_reports_the_start_once_and_the_end_once():
    guard = guard_at("100")
    first = guard.accept(D("102.5"), 1.0)
    assert first is not None and first.started
    assert (first.low, first.high, first.pause_until) == (D("100"), D("102.5"), 31.0)
    assert guard.in_shock_pause(1.0) and not guard.is_live(1.0)
    again = guard.accept(D("105"), 2.0)  # extends the pause, already reported
    assert again is not None and not again.started and again.pause_until == 32.0
    assert guard.pause_ended(31.9) is False
    assert guard.pause_ended(32.0) is True
    assert guard.pause_ended(33.0) is False
    assert not guard.in_shock_pause(32.0)


def test_silence_turns_stale_once_and_the_watchdog_knows_when_to_look():
    guard = SymbolGuard(LIMITS)
    assert guard.is_stale(0.0) and guard.next_deadline() == math.inf  # no mid yet
    guard.accept(D("100"), 10.0)
    assert guard.mark_fresh() is True
    assert guard.next_deadline() == 15.0
    assert guard.went_stale(15.0) is False  # exactly stale_after_s is still fresh
    assert guard.went_stale(15.1) is True
    assert guard.went_stale(16.0) is False
    assert guard.is_stale(15.1) and guard.age_s(15.1) == pytest.approx(5.1)
    assert guard.next_deadline() == math.inf
    assert not guard.is_jump(D("200"), 20.0)  # stale: no jump check, accepted as the new base
    shock = guard.accept(D("200"), 20.0)
    assert guard.mark_fresh() is True and guard.mid == D("200")
    assert shock is not None and guard.in_shock_pause(20.0)  # a move that big pauses besides
