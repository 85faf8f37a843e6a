"""The venue's market data as pure values: stream names, candles per interval, aggregated trades,
24 h statistics, and the rate limiter's ban of a client that ignores 429."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rocky_bot.sandbox import market_names
from rocky_bot.sandbox.klines import Series, next_open, open_of
from rocky_bot.sandbox.orders import Trade
from rocky_bot.sandbox.rest_limits import BAN_FIRST_S, BAN_STRIKES, WeightMeter
from rocky_bot.sandbox.stats import rolling_day
from rocky_bot.sandbox.tape import Tape

SYMBOLS = ("BTCUSDT", "ETHUSDT")


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("raw", "name", "kind", "period"),
    [
        ("btcusdt@bookTicker", "btcusdt@bookTicker", "bookTicker", 0),
        ("BTCUSDT@BOOKTICKER", "btcusdt@bookTicker", "bookTicker", 0),
        ("!bookTicker", "!bookTicker", "bookTicker", 0),
        ("ethusdt@depth", "ethusdt@depth", "depth", 250),
        ("ethusdt@depth@100ms", "ethusdt@depth@100ms", "depth", 100),
        ("btcusdt@depth20@100ms", "btcusdt@depth20@100ms", "partial", 100),
        ("btcusdt@depth5", "btcusdt@depth5", "partial", 250),
        ("btcusdt@aggtrade", "btcusdt@aggTrade", "aggTrade", 0),
        ("btcusdt@kline_1h", "btcusdt@kline_1h", "kline", 250),
        ("btcusdt@kline_1M", "btcusdt@kline_1M", "kline", 250),
        ("btcusdt@markPrice", "btcusdt@markPrice", "markPrice", 3000),
        ("btcusdt@markPrice@1s", "btcusdt@markPrice@1s", "markPrice", 1000),
        ("!markPrice@arr@1s", "!markPrice@arr@1s", "markPrice", 1000),
        ("btcusdt@ticker", "btcusdt@ticker", "ticker", 2000),
        ("!miniTicker@arr", "!miniTicker@arr", "miniTicker", 1000),
    ],
)
def test_stream_names_are_parsed_into_what_to_publish(raw, name, kind, period) -> None:
    spelled, stream = market_names.parse(raw, SYMBOLS)
    assert (spelled, stream.kind, stream.period_ms) == (name, kind, period)


@pytest.mark.parametrize(
    "raw",
    ["dogeusdt@aggTrade", "btcusdt@trade", "btcusdt@depth7", "btcusdt@depth@200ms",
     "btcusdt@kline_2m", "btcusdt@markPrice@3s", "btcusdt", "btcusdt@", "!foo", "a/b@aggTrade"],
)  # fmt: skip
def test_streams_the_venue_does_not_serve_are_refused(raw) -> None:
    assert market_names.parse(raw, SYMBOLS) is None


def test_interval_boundaries_are_utc_weeks_on_monday_and_calendar_months() -> None:
    t = ms(2026, 11, 29, 21, 17, 42)  # a Sunday
    assert open_of("15m", t) == ms(2026, 11, 29, 21, 15)
    assert open_of("4h", t) == ms(2026, 11, 29, 20)
    assert open_of("1d", t) == ms(2026, 11, 29)
    assert open_of("1w", t) == ms(2026, 11, 23)  # the Monday before
    assert open_of("1M", t) == ms(2026, 11, 1)
    assert next_open("1M", ms(2026, 12, 1)) == ms(2027, 1, 1)


def test_quiet_intervals_are_flat_candles_at_the_previous_close() -> None:
    series = Series("5m")
    start = ms(2026, 1, 1, 10)
    series.record(start + 1_000, 100, qty=2, quote=200, taker_buy=True, trade_id=1)
    series.record(start + 2_000, 104, qty=1, quote=104, trade_id=2)
    series.record(start + 15 * 60_000, 101, qty=1, quote=101, trade_id=3)
    candles = series.candles(start + 16 * 60_000, None, None, 10)
    assert [(k.open, k.high, k.low, k.close, k.volume) for k in candles] == [
        (100, 104, 100, 104, 3), (104, 104, 104, 104, 0), (104, 104, 104, 104, 0),
        (101, 101, 101, 101, 1),
    ]  # fmt: skip
    assert (candles[0].first_id, candles[0].last_id, candles[0].taker_buy_volume) == (1, 2, 2)
    assert [k.open_time for k in series.candles(start + 16 * 60_000, start + 1, None, 2)] == [
        start + 5 * 60_000, start + 10 * 60_000,
    ]  # fmt: skip


def test_a_takers_fills_at_one_price_are_one_aggregated_trade() -> None:
    tape = Tape()
    for trade_id, (price, taker) in enumerate([(10, 7), (10, 7), (11, 7), (11, 8)], 1):
        tape.record(Trade(trade_id, price, 1, price, 1_000 + trade_id, False), taker)
    assert [(a.agg_id, a.price_ticks, a.qty_steps, a.first_id, a.last_id) for a in tape.aggs] == [
        (1, 10, 2, 1, 2), (2, 11, 1, 3, 3), (3, 11, 1, 4, 4),
    ]  # fmt: skip
    assert [a.agg_id for a in tape.aggs_after(1)] == [2, 3]
    assert [a.agg_id for a in tape.find_aggs(2, None, None, 1)] == [2]


def test_day_statistics_roll_over_24_hours_of_minutes() -> None:
    tape = Tape()
    day = 24 * 3600 * 1000
    trades = [(1, 100, 0), (2, 90, 3_600_000), (3, 120, day + 60_000)]
    for trade_id, price, at in trades:
        tape.record(Trade(trade_id, price, 2, price * 2, at, False), trade_id)
    stats = rolling_day(tape.candles["1m"], tape.trades[-1], day + 120_000)
    assert (stats.open, stats.high, stats.low, stats.last) == (90, 120, 90, 120)
    assert (stats.count, stats.volume, stats.first_id, stats.last_id) == (2, 4, 2, 3)


def test_a_client_that_keeps_sending_after_429_is_banned_with_418() -> None:
    meter = WeightMeter(limit_per_min=10)
    now = 1_000_000
    assert meter.admit("ip", 10, now).admitted
    refused = meter.admit("ip", 1, now)
    assert not refused.admitted and refused.banned_until_ms is None and refused.retry_after_s >= 1
    for _ in range(BAN_STRIKES - 1):  # in flight when the 429 came: forgiven
        assert meter.admit("ip", 1, now + 100).banned_until_ms is None
    banned = meter.admit("ip", 1, now + 200)
    assert banned.banned_until_ms is not None and banned.retry_after_s == BAN_FIRST_S
    later = meter.admit("ip", 1, now + 61_000)  # the minute has passed, the ban has not
    assert not later.admitted and later.banned_until_ms == banned.banned_until_ms
    assert meter.admit("ip", 1, now + (BAN_FIRST_S + 1) * 1000).admitted
    assert meter.admit("other", 1, now + 200).admitted  # per IP
