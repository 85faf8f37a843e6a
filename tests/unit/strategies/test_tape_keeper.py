"""The tape keeper wakes a taker when a symbol's last taker order is older than the max gap."""

from rocky_bot.strategies.tape_keeper import symbols_due


def test_only_symbols_past_the_gap_are_due():
    last = {"BTCUSDT": 100.0, "ETHUSDT": 95.0}
    assert symbols_due(last, now=104.9, max_gap_s=10) == []
    assert symbols_due(last, now=105.0, max_gap_s=10) == ["ETHUSDT"]
    assert symbols_due(last, now=111.0, max_gap_s=10) == ["BTCUSDT", "ETHUSDT"]
