"""The venue's own market streams over real sockets: one market per symbol.

What a client of the venue relies on: the quote it streams is the book it trades on (not the
reference price), every stream kind it subscribes to carries data in Binance's payload, diff
depth can be synced with GET /depth exactly as on Binance, and a stream the venue does not serve
is refused instead of going silent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import httpx
from helpers import mint, signed
from websockets.asyncio.client import ClientConnection, connect

from rocky_bot.sandbox.app import SandboxExchange

ORDER = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002"}


async def until(ws: ClientConnection, wanted: Callable[[dict], bool], timeout: float = 3) -> dict:
    """The next payload (combined wrapper removed) for which `wanted` holds."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            data = message.get("data", message) if isinstance(message, dict) else message
            if wanted(data):
                return data


async def place(http: httpx.AsyncClient, who: tuple[str, str], **order: Any) -> dict:
    reply = await signed(http, "POST", "/fapi/v1/order", *who, {**ORDER, **order})
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_streamed_quote_is_the_book_clients_trade_on(sandbox: SandboxExchange) -> None:
    maker = await mint(sandbox, "maker", 1000)
    async with (
        httpx.AsyncClient(base_url=sandbox.base_url) as http,
        connect(f"{sandbox.ws_url}/public/ws/btcusdt@bookTicker") as venue,
        connect(f"{sandbox.ws_url}/ws/!bookTicker") as every,
    ):
        await place(http, maker, side="BUY", price="94000.0")
        await place(http, maker, side="SELL", price="96000.0")
        tick = await until(venue, lambda d: d["a"] != "0.00")
        assert (tick["e"], tick["s"], tick["b"], tick["a"], tick["B"]) == (
            "bookTicker", "BTCUSDT", "94000.00", "96000.00", "0.0020",
        )  # fmt: skip
        assert (await until(every, lambda d: d["a"] != "0.00"))["a"] == "96000.00"
        rest = (await http.get("/fapi/v1/ticker/bookTicker", params={"symbol": "BTCUSDT"})).json()
        assert (rest["bidPrice"], rest["askPrice"]) == (tick["b"], tick["a"])
        assert abs(sandbox.prices.mid("BTCUSDT") - D("95000")) < 2000  # the reference is elsewhere


async def test_trade_streams_carry_binances_payloads(sandbox: SandboxExchange) -> None:
    maker, taker = await mint(sandbox, "maker", 1000), await mint(sandbox, "taker", 1000)
    streams = "btcusdt@aggTrade/btcusdt@kline_1m/btcusdt@ticker/btcusdt@markPrice@1s"
    async with (
        httpx.AsyncClient(base_url=sandbox.base_url) as http,
        connect(f"{sandbox.ws_url}/market/stream?streams={streams}") as ws,
    ):
        await place(http, maker, side="SELL", price="95010.0")
        await place(http, taker, side="BUY", price="95020.0", timeInForce="IOC")
        agg = await until(ws, lambda d: d["e"] == "aggTrade")
        assert (agg["p"], agg["q"], agg["m"], agg["f"], agg["l"]) == (
            "95010.00",
            "0.0020",
            False,
            1,
            1,
        )
        kline = await until(ws, lambda d: d["e"] == "kline")
        assert (kline["k"]["i"], kline["k"]["c"], kline["k"]["n"], kline["k"]["x"]) == (
            "1m", "95010.00", 1, False,
        )  # fmt: skip
        mark = await until(ws, lambda d: d["e"] == "markPriceUpdate")
        assert abs(D(mark["p"]) / sandbox.engine.mark("BTCUSDT") - 1) < D("0.001")  # moves on
        ticker = await until(ws, lambda d: d["e"] == "24hrTicker")
        assert (ticker["c"], ticker["n"], ticker["v"]) == ("95010.00", 1, "0.0020")
        rest = await http.get("/fapi/v1/aggTrades", params={"symbol": "BTCUSDT"})
        assert rest.json()[-1]["a"] == agg["a"] and rest.headers["X-MBX-USED-WEIGHT-1M"]


async def test_diff_depth_syncs_with_rest_depth_as_on_binance(sandbox: SandboxExchange) -> None:
    maker = await mint(sandbox, "maker", 1000)
    async with (
        httpx.AsyncClient(base_url=sandbox.base_url) as http,
        connect(f"{sandbox.ws_url}/public/stream?streams=btcusdt@depth@100ms") as ws,
    ):
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
        await until(ws, lambda d: d.get("id") == 1)  # subscribed: every change from here on
        await place(http, maker, side="BUY", price="94000.0")
        snapshot = (await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT"})).json()
        book = {"b": dict(snapshot["bids"]), "a": dict(snapshot["asks"])}
        placed = await place(http, maker, side="SELL", price="96000.0")
        await signed(http, "DELETE", "/fapi/v1/order", *maker,
                     {"symbol": "BTCUSDT", "orderId": placed["orderId"]})  # fmt: skip
        await place(http, maker, side="BUY", price="94000.0")
        final, synced = sandbox.engine.books["BTCUSDT"].update_id, snapshot["lastUpdateId"]
        prev = None
        while prev is None or prev < final:
            # Binance's rule: drop events with u < lastUpdateId; the first kept one straddles it
            event = await until(ws, lambda d, since=synced: d["u"] >= since)
            if prev is None:
                assert event["U"] <= synced <= event["u"]
            else:
                assert event["pu"] == prev, "each event continues the last"
            for side in "ba":
                for price, qty in event[side]:
                    if D(qty) == 0:
                        book[side].pop(price, None)
                    else:
                        book[side][price] = qty
            prev = event["u"]
        assert book == {"b": {"94000.00": "0.0040"}, "a": {}}


async def test_partial_depth_and_refused_streams(sandbox: SandboxExchange) -> None:
    maker = await mint(sandbox, "maker", 1000)
    async with (
        httpx.AsyncClient(base_url=sandbox.base_url) as http,
        connect(f"{sandbox.ws_url}/ws/btcusdt@depth5@100ms") as ws,
    ):
        for price in ("94000.0", "94100.0", "94200.0"):
            await place(http, maker, side="BUY", price=price)
        top = await until(ws, lambda d: len(d["b"]) == 3)
        assert top["e"] == "depthUpdate" and [p for p, _ in top["b"]] == [
            "94200.00", "94100.00", "94000.00",
        ]  # fmt: skip
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 4}))
        refused = await until(ws, lambda d: d.get("id") == 4)
        assert refused["error"]["code"] == 2
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 5}))
        assert (await until(ws, lambda d: d.get("id") == 5))["result"] == ["btcusdt@depth5@100ms"]


async def test_418_after_ignoring_429_and_leverage_pushes_account_config(sandbox) -> None:
    key, secret = await mint(sandbox, "lev", 100)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        listen_key = (await http.post("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": key})).json()
        async with connect(f"{sandbox.ws_url}/ws/{listen_key['listenKey']}") as user:
            await signed(http, "POST", "/fapi/v1/leverage", key, secret,
                         {"symbol": "ETHUSDT", "leverage": 9})  # fmt: skip
            event = await until(user, lambda d: d["e"] == "ACCOUNT_CONFIG_UPDATE")
            assert event["ac"] == {"s": "ETHUSDT", "l": 9}
        sandbox.gateway.weights.limit = 40  # this client has already spent some weight
        replies = [
            await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT"}) for _ in range(30)
        ]
        statuses = [r.status_code for r in replies]
        assert 429 in statuses and statuses[-1] == 418
        banned = replies[-1]
        assert banned.json()["code"] == -1003 and "banned until" in banned.json()["msg"]
        assert int(banned.headers["Retry-After"]) >= 60
