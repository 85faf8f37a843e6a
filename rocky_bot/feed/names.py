"""Which Binance stream feeds which exchange symbol, and the feed URL that follows the symbols.

The exchange's symbol is not always the name of the Binance stream that prices it (a demo venue
may list `BTCUSDC` and follow `btcusdt`, or call its contract `XBTUSDT`): `ROCKY_FEED_SYMBOLS`
maps them (`BTCUSDC=btcusdt,...`); a symbol it does not name follows its own lower-cased name,
as Binance spells streams. The feed URL names the streams only when the operator wrote them in
(`...?streams=a@bookTicker/...` or a raw `/ws/<stream>`); otherwise they are appended from the
symbols, so `ROCKY_SYMBOLS=SOLUSDT` needs no second setting to agree with it. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

#: Binance's stream names: the lower-cased symbol (`1000pepeusdt`), letters, digits, `_`.
_STREAM_NAME = re.compile(r"[a-z0-9_]{1,40}")
_SYMBOL = re.compile(r"[A-Z0-9_]{1,40}")
SUFFIX = "@bookTicker"


def parse_feed_symbols(value: object) -> dict[str, str]:
    """`BTCUSDT=btcusdt,ETHUSDT=ethusdt` (or a mapping) → {"BTCUSDT": "btcusdt", ...}."""
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for item in value.replace(" ", ",").split(","):
            if not item:
                continue
            symbol, eq, stream = item.partition("=")
            if not eq:
                raise ValueError(f"{item!r} is not SYMBOL=stream (e.g. BTCUSDT=btcusdt)")
            pairs.append((symbol, stream))
    else:
        raise ValueError("expected SYMBOL=stream pairs, e.g. BTCUSDT=btcusdt,ETHUSDT=ethusdt")
    mapping: dict[str, str] = {}
    for symbol, stream in pairs:
        symbol, stream = symbol.strip().upper(), stream.strip().lower().removesuffix("@bookticker")
        if not _SYMBOL.fullmatch(symbol) or not _STREAM_NAME.fullmatch(stream):
            raise ValueError(f"{symbol}={stream} is not SYMBOL=stream (e.g. BTCUSDT=btcusdt)")
        mapping[symbol] = stream
    return mapping


def feed_streams(symbols: Iterable[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Stream → exchange symbol for the traded symbols (`btcusdt@bookTicker` → `BTCUSDT`).

    Two symbols on one stream are refused: the feed keys its state by stream, so one of them
    would never see a price.
    """
    streams: dict[str, str] = {}
    for symbol in symbols:
        stream = mapping.get(symbol, symbol.lower()) + SUFFIX
        if stream in streams:
            raise ValueError(f"{streams[stream]} and {symbol} both follow {stream}")
        streams[stream] = symbol
    return streams


def streams_in_url(url: str) -> set[str] | None:
    """The bookTicker streams an operator wrote into the URL; None when it names none."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "streams" in query:
        return {s.strip() for v in query["streams"] for s in v.split("/") if s.strip()}
    _, sep, last = parts.path.rpartition("/ws/")
    if sep and last:
        return {last}
    return None


def feed_url(url: str, streams: Iterable[str]) -> str:
    """The URL the feed dials: as written if it names its streams, else with them appended."""
    if streams_in_url(url) is not None:
        return url
    joined = "/".join(streams)
    return f"{url}{'&' if urlsplit(url).query else '?'}streams={joined}"


def unfed(url: str, streams: Mapping[str, str]) -> list[str]:
    """Traded symbols whose stream the URL, as written, does not carry (case-insensitively)."""
    named = streams_in_url(url)
    if named is None:
        return []
    lowered = {s.lower() for s in named}
    return [symbol for stream, symbol in streams.items() if stream.lower() not in lowered]
