"""Public endpoints about the venue itself (no key): ping, time, exchangeInfo, depth, tickers,
premiumIndex, fundingRate, openInterest. Weights: `rocky_bot.binance_api.weights`.

Everything is read from the venue's own book and engine: GET /depth and /ticker/bookTicker show
the book the accounts trade on (the same one the `bookTicker` and `depth` streams publish).
The mark and index are the reference price; the sandbox charges no funding, so every funding
rate it reports is 0 and /fundingRate lists the funding instants it has lived through.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from rocky_bot.sandbox import market_render as render
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.market_feed import next_funding
from rocky_bot.sandbox.orders import BUY, SELL
from rocky_bot.sandbox.rest_call import Call, Endpoint, bounded
from rocky_bot.sandbox.rest_gateway import Gateway
from rocky_bot.sandbox.symbol_info import exchange_info


def routes(gw: Gateway, engine: Engine, config: SandboxConfig) -> list[Route]:
    def symbol_of(call: Call) -> str:
        return engine.grid(call.req("symbol")).symbol

    def symbols_of(call: Call) -> list[str]:
        return [symbol_of(call)] if call.opt("symbol") else list(engine.grids)

    def one_or_all(call: Call, items: list[Any]) -> Any:
        return items[0] if call.opt("symbol") else items

    def depth(call: Call) -> dict[str, Any]:
        symbol = symbol_of(call)
        limit = bounded(call, "limit", 500, 1000)
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
        return one_or_all(call, [book_ticker_of(s, call.now_ms) for s in symbols_of(call)])

    def price_ticker(call: Call) -> Any:
        out = []
        for s in symbols_of(call):
            last = engine.tapes[s].last_price
            price = engine.grid(s).fmt_price(last) if last is not None else f"{engine.mark(s):f}"
            out.append({"symbol": s, "price": price, "time": call.now_ms})
        return one_or_all(call, out)

    def premium_index(call: Call) -> Any:
        now = call.now_ms
        out = []
        for s in symbols_of(call):
            mark = render.fmt_mark(render.mark_units(engine.mark(s)))
            out.append({
                "symbol": s, "markPrice": mark, "indexPrice": mark, "estimatedSettlePrice": mark,
                "lastFundingRate": "0.00000000", "interestRate": "0.00000000",
                "nextFundingTime": next_funding(now), "time": now,
            })  # fmt: skip
        return one_or_all(call, out)

    def funding_rate(call: Call) -> list[dict[str, Any]]:
        limit = bounded(call, "limit", 100, 1000)
        start, end = call.integer("startTime"), call.integer("endTime")
        rows = [
            {"symbol": s, "fundingRate": "0.00000000", "fundingTime": f.time_ms,
             "markPrice": render.fmt_mark(f.mark_units)}
            for s in symbols_of(call)
            for f in engine.tapes[s].fundings
            if (start is None or f.time_ms >= start) and (end is None or f.time_ms <= end)
        ]  # fmt: skip
        rows.sort(key=lambda r: r["fundingTime"])
        return rows[:limit] if start is not None else rows[-limit:]

    def open_interest(call: Call) -> dict[str, Any]:
        symbol = symbol_of(call)
        steps = engine.open_interest(symbol)
        return {"openInterest": engine.grid(symbol).fmt_qty(steps), "symbol": symbol,
                "time": call.now_ms}  # fmt: skip

    return [
        gw.route("/fapi/v1/ping", GET=Endpoint(lambda call: {})),
        gw.route("/fapi/v1/time", GET=Endpoint(lambda call: {"serverTime": gw.server_time_ms()})),
        gw.route(
            "/fapi/v1/exchangeInfo",
            GET=Endpoint(lambda call: exchange_info(config, gw.server_time_ms())),
        ),
        gw.route("/fapi/v1/depth", GET=Endpoint(depth)),
        gw.route("/fapi/v1/ticker/bookTicker", GET=Endpoint(book_ticker)),
        gw.route("/fapi/v1/ticker/price", GET=Endpoint(price_ticker)),
        gw.route("/fapi/v2/ticker/price", GET=Endpoint(price_ticker)),
        gw.route("/fapi/v1/premiumIndex", GET=Endpoint(premium_index)),
        gw.route("/fapi/v1/fundingRate", GET=Endpoint(funding_rate)),
        gw.route("/fapi/v1/openInterest", GET=Endpoint(open_interest)),
    ]
