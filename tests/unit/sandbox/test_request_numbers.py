"""sandbox/numbers.py: request numbers read one strict way, each refusal Binance's code."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.numbers import decimals_of, parse_decimal, parse_int, scaled


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("95000.10", D("95000.10")), ("0.001", D("0.001")), ("-1", D("-1")), ("007", D(7)),
        ("1" * 20, D("1" * 20)), ("0." + "0" * 19 + "1", D("1e-20")),
        # Binance's legal range is ASCII digits with an optional fraction: -1100 otherwise
        ("1E+999999", -1100), ("1e400", -1100), ("1e-5", -1100), ("NaN", -1100),
        ("Infinity", -1100), ("1_0", -1100), ("１０", -1100), ("١٠", -1100), (" 1", -1100),
        ("1 ", -1100), ("1\n", -1100), ("+1", -1100), (".5", -1100), ("5.", -1100),
        ("0x10", -1100), ("", -1100), ("1" * 21, -1100), ("1.2.3", -1100),
        # more decimals than any asset has: -1111, not rounded away
        ("95000." + "0" * 29 + "1", -1111), ("1." + "0" * 21, -1111),
    ],
)  # fmt: skip
def test_parse_decimal(raw: str, expected: object) -> None:
    if isinstance(expected, int):
        with pytest.raises(SandboxError) as error:
            parse_decimal(raw, "price")
        assert error.value.code == expected
        if expected == -1100:
            assert "'price'" in error.value.msg and "legal range" in error.value.msg
    else:
        assert parse_decimal(raw, "price") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000000", 1_700_000_000_000), ("-5", -5), ("0", 0), (str(2**63 - 1), 2**63 - 1),
        (str(2**63), -1100), ("9" * 20, -1100), ("1_0", -1100), ("١٢", -1100), (" 1", -1100),
        ("1\n", -1100), ("1.0", -1100), ("1e3", -1100), ("", -1100), ("+1", -1100),
    ],
)  # fmt: skip
def test_parse_int(raw: str, expected: int) -> None:
    if expected == -1100:
        with pytest.raises(SandboxError) as error:
            parse_int(raw, "orderId")
        assert error.value.code == -1100 and "'orderId'" in error.value.msg
    else:
        assert parse_int(raw, "orderId") == expected


def test_decimals_and_units_are_exact_past_the_context_precision() -> None:
    """`normalize()` would round this 31-digit value to 1 and let it through as 0 decimals."""
    long = D("1.000000000000000000000000000001")
    assert decimals_of(long) == 30
    assert decimals_of(D("95000.1000")) == 1 and decimals_of(D("0")) == 0
    assert decimals_of(D("1E+3")) == 0
    assert scaled(D("12345678901234567890.12"), 2) == 1234567890123456789012
    assert scaled(D("-0.5"), 1) == -5 and scaled(D("1E+3"), 2) == 100_000


@settings(max_examples=200, deadline=None)
@given(raw=st.text(max_size=30) | st.from_regex(r"-?[0-9]{0,22}(\.[0-9]{0,22})?", fullmatch=True))
def test_anything_is_a_decimal_or_binance_code(raw: str) -> None:
    try:
        value = parse_decimal(raw, "quantity")
    except SandboxError as error:
        assert error.code in (-1100, -1111)
        return
    assert value.is_finite() and decimals_of(value) <= 20
    assert abs(value) < D(10) ** 20
