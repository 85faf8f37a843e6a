"""The shared weight governor: optional polls, 429/418 pauses, waiting until ready."""

from __future__ import annotations

from rocky_bot.exchange.governor import WeightGovernor

from .conftest import FakeTime as SleepingClock


class FakeTime(SleepingClock):
    """The shared fake clock, started where these tests expect it."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 100.0


def test_optional_polls_allowed_up_to_80_percent_of_the_limit() -> None:
    gov = WeightGovernor(limit_per_min=2400, clock=FakeTime())
    assert gov.allow_optional()
    gov.observe(1920)
    assert gov.allow_optional()
    gov.observe(1921)
    assert not gov.allow_optional()
    assert gov.used_weight == 1921


def test_latest_reading_wins_and_expires_after_a_minute() -> None:
    t = FakeTime()
    gov = WeightGovernor(limit_per_min=100, clock=t)
    gov.observe(95)
    gov.observe(10)  # a new minute started on the exchange
    assert gov.used_weight == 10
    gov.observe(99)
    t.now += 60
    assert gov.used_weight == 0 and gov.allow_optional()


def test_429_pauses_only_that_client() -> None:
    t = FakeTime()
    gov = WeightGovernor(clock=t)
    gov.pause(30, client_id="taker-1")
    assert gov.paused_for("taker-1") == 30
    assert gov.paused_for("taker-2") == 0
    t.now += 12
    assert gov.paused_for("taker-1") == 18


def test_418_pauses_every_client() -> None:
    t = FakeTime()
    gov = WeightGovernor(clock=t)
    gov.pause(120, client_id=None)
    assert gov.paused_for("mm-anchor") == 120
    assert gov.paused_for("taker-5") == 120


def test_a_shorter_pause_never_cuts_a_longer_one_short() -> None:
    t = FakeTime()
    gov = WeightGovernor(clock=t)
    gov.pause(60, client_id="a")
    gov.pause(5, client_id="a")
    gov.pause(300, client_id=None)
    gov.pause(1, client_id=None)
    assert gov.paused_for("a") == 300


async def test_wait_ready_returns_at_once_when_not_paused() -> None:
    t = FakeTime()
    gov = WeightGovernor(clock=t)
    await gov.wait_ready("a", sleep=t.sleep)
    assert t.slept == []


async def test_wait_ready_sleeps_out_the_pause_including_extensions() -> None:
    t = FakeTime()
    gov = WeightGovernor(clock=t)
    gov.pause(10, client_id="a")

    async def sleep(seconds: float) -> None:
        await t.sleep(seconds)
        if len(t.slept) == 1:  # a 418 arrives while we wait
            gov.pause(20, client_id=None)

    await gov.wait_ready("a", sleep=sleep)
    assert t.slept == [10, 20]
    assert gov.paused_for("a") == 0


def test_own_requests_are_counted_pessimistically_for_a_minute() -> None:
    """Rocky does not publish what orders cost: a burst of order actions at 1 each holds back
    optional polls even when the exchange's header says little was used (DESIGN.md §7)."""
    t = FakeTime()
    gov = WeightGovernor(limit_per_min=100, clock=t)
    gov.observe(10)
    for _ in range(81):
        gov.note_sent(1)
    assert gov.planned_weight == 81 and not gov.allow_optional()
    t.now += 60
    assert gov.planned_weight == 0 and gov.allow_optional()


def test_own_requests_are_forgotten_as_they_leave_the_minute_even_unread() -> None:
    """Nobody reads the count for a while (optional polls come every few seconds to minutes):
    the requests remembered are still the last minute's, not every one since the last read."""
    t = FakeTime()
    gov = WeightGovernor(limit_per_min=100_000, clock=t)
    start = t.now
    for i in range(36_000):  # an hour at 10 requests a second
        t.now = start + i / 10
        gov.note_sent(1)
    assert gov.held() == 600  # the last minute's
    assert gov.planned_weight == 600
