"""Numbers from outside (REST replies, the user stream, feed frames), read one strict way.

Why one way, and why strict: Python's own readers are generous. `Decimal` takes `1_0`, `" 1"`,
full-width and Arabic digits, `NaN`, `1e999999` and `1e-9999999999`; `int` takes `١٢`. A
generous reader lets one hostile value trap arithmetic far from where it came in: a
`decimal.Overflow` computing a mid, a mid that underflows to 0 and then divides, a 5,000-digit
price rounded silently by the context. What passes here is a finite `Decimal` written in ASCII
digits, at most `MAX_CHARS` long, with at most `MAX_DIGITS` digits and a magnitude within
10**±`MAX_EXPONENT`: sums, products and quotients of a few of them stay far inside the default
context, so no arithmetic on them traps.

Every number Binance sends is far inside these bounds (prices and sizes have ≤ 8 decimals and
≤ 12 integer digits; ids and times fit in 64 bits).
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["MAX_CHARS", "MAX_DIGITS", "MAX_EXPONENT", "NumberProblem", "read_decimal", "read_int"]

MAX_CHARS = 64
MAX_DIGITS = 40
MAX_EXPONENT = 40
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # Binance's ids and times are 64-bit
# `[0-9]` (never `\d`, which matches every script's digits); an optional short exponent.
_DECIMAL_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_INT_RE = re.compile(r"-?[0-9]{1,19}")


class NumberProblem:
    """Why a value is not a number we accept (the feed counts bad frames by these kinds)."""

    NOT_NUMERIC = "not_numeric"  # not ASCII decimal syntax: NaN, 1_0, " 1", "١", "0x10", ...
    OUT_OF_RANGE = "out_of_range"  # magnitude past 10**±MAX_EXPONENT: 9e999999, 1e-9999999999
    TOO_PRECISE = "too_precise"  # more than MAX_CHARS characters or MAX_DIGITS digits


def read_decimal(value: object) -> Decimal | str:
    """`value` (a string, an int, or a Decimal from `json.loads(parse_float=Decimal)`) as a
    bounded finite Decimal, or the `NumberProblem` that refuses it. Booleans are refused."""
    if isinstance(value, str):
        length = len(value)
        if length > MAX_CHARS:
            return NumberProblem.TOO_PRECISE
        if not _DECIMAL_RE.fullmatch(value):
            return NumberProblem.NOT_NUMERIC
        number = Decimal(value)
        if length <= MAX_DIGITS and "e" not in value and "E" not in value:
            return number  # the feed's hot path: the bounds hold by construction
    elif isinstance(value, bool):
        return NumberProblem.NOT_NUMERIC
    elif isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            return NumberProblem.OUT_OF_RANGE
        number = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            return NumberProblem.NOT_NUMERIC
        number = value
    elif isinstance(value, float):
        return read_decimal(repr(value))  # via its shortest repr, never binary expansion
    else:
        return NumberProblem.NOT_NUMERIC
    return _bounded(number)


def _bounded(number: Decimal) -> Decimal | str:
    sign_digits_exponent = number.as_tuple()
    exponent = sign_digits_exponent.exponent
    assert isinstance(exponent, int)  # finite: checked or guaranteed by the syntax
    if len(sign_digits_exponent.digits) > MAX_DIGITS:
        return NumberProblem.TOO_PRECISE
    if abs(exponent) > MAX_EXPONENT:  # 0e999 is zero, but written as no exchange writes it
        return NumberProblem.OUT_OF_RANGE
    if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        return NumberProblem.OUT_OF_RANGE
    return number


def read_int(value: object) -> int | None:
    """A 64-bit integer from an int or a string of ASCII digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if INT_MIN <= value <= INT_MAX else None
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        number = int(value)
        return number if INT_MIN <= number <= INT_MAX else None
    return None
