"""Public market-data endpoints (no key): ping, time, exchangeInfo, depth, tickers, trades,
klines, premiumIndex. Weights follow Binance's table (depth and klines by `limit`)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from rocky_bot.sandbox import errors
from rocky_bot.sandbox.config import SandboxConfig, SymbolSpec
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.grid import fmt_money
from rocky_bot.sandbox.orders import BUY, SELL
from rocky_bot.sandbox.rest_gateway import Call, Endpoint, Gateway

FUNDING_PERIOD_MS = 8 * 3600 * 1000


def _depth_weight(call: Call) -> int:
    limit = call.integer("limit", 500) or 500
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def _klines_weight(call: Call) -> int:
    limit = call.integer("limit", 500) or 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


def _per_symbol(one: int, every: int):
    return lambda call: one if call.opt("symbol") else every


def _bounded(call: Call, name: str, default: int, top: int) -> int:
    value = call.integer(name, default)
    assert value is not None
    if not 1 <= value <= top:
        raise errors.invalid_data(name)
    return value


def symbol_info(spec: SymbolSpec, asset: str) -> dict[str, Any]:
    min_price = spec.min_price if spec.min_price is not None else spec.tick_size
    lot = {"minQty": f"{spec.min_qty:f}", "maxQty": f"{spec.max_qty:f}"}
    return {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base_asset,
        "quoteAsset": asset,
        "marginAsset": asset,
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": f"{min_price:f}",
                "maxPrice": f"{spec.max_price:f}",
                "tickSize": f"{spec.tick_size:f}",
            },
            {"filterType": "LOT_SIZE", **lot, "stepSize": f"{spec.step_size:f}"},
            {"filterType": "MARKET_LOT_SIZE", **lot, "stepSize": f"{spec.step_size:f}"},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": f"{spec.min_notional:f}"},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def routes(gw: Gateway, engine: Engine, config: SandboxConfig) -> list[Route]:
    asset = config.margin_asset

    def symbol_of(call: Call) -> str:
        return engine.grid(call.req("symbol")).symbol

    def symbols_of(call: Call) -> list[str]:
        return [symbol_of(call)] if call.opt("symbol") else list(engine.grids)

    def exchange_info(call: Call) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "serverTime": gw.server_time_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": config.weight_limit_per_min,
                },
                {
                    "rateLimitType": "ORDERS",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": config.order_limit_per_min,
                },
                {
                    "rateLimitType": "ORDERS",
                    "interval": "SECOND",
                    "intervalNum": 10,
                    "limit": config.order_limit_per_10s,
                },
            ],
            "exchangeFilters": [],
            "assets": [{"asset": asset, "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [symbol_info(spec, asset) for spec in config.symbols],
        }

    def depth(call: Call) -> dict[str, Any]:
        symbol = symbol_of(call)
        limit = _bounded(call, "limit", 500, 1000)
        grid, book = engine.grid(symbol), engine.books[symbol]

        def side(s: int) -> list[list[str]]:
            return [
                [grid.fmt_price(lv.price), grid.fmt_qty(lv.qty)] for lv in book.levels(s, limit)
            ]

        now = call.now_ms
        return {"lastUpdateId": book.update_id, "E": now, "T": now,
                "bids": side(BUY), "asks": side(SELL)}  # fmt: skip

    def book_ticker_of(symbol: str, now: int) -> dict[str, Any]:
        grid, book = engine.grid(symbol), engine.books[symbol]
        bid, ask = book.best(BUY), book.best(SELL)
        return {
            "symbol": symbol,
            "bidPrice": grid.fmt_price(bid.price if bid else 0),
            "bidQty": grid.fmt_qty(bid.qty if bid else 0),
            "askPrice": grid.fmt_price(ask.price if ask else 0),
            "askQty": grid.fmt_qty(ask.qty if ask else 0),
            "time": now,
            "lastUpdateId": book.update_id,
        }

    def book_ticker(call: Call) -> Any:
        tickers = [book_ticker_of(s, call.now_ms) for s in symbols_of(call)]
        return tickers[0] if call.opt("symbol") else tickers

    def price_ticker(call: Call) -> Any:
        out = []
        for s in symbols_of(call):
            last = engine.tapes[s].last_price
            price = engine.grid(s).fmt_price(last) if last is not None else f"{engine.mark(s):f}"
            out.append({"symbol": s, "price": price, "time": call.now_ms})
        return out[0] if call.opt("symbol") else out

    def trades(call: Call) -> list[dict[str, Any]]:
        symbol = symbol_of(call)
        grid = engine.grid(symbol)
        return [
            {"id": t.trade_id, "price": grid.fmt_price(t.price_ticks),
             "qty": grid.fmt_qty(t.qty_steps), "quoteQty": fmt_money(t.quote_money),
             "time": t.time_ms, "isBuyerMaker": t.buyer_maker}
            for t in engine.tapes[symbol].recent(_bounded(call, "limit", 500, 1000))
        ]  # fmt: skip

    def klines(call: Call) -> list[list[Any]]:
        symbol = symbol_of(call)
        if call.req("interval") != "1m":
            raise SandboxError(-1120, "Invalid interval.")
        limit = _bounded(call, "limit", 500, 1500)
        grid = engine.grid(symbol)
        candles = engine.tapes[symbol].klines(
            call.now_ms, call.integer("startTime"), call.integer("endTime"), limit
        )
        return [
            [k.open_time, grid.fmt_price(k.open), grid.fmt_price(k.high), grid.fmt_price(k.low),
             grid.fmt_price(k.close), grid.fmt_qty(k.volume), k.close_time,
             fmt_money(k.quote_volume), k.count, grid.fmt_qty(k.taker_buy_volume),
             fmt_money(k.taker_buy_quote), "0"]
            for k in candles
        ]  # fmt: skip

    def premium_index(call: Call) -> Any:
        now = call.now_ms
        next_funding = now - now % FUNDING_PERIOD_MS + FUNDING_PERIOD_MS
        out = []
        for s in symbols_of(call):
            mark = f"{engine.mark(s):f}"
            out.append({
                "symbol": s, "markPrice": mark, "indexPrice": mark, "estimatedSettlePrice": mark,
                "lastFundingRate": "0.00000000", "interestRate": "0.00000000",
                "nextFundingTime": next_funding, "time": now,
            })  # fmt: skip
        return out[0] if call.opt("symbol") else out

    return [
        gw.route("/fapi/v1/ping", GET=Endpoint(lambda call: {})),
        gw.route("/fapi/v1/time", GET=Endpoint(lambda call: {"serverTime": gw.server_time_ms()})),
        gw.route("/fapi/v1/exchangeInfo", GET=Endpoint(exchange_info)),
        gw.route("/fapi/v1/depth", GET=Endpoint(depth, weight=_depth_weight)),
        gw.route("/fapi/v1/ticker/bookTicker", GET=Endpoint(book_ticker, weight=_per_symbol(2, 5))),
        gw.route("/fapi/v1/ticker/price", GET=Endpoint(price_ticker, weight=_per_symbol(1, 2))),
        gw.route("/fapi/v2/ticker/price", GET=Endpoint(price_ticker, weight=_per_symbol(1, 2))),
        gw.route("/fapi/v1/trades", GET=Endpoint(trades, weight=5)),
        gw.route("/fapi/v1/klines", GET=Endpoint(klines, weight=_klines_weight)),
        gw.route("/fapi/v1/premiumIndex", GET=Endpoint(premium_index, weight=_per_symbol(1, 10))),
    ]
