"""Recorded bookTicker files for the price driver's replay mode.

A text file of JSON lines, each a Binance bookTicker payload
`{"e":"bookTicker","u":1,"E":1700000000000,"T":...,"s":"BTCUSDT","b":"95000.1","B":"1.2",
"a":"95000.2","A":"0.5"}` or a combined-stream wrapper `{"stream":"btcusdt@bookTicker",
"data":{...}}` of one (the shape a recorder naturally writes). Blank lines and lines starting
with `#` are skipped; symbols the driver does not know are ignored. The pace is the recording's
(gaps between consecutive "E" values; a line without "E" follows the default gap).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True, slots=True)
class Recorded:
    """One line of a replay file; `delay_s` is its gap after the previous line."""

    delay_s: float
    symbol: str
    bid: Decimal
    ask: Decimal
    bid_qty: Decimal
    ask_qty: Decimal


def load_recording(path: str, symbols: set[str], default_gap_s: float) -> list[Recorded]:
    """Parse a replay file (format in the module docstring); fail fast on a malformed line."""
    lines: list[Recorded] = []
    last_e: int | None = None
    gap = 0.0
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            text = text.strip()
            if not text or text.startswith("#"):
                continue
            try:
                msg = json.loads(text)
                data = msg.get("data", msg)
                symbol = str(data["s"])
                bid, ask = Decimal(str(data["b"])), Decimal(str(data["a"]))
                bid_qty, ask_qty = Decimal(str(data["B"])), Decimal(str(data["A"]))
                event_ms = int(data["E"]) if "E" in data else None
            except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
                raise ValueError(f"{path}:{number}: not a bookTicker line ({exc!r})") from exc
            if event_ms is None:
                gap += default_gap_s if lines else 0.0
            else:
                gap += 0.0 if last_e is None else max(0.0, (event_ms - last_e) / 1000)
                last_e = event_ms
            if symbol not in symbols:
                continue  # its gap carries over to the next line we keep
            if not bid < ask:
                raise ValueError(f"{path}:{number}: bid {bid} is not below ask {ask}")
            lines.append(Recorded(gap if lines else 0.0, symbol, bid, ask, bid_qty, ask_qty))
            gap = 0.0
    if not lines:
        raise ValueError(f"{path}: no bookTicker lines for {sorted(symbols)}")
    return lines
