"""The sandbox's REST dialect over real HTTP on 127.0.0.1: signing, errors, limits, shapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal as D

import httpx
import pytest
from helpers import mint, now_ms, signed, signed_query

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.signing import sign

BINANCE_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
BINANCE_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
BINANCE_PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    "&recvWindow=5000&timestamp=1591702613943"
)
BINANCE_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"

BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
       "quantity": "0.001", "price": "90000"}  # fmt: skip


@pytest.fixture
async def http(sandbox: SandboxExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5) as client:
        yield client


def assert_binance_error(resp: httpx.Response, status: int, code: int) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"code", "msg"} and body["code"] == code and body["msg"]


def test_signing_matches_binance_published_vector() -> None:
    assert sign(BINANCE_SECRET, BINANCE_PAYLOAD) == BINANCE_SIGNATURE


async def test_signature_in_query_is_accepted(sandbox, http) -> None:
    key, secret = await mint(sandbox, "q")
    resp = await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)
    assert resp.status_code == 200, resp.text
    order = resp.json()
    assert isinstance(order["orderId"], int) and order["status"] == "NEW"
    assert (order["price"], order["origQty"]) == ("90000.00", "0.0010")
    assert resp.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert resp.headers["X-MBX-ORDER-COUNT-1M"] == "1"


async def test_signature_in_form_body_is_accepted(sandbox, http) -> None:
    key, secret = await mint(sandbox, "b")
    resp = await signed(http, "POST", "/fapi/v1/order", key, secret, BUY, in_body=True)
    assert resp.status_code == 200, resp.text
    resp = await signed(
        http, "DELETE", "/fapi/v1/allOpenOrders", key, secret, {"symbol": "BTCUSDT"}
    )
    assert resp.json() == {"code": 200, "msg": "The operation of cancel all open order is done."}


async def test_params_split_between_query_and_body_sign_their_concatenation(sandbox, http) -> None:
    key, secret = await mint(sandbox, "mixed")
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = f"quantity=0.001&price=90000&recvWindow=5000&timestamp={now_ms()}"
    body += f"&signature={sign(secret, query + body)}"
    resp = await http.post(
        f"/fapi/v1/order?{query}",
        content=body,
        headers={"X-MBX-APIKEY": key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 200, resp.text


async def test_wrong_signature_is_rejected(sandbox, http) -> None:
    key, _ = await mint(sandbox, "w")
    resp = await signed(http, "POST", "/fapi/v1/order", key, "0" * 64, BUY)
    assert_binance_error(resp, 400, -1022)


async def test_stale_and_future_timestamps_are_rejected(sandbox, http) -> None:
    key, secret = await mint(sandbox, "t")
    stale = await signed(http, "GET", "/fapi/v2/balance", key, secret, timestamp=now_ms() - 6000)
    assert_binance_error(stale, 400, -1021)
    ahead = await signed(http, "GET", "/fapi/v2/balance", key, secret, timestamp=now_ms() + 2000)
    assert_binance_error(ahead, 400, -1021)
    wide = await signed(http, "GET", "/fapi/v2/balance", key, secret,
                        {"recvWindow": 10000}, timestamp=now_ms() - 6000)  # fmt: skip
    assert wide.status_code == 200


async def test_unknown_or_missing_key_is_401(sandbox, http) -> None:
    _, secret = await mint(sandbox, "k")
    resp = await signed(http, "GET", "/fapi/v2/balance", "f" * 64, secret)
    assert_binance_error(resp, 401, -2015)
    resp = await http.get(f"/fapi/v2/balance?{signed_query(secret, {})}")
    assert_binance_error(resp, 401, -2014)


async def test_missing_parameters_are_1102(sandbox, http) -> None:
    key, secret = await mint(sandbox, "m")
    no_signature = await http.get(
        f"/fapi/v2/balance?timestamp={now_ms()}", headers={"X-MBX-APIKEY": key}
    )
    assert_binance_error(no_signature, 400, -1102)
    no_symbol = {k: v for k, v in BUY.items() if k != "symbol"}
    resp = await signed(http, "POST", "/fapi/v1/order", key, secret, no_symbol)
    assert_binance_error(resp, 400, -1102)


async def test_business_rejections_and_unknown_paths_keep_the_error_shape(sandbox, http) -> None:
    key, secret = await mint(sandbox, "e")
    off_tick = await signed(http, "POST", "/fapi/v1/order", key, secret,
                            {**BUY, "price": "90000.05"})  # fmt: skip
    assert_binance_error(off_tick, 400, -4014)
    unknown = await signed(http, "DELETE", "/fapi/v1/order", key, secret,
                           {"symbol": "BTCUSDT", "orderId": 123456})  # fmt: skip
    assert_binance_error(unknown, 400, -2011)
    bad_symbol = await http.get("/fapi/v1/depth?symbol=NOPE")
    assert_binance_error(bad_symbol, 400, -1121)
    nowhere = await http.get("/fapi/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere.headers["content-type"] == "application/json"


async def test_order_lifecycle_ack_result_query_modify_cancel(sandbox, http) -> None:
    maker_key, maker_secret = await mint(sandbox, "maker")
    taker_key, taker_secret = await mint(sandbox, "taker")
    placed = await signed(http, "POST", "/fapi/v1/order", maker_key, maker_secret,
                          {**BUY, "side": "SELL", "price": "96000",
                           "newClientOrderId": "ask-1"})  # fmt: skip
    order_id = placed.json()["orderId"]
    moved = await signed(http, "PUT", "/fapi/v1/order", maker_key, maker_secret,
                         {"symbol": "BTCUSDT", "orderId": order_id, "side": "SELL",
                          "quantity": "0.002", "price": "95500"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert (moved.json()["orderId"], moved.json()["origQty"]) == (order_id, "0.0020")
    taken = await signed(http, "POST", "/fapi/v1/order", taker_key, taker_secret,
                         {**BUY, "price": "95500", "timeInForce": "IOC",
                          "newOrderRespType": "RESULT"})  # fmt: skip
    assert taken.json()["status"] == "FILLED" and taken.json()["avgPrice"] == "95500.00000000"
    queried = await signed(http, "GET", "/fapi/v1/order", maker_key, maker_secret,
                           {"symbol": "BTCUSDT", "origClientOrderId": "ask-1"})  # fmt: skip
    assert queried.json()["status"] == "PARTIALLY_FILLED" and queried.json()["time"] > 0
    opened = await signed(http, "GET", "/fapi/v1/openOrders", maker_key, maker_secret)
    assert [o["orderId"] for o in opened.json()] == [order_id]
    cancelled = await signed(http, "DELETE", "/fapi/v1/order", maker_key, maker_secret,
                             {"symbol": "BTCUSDT", "orderId": order_id})  # fmt: skip
    assert cancelled.json()["status"] == "CANCELED"
    trades = await signed(http, "GET", "/fapi/v1/userTrades", taker_key, taker_secret,
                          {"symbol": "BTCUSDT"})  # fmt: skip
    (fill,) = trades.json()
    assert (fill["price"], fill["qty"], fill["commission"]) == ("95500.00", "0.0010", "0.04775000")


async def test_batch_orders_answer_per_element(sandbox, http) -> None:
    key, secret = await mint(sandbox, "batch")
    batch = ('[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC",'
             '"quantity":"0.001","price":"90000"},'
             '{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC",'
             '"quantity":"0.001","price":"90000.05"}]')  # fmt: skip
    resp = await signed(http, "POST", "/fapi/v1/batchOrders", key, secret, {"batchOrders": batch})
    first, second = resp.json()
    assert first["status"] == "NEW" and second["code"] == -4014
    too_many = "[" + ",".join(["{}"] * 6) + "]"
    resp = await signed(http, "POST", "/fapi/v1/batchOrders", key, secret,
                        {"batchOrders": too_many})  # fmt: skip
    assert_binance_error(resp, 400, -1130)


async def test_account_endpoints_and_v3_position_risk_shape(sandbox, http) -> None:
    maker_key, maker_secret = await mint(sandbox, "pm")
    key, secret = await mint(sandbox, "pos", amount=250)
    await signed(http, "POST", "/fapi/v1/order", maker_key, maker_secret,
                 {**BUY, "side": "SELL", "price": "95000"})  # fmt: skip
    await signed(http, "POST", "/fapi/v1/order", key, secret, {**BUY, "price": "95000"})
    risk = (await signed(http, "GET", "/fapi/v3/positionRisk", key, secret)).json()
    assert [p["symbol"] for p in risk] == ["BTCUSDT"]  # only symbols with a position
    (pos,) = risk
    assert pos["positionAmt"] == "0.0010" and pos["entryPrice"] == "95000.00000000"
    assert pos["marginAsset"] == "USDT" and isinstance(pos["adl"], int)
    assert "leverage" not in pos and all(
        isinstance(v, str) for k, v in pos.items() if k not in ("adl", "updateTime")
    )
    v2 = (await signed(http, "GET", "/fapi/v2/positionRisk", key, secret)).json()
    assert {p["symbol"] for p in v2} == {"BTCUSDT", "ETHUSDT"} and v2[0]["leverage"] == "20"
    (balance,) = (await signed(http, "GET", "/fapi/v3/balance", key, secret)).json()
    assert D(balance["balance"]) == D("250") - D("0.0475")
    account = (await signed(http, "GET", "/fapi/v3/account", key, secret)).json()
    assert account["assets"][0]["asset"] == "USDT" and len(account["positions"]) == 1
    lev = await signed(http, "POST", "/fapi/v1/leverage", key, secret,
                       {"symbol": "BTCUSDT", "leverage": 10})  # fmt: skip
    assert lev.json()["leverage"] == 10
    brackets = await signed(http, "GET", "/fapi/v1/leverageBracket", key, secret)
    assert brackets.json()[0]["brackets"][0]["initialLeverage"] == 125


async def test_public_market_data(sandbox, http) -> None:
    key, secret = await mint(sandbox, "pub")
    await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)
    info = (await http.get("/fapi/v1/exchangeInfo")).json()
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.1"
    assert filters["LOT_SIZE"]["stepSize"] == "0.0001" and "MARKET_LOT_SIZE" in filters
    assert filters["MIN_NOTIONAL"]["notional"] == "5"
    limit = sandbox.config.weight_limit_per_min
    assert info["rateLimits"][0]["limit"] == limit and btc["marginAsset"] == "USDT"
    depth = (await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 5})).json()
    assert depth["bids"] == [["90000.00", "0.0010"]] and depth["asks"] == []
    ticker = (await http.get("/fapi/v1/ticker/bookTicker", params={"symbol": "BTCUSDT"})).json()
    assert ticker["bidPrice"] == "90000.00"
    premium = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
    assert D(premium["markPrice"]) > 0
    assert (await http.get("/fapi/v1/time")).json()["serverTime"] > 0
    assert (await http.get("/fapi/v1/ping")).json() == {}


async def test_countdown_cancel_all_empties_the_book(sandbox, http) -> None:
    key, secret = await mint(sandbox, "dead")
    await signed(http, "POST", "/fapi/v1/order", key, secret, BUY)
    armed = await signed(http, "POST", "/fapi/v1/countdownCancelAll", key, secret,
                         {"symbol": "BTCUSDT", "countdownTime": 150})  # fmt: skip
    assert armed.json() == {"symbol": "BTCUSDT", "countdownTime": "150"}
    for _ in range(50):
        if not sandbox.engine.books["BTCUSDT"].level_count(1):
            break
        await asyncio.sleep(0.02)
    assert sandbox.engine.open_orders("dead") == []


async def test_weight_header_and_429_past_the_limit() -> None:
    exchange = SandboxExchange(SandboxConfig(port=0, seed=1, weight_limit_per_min=10))
    await exchange.start()
    try:
        async with httpx.AsyncClient(base_url=exchange.base_url) as http:
            first = await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 5})
            assert first.headers["X-MBX-USED-WEIGHT-1M"] == "2"
            for _ in range(4):
                await http.get("/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 5})
            over = await http.get("/fapi/v1/ping")
            assert_binance_error(over, 429, -1003)
            assert int(over.headers["Retry-After"]) >= 1
            assert over.headers["X-MBX-USED-WEIGHT-1M"] == "10"
    finally:
        await exchange.stop()


async def test_admin_requires_the_token(sandbox, http) -> None:
    missing = await http.post("/admin/v1/accounts", json={"name": "x"})
    assert_binance_error(missing, 401, -2015)
    wrong = await http.post("/admin/v1/faucet", json={"apiKey": "k", "amount": "1"},
                            headers={"X-Admin-Token": "nope"})  # fmt: skip
    assert wrong.status_code == 401
    made = await http.post("/admin/v1/accounts", json={"name": "ok"},
                           headers={"X-Admin-Token": sandbox.admin_token})  # fmt: skip
    body = made.json()
    assert len(body["apiKey"]) == 64 and len(body["secretKey"]) == 64 and body["name"] == "ok"
    funded = await http.post("/admin/v1/faucet", json={"apiKey": body["apiKey"], "amount": 100},
                             headers={"X-Admin-Token": sandbox.admin_token})  # fmt: skip
    assert funded.json() == {"apiKey": body["apiKey"], "asset": "USDT", "balance": "100.00000000"}
