"""Read one bookTicker frame into a mid, or say why it cannot be used. Pure, no state.

Frames come combined (`{"stream": "btcusdt@bookTicker", "data": {...}}`) or raw (the payload
itself, `"e": "bookTicker"`); anything else (control replies, other events) is ignored, and a
malformed frame is named by kind so the feed can count it and log it once a minute.

Nothing a frame holds can make this raise: JSON nested past the parser's depth is `too_deep`,
and prices are read the one strict way of `rocky_bot.numbers` (`not_numeric`, `out_of_range`,
`too_precise`), so the mid of two accepted prices is exact, finite and positive.
"""

from __future__ import annotations

import json
from decimal import Decimal

from rocky_bot.numbers import read_decimal

#: `json.loads` without its per-call work (keyword checks, and for bytes an encoding sniff and
#: a decode): the frame is decoded as UTF-8, as websockets decoded text frames before the feed
#: took them from the read callback (issue 14), then parsed by the same default decoder.
_parse = json.JSONDecoder().decode

IGNORED = "ignored"
STREAM = "stream"  # key is the combined stream's name
SYMBOL = "symbol"  # key is the raw payload's symbol


def read_frame(raw: str | bytes) -> tuple[str, str | None, Decimal | None]:
    """(STREAM | SYMBOL, key, mid) for a usable frame, (IGNORED, None, None), or (bad kind, ...)."""
    try:
        obj = _parse(raw if isinstance(raw, str) else str(raw, "utf-8"))
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return "not_json", None, None
    except RecursionError:
        return "too_deep", None, None
    if type(obj) is not dict:
        return "not_object", None, None
    data = obj.get("data")
    if data is not None:  # combined wrapper {"stream", "data"}
        key, by = obj.get("stream"), STREAM
        if type(key) is not str:
            return IGNORED, None, None
        if type(data) is not dict:
            return "not_object", None, None
    elif obj.get("e") == "bookTicker":  # raw stream payload
        key, by, data = obj.get("s"), SYMBOL, obj
        if type(key) is not str:
            return IGNORED, None, None
    else:
        return IGNORED, None, None
    b = data.get("b")
    a = data.get("a")
    if b is None or a is None:
        return "missing_field", key, None
    if type(b) is not str or type(a) is not str:
        return "wrong_type", key, None
    bid = read_decimal(b)
    if isinstance(bid, str):
        return bid, key, None
    ask = read_decimal(a)
    if isinstance(ask, str):
        return ask, key, None
    if bid <= 0 or ask <= 0:
        return "non_positive", key, None
    if bid > ask:
        return "crossed_book", key, None
    return by, key, (bid + ask) / 2
