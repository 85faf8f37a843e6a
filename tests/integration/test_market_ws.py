"""The stream hub over real sockets on 127.0.0.1, seen by a Binance-style client, through the
reference feed (the bookTicker stand-in for Binance's public feed; the venue's own streams are
tested in test_sandbox_market.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rocky_bot.sandbox.prices import Tick
from rocky_bot.sandbox.reference import ReferenceFeed

BTC = "btcusdt@bookTicker"
ETH = "ethusdt@bookTicker"
RECV_TIMEOUT_S = 2.0


def make_app(streams: ReferenceFeed) -> Starlette:
    """The routing the sandbox app does: raw and combined, plain and under /public."""

    async def raw(websocket: WebSocket) -> None:
        path = websocket.path_params.get("streams", "")
        await streams.handle(websocket, [p for p in path.split("/") if p] or None, False)

    async def combined(websocket: WebSocket) -> None:
        query = websocket.query_params.get("streams", "")
        await streams.handle(websocket, [p for p in query.split("/") if p] or None, True)

    routes = []
    for prefix in ("", "/public"):
        routes += [
            WebSocketRoute(f"{prefix}/ws", raw),
            WebSocketRoute(f"{prefix}/ws/{{streams:path}}", raw),
            WebSocketRoute(f"{prefix}/stream", combined),
        ]
    return Starlette(routes=routes)


@dataclass
class Market:
    streams: ReferenceFeed
    url: str
    update_id: int = 0

    def publish(self, symbol: str, bid: str = "95000.0", ask: str = "95000.1") -> Tick:
        self.update_id += 1
        b, a = Decimal(bid), Decimal(ask)
        tick = Tick(symbol, b, a, Decimal("1.234"), Decimal("0.5"), (b + a) / 2,
                    1_700_000_000_000 + self.update_id, self.update_id)  # fmt: skip
        self.streams.publish(tick)
        return tick

    async def until(self, condition: Any, timeout_s: float = RECV_TIMEOUT_S) -> None:
        for _ in range(int(timeout_s / 0.005)):
            if condition():
                return
            await asyncio.sleep(0.005)
        raise TimeoutError("condition not met")


@pytest.fixture
async def market() -> AsyncIterator[Market]:
    streams = ReferenceFeed()
    config = uvicorn.Config(
        make_app(streams), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Market(streams, f"ws://127.0.0.1:{port}")
    server.should_exit = True
    await asyncio.wait_for(task, 5)


async def recv_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S))


async def control(ws: ClientConnection, method: str, params: list[Any] | None, id_: int) -> Any:
    request: dict[str, Any] = {"method": method, "id": id_}
    if params is not None:
        request["params"] = params
    await ws.send(json.dumps(request))
    return await recv_json(ws)


def assert_book_ticker(payload: dict[str, Any], tick: Tick) -> None:
    assert payload == {
        "e": "bookTicker",
        "u": tick.update_id,
        "E": tick.event_time_ms,
        "T": tick.event_time_ms,
        "s": tick.symbol,
        "b": str(tick.bid),
        "B": str(tick.bid_qty),
        "a": str(tick.ask),
        "A": str(tick.ask_qty),
    }


@pytest.mark.parametrize("prefix", ["", "/public"])
async def test_combined_stream_gets_both_symbols_wrapped(market: Market, prefix: str) -> None:
    async with connect(f"{market.url}{prefix}/stream?streams={BTC}/{ETH}") as ws:
        btc = market.publish("BTCUSDT")
        eth = market.publish("ETHUSDT", "3500.00", "3500.01")
        first, second = await recv_json(ws), await recv_json(ws)
    assert first["stream"] == BTC and second["stream"] == ETH
    assert_book_ticker(first["data"], btc)
    assert_book_ticker(second["data"], eth)


@pytest.mark.parametrize("prefix", ["", "/public"])
async def test_raw_stream_gets_bare_payloads_of_its_symbol_only(
    market: Market, prefix: str
) -> None:
    async with connect(f"{market.url}{prefix}/ws/{BTC}") as ws:
        market.publish("ETHUSDT", "3500.00", "3500.01")
        btc = market.publish("BTCUSDT")
        assert_book_ticker(await recv_json(ws), btc)


async def test_raw_endpoint_with_several_streams_and_binance_casing(market: Market) -> None:
    async with connect(f"{market.url}/ws/btcusdt@bookticker/ETHUSDT@BOOKTICKER") as ws:
        btc = market.publish("BTCUSDT")
        eth = market.publish("ETHUSDT", "3500.00", "3500.01")
        assert_book_ticker(await recv_json(ws), btc)
        assert_book_ticker(await recv_json(ws), eth)
        assert await control(ws, "LIST_SUBSCRIPTIONS", None, 9) == {"result": [BTC, ETH], "id": 9}


@pytest.mark.parametrize("path", ["/ws", "/public/ws", "/public/stream"])
async def test_subscribe_on_a_bare_connection_then_receive(market: Market, path: str) -> None:
    async with connect(f"{market.url}{path}") as ws:
        assert await control(ws, "SUBSCRIBE", [BTC, ETH], 1) == {"result": None, "id": 1}
        assert await control(ws, "LIST_SUBSCRIPTIONS", None, 3) == {"result": [BTC, ETH], "id": 3}
        btc = market.publish("BTCUSDT")
        message = await recv_json(ws)
    if path.endswith("stream"):
        assert message["stream"] == BTC
        message = message["data"]
    assert_book_ticker(message, btc)


async def test_unsubscribe_stops_delivery(market: Market) -> None:
    async with connect(f"{market.url}/stream?streams={BTC}/{ETH}") as ws:
        assert await control(ws, "UNSUBSCRIBE", [BTC], 312) == {"result": None, "id": 312}
        market.publish("BTCUSDT")
        eth = market.publish("ETHUSDT", "3500.00", "3500.01")
        message = await recv_json(ws)
        assert message["stream"] == ETH
        assert_book_ticker(message["data"], eth)
        assert await control(ws, "LIST_SUBSCRIPTIONS", None, 4) == {"result": [ETH], "id": 4}


async def test_combined_property_switches_the_wrapper(market: Market) -> None:
    async with connect(f"{market.url}/ws/{BTC}") as ws:
        assert await control(ws, "GET_PROPERTY", ["combined"], 2) == {"result": False, "id": 2}
        assert await control(ws, "SET_PROPERTY", ["combined", True], 5) == {"result": None, "id": 5}
        assert await control(ws, "GET_PROPERTY", ["combined"], 6) == {"result": True, "id": 6}
        btc = market.publish("BTCUSDT")
        message = await recv_json(ws)
        assert message["stream"] == BTC
        assert_book_ticker(message["data"], btc)


async def test_bad_control_messages_get_binance_errors_and_keep_the_connection(
    market: Market,
) -> None:
    async with connect(f"{market.url}/ws") as ws:
        await ws.send("{not json")
        assert (await recv_json(ws))["error"]["code"] == 3
        reply = await control(ws, "SUBSCRIB", [BTC], 7)
        assert reply["id"] == 7 and reply["error"]["code"] == 2
        assert (await control(ws, "SUBSCRIBE", ["btcusdt"], 8))["error"]["code"] == 2
        assert (await control(ws, "SET_PROPERTY", ["combined", "yes"], 10))["error"]["code"] == 1
        assert (await control(ws, "GET_PROPERTY", ["speed"], 11))["error"]["code"] == 0
        assert await control(ws, "SUBSCRIBE", [BTC], 12) == {"result": None, "id": 12}


async def test_drop_all_closes_every_client(market: Market) -> None:
    async with (
        connect(f"{market.url}/stream?streams={BTC}") as a,
        connect(f"{market.url}/ws/{ETH}") as b,
    ):
        await market.until(lambda: market.streams.connection_count == 2)
        await market.streams.drop_all()
        assert market.streams.connection_count == 0
        for ws in (a, b):
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_refuse_new_turns_clients_away_with_a_retryable_503(market: Market) -> None:
    market.streams.refuse_new = True
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{market.url}/ws/{BTC}"):
            pass
    assert refused.value.response.status_code == 503
    assert market.streams.connection_count == 0
    market.streams.refuse_new = False
    async with connect(f"{market.url}/ws/{BTC}") as ws:
        btc = market.publish("BTCUSDT")
        assert_book_ticker(await recv_json(ws), btc)


async def test_client_leaving_is_forgotten(market: Market) -> None:
    async with connect(f"{market.url}/ws/{BTC}"):
        await market.until(lambda: market.streams.connection_count == 1)
    await market.until(lambda: market.streams.connection_count == 0)
    market.publish("BTCUSDT")  # nobody left to deliver to: must not fail


async def test_slow_consumer_neither_blocks_publish_nor_delays_others(market: Market) -> None:
    published = 40_000  # ≈ 5 MB uncompressed: more than loopback socket buffers hold
    # The slow client reads nothing; tiny client-side buffers make the backlog reach the server.
    host, port = market.url.removeprefix("ws://").split(":")
    tight = socket.socket()
    tight.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tight.setblocking(False)
    await asyncio.get_running_loop().sock_connect(tight, (host, int(port)))
    async with (
        connect(f"{market.url}/ws/{BTC}", sock=tight, max_queue=1, compression=None) as slow,
        connect(f"{market.url}/ws/{BTC}") as fast,
    ):
        await market.until(lambda: market.streams.connection_count == 2)
        last_fast: dict[str, Any] = {}

        async def read_fast() -> None:
            while last_fast.get("u") != published:
                last_fast.update(json.loads(await fast.recv()))

        reader = asyncio.create_task(read_fast())
        for i in range(published):
            market.publish("BTCUSDT")  # synchronous: it cannot wait on anybody's socket
            if i % 50 == 0:
                await asyncio.sleep(0)  # let senders and the fast reader run
        # The fast client got every tick while the slow one's socket stayed full.
        await asyncio.wait_for(reader, 10)

        # The slow one catches up with the newest tick, having lost the oldest of its backlog.
        received = 0
        async with asyncio.timeout(10):
            while True:
                received += 1
                if json.loads(await slow.recv())["u"] == published:
                    break
        assert received < published


async def test_publish_cost_with_30_subscribers(market: Market) -> None:
    """Not a gate but a measurement for the report: µs per publish() with 30 live readers."""
    received = 0

    async def drain(ws: ClientConnection) -> None:
        nonlocal received
        async for _ in ws:
            received += 1

    async with contextlib.AsyncExitStack() as stack:
        readers = []
        for i in range(30):
            path = f"/stream?streams={BTC}/{ETH}" if i % 2 else f"/ws/{BTC}/{ETH}"
            ws = await stack.enter_async_context(connect(f"{market.url}{path}"))
            readers.append(asyncio.create_task(drain(ws)))
        await market.until(lambda: market.streams.connection_count == 30)
        costs = []
        for i in range(2_000):  # each tick wakes 30 idle senders, as at 100 msgs/s
            started = time.perf_counter()
            market.publish("BTCUSDT" if i % 2 else "ETHUSDT")
            costs.append(time.perf_counter() - started)
            await asyncio.sleep(0)
        await market.until(lambda: received == 30 * 2_000)
        for reader in readers:
            reader.cancel()
    median = statistics.median(costs) * 1e6
    print(f"\npublish() with 30 subscribers: median {median:.1f} µs per tick")
    assert median < 1_000
