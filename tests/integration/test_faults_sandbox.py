"""The sandbox's fault injection over real HTTP/websockets: each fault does what it says.

These pin the exchange's side of the contract (`/admin/v1/faults`); the fault matrix
(test_faults_*.py) then proves the daemon survives each one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D

import httpx
import pytest
from helpers import mint, signed
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rocky_bot.sandbox.app import SandboxExchange

BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
       "quantity": "0.001", "price": "90000"}  # fmt: skip
STREAM = "/reference/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker"  # what faults act on


@pytest.fixture
async def http(sandbox: SandboxExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5) as client:
        yield client


async def faults(http: httpx.AsyncClient, sandbox, method: str = "POST", **body) -> dict:
    headers = {"X-Admin-Token": sandbox.admin_token}
    resp = await http.request(method, "/admin/v1/faults", json=body or None, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_admin_contract_token_validation_get_and_clear(sandbox, http):
    assert (await http.get("/admin/v1/faults")).status_code == 401
    bad = await http.post(
        "/admin/v1/faults", json={"latncy_ms": 5}, headers={"X-Admin-Token": sandbox.admin_token}
    )
    assert bad.status_code == 400 and bad.json()["code"] == -1130
    doc = await faults(http, sandbox, latency_ms=5, unsupported=["modify"])
    assert doc["latency_ms"] == 5 and doc["unsupported"] == ["modify"]
    doc = await faults(http, sandbox, error_rate=0.5)  # POST merges
    assert doc["latency_ms"] == 5 and doc["error_rate"] == 0.5
    assert (await faults(http, sandbox, "GET"))["error_rate"] == 0.5
    cleared = await faults(http, sandbox, "DELETE")
    assert (
        cleared["latency_ms"] == 0 and cleared["error_rate"] == 0 and cleared["unsupported"] == []
    )


async def test_latency_is_added_to_every_reply_but_not_to_admin(sandbox, http):
    await faults(http, sandbox, latency_ms=150)
    started = time.monotonic()
    assert (await http.get("/fapi/v1/ping")).status_code == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    await faults(http, sandbox, "GET")
    assert time.monotonic() - started < 0.15


async def test_error_rate_answers_503_unknown_and_executes_half_of_the_orders(sandbox, http):
    key, secret = await mint(sandbox, "e")
    await faults(http, sandbox, error_rate=1.0, seed=3)
    for i in range(40):
        resp = await signed(
            http, "POST", "/fapi/v1/order", key, secret, BUY | {"price": str(80000 + i)}
        )
        assert resp.status_code == 503
        assert resp.json()["code"] in (-1000, -1007)
    placed = len(sandbox.engine.open_orders("e"))
    assert 10 <= placed <= 30, placed  # about half were executed anyway
    assert (await http.get("/fapi/v1/ping")).status_code == 503  # reads fail too, never executed


async def test_a_timed_out_order_was_executed_anyway(sandbox, http):
    key, secret = await mint(sandbox, "t")
    await faults(http, sandbox, timeout_rate=1.0)
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await signed(impatient, "POST", "/fapi/v1/order", key, secret, BUY)
    assert len(sandbox.engine.open_orders("t")) == 1
    held = asyncio.create_task(http.get("/fapi/v1/ping"))
    await asyncio.sleep(0.2)
    assert not held.done()
    await faults(http, sandbox, "DELETE")  # clearing answers held requests at once
    assert (await asyncio.wait_for(held, 2)).status_code == 200


@pytest.mark.parametrize(("fault", "status"), [("rate_limit", 429), ("ban", 418)])
async def test_rate_limit_and_ban_answer_with_retry_after(sandbox, http, fault, status):
    await faults(http, sandbox, **{fault: True, "retry_after_s": 7})
    resp = await http.get("/fapi/v1/time")
    assert resp.status_code == status and resp.headers["Retry-After"] == "7"
    assert resp.json()["code"] == -1003


async def test_clock_skew_moves_server_time_and_the_recv_window_check(sandbox, http):
    key, secret = await mint(sandbox, "c")
    await faults(http, sandbox, clock_skew_ms=-3000)
    server = (await http.get("/fapi/v1/time")).json()["serverTime"]
    assert abs(server + 3000 - time.time() * 1000) < 500
    resp = await signed(http, "GET", "/fapi/v2/balance", key, secret)
    assert resp.status_code == 400 and resp.json()["code"] == -1021


async def test_reject_margin_refuses_new_orders_with_2019(sandbox, http):
    key, secret = await mint(sandbox, "m")
    await faults(http, sandbox, reject_margin=True)
    resp = await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)
    assert resp.status_code == 400 and resp.json()["code"] == -2019
    assert sandbox.engine.open_orders("m") == []


async def test_unsupported_capabilities_answer_like_an_exchange_without_them(sandbox, http):
    key, secret = await mint(sandbox, "u")
    await faults(http, sandbox, unsupported=["modify", "countdown", "user_stream", "ioc"])
    placed = await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)
    assert placed.status_code == 200  # GTC still works
    put = await signed(http, "PUT", "/fapi/v1/order", key, secret,
                       {"symbol": "BTCUSDT", "orderId": placed.json()["orderId"], "side": "BUY",
                        "quantity": "0.001", "price": "90001"})  # fmt: skip
    assert put.status_code == 405
    countdown = await signed(http, "POST", "/fapi/v1/countdownCancelAll", key, secret,
                             {"symbol": "BTCUSDT", "countdownTime": "5000"})  # fmt: skip
    assert countdown.status_code == 404
    listen = await http.post("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": key})
    assert listen.status_code == 404
    ioc = await signed(http, "POST", "/fapi/v1/order", key, secret, BUY | {"timeInForce": "IOC"},
                       in_body=True)  # fmt: skip
    assert ioc.status_code == 400 and ioc.json()["code"] == -1115
    assert sandbox.fault_injector.injected["unsupported:ioc"] == 1


@pytest.mark.parametrize("kind", ["not_json", "html", "missing_field", "wrong_type"])
async def test_malformed_replies_are_executed_then_damaged(sandbox, http, kind):
    key, secret = await mint(sandbox, "x")
    healthy = set((await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)).json())
    await faults(http, sandbox, malformed_rate=1.0, malformed_kinds=[kind])
    resp = await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)
    assert len(sandbox.engine.open_orders("x")) == 2
    if kind == "html":
        assert resp.status_code == 502 and resp.headers["content-type"] == "text/html"
        return
    assert resp.status_code == 200
    if kind == "not_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.content)
        return
    order = resp.json()
    if kind == "missing_field":
        assert set(order) < healthy and len(order) == len(healthy) - 1
    else:
        assert sum(isinstance(v, list) for v in order.values()) == 1


async def test_feed_freeze_keeps_sockets_open_and_silent(sandbox):
    async with connect(sandbox.ws_url + STREAM) as ws:
        await asyncio.wait_for(ws.recv(), 2)
        await sandbox.fault_injector.apply(feed_freeze=True)
        await asyncio.sleep(0.1)
        while True:  # drain what was queued before the freeze
            try:
                await asyncio.wait_for(ws.recv(), 0.3)
            except TimeoutError:
                break
        await sandbox.fault_injector.clear()
        assert json.loads(await asyncio.wait_for(ws.recv(), 2))["data"]["e"] == "bookTicker"


async def test_feed_drop_closes_sockets_and_refuses_new_ones_until_cleared(sandbox):
    async with connect(sandbox.ws_url + STREAM) as ws:
        await asyncio.wait_for(ws.recv(), 2)
        await sandbox.fault_injector.apply(feed_drop=True)
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 2)
    with pytest.raises(InvalidStatus):
        await connect(sandbox.ws_url + STREAM)
    await sandbox.fault_injector.clear()
    async with connect(sandbox.ws_url + STREAM) as ws:
        await asyncio.wait_for(ws.recv(), 2)


async def test_price_jump_moves_the_mark_at_once(sandbox):
    before = sandbox.prices.mid("BTCUSDT")
    await sandbox.fault_injector.apply(price_jump_pct=3.0)
    assert sandbox.prices.mid("BTCUSDT") / before == pytest.approx(D("1.03"), abs=D("0.0005"))


async def test_feed_garbage_replaces_ticks_with_bad_frames(sandbox):
    await sandbox.fault_injector.apply(feed_garbage_rate=1.0)
    async with connect(sandbox.ws_url + STREAM) as ws:
        bad = 0
        for _ in range(10):
            frame = await asyncio.wait_for(ws.recv(), 2)
            try:
                data = json.loads(frame)["data"]
            except ValueError:
                bad += 1
                continue
            b, a = data.get("b"), data.get("a")
            numeric = isinstance(b, str) and isinstance(a, str) and b.replace(".", "").isdigit()
            if not numeric or D(b) > D(a):
                bad += 1
        assert bad == 10


async def test_down_refuses_connections_then_comes_back_on_the_same_port(sandbox, http):
    assert (await http.get("/fapi/v1/ping")).status_code == 200
    market = await connect(sandbox.ws_url + STREAM)
    await faults(http, sandbox, down_s=0.6)  # the reply arrives; the exchange goes down after
    await asyncio.sleep(0.1)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=sandbox.base_url) as fresh:
            await fresh.get("/fapi/v1/ping")
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(market.recv(), 2)
    await asyncio.sleep(0.8)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as fresh:
        assert (await fresh.get("/fapi/v1/ping")).status_code == 200
    assert sandbox.fault_injector.snapshot()["down_remaining_s"] is None
