"""Third-party Binance USDⓈ-M clients work against the sandbox with only their base URL changed.

That is the sandbox's promise (DESIGN.md §4): the dialect is Binance's, not ours. Each client
runs every call the issue lists (ccxt `binanceusdm`; binance-futures-connector's `UMFutures`)
against a market where a trade has happened, and gets answers it can parse. Both clients are
synchronous, so they run in a worker thread while the sandbox serves on the test's loop.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import pytest
from binance.error import ClientError
from binance.um_futures import UMFutures
from helpers import mint

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.orders import OrderRequest


async def traded(sandbox: SandboxExchange, key: str, secret: str, who: str) -> float:
    """A resting ask from another account, so the client's buy makes a public trade; → mark."""
    await mint(sandbox, f"{who}-maker", 1000)
    mark = sandbox.engine.mark("BTCUSDT")
    ask = (mark * Decimal("1.001")).quantize(Decimal("0.1"))
    sandbox.engine.submit(
        f"{who}-maker", OrderRequest("BTCUSDT", "SELL", "LIMIT", Decimal("0.002"), ask, "GTC")
    )
    return float(ask)


async def test_binance_futures_connector_against_the_sandbox(sandbox):
    key, secret = await mint(sandbox, "connector", 1000)
    ask = await traded(sandbox, key, secret, "connector")

    def session() -> dict:
        client = UMFutures(key=key, secret=secret, base_url=sandbox.base_url)
        info = client.exchange_info()
        mark = float(client.mark_price(symbol="BTCUSDT")["markPrice"])
        taken = client.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=0.001, price=ask,
            timeInForce="IOC", newOrderRespType="RESULT",
        )  # fmt: skip
        order = client.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=0.001,
            price=round(mark * 0.98, 1), timeInForce="GTC", newClientOrderId="compat-1",
        )  # fmt: skip
        got = {
            "symbols": {s["symbol"] for s in info["symbols"]}, "taken": taken, "order": order,
            "open": client.get_orders(symbol="BTCUSDT"),
            "queried": client.query_order(symbol="BTCUSDT", origClientOrderId="compat-1"),
            "cancelled": client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"]),
            "balance": client.balance(), "positions": client.get_position_risk(),
            "leverage": client.change_leverage(symbol="ETHUSDT", leverage=5),
            "ticker": client.ticker_24hr_price_change(symbol="BTCUSDT"),
            "aggs": client.agg_trades(symbol="BTCUSDT", limit=10),
            "funding": client.funding_rate(symbol="BTCUSDT"),
            "all_orders": client.get_all_orders(symbol="BTCUSDT"),
            "fees": client.commission_rate(symbol="BTCUSDT"),
            "mode": client.get_position_mode(),
            "income": client.get_income_history(),
            "klines": client.klines(symbol="BTCUSDT", interval="15m", limit=5),
            "continuous": client.continuous_klines("BTCUSDT", "PERPETUAL", "1h", limit=3),
            "mark_klines": client.mark_price_klines("BTCUSDT", "1m", limit=3),
            "interest": client.open_interest(symbol="BTCUSDT"),
        }  # fmt: skip
        try:
            client.change_margin_type(symbol="BTCUSDT", marginType="CROSSED")
        except ClientError as err:
            got["margin_type"] = (err.status_code, err.error_code)
        return got

    got = await asyncio.to_thread(session)
    assert {"BTCUSDT", "ETHUSDT"} <= got["symbols"]
    assert got["taken"]["status"] == "FILLED" and float(got["taken"]["avgPrice"]) == ask
    assert isinstance(got["order"]["orderId"], int) and got["order"]["status"] == "NEW"
    assert [o["clientOrderId"] for o in got["open"]] == ["compat-1"]
    assert got["queried"]["orderId"] == got["order"]["orderId"]
    assert got["cancelled"]["status"] == "CANCELED"
    assert any(b["asset"] == "USDT" and float(b["balance"]) < 1000 for b in got["balance"])
    assert got["leverage"]["leverage"] == 5
    assert float(got["ticker"]["lastPrice"]) == ask and got["ticker"]["count"] == 1
    assert [(float(a["p"]), a["m"]) for a in got["aggs"]] == [(ask, False)]
    assert got["funding"] == []  # no 8-hour funding instant has passed in this run
    assert [o["status"] for o in got["all_orders"]] == ["FILLED", "CANCELED"]
    assert got["fees"] == {"symbol": "BTCUSDT", "makerCommissionRate": "0.0002",
                           "takerCommissionRate": "0.0005"}  # fmt: skip
    assert got["mode"] == {"dualSidePosition": False}
    assert {i["incomeType"] for i in got["income"]} == {"TRANSFER", "COMMISSION"}
    assert float(got["klines"][-1][4]) == ask and got["klines"][-1][8] == 1
    assert float(got["continuous"][-1][4]) == ask
    assert len(got["mark_klines"]) <= 3
    assert got["interest"]["openInterest"] == "0.0010"
    assert got["margin_type"] == (400, -4046)  # "No need to change margin type."


async def test_ccxt_binanceusdm_against_the_sandbox(sandbox):
    key, secret = await mint(sandbox, "ccxt", 1000)
    ask = await traded(sandbox, key, secret, "ccxt")
    market = "BTC/USDT:USDT"

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
        mid = float(sandbox.engine.mark("BTCUSDT"))
        taken = ex.create_order(market, "limit", "buy", 0.001, ask, {"timeInForce": "IOC"})
        order = ex.create_order(market, "limit", "sell", 0.001, round(mid * 1.02, 1))
        spare = [ex.create_order(market, "limit", "buy", 0.001, round(mid * p, 1))
                 for p in (0.97, 0.96)]  # fmt: skip
        edited = ex.edit_orders([
            {"id": spare[0]["id"], "symbol": market, "type": "limit", "side": "buy",
             "amount": 0.002, "price": round(mid * 0.97, 1)},
        ])  # fmt: skip
        return {
            "markets": markets, "taken": taken, "order": order, "edited": edited,
            "book": ex.fetch_order_book(market, limit=5), "balance": ex.fetch_balance(),
            "opened": ex.fetch_open_orders(market),
            "cancelled": ex.cancel_order(order["id"], market),
            "batch_cancelled": ex.cancel_orders([s["id"] for s in spare], market),
            "positions": ex.fetch_positions([market]), "ticker": ex.fetch_ticker(market),
            "trades": ex.fetch_trades(market, limit=10), "orders": ex.fetch_orders(market),
            "closed": ex.fetch_closed_orders(market), "ohlcv": ex.fetch_ohlcv(market, "1h"),
            "leverage": ex.fetch_leverage(market), "margin": ex.set_margin_mode("cross", market),
            "mode": ex.fetch_position_mode(market), "fee": ex.fetch_trading_fee(market),
            "interest": ex.fetch_open_interest(market),
        }  # fmt: skip

    got = await asyncio.to_thread(session)
    assert got["markets"][market]["linear"] and got["markets"][market]["settle"] == "USDT"
    assert got["taken"]["status"] == "closed" and got["taken"]["filled"] == 0.001
    assert got["balance"]["USDT"]["total"] < 1000  # the fee of the trade
    assert got["order"]["side"] == "sell"
    assert got["edited"][0]["amount"] == 0.002
    assert {o["id"] for o in got["opened"]} >= {got["order"]["id"]}
    assert got["cancelled"]["status"] == "canceled"
    assert [o["status"] for o in got["batch_cancelled"]] == ["canceled", "canceled"]
    assert got["ticker"]["last"] == ask and got["ticker"]["baseVolume"] == 0.001
    assert [(t["price"], t["side"]) for t in got["trades"]] == [(ask, "buy")]
    assert {o["status"] for o in got["orders"]} == {"closed", "canceled"}
    assert [o["id"] for o in got["closed"]] == [got["taken"]["id"]]
    assert got["ohlcv"][-1][4] == ask
    assert got["leverage"]["longLeverage"] == 20 and got["leverage"]["marginMode"] == "cross"
    assert got["mode"]["hedged"] is False
    assert got["fee"]["maker"] == pytest.approx(0.0002) and got["fee"]["taker"] == 0.0005
    assert got["interest"]["openInterestAmount"] == 0.001
