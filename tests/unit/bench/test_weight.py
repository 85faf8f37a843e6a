"""Request weight from the exchange's record: per minute both ways, prorated duties, peaks."""

from __future__ import annotations

import pytest

from rocky_bot.bench.phases import periodic_duties
from rocky_bot.bench.weight import Periodic, per_minute, restart_figures, rolling_peak
from rocky_bot.settings import Settings


def req(t, method, path, symbol=1, status=200, account="mm-anchor"):
    return (t, method, path, symbol, status, account)


MODIFY = ("PUT", "/fapi/v1/order")
DEADMAN = ("POST", "/fapi/v1/countdownCancelAll")


def test_order_actions_cost_nothing_as_charged_and_1_each_at_1():
    rows = [req(10 + i, *MODIFY, symbol=0) for i in range(30)] + [
        req(50, "DELETE", "/fapi/v1/order")
    ]
    got = per_minute(rows, (0.0, 60.0), setup=(0.0, 0.0))
    assert (got["weight_per_min"], got["weight_per_min_orders_at_1"]) == (1.0, 31.0)
    assert got["order_actions_per_min"] == {"place": 0, "modify": 30.0, "cancel": 1.0}


def test_a_periodic_duty_counts_at_least_its_share_of_the_window():
    """A 180 s heartbeat by 4 account×symbol pairs, none of which fell in a 120 s window."""
    setup = [req(1.0, *DEADMAN, symbol=0) for _ in range(4)]
    got = per_minute(setup, (100.0, 220.0), setup=(0.0, 5.0), periodic=[Periodic(*DEADMAN, 180.0)])
    # 4 pairs × 120/180 calls × 10 weight / 2 minutes
    assert got["weight_per_min"] == pytest.approx(4 * 120 / 180 * 10 / 2, abs=0.1)
    assert got["prorated_periodic"]["POST /fapi/v1/countdownCancelAll"]["seen"] == 0


def test_a_periodic_duty_seen_more_often_than_its_share_keeps_what_was_seen():
    rows = [req(1.0, *DEADMAN)] + [req(100 + i, *DEADMAN) for i in range(6)]
    got = per_minute(rows, (100.0, 160.0), setup=(0.0, 5.0), periodic=[Periodic(*DEADMAN, 180)])
    assert got["weight_per_min"] == 60.0 and got["prorated_periodic"] == {}


def test_onboarding_calls_are_not_the_fleets():
    rows = [req(10, "POST", "/admin/v1/accounts"), req(11, "GET", "/fapi/v1/openOrders")]
    assert per_minute(rows, (0.0, 60.0), setup=(0.0, 0.0))["requests_per_min"] == 1.0


def test_the_busiest_rolling_minute_both_ways():
    rows = [req(0.5, *DEADMAN)] * 50 + [req(30 + i * 0.1, *MODIFY) for i in range(300)]
    rows += [req(70.0, *DEADMAN)]  # 0.5 has left the window by then
    got = rolling_peak(rows, (0.0, 100.0))
    assert got["orders_at_1"] == 800 and got["as_charged"] == 500
    assert got["orders_at_1_at_s"] == pytest.approx(59.9, abs=0.01)


def test_a_restart_counts_the_429s_and_the_dead_process_s_last_minute():
    before = [req(90.0 + i * 0.1, *MODIFY) for i in range(100)]
    after = [req(101.0, *DEADMAN)] * 20 + [req(102.0, *MODIFY, status=429)]
    got = restart_figures(before + after, killed_at=100.0, until=130.0)
    assert (got["http_429"], got["http_418"], got["requests"]) == (1, 0, 21)
    assert got["weight_peak"]["orders_at_1"] == 100 + 200 + 1


def test_the_wallet_read_is_owed_by_every_account_that_read_it_at_set_up():
    """Set-up reads the wallet with the account call (wallet and positions at once); the bench
    still owes each of those accounts a wallet read every 300 s (it counted none: 30 a minute
    short for 30 accounts)."""
    setup = [req(1.0, "GET", "/fapi/v2/account", symbol=0, account=f"a{i}") for i in range(30)]
    duties = [Periodic(d[0], d[1], d[2], tuple(d[3]) if d[3] else None)
              for d in periodic_duties(Settings(_env_file=None))]  # fmt: skip
    got = per_minute(setup, (100.0, 220.0), setup=(0.0, 5.0), periodic=duties)
    assert got["prorated_periodic"]["GET /fapi/v1/balance"]["pairs"] == 30
    # 30 accounts × 5 weight every 300 s: 30 a minute
    wallet = got["prorated_periodic"]["GET /fapi/v1/balance"]["counted"] * 5 / 2
    assert wallet == pytest.approx(30, abs=0.1)
