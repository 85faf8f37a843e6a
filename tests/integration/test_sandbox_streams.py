"""The sandbox's websockets on 127.0.0.1: user data by listenKey, market data by stream name."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from helpers import mint, signed
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.engine import wall_clock_ms
from rocky_bot.sandbox.userdata import LISTEN_KEY_TTL_MS

ORDER = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
         "price": "95000"}  # fmt: skip


async def next_event(ws: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(2):
        while True:
            event = json.loads(await ws.recv())
            if event.get("e") == kind:
                return event


async def listen_key(http: httpx.AsyncClient, key: str) -> str:
    resp = await http.post("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": key})
    assert resp.status_code == 200, resp.text
    return resp.json()["listenKey"]


async def test_user_stream_pushes_fills_to_the_owner(sandbox: SandboxExchange) -> None:
    maker_key, maker_secret = await mint(sandbox, "maker")
    taker_key, taker_secret = await mint(sandbox, "taker")
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        lk = await listen_key(http, maker_key)
        assert len(lk) == 64 and await listen_key(http, maker_key) == lk  # same key, extended
        async with connect(f"{sandbox.ws_url}/ws/{lk}") as ws:
            await signed(http, "POST", "/fapi/v1/order", maker_key, maker_secret,
                         {**ORDER, "side": "SELL", "newClientOrderId": "ask-7"})  # fmt: skip
            placed = await next_event(ws, "ORDER_TRADE_UPDATE")
            assert (placed["o"]["x"], placed["o"]["c"]) == ("NEW", "ask-7")
            await signed(http, "POST", "/fapi/v1/order", taker_key, taker_secret,
                         {**ORDER, "side": "BUY"})  # fmt: skip
            fill = await next_event(ws, "ORDER_TRADE_UPDATE")
            assert fill["o"]["x"] == "TRADE" and fill["o"]["X"] == "FILLED"
            assert fill["o"]["m"] is True and fill["o"]["l"] == "0.0010"
            account = await next_event(ws, "ACCOUNT_UPDATE")
            assert account["a"]["P"][0]["pa"] == "-0.0010"
        keepalive = await http.put("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": maker_key})
        assert keepalive.json() == {"listenKey": lk}
        gone = await http.delete("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": maker_key})
        assert gone.json() == {}
        again = await http.put("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": maker_key})
        assert again.status_code == 400 and again.json()["code"] == -1125


async def test_private_route_and_unknown_key_refused(sandbox: SandboxExchange) -> None:
    key, secret = await mint(sandbox, "p")
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        lk = await listen_key(http, key)
        url = f"{sandbox.ws_url}/private/ws?listenKey={lk}&events=ORDER_TRADE_UPDATE"
        async with connect(url) as ws:
            await signed(http, "POST", "/fapi/v1/order", key, secret,
                         {**ORDER, "side": "BUY", "price": "90000"})  # fmt: skip
            assert (await next_event(ws, "ORDER_TRADE_UPDATE"))["o"]["x"] == "NEW"
    with pytest.raises(InvalidStatus):
        async with connect(f"{sandbox.ws_url}/ws/{'x' * 64}"):
            pass


@pytest.mark.parametrize(
    "path", ["/reference/ws/btcusdt@bookTicker", "/reference/stream?streams=btcusdt@bookTicker"]
)
async def test_reference_stream_routes_ticks_to_engine_mark(sandbox: SandboxExchange, path) -> None:
    async with connect(f"{sandbox.ws_url}{path}") as ws:
        async with asyncio.timeout(2):
            message = json.loads(await ws.recv())
    tick = message.get("data", message)
    assert tick["e"] == "bookTicker" and tick["s"] == "BTCUSDT"
    assert sandbox.engine.mark("BTCUSDT") == sandbox.prices.mid("BTCUSDT")


async def test_listen_key_expiry_is_announced_as_binance_sends_it() -> None:
    """An idle key expires after 60 min: `listenKeyExpired`, its time a string as on Binance."""
    now = [wall_clock_ms()]
    exchange = SandboxExchange(SandboxConfig(port=0, seed=1), clock_ms=lambda: now[0])
    await exchange.start()
    try:
        key, _ = await mint(exchange, "idle")
        async with httpx.AsyncClient(base_url=exchange.base_url) as http:
            lk = await listen_key(http, key)
        async with connect(f"{exchange.ws_url}/ws/{lk}") as ws:
            now[0] += LISTEN_KEY_TTL_MS + 1
            notice = json.loads(await asyncio.wait_for(ws.recv(), 3))
        assert notice == {"e": "listenKeyExpired", "E": str(now[0]), "listenKey": lk}
    finally:
        await exchange.stop()
