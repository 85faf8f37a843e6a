"""Reference feed naming and its bookTicker wire format (socket behaviour: test_market_ws)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from rocky_bot.sandbox.prices import Tick
from rocky_bot.sandbox.reference import book_ticker_payload, stream_name


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("btcusdt@bookTicker", "btcusdt@bookTicker"),
        ("BTCUSDT@bookticker", "btcusdt@bookTicker"),
        ("ethusdt@BOOKTICKER", "ethusdt@bookTicker"),
        ("btcusdt@markPrice@1s", None),  # the reference is bookTicker only: refused, not silent
        ("btcusdt@depth", None),
        ("btcusdt", None),
        ("@bookTicker", None),
        ("btcusdt@", None),
        ("", None),
    ],
)
def test_stream_names_follow_binance_spelling(raw: str, canonical: str | None) -> None:
    assert stream_name(raw) == canonical


def test_book_ticker_payload_has_binance_fields_and_types() -> None:
    tick = Tick(
        symbol="BTCUSDT",
        bid=Decimal("95000.10"),
        ask=Decimal("95000.2"),
        bid_qty=Decimal("1E-7"),  # must not leak exponent notation onto the wire
        ask_qty=Decimal("1E+2"),
        mid=Decimal("95000.15"),
        event_time_ms=1_700_000_000_123,
        update_id=42,
    )
    payload = json.loads(book_ticker_payload(tick))
    assert payload == {
        "e": "bookTicker",
        "u": 42,
        "E": 1_700_000_000_123,
        "T": 1_700_000_000_123,
        "s": "BTCUSDT",
        "b": "95000.10",
        "B": "0.0000001",
        "a": "95000.2",
        "A": "100",
    }
