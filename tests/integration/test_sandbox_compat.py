"""Third-party Binance USDⓈ-M clients work against the sandbox with only their base URL changed.

That is the sandbox's promise (DESIGN.md §4): the dialect is Binance's, not ours. Both clients are
synchronous, so they run in a worker thread while the sandbox serves on the test's loop.
"""

from __future__ import annotations

import asyncio

import ccxt
from binance.um_futures import UMFutures
from helpers import mint


async def test_binance_futures_connector_trades_against_the_sandbox(sandbox):
    key, secret = await mint(sandbox, "connector", 1000)

    def session() -> dict:
        client = UMFutures(key=key, secret=secret, base_url=sandbox.base_url)
        info = client.exchange_info()
        mark = float(client.mark_price(symbol="BTCUSDT")["markPrice"])
        order = client.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=0.001,
            price=round(mark * 0.98, 1), timeInForce="GTC", newClientOrderId="compat-1",
        )  # fmt: skip
        open_orders = client.get_orders(symbol="BTCUSDT")
        queried = client.query_order(symbol="BTCUSDT", origClientOrderId="compat-1")
        cancelled = client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
        return {
            "symbols": {s["symbol"] for s in info["symbols"]},
            "order": order, "open": open_orders, "queried": queried, "cancelled": cancelled,
            "balance": client.balance(), "positions": client.get_position_risk(),
            "leverage": client.change_leverage(symbol="ETHUSDT", leverage=5),
        }  # fmt: skip

    got = await asyncio.to_thread(session)
    assert {"BTCUSDT", "ETHUSDT"} <= got["symbols"]
    assert isinstance(got["order"]["orderId"], int) and got["order"]["status"] == "NEW"
    assert [o["clientOrderId"] for o in got["open"]] == ["compat-1"]
    assert got["queried"]["orderId"] == got["order"]["orderId"]
    assert got["cancelled"]["status"] == "CANCELED"
    assert any(b["asset"] == "USDT" and float(b["balance"]) == 1000 for b in got["balance"])
    assert got["leverage"]["leverage"] == 5


async def test_ccxt_binanceusdm_trades_against_the_sandbox(sandbox):
    key, secret = await mint(sandbox, "ccxt", 1000)

    def session() -> dict:
        ex = ccxt.binanceusdm(
            {"apiKey": key, "secret": secret,
             "options": {"fetchCurrencies": False, "fetchMargins": False}}
        )  # fmt: skip
        for name, version in [
            ("fapiPublic", "v1"), ("fapiPrivate", "v1"), ("fapiPublicV2", "v2"),
            ("fapiPrivateV2", "v2"), ("fapiPublicV3", "v3"), ("fapiPrivateV3", "v3"),
        ]:  # fmt: skip
            ex.urls["api"][name] = f"{sandbox.base_url}/fapi/{version}"
        markets = ex.load_markets()
        ticker = ex.fetch_order_book("BTC/USDT:USDT", limit=5)
        balance = ex.fetch_balance()
        mid = float(sandbox.engine.mark("BTCUSDT"))
        order = ex.create_order("BTC/USDT:USDT", "limit", "sell", 0.001, round(mid * 1.02, 1))
        opened = ex.fetch_open_orders("BTC/USDT:USDT")
        cancelled = ex.cancel_order(order["id"], "BTC/USDT:USDT")
        positions = ex.fetch_positions(["BTC/USDT:USDT"])
        return {"markets": markets, "book": ticker, "balance": balance, "order": order,
                "opened": opened, "cancelled": cancelled, "positions": positions}  # fmt: skip

    got = await asyncio.to_thread(session)
    market = got["markets"]["BTC/USDT:USDT"]
    assert market["linear"] and market["contract"] and market["settle"] == "USDT"
    assert got["balance"]["USDT"]["total"] == 1000
    assert got["order"]["id"] and got["order"]["side"] == "sell"
    assert [o["id"] for o in got["opened"]] == [got["order"]["id"]]
    assert got["cancelled"]["status"] == "canceled"
    assert isinstance(got["positions"], list)
