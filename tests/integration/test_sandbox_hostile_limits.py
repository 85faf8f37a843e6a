"""What one client may make the sandbox hold (issue 11): bodies, request lines and headers,
websocket messages, subscriptions, connections. Each past its bound gets an answer (413, 400,
429, an error reply or a 1008/1009 close), never a 500, and the sandbox serves on.

Memory is asserted by behaviour, not RSS: a body over the cap is refused before a byte of it
is sent; a client flooding a websocket is closed at the bound.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from helpers import mint
from hostile import Venue, binance_error, json_of, raw_http
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig

pytestmark = pytest.mark.asyncio(loop_scope="module")
MIB = 1 << 20  # the body cap the issue asks for

ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.001", "price": "90000"}  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def venue() -> AsyncIterator[Venue]:
    exchange = SandboxExchange(SandboxConfig(port=0, seed=12, weight_limit_per_min=10**6))
    await exchange.start()
    try:
        key, secret = await mint(exchange, "limits", 10_000)
        async with httpx.AsyncClient(base_url=exchange.base_url, timeout=10) as http:
            yield Venue(exchange, http, key, secret, "limits")
            assert (await http.get("/fapi/v1/ping")).status_code == 200  # still serving
    finally:
        await exchange.stop()


def port(v: Venue) -> int:
    return int(v.exchange.base_url.rsplit(":", 1)[1])


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


# -- HTTP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/fapi/v1/order", "/fapi/v1/batchOrders", "/admin/v1/faucet"])
async def test_a_declared_body_over_1_mib_is_413_before_any_of_it_is_sent(venue: Venue, path):
    request = head("POST", path, "Content-Type: application/x-www-form-urlencoded",
                   f"X-MBX-APIKEY: {venue.key}", f"Content-Length: {300 << 20}")  # fmt: skip
    before = venue.state()
    status, reply, sent = await raw_http(port(venue), request)
    assert (status, sent) == (413, 0)
    assert json_of(reply)["code"] == -1101
    assert venue.state() == before


async def test_a_chunked_body_is_cut_off_at_1_mib(venue: Venue) -> None:
    request = head("POST", "/fapi/v1/order", "Transfer-Encoding: chunked",
                   f"X-MBX-APIKEY: {venue.key}")  # fmt: skip
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    status, reply, _ = await raw_http(port(venue), request, [chunk] * 48)  # 3 MiB offered
    assert status == 413 and json_of(reply)["code"] == -1101


async def test_a_body_under_the_cap_from_a_known_key_is_served(venue: Venue) -> None:
    padded = {**ORDER, "note": "a" * (MIB - 4096)}
    placed = await venue.signed("POST", "/fapi/v1/order", padded, in_body=True)
    assert placed.status_code == 200, placed.text[:200]
    venue.engine.cancel(venue.name, "BTCUSDT", placed.json()["orderId"])


@pytest.mark.parametrize(
    ("start", "more"),
    [
        (b"GET /fapi/v1/ping?x=", b"a" * 0x10000),  # a request line that never ends
        (b"GET /ws/btcusdt@bookTicker?s=", b"s" * 0x10000),
        (b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\n", b"X-H: 1\r\n" * 0x2000),  # headers
        (b"GET /fapi/v1/ping HTTP/1.1\r\nX-Big: ", b"b" * 0x10000),
    ],
)
async def test_request_lines_and_headers_are_cut_off_at_their_bound(venue, start, more):
    """uvicorn's parser would keep appending them (a 20 MB URL held 20 MB): now the answer,
    400, comes once they pass 64 KiB, while the client is still sending."""
    status, reply, _ = await raw_http(port(venue), start, [more] * 64)  # 4 MiB offered
    assert status == 400 and b"Invalid HTTP request" in reply


async def test_unknown_paths_and_methods_are_binance_errors_that_echo_little(venue: Venue):
    for method, path in [("GET", "/fapi/v1/" + "x" * 60_000), ("PATCH", "/fapi/v1/order"),
                         ("GET", "/fapi/v1/%FF%FE"), ("DELETE", "/" + "é" * 1000)]:  # fmt: skip
        response = await venue.http.request(method, path)
        assert response.status_code in (404, 405)
        binance_error(response)


async def test_admin_bodies_that_are_hostile_are_binance_errors(venue: Venue) -> None:
    token = {"X-Admin-Token": venue.exchange.admin_token}
    for path, body in [
        ("/admin/v1/accounts", b"[" * 100_000),
        ("/admin/v1/accounts", b'{"name": "\xff\xfe"}'),
        ("/admin/v1/faucet", json.dumps({"apiKey": venue.key, "amount": "1E+999999"}).encode()),
        ("/admin/v1/faucet", b'{"apiKey": "' + venue.key.encode() + b'", "amount": 1e999999}'),
        ("/admin/v1/faucet", json.dumps({"apiKey": venue.key, "amount": "١٢"}).encode()),
        ("/admin/v1/faults", b"[" * 100_000),
        ("/admin/v1/faults", b'{"latency_ms": "1E+999999"}'),
        ("/admin/v1/faults", b'{"no_such_fault": 1}'),
        ("/admin/v1/faults", b'"just a string"'),
        ("/admin/v1/faults", b"\xff\xfe"),
    ]:
        before = venue.state()
        response = await venue.http.post(path, content=body, headers=token)
        assert binance_error(response)[0] in (-1130, -1111), (path, body[:40], response.text)
        assert venue.state() == before
    assert (await venue.http.delete("/admin/v1/faults", headers=token)).status_code == 200


# -- websockets ---------------------------------------------------------------------------------


def ws_url(v: Venue, path: str) -> str:
    return v.exchange.ws_url + path


async def control(ws: Any, method: str, params: Any = None, request_id: Any = 1) -> dict:
    await ws.send(json.dumps({"method": method, "params": params or [], "id": request_id}))
    while True:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 3))
        if "id" in reply:
            return reply


async def closed_with(ws: Any) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 3)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize("path", ["/public/stream", "/reference/ws"])  # both hubs
async def test_hostile_control_messages_get_error_replies_and_keep_the_connection(venue, path):
    """Six messages (under the 10 a second): each answered, the connection kept."""
    async with connect(ws_url(venue, path), max_size=None) as ws:
        await ws.send("[" * 30_000 + "]" * 30_000)  # nested past the parser: once a crash
        assert json.loads(await ws.recv())["error"]["code"] == 3
        reply = await control(ws, "SUBSCRIBE", ["x" * 60_000])
        assert reply["error"]["code"] == 2 and len(json.dumps(reply)) < 300
        reply = await control(ws, "LIST_SUBSCRIPTIONS", None, {"nested": ["id"] * 5000})
        assert reply["id"] is None and reply["error"]["code"] == 2
        reply = await control(ws, "X" * 50_000)
        assert len(json.dumps(reply)) < 400
        many = [f"s{i}usdt@bookTicker" for i in range(201)]
        assert (await control(ws, "SUBSCRIBE", many, 7))["error"]["code"] == 2
        assert (await control(ws, "SUBSCRIBE", ["btcusdt@bookTicker"], 8))["result"] is None


async def test_a_message_over_64_kib_closes_1009(venue: Venue) -> None:
    async with connect(ws_url(venue, "/public/ws"), max_size=None) as ws:
        await ws.send("x" * (65 << 10))
        assert await closed_with(ws) == 1009


async def test_more_than_10_messages_a_second_closes_1008(venue: Venue) -> None:
    async with connect(ws_url(venue, "/public/ws")) as ws:
        for i in range(12):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        assert await closed_with(ws) == 1008


async def test_more_than_200_streams_in_the_url_is_refused(venue: Venue) -> None:
    streams = "/".join(f"btcusdt@kline_{i}m" for i in range(201))
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(venue, f"/stream?streams={streams}")):
            pass
    assert refused.value.response.status_code == 400


async def test_connections_per_ip_are_capped_open_and_new() -> None:
    exchange = SandboxExchange(SandboxConfig(port=0, seed=13, ws_open_per_ip=3,
                                             ws_new_per_ip_5min=5))  # fmt: skip
    await exchange.start()
    try:
        url = exchange.ws_url
        paths = ["/public/ws/btcusdt@bookTicker", "/reference/stream", "/ws"]
        async with connect(url + paths[0]), connect(url + paths[1]), connect(url + paths[2]):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url + "/market/ws"):
                    pass
            assert refused.value.response.status_code == 429  # a 4th open at once
        async with connect(url + "/ws"), connect(url + "/ws"):  # 4th and 5th within 5 min
            pass
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url + "/ws"):
                pass
        assert refused.value.response.status_code == 429
        assert b"per 5 min" in refused.value.response.body
    finally:
        await exchange.stop()


async def test_a_user_stream_ignores_what_its_client_sends_and_keeps_delivering(venue: Venue):
    headers = {"X-MBX-APIKEY": venue.key}
    key = (await venue.http.post("/fapi/v1/listenKey", headers=headers)).json()["listenKey"]
    for hostile in ("é" * 64, "../" * 20, "k" * 64):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(venue, f"/private/ws?listenKey={hostile}")):
                pass
        assert refused.value.response.status_code == 403
    async with connect(ws_url(venue, f"/ws/{key}"), max_size=None) as ws:
        for junk in ("[" * 30_000 + "]" * 30_000, b"\xff\xfe", "x" * 60_000, '{"id": 1}'):
            await ws.send(junk)
        placed = await venue.signed("POST", "/fapi/v1/order", ORDER)
        event = json.loads(await asyncio.wait_for(ws.recv(), 3))
        assert event["e"] == "ORDER_TRADE_UPDATE" and event["o"]["i"] == placed.json()["orderId"]
    venue.engine.cancel(venue.name, "BTCUSDT", placed.json()["orderId"])
