"""read_frame: a usable bookTicker frame gives its key and exact mid; anything else says why."""

from decimal import Decimal

import pytest

from rocky_bot.feed.frames import IGNORED, STREAM, SYMBOL, read_frame

PAYLOAD = (
    '{"e":"bookTicker","u":1,"E":2,"T":3,"s":"BTCUSDT","b":"100.0","B":"1","a":"100.2","A":"2"}'
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"stream":"btcusdt@bookTicker","data":' + PAYLOAD + "}",
         (STREAM, "btcusdt@bookTicker", Decimal("100.1"))),
        (PAYLOAD, (SYMBOL, "BTCUSDT", Decimal("100.1"))),
        ('{"result":null,"id":1}', (IGNORED, None, None)),
        ("not json", ("not_json", None, None)),
        ("[1,2]", ("not_object", None, None)),
        ('{"e":"bookTicker","s":"BTCUSDT","b":"1"}', ("missing_field", "BTCUSDT", None)),
        ('{"e":"bookTicker","s":"BTCUSDT","b":1,"a":2}', ("wrong_type", "BTCUSDT", None)),
        ('{"e":"bookTicker","s":"BTCUSDT","b":"x","a":"2"}', ("not_numeric", "BTCUSDT", None)),
        ('{"e":"bookTicker","s":"BTCUSDT","b":"0","a":"2"}', ("non_positive", "BTCUSDT", None)),
        ('{"e":"bookTicker","s":"BTCUSDT","b":"3","a":"2"}', ("crossed_book", "BTCUSDT", None)),
    ],
)  # fmt: skip
def test_read_frame(raw, expected):
    assert read_frame(raw) == expected


def _ticker(b: str, a: str) -> str:
    return '{"e":"bookTicker","s":"BTCUSDT","b":"%s","a":"%s"}' % (b, a)  # noqa: UP031


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("[" * 100_000 + "]" * 100_000, "too_deep"),
        ('{"data":' * 50_000 + "1" + "}" * 50_000, "too_deep"),
        (_ticker("9e999999", "9e999999"), "not_numeric"),  # Decimal would overflow the mid
        (_ticker("9e999", "9e999"), "out_of_range"),
        (_ticker("1e-9999999999", "1e-9999999999"), "not_numeric"),  # the mid would be 0
        (_ticker("1e-99", "1e-99"), "out_of_range"),
        (_ticker("1." + "1" * 5000, "2"), "too_precise"),
        (_ticker("1", "2." + "0" * 100), "too_precise"),
        (_ticker("1_0", "11"), "not_numeric"),
        (_ticker("１０", "11"), "not_numeric"),
        (_ticker(" 10", "11"), "not_numeric"),
        (_ticker("10", "11\\n"), "not_numeric"),
    ],
)  # fmt: skip
def test_hostile_frames_are_bad_frames_by_kind(raw, kind):
    assert read_frame(raw)[0] == kind
