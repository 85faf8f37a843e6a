"""The venue's market data in Binance's field names, for REST replies and stream payloads alike.

Pure functions of integers and a `Grid`, so /klines and `kline_1m`, /ticker/24hr and `@ticker`,
/aggTrades and `@aggTrade` can never disagree on a digit. Marks are integers of 1e-8.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from rocky_bot.sandbox.grid import Grid, fmt_money, fmt_units
from rocky_bot.sandbox.klines import Kline
from rocky_bot.sandbox.stats import DayStats
from rocky_bot.sandbox.tape import MARK_SCALE, AggTrade

Levels = list[list[str]]


def fmt_mark(units: int) -> str:
    return fmt_units(units, 8)


def mark_units(mark: Decimal) -> int:
    return int((mark * MARK_SCALE).to_integral_value(ROUND_HALF_EVEN))


def kline_row(g: Grid, k: Kline) -> list[Any]:
    """One GET /klines element (the 12-field array)."""
    return [
        k.open_time, g.fmt_price(k.open), g.fmt_price(k.high), g.fmt_price(k.low),
        g.fmt_price(k.close), g.fmt_qty(k.volume), k.close_time, fmt_money(k.quote_volume),
        k.count, g.fmt_qty(k.taker_buy_volume), fmt_money(k.taker_buy_quote), "0",
    ]  # fmt: skip


def mark_kline_row(k: Kline) -> list[Any]:
    """One GET /markPriceKlines element: prices only, Binance's "ignore" fields as it sends them."""
    return [
        k.open_time, fmt_mark(k.open), fmt_mark(k.high), fmt_mark(k.low), fmt_mark(k.close),
        "0", k.close_time, "0", k.count, "0", "0", "0",
    ]  # fmt: skip


def kline_event(symbol: str, g: Grid, interval: str, k: Kline, closed: bool, now: int) -> dict:
    return {
        "e": "kline", "E": now, "s": symbol,
        "k": {
            "t": k.open_time, "T": k.close_time, "s": symbol, "i": interval,
            "f": k.first_id, "L": k.last_id, "o": g.fmt_price(k.open), "c": g.fmt_price(k.close),
            "h": g.fmt_price(k.high), "l": g.fmt_price(k.low), "v": g.fmt_qty(k.volume),
            "n": k.count, "x": closed, "q": fmt_money(k.quote_volume),
            "V": g.fmt_qty(k.taker_buy_volume), "Q": fmt_money(k.taker_buy_quote), "B": "0",
        },
    }  # fmt: skip


def agg_trade(g: Grid, a: AggTrade) -> dict[str, Any]:
    """One GET /aggTrades element."""
    return {"a": a.agg_id, "p": g.fmt_price(a.price_ticks), "q": g.fmt_qty(a.qty_steps),
            "f": a.first_id, "l": a.last_id, "T": a.time_ms, "m": a.buyer_maker}  # fmt: skip


def agg_trade_event(symbol: str, g: Grid, a: AggTrade, now: int) -> dict[str, Any]:
    return {"e": "aggTrade", "E": now, "s": symbol, **agg_trade(g, a)}


def _percent(change: int, open_: int) -> str:
    if not open_:
        return "0.000"
    pct = Decimal(change * 100) / Decimal(open_)
    return f"{pct.quantize(Decimal('0.001'), rounding=ROUND_HALF_EVEN):f}"


def _weighted(g: Grid, s: DayStats) -> str:
    if not s.volume:
        return g.fmt_price(s.last)
    return f"{g.price_from_money(s.quote_volume, s.volume, g.spec.price_precision):f}"


def ticker_24h(symbol: str, g: Grid, s: DayStats) -> dict[str, Any]:
    """GET /fapi/v1/ticker/24hr."""
    return {
        "symbol": symbol, "priceChange": g.fmt_price(s.change),
        "priceChangePercent": _percent(s.change, s.open), "weightedAvgPrice": _weighted(g, s),
        "lastPrice": g.fmt_price(s.last), "lastQty": g.fmt_qty(s.last_qty),
        "openPrice": g.fmt_price(s.open), "highPrice": g.fmt_price(s.high),
        "lowPrice": g.fmt_price(s.low), "volume": g.fmt_qty(s.volume),
        "quoteVolume": fmt_money(s.quote_volume), "openTime": s.open_time,
        "closeTime": s.close_time, "firstId": s.first_id, "lastId": s.last_id, "count": s.count,
    }  # fmt: skip


def ticker_event(symbol: str, g: Grid, s: DayStats, now: int) -> dict[str, Any]:
    return {
        "e": "24hrTicker", "E": now, "s": symbol, "p": g.fmt_price(s.change),
        "P": _percent(s.change, s.open), "w": _weighted(g, s), "c": g.fmt_price(s.last),
        "Q": g.fmt_qty(s.last_qty), "o": g.fmt_price(s.open), "h": g.fmt_price(s.high),
        "l": g.fmt_price(s.low), "v": g.fmt_qty(s.volume), "q": fmt_money(s.quote_volume),
        "O": s.open_time, "C": s.close_time, "F": s.first_id, "L": s.last_id, "n": s.count,
    }  # fmt: skip


def mini_ticker_event(symbol: str, g: Grid, s: DayStats, now: int) -> dict[str, Any]:
    return {
        "e": "24hrMiniTicker", "E": now, "s": symbol, "c": g.fmt_price(s.last),
        "o": g.fmt_price(s.open), "h": g.fmt_price(s.high), "l": g.fmt_price(s.low),
        "v": g.fmt_qty(s.volume), "q": fmt_money(s.quote_volume),
    }  # fmt: skip


def mark_price_event(symbol: str, mark: int, next_funding: int, now: int) -> dict[str, Any]:
    """`markPriceUpdate`; the index is the reference price, which is also the mark here."""
    p = fmt_mark(mark)
    return {"e": "markPriceUpdate", "E": now, "s": symbol, "p": p, "P": p, "i": p,
            "r": "0.00000000", "T": next_funding}  # fmt: skip


def book_ticker_event(
    symbol: str, g: Grid, top: tuple[int, int, int, int], update_id: int, now: int
) -> str:
    """Hand-formatted like the reference's: the venue's best bid/ask, 0 for an empty side."""
    bid, bid_qty, ask, ask_qty = top
    return (
        f'{{"e":"bookTicker","u":{update_id},"E":{now},"T":{now},"s":"{symbol}",'
        f'"b":"{g.fmt_price(bid)}","B":"{g.fmt_qty(bid_qty)}",'
        f'"a":"{g.fmt_price(ask)}","A":"{g.fmt_qty(ask_qty)}"}}'
    )


def depth_event(
    symbol: str, ids: tuple[int, int, int], bids: Levels, asks: Levels, now: int
) -> dict[str, Any]:
    """`depthUpdate` (diff and partial alike): `ids` = (U, u, pu)."""
    first, last, previous = ids
    return {"e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": first, "u": last,
            "pu": previous, "b": bids, "a": asks}  # fmt: skip
