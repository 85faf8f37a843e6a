"""Public endpoints about what traded: trades, aggTrades, klines (also continuous, mark and index
price klines) and the 24 h ticker. All from the venue's own tape; weights as on Binance
(`rocky_bot.binance_api.weights`).

Klines come in every Binance interval from 1m to 1M, built from the venue's trades (mark and
index klines from the mark sampled each second; the index is the reference price, which is
also the mark here). `startTime`/`endTime` select by open time; without them the newest `limit`.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from rocky_bot.sandbox import errors
from rocky_bot.sandbox import market_render as render
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.grid import fmt_money
from rocky_bot.sandbox.klines import INTERVALS, Kline
from rocky_bot.sandbox.rest_call import Call, Endpoint, bounded
from rocky_bot.sandbox.rest_gateway import Gateway
from rocky_bot.sandbox.stats import rolling_day


def routes(gw: Gateway, engine: Engine) -> list[Route]:
    def symbol_of(call: Call, name: str = "symbol") -> str:
        return engine.grid(call.req(name)).symbol

    def candles(call: Call, symbol: str, marks: bool) -> list[Kline]:
        interval = call.req("interval")
        if interval not in INTERVALS:
            raise errors.rejected(errors.BAD_INTERVAL)
        tape = engine.tapes[symbol]
        series = (tape.marks if marks else tape.candles)[interval]
        start, end = call.integer("startTime"), call.integer("endTime")
        if start is not None and end is not None and start > end:
            raise SandboxError(-1023, "Start time is greater than end time.")
        return series.candles(call.now_ms, start, end, bounded(call, "limit", 500, 1500))

    def klines(call: Call) -> list[list[Any]]:
        symbol = symbol_of(call)
        grid = engine.grid(symbol)
        return [render.kline_row(grid, k) for k in candles(call, symbol, marks=False)]

    def continuous_klines(call: Call) -> list[list[Any]]:
        symbol = symbol_of(call, "pair")
        if call.req("contractType") != "PERPETUAL":
            raise SandboxError(-4104, "Invalid contract type")
        grid = engine.grid(symbol)
        return [render.kline_row(grid, k) for k in candles(call, symbol, marks=False)]

    def mark_klines(call: Call, name: str = "symbol") -> list[list[Any]]:
        return [render.mark_kline_row(k) for k in candles(call, symbol_of(call, name), True)]

    def trades(call: Call) -> list[dict[str, Any]]:
        symbol = symbol_of(call)
        grid = engine.grid(symbol)
        return [
            {"id": t.trade_id, "price": grid.fmt_price(t.price_ticks),
             "qty": grid.fmt_qty(t.qty_steps), "quoteQty": fmt_money(t.quote_money),
             "time": t.time_ms, "isBuyerMaker": t.buyer_maker}
            for t in engine.tapes[symbol].recent(bounded(call, "limit", 500, 1000))
        ]  # fmt: skip

    def agg_trades(call: Call) -> list[dict[str, Any]]:
        symbol = symbol_of(call)
        grid = engine.grid(symbol)
        found = engine.tapes[symbol].find_aggs(
            call.integer("fromId"), call.integer("startTime"), call.integer("endTime"),
            bounded(call, "limit", 500, 1000),
        )  # fmt: skip
        return [render.agg_trade(grid, a) for a in found]

    def ticker_24h(call: Call) -> Any:
        symbols = [symbol_of(call)] if call.opt("symbol") else list(engine.grids)
        out = []
        for s in symbols:
            tape = engine.tapes[s]
            last = tape.trades[-1] if tape.trades else None
            stats = rolling_day(tape.candles["1m"], last, call.now_ms)
            out.append(render.ticker_24h(s, engine.grid(s), stats))
        return out[0] if call.opt("symbol") else out

    return [
        gw.route("/fapi/v1/trades", GET=Endpoint(trades)),
        gw.route("/fapi/v1/aggTrades", GET=Endpoint(agg_trades)),
        gw.route("/fapi/v1/klines", GET=Endpoint(klines)),
        gw.route("/fapi/v1/continuousKlines",
                 GET=Endpoint(continuous_klines)),
        gw.route("/fapi/v1/markPriceKlines", GET=Endpoint(mark_klines)),
        gw.route("/fapi/v1/indexPriceKlines",
                 GET=Endpoint(lambda c: mark_klines(c, "pair"))),
        gw.route("/fapi/v1/ticker/24hr", GET=Endpoint(ticker_24h)),
    ]  # fmt: skip
