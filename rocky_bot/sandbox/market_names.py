"""The venue's market stream names: Binance's grammar, parsed once into what to publish and when.

    <symbol>@bookTicker            !bookTicker                       on every change of the top
    <symbol>@depth[@100ms|@500ms]  diff depth, every 250 ms by default (when the book changed)
    <symbol>@depth<5|10|20>[@100ms|@500ms]   partial depth, every 250 ms by default
    <symbol>@aggTrade              as trades happen
    <symbol>@kline_<interval>      every 250 ms
    <symbol>@markPrice[@1s]        !markPrice@arr[@1s]               every 3 s (or 1 s)
    <symbol>@ticker  <symbol>@miniTicker  !ticker@arr  !miniTicker@arr   every 2 s / 1 s

Symbols are lower-case in names and matched case-insensitively, as are the kinds; anything else
(another kind, an unknown symbol) is refused, so a SUBSCRIBE to it fails instead of going silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rocky_bot.sandbox.klines import INTERVALS

TICK_MS = 50  # the publisher's clock; every period below is a multiple of it
_SPEEDS = {"100ms": 100, "250ms": 250, "500ms": 500}
_KINDS = {k.lower(): k for k in ("bookTicker", "aggTrade", "markPrice", "ticker", "miniTicker")}
_INTERVALS = {i.lower(): i for i in INTERVALS if i != "1M"} | {"1M": "1M"}


@dataclass(frozen=True, slots=True)
class Stream:
    """What one stream name asks for. `symbol` None: every symbol (`!...` streams)."""

    kind: str  # bookTicker | depth | partial | aggTrade | kline | markPrice | ticker | miniTicker
    symbol: str | None
    period_ms: int = 0  # 0: as it happens
    levels: int = 0  # partial depth
    interval: str = ""  # kline

    def due(self, tick: int) -> bool:
        """Is this stream published on publisher tick number `tick`?"""
        return bool(self.period_ms) and tick % (self.period_ms // TICK_MS) == 0


def parse(raw: str, symbols: Iterable[str]) -> tuple[str, Stream] | None:
    """(Binance's spelling, meaning) of a requested stream name, or None if it is not served."""
    raw = raw.strip()
    if "/" in raw or not raw:
        return None
    if raw.startswith("!"):
        return _all_market(raw)
    symbol, _, rest = raw.partition("@")
    upper = symbol.upper()
    if upper not in set(symbols) or not rest:
        return None
    name, stream = _per_symbol(rest, upper) or (None, None)
    if name is None or stream is None:
        return None
    return f"{symbol.lower()}@{name}", stream


def canonical(symbols: Iterable[str]) -> Callable[[str], str | None]:
    known = tuple(symbols)

    def spell(raw: str) -> str | None:
        parsed = parse(raw, known)
        return None if parsed is None else parsed[0]

    return spell


def _per_symbol(rest: str, symbol: str) -> tuple[str, Stream] | None:
    kind, _, speed = rest.partition("@")
    low = kind.lower()
    if low in _KINDS and low != "markprice":
        name = _KINDS[low]
        period = {"bookTicker": 0, "aggTrade": 0, "ticker": 2000, "miniTicker": 2000}[name]
        return (name, Stream(name, symbol, period)) if not speed else None
    if low == "markprice":
        if speed not in ("", "1s"):
            return None
        return f"markPrice{'@1s' if speed else ''}", Stream(
            "markPrice", symbol, 1000 if speed else 3000
        )
    if low.startswith("kline_"):
        interval = _INTERVALS.get(kind[6:]) or _INTERVALS.get(kind[6:].lower())
        if interval is None or speed:
            return None
        return f"kline_{interval}", Stream("kline", symbol, 250, interval=interval)
    if low.startswith("depth"):
        if speed and speed not in _SPEEDS:
            return None
        period = _SPEEDS.get(speed, 250)
        suffix = f"@{speed}" if speed else ""
        levels = low[5:]
        if not levels:
            return f"depth{suffix}", Stream("depth", symbol, period)
        if levels in ("5", "10", "20"):
            return f"depth{levels}{suffix}", Stream("partial", symbol, period, int(levels))
    return None


def _all_market(raw: str) -> tuple[str, Stream] | None:
    low = raw.lower()
    table = {
        "!bookticker": ("!bookTicker", Stream("bookTicker", None)),
        "!markprice@arr": ("!markPrice@arr", Stream("markPrice", None, 3000)),
        "!markprice@arr@1s": ("!markPrice@arr@1s", Stream("markPrice", None, 1000)),
        "!ticker@arr": ("!ticker@arr", Stream("ticker", None, 1000)),
        "!miniticker@arr": ("!miniTicker@arr", Stream("miniTicker", None, 1000)),
    }
    return table.get(low)
