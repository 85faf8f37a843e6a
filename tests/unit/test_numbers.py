"""rocky_bot.numbers: the one strict way the daemon reads a number from outside.

What a user relies on: a price or size the exchange or the feed hands us is either refused or a
finite Decimal that no later arithmetic can trap on (no Overflow, no zero from an underflow, no
silent rounding of a 5,000-digit value).
"""

from __future__ import annotations

import decimal
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocky_bot.numbers import MAX_EXPONENT, NumberProblem, read_decimal, read_int

NOT, RANGE = NumberProblem.NOT_NUMERIC, NumberProblem.OUT_OF_RANGE
PRECISE = NumberProblem.TOO_PRECISE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("95000.10", D("95000.10")),
        ("0", D("0")),
        ("-1.5", D("-1.5")),
        (".5", D("0.5")),
        ("5.", D("5")),
        ("1e-7", D("1e-7")),
        ("1E+3", D("1E+3")),
        # what Python's Decimal() would take and we do not
        ("NaN", NOT), ("sNaN", NOT), ("Infinity", NOT), ("-inf", NOT),
        ("1_0", NOT), (" 1", NOT), ("1 ", NOT), ("\t1", NOT), ("+1", NOT),
        ("１２", NOT), ("١٢٣", NOT), ("12\n", NOT), ("0x10", NOT), ("", NOT), ("-", NOT),
        # absurd magnitudes, written plainly or not
        ("9e999999", NOT), ("9e999", RANGE), ("1e-999", RANGE), ("0e999", RANGE),
        ("1e41", RANGE), ("1" + "0" * 41, PRECISE),
        ("1e-9999999999", NOT),
        # absurd precision
        ("1." + "1" * 70, PRECISE), ("0." + "1" * 41, PRECISE), ("0." + "0" * 40 + "1", RANGE),
    ],
)  # fmt: skip
def test_strings(text: str, expected: object) -> None:
    assert read_decimal(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, D(7)), (D("0.25"), D("0.25")), (0.1, D("0.1")),
        (True, NOT), (None, NOT), ([1], NOT), ({"a": 1}, NOT),
        (D("NaN"), NOT), (D("Infinity"), NOT), (float("inf"), NOT), (float("nan"), NOT),
        (D("0e999"), RANGE), (D("9e999999"), RANGE), (10**30, RANGE), (1e300, RANGE),
    ],
)  # fmt: skip
def test_json_values(value: object, expected: object) -> None:
    assert read_decimal(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, 42), ("42", 42), ("-3", -3), (2**63 - 1, 2**63 - 1),
        (2**63, None), ("9" * 19, None), ("9" * 20, None), ("1_0", None), (" 1", None),
        ("١", None), ("1.0", None), (True, None), (1.0, None), (None, None),
    ],
)  # fmt: skip
def test_integers(value: object, expected: object) -> None:
    assert read_int(value) == expected


@settings(max_examples=200, deadline=None)
@given(
    a=st.text(alphabet="0123456789.eE+-_ ١", max_size=12) | st.text(max_size=8),
    b=st.text(alphabet="0123456789.eE+-", max_size=12),
)
def test_whatever_passes_is_safe_for_arithmetic(a: str, b: str) -> None:
    """Sums, products, a mid and a ratio of accepted numbers never trap, even with every
    decimal trap enabled but Inexact/Rounded (which only say digits were rounded away)."""
    x, y = read_decimal(a), read_decimal(b)
    if isinstance(x, str) or isinstance(y, str):
        return
    traps = [decimal.Overflow, decimal.Underflow, decimal.InvalidOperation, decimal.Subnormal]
    with decimal.localcontext() as ctx:
        for trap in traps:
            ctx.traps[trap] = True
        _ = (x + y) / 2, x * y, x - y
        if y:
            _ = x / y
    for n in (x, y):
        assert n.is_finite() and (not n or abs(n.adjusted()) <= MAX_EXPONENT)
