"""The per-account circuit breaker (DESIGN.md §3.9) driven by a fake clock: no test waits."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.risk import BreakerConfig, BreakerState, CircuitBreaker, Transition, TripKind

CLOSED, OPEN, HALF = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(BreakerConfig(), clock)


def errors(breaker: CircuitBreaker, clock: Clock, n: int, every_s: float = 1.0) -> list:
    """Record n errors `every_s` apart; return the transitions they caused."""
    out = []
    for i in range(n):
        if i:
            clock.advance(every_s)
        if (t := breaker.record_error()) is not None:
            out.append(t)
    return out


def trip(breaker: CircuitBreaker, clock: Clock) -> Transition:
    (t,) = errors(breaker, clock, 10, every_s=0.5)  # binary-exact steps: no float drift
    return t


def test_starts_closed_and_trading(breaker):
    assert breaker.state is CLOSED and breaker.allows_trading()
    assert breaker.poll() is None
    assert breaker.record_success() is None


def test_ten_errors_within_60s_trip_it(breaker, clock):
    assert errors(breaker, clock, 9, every_s=6.0) == []
    assert breaker.state is CLOSED
    clock.advance(5.0)  # the 10th error 59 s after the first
    t = breaker.record_error("timeout")
    assert t == Transition(CLOSED, OPEN, t.reason, 60.0, TripKind.API_ERRORS)
    assert "10 API errors in 60s" in t.reason and "timeout" in t.reason
    assert breaker.state is OPEN and not breaker.allows_trading()
    assert breaker.reason == t.reason
    assert breaker.trips == 1


def test_ten_errors_spread_over_more_than_60s_do_not(breaker, clock):
    assert errors(breaker, clock, 30, every_s=6.7) == []  # never 10 inside one 60-s window
    assert breaker.state is CLOSED


def test_old_errors_leave_the_window(breaker, clock):
    assert errors(breaker, clock, 9, every_s=0.1) == []
    clock.advance(61.0)
    assert errors(breaker, clock, 9, every_s=0.1) == []
    assert breaker.state is CLOSED
    assert breaker.record_error() is not None  # 10 within the window now


def test_three_margin_rejects_within_60s_trip_it(breaker, clock):
    assert breaker.record_margin_reject() is None
    clock.advance(30)
    assert breaker.record_margin_reject() is None
    clock.advance(29)
    t = breaker.record_margin_reject()
    assert t is not None and (t.old, t.new) == (CLOSED, OPEN)
    assert "3 margin rejections in 60s" in t.reason


def test_margin_rejects_spread_over_more_than_60s_do_not(breaker, clock):
    for _ in range(10):
        assert breaker.record_margin_reject() is None
        clock.advance(31)
    assert breaker.state is CLOSED


def test_drawdown_of_30_percent_from_peak_trips_it(breaker):
    assert breaker.update_wallet(D(100)) is None
    assert breaker.update_wallet(D(120)) is None  # new peak
    assert breaker.update_wallet(D("84.01")) is None  # 29.99 % below 120
    assert breaker.state is CLOSED
    t = breaker.update_wallet(D(84))  # exactly 30 %
    assert t is not None and (t.old, t.new) == (CLOSED, OPEN)
    assert t.reason.startswith("drawdown 30%") and "120" in t.reason
    assert breaker.drawdown == pytest.approx(0.30)


def test_a_drawdown_trip_stays_open_until_the_wallet_recovers(breaker, clock):
    breaker.update_wallet(D(100))
    assert breaker.update_wallet(D(60)) is not None
    clock.advance(10_000)  # far past any cooldown
    assert breaker.poll() is None
    assert breaker.update_wallet(D(65)) is None  # still 35 % down
    assert breaker.poll() is None and breaker.state is OPEN
    assert breaker.update_wallet(D(100)) is None  # a faucet top-up
    t = breaker.poll()
    assert t is not None and (t.old, t.new) == (OPEN, HALF)
    assert breaker.allows_trading()


def test_a_top_up_above_the_peak_raises_the_peak(breaker, clock):
    breaker.update_wallet(D(100))
    breaker.update_wallet(D(50))
    breaker.update_wallet(D(200))
    clock.advance(60)
    assert breaker.poll() is not None
    assert breaker.record_success() is not None
    assert breaker.update_wallet(D(141)) is None  # 29.5 % below the new 200 peak
    assert breaker.update_wallet(D(140)) is not None


def test_open_half_opens_after_the_cooldown(breaker, clock):
    trip(breaker, clock)
    clock.advance(59.75)
    assert breaker.poll() is None and breaker.state is OPEN
    clock.advance(0.25)
    t = breaker.poll()
    assert t is not None and (t.old, t.new, t.reason) == (OPEN, HALF, "cooldown over")
    assert breaker.allows_trading()
    assert breaker.poll() is None  # once


def test_half_open_success_closes_it_and_resets_the_cooldown(breaker, clock):
    trip(breaker, clock)
    clock.advance(60)
    breaker.poll()
    assert breaker.record_error() is not None  # re-opens with 120 s
    clock.advance(120)
    breaker.poll()
    t = breaker.record_success()
    assert t is not None and (t.old, t.new) == (HALF, CLOSED)
    assert t.reason and t.cooldown_s == 60.0
    assert breaker.state is CLOSED and breaker.allows_trading()
    t = trip(breaker, clock)  # the next trip starts again from the base cooldown
    assert t.cooldown_s == 60.0


@pytest.mark.parametrize("fail", ["record_error", "record_margin_reject"])
def test_half_open_failure_reopens_with_double_cooldown_capped_at_900s(breaker, clock, fail):
    t = trip(breaker, clock)
    seen = [t.cooldown_s]
    for _ in range(6):
        clock.advance(seen[-1] - 0.25)
        assert breaker.poll() is None  # not a moment early
        clock.advance(0.25)
        assert breaker.poll().new is HALF
        t = getattr(breaker, fail)()
        assert t is not None and (t.old, t.new) == (HALF, OPEN)
        assert "half-open" in t.reason
        seen.append(t.cooldown_s)
    assert seen == [60, 120, 240, 480, 900, 900, 900]
    assert breaker.trips == 7


def test_one_error_while_half_open_is_enough(breaker, clock):
    trip(breaker, clock)
    clock.advance(60)
    breaker.poll()
    assert breaker.record_error("http 503") is not None
    assert "http 503" in breaker.reason


def test_errors_while_open_do_not_transition(breaker, clock):
    trip(breaker, clock)
    assert errors(breaker, clock, 20, every_s=0.1) == []
    assert breaker.record_margin_reject() is None
    assert breaker.record_success() is None
    assert breaker.state is OPEN


def test_a_drawdown_while_half_open_reopens(breaker, clock):
    breaker.update_wallet(D(100))
    trip(breaker, clock)
    clock.advance(60)
    breaker.poll()
    t = breaker.update_wallet(D(70))
    assert t is not None and (t.old, t.new) == (HALF, OPEN) and "drawdown" in t.reason


def test_every_transition_carries_a_reason(breaker, clock):
    transitions = [trip(breaker, clock)]
    clock.advance(60)
    transitions.append(breaker.poll())
    transitions.append(breaker.record_margin_reject())
    clock.advance(120)
    transitions.append(breaker.poll())
    transitions.append(breaker.record_success())
    breaker.update_wallet(D(100))
    transitions.append(breaker.update_wallet(D(10)))
    assert [(t.old, t.new) for t in transitions] == [
        (CLOSED, OPEN), (OPEN, HALF), (HALF, OPEN), (OPEN, HALF), (HALF, CLOSED), (CLOSED, OPEN)
    ]  # fmt: skip
    assert all(t.reason for t in transitions)


def test_a_custom_config_is_honoured(clock):
    cfg = BreakerConfig(max_errors=2, error_window_s=5, cooldown_s=1, max_cooldown_s=3)
    breaker = CircuitBreaker(cfg, clock)
    assert breaker.record_error() is None
    clock.advance(6)
    assert breaker.record_error() is None
    t = breaker.record_error()
    assert t is not None and t.cooldown_s == 1 and "2 API errors in 5s" in t.reason
    cooldowns = []
    for _ in range(3):
        clock.advance(cooldowns[-1] if cooldowns else 1)
        breaker.poll()
        cooldowns.append(breaker.record_error().cooldown_s)
    assert cooldowns == [2, 3, 3]


# --- losses judged by what is expected (issue 10) ------------------------------------------------

TAKER = BreakerConfig(expected_cost_bps=8, cost_slack=2.0)  # fee 5 bps + ~3 bps crossing


def test_a_takers_expected_bleed_never_trips_it(clock):
    """A day of taker flow at 8 bps on $2.4 M traded costs ~$190: far past a 30 % line on a $100
    wallet, and exactly what the taker is for. Each reading carries the notional traded so far."""
    breaker = CircuitBreaker(TAKER, clock)
    wallet, traded = D(100), D(0)
    breaker.update_wallet(wallet, traded_notional=traded)
    for _ in range(288):  # every 5 minutes for a day (topped up whenever it runs low)
        traded += D(8300)
        wallet -= D(8300) * D("0.0008")
        deposit = D(0)
        if wallet < 50:
            deposit, wallet = D(100) - wallet, D(100)
        assert breaker.update_wallet(wallet, traded_notional=traded, deposit=deposit) is None
    assert breaker.state is CLOSED and breaker.trips == 0


def test_a_loss_far_beyond_the_expected_cost_trips_it(clock):
    breaker = CircuitBreaker(TAKER, clock)
    breaker.update_wallet(D(100), traded_notional=D(0))
    # $10,000 traded explains 2 × 8 bps = $16; a $50 loss leaves $34 unexplained (> 30 % of 100)
    t = breaker.update_wallet(D(50), traded_notional=D(10_000))
    assert t is not None and t.kind is TripKind.DRAWDOWN
    assert breaker.expected_loss == D(16) and breaker.unexplained_loss == D(34)
    assert "34.00 beyond the expected 16.00" in t.reason


def test_a_loss_the_trading_explains_does_not(clock):
    breaker = CircuitBreaker(TAKER, clock)
    breaker.update_wallet(D(100), traded_notional=D(0))
    # a $45 loss on $100,000 traded: $160 is expected, nothing is unexplained
    assert breaker.update_wallet(D(55), traded_notional=D(100_000)) is None
    assert breaker.unexplained_loss == 0
    assert breaker.drawdown == pytest.approx(0.45)  # what an operator sees, still reported


def test_a_deposit_is_not_a_gain_and_resets_the_line(clock):
    breaker = CircuitBreaker(BreakerConfig(), clock)
    breaker.update_wallet(D(100))
    breaker.update_wallet(D(80))  # 20 % down
    assert breaker.update_wallet(D(130), deposit=D(50)) is None
    assert breaker.drawdown_line == D(91)  # 30 % under the new peak of 130
    assert breaker.update_wallet(D("91.01")) is None
    assert breaker.update_wallet(D(91)) is not None


def test_a_deposit_lets_a_drawdown_trip_half_open(clock):
    breaker = CircuitBreaker(BreakerConfig(), clock)
    breaker.update_wallet(D(100))
    assert breaker.update_wallet(D(60)).kind is TripKind.DRAWDOWN
    clock.advance(120)
    assert breaker.poll() is None  # still under the line
    breaker.update_wallet(D(70), deposit=D(10))  # topped up by less than the loss: a new line
    assert breaker.poll().new is HALF


def test_a_withdrawal_moves_the_line_down_with_the_wallet(clock):
    breaker = CircuitBreaker(BreakerConfig(), clock)
    breaker.update_wallet(D(100))
    assert breaker.update_wallet(D(50), deposit=D(-50)) is None
    assert breaker.drawdown_line == D(35)


def test_an_anomaly_opens_it_once(clock, breaker):
    t = breaker.record_anomaly(TripKind.PRICE_JUMP, "BTCUSDT moved 3 % in 10 s")
    assert t.kind is TripKind.PRICE_JUMP and breaker.state is OPEN
    assert breaker.record_anomaly(TripKind.PRICE_JUMP, "again") is None
    clock.advance(60)
    assert breaker.poll().new is HALF
