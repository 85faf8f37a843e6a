"""BinanceFeed against a real websockets server on 127.0.0.1, scripted per test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve

from rocky_bot.feed.binance import BinanceFeed, FeedSettings

BTC, ETH = "BTCUSDT", "ETHUSDT"
STREAMS = {"btcusdt@bookTicker": BTC, "ethusdt@bookTicker": ETH}


class ScriptedExchange:
    """A market-data websocket the test drives: it pushes what the test says, drops on demand."""

    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.paths: list[str] = []

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self.paths.append(ws.request.path if ws.request else "")
        with contextlib.suppress(Exception):
            await ws.wait_closed()

    @property
    def current(self) -> ServerConnection:
        return self.connections[-1]

    async def send(self, message: object) -> None:
        await self.current.send(message if isinstance(message, str) else json.dumps(message))

    async def wait_connections(self, n: int, within: float = 3.0) -> None:
        await eventually(lambda: len(self.connections) >= n, within)


async def eventually(predicate: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


def book(symbol: str, bid: str, ask: str, **extra: object) -> dict:
    payload = {"e": "bookTicker", "u": 1, "E": 2, "T": 3, "s": symbol, "b": bid, "B": "1"}
    payload |= {"a": ask, "A": "2"} | extra
    return payload


def combined(symbol: str, bid: str, ask: str, **extra: object) -> dict:
    return {"stream": f"{symbol.lower()}@bookTicker", "data": book(symbol, bid, ask, **extra)}


FAST = FeedSettings(
    url="",
    streams=STREAMS,
    stale_after_s=0.3,
    backoff_initial_s=0.02,
    backoff_max_s=0.1,
    open_timeout_s=1.0,
    close_timeout_s=0.2,
)


@contextlib.asynccontextmanager
async def running_feed(**overrides: object) -> AsyncIterator[tuple[BinanceFeed, ScriptedExchange]]:
    exchange = ScriptedExchange()
    async with serve(exchange.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/public/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker"
        feed = BinanceFeed(replace(FAST, url=url, **overrides))
        task = asyncio.create_task(feed.run())
        try:
            await exchange.wait_connections(1)
            yield feed, exchange
        finally:
            await feed.close()
            await asyncio.wait_for(task, 3.0)


async def test_mids_from_combined_and_raw_payloads_tolerating_extra_fields():
    async with running_feed() as (feed, exchange):
        assert exchange.paths[0].startswith("/public/stream?streams=")
        await exchange.send(combined(BTC, "95000.10", "95000.20", st=1, ps="BOTH"))
        await exchange.send(book(ETH, "3500.01", "3500.04", extra={"nested": [1]}))
        await eventually(lambda: feed.mid(ETH) is not None)
        assert feed.mid(BTC) == D("95000.15")
        assert feed.mid(ETH) == D("3500.025")
        assert feed.is_live(BTC) and feed.is_live(ETH)
        assert feed.age_s(BTC) is not None and feed.age_s(BTC) < 1.0


async def test_control_replies_and_unknown_streams_are_ignored():
    async with running_feed() as (feed, exchange):
        await exchange.send(combined(BTC, "100", "100"))
        await exchange.send({"result": None, "id": 1})
        await exchange.send(combined("SOLUSDT", "150", "151"))
        await exchange.send(book("SOLUSDT", "150", "151"))
        await exchange.send({"e": "markPriceUpdate", "s": BTC, "p": "1"})
        await exchange.send(combined(BTC, "101", "101"))
        await eventually(lambda: feed.mid(BTC) == D("101"))
        assert feed.stats.ignored == 4
        assert feed.stats.bad_messages == {}


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("not json at all", "not_json"),
        ("[1, 2]", "not_object"),
        (json.dumps({"stream": "btcusdt@bookTicker", "data": "x"}), "not_object"),
        (
            json.dumps(combined(BTC, "1", "2") | {"data": {"e": "bookTicker", "s": BTC}}),
            "missing_field",
        ),
        (
            json.dumps(
                combined(BTC, "95000", "95001") | {"data": book(BTC, "1", "2") | {"a": 2.0}}
            ),
            "wrong_type",
        ),
        (json.dumps(combined(BTC, "abc", "95001")), "not_numeric"),
        (json.dumps(combined(BTC, "NaN", "95001")), "not_numeric"),
        (json.dumps(combined(BTC, "95000", "Infinity")), "not_numeric"),
        (json.dumps(combined(BTC, "95002", "95001")), "crossed_book"),
        (json.dumps(combined(BTC, "0", "95001")), "non_positive"),
        (json.dumps(book(BTC, "-1", "95001")), "non_positive"),
        # hostile: each of these once crashed the feed task (issue 11)
        ('{"stream":"btcusdt@bookTicker","data":' + "[" * 50_000 + "]" * 50_000 + "}", "too_deep"),
        (json.dumps(combined(BTC, "9e999999", "9e999999")), "not_numeric"),
        (json.dumps(combined(BTC, "1e-9999999999", "1e-9999999999")), "not_numeric"),
        (json.dumps(combined(BTC, "9e99", "9e99")), "out_of_range"),
        (json.dumps(combined(BTC, "95000." + "1" * 4000, "95001")), "too_precise"),
    ],
)
async def test_bad_messages_are_counted_by_kind_and_never_move_the_mid(message, kind):
    async with running_feed() as (feed, exchange):
        await exchange.send(combined(BTC, "95000", "95000"))
        await exchange.send(message)
        await exchange.send(message)
        await eventually(lambda: sum(feed.stats.bad_messages.values()) == 2)
        assert feed.stats.bad_messages == {kind: 2}
        assert feed.mid(BTC) == D("95000")
        await exchange.send(combined(BTC, "95010", "95010"))  # the feed is still working
        await eventually(lambda: feed.mid(BTC) == D("95010"))
        assert len(exchange.connections) == 1


async def test_reconnects_after_the_server_drops_and_accepts_the_first_tick_whatever_it_is():
    async with running_feed() as (feed, exchange):
        await exchange.send(combined(BTC, "100", "100"))
        await eventually(lambda: feed.mid(BTC) == D("100"))
        await exchange.current.close()
        await exchange.wait_connections(2)
        # The market moved 20 % while we were away: the first tick re-bases the mid...
        await exchange.send(combined(BTC, "120", "120"))
        await eventually(lambda: feed.mid(BTC) == D("120"))
        assert feed.in_shock_pause(BTC)  # a 20 % move within the window still pauses quoting
        # ...and the jump rule applies again from there.
        await exchange.send(combined(BTC, "150", "150"))
        await exchange.send(combined(BTC, "121", "121"))
        await eventually(lambda: feed.mid(BTC) == D("121"))
        assert feed.stats.dropped_jumps == 1
        assert feed.stats.reconnects >= 1


async def test_keeps_retrying_while_the_server_is_down_and_close_stops_it():
    async with serve(lambda ws: ws.close(), "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
    feed = BinanceFeed(replace(FAST, url=f"ws://127.0.0.1:{port}/stream"))  # nothing listens
    task = asyncio.create_task(feed.run())
    await eventually(lambda: feed.stats.reconnects >= 3)
    await feed.close()
    await asyncio.wait_for(task, 1.0)
    assert feed.mid(BTC) is None and not feed.is_live(BTC)


async def test_staleness_fires_listeners_without_any_message_and_recovers():
    async with running_feed(shock_pct=50.0) as (feed, exchange):
        changes: list[tuple[str, bool]] = []
        feed.on_state_change(lambda symbol: changes.append((symbol, feed.is_live(symbol))))
        await exchange.send(combined(BTC, "100", "100"))
        await eventually(lambda: changes == [(BTC, True)])
        await eventually(lambda: len(changes) == 2, within=1.0)  # silence only
        assert changes[1] == (BTC, False)
        assert feed.is_stale(BTC) and not feed.is_live(BTC)
        # The first tick after staleness is accepted even though it jumped 10 %.
        await exchange.send(combined(BTC, "110", "110"))
        await eventually(lambda: len(changes) == 3)
        assert changes[2] == (BTC, True)
        assert feed.mid(BTC) == D("110")
        assert feed.is_stale(ETH)  # never had a tick


async def test_a_jump_over_five_percent_is_dropped_and_counted():
    async with running_feed() as (feed, exchange):
        await exchange.send(combined(BTC, "100", "100"))
        await exchange.send(combined(BTC, "106", "106"))
        await exchange.send(combined(BTC, "94.9", "94.9"))
        await exchange.send(combined(BTC, "101", "101"))
        await eventually(lambda: feed.mid(BTC) == D("101"))
        assert feed.stats.dropped_jumps == 2
        assert feed.stats.shocks == 0  # dropped ticks are not moves


async def test_a_dropped_jump_stops_quoting_the_old_mid_at_once():
    """After a dropped jump the last accepted mid may be 5 % off the market: the symbol is not
    live (makers pull) from that tick on, not only once it goes stale."""
    async with running_feed(stale_after_s=5.0) as (feed, exchange):
        changes: list[bool] = []
        feed.on_state_change(lambda symbol: changes.append(feed.is_live(symbol)))
        await exchange.send(combined(BTC, "100", "100"))
        await eventually(lambda: feed.is_live(BTC))
        await exchange.send(combined(BTC, "108", "108"))
        await eventually(lambda: feed.in_doubt(BTC))
        assert not feed.is_live(BTC) and not feed.is_stale(BTC) and feed.mid(BTC) == D("100")
        await exchange.send(combined(BTC, "100.5", "100.5"))  # the market was there after all
        await eventually(lambda: feed.is_live(BTC))
        assert changes == [True, False, True]


async def test_a_two_percent_move_within_the_window_pauses_quoting():
    async with running_feed(stale_after_s=5.0, shock_window_s=5.0, shock_pause_s=0.3) as (
        feed,
        exchange,
    ):
        changes: list[tuple[str, bool]] = []
        feed.on_state_change(lambda symbol: changes.append((symbol, feed.in_shock_pause(symbol))))
        await exchange.send(combined(ETH, "100", "100"))
        await exchange.send(combined(ETH, "101.5", "101.5"))
        await eventually(lambda: feed.mid(ETH) == D("101.5"))
        assert not feed.in_shock_pause(ETH)
        await exchange.send(combined(ETH, "102.1", "102.1"))  # 2.1 % above 100 within 5 s
        await eventually(lambda: feed.in_shock_pause(ETH))
        assert not feed.is_live(ETH) and feed.mid(ETH) == D("102.1")
        assert feed.stats.shocks == 1
        assert feed.is_live(BTC) is False  # (BTC never ticked) — the pause is per symbol
        await eventually(lambda: not feed.in_shock_pause(ETH), within=1.0)
        await eventually(lambda: len(changes) == 3)  # live, paused, resumed — by the watchdog
        assert [paused for _, paused in changes] == [False, True, False]
        assert feed.is_live(ETH)


async def test_band_wake_ups_fire_once_when_the_mid_leaves():
    async with running_feed() as (feed, exchange):
        woken: list[str] = []
        await exchange.send(combined(BTC, "100", "100"))
        await eventually(lambda: feed.mid(BTC) == D("100"))
        feed.watch_band(BTC, D("99"), D("101"), lambda: woken.append("wide"))
        feed.watch_band(BTC, D("99.5"), D("100.5"), lambda: woken.append("narrow"))
        feed.watch_band(BTC, D("95"), D("105"), lambda: woken.append("far"))
        gone = feed.watch_band(BTC, D("99.9"), D("100.1"), lambda: woken.append("unwatched"))
        feed.watch_band(ETH, D("1"), D("2"), lambda: woken.append("eth"))
        feed.unwatch(gone)
        await exchange.send(combined(BTC, "100.8", "100.8"))
        await eventually(lambda: woken == ["narrow"])
        await exchange.send(combined(BTC, "101.5", "101.5"))
        await eventually(lambda: woken == ["narrow", "wide"])
        await exchange.send(combined(BTC, "99", "99"))
        await exchange.send(combined(BTC, "102", "102"))
        await eventually(lambda: feed.mid(BTC) == D("102"))
        assert woken == ["narrow", "wide"]  # each once; "far" still inside


async def test_a_wake_that_rewatches_is_served_by_the_next_tick_not_this_one():
    async with running_feed() as (feed, exchange):
        woken: list[D | None] = []

        def wake() -> None:
            mid = feed.mid(BTC)
            woken.append(mid)
            assert mid is not None
            feed.watch_band(BTC, mid - 1, mid + 1, wake)  # re-peg around the new mid

        await exchange.send(combined(BTC, "100", "100"))
        await eventually(lambda: feed.mid(BTC) == D("100"))
        feed.watch_band(BTC, D("99"), D("101"), wake)
        await exchange.send(combined(BTC, "102", "102"))
        await exchange.send(combined(BTC, "102.5", "102.5"))
        await exchange.send(combined(BTC, "104", "104"))
        await eventually(lambda: feed.mid(BTC) == D("104"))
        assert woken == [D("102"), D("104")]


async def test_reconnects_proactively_before_the_connection_age_limit():
    async with running_feed(max_connection_age_s=0.15, stale_after_s=5.0) as (feed, exchange):
        await exchange.send(combined(BTC, "100", "100"))
        await exchange.wait_connections(3, within=2.0)
        assert exchange.connections[0].close_code == 1000  # we closed it, cleanly
        await exchange.send(combined(BTC, "100.1", "100.1"))
        await eventually(lambda: feed.mid(BTC) == D("100.1"))
        assert feed.is_live(BTC)


async def test_a_silent_connection_is_replaced():
    async with running_feed(silent_reconnect_s=0.1) as (_, exchange):
        await exchange.wait_connections(2, within=2.0)


async def test_wait_live_returns_when_every_symbol_has_a_fresh_mid():
    async with running_feed() as (feed, exchange):
        assert await feed.wait_live([BTC], timeout=0.05) is False
        waiter = asyncio.create_task(feed.wait_live([BTC, ETH], timeout=2.0))
        await exchange.send(combined(BTC, "100", "100"))
        await asyncio.sleep(0.02)
        assert not waiter.done()
        await exchange.send(combined(ETH, "10", "10"))
        assert await waiter is True


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["stream", "data", "e", "s", "b", "a", "x"]), children)
    ),
    max_leaves=12,
)
_frames = st.one_of(
    _json.map(json.dumps),
    st.fixed_dictionaries(
        {"stream": st.sampled_from(["btcusdt@bookTicker", "x"]), "data": _json}
    ).map(json.dumps),
    st.fixed_dictionaries(
        {"e": st.just("bookTicker"), "s": st.sampled_from([BTC, "X"]), "b": _json, "a": _json}
    ).map(json.dumps),
    st.binary(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(_frames, max_size=8))
def test_no_frame_makes_the_handler_raise_or_invent_a_mid(frames):
    feed = BinanceFeed(replace(FAST, url="ws://unused"))
    for frame in frames:
        feed.handle_message(frame)
    mid = feed.mid(BTC)
    assert mid is None or (mid.is_finite() and mid > 0)
    assert feed.stats.messages == len(frames)
